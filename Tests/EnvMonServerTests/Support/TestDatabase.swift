import EmbeddedPostgres
@testable import EnvMonStore
import Foundation
import Logging
import PostgresNIO

/// A fresh, migrated database in this test process's embedded cluster (the same mechanism as
/// EnvMonStoreTests: cluster in `/tmp/envmon-tests-<uid>`, started under a file lock; a template
/// database named after the migrations' checksum; `CREATE DATABASE … TEMPLATE` per suite).
struct TestDatabase: Sendable {
    let address: ServerAddress
    let name: String

    static let logger: Logger = {
        var logger = Logger(label: "envmon.tests")
        logger.logLevel = .warning
        return logger
    }()

    static func make() async throws -> TestDatabase {
        let cluster = try await TestCluster.shared.address()
        let template = try await TestCluster.shared.template()
        let name = "t_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))"
        try await TestCluster.withConnection(cluster) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(template)"), logger: logger)
        }
        var address = cluster
        address.database = name
        return TestDatabase(address: address, name: name)
    }

    /// Runs `body` with a running pool on this database.
    @discardableResult
    func withDatabase<T: Sendable>(connections: Int = 12, _ body: @Sendable (Database) async throws -> T) async throws -> T {
        try await Database.withDatabase(address, logger: Self.logger, maximumConnections: connections, body)
    }

    /// The first column of the first row, as text.
    func value(_ sql: String) async throws -> String? {
        try await TestCluster.withConnection(address) { connection in
            for try await text in try await connection.query(PostgresQuery(unsafeSQL: "SELECT (\(sql))::text"), logger: Self.logger)
                .decode(String?.self) {
                return text
            }
            return nil
        }
    }

    func execute(_ sql: String) async throws {
        try await TestCluster.withConnection(address) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Self.logger)
        }
    }
}

/// The test process's one embedded cluster.
actor TestCluster {
    static let shared = TestCluster()

    private var cached: ServerAddress?
    private var templateName: String?

    static var home: URL {
        URL(fileURLWithPath: "/tmp/envmon-tests-\(getuid())")
    }

    func address() throws -> ServerAddress {
        if let cached { return cached }
        let cluster = try EmbeddedPostgres(home: Self.home, logger: TestDatabase.logger)
        let info = try cluster.start()
        let address = ServerAddress(host: info.host, port: info.port, user: info.user, password: info.password,
                                    database: info.database, sslMode: .disable)
        cached = address
        return address
    }

    /// A migrated template database named after the migrations' and views' checksums.
    func template() async throws -> String {
        if let templateName { return templateName }
        let base = try address()
        let scripts = Migrator.bundledMigrations + Migrator.bundledViews
        let name = "tpl_\(Self.checksum(scripts.map { $0.name + $0.checksum }.joined()))"
        let exists = try await Self.withConnection(base) { connection in
            var found = false
            for try await _ in try await connection.query(
                "SELECT 1 FROM pg_database WHERE datname = \(name)", logger: TestDatabase.logger).decode(Int.self) {
                found = true
            }
            return found
        }
        if !exists {
            let building = "\(name)_build_\(getpid())"
            try await Self.withConnection(base) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(building)"), logger: TestDatabase.logger)
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(building)"), logger: TestDatabase.logger)
            }
            var target = base
            target.database = building
            _ = try await Database.withDatabase(target, logger: TestDatabase.logger, maximumConnections: 2) { db in
                try await Migrator(database: db).migrate()
            }
            try await Self.withConnection(base) { connection in
                // Another test process may have won the race; either template is good.
                do {
                    try await connection.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(building) RENAME TO \(name)"),
                                               logger: TestDatabase.logger)
                } catch {
                    try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(building)"),
                                               logger: TestDatabase.logger)
                }
            }
        }
        templateName = name
        return name
    }

    @discardableResult
    static func withConnection<T: Sendable>(_ address: ServerAddress, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await PostgresConnection.connect(
            configuration: try Database.connectionConfiguration(address), id: 1, logger: TestDatabase.logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// The same FNV-1a as EnvMonStoreTests, so both test targets share one template database.
    static func checksum(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
