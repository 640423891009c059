import EnvMonStore
import Foundation
import Hummingbird
import Logging
import Synchronization

/// A configured standby: its pool, its settings and whether it is fit to read from now (kept
/// up to date by `ReadReplicaMonitor`, and taken out of use at once when a read finds it gone).
final class ReadReplica: Sendable {
    let settings: ReadReplicaSettings
    /// The standby's pool; a service of the application, like the primary's.
    let standby: Database
    /// Runs `standby`'s pool (the application's ServiceGroup runs it).
    let pool: DatabasePool
    private let current = Mutex(ReplicaState.checking)

    init(settings: ReadReplicaSettings, logger: Logger) throws {
        self.settings = settings
        var background = logger
        // The pool's own reconnect chatter while the standby is down is the monitor's to report.
        background.logLevel = max(logger.logLevel, .critical)
        self.standby = try Database.unstarted(settings.address, logger: logger, backgroundLogger: background,
                                              maximumConnections: settings.maximumConnections)
        self.pool = DatabasePool(standby)
    }

    var state: ReplicaState { current.withLock { $0 } }

    /// Whether reads go to the standby now: the last check found it fit, and its pool runs (a
    /// read is never queued on a pool that was not started).
    var isInUse: Bool { state.isInUse && pool.hasStarted }

    /// Sets the state; returns the previous one.
    @discardableResult
    func update(_ state: ReplicaState) -> ReplicaState {
        current.withLock { old in
            defer { old = state }
            return old
        }
    }
}

/// Where the reads behind GET pages and endpoints go: the standby while it is fit, else the
/// primary. Writes never come here; they use the primary `Database` directly.
///
/// ```swift
/// let rows = try await reads.run { db in try await ConsoleQueries(database: db).devices() }
/// ```
struct ReadSource: Sendable {
    let primary: Database
    let replica: ReadReplica?

    init(primary: Database, replica: ReadReplica? = nil) {
        self.primary = primary
        self.replica = replica
    }

    /// The database a read starting now goes to.
    var database: Database {
        if let replica, replica.isInUse { return replica.standby }
        return primary
    }

    /// Runs the read `body` on the standby when it is fit, else on the primary. Should the
    /// standby fail it (or not answer within its read timeout), the read is run again on the
    /// primary, so that a standby going away between two checks costs a client nothing; a
    /// standby that went away is taken out of use until the monitor sees it answer again.
    func run<T: Sendable>(_ body: @escaping @Sendable (Database) async throws -> T) async throws -> T {
        guard let replica, replica.isInUse else { return try await body(primary) }
        do {
            return try await abandoning(after: replica.settings.readTimeout, timeout: { ReplicaReadTimeout() }) {
                try await body(replica.standby)
            }
        } catch {
            guard Self.worthRetrying(error) else { throw error }
            // A standby that went away between two checks: its pool queues new reads while it
            // cannot connect (until PostgresNIO's circuit breaker, 60 s), so no answer in time
            // counts as gone too. The monitor's next check puts it back if it is fine.
            if error is ReplicaReadTimeout || Database.isConnectionFailure(error), replica.state.isInUse {
                replica.update(.unreachable)
                primary.logger.info("read replica failed a read; reading from the primary until it answers again", metadata: [
                    "envmon.replica": "\(replica.settings.displayName)", "envmon.error": "\(Database.describe(error))",
                ])
            } else {
                primary.logger.debug("read on the replica failed; asking the primary", metadata: [
                    "envmon.error": "\(Database.describe(error))",
                ])
            }
            return try await body(primary)
        }
    }

    /// A lookup by id: on the standby when it is fit, and on the primary too when the standby
    /// has nothing — the row may have been written on the primary a moment ago (a client that
    /// uploads, then asks for its upload). Returns where it was found, for follow-up reads.
    func find<T: Sendable>(_ body: @escaping @Sendable (Database) async throws -> T?) async throws -> (value: T, database: Database)? {
        let standby = self.database
        let found = try await run { db in try await body(db).map { ($0, db) } }
        if found == nil, replica != nil, !standby.sharesPool(with: primary) {
            return try await body(primary).map { ($0, primary) }
        }
        return found
    }

    /// A read that follows a `find`: on the primary when that is where the subject was found
    /// (the standby has not replayed it yet), else as `run`.
    func run<T: Sendable>(after found: Database, _ body: @escaping @Sendable (Database) async throws -> T) async throws -> T {
        if found.sharesPool(with: primary) { return try await body(primary) }
        return try await run(body)
    }

    /// Client errors (a bad parameter, nothing found) are answers, not failures of the standby;
    /// neither is cancellation.
    static func worthRetrying(_ error: any Error) -> Bool {
        if error is CancellationError || error is APIError { return false }
        if error is any HTTPResponseError { return false }
        return !Task.isCancelled
    }
}

/// A read on the standby had no answer within its read timeout.
struct ReplicaReadTimeout: Error, CustomStringConvertible {
    var description: String { "the read replica did not answer in time" }
}
