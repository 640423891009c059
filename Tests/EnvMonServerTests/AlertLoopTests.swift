import EnvMonDomain
import EnvMonNotify
@testable import EnvMonServer
import EnvMonStore
import EnvMonTestSupport
import Foundation
import ServiceLifecycle
import Synchronization
import Testing

/// The evaluator and notifier loops as `envmon serve` runs them: a load finished by another
/// process (here a command's pool) wakes the evaluator through LISTEN/NOTIFY, and the notifier
/// delivers what the evaluation queued.
@Suite("Alert loops in a running server", .timeLimit(.minutes(10)), .temporaryDatabases)
struct AlertLoopTests {
    /// Lines the log channel wrote.
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    /// Waits for `condition`, checking every 100 ms, for at most `timeout`.
    static func eventually(_ timeout: Duration = .seconds(300), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    @Test("a finished upload wakes the evaluator at once (the timer is an hour) and the notifier delivers")
    func notifyWakesTheEvaluator() async throws {
        let testDB = try await TestDatabase.make()
        // The shipped files, with notifications sent as soon as an alert fires.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-alerts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
            receivers:
              - name: log
                log: true
            route:
              receiver: log
              group_by: [alertname, metric]
              group_wait: 0s
              group_interval: 1s
              repeat_interval: 24h
            """.write(to: directory.appendingPathComponent("routes.yaml"), atomically: true, encoding: .utf8)

        try await testDB.withDatabase { try await TestDatabase.seedDefaultTargets($0) }
        // Before the server starts: waste short of 100 % harmless, which its first evaluation sees.
        _ = try await testDB.ingest(.waste, csv: """
            district,period,collected_t,harmless_t,white_pollution_sites,white_pollution_remediated
            城关街道,2026-03,3000,2900,20,20
            """)

        var server = ServerConfiguration.test
        server.workers = 0
        server.alertLoops = true
        server.evaluationInterval = .seconds(3_600)
        server.notifyInterval = .milliseconds(100)
        let lines = Lines()
        let configuration = AppConfiguration(
            runtime: RuntimeConfiguration(address: testDB.address, environment: [:]), server: server,
            alerts: try AlertConfiguration.load(directory: directory, environment: [:]),
            delivery: DeliveryContext(log: NotificationLog { lines.append($0) }, logger: Harness.logger))
        let app = try buildApplication(configuration, logger: Harness.logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: Harness.logger))

        let firing = { @Sendable (metric: String) async throws -> Bool in
            try await testDB.value("""
                SELECT count(*) FROM envmon.alert WHERE state = 'firing' AND labels->>'metric' = '\(metric)'
                """) == "1"
        }
        try await Harness.bounded("the alert loops") {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                // The first evaluation at start.
                #expect(try await Self.eventually { try await firing("waste_harmless_transfer_rate") })

                // A command loads sewage short of 95 %: NOTIFY, not the hourly timer, evaluates it.
                _ = try await testDB.ingest(.sewage, csv: """
                    plant_id,plant_name,district,period,sewage_discharged_m3,sewage_treated_m3
                    WWTP01,城北污水处理厂,城关街道,2026-03,1000000,900000
                    """)
                #expect(try await Self.eventually { try await firing("sewage_treatment_rate") })

                // The notifier delivers both through the log channel.
                #expect(try await Self.eventually {
                    let text = lines.all.joined()
                    return text.contains("sewage_treatment_rate") && text.contains("waste_harmless_transfer_rate")
                }, "\(lines.all)")
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
        #expect(try await testDB.value(
            "SELECT count(*) FROM envmon.notification_outbox WHERE status = 'delivered'").map { Int($0) ?? 0 } ?? 0 >= 2)
    }
}
