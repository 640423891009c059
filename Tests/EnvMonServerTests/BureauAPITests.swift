import EnvMonDomain
@testable import EnvMonServer
import EnvMonStore
import EnvMonTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Metrics, plan and alerts over HTTP", .timeLimit(.minutes(10)), .temporaryDatabases)
struct BureauAPITests {
    static let firingAlert = """
        INSERT INTO envmon.alert (fingerprint, rule, kind, severity, state, labels, value, target, active_since, fired_at,
                                  last_seen_active)
        VALUES ('fp-1', 'SewageTreatmentBelowPlan', 'target', 'warning', 'firing', '{"scope": "all"}', 0.91, 0.95,
                now() - interval '2 hours', now() - interval '1 hour', now())
        """

    @Test("alerts are listed by state and acknowledged with the token's name, a note and an alert event")
    func acknowledge() async throws {
        try await Harness.withApp(.live, workers: 0) { client, db, tokens in
            let testDB = TestDatabase(address: db.address, name: db.address.database)
            try await testDB.execute(Self.firingAlert)
            let listed = try Harness.json(try await client.execute(
                uri: "/v1/alerts?state=firing", method: .get, headers: Harness.bearer(tokens.read)).body)
            let alerts = try #require(listed["alerts"] as? [[String: Any]])
            #expect(alerts.count == 1)
            let id = try #require(alerts.first?["id"] as? Int)
            #expect(alerts.first?["value"] as? Double == 0.91)

            let ack = try await client.execute(
                uri: "/v1/alerts/\(id)/ack", method: .post, headers: Harness.bearer(tokens.upload, [.contentType: "application/json"]),
                body: ByteBuffer(string: #"{"note": "已通知污水厂"}"#))
            #expect(ack.status == .ok)
            let acked = try Harness.json(ack.body)
            #expect(acked["acked_by"] as? String == "alice")
            #expect(acked["ack_note"] as? String == "已通知污水厂")
            #expect(try await testDB.value("SELECT event || '/' || actor FROM envmon.alert_event WHERE alert_id = \(id)") == "acknowledged/alice")

            let missing = try await client.execute(uri: "/v1/alerts/424242/ack", method: .post, headers: Harness.bearer(tokens.admin))
            #expect(missing.status == .notFound)
            // The audit trail has the acknowledgement, who and from where; not the failed one.
            let audit = try await testDB.rows("SELECT actor, origin, subject, summary FROM envmon.audit_event WHERE action = 'alert.acknowledge'")
            #expect(audit.count == 1)
            #expect(audit.first?["actor"] == "token:alice")
            #expect(audit.first?["origin"] == "http 127.0.0.1")
            #expect(audit.first?["subject"] == "alert \(id)")
            #expect(audit.first?["summary"] == "by alice: 已通知污水厂")
            let none = try Harness.json(try await client.execute(
                uri: "/v1/alerts?state=resolved", method: .get, headers: Harness.bearer(tokens.read)).body)
            #expect((none["alerts"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("a resolved alert cannot be acknowledged (409)")
    func resolvedAlert() async throws {
        try await Harness.withApp(workers: 0) { client, db, tokens in
            let testDB = TestDatabase(address: db.address, name: db.address.database)
            try await testDB.execute(Self.firingAlert.replacingOccurrences(of: "'firing'", with: "'resolved'"))
            let id = try #require(try await testDB.value("SELECT id FROM envmon.alert"))
            let response = try await client.execute(uri: "/v1/alerts/\(id)/ack", method: .post, headers: Harness.bearer(tokens.upload))
            #expect(response.status == .conflict)
        }
    }

    @Test("metric values and plan progress come from the analytics views")
    func metricsAndPlan() async throws {
        try await Harness.withApp { client, _, tokens in
            let metrics = try await client.execute(uri: "/v1/metrics?metric=no_such_metric", method: .get,
                                                   headers: Harness.bearer(tokens.read))
            #expect(metrics.status == .ok)
            #expect((try Harness.json(metrics.body)["metrics"] as? [Any])?.isEmpty == true)
            let plan = try await client.execute(uri: "/v1/plan", method: .get, headers: Harness.bearer(tokens.read))
            #expect(plan.status == .ok)
            #expect(try Harness.json(plan.body)["plan"] is [Any])
        }
    }

    @Test("a missing analytics view is a 503 that says what to do")
    func missingView() async throws {
        try await Harness.withApp(workers: 0) { client, db, tokens in
            let testDB = TestDatabase(address: db.address, name: db.address.database)
            try await testDB.execute("DROP VIEW analytics.metric_values CASCADE")
            let response = try await client.execute(uri: "/v1/metrics", method: .get, headers: Harness.bearer(tokens.read))
            #expect(response.status == .serviceUnavailable)
            let body = try Harness.json(response.body)
            #expect(body["error"] as? String == "analytics_unavailable")
            #expect((body["detail"] as? String)?.contains("envmon migrate") == true)
            #expect((body["detail"] as? String)?.contains("SELECT") == false)
        }
    }
}
