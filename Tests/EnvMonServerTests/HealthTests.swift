import EnvMonDomain
@testable import EnvMonServer
import EnvMonStore
import EnvMonTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing

@Suite("Health, readiness and Prometheus metrics", .timeLimit(.minutes(10)), .temporaryDatabases)
struct HealthTests {
    @Test("/readyz is 503 while the database is unreachable and 200 again once it is back; /healthz stays 200")
    func readinessFollowsTheDatabase() async throws {
        let testDB = try await TestDatabase.make()
        var config = ServerConfiguration.test
        config.readinessTimeout = .seconds(2)
        let settings = config
        // Taking the database away: every connection is cut and new ones are refused, as when
        // the server is down; giving it back lets the pool connect again.
        let admin = try await TestCluster.shared.address()
        @Sendable func reachable(_ yes: Bool) async throws {
            try await TestCluster.withConnection(admin) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(testDB.name) ALLOW_CONNECTIONS \(yes)"),
                                           logger: TestDatabase.logger)
                if !yes {
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(testDB.name)'
                        """), logger: TestDatabase.logger)
                }
            }
        }
        do {
            let log = LogRing()
            let app = try Harness.application(testDB, config: settings, log: log)
            try await Harness.bounded("the application", log: log) { try await app.test(.router) { client in
                // Ready once its pool has a connection: on a loaded machine a first probe may
                // run out of its two seconds, so wait for the verdict, not for the clock.
                #expect(try await Self.readyz(client, is: .ok), "never ready: \(log.tail(20).joined(separator: "\n"))")
                try await reachable(false)
                let down = try await client.execute(uri: "/readyz", method: .get)
                #expect(down.status == .serviceUnavailable)
                #expect(try Harness.json(down.body)["error"] as? String == "database_unavailable")
                #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
                try await reachable(true)
                #expect(try await Self.readyz(client, is: .ok), "not ready again: \(log.tail(20).joined(separator: "\n"))")
            } }
        }
    }

    /// Polls `/readyz` until it answers `status`, for up to two minutes.
    static func readyz(_ client: any TestClientProtocol, is status: HTTPResponse.Status) async throws -> Bool {
        for _ in 0..<480 {
            if try await client.execute(uri: "/readyz", method: .get).status == status { return true }
            try await Task.sleep(for: .milliseconds(250))
        }
        return false
    }

    @Test("/readyz is 503 when migrations become pending while serving; a server refuses to start on them")
    func pendingMigrations() async throws {
        let testDB = try await TestDatabase.make()
        // This test is about the verdict, not the time limit: under a fully loaded machine
        // (the suite's big loads run alongside) the default 3 s was seen to run out.
        var config = ServerConfiguration.test
        config.readinessTimeout = .seconds(30)
        let settings = config
        do {
            let app = try Harness.application(testDB, config: settings)
            try await Harness.bounded("the application") { try await app.test(.router) { client in
                #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
                try await testDB.execute("DELETE FROM envmon.schema_migrations WHERE name = 'views'")
                let response = try await client.execute(uri: "/readyz", method: .get)
                #expect(response.status == .serviceUnavailable)
                #expect(try Harness.json(response.body)["error"] as? String == "migrations_pending")
            } }
        }
        // Starting on a database with pending migrations fails before serving anything.
        let app = try Harness.application(testDB, config: settings)
        await #expect(throws: SchemaNotCurrent.self) {
            try await app.test(.router) { _ in }
        }
    }

    /// One line of the Prometheus text format: `name{labels} value [timestamp]`, or a comment.
    static let samplePattern = #"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( -?[0-9]+)?$"#
    static let commentPattern = #"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]*( .*)?$"#

    @Test("/metrics is Prometheus text with the upload, queue, duration and alert series")
    func prometheusText() async throws {
        try await Harness.withApp { client, _, tokens in
            let accepted = try await Harness.post(client, csv: Feed.emissions(rows: 2, seed: 60), token: tokens.upload)
            _ = try await Harness.waitForOutcome(client, id: Int64(try #require(accepted["id"] as? Int)), token: tokens.read)
            // The upload's outcome commits with its rows; the worker counts the load just after.
            var response = try await client.execute(uri: "/metrics", method: .get)
            for _ in 0..<600 where !String(buffer: response.body).contains("envmon_ingest_duration_seconds_bucket") {
                try await Task.sleep(for: .milliseconds(100))
                response = try await client.execute(uri: "/metrics", method: .get)
            }
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = String(buffer: response.body)
            let sample = try Regex(Self.samplePattern)
            let comment = try Regex(Self.commentPattern)
            for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                let ok = (try? sample.wholeMatch(in: String(line))) != nil || (try? comment.wholeMatch(in: String(line))) != nil
                #expect(ok, "not Prometheus text: \(line)")
            }
            #expect(text.contains(#"envmon_uploads_total{status="queued",source="http"} 1"#)
                    || text.contains(#"envmon_uploads_total{source="http",status="queued"} 1"#))
            #expect(text.contains("envmon_ingest_queue_depth"))
            #expect(text.contains("envmon_ingest_queue_oldest_age_seconds"))
            #expect(text.contains("envmon_ingest_duration_seconds_bucket"))
            #expect(text.contains("envmon_rows_loaded_total 2"))
            #expect(text.contains(#"envmon_alerts{state="firing"} 0"#))
            #expect(text.contains("envmon_notifications_failed 0"))
        }
    }
}
