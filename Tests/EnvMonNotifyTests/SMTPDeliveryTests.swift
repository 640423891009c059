import EnvMonTestSupport
import EnvMonDomain
import EnvMonNotify
import Foundation
import Logging
import Testing

/// Email through a real SMTP server (aiosmtpd) on loopback, with a CA made for the run.
@Suite("SMTP delivery to a real server", .timeLimit(.minutes(10)))
struct SMTPDeliveryTests {
    static let user = "envmon"
    static let password = "s3cret:@/密码"
    static let recipients = ["ops@example.gov.cn", "环保局 <chief@example.gov.cn>"]
    let logger = Logger(label: "envmon.notify.test")

    /// Runs `body` with a started harness and its CA; always stops and cleans up.
    private func withServer(
        _ arguments: [String], _ body: (LoopbackServer, TestCertificates) async throws -> Void
    ) async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let certificates = try TestCertificates(in: directory.url)
        let tlsArguments = ["--cert", certificates.certificatePath, "--key", certificates.keyPath]
        let server = try await LoopbackServer.start("smtp_harness.py", arguments + tlsArguments, in: directory.url)
        defer { server.stop() }
        try await body(server, certificates)
    }

    private func url(_ scheme: String, _ server: LoopbackServer, _ certificates: TestCertificates, password: String = password,
                     query: String = "") -> String {
        let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password
        return "\(scheme)://\(Self.user):\(encoded)@127.0.0.1:\(server.port)?ca=\(certificates.caPath)&timeout=10\(query)"
    }

    private func context(_ url: String) throws -> DeliveryContext {
        try DeliveryContext(
            environment: [
                "ENVMON_SMTP_URL": url, "ENVMON_MAIL_FROM": "环境监测预警 <envmon@example.gov.cn>",
                "ENVMON_BASE_URL": "https://envmon.example.gov.cn",
            ],
            logger: logger)
    }

    private func message(_ to: [String] = recipients) throws -> EmailMessage {
        EmailMessage(
            alerts: SampleAlerts.group([SampleAlerts.sewageMissed]), from: try #require(MailAddress("envmon@example.gov.cn")),
            to: try to.map { try #require(MailAddress($0)) }, baseURL: nil, timeZone: SampleAlerts.shanghai)
    }

    private func onlyMessage(_ server: LoopbackServer) throws -> (record: [String: Any], email: ReceivedEmail) {
        let records = try server.received()
        #expect(records.count == 1)
        let record = try #require(records.first)
        let raw = try #require(Data(base64Encoded: record["content_base64"] as? String ?? ""))
        return (record, try ReceivedEmail(raw: String(decoding: raw, as: UTF8.self)))
    }

    @Test func startTLSAuthAndTwoRecipientsThroughTheNotifier() async throws {
        try await withServer(["--mode", "starttls", "--user", Self.user, "--password", Self.password]) { server, certificates in
            let receipt = try await Notifier().deliver(
                group: SampleAlerts.group(), channel: .email(to: Self.recipients),
                context: try context(url("smtp", server, certificates)))
            #expect(receipt.unreachedRecipients.isEmpty)

            let (record, email) = try onlyMessage(server)
            #expect(record["tls"] as? Bool == true, "the session was upgraded with STARTTLS")
            #expect(record["authenticated"] as? Bool == true)
            #expect(record["login"] as? String == Self.user)
            #expect(record["mechanism"] as? String == "PLAIN")
            #expect(record["mail_from"] as? String == "envmon@example.gov.cn")
            #expect(record["rcpt_tos"] as? [String] == ["ops@example.gov.cn", "chief@example.gov.cn"])
            #expect(email.subject == "[envmon][FIRING:1] 污水集中处理率 sewage_treatment_rate")
            #expect(email.text.contains(SampleAlerts.summary))
            #expect(email.text.contains("指标：污水集中处理率 sewage_treatment_rate"))
            #expect(email.text.contains("开始时间：2026-11-30 20:00:00 Asia/Shanghai"))
            #expect(email.html.contains("https://envmon.example.gov.cn/v1/alerts/42"))
            #expect(email.html.contains("化学需氧量日均值超标"))
            #expect(ReceivedEmail.decodeEncodedWords(email.header("To") ?? "").contains("环保局 <chief@example.gov.cn>"))
        }
    }

    @Test func authLoginWhenPlainIsNotOffered() async throws {
        try await withServer(["--mode", "starttls", "--user", Self.user, "--password", Self.password, "--exclude-auth", "PLAIN"]) {
            server, certificates in
            try await SMTPClient().send(message(), config: SMTPConfiguration(url: url("smtp", server, certificates)), logger: logger)
            let (record, email) = try onlyMessage(server)
            #expect(record["mechanism"] as? String == "LOGIN")
            #expect(email.text.contains(SampleAlerts.summary))
        }
    }

    @Test func implicitTLS() async throws {
        try await withServer(["--mode", "implicit", "--user", Self.user, "--password", Self.password]) { server, certificates in
            let report = try await SMTPClient().send(
                message(), config: SMTPConfiguration(url: url("smtps", server, certificates)), logger: logger)
            #expect(report.accepted == ["ops@example.gov.cn", "chief@example.gov.cn"])
            let (record, email) = try onlyMessage(server)
            #expect(record["tls"] as? Bool == true)
            #expect(record["authenticated"] as? Bool == true)
            #expect(email.subject.hasSuffix(SampleAlerts.summary))
        }
    }

    @Test func wrongPasswordIsPermanent() async throws {
        try await withServer(["--mode", "starttls", "--user", Self.user, "--password", Self.password]) { server, certificates in
            let config = try SMTPConfiguration(url: url("smtp", server, certificates, password: "wrong"))
            let error = await #expect(throws: NotificationError.self) {
                try await SMTPClient().send(message(), config: config, logger: logger)
            }
            #expect(error?.isRetryable == false)
            #expect(error?.reason.contains("535") == true)
            #expect(error?.reason.contains("wrong") == false, "the reason never shows the password")
            #expect(try server.received().isEmpty)
        }
    }

    @Test func certificateFromAnotherCAIsRefused() async throws {
        try await withServer(["--mode", "starttls", "--user", Self.user, "--password", Self.password]) { server, certificates in
            let config = try SMTPConfiguration(
                url: "smtp://\(Self.user):x@127.0.0.1:\(server.port)?ca=\(certificates.strangerCAPath)&timeout=10")
            let error = await #expect(throws: NotificationError.self) {
                try await SMTPClient().send(message(), config: config, logger: logger)
            }
            #expect(error?.isRetryable == false, "\(String(describing: error))")
            #expect(error?.reason.contains("TLS") == true, "\(String(describing: error))")
            #expect(try server.received().isEmpty)
        }
    }

    @Test func requiredSTARTTLSMissingIsPermanentAndSendsNoPassword() async throws {
        try await withServer(["--mode", "plain", "--user", Self.user, "--password", Self.password]) { server, certificates in
            let error = await #expect(throws: NotificationError.self) {
                try await SMTPClient().send(message(), config: SMTPConfiguration(url: url("smtp", server, certificates)), logger: logger)
            }
            #expect(error?.isRetryable == false)
            #expect(error?.reason.contains("STARTTLS") == true)
            // Opportunistic: still no credentials in clear text.
            let opportunistic = await #expect(throws: NotificationError.self) {
                try await SMTPClient().send(
                    message(), config: SMTPConfiguration(url: url("smtp", server, certificates, query: "&starttls=opportunistic")),
                    logger: logger)
            }
            #expect(opportunistic?.reason.contains("refusing to send credentials") == true)
        }
    }

    @Test func plainRelayWithoutAuthentication() async throws {
        try await withServer(["--mode", "plain"]) { server, _ in
            let config = try SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)?starttls=opportunistic&timeout=10")
            try await SMTPClient().send(message(), config: config, logger: logger)
            let (record, email) = try onlyMessage(server)
            #expect(record["tls"] as? Bool == false)
            #expect(email.text.contains(SampleAlerts.summary))
        }
    }

    @Test func someRecipientsRefused() async throws {
        try await withServer(["--mode", "plain", "--reject-some-recipients"]) { server, _ in
            let config = try SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)?starttls=never&timeout=10")
            let report = try await SMTPClient().send(message(["ops@example.gov.cn", "nobody@example.gov.cn"]), config: config, logger: logger)
            #expect(report.accepted == ["ops@example.gov.cn"])
            #expect(report.refused["nobody@example.gov.cn"]?.hasPrefix("550") == true)
            #expect(try onlyMessage(server).record["rcpt_tos"] as? [String] == ["ops@example.gov.cn"])

            let busy = await #expect(throws: NotificationError.self) {
                try await SMTPClient().send(message(["busy@example.gov.cn", "nobody@example.gov.cn"]), config: config, logger: logger)
            }
            #expect(busy?.isRetryable == true, "a 450 among the refusals means trying later may work")
            let gone = await #expect(throws: NotificationError.self) {
                try await SMTPClient().send(message(["nobody@example.gov.cn"]), config: config, logger: logger)
            }
            #expect(gone?.isRetryable == false)
        }
    }

    @Test func serverDownIsRetryable() async throws {
        let port = try closedLoopbackPort()
        let config = try SMTPConfiguration(url: "smtp://u:p@127.0.0.1:\(port)?connect_timeout=5")
        let error = await #expect(throws: NotificationError.self) {
            try await SMTPClient().send(message(), config: config, logger: logger)
        }
        #expect(error?.isRetryable == true)
    }

    @Test func silentServerTimesOutRetryably() async throws {
        try await withServer(["--mode", "silent"]) { server, _ in
            let config = try SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)?starttls=never&timeout=1")
            let started = ContinuousClock.now
            let error = await #expect(throws: NotificationError.self) {
                try await SMTPClient().send(message(), config: config, logger: logger)
            }
            #expect(error?.isRetryable == true)
            #expect(error?.reason.contains("no reply") == true)
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    @Test func missingConfigurationIsPermanent() async throws {
        let error = await #expect(throws: NotificationError.self) {
            try await Notifier().deliver(
                group: SampleAlerts.group(), channel: .email(to: ["a@example.gov.cn"]), context: DeliveryContext(logger: logger))
        }
        #expect(error?.isRetryable == false)
        #expect(error?.reason.contains("ENVMON_SMTP_URL") == true)
    }
}
