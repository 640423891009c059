public import EnvMonDomain
import EnvMonAlerting
public import EnvMonNotify
import EnvMonStore
public import Foundation

extension Operations {
    // MARK: Alert files

    /// The rule, route and targets files in force: `directory` (`--alerts-dir`), else
    /// `ENVMON_ALERTS_DIR`, else the built-in files. Problems come back as one failure whose
    /// message lists every `file:line:column: message`.
    public func alertConfiguration(directory: String? = nil) throws -> AlertConfiguration {
        do {
            return try runtime.alertConfiguration(directory: directory)
        } catch let error as AlertFileError {
            throw OperationFailure(error.description.replacingOccurrences(of: "\n", with: "; "))
        }
    }

    /// Checks rule, route and targets files (the files in force when `paths` is empty); returns
    /// the files checked and every problem as `file:line:column: message`.
    public func checkAlertFiles(_ paths: [String], directory: String?) -> (checked: [String], problems: [String]) {
        var problems: [String] = []
        var checked: [String] = []
        if paths.isEmpty {
            do {
                _ = try runtime.alertConfiguration(directory: directory)
                checked = ["rules.yaml", "routes.yaml", "targets.yaml"]
            } catch let error as AlertFileError {
                problems += error.issues.map(\.description)
            } catch {
                problems.append("\(error)")
            }
        }
        for path in paths {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                problems.append("\(path): cannot read the file")
                continue
            }
            do {
                switch Self.alertFileKind(of: path, text: text) {
                case "routes": _ = try RouteFile.parse(text: text, fileName: path, environment: runtime.environment)
                case "targets": _ = try TargetFile.parse(text: text, fileName: path)
                default: _ = try RuleFile.parse(text: text, fileName: path)
                }
                checked.append(path)
            } catch {
                problems += error.issues.map(\.description)
            }
        }
        return (checked, problems)
    }

    static func alertFileKind(of path: String, text: String) -> String {
        let name = URL(fileURLWithPath: path).lastPathComponent
        if name.contains("route") || text.contains("receivers:") { return "routes" }
        if name.contains("target") || text.hasPrefix("targets:") || text.contains("\ntargets:") { return "targets" }
        return "rules"
    }

    /// A label matcher's problem in words, or nil when it parses (`site_id="WS1"`, `metric=~"sewage.*"`).
    public static func matcherProblem(_ text: String) -> String? {
        do {
            _ = try Matcher(parsing: text)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The seconds of a duration such as `90s`, `2h`, `3d`; nil when it is not one.
    public static func durationSeconds(_ text: String) -> Double? { AlertDuration.seconds(text) }

    /// `2h`, `3d 4h`: seconds as people read them.
    public static func durationText(_ seconds: Double) -> String { AlertDuration.text(seconds) }

    // MARK: Evaluation and alerts

    /// Evaluates the alert rules once, at `now`, and queues the notifications due.
    public func evaluate(at now: Date, configuration: AlertConfiguration) async throws -> AlertEvaluator.Summary {
        try await withDatabase { try await AlertEvaluator(database: $0, configuration: configuration).evaluate(at: now) }
    }

    /// Alerts in a phase (nil: all), newest first.
    public func alerts(state: AlertPhase?) async throws -> [AlertState] {
        try await withDatabase { try await AlertStore(database: $0).list(state: state) }
    }

    public func acknowledge(alertID: Int64, by: String, note: String?) async throws -> AlertState {
        try await withDatabase { db in
            let alert = try await AlertStore(database: db).acknowledge(alertID: alertID, by: by, note: note, at: Date())
            try await AuditLog(database: db).record(.localCommand, "alert.acknowledge", subject: "alert \(alertID)",
                                                    summary: "by \(by)" + (note.map { ": \($0)" } ?? ""))
            return alert
        }
    }

    /// An alert and every transition and action of it, oldest first.
    public func alertHistory(id: Int64) async throws -> (AlertState, [AlertEventRecord]) {
        try await withDatabase { db in
            let store = AlertStore(database: db)
            guard let alert = try await store.alert(id: id) else { throw EnvMonError.notFound("no alert with id \(id)") }
            return (alert, try await store.history(alertID: id))
        }
    }

    public func addSilence(matchers: [String], startsAt: Date, endsAt: Date, author: String, reason: String) async throws -> Int64 {
        try await withDatabase { db in
            let id = try await AlertStore(database: db).addSilence(matchers: matchers, startsAt: startsAt, endsAt: endsAt,
                                                                   author: author, reason: reason)
            try await AuditLog(database: db).record(
                .localCommand, "silence.add", subject: "silence \(id)",
                summary: "\(matchers.joined(separator: " ")) from \(startsAt.ISO8601Format()) to \(endsAt.ISO8601Format()) by \(author): \(reason)")
            return id
        }
    }

    public func silences(includeExpired: Bool) async throws -> [SilenceRecord] {
        try await withDatabase { try await AlertStore(database: $0).silences(includeExpired: includeExpired, at: Date()) }
    }

    /// Ends a silence now; false when no active silence has that id.
    public func expireSilence(id: Int64) async throws -> Bool {
        try await withDatabase { db in
            let expired = try await AlertStore(database: db).expireSilence(id: id, at: Date())
            if expired { try await AuditLog(database: db).record(.localCommand, "silence.expire", subject: "silence \(id)") }
            return expired
        }
    }

    // MARK: Notifications

    /// Delivery settings from the environment (`ENVMON_SMTP_URL`, `ENVMON_MAIL_FROM`,
    /// `ENVMON_BASE_URL`, `ENVMON_NOTIFY_LOG`); the log channel writes to stderr when stdout
    /// carries a command's JSON answer.
    public func deliveryContext(logToStandardError: Bool) throws -> DeliveryContext {
        let environment = runtime.environment
        let log: NotificationLog
        if let path = environment["ENVMON_NOTIFY_LOG"], !path.isEmpty {
            log = .file(atPath: path)
        } else if logToStandardError {
            log = NotificationLog { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
        } else {
            log = .standardOutput
        }
        do {
            return try DeliveryContext(environment: environment, log: log, logger: logger)
        } catch {
            throw OperationFailure(error.description)
        }
    }

    /// Delivers what is due (everything queued, with `ignoreGroupWait`).
    public func deliverNotifications(context: DeliveryContext, at now: Date = Date(),
                                     ignoreGroupWait: Bool) async throws -> OutboxNotifier.Round {
        try await withDatabase {
            try await OutboxNotifier(database: $0, context: context).deliverDue(now: now, ignoreGroupWait: ignoreGroupWait)
        }
    }

    /// Keeps delivering every `interval` until cancelled.
    public func deliverNotificationsForever(context: DeliveryContext, interval: Duration) async throws {
        try await withDatabase { db in
            let notifier = OutboxNotifier(database: db, context: context)
            while !Task.isCancelled {
                _ = try await notifier.deliverDue(ignoreGroupWait: false)
                try await Task.sleep(for: interval)
            }
        }
    }

    public func outboxStatus() async throws -> OutboxStatus {
        try await withDatabase { try await OutboxStore(database: $0).status() }
    }
}

/// An operation failed for a reason its message says in full (a bad file, a bad setting).
public struct OperationFailure: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
