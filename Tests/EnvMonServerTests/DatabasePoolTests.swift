import EnvMonNotify
@testable import EnvMonServer
import EnvMonStore
import Foundation
import Hummingbird
import Testing

/// PostgresNIO queues a connection asked of a pool whose `run()` was never called, for good:
/// the application must not ask one. No database: nothing here may connect anywhere.
@Suite("database pools: nothing asks a pool that was not started")
struct DatabasePoolTests {
    /// Nothing listens there, and nothing here may try.
    static let nowhere = ServerAddress(host: "127.0.0.1", port: 1, user: "nobody", password: nil, database: "none",
                                       sslMode: .disable)

    @Test("start-up whose pool is never started fails with an error instead of waiting for it")
    func startUpWithoutThePool() async throws {
        var server = ServerConfiguration.test
        server.poolStartLimit = .milliseconds(300)
        let configuration = AppConfiguration(
            runtime: RuntimeConfiguration(address: Self.nowhere, environment: [:]), server: server,
            alerts: try AlertConfiguration.load(directory: nil, environment: [:]),
            delivery: DeliveryContext(log: NotificationLog { _ in }, logger: Harness.logger))
        let app = try buildApplication(configuration, logger: Harness.logger)
        // What runs before the server starts (the schema check), without the ServiceGroup that
        // would start the pool.
        let processes = app.processesRunBeforeServerStart
        #expect(!processes.isEmpty)
        let started = ContinuousClock.now
        let outcome = try await Harness.bounded("start-up without its pool", limit: .seconds(120)) {
            do {
                for process in processes { try await process() }
                return "finished"
            } catch let error as PoolNotStarted {
                return "\(error)"
            }
        }
        #expect(outcome.contains("was not started within"), "\(outcome)")
        #expect(!outcome.contains("nobody:"), "\(outcome)")
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test("a pool says it has started once its service runs")
    func startedOnceRun() async throws {
        let pool = DatabasePool(try Database.unstarted(Self.nowhere, logger: Harness.logger, maximumConnections: 1))
        #expect(!pool.hasStarted)
        await #expect(throws: PoolNotStarted.self) { try await pool.waitUntilStarted(within: .milliseconds(50)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pool.run() }
            try await pool.waitUntilStarted(within: .seconds(60))
            #expect(pool.hasStarted)
            group.cancelAll()
        }
    }

    @Test("a standby the last check found fit is not read from while its pool has not been started")
    func standbyPoolNotStarted() async throws {
        let replica = try ReadReplica(settings: ReadReplicaSettings(address: Self.nowhere), logger: Harness.logger)
        replica.update(.inUse(lag: 0))
        let primary = try Database.unstarted(Self.nowhere, logger: Harness.logger, maximumConnections: 1)
        let reads = ReadSource(primary: primary, replica: replica)
        #expect(!replica.isInUse)
        #expect(reads.database.sharesPool(with: primary))
        let started = ContinuousClock.now
        let onPrimary = try await reads.run { db in db.sharesPool(with: primary) }
        #expect(onPrimary)
        // At once, not after the standby's read timeout.
        #expect(ContinuousClock.now - started < replica.settings.readTimeout)
    }
}
