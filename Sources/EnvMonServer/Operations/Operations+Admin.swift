public import EnvMonDomain
import EnvMonAlerting
public import EnvMonNotify
import EmbeddedPostgres
import EnvMonStore
public import Foundation

extension Operations {
    // MARK: Plan

    /// Validates a targets file and replaces every plan target with its targets.
    public func loadTargets(from path: String) async throws -> [PlanTarget] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw OperationFailure("cannot read \(path): \(FileErrors.describe(error))")
        }
        let parsed: TargetFile
        do { parsed = try TargetFile.parse(text: text, fileName: path) } catch {
            throw OperationFailure(error.description)
        }
        let targets = parsed.targets
        try await withDatabase { db in
            try await PlanStore(database: db).replaceTargets(targets)
            try await AuditLog(database: db).record(
                .localCommand, "target.replace", subject: "plan targets",
                summary: "\(targets.count) targets from \(URL(fileURLWithPath: path).lastPathComponent): "
                    + targets.map { "\($0.metric)@\($0.scope) \($0.comparator.rawValue) \($0.value)" }.joined(separator: ", "))
        }
        return targets
    }

    public func targets() async throws -> [PlanTarget] {
        try await withDatabase { try await PlanStore(database: $0).targets() }
    }

    /// Plan progress: each target against its latest period, or against `period` (YYYY or YYYY-MM).
    /// With `replica`, read from that standby when it is fit (`envmon report --read-url`), else
    /// from the primary.
    public func planProgress(period: String?, replica: ReadReplicaSettings? = nil) async throws -> [PlanProgressRow] {
        let logger = self.logger
        return try await withDatabase { primary in
            let read: @Sendable (Database) async throws -> [PlanProgressRow] = { db in
                let store = PlanStore(database: db)
                if let period { return try await store.progress(period: period) }
                return try await store.progress()
            }
            guard let replica else { return try await read(primary) }
            return try await replica.read(primary: primary, logger: logger, read)
        }
    }

    /// Retires a site (no missing-data alerts) or brings it back; returns how many matched.
    public func retireSite(id: String, kind: String?, reason: String?, retire: Bool) async throws -> Int {
        try await withDatabase {
            try await PlanStore(database: $0).retireSite(kind: kind, id: id, reason: retire ? reason : nil, retire: retire)
        }
    }

    // MARK: Schema

    /// Applies pending migrations, re-creates changed views, seeds default targets when empty.
    public func migrate() async throws -> MigrationReport {
        let targets = try alertConfiguration().targets
        return try await withDatabase(requireSchema: false) { db in
            let report = try await Migrator(database: db).migrate()
            try await PlanStore(database: db).seedTargetsIfEmpty(targets.targets)
            return report
        }
    }

    public func migrationStatus() async throws -> [MigrationStatus] {
        try await withDatabase(requireSchema: false) { try await Migrator(database: $0).status() }
    }

    // MARK: Access

    /// Creates (or resets) a read-only analyst login; returns its connection URL with the
    /// generated password (shown once).
    public func createAnalyst(name: String, limits: AnalystLimits = AnalystLimits()) async throws -> String {
        let (password, address) = try await withDatabase { db in
            let password = try await AnalystAccess(database: db).create(name: name, limits: limits)
            try await AuditLog(database: db).record(.localCommand, "analyst.create", subject: "analyst \(name)",
                                                    summary: "created or password reset")
            return (password, db.address)
        }
        return ConnectionInfo(host: address.host, port: address.port, socketDirectory: nil, user: name,
                              password: password, database: address.database).url
    }

    public func createToken(name: String, scope: TokenScope) async throws -> NewAPIToken {
        try await withDatabase { db in
            let created = try await TokenStore(database: db).create(name: name, scope: scope)
            try await AuditLog(database: db).record(.localCommand, "token.create", subject: "token \(created.token.id)",
                                                    summary: "\(name) (\(scope.rawValue))")
            return created
        }
    }

    public func tokens() async throws -> [APIToken] {
        try await withDatabase { try await TokenStore(database: $0).list() }
    }

    /// Revokes a token by id, or every token of a name.
    public func revokeTokens(_ reference: String) async throws -> [APIToken] {
        try await withDatabase { db in
            let revoked = try await TokenStore(database: db).revoke(reference)
            for token in revoked {
                try await AuditLog(database: db).record(.localCommand, "token.revoke", subject: "token \(token.id)",
                                                        summary: "\(token.name) (\(token.scope.rawValue))")
            }
            return revoked
        }
    }

    // MARK: The embedded cluster

    /// Creates (when needed) and starts the embedded cluster.
    public func startCluster() throws -> ClusterReport {
        let cluster = try runtime.embeddedCluster(logger: logger)
        let info = try cluster.start()
        return ClusterReport(cluster: cluster, status: "running", port: info.port)
    }

    public func stopCluster() throws -> ClusterReport {
        let cluster = try runtime.embeddedCluster(logger: logger)
        try cluster.stop()
        return ClusterReport(cluster: cluster, status: "stopped", port: nil)
    }

    public func clusterStatus() throws -> ClusterReport {
        let cluster = try runtime.embeddedCluster(logger: logger)
        switch cluster.status() {
        case .notInitialized: return ClusterReport(cluster: cluster, status: "not_initialized", port: nil)
        case .stopped: return ClusterReport(cluster: cluster, status: "stopped", port: nil)
        case .running(let port): return ClusterReport(cluster: cluster, status: "running", port: port)
        }
    }

    /// The database URL: the configured one, or the embedded cluster's (started on demand).
    public func databaseURL() throws -> String {
        let (address, _) = try runtime.resolveAddress(logger: logger)
        return ConnectionInfo(host: address.host, port: address.port, socketDirectory: address.socketDirectory,
                              user: address.user, password: address.password ?? "", database: address.database).url
            + (address.sslMode == .prefer ? "" : "?sslmode=\(address.sslMode.rawValue)")
    }

    /// The machine's `psql`: from the PostgreSQL binaries envmon uses, else the PATH's.
    public static func psqlPath() -> String {
        (try? EmbeddedPostgres.findBinaries()).map { $0.appendingPathComponent("psql").path } ?? "psql"
    }
}

/// The embedded cluster as `envmon db start|stop|status` reports it.
public struct ClusterReport: Sendable, Encodable {
    public var status: String
    public var port: Int?
    public var dataDirectory: String
    public var socketDirectory: String
    /// Why the cluster lives outside $ENVMON_HOME, when it does.
    public var relocated: String?

    init(cluster: EmbeddedPostgres, status: String, port: Int?) {
        self.status = status
        self.port = port
        self.dataDirectory = cluster.layout.dataDirectory.path
        self.socketDirectory = cluster.layout.socketDirectory.path
        self.relocated = cluster.layout.relocatedReason
    }
}

extension Operations {
    // MARK: The service and the demo

    /// Runs `envmon serve` until SIGTERM/SIGINT: the application of `buildApplication` with
    /// this process's settings, shut down gracefully within `server.shutdownGracePeriod`.
    public func serve(_ server: ServerConfiguration, alertsDirectory: String?, metrics: ServiceMetrics) async throws {
        let configuration = AppConfiguration(
            runtime: runtime, server: server, alerts: try alertConfiguration(directory: alertsDirectory),
            delivery: try deliveryContext(logToStandardError: true), metrics: metrics)
        let app = try buildApplication(configuration, logger: logger)
        try await EnvMonServer.serve(app, listening: "\(server.host):\(server.port)", gracePeriod: server.shutdownGracePeriod, logger: logger)
    }

    /// The main job end to end on the configured database: ingest every sample feed of
    /// `feeds`, evaluate, deliver the notifications (ignoring group waits), report.
    /// The demo on `feeds`, or (nil) on the generated district of `DemoDistrict`, written under
    /// `ENVMON_HOME/demo` for the feed time zone's date of `now`.
    public func demo(
        feeds given: URL?, at now: Date, alerts: AlertConfiguration, delivery: DeliveryContext,
        onUpload: @escaping @Sendable (IngestReport) -> Void
    ) async throws -> (Demo.Result, OutboxNotifier.Round) {
        try await withDatabase { db in
            let feeds: URL
            if let given {
                feeds = given
            } else {
                let today = DemoDistrict.localDate(now, zone: try await FeedZone.read(db))
                feeds = runtime.home.appendingPathComponent("demo/district-\(today)")
                try DemoDistrict(today: today).write(to: feeds)
            }
            let result = try await Demo(database: db, configuration: alerts).run(
                feeds: feeds, uploader: "demo", year: nil, at: now, onUpload: onUpload)
            let round = try await OutboxNotifier(database: db, context: delivery).deliverDue(now: now, ignoreGroupWait: true)
            return (result, round)
        }
    }
}

extension Operations {
    /// Starts the embedded cluster when it is the database in use (no URL or PG* settings);
    /// nil when a server is configured.
    public func embeddedClusterIfDefault() throws -> ClusterReport? {
        guard case .embedded = try runtime.settings() else { return nil }
        return try startCluster()
    }
}
