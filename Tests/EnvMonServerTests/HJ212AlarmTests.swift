import EnvMonAlerting
import EnvMonDomain
import EnvMonHJ212
@testable import EnvMonServer
import EnvMonStore
import EnvMonTestSupport
import Foundation
import PostgresNIO
import Testing

/// The data-quality alarms of online monitoring, raised and resolved through the real path:
/// packets over TCP into the database, the shipped rules, the evaluator.
@Suite("HJ212 alarms: DeviceOffline, ConstantValue, ZeroOrNegative", .timeLimit(.minutes(10)), .temporaryDatabases)
struct HJ212AlarmTests {
    /// One pass of the evaluator with the shipped rules, as the server's loop runs it.
    static func evaluate(_ db: Database) async throws {
        let configuration = try AlertConfiguration.load(directory: nil, environment: [:])
        _ = try await AlertEvaluator(database: db, configuration: configuration).evaluate(at: Date())
    }

    /// rule → state of its newest alert.
    static func states(_ testDB: TestDatabase) async throws -> String {
        try await testDB.value("""
            SELECT string_agg(rule || ':' || state, ',' ORDER BY rule) FROM (
                SELECT DISTINCT ON (rule) rule, state FROM envmon.alert ORDER BY rule, id DESC) a
            """) ?? ""
    }

    @Test("DeviceOffline fires for a device silent over 2 h and resolves when it sends")
    func deviceOffline() async throws {
        let testDB = try await TestDatabase.make()
        try await HJ212Harness.withListener(testDB) { port, db in
            try await HJ212Harness.register(db)
            // Registered three hours ago and never heard from since.
            try await db.client.query("UPDATE envmon.hj212_device SET created_at = now() - interval '3 hours'", logger: Harness.logger)
            try await Self.evaluate(db)
            #expect(try await Self.states(testDB) == "DeviceOffline:firing")
            #expect(try await testDB.value("SELECT labels ->> 'mn' FROM envmon.alert") == "MN001")
            let client = try await LoggerClient.connect(port: port)
            let packet = try HJ212Harness.hourly(at: HJ212Harness.hour(1), values: [HJ212UploadValue(code: "a21026", avg: 5)])
            try await client.send(packet.bytes)
            #expect(try await LoggerClient.eventually { HJ212Harness.answeredQNs(client).count == 1 })
            try await Self.evaluate(db)
            #expect(try await Self.states(testDB) == "DeviceOffline:resolved")
            #expect(try await testDB.value("SELECT online FROM analytics.device_status") == "true")
            await client.close()
        }
    }

    @Test("ConstantValue fires after 6 equal valid hours and resolves on a new value; ZeroOrNegative likewise")
    func constantAndZero() async throws {
        let testDB = try await TestDatabase.make()
        try await HJ212Harness.withListener(testDB) { port, db in
            try await HJ212Harness.register(db)
            let client = try await LoggerClient.connect(port: port)
            var sent = 0
            func send(hoursAgo: Int, so2: Double, nox: Double) async throws {
                sent += 1
                let packet = try HJ212Harness.hourly(
                    at: HJ212Harness.hour(hoursAgo), qnTime: Date(timeIntervalSinceNow: Double(sent)),
                    values: [HJ212UploadValue(code: "a21026", avg: so2), HJ212UploadValue(code: "a21002", avg: nox)])
                try await client.send(packet.bytes)
                let expected = sent
                #expect(try await LoggerClient.eventually { HJ212Harness.answeredQNs(client).count == expected })
            }
            // Five equal hours: not yet.
            for hour in stride(from: 12, to: 7, by: -1) { try await send(hoursAgo: hour, so2: 17.5, nox: 0) }
            try await Self.evaluate(db)
            #expect(try await Self.states(testDB) == "")
            try await send(hoursAgo: 7, so2: 17.5, nox: -0.1)
            try await Self.evaluate(db)
            #expect(try await Self.states(testDB) == "ConstantValue:firing,ZeroOrNegative:firing")
            #expect(try await testDB.value("""
                SELECT (labels ->> 'pollutant') || '/' || (annotations ->> 'count') FROM envmon.alert WHERE rule = 'ConstantValue'
                """) == "SO2/6")
            #expect(try await testDB.value("SELECT labels ->> 'pollutant' FROM envmon.alert WHERE rule = 'ZeroOrNegative'") == "NOx")
            try await send(hoursAgo: 6, so2: 18, nox: 3)
            try await Self.evaluate(db)
            #expect(try await Self.states(testDB) == "ConstantValue:resolved,ZeroOrNegative:resolved")
            await client.close()
        }
    }
}
