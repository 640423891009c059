import Crypto
public import EnvMonDomain
import Foundation
import Logging
import PostgresNIO

/// Applies `sql/migrations/NNNN_name.sql` in order, each in its own transaction, recorded with a
/// checksum in `envmon.schema_migrations`; then (re)creates the `analytics` views of `sql/views/`
/// whenever any of them changed. A PostgreSQL advisory lock makes concurrent runs safe.
public struct Migrator: Sendable {
    /// One SQL file shipped in the binary.
    public struct Script: Sendable, Equatable {
        public var name: String
        public var sql: String
        public var checksum: String { SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined() }
    }

    /// A migration's state in the database.
    public typealias Status = MigrationStatus
    public typealias Report = MigrationReport

    /// Stable key of the advisory lock taken while migrating.
    static let lockKey: Int64 = 0x656E_766D_6F6E  // "envmon"

    public let database: Database
    public let migrations: [Script]
    public let views: [Script]

    public init(database: Database, migrations: [Script] = Migrator.bundledMigrations, views: [Script] = Migrator.bundledViews) {
        self.database = database
        self.migrations = migrations
        self.views = views
    }

    public static var bundledMigrations: [Script] { scripts(under: "migrations/") }
    public static var bundledViews: [Script] { scripts(under: "views/") }

    private static func scripts(under prefix: String) -> [Script] {
        EmbeddedResources.files
            .filter { $0.key.hasPrefix(prefix) && $0.key.hasSuffix(".sql") }
            .map { Script(name: String($0.key.dropFirst(prefix.count)), sql: $0.value) }
            .sorted { $0.name < $1.name }
    }

    /// SHA-256 over every migration and view this binary ships: two binaries with the same value
    /// build the same schema.
    public static var bundledChecksum: String {
        let joined = (bundledMigrations + bundledViews).map { "\($0.name)\n\($0.checksum)" }.joined(separator: "\n")
        return SHA256.hash(data: Data(joined.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The combined checksum of the view files, recorded as the pseudo-migration `views`.
    var viewsChecksum: String {
        let joined = views.map { "\($0.name)\n\($0.checksum)" }.joined(separator: "\n")
        return SHA256.hash(data: Data(joined.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Applies what is pending. Refuses to run when an applied migration was edited.
    @discardableResult
    public func migrate() async throws -> Report {
        let logger = database.logger
        let report = try await database.client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
            do {
                let report = try await migrateLocked(connection)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                return report
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                throw error
            }
        }
        // A migration may mark the plan's rollups stale (0013 marks everything).
        await Rollups(database: database).refreshIfStale()
        return report
    }

    /// Applied, pending and changed migrations, without changing anything.
    public func status() async throws -> [Status] {
        try await database.client.withConnection { connection in
            let applied = try await appliedMigrations(connection)
            return migrations.map { script in
                guard let record = applied[script.name] else { return Status(name: script.name, state: .pending, appliedAt: nil) }
                return Status(name: script.name, state: record.checksum == script.checksum ? .applied : .changed,
                              appliedAt: record.appliedAt)
            }
        }
    }

    /// Whether every shipped migration is applied unchanged and the views are current.
    public func isCurrent() async throws -> Bool {
        try await database.client.withConnection { connection in
            let applied = try await appliedMigrations(connection)
            return migrations.allSatisfy { applied[$0.name]?.checksum == $0.checksum }
                && applied["views"]?.checksum == viewsChecksum
        }
    }

    private func migrateLocked(_ connection: PostgresConnection) async throws -> Report {
        let logger = database.logger
        try await connection.query("CREATE SCHEMA IF NOT EXISTS envmon", logger: logger)
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS envmon.schema_migrations (
                name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        let applied = try await appliedMigrations(connection)
        for script in migrations {
            if let record = applied[script.name], record.checksum != script.checksum {
                throw MigrationError(
                    "migration \(script.name) was changed after it was applied on \(record.appliedAt.formatted(.iso8601)); "
                    + "applied checksum \(record.checksum.prefix(12)), file checksum \(script.checksum.prefix(12)). "
                    + "Put the change in a new migration instead.")
            }
        }
        var report = Report(applied: [], viewsRecreated: false)
        for script in migrations where applied[script.name] == nil {
            try await connection.withTransaction(logger: logger) { tx in
                try await run(script, on: tx)
                try await tx.query(
                    "INSERT INTO envmon.schema_migrations (name, checksum) VALUES (\(script.name), \(script.checksum))",
                    logger: logger)
            }
            logger.info("applied migration", metadata: ["envmon.migration": "\(script.name)"])
            report.applied.append(script.name)
        }
        if applied["views"]?.checksum != viewsChecksum || !report.applied.isEmpty {
            let checksum = viewsChecksum
            try await connection.withTransaction(logger: logger) { tx in
                try await tx.query("DROP SCHEMA IF EXISTS analytics CASCADE", logger: logger)
                try await tx.query("CREATE SCHEMA analytics", logger: logger)
                for script in views { try await run(script, on: tx) }
                try await tx.query("""
                    DO $$ BEGIN
                        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'envmon_analyst') THEN
                            GRANT USAGE ON SCHEMA analytics TO envmon_analyst;
                            GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO envmon_analyst;
                        END IF;
                        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'envmon_app') THEN
                            GRANT USAGE ON SCHEMA analytics TO envmon_app;
                            GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO envmon_app;
                        END IF;
                    END $$
                    """, logger: logger)
                try await tx.query("""
                    INSERT INTO envmon.schema_migrations (name, checksum) VALUES ('views', \(checksum))
                    ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()
                    """, logger: logger)
            }
            report.viewsRecreated = true
        }
        return report
    }

    private func run(_ script: Script, on connection: PostgresConnection) async throws {
        for (index, statement) in SQLScript.statements(script.sql).enumerated() {
            do {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: database.logger)
            } catch {
                throw MigrationError("\(script.name), statement \(index + 1): \(Database.describe(error))")
            }
        }
    }

    private func appliedMigrations(_ connection: PostgresConnection) async throws -> [String: (checksum: String, appliedAt: Date)] {
        let exists = try await connection.query(
            "SELECT to_regclass('envmon.schema_migrations') IS NOT NULL", logger: database.logger)
        var present = false
        for try await (flag) in exists.decode(Bool.self) { present = flag }
        guard present else { return [:] }
        var result: [String: (checksum: String, appliedAt: Date)] = [:]
        let rows = try await connection.query(
            "SELECT name, checksum, applied_at FROM envmon.schema_migrations", logger: database.logger)
        for try await (name, checksum, appliedAt) in rows.decode((String, String, Date).self) {
            result[name] = (checksum, appliedAt)
        }
        return result
    }
}

/// A migration that cannot be applied, in one line.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
