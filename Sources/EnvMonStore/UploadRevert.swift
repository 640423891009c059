public import EnvMonDomain
import Logging
import PostgresNIO

/// Undoes a loaded upload in one transaction: the rows it added are removed, the values it
/// superseded come back from history, and the upload stays in the archive marked reverted.
///
/// When a later upload had superseded this one's values, those later values stay current and
/// the history is re-linked around the reverted upload.
public struct UploadRevert: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func revert(uploadID: Int64) async throws -> RevertResult {
        let logger = database.logger
        guard let upload = try await UploadQueries(database: database).upload(id: uploadID) else {
            throw EnvMonError.notFound("no upload with id \(uploadID)")
        }
        guard upload.status == .loaded else {
            throw EnvMonError.conflict("upload \(uploadID) is \(upload.status.rawValue); only a loaded upload can be reverted")
        }
        if let file = try await UploadQueries(database: database).archivedIn(uploadID: uploadID) {
            throw EnvMonError.conflict("upload \(uploadID) is in the archive \(file); restore it first (`envmon db restore-archive`)")
        }
        let kind = upload.kind
        let binds = FactLoader.binds(uploadID)
        let result = try await database.client.withTransaction(logger: logger) { tx in
            // Lock the upload row so two reverts cannot interleave.
            try await tx.query("SELECT 1 FROM envmon.upload WHERE id = \(uploadID) FOR UPDATE", logger: logger)
            let counts: (removed: Int, restored: Int)
            if kind == .emissions {
                counts = try await revertEmissions(binds: binds, on: tx)
            } else {
                counts = try await revertPeriodic(FactTable.forKind(kind), binds: binds, on: tx)
            }
            try await tx.query(
                "UPDATE envmon.upload SET status = 'reverted', reverted_at = now() WHERE id = \(uploadID)",
                logger: logger)
            return RevertResult(uploadID: uploadID, rowsRemoved: counts.removed, rowsRestored: counts.restored)
        }
        await Rollups(database: database).refreshIfStale()
        return result
    }

    private func count(_ sql: String, binds: PostgresBindings, on tx: PostgresConnection) async throws -> Int {
        var result = 0
        for try await value in try await tx.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: database.logger)
            .decode(Int.self) { result = value }
        return result
    }

    private func revertEmissions(binds: PostgresBindings, on tx: PostgresConnection) async throws -> (removed: Int, restored: Int) {
        let logger = database.logger
        let values = FactTable.forKind(.emissions).valueColumns.joined(separator: ", ")
        try await tx.query(PostgresQuery(unsafeSQL: """
            CREATE TEMP TABLE removed ON COMMIT DROP AS
            WITH gone AS (DELETE FROM envmon.emission_reading WHERE upload_id = $1 RETURNING series_id, measured_at)
            SELECT * FROM gone
            """, binds: binds), logger: logger)
        let restored = try await count("""
            WITH back AS (
                DELETE FROM envmon.emission_reading_history h USING removed r
                WHERE h.superseded_by = $1 AND h.series_id = r.series_id AND h.measured_at = r.measured_at
                RETURNING h.*
            ), ins AS (
                INSERT INTO envmon.emission_reading (series_id, measured_at, \(values), upload_id, line, extra)
                SELECT series_id, measured_at, \(values), upload_id, line, extra FROM back
                RETURNING 1
            )
            SELECT count(*)::integer FROM ins
            """, binds: binds, on: tx)
        // Values of this upload that a later upload superseded: drop them from the chain.
        try await tx.query(PostgresQuery(unsafeSQL: """
            WITH mine AS (
                DELETE FROM envmon.emission_reading_history WHERE upload_id = $1
                RETURNING series_id, measured_at, superseded_by
            )
            UPDATE envmon.emission_reading_history h SET superseded_by = m.superseded_by
            FROM mine m
            WHERE h.superseded_by = $1 AND h.series_id = m.series_id AND h.measured_at = m.measured_at
            """, binds: binds), logger: logger)
        let removed = try await count("SELECT count(*)::integer FROM removed", binds: PostgresBindings(), on: tx)
        let zone = try await FeedZone.name(on: tx, logger: logger)
        try await tx.query("""
            CREATE TEMP TABLE affected_day ON COMMIT DROP AS
            SELECT DISTINCT series_id, (measured_at AT TIME ZONE \(zone))::date AS day FROM removed
            """, logger: logger)
        try await DailyAggregates.refresh(zone: zone, on: tx, logger: logger)
        return (removed - restored, restored)
    }

    private func revertPeriodic(_ table: FactTable, binds: PostgresBindings, on tx: PostgresConnection) async throws -> (removed: Int, restored: Int) {
        let logger = database.logger
        let keyJSON = table.naturalKeyJSON
        try await tx.query(PostgresQuery(unsafeSQL: """
            CREATE TEMP TABLE removed ON COMMIT DROP AS
            WITH gone AS (DELETE FROM \(table.table) t WHERE t.upload_id = $1 RETURNING \(keyJSON) AS natural_key)
            SELECT * FROM gone
            """, binds: binds), logger: logger)
        let restored = try await count("""
            WITH back AS (
                DELETE FROM envmon.fact_history h USING removed r
                WHERE h.kind = '\(table.kind.rawValue)' AND h.superseded_by = $1 AND h.natural_key = r.natural_key
                RETURNING h.row_data
            ), ins AS (
                INSERT INTO \(table.table)
                SELECT (jsonb_populate_record(NULL::\(table.table), row_data)).* FROM back
                RETURNING 1
            )
            SELECT count(*)::integer FROM ins
            """, binds: binds, on: tx)
        try await tx.query(PostgresQuery(unsafeSQL: """
            WITH mine AS (
                DELETE FROM envmon.fact_history WHERE kind = '\(table.kind.rawValue)' AND upload_id = $1
                RETURNING natural_key, superseded_by
            )
            UPDATE envmon.fact_history h SET superseded_by = m.superseded_by
            FROM mine m
            WHERE h.kind = '\(table.kind.rawValue)' AND h.superseded_by = $1 AND h.natural_key = m.natural_key
            """, binds: binds), logger: logger)
        let removed = try await count("SELECT count(*)::integer FROM removed", binds: PostgresBindings(), on: tx)
        return (removed - restored, restored)
    }
}
