import EnvMonStore
import ServiceLifecycle
import Synchronization

/// A database's pool as a service of the application: `run()` runs the PostgresNIO pool
/// (`database.client`) and notes that it has started.
///
/// PostgresNIO queues a connection asked of a `PostgresClient` whose `run()` has not been called
/// (logging "PostgresClient.run() hasn't been called yet") and hands it out once `run()` is
/// called — never, if it never is, and the caller then waits for good. So whatever may ask
/// before the application's ServiceGroup has started the pool waits for `waitUntilStarted`
/// (which gives up with an error), and whatever chooses between pools (reads on a standby) asks
/// `hasStarted`.
final class DatabasePool: Service, Sendable {
    let database: Database
    private let started = Atomic<Bool>(false)

    init(_ database: Database) {
        self.database = database
    }

    /// Whether `run()` has been called (the pool may have stopped since; a stopped pool fails
    /// a lease at once rather than queueing it).
    var hasStarted: Bool { started.load(ordering: .acquiring) }

    func run() async throws {
        started.store(true, ordering: .releasing)
        let pool: any Service = database.client
        try await pool.run()
    }

    /// Returns once `run()` has been called; throws `PoolNotStarted` when it has not within
    /// `limit`, or `CancellationError`.
    func waitUntilStarted(within limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while !hasStarted {
            guard ContinuousClock.now < deadline else {
                throw PoolNotStarted(location: database.address.displayLocation, limit: limit)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// The application's database pool was not started (its service not run) in time.
struct PoolNotStarted: Error, CustomStringConvertible {
    let location: String
    let limit: Duration

    var description: String {
        "the database pool for \(location) was not started within \(limit) (its service is not running); nothing was asked of it"
    }
}
