import EnvMonDomain
import Logging
import PostgresNIO

/// The one upsert of staged emissions readings into `envmon.emission_reading`: series, history of
/// the values a changed reading supersedes, the upsert itself (an unchanged reading is left
/// alone), and the daily aggregates: recomputed for a series-day with a changed reading, added
/// to for one with only new readings, untouched by unchanged readings. File loads (`FactLoader`) and
/// HJ 212 group commits (`HJ212Store`) both run it on a temp table `stage` of the emissions
/// staging columns, or — a file's correction — on `stage_keyed`, its series already resolved.
enum EmissionsMerge {
    /// Runs the merge inside the caller's transaction.
    ///
    /// - Parameters:
    ///   - rowUploadID: SQL for the upload id of a staged row `s` (a constant of the program):
    ///     `$1` for a file, `s.packet_upload_id` for HJ 212 packets (−packet id).
    ///   - binds: the binds `rowUploadID` refers to.
    ///   - keyed: the rows are in `stage_keyed` already, series resolved and month partitions
    ///     made (`DirectEmissions.Target.keyedStage`); otherwise they are in `stage`, by name.
    /// - Returns: readings inserted or changed per upload id, and how many of them were changed.
    static func merge(
        rowUploadID: String, binds: PostgresBindings, keyed: Bool = false, database: Database, on tx: PostgresConnection
    ) async throws -> (loaded: [Int64: Int], superseded: Int) {
        let logger = database.logger
        if !keyed { try await keyStage(database: database, on: tx) }
        let values = FactTable.forKind(.emissions).valueColumns
        let changed = "(\(values.map { "r.\($0)" }.joined(separator: ", "))) IS DISTINCT FROM (\(values.map { "s.\($0)" }.joined(separator: ", ")))"
        // The keys of the stored readings the staged ones meet (one join of the readings), with
        // whether the staged values change them: the changed ones go to history and their days
        // are recomputed; an unchanged one touches nothing; a new one adds to its day. Keys only:
        // most met readings of a correction are unchanged, and writing their whole rows here
        // cost more than reading the changed ones again for history. `staged` names the staged
        // row (its place in the temp table, which nothing changes): a file may repeat a key,
        // once as stored and once changed, and each copy is judged on its own values.
        try await tx.query(PostgresQuery(unsafeSQL: """
            CREATE TEMP TABLE stage_met ON COMMIT DROP AS
            SELECT s.ctid AS staged, s.series_id, s.measured_at, \(changed) AS changed, \(rowUploadID) AS superseded_by
            FROM envmon.emission_reading r JOIN stage_keyed s USING (series_id, measured_at)
            """, binds: binds), logger: logger)
        var superseded = 0
        var fresh = true
        for try await (n, new) in try await tx.query(PostgresQuery(unsafeSQL: """
            WITH touched AS (
                INSERT INTO envmon.emission_reading_history
                    (series_id, measured_at, \(values.joined(separator: ", ")), upload_id, line, extra, superseded_by)
                SELECT r.series_id, r.measured_at, \(values.map { "r.\($0)" }.joined(separator: ", ")), r.upload_id, r.line,
                       r.extra, m.superseded_by
                FROM stage_met m JOIN envmon.emission_reading r USING (series_id, measured_at)
                WHERE m.changed
                RETURNING 1
            ) SELECT (SELECT count(*)::integer FROM touched),
                     (SELECT count(*) FROM stage_keyed) > (SELECT count(*) FROM stage_met)
            """), logger: logger).decode((Int, Bool).self) { (superseded, fresh) = (n, new) }
        let updates = (values + ["upload_id", "line", "extra"]).map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        let distinct = "(\(values.map { "emission_reading.\($0)" }.joined(separator: ", "))) IS DISTINCT FROM (\(values.map { "EXCLUDED.\($0)" }.joined(separator: ", ")))"
        // A staged reading that would not change the stored one is left out of the upsert. When
        // every staged reading met a stored one (a pure correction), the changed ones are all
        // there is to write: taken by a join, not by an anti-join of every unchanged one. (Two
        // changed copies of one key still meet in the upsert, which refuses them: 21000.)
        let upserted = fresh
            ? "stage_keyed s WHERE NOT EXISTS (SELECT 1 FROM stage_met m WHERE m.staged = s.ctid AND NOT m.changed)"
            : "stage_keyed s JOIN stage_met m ON m.staged = s.ctid WHERE m.changed"
        var loaded: [Int64: Int] = [:]
        for try await (upload, n) in try await tx.query(PostgresQuery(unsafeSQL: """
            WITH touched AS (
                INSERT INTO envmon.emission_reading (series_id, measured_at, \(values.joined(separator: ", ")), upload_id, line, extra)
                SELECT s.series_id, s.measured_at, \(values.map { "s.\($0)" }.joined(separator: ", ")), \(rowUploadID), s.line, s.extra
                FROM \(upserted)
                ORDER BY s.series_id, s.measured_at
                ON CONFLICT (series_id, measured_at) DO UPDATE SET \(updates) WHERE \(distinct)
                RETURNING upload_id
            ) SELECT upload_id, count(*)::integer FROM touched GROUP BY upload_id
            """, binds: binds), logger: logger).decode((Int64, Int).self) { loaded[upload] = n }
        let zone = try await FeedZone.name(on: tx, logger: logger)
        // Days with a changed reading are recomputed from the stored readings (new ones of the
        // same day included); on every other day the new readings add to the stored aggregates.
        try await tx.query(PostgresQuery(unsafeSQL: """
            CREATE TEMP TABLE affected_day ON COMMIT DROP AS
            SELECT DISTINCT series_id, (measured_at AT TIME ZONE $1)::date AS day FROM stage_met WHERE changed
            """, binds: DailyAggregates.binds(zone)), logger: logger)
        try await DailyAggregates.refresh(zone: zone, on: tx, logger: logger)
        guard fresh else { return (loaded, superseded) }  // every staged reading met a stored one
        try await tx.query(PostgresQuery(unsafeSQL: """
            INSERT INTO envmon.emission_daily AS d (\(DailyAggregates.insertColumns))
            SELECT r.series_id, (r.measured_at AT TIME ZONE $1)::date, \(DailyAggregates.columns)
            FROM stage_keyed r
            WHERE NOT EXISTS (SELECT 1 FROM stage_met m WHERE m.series_id = r.series_id AND m.measured_at = r.measured_at)
              AND NOT EXISTS (SELECT 1 FROM affected_day a
                              WHERE a.series_id = r.series_id AND a.day = (r.measured_at AT TIME ZONE $1)::date)
            GROUP BY 1, 2
            ORDER BY 1, 2
            \(DailyAggregates.addOnConflict)
            """, binds: DailyAggregates.binds(zone)), logger: logger)
        return (loaded, superseded)
    }

    /// `stage_keyed` from `stage`: the month partitions and series the staged rows need, and
    /// the rows with their series ids.
    private static func keyStage(database: Database, on tx: PostgresConnection) async throws {
        let logger = database.logger
        // Month partitions are made on a connection of their own, before this transaction locks
        // anything: creating a partition waits for other loads on the parent table, and inside
        // this transaction that wait could close a cycle with them (a deadlock).
        var months: [String] = []
        for try await month in try await tx.query(
            "SELECT DISTINCT date_trunc('month', measured_at AT TIME ZONE 'UTC')::date::text FROM stage", logger: logger
        ).decode(String.self) { months.append(month) }
        for month in months.sorted() {
            try await database.client.query("SELECT envmon.ensure_emission_partition(\(month)::date)", logger: logger)
        }
        try await tx.query("""
            INSERT INTO envmon.emission_series (enterprise_id, outlet_id, pollutant)
            SELECT DISTINCT enterprise_id, outlet_id, pollutant FROM stage ORDER BY 1, 2, 3
            ON CONFLICT (enterprise_id, outlet_id, pollutant) DO NOTHING
            """, logger: logger)
        try await tx.query("""
            CREATE TEMP TABLE stage_keyed ON COMMIT DROP AS
            SELECT es.series_id, s.* FROM stage s
            JOIN envmon.emission_series es USING (enterprise_id, outlet_id, pollutant)
            """, logger: logger)
    }
}
