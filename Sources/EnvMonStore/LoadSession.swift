import Synchronization

/// Names the database session of one load, so that a watchdog on another connection can tell
/// whether it is still alive.
///
/// Why: when the server ends a session in the middle of a `COPY` (a PostgreSQL restart,
/// `pg_terminate_backend`, a network cut), PostgresNIO 1.33 leaks the continuation of
/// `copyFrom` and the loading task waits forever, its job's lease renewed by the heartbeat.
/// The load sets `application_name` to `tag` for its transaction; the job runner's heartbeat
/// checks `pg_stat_activity` for it and gives up on a load whose session is gone.
public final class LoadSession: Sendable {
    /// The session of the load running in this task, if a job runner set one.
    @TaskLocal public static var current: LoadSession?

    /// At most 63 bytes (PostgreSQL's NAMEDATALEN).
    public let tag: String
    private let began = Atomic<Bool>(false)

    public init(tag: String) {
        self.tag = String(tag.utf8.prefix(63)) ?? "envmon load"
    }

    /// Whether the load has named its session (so that its absence means it is gone).
    public var started: Bool { began.load(ordering: .acquiring) }

    func markStarted() { began.store(true, ordering: .releasing) }
}
