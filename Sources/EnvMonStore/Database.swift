public import Logging
public import PostgresNIO
import NIOSSL
import Foundation

/// The database envmon works in: a PostgresNIO pool plus the address it came from.
///
/// ```swift
/// try await Database.withDatabase(address, logger: logger) { db in
///     try await Migrator(database: db).migrate()
/// }
/// ```
public struct Database: Sendable {
    public let client: PostgresClient
    public let address: ServerAddress
    public let logger: Logger

    public init(client: PostgresClient, address: ServerAddress, logger: Logger) {
        self.client = client
        self.address = address
        self.logger = logger
    }

    /// Checks that the server answers, then runs `body` with a running pool.
    public static func withDatabase<Result: Sendable>(
        _ address: ServerAddress, logger: Logger, maximumConnections: Int = 8,
        _ body: @Sendable (Database) async throws -> Result
    ) async throws -> Result {
        try await checkReachable(address, logger: logger)
        var configuration = try clientConfiguration(address)
        configuration.options.maximumConnections = maximumConnections
        // The pool's own chatter (e.g. a lease racing `run()` at start-up) is not the user's business.
        var background = logger
        background.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: configuration, backgroundLogger: background)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(Database(client: client, address: address, logger: logger))
        }
    }

    /// Opens and closes one connection, turning any failure into one clear line.
    public static func checkReachable(_ address: ServerAddress, logger: Logger) async throws(DatabaseUnavailable) {
        do {
            let connection = try await PostgresConnection.connect(
                configuration: try connectionConfiguration(address), id: 0, logger: logger)
            try await connection.close()
        } catch {
            throw DatabaseUnavailable(address: address, reason: describe(error))
        }
    }

    static func clientConfiguration(_ address: ServerAddress) throws -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socket = address.socketDirectory {
            configuration = .init(
                unixSocketPath: "\(socket)/.s.PGSQL.\(address.port)", username: address.user,
                password: address.password, database: address.database)
        } else {
            configuration = .init(
                host: address.host, port: address.port, username: address.user, password: address.password,
                database: address.database, tls: try clientTLS(address.sslMode))
        }
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    public static func connectionConfiguration(_ address: ServerAddress) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let socket = address.socketDirectory {
            configuration = .init(
                unixSocketPath: "\(socket)/.s.PGSQL.\(address.port)", username: address.user,
                password: address.password, database: address.database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            switch address.sslMode {
            case .disable: tls = .disable
            case .allow, .prefer: tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration(verify: false)))
            case .require: tls = .require(try NIOSSLContext(configuration: tlsConfiguration(verify: false)))
            case .verifyCA, .verifyFull: tls = .require(try NIOSSLContext(configuration: tlsConfiguration(verify: true)))
            }
            configuration = .init(
                host: address.host, port: address.port, username: address.user, password: address.password,
                database: address.database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    private static func clientTLS(_ mode: SSLMode) throws -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: return .disable
        case .allow, .prefer: return .prefer(tlsConfiguration(verify: false))
        case .require: return .require(tlsConfiguration(verify: false))
        case .verifyCA, .verifyFull: return .require(tlsConfiguration(verify: true))
        }
    }

    /// libpq semantics: `require` encrypts without checking the certificate; `verify-*` check it.
    private static func tlsConfiguration(verify: Bool) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if !verify { tls.certificateVerification = .none }
        return tls
    }

    /// The error a transaction's closure threw (postgres-nio wraps it), else the error itself.
    public static func unwrap(_ error: any Error) -> any Error {
        if let error = error as? PostgresTransactionError,
           let inner = error.closureError ?? error.beginError ?? error.commitError {
            return unwrap(inner)
        }
        return error
    }

    /// The useful part of a connection or query error, without query data.
    public static func describe(_ error: any Error) -> String {
        if error is PostgresTransactionError { return describe(unwrap(error)) }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                let detail = error.serverInfo?[.detail].map { " (\($0))" } ?? ""
                return message + detail
            }
            if let underlying = error.underlying { return describe(underlying) }
            return "\(error.code)"
        }
        if let error = error as? NIOSSLError { return "TLS: \(error)" }
        let text = "\(error)"
        if text.contains("connection reset") || text.contains("refused") { return "connection refused" }
        return text
    }
}

/// The database could not be reached: host, port and reason in one line.
public struct DatabaseUnavailable: Error, Sendable, CustomStringConvertible {
    public let address: ServerAddress
    public let reason: String
    public var description: String {
        "cannot connect to PostgreSQL at \(address.displayLocation) as \(address.user), database \(address.database): \(reason)"
    }
}
