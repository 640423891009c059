public import EmbeddedPostgres
import EnvMonAlerting
public import EnvMonStore
public import Foundation
public import Logging

/// Where envmon keeps its embedded cluster and which database settings it was given: the
/// configuration every command and the service start from.
public struct RuntimeConfiguration: Sendable {
    /// `--database-url`, when given.
    public var databaseURL: String?
    public var environment: [String: String]
    /// `$ENVMON_HOME`, default `./.envmon`.
    public var home: URL

    /// A server address given directly (tests), instead of settings to resolve.
    public var address: ServerAddress?

    public init(databaseURL: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.databaseURL = databaseURL
        self.environment = environment
        let home = environment["ENVMON_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ".envmon"
        self.home = URL(fileURLWithPath: home).standardizedFileURL
    }

    /// The database at `address`, migrated beforehand (tests, tools).
    public init(address: ServerAddress, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(databaseURL: nil, environment: environment)
        self.address = address
    }

    public func settings() throws -> DatabaseSettings {
        if let address { return .server(address) }
        return try DatabaseSettings.resolve(flag: databaseURL, environment: environment)
    }

    public func embeddedCluster(logger: Logger) throws -> EmbeddedPostgres {
        try EmbeddedPostgres(home: home, logger: logger)
    }

    /// The server address: the configured one, or the embedded cluster's (started on demand).
    public func resolveAddress(logger: Logger) throws -> (address: ServerAddress, embedded: Bool) {
        switch try settings() {
        case .server(let address):
            return (address, false)
        case .embedded:
            let info = try embeddedCluster(logger: logger).start()
            return (ServerAddress(host: info.host, port: info.port, user: info.user, password: info.password,
                                  database: info.database, sslMode: .disable), true)
        }
    }

    /// Runs `body` on the database with the schema current: the embedded cluster is migrated on
    /// demand; a configured server must have been migrated with `envmon migrate`.
    public func withDatabase<Result: Sendable>(
        logger: Logger, requireSchema: Bool = true, maximumConnections: Int = 8,
        _ body: @Sendable (Database) async throws -> Result
    ) async throws -> Result {
        let (address, embedded) = try resolveAddress(logger: logger)
        let targets = try requireSchema ? alertConfiguration().targets : TargetFile(fileName: "", targets: [])
        return try await Database.withDatabase(address, logger: logger, maximumConnections: maximumConnections) { db in
            if requireSchema { try await Schema.prepare(db, embedded: embedded, targets: targets) }
            return try await body(db)
        }
    }
}

extension RuntimeConfiguration {
    /// `--alerts-dir` / `ENVMON_ALERTS_DIR`: a deployment's own rules, routes and targets.
    public func alertConfiguration(directory: String? = nil) throws -> AlertConfiguration {
        let path = directory ?? environment["ENVMON_ALERTS_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        return try AlertConfiguration.load(directory: path.map { URL(fileURLWithPath: $0) }, environment: environment)
    }
}

/// The configured database has pending migrations.
public struct SchemaNotCurrent: Error, Sendable, CustomStringConvertible {
    public let location: String
    public var description: String {
        "the database at \(location) has pending migrations; run `envmon migrate` first"
    }
}
