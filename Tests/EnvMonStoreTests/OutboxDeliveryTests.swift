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
@Suite(.serialized, .timeLimit(.minutes(3)))
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
        try await db.withDatabase { try await RuntimeConfiguration.seedDefaults($0, environment: [:]) }
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
        let alerts = try await db.withDatabase { try await AlertStore(database: $0).list(state: "all") }
        return try #require(alerts.first { $0.rule == "PlanTargetMissed" }?.annotations["summary"])
    }

    static func emailContext(port: Int, caPath: String) throws -> DeliveryContext {
        let smtp = try SMTPConfiguration(
            url: "smtp://\(user):\(password)@127.0.0.1:\(port)?starttls=required&ca=\(caPath)&connect_timeout=5&timeout=10")
        return DeliveryContext(
            smtp: smtp, mailFrom: MailAddress("envmon@example.org"), log: NotificationLog { _ in }, logger: logger, now: { t0 })
    }

    fileprivate static func smtpArguments(_ certificates: OutboxTestCertificates) -> [String] {
        ["--mode", "starttls", "--user", user, "--password", password,
         "--cert", certificates.certificatePath, "--key", certificates.keyPath]
    }

    @Test func emailIsRetriedWhileTheServerIsDownAndDeliveredOnceWhenItIsBack() async throws {
        let (db, _) = try await missedTarget(receiver: Self.emailReceiver)
        #expect(try await outbox(db).count == 1)
        let directory = try OutboxScratchDirectory()
        defer { directory.remove() }
        let certificates = try OutboxTestCertificates(in: directory.url)
        let port = try unusedLoopbackPort()
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

        let server = try await LoopbackHarness.start("smtp_harness.py", Self.smtpArguments(certificates), on: port, in: directory.url)
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
        let email = try OutboxReceivedEmail(record: record)
        #expect(email.subject.contains("污水集中处理率"))
        #expect(email.subject.contains("sewage_treatment_rate"))
        #expect(email.subject.hasPrefix("[envmon][FIRING:1]"))
        let summary = try await summary(db)
        #expect(summary.contains("污水集中处理率未达标"))
        #expect(email.text.contains(summary))
        #expect(OutboxReceivedEmail.decodeEncodedWords(email.header("To") ?? "").contains("王工 <wang@example.org>"))

        // Delivered is delivered: later rounds send nothing more.
        let later = try await deliver(db, context, at: Self.t0.addingTimeInterval(3600))
        #expect(later == OutboxNotifier.Round())
        #expect(try server.received().count == 1)
    }

    @Test func theResolvedNoticeIsSentByEmail() async throws {
        let (db, configuration) = try await missedTarget(receiver: Self.plainEmailReceiver)
        let directory = try OutboxScratchDirectory()
        defer { directory.remove() }
        let certificates = try OutboxTestCertificates(in: directory.url)
        let server = try await LoopbackHarness.start("smtp_harness.py", Self.smtpArguments(certificates), in: directory.url)
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
        let resolved = try OutboxReceivedEmail(record: try #require(messages.last))
        #expect(resolved.subject.hasPrefix("[envmon][RESOLVED:1]"), "\(resolved.subject)")
        #expect(resolved.subject.contains("污水集中处理率 sewage_treatment_rate"))
        #expect(resolved.text.contains("RESOLVED"))
        #expect(try OutboxReceivedEmail(record: try #require(messages.first)).subject.hasPrefix("[envmon][FIRING:1]"))
    }

    @Test func aWeComWebhookReceivesTheAlert() async throws {
        let directory = try OutboxScratchDirectory()
        defer { directory.remove() }
        let server = try await LoopbackHarness.start("webhook_harness.py", in: directory.url)
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

// MARK: - Loopback servers (the EnvMonNotifyTests harnesses; test targets cannot share code)

/// A Python harness from EnvMonNotifyTests/Fixtures under /usr/bin/python3, stopped by `stop()`.
private final class LoopbackHarness: @unchecked Sendable {
    let port: Int
    /// Where the harness writes one JSON file per message or request it received.
    let inbox: URL
    private let process: Process

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("EnvMonNotifyTests/Fixtures")

    private init(port: Int, inbox: URL, process: Process) {
        self.port = port
        self.inbox = inbox
        self.process = process
    }

    /// Starts `script` with `arguments` plus `--outdir` and waits for the port it prints; with
    /// `port`, the harness's own port choice (`free_port`) is replaced so it listens there.
    static func start(_ script: String, _ arguments: [String] = [], on port: Int? = nil, in directory: URL) async throws -> LoopbackHarness {
        let inbox = directory.appendingPathComponent("inbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        let path = fixtures.appendingPathComponent(script).path
        let argv = [path, "--outdir", inbox.path] + arguments
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        if let port {
            // Loads the harness as a module and pins the port before its main() runs.
            let code = """
                import importlib.util, sys
                spec = importlib.util.spec_from_file_location("harness", sys.argv.pop(1))
                harness = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(harness)
                harness.free_port = lambda: \(port)
                harness.main()
                """
            process.arguments = ["-c", code] + argv
        } else {
            process.arguments = argv
        }
        let stdout = Pipe()
        let errorLog = directory.appendingPathComponent("\(script)-\(UUID().uuidString).stderr")
        _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
        process.standardOutput = stdout
        // A file, not a pipe: a harness that logs a lot must never block on a full pipe.
        process.standardError = try FileHandle(forWritingTo: errorLog)
        try process.run()
        let line = await readLine(stdout.fileHandleForReading)
        guard let started = line.flatMap({ Int($0) }) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let message = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
            throw OutboxHarnessFailure(message: "\(script) did not start: \(message)")
        }
        return LoopbackHarness(port: started, inbox: inbox, process: process)
    }

    /// SIGTERM (which the harness unblocks), then SIGKILL if it is still there after five seconds.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// The JSON records written so far, oldest first.
    func received() throws -> [[String: Any]] {
        func created(_ url: URL) -> Date {
            (try? url.resourceValues(forKeys: [.creationDateKey]))?.creationDate ?? .distantPast
        }
        let files = try FileManager.default.contentsOfDirectory(at: inbox, includingPropertiesForKeys: [.creationDateKey])
            .filter { $0.pathExtension == "json" }
            .sorted { created($0) < created($1) }
        return try files.map { try #require(JSONSerialization.jsonObject(with: Data(contentsOf: $0)) as? [String: Any]) }
    }

    private static func readLine(_ handle: FileHandle) async -> String? {
        await withCheckedContinuation { continuation in
            // The blocking read stays off Swift's cooperative threads.
            DispatchQueue.global().async {
                var bytes: [UInt8] = []
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    bytes += chunk
                    if bytes.contains(UInt8(ascii: "\n")) { break }
                }
                let line = bytes.split(separator: UInt8(ascii: "\n")).first.map { String(decoding: $0, as: UTF8.self) }
                continuation.resume(returning: line?.trimmingCharacters(in: .whitespaces))
            }
        }
    }
}

private struct OutboxHarnessFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A fresh temporary directory, removed by `remove()`.
private struct OutboxScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-outbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// A private CA and a server certificate for 127.0.0.1, made with openssl for this run only.
private struct OutboxTestCertificates {
    let caPath: String
    let certificatePath: String
    let keyPath: String

    init(in directory: URL) throws {
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Self.openssl(["req", "-x509"] + ec + [
            "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2", "-subj", "/CN=envmon outbox test ca",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        try Self.openssl(["req"] + ec + ["-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: path("server.ext"), atomically: true, encoding: .utf8)
        try Self.openssl([
            "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial",
            "-out", path("server.pem"), "-days", "2", "-extfile", path("server.ext"),
        ])
        caPath = path("ca.pem")
        certificatePath = path("server.pem")
        keyPath = path("server.key")
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw OutboxHarnessFailure(message: "openssl \(arguments.first ?? "") failed: \(message)")
        }
    }
}

/// A port on 127.0.0.1 where nothing listens (bound, read and released by Python).
private func unusedLoopbackPort() throws -> Int {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = ["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    process.waitUntilExit()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return try #require(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)))
}

/// A message the SMTP harness stored, read as a mail client would: unfolded headers, RFC 2047
/// subject, base64 MIME parts decoded as UTF-8.
private struct OutboxReceivedEmail {
    var headers: [(name: String, value: String)]
    var parts: [(contentType: String, text: String)]

    init(record: [String: Any]) throws {
        let raw = try #require(Data(base64Encoded: record["content_base64"] as? String ?? ""))
        let normalised = String(decoding: raw, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let split = try #require(normalised.range(of: "\n\n"))
        let headerBlock = normalised[..<split.lowerBound].replacingOccurrences(of: "\n ", with: " ")
            .replacingOccurrences(of: "\n\t", with: " ")
        headers = headerBlock.split(separator: "\n").compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
        let body = String(normalised[split.upperBound...])
        let contentType = headers.first { $0.name.lowercased() == "content-type" }?.value ?? ""
        let boundary = try #require(contentType.components(separatedBy: "boundary=\"").dropFirst().first?.split(separator: "\"").first)
        parts = []
        for section in body.components(separatedBy: "--\(boundary)").dropFirst() where !section.hasPrefix("--") {
            let pieces = try #require(section.range(of: "\n\n"))
            let partHeaders = section[..<pieces.lowerBound].lowercased()
            let type = partHeaders.split(separator: "\n").first { $0.hasPrefix("content-type:") }.map(String.init) ?? ""
            let data = try #require(Data(base64Encoded: section[pieces.upperBound...].split(separator: "\n").joined()))
            parts.append((type, try #require(String(data: data, encoding: .utf8))))
        }
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var subject: String { Self.decodeEncodedWords(header("Subject") ?? "") }
    var text: String { parts.first { $0.contentType.contains("text/plain") }?.text ?? "" }

    /// Decodes `=?UTF-8?B?…?=` words (RFC 2047), dropping the spaces between adjacent words.
    static func decodeEncodedWords(_ value: String) -> String {
        var bytes: [UInt8] = []
        var rest = Substring(value)
        while let start = rest.range(of: "=?UTF-8?B?") {
            let between = rest[..<start.lowerBound]
            if !between.allSatisfy({ $0 == " " }) || bytes.isEmpty { bytes += Array(between.utf8) }
            guard let end = rest[start.upperBound...].range(of: "?=") else { break }
            bytes += Data(base64Encoded: String(rest[start.upperBound..<end.lowerBound])).map(Array.init) ?? Array("<bad base64>".utf8)
            rest = rest[end.upperBound...]
        }
        bytes += Array(rest.utf8)
        return String(decoding: bytes, as: UTF8.self)
    }
}
