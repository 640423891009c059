import EnvMonAlerting
import EnvMonDomain
@testable import EnvMonServer
@testable import EnvMonStore
import EnvMonTestSupport
import Foundation
import Testing

/// Each rule kind fires and resolves on data loaded through the real ingest path; times are set
/// with the evaluation clock, never by sleeping.
@Suite(.timeLimit(.minutes(10)), .temporaryDatabases)
struct AlertEvaluationTests {
    static func at(_ text: String) -> Date {
        ISO8601DateFormatter().date(from: text) ?? Date(timeIntervalSince1970: 0)
    }

    static let builtIn: AlertConfiguration = {
        (try? AlertConfiguration.load(directory: nil, environment: [:]))
            ?? AlertConfiguration(rules: RuleFile(fileName: "", rules: []),
                                  routes: RouteFile(fileName: "", receivers: [:], inactiveReceivers: [],
                                                    root: Route(settings: .defaults(receiver: "log"))),
                                  targets: TargetFile(fileName: "", targets: []))
    }()

    func prepared() async throws -> TestDatabase {
        let db = try await TestDatabase.make()
        try await db.withDatabase { try await TestDatabase.seedDefaultTargets($0) }
        return db
    }

    func evaluate(_ db: TestDatabase, at date: Date, configuration: AlertConfiguration = builtIn) async throws -> AlertEvaluator.Summary {
        try await db.withDatabase { try await AlertEvaluator(database: $0, configuration: configuration).evaluate(at: date) }
    }

    func alerts(_ db: TestDatabase, rule: String) async throws -> [AlertState] {
        try await db.withDatabase { try await AlertStore(database: $0).list(state: nil) }.filter { $0.rule == rule }
    }

    func outboxCount(_ db: TestDatabase) async throws -> Int {
        Int(try await db.rows("SELECT count(*) AS n FROM envmon.notification_outbox").first?["n"].flatMap { $0 } ?? "") ?? -1
    }

    static let sewageMissed = "plant_id,district,period,sewage_discharged_m3,sewage_treated_m3\nP1,城关街道,2026-03,1000,900\n"
    static let sewageMet = "plant_id,district,period,sewage_discharged_m3,sewage_treated_m3\nP1,城关街道,2026-03,1000,960\n"

    @Test func builtInFilesParse() throws {
        let configuration = try AlertConfiguration.load(directory: nil, environment: ["ENVMON_ALERT_EMAIL": "a@example.org"])
        #expect(Set(configuration.rules.rules.map(\.kind)) == Set(AlertRuleKind.allCases))
        #expect(configuration.rules.rules.allSatisfy { $0.enabled })
        #expect(configuration.targets.targets.count == 7)
        #expect(configuration.routes.receivers["email"] != nil)
    }

    @Test func aMissedTargetFiresOnceAndResolvesWhenCorrected() async throws {
        let db = try await prepared()
        _ = try await db.ingest(.sewage, csv: Self.sewageMissed)
        let t0 = Self.at("2026-04-02T09:00:00+08:00")
        let first = try await evaluate(db, at: t0)
        let fired = try await alerts(db, rule: "PlanTargetMissed")
        #expect(fired.count == 1)
        let alert = try #require(fired.first)
        #expect(alert.state == .firing)
        #expect(alert.labels["metric"] == "sewage_treatment_rate")
        #expect(alert.labels["scope"] == "all")
        #expect(alert.severity == .critical)
        #expect(alert.value == 0.9)
        #expect(alert.annotations["summary"]?.contains("污水集中处理率") == true)
        #expect(first.notificationsQueued >= 1)
        let queued = try await outboxCount(db)

        // Nothing changed: nothing changes, nothing is sent.
        let again = try await evaluate(db, at: t0)
        #expect(again.changes.isEmpty)
        #expect(again.notificationsQueued == 0)
        #expect(try await outboxCount(db) == queued)

        // A corrected report resolves it, and the resolved notice is queued.
        _ = try await db.ingest(.sewage, csv: Self.sewageMet)
        let later = try await evaluate(db, at: t0.addingTimeInterval(3600))
        #expect(later.changes.contains { $0.rule == "PlanTargetMissed" && $0.to == .resolved })
        let resolved = try #require(try await alerts(db, rule: "PlanTargetMissed").first)
        #expect(resolved.state == .resolved)
        #expect(try await outboxCount(db) > queued)
        let history = try await db.withDatabase { try await AlertStore(database: $0).history(alertID: resolved.id ?? 0) }
        #expect(history.map(\.event).contains(.firing))
        #expect(history.map(\.event).contains(.resolved))
    }

    @Test func exceedanceNamesTheDaysAndLeavesTheWindow() async throws {
        let db = try await prepared()
        _ = try await db.ingest(.emissions, csv: Feeds.emissions)
        _ = try await evaluate(db, at: Self.at("2026-03-05T09:00:00+08:00"))
        let alert = try #require(try await alerts(db, rule: "EmissionLimitExceeded").first)
        #expect(alert.state == .firing)
        #expect(alert.labels["enterprise_id"] == "91310115MA1H000002")
        #expect(alert.labels["outlet_id"] == "DW001")
        #expect(alert.labels["pollutant"] == "COD")
        #expect(alert.annotations["days"]?.contains("2026-03-01") == true)
        #expect(alert.annotations["summary"]?.contains("南湖化工") == true)
        // 40 days later the exceeding day is outside the 31-day window.
        _ = try await evaluate(db, at: Self.at("2026-04-10T09:00:00+08:00"))
        #expect(try await alerts(db, rule: "EmissionLimitExceeded").first?.state == .resolved)
    }

    @Test func sectionWorseThanVFires() async throws {
        let db = try await prepared()
        _ = try await db.ingest(.water, csv: Feeds.water)
        _ = try await evaluate(db, at: Self.at("2026-03-06T09:00:00+08:00"))
        let fired = try await alerts(db, rule: "RiverSectionWorseThanV")
        #expect(fired.map { $0.labels["section_id"] } == ["S02"])
        #expect(fired.first?.annotations["water_class"] == "劣Ⅴ")
    }

    @Test func silentSitesRaiseMissingDataUnlessRetired() async throws {
        let db = try await prepared()
        _ = try await db.ingest(.emissions, csv: Feeds.emissions)
        let t = Self.at("2026-03-03T12:00:00+08:00")
        _ = try await evaluate(db, at: t)
        let silent = try await alerts(db, rule: "FeedMissing").filter { $0.labels["site_kind"] == "enterprise" }
        #expect(Set(silent.compactMap { $0.labels["site_id"] }) == ["91310115MA1H000001", "91310115MA1H000002"])
        let retired = try await db.withDatabase {
            try await PlanStore(database: $0).retireSite(kind: "enterprise", id: "91310115MA1H000002", reason: "closed", retire: true)
        }
        #expect(retired == 1)
        _ = try await evaluate(db, at: t.addingTimeInterval(600))
        let after = try await alerts(db, rule: "FeedMissing").filter { $0.labels["site_kind"] == "enterprise" }
        #expect(after.first { $0.labels["site_id"] == "91310115MA1H000002" }?.state == .resolved)
        #expect(after.first { $0.labels["site_id"] == "91310115MA1H000001" }?.state == .firing)
    }

    @Test func aBadUploadRaisesDataQualityForItsUploader() async throws {
        let db = try await prepared()
        var csv = "district,period,collected_t,harmless_t\n"
        for i in 1...9 { csv += "街道\(i),2026-03,100,100\n" }
        csv += "街道10,2026-03,100,abc\n"
        let upload = try await db.ingest(.waste, csv: csv)
        #expect(upload.rowsRejected == 1)
        _ = try await evaluate(db, at: Self.at("2026-04-01T09:00:00+08:00"))
        let alert = try #require(try await alerts(db, rule: "UploadRejectedRows").first)
        #expect(alert.labels["uploader"] == "tests")
        #expect(alert.labels["feed_kind"] == "waste")
        #expect(alert.value == 0.1)
        // The same person sends a clean file: resolved.
        _ = try await db.ingest(.waste, csv: csv.replacingOccurrences(of: "abc", with: "100"))
        _ = try await evaluate(db, at: Self.at("2026-04-01T10:00:00+08:00"))
        #expect(try await alerts(db, rule: "UploadRejectedRows").first?.state == .resolved)
    }

    static func configuration(rules: String, routes: String? = nil) throws -> AlertConfiguration {
        var base = try AlertConfiguration.load(directory: nil, environment: [:])
        base.rules = try RuleFile.parse(text: rules, fileName: "rules.yaml")
        if let routes { base.routes = try RouteFile.parse(text: routes, fileName: "routes.yaml", environment: [:]) }
        return base
    }

    @Test func pendingForAndKeepFiringFor() async throws {
        let db = try await prepared()
        let config = try Self.configuration(rules: """
            rules:
              - name: SlowTarget
                kind: target
                for: 1h
                keep_firing_for: 2h
                annotations:
                  summary: "{metric} {value}"
            """)
        _ = try await db.ingest(.sewage, csv: Self.sewageMissed)
        let t0 = Self.at("2026-04-02T09:00:00+08:00")
        _ = try await evaluate(db, at: t0, configuration: config)
        #expect(try await alerts(db, rule: "SlowTarget").first?.state == .pending)
        _ = try await evaluate(db, at: t0.addingTimeInterval(1800), configuration: config)
        #expect(try await alerts(db, rule: "SlowTarget").first?.state == .pending)
        _ = try await evaluate(db, at: t0.addingTimeInterval(3600), configuration: config)
        #expect(try await alerts(db, rule: "SlowTarget").first?.state == .firing)
        _ = try await db.ingest(.sewage, csv: Self.sewageMet)
        _ = try await evaluate(db, at: t0.addingTimeInterval(5400), configuration: config)
        #expect(try await alerts(db, rule: "SlowTarget").first?.state == .firing, "keep_firing_for holds it")
        _ = try await evaluate(db, at: t0.addingTimeInterval(4 * 3600), configuration: config)
        #expect(try await alerts(db, rule: "SlowTarget").first?.state == .resolved)
    }

    @Test func silencesSuppressNotificationsNotEvaluation() async throws {
        let db = try await prepared()
        _ = try await db.ingest(.sewage, csv: Self.sewageMissed)
        let t0 = Self.at("2026-04-02T09:00:00+08:00")
        _ = try await db.withDatabase {
            try await AlertStore(database: $0).addSilence(
                matchers: ["metric=\"sewage_treatment_rate\""], startsAt: t0.addingTimeInterval(-60),
                endsAt: t0.addingTimeInterval(86_400), author: "王工", reason: "污水厂检修")
        }
        _ = try await evaluate(db, at: t0)
        #expect(try await alerts(db, rule: "PlanTargetMissed").first?.state == .firing)
        let rows = try await db.rows("SELECT payload::text AS p FROM envmon.notification_outbox")
        #expect(!rows.contains { ($0["p"] ?? nil)?.contains("sewage_treatment_rate") == true })
    }

    @Test func repeatsUntilAcknowledged() async throws {
        let db = try await prepared()
        let config = try Self.configuration(rules: """
            rules:
              - name: Target
                kind: target
                annotations:
                  summary: "{metric} {value}"
            """, routes: """
            receivers:
              - name: log
                log: true
            route:
              receiver: log
              group_wait: 0s
              repeat_interval: 4h
            """)
        _ = try await db.ingest(.sewage, csv: Self.sewageMissed)
        let t0 = Self.at("2026-04-02T09:00:00+08:00")
        _ = try await evaluate(db, at: t0, configuration: config)
        #expect(try await outboxCount(db) == 1)
        _ = try await evaluate(db, at: t0.addingTimeInterval(3600), configuration: config)
        #expect(try await outboxCount(db) == 1)
        _ = try await evaluate(db, at: t0.addingTimeInterval(5 * 3600), configuration: config)
        #expect(try await outboxCount(db) == 2, "repeat_interval passed")
        let id = try #require(try await alerts(db, rule: "Target").first?.id)
        _ = try await db.withDatabase {
            try await AlertStore(database: $0).acknowledge(alertID: id, by: "李主任", note: "已通知厂方", at: t0.addingTimeInterval(6 * 3600))
        }
        _ = try await evaluate(db, at: t0.addingTimeInterval(12 * 3600), configuration: config)
        #expect(try await outboxCount(db) == 2, "acknowledged: no more repeats")
        let events = try await db.withDatabase { try await AlertStore(database: $0).history(alertID: id) }
        #expect(events.contains { $0.event == .acknowledged && $0.actor == "李主任" })
    }

    @Test func escalatesOnceWhenUnacknowledged() async throws {
        let db = try await prepared()
        let config = try Self.configuration(rules: """
            rules:
              - name: Target
                kind: target
                annotations:
                  summary: "{metric} {value}"
            """, routes: """
            receivers:
              - name: log
                log: true
              - name: director
                log: true
            route:
              receiver: log
              group_wait: 0s
              repeat_interval: 100h
              escalate:
                - after: 2h
                  receiver: director
            """)
        _ = try await db.ingest(.sewage, csv: Self.sewageMissed)
        let t0 = Self.at("2026-04-02T09:00:00+08:00")
        _ = try await evaluate(db, at: t0, configuration: config)
        _ = try await evaluate(db, at: t0.addingTimeInterval(3 * 3600), configuration: config)
        _ = try await evaluate(db, at: t0.addingTimeInterval(4 * 3600), configuration: config)
        let receivers = try await db.rows("SELECT receiver FROM envmon.notification_outbox ORDER BY id").compactMap { $0["receiver"] ?? nil }
        #expect(receivers == ["log", "director"])
    }
}
