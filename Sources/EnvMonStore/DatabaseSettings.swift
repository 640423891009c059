import Foundation

/// Where the database is: a server named by URL or libpq variables, or the embedded cluster.
///
/// Precedence: `--database-url`, then `DATABASE_URL`, then libpq's `PG*` variables (PGHOST,
/// PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE); when none is set, the embedded cluster.
public enum DatabaseSettings: Sendable, Equatable {
    case server(ServerAddress)
    case embedded

    public static func resolve(flag: String?, environment: [String: String]) throws(DatabaseSettingsError) -> DatabaseSettings {
        if let flag, !flag.isEmpty { return .server(try ServerAddress(url: flag, source: "--database-url")) }
        if let url = environment["DATABASE_URL"], !url.isEmpty {
            return .server(try ServerAddress(url: url, source: "DATABASE_URL"))
        }
        let libpq = ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGSSLMODE"]
        if libpq.contains(where: { environment[$0].map { !$0.isEmpty } ?? false }) {
            return .server(try ServerAddress(libpqEnvironment: environment))
        }
        return .embedded
    }
}

/// libpq's sslmode values.
public enum SSLMode: String, Sendable, Equatable, CaseIterable {
    case disable, allow, prefer, require
    case verifyCA = "verify-ca"
    case verifyFull = "verify-full"
}

/// A PostgreSQL server to connect to.
public struct ServerAddress: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// A unix socket folder (libpq: a host starting with `/`).
    public var socketDirectory: String?
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode

    public init(host: String, port: Int = 5432, socketDirectory: String? = nil, user: String,
                password: String?, database: String, sslMode: SSLMode = .prefer) {
        self.host = host
        self.port = port
        self.socketDirectory = socketDirectory
        self.user = user
        self.password = password
        self.database = database
        self.sslMode = sslMode
    }

    /// Parses `postgres://user:password@host:port/database?sslmode=require` (also
    /// `postgresql://`; `?host=/run/postgresql` for a unix socket folder).
    public init(url text: String, source: String = "URL") throws(DatabaseSettingsError) {
        guard let components = URLComponents(string: text) else {
            throw .init("\(source) is not a valid URL: \(Self.redacted(text))")
        }
        guard let scheme = components.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw .init("\(source) must start with postgres:// or postgresql:// (got \(Self.redacted(text)))")
        }
        var query: [String: String] = [:]
        for item in components.queryItems ?? [] { query[item.name] = item.value ?? "" }
        let sslMode: SSLMode
        if let raw = query["sslmode"] {
            guard let mode = SSLMode(rawValue: raw) else {
                throw .init("\(source): unknown sslmode '\(raw)' (use one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            sslMode = mode
        } else {
            sslMode = .prefer
        }
        var port = 5432
        if let explicit = components.port {
            guard (1...65535).contains(explicit) else { throw .init("\(source): port \(explicit) is out of range") }
            port = explicit
        }
        let socket = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
        let host = components.percentEncodedHost.flatMap { $0.removingPercentEncoding } ?? ""
        guard !host.isEmpty || socket != nil else { throw .init("\(source) names no host: \(Self.redacted(text))") }
        let user = components.percentEncodedUser?.removingPercentEncoding ?? Self.currentUser
        let database = String(components.path.drop(while: { $0 == "/" })).removingPercentEncoding ?? ""
        self.init(
            host: host.isEmpty ? "localhost" : host, port: port, socketDirectory: socket,
            user: user.isEmpty ? Self.currentUser : user,
            password: components.percentEncodedPassword?.removingPercentEncoding,
            database: database.isEmpty ? (user.isEmpty ? Self.currentUser : user) : database, sslMode: sslMode)
    }

    /// libpq's variables, with libpq's defaults (socket in /var/run/postgresql, the OS user).
    public init(libpqEnvironment env: [String: String]) throws(DatabaseSettingsError) {
        let rawHost = env["PGHOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/run/postgresql"
        var port = 5432
        if let raw = env["PGPORT"], !raw.isEmpty {
            guard let value = Int(raw), (1...65535).contains(value) else { throw .init("PGPORT '\(raw)' is not a port number") }
            port = value
        }
        var sslMode = SSLMode.prefer
        if let raw = env["PGSSLMODE"], !raw.isEmpty {
            guard let mode = SSLMode(rawValue: raw) else { throw .init("PGSSLMODE: unknown sslmode '\(raw)'") }
            sslMode = mode
        }
        let user = env["PGUSER"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.currentUser
        self.init(
            host: rawHost.hasPrefix("/") ? "localhost" : rawHost, port: port,
            socketDirectory: rawHost.hasPrefix("/") ? rawHost : nil, user: user,
            password: env["PGPASSWORD"], database: env["PGDATABASE"].flatMap { $0.isEmpty ? nil : $0 } ?? user,
            sslMode: sslMode)
    }

    /// Where, for messages: `host:port` or the socket path.
    public var displayLocation: String {
        if let socketDirectory { return "\(socketDirectory)/.s.PGSQL.\(port)" }
        return "\(host):\(port)"
    }

    static var currentUser: String { ProcessInfo.processInfo.environment["USER"] ?? NSUserName() }

    /// The URL with its password hidden.
    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }
}

/// A bad database setting, in one line.
public struct DatabaseSettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
