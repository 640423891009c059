// Over 400 lines on purpose: the direct load is one state machine (COPY stream, series and
// month lookups, partitions made mid-load, daily tally, fallback); split, its invariants would
// span files. docs/internals.md "Loading emissions" describes it.
import EnvMonDomain
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Streams an emissions upload's readings straight into `envmon.emission_reading`, for the
/// common case of readings the database does not hold yet (new hours of monitoring data).
///
/// The loader tries this first, inside a savepoint. Each batch is COPYed into the partitioned
/// table with its series already resolved here, so the readings are written once, not staged
/// and then upserted. If any reading's key already exists — stored before, or repeated in the
/// file — the COPY fails with a unique violation (SQLSTATE 23505); the loader then rolls back to
/// the savepoint and loads the upload through the staging table instead, where superseding,
/// history and repeated keys are handled (`FactLoader`). So a successful direct load has, by
/// construction, inserted only new keys: nothing superseded, nothing unchanged.
///
/// What the staging path computes in SQL is gathered here while the rows pass: the daily
/// aggregates of the (series, local day) pairs touched — added to the stored ones, which is
/// exact because every reading is new — and the places named, for `SiteRegistry`.
///
/// The same passage serves a correction (`Target.keyedStage`): the rows, their series resolved
/// here, go to a temp table `stage_keyed` shaped like `emission_reading`, which
/// `EmissionsMerge` upserts from. The text staging table's extra work — its enterprise, outlet
/// and pollutant text per row, a second table with the series looked up, the scans for months,
/// series and places — is then not done; the daily aggregates are left to the merge.
final class DirectEmissions {
    /// Where the rows go.
    enum Target {
        /// `envmon.emission_reading` itself: a first load of new readings.
        case readings
        /// The temp table `stage_keyed`, for `EmissionsMerge` (readings some of which are stored).
        case keyedStage
    }

    /// The staging fields a reading stores, in COPY order: its time and values (`FeedColumns.swift`).
    static let readingFields: [EmissionsColumn] = [.measuredAt] + FactTable.emissionsValues
    /// The COPY columns of `envmon.emission_reading`.
    static let columns = ["series_id"] + readingFields.map(\.name) + ["upload_id", "line", "extra"]

    struct SeriesKey: Hashable {
        var enterprise: String
        var outlet: String
        var pollutant: String

        init(enterprise: String, outlet: String, pollutant: String) {
            self.enterprise = enterprise
            self.outlet = outlet
            self.pollutant = pollutant
        }

        /// The series a normalised emissions row names; nil when it lacks one (a program error).
        init?(_ record: StagingRecord) {
            guard record.fields.count == EmissionsColumn.allCases.count,
                  let enterprise = record[EmissionsColumn.enterpriseID], let outlet = record[EmissionsColumn.outletID],
                  let pollutant = record[EmissionsColumn.pollutant] else { return nil }
            self.init(enterprise: enterprise, outlet: outlet, pollutant: pollutant)
        }
    }

    struct DayKey: Hashable {
        var series: Int32
        var day: Int32  // days since 1970-01-01, in the feed time zone
    }

    /// `emission_daily`'s columns for one series-day, from this upload's readings alone.
    /// (NaN stands for "none": no value is NaN, and the optionals would take twice the room.)
    struct Daily {
        var valid: Int32 = 0
        var flagged: Int32 = 0
        var sum = Double.nan
        var limitMin = Double.nan
        var limitMax = Double.nan
        /// Stated O2-corrected values, and value / (21 - O2) of readings with an O2 only
        /// (migration 0010 says why).
        var correctedSum = Double.nan
        var correctedCount: Int32 = 0
        var dilutionSum = Double.nan
        var dilutionCount: Int32 = 0
    }

    /// The latest name and district (non-null, with their lines) a series' rows gave.
    struct Named {
        var name: String?
        var nameLine = 0
        var district: String?
        var districtLine = 0
    }

    /// Where one ISO timestamp falls: its UTC month (partition) and its local day (aggregates).
    struct Instant {
        var month: Int  // year * 12 + month - 1, UTC
        var day: Int32
        var epoch: Int
    }

    private let connection: PostgresConnection
    private let database: Database
    private let uploadID: Int64
    private let logger: Logger
    private let target: Target

    private var months: Set<Int> = []
    /// Everything a row changes, in one value: the class's properties would each be checked
    /// for exclusive access on every row; a mutating call on this checks once per batch.
    private var rows: Passage

    /// Prepares a direct load on `connection` (inside the load's transaction).
    static func start(connection: PostgresConnection, database: Database, uploadID: Int64,
                      target: Target = .readings, logger: Logger) async throws -> DirectEmissions {
        let zone = try await FeedZone.read(on: connection, logger: logger)
        var series: [SeriesKey: Int32] = [:]
        for try await (id, enterprise, outlet, pollutant) in try await connection.query(
            "SELECT series_id, enterprise_id, outlet_id, pollutant FROM envmon.emission_series", logger: logger
        ).decode((Int32, String, String, String).self) {
            series[SeriesKey(enterprise: enterprise, outlet: outlet, pollutant: pollutant)] = id
        }
        var months: Set<Int> = []
        for try await name in try await connection.query("""
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'envmon.emission_reading'::regclass
            """, logger: logger).decode(String.self) {
            // emission_reading_YYYYMM
            let digits = name.utf8.suffix(6)
            guard digits.count == 6, let value = Int(String(decoding: digits, as: UTF8.self)) else { continue }
            months.insert(value / 100 * 12 + value % 100 - 1)
        }
        switch target {
        case .readings:
            // COPY names its table as one quoted identifier, so the schema comes from the path.
            try await connection.query("SET LOCAL search_path = envmon, public", logger: logger)
            try await connection.query("""
                CREATE TEMP TABLE stage_daily (series_id integer, day date, valid_count integer, flagged_count integer,
                    value_sum double precision, limit_min double precision, limit_max double precision,
                    corrected_sum double precision, corrected_count integer, dilution_sum double precision,
                    dilution_count integer) ON COMMIT DROP
                """, logger: logger)
        case .keyedStage:
            // Shaped like the readings, without their key: a file may repeat one (the merge says so).
            try await connection.query(
                "CREATE TEMP TABLE stage_keyed (LIKE envmon.emission_reading) ON COMMIT DROP", logger: logger)
        }
        return DirectEmissions(connection: connection, database: database, uploadID: uploadID, logger: logger,
                               target: target, zone: zone, series: series, months: months)
    }

    private init(connection: PostgresConnection, database: Database, uploadID: Int64, logger: Logger,
                 target: Target, zone: TimeZone, series: [SeriesKey: Int32], months: Set<Int>) {
        self.connection = connection
        self.database = database
        self.uploadID = uploadID
        self.logger = logger
        self.target = target
        self.rows = Passage(zone: zone, upload: String(uploadID), series: series, tallies: target == .readings)
        self.months = months
    }

    /// Rows are sent in (series, time) order within runs of this many: the primary key's
    /// B-tree then takes each series' readings together instead of one leaf per row, which
    /// cut the server's COPY time by about a fifth for hour-by-hour exports (psql, 13,000-row runs).
    static let sortedRows = 48_000

    /// Rejections held back while a COPY is open before that COPY is closed to store them.
    static let heldRejections = 5_000

    /// COPYs the normalised emissions rows (`FeedKind.emissions.stagingColumns`) of the
    /// batches `next` returns until it returns nil, keeping one COPY open for as long as they
    /// name only known series and months: the server digests one batch while `next` parses the
    /// following one. A row that names a new series or month closes the COPY; they are
    /// registered, and a new COPY goes on from that row.
    func write(_ next: () async throws -> LoadBatch?) async throws {
        guard let first = try await next() else { return }
        var unwritten = first.records[...]
        var rejections = first.rejections
        var more = true
        while true {
            try await prepare(unwritten)
            var justPrepared = !unwritten.isEmpty
            let table = target == .readings ? "emission_reading" : "stage_keyed"
            try await connection.copyFrom(table: table, columns: Self.columns, logger: logger) { writer in
                while true {
                    let before = unwritten.count
                    unwritten = try rows.encode(unwritten, months: months)
                    if justPrepared && unwritten.count == before {  // a program error, not an input's
                        throw FeedLoadError("line \(unwritten.first?.line ?? 0): its series or month partition could not be made")
                    }
                    justPrepared = false
                    if rows.waiting >= Self.sortedRows { try await writer.write(rows.takeSorted()) }
                    guard unwritten.isEmpty, rejections.count < Self.heldRejections, rows.daily.count < Self.heldDays
                    else { break }
                    guard let batch = try await next() else {
                        more = false
                        break
                    }
                    unwritten = batch.records[...]
                    rejections += batch.rejections
                }
                if rows.waiting > 0 { try await writer.write(rows.takeSorted()) }
            }
            if !rejections.isEmpty {
                try await LoadSink.copy(rejections, on: connection, logger: logger)
                rejections = []
            }
            if rows.daily.count >= Self.heldDays { try await flushDaily() }
            if !more { return }
        }
    }

    /// Series-days of aggregates held before they are COPYed to `stage_daily`, so that memory
    /// does not grow with the file (a day may be flushed in parts; `finish` adds them up).
    static let heldDays = 20_000

    private func flushDaily() async throws {
        guard !rows.daily.isEmpty else { return }
        func text(_ value: Double) -> String? { value.isNaN ? nil : "\(value)" }
        var buffer = ByteBufferAllocator().buffer(capacity: rows.daily.count * 48)
        for (key, entry) in rows.daily {
            CopyText.appendRow([String(key.series), CivilDate(dayNumber: Int(key.day)).description, String(entry.valid),
                                String(entry.flagged), text(entry.sum), text(entry.limitMin), text(entry.limitMax),
                                text(entry.correctedSum), String(entry.correctedCount), text(entry.dilutionSum),
                                String(entry.dilutionCount)],
                               to: &buffer)
        }
        rows.daily.removeAll(keepingCapacity: true)
        try await connection.copyFrom(table: "stage_daily", logger: logger) { writer in try await writer.write(buffer) }
    }

    /// The month partition of `emission_reading` that `envmon.ensure_emission_partition` makes for
    /// a month counted as `year * 12 + month - 1` (a database test checks the two agree).
    static func partition(month: Int) -> String {
        String(format: "envmon.emission_reading_%04d%02d", month / 12, month % 12 + 1)
    }

    /// The first day of a month counted as `year * 12 + month - 1`, as
    /// `envmon.ensure_emission_partition` takes it.
    static func monthStart(month: Int) -> String {
        String(format: "%04d-%02d-01", month / 12, month % 12 + 1)
    }

    /// Registers the new series of `records` (in this transaction, in key order) and makes the
    /// month partitions they need (on another connection: ATTACH does not wait for this
    /// transaction).
    private func prepare(_ records: ArraySlice<StagingRecord>) async throws {
        var newSeries: Set<SeriesKey> = []
        var newMonths: Set<Int> = []
        for record in records {
            guard let key = SeriesKey(record) else { continue }
            if rows.series[key] == nil { newSeries.insert(key) }
            if let measuredAt = record[EmissionsColumn.measuredAt], let instant = rows.instant(measuredAt),
               !months.contains(instant.month) {
                newMonths.insert(instant.month)
            }
        }
        for month in newMonths.sorted() {
            try await database.client.query(
                "SELECT envmon.ensure_emission_partition(\(Self.monthStart(month: month))::date)", logger: logger)
            // A lock this transaction did not hold yet makes it read the catalog changes made
            // meanwhile, so the next COPY routes to the new partition (not the default one).
            try await connection.query(
                PostgresQuery(unsafeSQL: "LOCK TABLE \(Self.partition(month: month)) IN ROW EXCLUSIVE MODE"), logger: logger)
            months.insert(month)
        }
        guard !newSeries.isEmpty else { return }
        rows.series.merge(try await Self.registerSeries(newSeries, on: connection, logger: logger)) { _, new in new }
    }

    /// The ids of `keys`' series, registering those not stored yet (in this transaction, in key
    /// order: concurrent loads of the same places then wait for each other instead of deadlocking).
    static func registerSeries(
        _ keys: Set<SeriesKey>, on connection: PostgresConnection, logger: Logger
    ) async throws -> [SeriesKey: Int32] {
        let sorted = keys.sorted { ($0.enterprise, $0.outlet, $0.pollutant) < ($1.enterprise, $1.outlet, $1.pollutant) }
        let enterprises = sorted.map(\.enterprise), outlets = sorted.map(\.outlet), pollutants = sorted.map(\.pollutant)
        try await connection.query("""
            INSERT INTO envmon.emission_series (enterprise_id, outlet_id, pollutant)
            SELECT * FROM unnest(\(enterprises)::text[], \(outlets)::text[], \(pollutants)::text[]) ORDER BY 1, 2, 3
            ON CONFLICT (enterprise_id, outlet_id, pollutant) DO NOTHING
            """, logger: logger)
        var ids: [SeriesKey: Int32] = [:]
        for try await (id, enterprise, outlet, pollutant) in try await connection.query("""
            SELECT s.series_id, s.enterprise_id, s.outlet_id, s.pollutant FROM envmon.emission_series s
            JOIN unnest(\(enterprises)::text[], \(outlets)::text[], \(pollutants)::text[]) AS k(e, o, p)
              ON s.enterprise_id = k.e AND s.outlet_id = k.o AND s.pollutant = k.p
            """, logger: logger).decode((Int32, String, String, String).self) {
            ids[SeriesKey(enterprise: enterprise, outlet: outlet, pollutant: pollutant)] = id
        }
        return ids
    }

    /// What the rows of a direct load write and gather: their COPY text (sorted in runs), the
    /// daily aggregates, the places named, and the lookups on the way.
    struct Passage {
        let zone: TimeZone
        let upload: String
        var series: [SeriesKey: Int32]
        var instants: [String: Instant] = [:]
        var lastInstant: (iso: String, instant: Instant)?
        var daily: [DayKey: Daily] = [:]
        var named: [Int32: Named] = [:]
        /// Every district named, with a series that named it.
        var districts: [String: Int32] = [:]
        var rowsWritten = 0
        /// Whether the daily aggregates are tallied (not for a keyed stage: the merge computes them).
        let tallies: Bool

        init(zone: TimeZone, upload: String, series: [SeriesKey: Int32], tallies: Bool = true) {
            self.zone = zone
            self.upload = upload
            self.series = series
            self.tallies = tallies
        }

        /// Limits repeat on every row of a series: parsed once each.
        private var limits: [String: Double] = [:]

        private mutating func limit(_ text: String?) -> Double? {
            guard let text else { return nil }
            if let known = limits[text] { return known }
            guard let number = Double(text) else { return nil }
            if limits.count < 4_096 { limits[text] = number }
            return number
        }

        /// Rows encoded and not yet sent.
        var waiting: Int { sortable.count }

        /// Encoded rows waiting to be sorted: where each row's COPY text lies in `unsorted`.
        private var sortable: [(series: Int32, epoch: Int, start: Int, length: Int)] = []
        private var unsorted = ByteBufferAllocator().buffer(capacity: 0)

        /// The waiting rows' COPY text in (series, time) order.
        mutating func takeSorted() -> ByteBuffer {
            sortable.sort { ($0.series, $0.epoch) < ($1.series, $1.epoch) }
            var buffer = ByteBufferAllocator().buffer(capacity: unsorted.readableBytes)
            do {
                let view = unsorted.readableBytesView
                for row in sortable {
                    buffer.writeBytes(view[(view.startIndex + row.start)..<(view.startIndex + row.start + row.length)])
                }
            }
            sortable.removeAll(keepingCapacity: true)
            unsorted.clear()
            return buffer
        }

        /// Appends the COPY text of `records` to the rows waiting to be sorted and tallies them,
        /// up to the first row whose series or month (`months`) is not prepared yet; returns
        /// that row and the ones after it (empty when all were encoded).
        mutating func encode(_ records: ArraySlice<StagingRecord>,
                             months: Set<Int>) throws -> ArraySlice<StagingRecord> {
            if unsorted.capacity == 0 { unsorted.reserveCapacity(DirectEmissions.sortedRows * 96) }
            for position in records.indices {
                let record = records[position]
                guard let key = SeriesKey(record), let measuredAt = record[EmissionsColumn.measuredAt],
                      let instant = instant(measuredAt) else {
                    throw FeedLoadError("an emissions row reached the loader without its series or time (line \(record.line))")
                }
                guard let id = series[key], months.contains(instant.month) else {
                    return records[position...]
                }
                // series_id, the reading's fields, upload_id, line, extra (written field by field:
                // an array per row costs more than the row's other work)
                let start = unsorted.writerIndex - unsorted.readerIndex
                unsorted.writeString(String(id))
                for field in DirectEmissions.readingFields {
                    unsorted.writeInteger(UInt8(ascii: "\t"))
                    CopyText.append(record[field], to: &unsorted)
                }
                unsorted.writeInteger(UInt8(ascii: "\t"))
                unsorted.writeString(upload)
                unsorted.writeInteger(UInt8(ascii: "\t"))
                CopyText.append(record[EmissionsColumn.line], to: &unsorted)
                unsorted.writeInteger(UInt8(ascii: "\t"))
                CopyText.append(record[EmissionsColumn.extra], to: &unsorted)
                unsorted.writeInteger(UInt8(ascii: "\n"))
                sortable.append((id, instant.epoch, start, unsorted.writerIndex - unsorted.readerIndex - start))
                if tallies {
                    tally(series: id, instant: instant, value: record[EmissionsColumn.value],
                          limitMin: record[EmissionsColumn.limitMin], limitMax: record[EmissionsColumn.limitMax],
                          flag: record[EmissionsColumn.flag], corrected: record[EmissionsColumn.corrected],
                          o2: record[EmissionsColumn.o2])
                }
                var entry = named[id] ?? Named()
                if let name = record[EmissionsColumn.enterpriseName] {
                    entry.name = name
                    entry.nameLine = record.line
                }
                if let district = record[EmissionsColumn.district] {
                    if district != entry.district, districts[district] == nil { districts[district] = id }
                    entry.district = district
                    entry.districtLine = record.line
                }
                named[id] = entry
                rowsWritten += 1
            }
            return []
        }

        private mutating func tally(series id: Int32, instant: Instant, value: String?, limitMin: String?, limitMax: String?,
                                    flag: String?, corrected: String?, o2: String?) {
            let key = DayKey(series: id, day: instant.day)
            var entry = daily[key] ?? Daily()
            defer { daily[key] = entry }
            let isValidFlag = flag == nil || flag == "N"
            let number = value.flatMap(Double.init)
            if isValidFlag {
                if let number {
                    entry.valid += 1
                    entry.sum = entry.sum.isNaN ? number : entry.sum + number
                }
                if let stated = corrected.flatMap(Double.init) {
                    entry.correctedCount += 1
                    entry.correctedSum = entry.correctedSum.isNaN ? stated : entry.correctedSum + stated
                } else if let number, let oxygen = o2.flatMap(Double.init) {
                    let diluted = number / (21 - oxygen)
                    entry.dilutionCount += 1
                    entry.dilutionSum = entry.dilutionSum.isNaN ? diluted : entry.dilutionSum + diluted
                }
            } else {
                entry.flagged += 1
            }
            if let low = limit(limitMin) { entry.limitMin = entry.limitMin.isNaN ? low : max(entry.limitMin, low) }
            if let high = limit(limitMax) { entry.limitMax = entry.limitMax.isNaN ? high : min(entry.limitMax, high) }
        }

        /// The UTC month and local day of `2024-01-05T08:00:00+08:00` (the normaliser's form).
        mutating func instant(_ iso: String) -> Instant? {
            if let last = lastInstant, last.iso == iso { return last.instant }
            if let known = instants[iso] {
                lastInstant = (iso, known)
                return known
            }
            guard let epoch = DirectEmissions.epochSeconds(iso) else { return nil }
            let (utcDays, _) = CivilCalendar.floorDivide(epoch, by: 86_400)
            let (year, month, _) = CivilCalendar.civil(fromDays: utcDays)
            let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(epoch)))
            let (localDays, _) = CivilCalendar.floorDivide(epoch + offset, by: 86_400)
            let instant = Instant(month: year * 12 + month - 1, day: Int32(localDays), epoch: epoch)
            if instants.count >= 20_000 { instants.removeAll(keepingCapacity: true) }
            instants[iso] = instant
            return instant
        }

    }

    /// Seconds since the epoch of `YYYY-MM-DDTHH:MM:SS[.fff]±HH:MM`; nil for anything else.
    static func epochSeconds(_ iso: String) -> Int? {
        let b = Array(iso.utf8)
        guard b.count >= 25 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for index in from..<(from + count) {
                let digit = Int(b[index]) - 48
                guard digit >= 0 && digit <= 9 else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
              let offsetHours = number(b.count - 5, 2), let offsetMinutes = number(b.count - 2, 2) else { return nil }
        let sign = b[b.count - 6] == UInt8(ascii: "-") ? -1 : 1
        let days = CivilCalendar.daysFromCivil(year: year, month: month, day: day)
        return days * 86_400 + hour * 3_600 + minute * 60 + second - sign * (offsetHours * 3_600 + offsetMinutes * 60)
    }

    /// After the last batch: registers the places named and adds this upload's daily
    /// aggregates to the stored ones. Returns the readings written.
    func finish() async throws -> Int {
        try await connection.query("RESET search_path", logger: logger)
        try await registerSites()
        try await flushDaily()
        // Every reading of this upload is new, so its aggregates add to the stored ones.
        try await connection.query(PostgresQuery(unsafeSQL: """
            INSERT INTO envmon.emission_daily AS d (\(DailyAggregates.insertColumns))
            SELECT series_id, day, sum(valid_count), sum(flagged_count), sum(value_sum), max(limit_min), min(limit_max),
                   sum(corrected_sum), sum(corrected_count), sum(dilution_sum), sum(dilution_count)
            FROM stage_daily GROUP BY series_id, day ORDER BY series_id, day
            \(DailyAggregates.addOnConflict)
            """), logger: logger)
        return rows.rowsWritten
    }

    /// The places the rows named, into the site registry (after a keyed stage is merged).
    func registerSites() async throws {
        // The site registry reads `stage`: one row per outlet carrying its enterprise's latest
        // name and district, and one (line 0, so never the latest) per other district named.
        var keys: [Int32: SeriesKey] = [:]
        for (key, id) in rows.series where rows.named[id] != nil { keys[id] = key }
        var enterprises: [String: Named] = [:]
        var outlets: Set<[String]> = []
        for (id, entry) in rows.named {
            guard let key = keys[id] else { continue }
            outlets.insert([key.enterprise, key.outlet])
            var latest = enterprises[key.enterprise] ?? Named()
            if entry.name != nil, entry.nameLine > latest.nameLine {
                latest.name = entry.name
                latest.nameLine = entry.nameLine
            }
            if entry.district != nil, entry.districtLine > latest.districtLine {
                latest.district = entry.district
                latest.districtLine = entry.districtLine
            }
            enterprises[key.enterprise] = latest
        }
        var sites = ByteBufferAllocator().buffer(capacity: (outlets.count + rows.districts.count) * 64)
        for pair in outlets.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let latest = enterprises[pair[0]]
            CopyText.appendRow(["1", pair[0], latest?.name, latest?.district, pair[1]], to: &sites)
        }
        for (district, id) in rows.districts.sorted(by: { $0.key < $1.key }) {
            guard let key = keys[id], enterprises[key.enterprise]?.district != district else { continue }
            CopyText.appendRow(["0", key.enterprise, nil, district, key.outlet], to: &sites)
        }
        if sites.readableBytes > 0 {
            try await connection.copyFrom(
                table: "stage", columns: ["line", "enterprise_id", "enterprise_name", "district", "outlet_id"],
                logger: logger
            ) { writer in try await writer.write(sites) }
        }
        try await SiteRegistry.register(kind: .emissions, uploadID: uploadID, on: connection, logger: logger)
    }

}

/// A row the normaliser should never have produced reached the loader (a program error).
struct FeedLoadError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
