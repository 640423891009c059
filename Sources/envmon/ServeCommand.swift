import ArgumentParser
import EnvMonServer
import Foundation
import Logging

/// `envmon serve`: the HTTP API, ingest workers, inbox watcher and alert loops in one process.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API, ingest workers, inbox watcher, alert evaluator and notifier until SIGTERM/SIGINT.",
        discussion: """
            Every option can also be set by environment (the flag wins): ENVMON_HOST, ENVMON_PORT,
            ENVMON_WORKERS, ENVMON_INBOX, ENVMON_MAX_UPLOAD_BYTES, ENVMON_JOB_LEASE,
            ENVMON_SHUTDOWN_GRACE, ENVMON_TLS_CERT, ENVMON_TLS_KEY, ENVMON_MAX_CONNECTIONS,
            ENVMON_UPLOADS_PER_MINUTE, ENVMON_HJ212_LISTEN, ENVMON_HJ212_IDLE_TIMEOUT,
            ENVMON_HJ212_MAX_CONNECTIONS, ENVMON_HJ212_MAX_FRAME_BYTES, ENVMON_HJ212_COMMIT_MS, ENVMON_READ_URL,
            ENVMON_READ_MAX_LAG. Logs are JSON
            lines on stderr (level: --log-level or ENVMON_LOG_LEVEL, default info). See
            docs/operations.md; the HJ 212 listener: docs/hj212.md.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var alertFiles: AlertFilesOption
    @Option(name: .long, help: "Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface).")
    var host: String?
    @Option(name: .long, help: "Port to listen on (default 8080).")
    var port: Int?
    @Option(name: .long, help: "Ingest workers in this process (default 2; 0 to only accept uploads).")
    var workers: Int?
    @Option(name: .long, help: "Inbox folder: files dropped into DIR/<kind>/ are ingested.")
    var inbox: String?
    @Option(name: .long, help: "Largest accepted request body in bytes (default 268435456 = 256 MiB).")
    var maxUploadBytes: Int64?
    @Option(name: .long, help: "Seconds a claimed job is held without a heartbeat (default 60).")
    var jobLease: Int?
    @Option(name: .long, help: ArgumentHelp(
        "Seconds graceful shutdown may take (default 30).",
        discussion: "On SIGTERM/SIGINT the server stops taking requests and workers finish their load; what still runs after this long is cancelled and its job given back to the queue."))
    var shutdownGrace: Int?
    @Option(name: .long, help: "Open HTTP connections at most (default 1000); more wait until one closes.")
    var maxConnections: Int?
    @Option(name: .long, help: "Uploads one token may start per minute (default 120; 0: no limit); more get 429 with Retry-After.")
    var uploadsPerMinute: Int?
    @Option(name: .long, help: "Serve HTTPS with this PEM certificate chain (with --tls-key; TLS 1.2 or newer).")
    var tlsCert: String?
    @Option(name: .long, help: "The PEM private key of --tls-cert.")
    var tlsKey: String?
    @Option(name: .customLong("hj212"), help: ArgumentHelp(
        "Also listen for HJ 212-2017 data loggers on HOST:PORT (e.g. 0.0.0.0:9212).",
        discussion: "Packets of registered devices (envmon devices add) are stored and answered after commit; see docs/hj212.md.",
        valueName: "host:port"))
    var hj212: String?
    @Option(name: .customLong("hj212-idle-timeout"), help: "Seconds a logger connection may stay silent before it is closed (default 600).")
    var hj212IdleTimeout: Int?
    @Option(name: .customLong("hj212-max-connections"), help: "Open logger connections at most (default 5000); more are closed at once.")
    var hj212MaxConnections: Int?
    @Option(name: .customLong("hj212-max-frame-bytes"), help: "Bytes buffered while waiting for the end of a frame (default 16384); more closes the connection.")
    var hj212MaxFrameBytes: Int?
    @Option(name: .customLong("hj212-commit-ms"), help: "Group commit window in milliseconds (default 50).")
    var hj212CommitMs: Int?
    @Option(name: .customLong("hj212-committers"), help: "HJ 212 group commits running at once, each on its own database connection (default 2).")
    var hj212Committers: Int?
    @OptionGroup var readReplica: ReadReplicaOptions

    func validate() throws {
        _ = try serverConfiguration(environment: ProcessInfo.processInfo.environment)
    }

    /// Flags over environment over defaults.
    func serverConfiguration(environment: [String: String]) throws -> ServerConfiguration {
        func env(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func number<T: FixedWidthInteger>(_ flag: T?, _ name: String, _ range: ClosedRange<T>, _ label: String) throws -> T? {
            if let flag {
                guard range.contains(flag) else { throw ValidationError("--\(label) must be between \(range.lowerBound) and \(range.upperBound)") }
                return flag
            }
            guard let text = env(name) else { return nil }
            guard let value = T(text), range.contains(value) else {
                throw ValidationError("\(name)='\(text)' must be a whole number between \(range.lowerBound) and \(range.upperBound)")
            }
            return value
        }
        var config = ServerConfiguration()
        config.host = host ?? env("ENVMON_HOST") ?? config.host
        config.port = try number(port, "ENVMON_PORT", 0...65535, "port") ?? config.port
        config.workers = try number(workers, "ENVMON_WORKERS", 0...64, "workers") ?? config.workers
        config.maxUploadBytes = try number(maxUploadBytes, "ENVMON_MAX_UPLOAD_BYTES", 1...(1 << 40), "max-upload-bytes")
            ?? config.maxUploadBytes
        if let lease = try number(jobLease, "ENVMON_JOB_LEASE", 5...86_400, "job-lease") { config.jobLease = .seconds(lease) }
        if let grace = try number(shutdownGrace, "ENVMON_SHUTDOWN_GRACE", 1...3_600, "shutdown-grace") {
            config.shutdownGracePeriod = .seconds(grace)
        }
        config.maxConnections = try number(maxConnections, "ENVMON_MAX_CONNECTIONS", 1...100_000, "max-connections")
            ?? config.maxConnections
        config.uploadsPerMinute = try number(uploadsPerMinute, "ENVMON_UPLOADS_PER_MINUTE", 0...100_000, "uploads-per-minute")
            ?? config.uploadsPerMinute
        switch (tlsCert ?? env("ENVMON_TLS_CERT"), tlsKey ?? env("ENVMON_TLS_KEY")) {
        case (nil, nil): break
        case (let cert?, let key?):
            config.tls = TLSFiles(certificate: URL(fileURLWithPath: cert), key: URL(fileURLWithPath: key))
        default: throw ValidationError("give both --tls-cert and --tls-key (or ENVMON_TLS_CERT and ENVMON_TLS_KEY), or neither")
        }
        if let listen = hj212 ?? env("ENVMON_HJ212_LISTEN") {
            guard var hj = HJ212Configuration(listen: listen) else {
                throw ValidationError("--hj212 (or ENVMON_HJ212_LISTEN) must be HOST:PORT, e.g. 0.0.0.0:9212 (got '\(listen)')")
            }
            if let seconds = try number(hj212IdleTimeout, "ENVMON_HJ212_IDLE_TIMEOUT", 1...86_400, "hj212-idle-timeout") {
                hj.idleTimeout = .seconds(seconds)
            }
            hj.maxConnections = try number(hj212MaxConnections, "ENVMON_HJ212_MAX_CONNECTIONS", 1...100_000, "hj212-max-connections")
                ?? hj.maxConnections
            hj.maxFrameBytes = try number(hj212MaxFrameBytes, "ENVMON_HJ212_MAX_FRAME_BYTES", 64...1_048_576, "hj212-max-frame-bytes")
                ?? hj.maxFrameBytes
            if let ms = try number(hj212CommitMs, "ENVMON_HJ212_COMMIT_MS", 1...10_000, "hj212-commit-ms") {
                hj.commitInterval = .milliseconds(ms)
            }
            hj.committers = try number(hj212Committers, "ENVMON_HJ212_COMMITTERS", 1...16, "hj212-committers") ?? hj.committers
            config.hj212 = hj
        }
        config.readReplica = try readReplica.settings(environment: environment)
        if let inbox = inbox ?? env("ENVMON_INBOX") {
            config.inbox = URL(fileURLWithPath: inbox).standardizedFileURL
            if config.workers == 0 { throw ValidationError("an inbox needs at least one worker (--workers 1 or more)") }
        }
        return config
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        LogSetup.bootstrapOnce(level: global.logLevel ?? environment["ENVMON_LOG_LEVEL"] ?? "info", json: true)
        let config = try serverConfiguration(environment: environment)
        let operations = global.operations
        let metrics = ServiceMetrics()
        metrics.bootstrapSystem()
        operations.logger.notice("envmon serve starting", metadata: [
            "envmon.http": "\(config.tls == nil ? "http" : "https")://\(config.host):\(config.port)", "envmon.workers": "\(config.workers)",
            "envmon.inbox": "\(config.inbox?.path ?? "-")",
            "envmon.hj212": "\(config.hj212.map { "\($0.host):\($0.port)" } ?? "-")",
            "envmon.read_replica": "\(config.readReplica?.displayName ?? "-")",
        ])
        try await operations.serve(config, alertsDirectory: alertFiles.alertsDir, metrics: metrics)
    }
}
