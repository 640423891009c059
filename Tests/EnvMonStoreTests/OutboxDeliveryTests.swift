import EnvMonAlerting
import EnvMonDomain
import EnvMonNotify
import EnvMonServer
import EnvMonStore
import EnvMonTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Testing

/// Alerts evaluated on ingested data travel through the notification outbox to real servers on
/// loopback (aiosmtpd with STARTTLS and AUTH, an HTTP listener): retried while a server is down,
/// delivered once it is back, never lost, and failures stay visible.
@Suite(.serialized, .timeLimit(.minutes(10)), .temporaryDatabases)
struct OutboxDeliveryTests {
    static let t0 = ISO8601DateFormatter().date(from: "2026-04-02T09:00:00+08:00") ?? Date(timeIntervalSince1970: 0)
    static let sewageMissed = "plant_id,district,period,sewage_discharged_m3,sewage_treated_m3\nP1,城关街道,2026-03,1000,900\n"
    static let sewageMet = "plant_id,district,period,sewage_discharged_m3,sewage_treated_m3\nP1,城关街道,2026-03,1000,960\n"
    static let user = "envmon"
    static let password = "s3cret"
    static let logger: Logger = {
        var logger = Logger(label: "envmon.tests.outbox")
        logger.logLevel = .warning
        return logger
    }()

    /// The shipped PlanTargetMissed rule alone, so the sewage file raises exactly one alert.
    static let rules = """
        rules:
          - name: PlanTargetMissed
            kind: target
            severity: critical
            annotations:
              summary: "{metric_zh}未达标：{scope} {period} 实际{value}，目标{target}"
        """

    static func routes(receiver: String) -> String {
        """
        receivers:
          - name: duty
        \(receiver)
        route:
          receiver: duty
          group_wait: 0s
        """
    }

    /// An email receiver as an operator writes it, a display name on the first address.
    static let emailReceiver = """
            email:
              to: ["王工 <wang@example.org>", "li@example.org"]
        """
    static let plainEmailReceiver = """
            email:
              to: ["wang@example.org", "li@example.org"]
        """

    static func configuration(receiver: String) throws -> AlertConfiguration {
        var configuration = try AlertConfiguration.load(directory: nil, environment: [:])
        configuration.rules = try RuleFile.parse(text: rules, fileName: "rules.yaml")
        configuration.routes = try RouteFile.parse(text: routes(receiver: receiver), fileName: "routes.yaml", environment: [:])
        return configuration
    }

    /// A migrated database with the sewage target missed and evaluated at `t0`.
    func missedTarget(receiver: String) async throws -> (TestDatabase, AlertConfiguration) {
        let db = try await TestDatabase.make()
        try await db.withDatabase { try await TestDatabase.seedDefaultTargets($0) }
        _ = try await db.ingest(.sewage, csv: Self.sewageMissed)
        let configuration = try Self.configuration(receiver: receiver)
        try await evaluate(db, configuration, at: Self.t0)
        return (db, configuration)
    }

    func evaluate(_ db: TestDatabase, _ configuration: AlertConfiguration, at date: Date) async throws {
        _ = try await db.withDatabase { try await AlertEvaluator(database: $0, configuration: configuration).evaluate(at: date) }
    }

    func deliver(_ db: TestDatabase, _ context: DeliveryContext, at now: Date) async throws -> OutboxNotifier.Round {
        try await db.withDatabase { try await OutboxNotifier(database: $0, context: context).deliverDue(now: now, ignoreGroupWait: false) }
    }

    /// The outbox as an operator reads it with psql.
    func outbox(_ db: TestDatabase) async throws -> [(status: String, attempts: Int, lastError: String?)] {
        try await db.rows("SELECT status, attempts, last_error FROM envmon.notification_outbox ORDER BY id").map { row in
            ((row["status"] ?? nil) ?? "", Int((row["attempts"] ?? nil) ?? "") ?? -1, row["last_error"] ?? nil)
        }
    }

    func summary(_ db: TestDatabase) async throws -> String {
        let alerts = try await db.withDatabase { try await AlertStore(database: $0).list(state: nil) }
        return try #require(alerts.first { $0.rule == "PlanTargetMissed" }?.annotations["summary"])
    }

    static func emailContext(port: Int, caPath: String) throws -> DeliveryContext {
        let smtp = try SMTPConfiguration(
            url: "smtp://\(user):\(password)@127.0.0.1:\(port)?starttls=required&ca=\(caPath)&connect_timeout=5&timeout=10")
        return DeliveryContext(
            smtp: smtp, mailFrom: MailAddress("envmon@example.org"), log: NotificationLog { _ in }, logger: logger, now: { t0 })
    }

    fileprivate static func smtpArguments(_ certificates: TestCertificates) -> [String] {
        ["--mode", "starttls", "--user", user, "--password", password,
         "--cert", certificates.certificatePath, "--key", certificates.keyPath]
    }

    @Test func emailIsRetriedWhileTheServerIsDownAndDeliveredOnceWhenItIsBack() async throws {
        let (db, _) = try await missedTarget(receiver: Self.emailReceiver)
        #expect(try await outbox(db).count == 1)
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let certificates = try TestCertificates(in: directory.url)
        let port = try closedLoopbackPort()
        let context = try Self.emailContext(port: port, caPath: certificates.caPath)

        let down = try await deliver(db, context, at: Self.t0)
        #expect(down.retrying == 1)
        #expect(down.delivered == 0 && down.failed == 0)
        let waiting = try #require(try await outbox(db).first)
        #expect(waiting.status == "pending")
        #expect(waiting.attempts == 1)
        #expect(waiting.lastError?.isEmpty == false)
        // Not due again before its backoff has passed.
        #expect(try await deliver(db, context, at: Self.t0.addingTimeInterval(1)) == OutboxNotifier.Round())

        let server = try await LoopbackServer.start("smtp_harness.py", Self.smtpArguments(certificates), on: port, in: directory.url)
        defer { server.stop() }
        #expect(server.port == port)
        let back = try await deliver(db, context, at: Self.t0.addingTimeInterval(OutboxStore.backoff(afterAttempt: 1) + 1))
        #expect(back.delivered == 1, "\(back.errors)")
        let sent = try #require(try await outbox(db).first)
        #expect(sent.status == "delivered")
        #expect(sent.attempts == 2)

        let messages = try server.received()
        #expect(messages.count == 1)
        let record = try #require(messages.first)
        #expect(record["tls"] as? Bool == true)
        #expect(record["authenticated"] as? Bool == true)
        #expect(record["rcpt_tos"] as? [String] == ["wang@example.org", "li@example.org"])
        let email = try ReceivedEmail(record: record)
        #expect(email.subject.contains("污水集中处理率"))
        #expect(email.subject.contains("sewage_treatment_rate"))
        #expect(email.subject.hasPrefix("[envmon][FIRING:1]"))
        let summary = try await summary(db)
        #expect(summary.contains("污水集中处理率未达标"))
        #expect(email.text.contains(summary))
        #expect(ReceivedEmail.decodeEncodedWords(email.header("To") ?? "").contains("王工 <wang@example.org>"))

        // Delivered is delivered: later rounds send nothing more.
        let later = try await deliver(db, context, at: Self.t0.addingTimeInterval(3600))
        #expect(later == OutboxNotifier.Round())
        #expect(try server.received().count == 1)
    }

    @Test func theResolvedNoticeIsSentByEmail() async throws {
        let (db, configuration) = try await missedTarget(receiver: Self.plainEmailReceiver)
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let certificates = try TestCertificates(in: directory.url)
        let server = try await LoopbackServer.start("smtp_harness.py", Self.smtpArguments(certificates), in: directory.url)
        defer { server.stop() }
        let context = try Self.emailContext(port: server.port, caPath: certificates.caPath)
        #expect(try await deliver(db, context, at: Self.t0).delivered == 1)

        _ = try await db.ingest(.sewage, csv: Self.sewageMet)
        let later = Self.t0.addingTimeInterval(3600)
        try await evaluate(db, configuration, at: later)
        let round = try await deliver(db, context, at: later)
        #expect(round.delivered == 1, "\(round.errors)")
        #expect(try await outbox(db).map(\.status) == ["delivered", "delivered"])
        let messages = try server.received()
        #expect(messages.count == 2)
        let resolved = try ReceivedEmail(record: try #require(messages.last))
        #expect(resolved.subject.hasPrefix("[envmon][RESOLVED:1]"), "\(resolved.subject)")
        #expect(resolved.subject.contains("污水集中处理率 sewage_treatment_rate"))
        #expect(resolved.text.contains("RESOLVED"))
        #expect(try ReceivedEmail(record: try #require(messages.first)).subject.hasPrefix("[envmon][FIRING:1]"))
    }

    @Test func aWeComWebhookReceivesTheAlert() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await LoopbackServer.start("webhook_harness.py", in: directory.url)
        defer { server.stop() }
        let (db, _) = try await missedTarget(receiver: """
                webhook: {url: "http://127.0.0.1:\(server.port)/hook", format: wecom}
            """)
        let context = DeliveryContext(webhookTimeout: .seconds(5), log: NotificationLog { _ in }, logger: Self.logger, now: { Self.t0 })
        let round = try await deliver(db, context, at: Self.t0)
        #expect(round.delivered == 1, "\(round.errors)")
        #expect(try await outbox(db).map(\.status) == ["delivered"])
        let requests = try server.received()
        #expect(requests.count == 1)
        let record = try #require(requests.first)
        #expect(record["path"] as? String == "/hook")
        let body = try #require(JSONSerialization.jsonObject(with: Data(((record["body"] as? String) ?? "").utf8)) as? [String: Any])
        #expect(body["msgtype"] as? String == "markdown")
        let content = try #require((body["markdown"] as? [String: Any])?["content"] as? String)
        #expect(content.contains("污水集中处理率"))
        #expect(content.contains(try await summary(db)))
    }

    @Test func emailWithoutAnSMTPServerFailsVisibly() async throws {
        let (db, _) = try await missedTarget(receiver: Self.plainEmailReceiver)
        let context = DeliveryContext(
            mailFrom: MailAddress("envmon@example.org"), log: NotificationLog { _ in }, logger: Self.logger, now: { Self.t0 })
        let round = try await deliver(db, context, at: Self.t0)
        #expect(round.failed == 1)
        #expect(round.retrying == 0 && round.delivered == 0)
        #expect(round.errors.contains { $0.contains("ENVMON_SMTP_URL") })
        let row = try #require(try await outbox(db).first)
        #expect(row.status == "failed")
        #expect(row.attempts == 1)
        #expect(row.lastError?.contains("ENVMON_SMTP_URL") == true)

        let status = try await db.withDatabase { try await OutboxStore(database: $0).status() }
        #expect(status.failed == 1)
        #expect(status.pending == 0)
        let problem = try #require(status.problems.first)
        #expect(status.problems.count == 1)
        #expect(problem.status == "failed")
        #expect(problem.receiver == "duty")
        #expect(problem.lastError?.contains("ENVMON_SMTP_URL") == true)
        // A failed notification is not retried.
        #expect(try await deliver(db, context, at: Self.t0.addingTimeInterval(86_400)) == OutboxNotifier.Round())
    }
}
