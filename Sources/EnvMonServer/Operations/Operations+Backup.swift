import EmbeddedPostgres
import EnvMonStore
import Foundation

/// What `envmon db backup` wrote or `envmon db restore` read.
public struct BackupReport: Sendable, Encodable {
    public var file: String
    public var bytes: Int64
    public var database: String
    /// Uploads in the database after the operation.
    public var uploads: Int64
}

extension Operations {
    // MARK: Backup and restore

    /// Writes a consistent dump of the database (pg_dump's custom format: one snapshot, so a
    /// load running meanwhile is in it wholly or not at all) to `path`, readable by its owner
    /// only. The file appears under its name only when complete.
    public func backup(to path: String) async throws -> BackupReport {
        let (address, uploads) = try await withDatabase { db in
            (db.address, try await Self.uploadCount(db))
        }
        let target = URL(fileURLWithPath: path).standardizedFileURL
        if FileManager.default.fileExists(atPath: target.path) {
            throw OperationFailure("\(target.path) exists; choose a new file name (a backup never overwrites one)")
        }
        let partial = target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).partial")
        guard FileManager.default.createFile(atPath: partial.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw OperationFailure("cannot write in \(target.deletingLastPathComponent().path)")
        }
        defer { try? FileManager.default.removeItem(at: partial) }
        let result = try await Shell.run(try Self.postgresTool("pg_dump"),
                                   ["--format=custom", "--compress=6", "--no-password", "--file", partial.path]
                                       + Self.connectionArguments(address),
                                   environment: Self.connectionEnvironment(address), unsetting: EmbeddedPostgres.libpqVariables)
        guard result.status == 0 else {
            throw OperationFailure("pg_dump failed: \(Self.lastLine(result.stderr))")
        }
        do {
            try FileManager.default.moveItem(at: partial, to: target)
        } catch {
            throw OperationFailure("cannot name the backup \(target.path): \(FileErrors.describe(error))")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: target.path)[.size] as? NSNumber)?.int64Value ?? 0
        return BackupReport(file: target.path, bytes: size, database: address.database, uploads: uploads)
    }

    /// Restores a backup of `envmon db backup` into the configured database, which must hold
    /// no envmon schema yet (a new ENVMON_HOME, or a new empty database). All or nothing: the
    /// restore is one transaction. Then pending migrations are applied, so an older backup
    /// comes up current.
    public func restore(from path: String) async throws -> BackupReport {
        let source = URL(fileURLWithPath: path).standardizedFileURL
        guard FileManager.default.isReadableFile(atPath: source.path) else {
            throw OperationFailure("cannot read \(source.path)")
        }
        let address = try await withDatabase(requireSchema: false) { db in
            let checks = BackupChecks(database: db)
            if try await checks.hasSchema() {
                throw OperationFailure("the database \(db.address.database) on \(db.address.host):\(db.address.port) already has an envmon schema; "
                                       + "restore into an empty one (a new ENVMON_HOME, or createdb and --database-url)")
            }
            try await checks.ensureGroupRoles()
            return db.address
        }
        let result = try await Shell.run(try Self.postgresTool("pg_restore"),
                                   ["--no-owner", "--single-transaction", "--exit-on-error", "--no-password",
                                    "--dbname", address.database] + Self.connectionArguments(address) + [source.path],
                                   environment: Self.connectionEnvironment(address), unsetting: EmbeddedPostgres.libpqVariables)
        guard result.status == 0 else {
            throw OperationFailure("pg_restore of \(source.path) failed, nothing was restored: \(Self.lastLine(result.stderr))")
        }
        let uploads = try await withDatabase(requireSchema: false) { db in
            _ = try await Migrator(database: db).migrate()
            return try await Self.uploadCount(db)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: source.path)[.size] as? NSNumber)?.int64Value ?? 0
        return BackupReport(file: source.path, bytes: size, database: address.database, uploads: uploads)
    }

    static func uploadCount(_ db: Database) async throws -> Int64 {
        try await BackupChecks(database: db).uploadCount()
    }

    /// A PostgreSQL client tool: from the server binaries envmon uses, else from PATH.
    static func postgresTool(_ name: String) throws -> String {
        if let directory = try? EmbeddedPostgres.findBinaries() {
            let candidate = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw OperationFailure("\(name) not found; install the PostgreSQL client tools (apt-get install -y postgresql-client)")
    }

    static func connectionArguments(_ address: ServerAddress) -> [String] {
        ["--host", address.socketDirectory ?? address.host, "--port", "\(address.port)", "--username", address.user]
    }

    /// The password goes by environment, never on a command line others can read.
    static func connectionEnvironment(_ address: ServerAddress) -> [String: String] {
        var environment = ["PGSSLMODE": address.sslMode.rawValue, "PGDATABASE": address.database, "PGCONNECT_TIMEOUT": "10"]
        if let password = address.password { environment["PGPASSWORD"] = password }
        return environment
    }

    static func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "(no message)"
    }
}
