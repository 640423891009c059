public import EnvMonDomain
import Logging
import PostgresNIO

// Retention's SQL (`envmon db archive`, `envmon db restore-archive`; the pg_dump and pg_restore
// steps are in EnvMonServer's Operations).

/// What an archive takes: counted, and copied into staging tables for pg_dump.
public struct ArchivePlan: Sendable {
    public var months: [String]
    public var readings: Int64
    public var historyRows: Int64
    public var uploads: [Int64]
    public var chunks: Int64
    public var chunkBytes: Int64

    public static func make(_ db: Database, cutoff: CivilDate, suffix: String) async throws -> ArchivePlan {
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

    public static func dropStaging(_ db: Database) async throws {
        try await db.client.query("DROP TABLE IF EXISTS envmon.archive_reading, envmon.archive_chunk, envmon.archive_history",
                                  logger: db.logger)
    }

    /// Drops what the dump holds, in one transaction, after counting it again under locks.
    public func remove(_ db: Database, file: String, sha256: String, cutoff: CivilDate) async throws {
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
                throw EnvMonError.conflict("data before \(start) changed while the archive was written (a late correction?); "
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
public struct ArchiveRecord: Sendable {
    public var id: Int64
    public var before: String
    public var months: [String]
    public var uploads: [Int64]
    public var readings: Int64
    public var historyRows: Int64
    public var chunkBytes: Int64

    public static func open(_ db: Database, sha256: String) async throws -> ArchiveRecord? {
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
    public func putBack(_ db: Database) async throws {
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
