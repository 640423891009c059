public import EnvMonDomain
public import Foundation
import Logging
import PostgresNIO
import Synchronization

/// One HJ 212 packet to archive, with the values it carries (the listener's parse of it).
public struct PacketRecord: Sendable {
    /// What the commit does with the packet.
    public enum Handling: Sendable, Equatable {
        /// Archived with this outcome, no device check, nothing stored (bad_crc, malformed).
        case rejected(PacketOutcome)
        /// Device check (MN, PW); then its values are stored: `stored` or `duplicate`.
        case data
        /// Device check; then archived as `unsupported` (a command envmon does not take).
        case unsupported
    }

    /// Which table the values go to, by command.
    public enum Table: Sendable, Equatable {
        /// CN 2061: the emissions fact table.
        case hourly
        /// CN 2031: `envmon.hj212_daily`.
        case daily
        /// CN 2051 and 2011: `envmon.hj212_minute`.
        case minute
    }

    public var receivedAt: Date
    public var peer: String
    public var raw: [UInt8]
    public var mn: String?
    public var cn: String?
    public var qn: String?
    public var password: String?
    public var dataTime: String?
    public var handling: Handling
    public var table: Table
    /// Why, for rejected packets; what was left out (unmapped codes, flags) for the others.
    public var detail: String?
    public var values: [PacketValue]

    public init(receivedAt: Date, peer: String, raw: [UInt8], mn: String? = nil, cn: String? = nil, qn: String? = nil,
                password: String? = nil, dataTime: String? = nil, handling: Handling, table: Table = .hourly,
                detail: String? = nil, values: [PacketValue] = []) {
        self.receivedAt = receivedAt
        self.peer = peer
        self.raw = raw
        self.mn = mn
        self.cn = cn
        self.qn = qn
        self.password = password
        self.dataTime = dataTime
        self.handling = handling
        self.table = table
        self.detail = detail
        self.values = values
    }
}

/// One pollutant's value of a packet, in envmon's words.
public struct PacketValue: Sendable, Equatable {
    /// envmon pollutant code (SO2, NOx, PM, COD, …).
    public var pollutant: String
    public var measuredAt: Date
    /// The interval mean (`-Avg`), or the real-time value.
    public var value: Double?
    /// The O2-corrected value (`-ZsAvg`).
    public var corrected: Double?
    /// The flue gas O2 (%) of the same packet, when it carries one below 21.
    public var o2: Double?
    /// The HJ 212 data flag (N F M S D C T B), nil when the device sent none.
    public var flag: String?
    public var unit: String?
    public var min: Double?
    public var max: Double?
    public var cou: Double?
    /// The HJ 212 code as sent.
    public var code: String

    public init(pollutant: String, measuredAt: Date, value: Double?, corrected: Double? = nil, o2: Double? = nil,
                flag: String? = nil, unit: String? = nil, min: Double? = nil, max: Double? = nil, cou: Double? = nil,
                code: String) {
        self.pollutant = pollutant
        self.measuredAt = measuredAt
        self.value = value
        self.corrected = corrected
        self.o2 = o2
        self.flag = flag
        self.unit = unit
        self.min = min
        self.max = max
        self.cou = cou
        self.code = code
    }
}

/// What the commit made of one packet.
public struct PacketResult: Sendable, Equatable {
    public var id: Int64
    public var outcome: PacketOutcome
    /// Values stored or changed.
    public var readings: Int
}

/// The HJ 212 packet archive and the group commit of packets' values (migration 0011).
///
/// `commit` writes a batch of packets in ONE transaction: the device check, hourly values
/// through the emissions merge that file loads use (`EmissionsMerge`: history, daily aggregates),
/// daily and minute values, and every packet's archive row with its outcome. The listener
/// answers a packet only after this returns.
public struct PacketArchive: Sendable {
    public let database: Database
    /// Series ids met by this archive's commits, so that a commit names its readings' series
    /// without a join of the batch (shared by the copies of this value).
    let knownSeries = KnownSeries()

    public init(database: Database) {
        self.database = database
    }

    /// The session name of commits, so that operators (and tests) can find them in
    /// `pg_stat_activity`.
    public static let applicationName = "envmon hj212"

    public func commit(_ packets: [PacketRecord]) async throws -> [PacketResult] {
        guard !packets.isEmpty else { return [] }
        let logger = database.logger
        let (results, resolved) = try await database.client.withTransaction(logger: logger) { tx in
            var resolved: [DirectEmissions.SeriesKey: Int32] = [:]
            try await tx.query("SELECT set_config('application_name', \(Self.applicationName), true)", logger: logger)
            var ids: [Int64] = []
            for try await id in try await tx.query(
                "SELECT nextval('envmon.hj212_packet_id_seq') FROM generate_series(1, \(packets.count))", logger: logger
            ).decode(Int64.self) { ids.append(id) }
            guard ids.count == packets.count else { throw EnvMonError.invalid("packet ids were not allocated") }

            var outcomes: [PacketOutcome?] = packets.map { packet in
                if case .rejected(let outcome) = packet.handling { return outcome }
                return nil
            }
            let places = try await checkDevices(packets, outcomes: &outcomes, on: tx)
            var readings = [Int](repeating: 0, count: packets.count)
            var touched = [Bool](repeating: false, count: packets.count)

            var hourly: [(Int, PacketValue)] = []
            var daily: [(Int, PacketValue)] = []
            var minutes: [(Int, PacketValue)] = []
            for (index, packet) in packets.enumerated() where outcomes[index] == nil {
                for value in packet.values {
                    switch packet.table {
                    case .hourly: hourly.append((index, value))
                    case .daily: daily.append((index, value))
                    case .minute: minutes.append((index, value))
                    }
                }
            }
            if !hourly.isEmpty {
                let (loaded, series) = try await mergeHourly(hourly, packets: packets, ids: ids, places: places, on: tx)
                resolved = series
                for (index, _) in hourly { touched[index] = true }
                for (index, id) in ids.enumerated() { readings[index] += loaded[-id] ?? 0 }
            }
            let position = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
            if !daily.isEmpty {
                for (index, _) in daily { touched[index] = true }
                for (id, n) in try await upsertDaily(daily, packets: packets, ids: ids, places: places, on: tx) {
                    if let index = position[id] { readings[index] += n }
                }
            }
            if !minutes.isEmpty {
                for (index, _) in minutes { touched[index] = true }
                for (id, n) in try await insertMinutes(minutes, packets: packets, ids: ids, on: tx) {
                    if let index = position[id] { readings[index] += n }
                }
            }
            for index in packets.indices where outcomes[index] == nil {
                outcomes[index] = touched[index] && readings[index] == 0 ? .duplicate : .stored
            }
            let results = packets.indices.map { index in
                PacketResult(id: ids[index], outcome: outcomes[index] ?? .malformed, readings: readings[index])
            }
            try await archive(packets, results: results, on: tx)
            return (results, resolved)
        }
        // Committed: the series it registered exist for good (series are never deleted).
        knownSeries.remember(resolved)
        return results
    }

    /// Decides unknown_device, bad_password and unsupported; returns the (enterprise, outlet)
    /// of each packet whose device passed.
    private func checkDevices(
        _ packets: [PacketRecord], outcomes: inout [PacketOutcome?], on tx: PostgresConnection
    ) async throws -> [Int: (String, String)] {
        let checked = packets.indices.filter { outcomes[$0] == nil }
        guard !checked.isEmpty else { return [:] }
        let mns = Array(Set(checked.compactMap { packets[$0].mn }))
        var devices: [String: (hash: [UInt8], enterprise: String, outlet: String, active: Bool)] = [:]
        let rows = try await tx.query("""
            SELECT mn, password_sha256, enterprise_id, outlet_id, retired_at IS NULL
            FROM envmon.hj212_device WHERE mn = ANY(\(mns))
            """, logger: database.logger)
        for try await (mn, hash, enterprise, outlet, active) in rows.decode((String, ByteBuffer, String, String, Bool).self) {
            devices[mn] = (Array(hash.readableBytesView), enterprise, outlet, active)
        }
        var places: [Int: (String, String)] = [:]
        for index in checked {
            let packet = packets[index]
            guard let mn = packet.mn, let device = devices[mn], device.active else {
                outcomes[index] = .unknownDevice
                continue
            }
            guard let password = packet.password, DataLoggerStore.passwordHash(password) == device.hash else {
                outcomes[index] = .badPassword
                continue
            }
            if packet.handling == .unsupported {
                outcomes[index] = .unsupported
                continue
            }
            places[index] = (device.enterprise, device.outlet)
        }
        return places
    }

    /// Hourly values into the emissions fact table: series resolved here (from `knownSeries`,
    /// the rest registered in this transaction), month partitions made, the rows written to
    /// the keyed stage and merged from there (`EmissionsMerge`, as a file's correction). Returns
    /// readings stored or changed per −packet id, and the series this commit resolved, to
    /// remember once it has committed.
    private func mergeHourly(
        _ values: [(Int, PacketValue)], packets: [PacketRecord], ids: [Int64], places: [Int: (String, String)],
        on tx: PostgresConnection
    ) async throws -> (loaded: [Int64: Int], resolved: [DirectEmissions.SeriesKey: Int32]) {
        let logger = database.logger
        var keys: [DirectEmissions.SeriesKey] = []
        var rows: [(index: Int, key: DirectEmissions.SeriesKey, value: PacketValue)] = []
        var months: Set<Int> = []
        for (index, value) in values {
            guard let (enterprise, outlet) = places[index] else { continue }
            let key = DirectEmissions.SeriesKey(enterprise: enterprise, outlet: outlet, pollutant: value.pollutant)
            keys.append(key)
            rows.append((index, key, value))
            months.insert(Self.utcMonth(value.measuredAt))
        }
        guard !rows.isEmpty else { return ([:], [:]) }
        // Partitions on a connection of their own (they wait for other loads on the parent table;
        // inside this transaction that wait could close a cycle with them).
        for month in months.sorted() {
            try await database.client.query(
                "SELECT envmon.ensure_emission_partition(\(DirectEmissions.monthStart(month: month))::date)", logger: logger)
        }
        let series = try await resolveSeries(Set(keys), on: tx)
        var columns = Columns()
        var seriesIDs: [Int32] = []
        for (index, key, value) in rows {
            guard let id = series[key] else { throw EnvMonError.invalid("series \(key.enterprise)/\(key.outlet)/\(key.pollutant) was not registered") }
            // Written directly (this runs for every reading of a batch): keys in sorted order.
            var extra = "{\"code\":" + Self.jsonString(value.code)
            if let cou = value.cou { extra += ",\"cou\":\(cou)" }
            if let max = value.max { extra += ",\"max\":\(max)" }
            if let min = value.min { extra += ",\"min\":\(min)" }
            extra += ",\"mn\":" + Self.jsonString(packets[index].mn ?? "") + ",\"packet_id\":\(ids[index])"
            if let qn = packets[index].qn { extra += ",\"qn\":" + Self.jsonString(qn) }
            extra += ",\"source\":\"hj212\"}"
            columns.append(upload: -ids[index], enterprise: key.enterprise, outlet: key.outlet, value: value, extra: extra)
            seriesIDs.append(id)
        }
        try await tx.query("CREATE TEMP TABLE stage_keyed (LIKE envmon.emission_reading) ON COMMIT DROP", logger: logger)
        try await tx.query("""
            INSERT INTO stage_keyed (series_id, measured_at, value, below_detection, unit, flag, corrected, o2, upload_id, extra)
            SELECT u.series, to_timestamp(u.at), nullif(u.value, 'NaN'), false, nullif(u.unit, ''), nullif(u.flag, ''),
                   nullif(u.corrected, 'NaN'), nullif(u.o2, 'NaN'), u.upload, u.extra::jsonb
            FROM unnest(\(seriesIDs)::int4[], \(columns.at)::float8[], \(columns.value)::float8[], \(columns.unit)::text[],
                        \(columns.flag)::text[], \(columns.corrected)::float8[], \(columns.o2)::float8[],
                        \(columns.upload)::int8[], \(columns.extra)::text[])
                 AS u(series, at, value, unit, flag, corrected, o2, upload, extra)
            """, logger: logger)
        let loaded = try await EmissionsMerge.merge(
            rowUploadID: "s.upload_id", binds: PostgresBindings(), keyed: true, database: database, on: tx
        ).loaded
        return (loaded, series)
    }

    /// The series ids of `keys`: those known from earlier commits, the rest looked up and, when
    /// new, registered in this transaction (in key order, as concurrent loads do).
    private func resolveSeries(
        _ keys: Set<DirectEmissions.SeriesKey>, on tx: PostgresConnection
    ) async throws -> [DirectEmissions.SeriesKey: Int32] {
        var series = knownSeries.lookup(keys)
        let missing = keys.filter { series[$0] == nil }
        guard !missing.isEmpty else { return series }
        series.merge(try await DirectEmissions.registerSeries(missing, on: tx, logger: database.logger)) { _, new in new }
        return series
    }

    /// The UTC month of `instant`, counted as `DirectEmissions` counts months.
    static func utcMonth(_ instant: Date) -> Int {
        let date = CivilDate(dayNumber: Int((instant.timeIntervalSince1970 / 86_400).rounded(.down)))
        return date.year * 12 + date.month - 1
    }

    private func upsertDaily(
        _ values: [(Int, PacketValue)], packets: [PacketRecord], ids: [Int64], places: [Int: (String, String)],
        on tx: PostgresConnection
    ) async throws -> [Int64: Int] {
        var columns = Columns()
        var mns: [String] = []
        var received: [Double] = []
        for (index, value) in values {
            guard let (enterprise, outlet) = places[index] else { continue }
            columns.append(upload: ids[index], enterprise: enterprise, outlet: outlet, value: value, extra: "")
            mns.append(packets[index].mn ?? "")
            received.append(packets[index].receivedAt.timeIntervalSince1970)
        }
        guard !mns.isEmpty else { return [:] }
        let zone = try await FeedZone.name(on: tx, logger: database.logger)
        var changed: [Int64: Int] = [:]
        let rows = try await tx.query("""
            WITH touched AS (
                INSERT INTO envmon.hj212_daily (enterprise_id, outlet_id, pollutant, day, mn, avg, corrected, min, max,
                                                cou, flag, packet_id, received_at)
                SELECT DISTINCT ON (u.enterprise, u.outlet, u.pollutant, u.day)
                       u.enterprise, u.outlet, u.pollutant, u.day, u.mn,
                       nullif(u.value, 'NaN'), nullif(u.corrected, 'NaN'), nullif(u.min, 'NaN'), nullif(u.max, 'NaN'),
                       nullif(u.cou, 'NaN'), nullif(u.flag, ''), u.id, to_timestamp(u.received)
                FROM (
                    SELECT v.*, (to_timestamp(v.at) AT TIME ZONE \(zone))::date AS day
                    FROM unnest(\(columns.enterprise)::text[], \(columns.outlet)::text[], \(columns.pollutant)::text[],
                                \(columns.at)::float8[], \(columns.value)::float8[], \(columns.corrected)::float8[],
                                \(columns.min)::float8[], \(columns.max)::float8[], \(columns.cou)::float8[],
                                \(columns.flag)::text[], \(columns.upload)::int8[], \(mns)::text[], \(received)::float8[])
                         AS v(enterprise, outlet, pollutant, at, value, corrected, min, max, cou, flag, id, mn, received)
                ) u
                ORDER BY u.enterprise, u.outlet, u.pollutant, u.day, u.id DESC
                ON CONFLICT (enterprise_id, outlet_id, pollutant, day) DO UPDATE SET
                    mn = EXCLUDED.mn, avg = EXCLUDED.avg, corrected = EXCLUDED.corrected, min = EXCLUDED.min,
                    max = EXCLUDED.max, cou = EXCLUDED.cou, flag = EXCLUDED.flag, packet_id = EXCLUDED.packet_id,
                    received_at = EXCLUDED.received_at
                WHERE (hj212_daily.avg, hj212_daily.corrected, hj212_daily.min, hj212_daily.max, hj212_daily.cou,
                       hj212_daily.flag)
                      IS DISTINCT FROM (EXCLUDED.avg, EXCLUDED.corrected, EXCLUDED.min, EXCLUDED.max, EXCLUDED.cou,
                                        EXCLUDED.flag)
                RETURNING packet_id
            ) SELECT packet_id, count(*)::integer FROM touched GROUP BY packet_id
            """, logger: database.logger)
        for try await (id, n) in rows.decode((Int64, Int).self) { changed[id] = n }
        return changed
    }

    private func insertMinutes(
        _ values: [(Int, PacketValue)], packets: [PacketRecord], ids: [Int64], on tx: PostgresConnection
    ) async throws -> [Int64: Int] {
        var columns = Columns()
        var mns: [String] = []
        var cns: [String] = []
        var received: [Double] = []
        for (index, value) in values {
            columns.append(upload: ids[index], enterprise: "", outlet: "", value: value, extra: "")
            mns.append(packets[index].mn ?? "")
            cns.append(packets[index].cn ?? "")
            received.append(packets[index].receivedAt.timeIntervalSince1970)
        }
        var changed: [Int64: Int] = [:]
        // A value sent again (same device, command, pollutant, time, value and flag) is not kept twice.
        let rows = try await tx.query("""
            WITH touched AS (
                INSERT INTO envmon.hj212_minute (mn, cn, pollutant, measured_at, value, corrected, flag, packet_id,
                                                 received_at)
                SELECT u.mn, u.cn, u.pollutant, to_timestamp(u.at), nullif(u.value, 'NaN'), nullif(u.corrected, 'NaN'),
                       nullif(u.flag, ''), u.id, to_timestamp(u.received)
                FROM unnest(\(mns)::text[], \(cns)::text[], \(columns.pollutant)::text[], \(columns.at)::float8[],
                            \(columns.value)::float8[], \(columns.corrected)::float8[], \(columns.flag)::text[],
                            \(columns.upload)::int8[], \(received)::float8[])
                     AS u(mn, cn, pollutant, at, value, corrected, flag, id, received)
                WHERE NOT EXISTS (
                    SELECT 1 FROM envmon.hj212_minute m
                    WHERE m.mn = u.mn AND m.pollutant = u.pollutant AND m.measured_at = to_timestamp(u.at)
                      AND m.cn = u.cn AND m.value IS NOT DISTINCT FROM nullif(u.value, 'NaN')
                      AND m.flag IS NOT DISTINCT FROM nullif(u.flag, ''))
                RETURNING packet_id
            ) SELECT packet_id, count(*)::integer FROM touched GROUP BY packet_id
            """, logger: database.logger)
        for try await (id, n) in rows.decode((Int64, Int).self) { changed[id] = n }
        return changed
    }

    private func archive(_ packets: [PacketRecord], results: [PacketResult], on tx: PostgresConnection) async throws {
        var received: [Double] = []
        var peers: [String] = []
        var mns: [String] = []
        var cns: [String] = []
        var qns: [String] = []
        var times: [String] = []
        var outcomes: [String] = []
        var details: [String] = []
        var counts: [Int64] = []
        var raws: [String] = []
        var ids: [Int64] = []
        for (packet, result) in zip(packets, results) {
            ids.append(result.id)
            received.append(packet.receivedAt.timeIntervalSince1970)
            peers.append(packet.peer)
            mns.append(Self.storable(packet.mn))
            cns.append(Self.storable(packet.cn))
            qns.append(Self.storable(packet.qn))
            times.append(Self.storable(packet.dataTime))
            outcomes.append(result.outcome.rawValue)
            details.append(Self.storable(packet.detail, limit: 2000))
            counts.append(Int64(result.readings))
            raws.append(Self.hex(packet.raw))
        }
        try await tx.query("""
            INSERT INTO envmon.hj212_packet (id, received_at, peer, mn, cn, qn, data_time, outcome, detail, readings, raw)
            SELECT u.id, to_timestamp(u.received), u.peer, nullif(u.mn, ''), nullif(u.cn, ''), nullif(u.qn, ''),
                   nullif(u.data_time, ''), u.outcome, nullif(u.detail, ''), u.readings, decode(u.raw, 'hex')
            FROM unnest(\(ids)::int8[], \(received)::float8[], \(peers)::text[], \(mns)::text[], \(cns)::text[],
                        \(qns)::text[], \(times)::text[], \(outcomes)::text[], \(details)::text[], \(counts)::int8[],
                        \(raws)::text[])
                 AS u(id, received, peer, mn, cn, qn, data_time, outcome, detail, readings, raw)
            """, logger: database.logger)
    }

    /// Header text as it may be stored: printable ASCII only, at most `limit` characters.
    static func storable(_ text: String?, limit: Int = 64) -> String {
        guard let text else { return "" }
        var result = ""
        for scalar in text.unicodeScalars.prefix(limit) {
            result.unicodeScalars.append(scalar.value >= 0x20 && scalar.value != 0x7F ? scalar : "?")
        }
        return result
    }

    /// `text` as a JSON string literal.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Maintenance

    /// Makes the day partitions of the packet and minute tables from yesterday to `days` ahead.
    /// Also this and next month's partitions of the readings table, so that live traffic rarely
    /// has to make one while commits run.
    public func ensurePartitions(days: Int = 3) async throws {
        try await database.client.query(
            "SELECT envmon.hj212_ensure_partitions((now() AT TIME ZONE 'UTC')::date - 1, \(days + 1)::integer)",
            logger: database.logger)
        try await database.client.query("""
            SELECT envmon.ensure_emission_partition((date_trunc('month', now() AT TIME ZONE 'UTC') + m * interval '1 month')::date)
            FROM generate_series(0, 1) m
            """, logger: database.logger)
    }

    /// Hourly values derived from minute data (CN 2051) under HJ 75-2017, for hours of the last
    /// two days that ended at least 10 minutes ago and have no hourly value: the mean of at
    /// least `minimumValidMinutes` distinct valid minutes (flag N or none). Stored through the
    /// emissions merge with `upload_id` = −(the latest minute packet's id) and
    /// `extra.derived_from_minutes`; a CN 2061 packet for the hour supersedes it later.
    /// Returns the readings stored.
    public func deriveHours(minimumValidMinutes: Int = 45) async throws -> Int {
        let logger = database.logger
        // The month partitions first, outside the transaction: making one waits for readers of
        // the readings table, which the transaction below is (see EmissionsMerge).
        var months: [String] = []
        for try await month in try await database.client.query("""
            SELECT DISTINCT date_trunc('month', measured_at AT TIME ZONE 'UTC')::date::text FROM envmon.hj212_minute
            WHERE cn = '2051' AND received_at > now() - interval '2 days'
            """, logger: logger).decode(String.self) { months.append(month) }
        for month in months.sorted() {
            try await database.client.query("SELECT envmon.ensure_emission_partition(\(month)::date)", logger: logger)
        }
        return try await database.client.withTransaction(logger: logger) { tx in
            try await tx.query(PostgresQuery(unsafeSQL: FactTable.forKind(.emissions).createStage), logger: logger)
            try await tx.query("ALTER TABLE stage ADD COLUMN packet_upload_id bigint", logger: logger)
            var staged = 0
            for try await n in try await tx.query("""
                WITH minutes AS (
                    SELECT DISTINCT ON (mn, pollutant, measured_at)
                           mn, pollutant, measured_at, date_trunc('hour', measured_at) AS hour, value, corrected, packet_id
                    FROM envmon.hj212_minute
                    WHERE cn = '2051' AND received_at > now() - interval '2 days'
                      AND coalesce(flag, 'N') = 'N' AND value IS NOT NULL
                    ORDER BY mn, pollutant, measured_at, packet_id DESC
                ), hours AS (
                    SELECT d.enterprise_id, d.outlet_id, m.pollutant, m.hour, m.mn, avg(m.value) AS value,
                           CASE WHEN count(m.corrected) = count(*) THEN avg(m.corrected) END AS corrected,
                           count(*) AS minutes, max(m.packet_id) AS packet_id
                    FROM minutes m
                    JOIN envmon.hj212_device d ON d.mn = m.mn AND d.retired_at IS NULL
                    WHERE m.hour + interval '1 hour' <= now() - interval '10 minutes'
                    GROUP BY d.enterprise_id, d.outlet_id, m.pollutant, m.hour, m.mn
                    HAVING count(*) >= \(minimumValidMinutes)
                ), inserted AS (
                    INSERT INTO stage (enterprise_id, outlet_id, pollutant, measured_at, value, below_detection, flag,
                                       corrected, extra, packet_upload_id)
                    SELECT DISTINCT ON (h.enterprise_id, h.outlet_id, h.pollutant, h.hour)
                           h.enterprise_id, h.outlet_id, h.pollutant, h.hour, h.value, false, 'N', h.corrected,
                           jsonb_build_object('source', 'hj212', 'mn', h.mn, 'derived_from_minutes', h.minutes,
                                              'packet_id', h.packet_id),
                           -h.packet_id
                    FROM hours h
                    WHERE NOT EXISTS (
                        SELECT 1 FROM envmon.emission_series s JOIN envmon.emission_reading r ON r.series_id = s.series_id
                        WHERE s.enterprise_id = h.enterprise_id AND s.outlet_id = h.outlet_id AND s.pollutant = h.pollutant
                          AND r.measured_at = h.hour)
                    ORDER BY h.enterprise_id, h.outlet_id, h.pollutant, h.hour, h.minutes DESC
                    RETURNING 1
                ) SELECT count(*)::integer FROM inserted
                """, logger: logger).decode(Int.self) { staged = n }
            guard staged > 0 else { return 0 }
            let merged = try await EmissionsMerge.merge(
                rowUploadID: "s.packet_upload_id", binds: PostgresBindings(), database: database, on: tx)
            return merged.loaded.values.reduce(0, +)
        }
    }

    /// Drops what is past its retention; returns the partitions dropped.
    public func dropExpired() async throws -> Int {
        var dropped = 0
        for try await n in try await database.client.query("SELECT envmon.hj212_drop_expired()", logger: database.logger)
            .decode(Int.self) { dropped = n }
        return dropped
    }
}

/// Parallel arrays of packet values, bound as PostgreSQL arrays (NULL numbers as NaN, NULL
/// text as '': no COPY, whose connection loss PostgresNIO 1.33 never reports).
private struct Columns {
    var upload: [Int64] = []
    var enterprise: [String] = []
    var outlet: [String] = []
    var pollutant: [String] = []
    var at: [Double] = []
    var value: [Double] = []
    var unit: [String] = []
    var flag: [String] = []
    var corrected: [Double] = []
    var o2: [Double] = []
    var min: [Double] = []
    var max: [Double] = []
    var cou: [Double] = []
    var extra: [String] = []

    mutating func append(upload id: Int64, enterprise: String, outlet: String, value v: PacketValue, extra json: String) {
        upload.append(id)
        self.enterprise.append(enterprise)
        self.outlet.append(outlet)
        pollutant.append(v.pollutant)
        at.append(v.measuredAt.timeIntervalSince1970)
        value.append(v.value ?? .nan)
        unit.append(v.unit ?? "")
        flag.append(v.flag ?? "")
        corrected.append(v.corrected ?? .nan)
        o2.append(v.o2 ?? .nan)
        min.append(v.min ?? .nan)
        max.append(v.max ?? .nan)
        cou.append(v.cou ?? .nan)
        extra.append(json)
    }
}

/// Series ids known to exist (`envmon.emission_series` rows are never deleted), learned from
/// committed HJ 212 group commits.
final class KnownSeries: Sendable {
    private let ids = Mutex<[DirectEmissions.SeriesKey: Int32]>([:])

    func lookup(_ keys: Set<DirectEmissions.SeriesKey>) -> [DirectEmissions.SeriesKey: Int32] {
        ids.withLock { known in
            var found: [DirectEmissions.SeriesKey: Int32] = [:]
            for key in keys { if let id = known[key] { found[key] = id } }
            return found
        }
    }

    func remember(_ resolved: [DirectEmissions.SeriesKey: Int32]) {
        guard !resolved.isEmpty else { return }
        ids.withLock { $0.merge(resolved) { _, new in new } }
    }
}
