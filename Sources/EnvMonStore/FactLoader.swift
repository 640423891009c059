public import EnvMonDomain
import Foundation
import Logging
import PostgresNIO

/// Streams an upload's normalised rows into the database: COPY into a staging table, then a
/// set-based upsert into the kind's fact table with history, the site registry, the emissions
/// daily aggregates, the rejections and the upload's outcome — all in ONE transaction, so a
/// crash or a cancel at any point leaves no partial upload.
public struct FactLoader: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Loads archived upload `uploadID`. `produce` parses the file and writes its rows and
    /// rejections to the sink (inside the transaction); it returns the parser's tallies. A
    /// thrown error fails the whole upload with the error's description as the reason.
    /// `direct` lets emissions try the direct load first (`DirectEmissions`), in which case
    /// `produce` may be called twice.
    public func load(
        uploadID: Int64, kind: FeedKind, maxRejectedShare: Double, direct: Bool = true,
        produce: (LoadSink) async throws -> IngestTally
    ) async throws -> LoadOutcome {
        let logger = database.logger
        let table = FactTable.forKind(kind)
        try await database.client.query(
            "UPDATE envmon.upload SET status = 'processing' WHERE id = \(uploadID)", logger: logger)
        do {
            let outcome = try await database.client.withConnection { connection in
                try await connection.withTransaction(logger: logger) { tx in
                    if let session = LoadSession.current {
                        try await tx.query("SELECT set_config('application_name', \(session.tag), true)", logger: logger)
                        session.markStarted()
                    }
                    try await tx.query(PostgresQuery(unsafeSQL: table.createStage), logger: logger)
                    try await tx.query("""
                        CREATE TEMP TABLE stage_rejection (line integer, column_name text, raw_value text, reason text)
                        ON COMMIT DROP
                        """, logger: logger)
                    // Emissions first try the direct load (`DirectEmissions`) inside a savepoint; it
                    // gives way when a reading's key exists already or repeats in the file, or
                    // when too many rows were rejected. A stored key makes it a correction, loaded
                    // through the keyed stage; a key the file repeats, through the staging path below.
                    if kind == .emissions, direct {
                        let direct = try await startDirect(uploadID: uploadID, on: tx)
                        var sink = LoadSink(connection: tx, uploadID: uploadID, kind: kind, logger: logger)
                        sink.direct = direct
                        var tally: IngestTally?
                        var metAKey = false
                        do {
                            tally = try await produce(sink)
                        } catch where DatabaseFailure.isUniqueViolation(error) {
                            try await tx.query("ROLLBACK TO SAVEPOINT direct", logger: logger)
                            logger.debug("direct load met a stored or repeated key; loading as a correction")
                            metAKey = true
                        }
                        if let tally, let outcome = try await finishDirect(
                            direct, tally: tally, uploadID: uploadID, maxRejectedShare: maxRejectedShare, on: tx) {
                            try await Self.record(outcome, uploadID: uploadID, on: tx, logger: logger)
                            return outcome
                        }
                        if metAKey, let outcome = try await loadKeyed(
                            uploadID: uploadID, maxRejectedShare: maxRejectedShare, produce: produce, on: tx) {
                            try await Self.record(outcome, uploadID: uploadID, on: tx, logger: logger)
                            return outcome
                        }
                    }
                    let sink = LoadSink(connection: tx, uploadID: uploadID, kind: kind, logger: logger)
                    let tally = try await produce(sink)
                    try await Self.keepRejections(uploadID: uploadID, on: tx, logger: logger)
                    var outcome = LoadOutcome(tally)
                    if !Self.refuse(&outcome, maxRejectedShare: maxRejectedShare) {
                        // Repeated natural keys are rare: merge first, and only when the upsert
                        // meets one (SQLSTATE 21000) roll back to the savepoint, reject the
                        // repeats naming their earlier line, and merge again.
                        try await tx.query("SAVEPOINT merge", logger: logger)
                        var merged: (loaded: Int, superseded: Int)?
                        do {
                            merged = try await merge(table: table, uploadID: uploadID, on: tx)
                            try await tx.query("RELEASE SAVEPOINT merge", logger: logger)
                        } catch where DatabaseFailure.isCardinalityViolation(error) {
                            try await tx.query("ROLLBACK TO SAVEPOINT merge", logger: logger)
                            var repeated = 0
                            for try await count in try await tx.query(
                                PostgresQuery(unsafeSQL: table.rejectRepeatedKeys, binds: Self.binds(uploadID)), logger: logger
                            ).decode(Int.self) { repeated = count }
                            outcome.rowsRejected += repeated
                            if !Self.refuse(&outcome, maxRejectedShare: maxRejectedShare) {
                                merged = try await merge(table: table, uploadID: uploadID, on: tx)
                            }
                        }
                        if let merged {
                            outcome.rowsLoaded = merged.loaded
                            outcome.rowsSuperseded = merged.superseded
                            outcome.rowsUnchanged = outcome.rowsTotal - outcome.rowsLoaded - outcome.rowsRejected - outcome.rowsSkipped
                            try await SiteRegistry.register(kind: kind, uploadID: uploadID, condensed: true, on: tx, logger: logger)
                        }
                    }
                    try await Self.record(outcome, uploadID: uploadID, on: tx, logger: logger)
                    return outcome
                }
            }
            // The load marked what it changed stale (migration 0013's triggers); recomputing
            // it now keeps the plan's views fast for the next reader.
            if outcome.status == .loaded { await Rollups(database: database).refreshIfStale() }
            return outcome
        } catch where Database.unwrap(error) is CancellationError {
            throw CancellationError()
        } catch {
            // The transaction rolled back: nothing of this upload is in the fact tables.
            let failure = LoadFailure(error, uploadID: uploadID)
            if failure.isTransient {
                logger.info("load interrupted; it will be tried again", metadata: [
                    "envmon.upload.id": "\(uploadID)", "envmon.error": "\(failure.detail)"])
                throw failure
            }
            if failure.message != failure.detail {
                logger.warning("load failed in the database", metadata: [
                    "envmon.upload.id": "\(uploadID)", "envmon.error": "\(failure.detail)"])
            }
            let outcome = LoadOutcome(status: .failed, error: failure.message)
            try await database.client.withConnection { connection in
                try await Self.record(outcome, uploadID: uploadID, on: connection, logger: logger)
            }
            return outcome
        }
    }

    /// Opens the savepoint of a direct load.
    private func startDirect(uploadID: Int64, on tx: PostgresConnection) async throws -> DirectEmissions {
        let logger = database.logger
        try await tx.query("SAVEPOINT direct", logger: logger)
        return try await DirectEmissions.start(connection: tx, database: database, uploadID: uploadID, logger: logger)
    }

    /// Completes a direct load whose rows are all written; nil — with everything rolled back to
    /// the savepoint — when too many rows were rejected (the staging pass then keeps the
    /// rejections with the failed upload).
    private func finishDirect(
        _ direct: DirectEmissions, tally: IngestTally, uploadID: Int64, maxRejectedShare: Double,
        on tx: PostgresConnection
    ) async throws -> LoadOutcome? {
        let logger = database.logger
        var outcome = LoadOutcome(tally)
        if Self.refuse(&outcome, maxRejectedShare: maxRejectedShare) {
            try await tx.query("ROLLBACK TO SAVEPOINT direct", logger: logger)
            return nil
        }
        try await Self.keepRejections(uploadID: uploadID, on: tx, logger: logger)
        outcome.rowsLoaded = try await direct.finish()
        outcome.loadedDirectly = true
        try await tx.query("RELEASE SAVEPOINT direct", logger: logger)
        return outcome
    }

    /// Loads a correction — an emissions upload some of whose readings are stored — through the
    /// keyed stage (`DirectEmissions.Target.keyedStage`, then `EmissionsMerge`), inside a
    /// savepoint. Nil, with everything rolled back to the savepoint, when the file repeats a
    /// reading's key: the staging path rejects the repeats, naming their first line.
    private nonisolated(nonsending) func loadKeyed(
        uploadID: Int64, maxRejectedShare: Double, produce: (LoadSink) async throws -> IngestTally, on tx: PostgresConnection
    ) async throws -> LoadOutcome? {
        let logger = database.logger
        try await tx.query("SAVEPOINT keyed", logger: logger)
        let keyed = try await DirectEmissions.start(connection: tx, database: database, uploadID: uploadID,
                                                    target: .keyedStage, logger: logger)
        var sink = LoadSink(connection: tx, uploadID: uploadID, kind: .emissions, logger: logger)
        sink.direct = keyed
        let tally = try await produce(sink)
        try await Self.keepRejections(uploadID: uploadID, on: tx, logger: logger)
        var outcome = LoadOutcome(tally)
        if !Self.refuse(&outcome, maxRejectedShare: maxRejectedShare) {
            do {
                let merged = try await EmissionsMerge.merge(
                    rowUploadID: "$1", binds: Self.binds(uploadID), keyed: true, database: database, on: tx)
                outcome.rowsLoaded = merged.loaded.values.reduce(0, +)
                outcome.rowsSuperseded = merged.superseded
                outcome.rowsUnchanged = outcome.rowsTotal - outcome.rowsLoaded - outcome.rowsRejected - outcome.rowsSkipped
            } catch where DatabaseFailure.isCardinalityViolation(error) {
                try await tx.query("ROLLBACK TO SAVEPOINT keyed", logger: logger)
                logger.debug("the correction repeats a key; loading through staging")
                return nil
            }
            try await keyed.registerSites()
        }
        try await tx.query("RELEASE SAVEPOINT keyed", logger: logger)
        return outcome
    }

    /// Moves the rejections written during the load to `envmon.upload_rejection`.
    static func keepRejections(uploadID: Int64, on tx: PostgresConnection, logger: Logger) async throws {
        try await tx.query(PostgresQuery(unsafeSQL: """
            INSERT INTO envmon.upload_rejection (upload_id, line, column_name, raw_value, reason)
            SELECT $1, line, column_name, raw_value, reason FROM stage_rejection
            """, binds: Self.binds(uploadID)), logger: logger)
    }

    /// Marks the outcome failed when its rejected share is over the limit; says whether it did.
    static func refuse(_ outcome: inout LoadOutcome, maxRejectedShare: Double) -> Bool {
        let share = outcome.rowsTotal == 0 ? 0 : Double(outcome.rowsRejected) / Double(outcome.rowsTotal)
        guard share > maxRejectedShare else { return false }
        outcome.status = .failed
        outcome.error = String(
            format: "%d of %d rows rejected (%.1f%%), over the limit of %.0f%%; nothing was loaded",
            outcome.rowsRejected, outcome.rowsTotal, share * 100, maxRejectedShare * 100)
        return true
    }

    static func binds(_ uploadID: Int64) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(uploadID)
        return binds
    }

    /// Records the upload's outcome and, in the same statement (so in the load's transaction),
    /// ends its job: a process killed after the commit but before `JobQueue.complete` leaves no
    /// job running for a loaded upload.
    static func record(_ outcome: LoadOutcome, uploadID: Int64, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            WITH job AS (
                UPDATE envmon.ingest_job SET status = 'done', lease_until = NULL, last_error = NULL, updated_at = now()
                 WHERE upload_id = \(uploadID) AND status IN ('queued', 'running'))
            UPDATE envmon.upload SET status = \(outcome.status.rawValue), rows_total = \(outcome.rowsTotal),
                rows_loaded = \(outcome.rowsLoaded), rows_unchanged = \(outcome.rowsUnchanged),
                rows_rejected = \(outcome.rowsRejected), rows_skipped = \(outcome.rowsSkipped),
                rows_superseded = \(outcome.rowsSuperseded), error = \(outcome.error),
                format = coalesce(\(outcome.format?.rawValue), format), finished_at = now()
            WHERE id = \(uploadID)
            """, logger: logger)
    }

    /// Upserts the staged rows; returns rows inserted or changed, and of those the changed.
    private func merge(table: FactTable, uploadID: Int64, on tx: PostgresConnection) async throws -> (loaded: Int, superseded: Int) {
        table.kind == .emissions
            ? try await mergeEmissions(uploadID: uploadID, on: tx)
            : try await mergePeriodic(table: table, uploadID: uploadID, on: tx)
    }

    private func mergePeriodic(table: FactTable, uploadID: Int64, on tx: PostgresConnection) async throws -> (loaded: Int, superseded: Int) {
        let keys = table.keyColumns
        let values = table.valueColumns
        let join = keys.map { "t.\($0) = s.\($0)" }.joined(separator: " AND ")
        let changed = "(\(values.map { "t.\($0)" }.joined(separator: ", "))) IS DISTINCT FROM (\(values.map { "s.\($0)" }.joined(separator: ", ")))"
        let superseded = try await count(PostgresQuery(unsafeSQL: """
            INSERT INTO envmon.fact_history (kind, natural_key, row_data, upload_id, superseded_by)
            SELECT '\(table.kind.rawValue)', \(table.naturalKeyJSON), to_jsonb(t), t.upload_id, $1
            FROM \(table.table) t JOIN stage s ON \(join)
            WHERE \(changed)
            RETURNING 1
            """, binds: Self.binds(uploadID)), on: tx)
        let columns = keys + values
        let insertColumns = (columns + ["upload_id", "line", "extra"]).joined(separator: ", ")
        let selectColumns = (columns.map { "s.\($0)" } + ["$1", "s.line", "s.extra"]).joined(separator: ", ")
        let updates = (values + ["upload_id", "line", "extra"]).map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        let distinct = "(\(values.map { "\(table.table).\($0)" }.joined(separator: ", "))) IS DISTINCT FROM (\(values.map { "EXCLUDED.\($0)" }.joined(separator: ", ")))"
        let loaded = try await count(PostgresQuery(unsafeSQL: """
            INSERT INTO \(table.table) (\(insertColumns))
            SELECT \(selectColumns) FROM stage s
            ON CONFLICT (\(keys.joined(separator: ", "))) DO UPDATE SET \(updates) WHERE \(distinct)
            RETURNING 1
            """, binds: Self.binds(uploadID)), on: tx)
        return (loaded, superseded)
    }

    private func mergeEmissions(uploadID: Int64, on tx: PostgresConnection) async throws -> (loaded: Int, superseded: Int) {
        let merged = try await EmissionsMerge.merge(
            rowUploadID: "$1", binds: Self.binds(uploadID), database: database, on: tx)
        return (merged.loaded.values.reduce(0, +), merged.superseded)
    }

    /// Runs a data-changing statement with `RETURNING 1` and counts the rows it touched.
    private func count(_ query: PostgresQuery, on tx: PostgresConnection) async throws -> Int {
        var wrapped = query
        wrapped.sql = "WITH touched AS (\(query.sql)) SELECT count(*)::integer FROM touched"
        var result = 0
        for try await n in try await tx.query(wrapped, logger: database.logger).decode(Int.self) { result = n }
        return result
    }
}

/// `envmon.emission_daily`, the loader's daily aggregates: valid readings are those flagged N or
/// not flagged, with a value; the strictest limits of the day apply. The one SQL statement of the
/// rule (`columns`) serves both a recompute from the stored readings and an addition of new
/// readings (`add`); `DirectEmissions` keeps a Swift copy for the direct load.
enum DailyAggregates {
    /// The aggregate columns of a series-day over readings `r` (stored or staged), in the order
    /// of `insertColumns` after series_id and day.
    static let columns = """
        count(*) FILTER (WHERE coalesce(r.flag, 'N') = 'N' AND r.value IS NOT NULL),
        count(*) FILTER (WHERE coalesce(r.flag, 'N') <> 'N'),
        sum(r.value) FILTER (WHERE coalesce(r.flag, 'N') = 'N'),
        max(r.limit_min), min(r.limit_max),
        sum(r.corrected) FILTER (WHERE coalesce(r.flag, 'N') = 'N'),
        count(r.corrected) FILTER (WHERE coalesce(r.flag, 'N') = 'N'),
        sum(r.value / (21 - r.o2)) FILTER (WHERE coalesce(r.flag, 'N') = 'N' AND r.corrected IS NULL),
        count(r.value / (21 - r.o2)) FILTER (WHERE coalesce(r.flag, 'N') = 'N' AND r.corrected IS NULL)
        """

    static let insertColumns = """
        series_id, day, valid_count, flagged_count, value_sum, limit_min, limit_max,
        corrected_sum, corrected_count, dilution_sum, dilution_count
        """

    /// ON CONFLICT clause that adds a series-day's aggregates of readings new to it (`EXCLUDED`)
    /// to the stored ones (`d`).
    static let addOnConflict = """
        ON CONFLICT (series_id, day) DO UPDATE SET
            valid_count = d.valid_count + EXCLUDED.valid_count,
            flagged_count = d.flagged_count + EXCLUDED.flagged_count,
            value_sum = CASE WHEN d.value_sum IS NULL THEN EXCLUDED.value_sum
                             WHEN EXCLUDED.value_sum IS NULL THEN d.value_sum
                             ELSE d.value_sum + EXCLUDED.value_sum END,
            limit_min = greatest(d.limit_min, EXCLUDED.limit_min),
            limit_max = least(d.limit_max, EXCLUDED.limit_max),
            corrected_sum = CASE WHEN d.corrected_sum IS NULL THEN EXCLUDED.corrected_sum
                                 WHEN EXCLUDED.corrected_sum IS NULL THEN d.corrected_sum
                                 ELSE d.corrected_sum + EXCLUDED.corrected_sum END,
            corrected_count = d.corrected_count + EXCLUDED.corrected_count,
            dilution_sum = CASE WHEN d.dilution_sum IS NULL THEN EXCLUDED.dilution_sum
                                WHEN EXCLUDED.dilution_sum IS NULL THEN d.dilution_sum
                                ELSE d.dilution_sum + EXCLUDED.dilution_sum END,
            dilution_count = d.dilution_count + EXCLUDED.dilution_count
        """

    /// Recomputes the (series, local day) pairs in the temp table `affected_day` from the stored
    /// readings.
    static func refresh(zone: String, on tx: PostgresConnection, logger: Logger) async throws {
        try await tx.query("""
            DELETE FROM envmon.emission_daily d USING affected_day a
            WHERE d.series_id = a.series_id AND d.day = a.day
            """, logger: logger)
        try await tx.query(PostgresQuery(unsafeSQL: """
            INSERT INTO envmon.emission_daily (\(insertColumns))
            SELECT r.series_id, a.day, \(columns)
            FROM affected_day a
            JOIN envmon.emission_reading r
              ON r.series_id = a.series_id
             AND r.measured_at >= (a.day::timestamp AT TIME ZONE $1)
             AND r.measured_at < ((a.day + 1)::timestamp AT TIME ZONE $1)
            GROUP BY r.series_id, a.day
            """, binds: binds(zone)), logger: logger)
    }

    static func binds(_ zone: String) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(zone)
        return binds
    }
}

/// Why a load did not finish.
///
/// Transient failures (the database went away, a deadlock, a timeout) leave the upload as it
/// was and are worth trying again; permanent ones are recorded as the upload's failure. The
/// `message` is for the person who sent the file and never carries server internals; `detail`
/// is for the log.
public struct LoadFailure: Error, Sendable, CustomStringConvertible {
    public let isTransient: Bool
    public let message: String
    public let detail: String

    init(_ error: any Error, uploadID: Int64) {
        switch DatabaseFailure.of(error) {
        case nil:
            // The parser's and the file's own errors are written for the uploader.
            isTransient = false
            message = "\(Database.unwrap(error))"
        case .transient?, .unavailable?:
            isTransient = true
            message = "the database was unavailable while loading; the upload will be loaded again"
        case .permanent?, .missingRelation?:
            isTransient = false
            message = "the database refused this upload (a program error; the server log has the details under upload \(uploadID))"
        }
        detail = Database.describe(error)
    }

    public var description: String { message }
}

/// What the parser counted while producing rows.
public struct IngestTally: Sendable, Equatable {
    public var rowsTotal: Int
    public var rowsRejected: Int
    public var rowsSkipped: Int
    public var format: FeedFormat?

    public init(rowsTotal: Int, rowsRejected: Int, rowsSkipped: Int, format: FeedFormat? = nil) {
        self.rowsTotal = rowsTotal
        self.rowsRejected = rowsRejected
        self.rowsSkipped = rowsSkipped
        self.format = format
    }
}

/// The result of loading one upload.
public struct LoadOutcome: Sendable, Equatable, Codable {
    public var status: UploadStatus
    public var rowsTotal = 0
    public var rowsLoaded = 0
    public var rowsUnchanged = 0
    public var rowsRejected = 0
    public var rowsSkipped = 0
    public var rowsSuperseded = 0
    public var error: String?
    public var format: FeedFormat?
    /// Whether the rows went straight into the fact table (`DirectEmissions`), not through staging.
    public var loadedDirectly = false

    public init(status: UploadStatus, rowsTotal: Int = 0, rowsRejected: Int = 0, rowsSkipped: Int = 0, error: String? = nil) {
        self.status = status
        self.rowsTotal = rowsTotal
        self.rowsRejected = rowsRejected
        self.rowsSkipped = rowsSkipped
        self.error = error
    }
}

extension LoadOutcome {
    /// A load's outcome before its merge: loaded, with the parser's tallies.
    init(_ tally: IngestTally) {
        self.init(status: .loaded, rowsTotal: tally.rowsTotal, rowsRejected: tally.rowsRejected, rowsSkipped: tally.rowsSkipped)
        format = tally.format
    }
}
