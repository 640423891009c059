import ArgumentParser
import EnvMonServer
import Foundation
import Logging

/// Options every command that touches the database shares.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "PostgreSQL URL (postgres://user:pass@host:port/db?sslmode=…); overrides DATABASE_URL and PG* variables.",
        valueName: "url"))
    var databaseURL: String?

    @Flag(name: .long, help: "Print one JSON object on stdout instead of text.")
    var json = false

    @Option(name: .long, help: "Log level on stderr: trace, debug, info, notice, warning, error (default warning; ENVMON_LOG_LEVEL).")
    var logLevel: String?

    var runtime: RuntimeConfiguration { RuntimeConfiguration(databaseURL: databaseURL) }

    var logger: Logger {
        LogSetup.bootstrapOnce(level: logLevel)
        return Logger(label: "envmon")
    }

    /// What the command asks of envmon.
    var operations: Operations { Operations(runtime: runtime, logger: logger) }
}

/// Bootstraps swift-log once per process.
enum LogSetup {
    nonisolated(unsafe) private static var done = false
    private static let lock = NSLock()

    static func bootstrapOnce(level: String?, json: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        guard !done else { return }
        done = true
        let name = level ?? ProcessInfo.processInfo.environment["ENVMON_LOG_LEVEL"] ?? "warning"
        let parsed = Logger.Level(rawValue: name.lowercased()) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        }
    }
}

/// Structured JSON log lines on stderr (used by `envmon serve`).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: String] = [
            "ts": Timestamps.iso8601(Date()), "level": event.level.rawValue, "msg": "\(event.message)",
            "logger": label,
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = "\(value)"
        }
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            Output.write(data + Data("\n".utf8), to: STDERR_FILENO)
        }
    }
}

/// `--alerts-dir`: where a deployment keeps its own rules.yaml, routes.yaml and targets.yaml.
struct AlertFilesOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Folder with rules.yaml, routes.yaml, targets.yaml (default: ENVMON_ALERTS_DIR, else the built-in files).",
        valueName: "dir"))
    var alertsDir: String?
}

/// `--read-url`, `--read-max-lag`: a streaming standby for reads (`serve`, `report`).
struct ReadReplicaOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A PostgreSQL streaming standby of the database (postgres://…; ENVMON_READ_URL) for reads: the console's and the API's GETs, reports.",
        discussion: "Writes, ingest, alert evaluation, notifications and sign-ins stay on the primary. The standby is used while it answers, is in recovery and lags at most --read-max-lag; otherwise reads go to the primary and /readyz says why (read_replica). See docs/operations.md.",
        valueName: "url"))
    var readURL: String?

    @Option(name: .long, help: ArgumentHelp(
        "Seconds the standby may lag behind the primary and still serve reads (default 30; ENVMON_READ_MAX_LAG).",
        valueName: "seconds"))
    var readMaxLag: Double?

    /// Flags over environment; nil when no standby is given.
    func settings(environment: [String: String]) throws -> ReadReplicaSettings? {
        do {
            return try ReadReplicaSettings.resolve(url: readURL, maxLagSeconds: readMaxLag, environment: environment)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
