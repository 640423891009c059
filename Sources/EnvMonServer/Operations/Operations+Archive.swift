import EmbeddedPostgres
import EnvMonDomain
import EnvMonStore
import Foundation
import PostgresNIO

/// What `envmon db archive` moved out or `envmon db restore-archive` brought back.
public struct ArchiveReport: Sendable, Encodable {
    public var file: String
    public var sha256: String
    public var bytes: Int64
    /// The first month kept (`YYYY-MM`).
    public var before: String
    /// The month partitions moved, e.g. `emission_reading_202501`.
    public var months: [String]
    public var readings: Int64
    public var historyRows: Int64
    /// Uploads whose raw bytes moved.
    public var uploads: [Int64]
    public var chunkBytes: Int64
}

extension Operations {
    // MARK: Retention

    /// Moves the readings of every month before `before` (`YYYY-MM`, UTC months as the
    /// partitions are cut), their superseded values, and the raw bytes of the uploads received
    /// before it into a new dump file at `path` (pg_dump custom format), then removes them from
    /// the database. The daily aggregates stay, so every view's history is unchanged. The rows
    /// are counted under lock before they are dropped: data that changed while the dump was
    /// written stops the archive, with nothing removed.
    public func archive(before month: String, to path: String) async throws -> ArchiveReport {
        guard let cutoff = CivilDate(month + "-01"), month.count == 7 else {
            throw OperationFailure("--before '\(month)' must be a month, YYYY-MM")
        }
        let suffix = String(format: "%04d%02d", cutoff.year, cutoff.month)
        let target = URL(fileURLWithPath: path).standardizedFileURL
        if FileManager.default.fileExists(atPath: target.path) {
            throw OperationFailure("\(target.path) exists; choose a new file name (an archive never overwrites one)")
        }
        // 1. What goes, copied where pg_dump can take it (staging tables in schema envmon).
        let (address, plan) = try await withDatabase { db -> (ServerAddress, ArchivePlan) in
            let plan = try await ArchivePlan.make(db, cutoff: cutoff, suffix: suffix)
            return (db.address, plan)
        }
        guard !plan.months.isEmpty || !plan.uploads.isEmpty || plan.historyRows > 0 else {
            throw OperationFailure("nothing before \(month) to archive: no month partitions, old history or old uploads' bytes")
        }
        // 2. The dump, under its name only when complete.
        let partial = target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).partial")
        guard FileManager.default.createFile(atPath: partial.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw OperationFailure("cannot write in \(target.deletingLastPathComponent().path)")
        }
        defer { try? FileManager.default.removeItem(at: partial) }
        let tables = ["envmon.archive_reading", "envmon.archive_chunk", "envmon.archive_history"]
        let dumped = try await Shell.run(try Self.postgresTool("pg_dump"),
                                         ["--format=custom", "--compress=6", "--no-password", "--no-owner", "--file", partial.path]
                                             + tables.flatMap { ["--table", $0] } + Self.connectionArguments(address),
                                         environment: Self.connectionEnvironment(address), unsetting: EmbeddedPostgres.libpqVariables)
        guard dumped.status == 0 else {
            try? await withDatabase { try await ArchivePlan.dropStaging($0) }
            throw OperationFailure("pg_dump failed, nothing was removed: \(Self.lastLine(dumped.stderr))")
        }
        let sha256 = try SurveyedFile.survey(partial).sha256
        do {
            try FileManager.default.moveItem(at: partial, to: target)
        } catch {
            throw OperationFailure("cannot name the archive \(target.path): \(FileErrors.describe(error))")
        }
        // 3. Out of the database, after checking nothing changed since the copy.
        try await withDatabase { db in
            try await plan.remove(db, file: target.path, sha256: sha256, cutoff: cutoff)
            try await AuditLog(database: db).record(
                .localCommand, "data.archive", subject: "before \(month)",
                summary: "\(plan.months.count) months, \(plan.readings) readings, \(plan.historyRows) history rows, "
                    + "raw bytes of \(plan.uploads.count) uploads to \(target.path) (sha256 \(sha256))")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: target.path)[.size] as? NSNumber)?.int64Value ?? 0
        return ArchiveReport(file: target.path, sha256: sha256, bytes: size, before: month, months: plan.months,
                             readings: plan.readings, historyRows: plan.historyRows, uploads: plan.uploads, chunkBytes: plan.chunkBytes)
    }

    /// Brings an archive of `envmon db archive` back: its month partitions attached again, the
    /// history and the uploads' bytes where they were. All or nothing; an archive is restored
    /// once, and only into the database it came from.
    public func restoreArchive(from path: String) async throws -> ArchiveReport {
        let source = URL(fileURLWithPath: path).standardizedFileURL
        guard FileManager.default.isReadableFile(atPath: source.path) else { throw OperationFailure("cannot read \(source.path)") }
        let sha256 = try SurveyedFile.survey(source).sha256
        let (address, record) = try await withDatabase { db -> (ServerAddress, ArchiveRecord) in
            guard let record = try await ArchiveRecord.open(db, sha256: sha256) else {
                throw OperationFailure("\(source.path) is not an archive of this database that is still out "
                                       + "(envmon db archive records each one; a restored archive is not restored twice)")
            }
            try await ArchivePlan.dropStaging(db)
            return (db.address, record)
        }
        let restored = try await Shell.run(try Self.postgresTool("pg_restore"),
                                           ["--no-owner", "--single-transaction", "--exit-on-error", "--no-password",
                                            "--dbname", address.database] + Self.connectionArguments(address) + [source.path],
                                           environment: Self.connectionEnvironment(address), unsetting: EmbeddedPostgres.libpqVariables)
        guard restored.status == 0 else {
            throw OperationFailure("pg_restore of \(source.path) failed, nothing was restored: \(Self.lastLine(restored.stderr))")
        }
        try await withDatabase { db in
            try await record.putBack(db)
            try await AuditLog(database: db).record(
                .localCommand, "data.restore_archive", subject: "archive \(record.id)",
                summary: "\(record.months.count) months, \(record.readings) readings, raw bytes of \(record.uploads.count) uploads from \(source.path)")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: source.path)[.size] as? NSNumber)?.int64Value ?? 0
        return ArchiveReport(file: source.path, sha256: sha256, bytes: size, before: record.before, months: record.months,
                             readings: record.readings, historyRows: record.historyRows, uploads: record.uploads,
                             chunkBytes: record.chunkBytes)
    }
}

/// What an archive takes: counted, and copied into staging tables for pg_dump.
struct ArchivePlan: Sendable {
    var months: [String]
    var readings: Int64
    var historyRows: Int64
    var uploads: [Int64]
    var chunks: Int64
    var chunkBytes: Int64

    static func make(_ db: Database, cutoff: CivilDate, suffix: String) async throws -> ArchivePlan {
        let logger = db.logger
        return try await db.client.withTransaction(logger: logger) { tx in
            try await tx.query("DROP TABLE IF EXISTS envmon.archive_reading, envmon.archive_chunk, envmon.archive_history", logger: logger)
            var months: [String] = []
            for try await name in try await tx.query("""
                SELECT c.relname::text FROM pg_inherits i
                JOIN pg_class c ON c.oid = i.inhrelid
                JOIN pg_class p ON p.oid = i.inhparent
                JOIN pg_namespace n ON n.oid = p.relnamespace
                WHERE n.nspname = 'envmon' AND p.relname = 'emission_reading'
                  AND c.relname ~ '^emission_reading_[0-9]{6}$' AND substring(c.relname FROM 18) < \(suffix)
                ORDER BY 1
                """, logger: logger).decode(String.self) {
                months.append(name)
            }
            var readings: Int64 = 0
            for month in months {
                for try await count in try await tx.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM envmon.\(month)"), logger: logger)
                    .decode(Int64.self) { readings += count }
            }
            let start = cutoff.description
            // The month partitions' rows in the parent's column order; restored through the parent.
            try await tx.query("""
                CREATE TABLE envmon.archive_reading AS
                SELECT * FROM envmon.emission_reading
                WHERE tableoid IN (SELECT ('envmon.' || m)::regclass FROM unnest(\(months)::text[]) m)
                """, logger: logger)
            try await tx.query("""
                CREATE TABLE envmon.archive_history AS
                SELECT * FROM envmon.emission_reading_history WHERE measured_at < \(start)::timestamp AT TIME ZONE 'UTC'
                """, logger: logger)
            try await tx.query("""
                CREATE TABLE envmon.archive_chunk AS
                SELECT c.* FROM envmon.upload_chunk c JOIN envmon.upload u ON u.id = c.upload_id
                WHERE u.received_at < \(start)::timestamp AT TIME ZONE 'UTC'
                """, logger: logger)
            var plan = ArchivePlan(months: months, readings: readings, historyRows: 0, uploads: [], chunks: 0, chunkBytes: 0)
            for try await (history, chunks, bytes) in try await tx.query("""
                SELECT (SELECT count(*) FROM envmon.archive_history), (SELECT count(*) FROM envmon.archive_chunk),
                       (SELECT coalesce(sum(octet_length(data)), 0)::bigint FROM envmon.archive_chunk)
                """, logger: logger).decode((Int64, Int64, Int64).self) {
                plan.historyRows = history
                plan.chunks = chunks
                plan.chunkBytes = bytes
            }
            for try await id in try await tx.query("SELECT DISTINCT upload_id FROM envmon.archive_chunk ORDER BY 1", logger: logger)
                .decode(Int64.self) { plan.uploads.append(id) }
            return plan
        }
    }

    static func dropStaging(_ db: Database) async throws {
        try await db.client.query("DROP TABLE IF EXISTS envmon.archive_reading, envmon.archive_chunk, envmon.archive_history",
                                  logger: db.logger)
    }

    /// Drops what the dump holds, in one transaction, after counting it again under locks.
    func remove(_ db: Database, file: String, sha256: String, cutoff: CivilDate) async throws {
        let logger = db.logger
        let start = cutoff.description
        let plan = self
        try await db.client.withTransaction(logger: logger) { tx in
            try await tx.query("LOCK TABLE envmon.emission_reading_history, envmon.upload_chunk IN SHARE MODE", logger: logger)
            var readings: Int64 = 0
            for month in plan.months {
                try await tx.query(PostgresQuery(unsafeSQL: "LOCK TABLE envmon.\(month) IN ACCESS EXCLUSIVE MODE"), logger: logger)
                for try await count in try await tx.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM envmon.\(month)"), logger: logger)
                    .decode(Int64.self) { readings += count }
            }
            var now = (history: Int64(0), chunks: Int64(0))
            for try await counts in try await tx.query("""
                SELECT (SELECT count(*) FROM envmon.emission_reading_history WHERE measured_at < \(start)::timestamp AT TIME ZONE 'UTC'),
                       (SELECT count(*) FROM envmon.upload_chunk WHERE upload_id = ANY(\(plan.uploads)))
                """, logger: logger).decode((Int64, Int64).self) { now = counts }
            guard readings == plan.readings, now.history == plan.historyRows, now.chunks == plan.chunks else {
                throw OperationFailure("data before \(start) changed while the archive was written (a late correction?); "
                                       + "nothing was removed — \(file) is not needed, delete it and run the archive again")
            }
            for month in plan.months {
                try await tx.query(PostgresQuery(unsafeSQL: "ALTER TABLE envmon.emission_reading DETACH PARTITION envmon.\(month)"),
                                   logger: logger)
                try await tx.query(PostgresQuery(unsafeSQL: "DROP TABLE envmon.\(month)"), logger: logger)
            }
            try await tx.query("DELETE FROM envmon.emission_reading_history WHERE measured_at < \(start)::timestamp AT TIME ZONE 'UTC'",
                               logger: logger)
            try await tx.query("DELETE FROM envmon.upload_chunk WHERE upload_id = ANY(\(plan.uploads))", logger: logger)
            try await tx.query("DROP TABLE envmon.archive_reading, envmon.archive_chunk, envmon.archive_history", logger: logger)
            try await tx.query("""
                INSERT INTO envmon.data_archive (before, months, upload_ids, readings, history_rows, chunk_bytes, file, sha256, archived_by)
                VALUES (\(start)::date, \(plan.months), \(plan.uploads), \(plan.readings), \(plan.historyRows), \(plan.chunkBytes),
                        \(file), \(sha256), current_user)
                """, logger: logger)
        }
    }
}

/// An archive that is out of the database (`envmon.data_archive`, not restored).
struct ArchiveRecord: Sendable {
    var id: Int64
    var before: String
    var months: [String]
    var uploads: [Int64]
    var readings: Int64
    var historyRows: Int64
    var chunkBytes: Int64

    static func open(_ db: Database, sha256: String) async throws -> ArchiveRecord? {
        let rows = try await db.client.query("""
            SELECT id, to_char(before, 'YYYY-MM'), months, upload_ids, readings, history_rows, chunk_bytes
            FROM envmon.data_archive WHERE sha256 = \(sha256) AND restored_at IS NULL
            ORDER BY id DESC LIMIT 1
            """, logger: db.logger)
        for try await (id, before, months, uploads, readings, history, bytes)
            in rows.decode((Int64, String, [String], [Int64], Int64, Int64, Int64).self) {
            return ArchiveRecord(id: id, before: before, months: months, uploads: uploads, readings: readings,
                                 historyRows: history, chunkBytes: bytes)
        }
        return nil
    }

    /// After pg_restore made the staging tables: each month's partition made again (as a load
    /// makes one), the readings, the history and the bytes back in place, the archive marked
    /// restored — one transaction.
    func putBack(_ db: Database) async throws {
        let logger = db.logger
        let id = self.id
        let months = self.months
        for month in months {
            // `emission_reading_YYYYMM`: made (and attached) on its own connection, as loads do.
            let digits = month.suffix(6)
            let start = "\(digits.prefix(4))-\(digits.suffix(2))-01"
            try await db.client.query("SELECT envmon.ensure_emission_partition(\(start)::date)", logger: logger)
        }
        try await db.client.withTransaction(logger: logger) { tx in
            try await tx.query("INSERT INTO envmon.emission_reading SELECT * FROM envmon.archive_reading", logger: logger)
            try await tx.query("""
                INSERT INTO envmon.emission_reading_history SELECT * FROM envmon.archive_history
                """, logger: logger)
            try await tx.query("""
                INSERT INTO envmon.upload_chunk SELECT * FROM envmon.archive_chunk ON CONFLICT DO NOTHING
                """, logger: logger)
            try await tx.query("DROP TABLE envmon.archive_reading, envmon.archive_chunk, envmon.archive_history", logger: logger)
            try await tx.query("UPDATE envmon.data_archive SET restored_at = now() WHERE id = \(id)", logger: logger)
        }
    }
}
