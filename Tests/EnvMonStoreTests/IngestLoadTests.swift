import EmbeddedPostgres
import EnvMonDomain
@testable import EnvMonServer
@testable import EnvMonStore
import EnvMonTestSupport
import Foundation
import Testing

/// Sample feeds with canonical headers, one small table per kind.
enum Feeds {
    static let emissions = """
        enterprise_id,enterprise_name,district,outlet_id,pollutant,measured_at,value,unit,limit,flag
        91310115MA1H000001,东方热电,城关街道,DA001,SO2,2026-03-01 10:00,20.5,mg/m3,35,N
        91310115MA1H000001,东方热电,城关街道,DA001,NOx,2026-03-01 10:00,48,mg/m3,50,N
        91310115MA1H000002,南湖化工,南湖街道,DW001,COD,2026-03-01 10:00,60,mg/L,50,
        """
    static let sewage = """
        plant_id,plant_name,district,period,sewage_discharged_m3,sewage_treated_m3
        WWTP01,城北污水处理厂,城关街道,2026-03,1000000,960000
        WWTP02,南湖污水处理厂,南湖街道,2026-03,500000,450000
        """
    static let water = """
        section_id,section_name,river,river_level,sampled_at,ph,do,codmn,nh3n,tp
        S01,东桥,东河,2,2026-03-05 09:00,7.2,6.1,3.5,0.4,0.08
        S02,西闸,西河,2,2026-03-05 09:00,7.9,1.5,9.0,2.6,0.5
        """
    static let green = """
        district,period,built_up_area_ha,green_covered_area_ha,park_green_area_ha,population
        城关街道,2025,1200,500,90,100000
        南湖街道,2025,800,300,60,70000
        """
    static let waste = """
        district,period,collected_t,harmless_t,white_pollution_sites,white_pollution_remediated
        城关街道,2026-03,3000,3000,20,19
        南湖街道,2026-03,2000,1990,10,8
        """

    static let permits = """
        enterprise_id,enterprise_name,outlet_id,pollutant,limit,unit,o2_reference,monitoring,valid_from,valid_to
        91310115MA1H000001,东方热电,DA001,SO2,35,mg/m3,6,自动,2026-01-01,
        91310115MA1H000001,东方热电,DA001,NOx,50,mg/m3,6,自动,2026-01-01,2028-12-31
        91310115MA1H000002,南湖化工,DW001,pH,6-9,,,手工,,
        """

    static func csv(_ kind: FeedKind) -> String {
        switch kind {
        case .emissions: return emissions
        case .sewage: return sewage
        case .water: return water
        case .green: return green
        case .waste: return waste
        case .permits: return permits
        }
    }

    static func factTable(_ kind: FeedKind) -> String {
        FactTable.forKind(kind).table
    }

    /// The same rows as JSON objects (all values as strings, as exports often have them).
    static func objects(_ csv: String) -> [String] {
        let lines = csv.split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.dropFirst().map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let pairs = zip(header, cells).map { "\"\($0)\": \"\($1)\"" }
            return "{" + pairs.joined(separator: ", ") + "}"
        }
    }

    static func json(_ csv: String) -> String { "[\n" + objects(csv).joined(separator: ",\n") + "\n]" }
    static func wrappedJSON(_ csv: String) -> String { "{\"records\": " + json(csv) + "}" }
    static func ndjson(_ csv: String) -> String { objects(csv).joined(separator: "\n") + "\n" }
}

@Suite(.timeLimit(.minutes(10)), .temporaryDatabases)
struct IngestLoadTests {
    static let kinds = FeedKind.allCases

    func count(_ db: TestDatabase, _ table: String) async throws -> Int {
        Int(try await db.rows("SELECT count(*) AS n FROM \(table)").first?["n"].flatMap { $0 } ?? "") ?? -1
    }

    @Test(arguments: FeedKind.allCases, ["csv", "json", "records", "ndjson"])
    func everyKindLoadsFromEveryFormat(kind: FeedKind, format: String) async throws {
        let db = try await TestDatabase.make()
        let csv = Feeds.csv(kind)
        let text: String
        switch format {
        case "json": text = Feeds.json(csv)
        case "records": text = Feeds.wrappedJSON(csv)
        case "ndjson": text = Feeds.ndjson(csv)
        default: text = csv
        }
        let expected = csv.split(separator: "\n").count - 1
        let result = try await db.ingest(kind, bytes: Array(text.utf8), fileName: "\(kind).\(format)")
        #expect(result.status == "loaded", "\(result.error ?? "")")
        #expect(result.rowsLoaded == expected)
        #expect(result.rowsTotal == expected)
        #expect(try await count(db, Feeds.factTable(kind)) == expected)
    }

    @Test func sameBytesAgainAreADuplicateAndLoadNothing() async throws {
        let db = try await TestDatabase.make()
        let first = try await db.ingest(.sewage, csv: Feeds.sewage)
        let again = try await db.ingest(.sewage, csv: Feeds.sewage)
        #expect(again.status == "duplicate")
        #expect(again.duplicateOf == first.id)
        #expect(again.id != first.id)
        #expect(try await count(db, "envmon.sewage_report") == 2)
        let rows = try await db.rows("SELECT status, duplicate_of, (SELECT count(*) FROM envmon.upload_chunk c WHERE c.upload_id = u.id) AS chunks FROM envmon.upload u WHERE id = \(again.id)")
        #expect(rows.first?["status"] == "duplicate")
        #expect(rows.first?["chunks"] == "0")
        // The same bytes as another kind are a different upload.
        let otherKind = try await db.ingest(.waste, csv: Feeds.sewage)
        #expect(otherKind.status != "duplicate")
    }

    @Test func changedRowsSupersedeWithHistoryAndRevertRestores() async throws {
        let db = try await TestDatabase.make()
        let first = try await db.ingest(.emissions, csv: Feeds.emissions)
        #expect(first.rowsLoaded == 3)
        let corrected = Feeds.emissions.replacingOccurrences(of: "2026-03-01 10:00,60,mg/L", with: "2026-03-01 10:00,45,mg/L")
        let second = try await db.ingest(.emissions, csv: corrected)
        #expect(second.status == "loaded")
        #expect(second.rowsLoaded == 1)
        #expect(second.rowsSuperseded == 1)
        #expect(second.rowsUnchanged == 2)
        #expect(second.rowsTotal == second.rowsLoaded + second.rowsUnchanged + second.rowsRejected + second.rowsSkipped)
        let current = try await db.rows("""
            SELECT r.value::text AS value, r.upload_id::text AS upload FROM envmon.emission_reading r
            JOIN envmon.emission_series s USING (series_id) WHERE s.pollutant = 'COD'
            """)
        #expect(current.first?["value"] == "45")
        #expect(current.first?["upload"] == String(second.id))
        let history = try await db.rows("SELECT value::text AS value, upload_id, superseded_by FROM envmon.emission_reading_history")
        #expect(history.count == 1)
        #expect(history.first?["value"] == "60")
        #expect(history.first?["upload_id"] == String(first.id))
        #expect(history.first?["superseded_by"] == String(second.id))

        let reverted = try await db.withDatabase { db in try await UploadRevert(database: db).revert(uploadID: second.id) }
        #expect(reverted.rowsRestored == 1)
        let restored = try await db.rows("""
            SELECT r.value::text AS value FROM envmon.emission_reading r
            JOIN envmon.emission_series s USING (series_id) WHERE s.pollutant = 'COD'
            """)
        #expect(restored.first?["value"] == "60")
        #expect(try await count(db, "envmon.emission_reading") == 3)
        #expect(try await count(db, "envmon.emission_reading_history") == 0)
        #expect(try await db.rows("SELECT status FROM envmon.upload WHERE id = \(second.id)").first?["status"] == "reverted")
        // Reverting the first upload too leaves nothing.
        _ = try await db.withDatabase { db in try await UploadRevert(database: db).revert(uploadID: first.id) }
        #expect(try await count(db, "envmon.emission_reading") == 0)
        #expect(try await count(db, "envmon.emission_daily") == 0)
    }

    @Test func periodKindsSupersedeAndRevertToo() async throws {
        let db = try await TestDatabase.make()
        let first = try await db.ingest(.waste, csv: Feeds.waste)
        let second = try await db.ingest(.waste, csv: Feeds.waste.replacingOccurrences(of: "2000,1990", with: "2000,2000"))
        #expect(second.rowsSuperseded == 1)
        #expect(second.rowsUnchanged == 1)
        #expect(try await db.rows("SELECT harmless_t::text AS h FROM envmon.waste_report WHERE district = '南湖街道'").first?["h"] == "2000")
        _ = try await db.withDatabase { db in try await UploadRevert(database: db).revert(uploadID: second.id) }
        #expect(try await db.rows("SELECT harmless_t::text AS h, upload_id FROM envmon.waste_report WHERE district = '南湖街道'").first?["h"] == "1990")
        #expect(try await count(db, "envmon.waste_report") == 2)
        _ = first
    }

    @Test func aRepeatedNaturalKeyIsRejectedNamingTheEarlierLine() async throws {
        let db = try await TestDatabase.make()
        let csv = Feeds.sewage + "\nWWTP01,城北污水处理厂,城关街道,2026-03,1000001,960001"
        let result = try await db.ingest(.sewage, csv: csv)
        #expect(result.status == "loaded")
        #expect(result.rowsLoaded == 2)
        #expect(result.rowsRejected == 1)
        let rejection = try #require(try await db.rows("SELECT line, reason FROM envmon.upload_rejection WHERE upload_id = \(result.id)").first)
        #expect(rejection["line"] == "4")
        #expect(rejection["reason"]??.contains("as line 2") == true)
    }

    @Test func allRowsBadFailsTheUploadWithEveryRejectionListed() async throws {
        let db = try await TestDatabase.make()
        let csv = """
            plant_id,period,sewage_discharged_m3,sewage_treated_m3
            P1,2026-03,abc,100
            P2,2026-03,100,200
            P3,2026-13,100,90
            """
        let result = try await db.ingest(.sewage, csv: csv)
        #expect(result.status == "failed")
        #expect(result.rowsLoaded == 0)
        #expect(result.error?.contains("3 of 3 rows rejected") == true)
        let rejections = try await db.rows("SELECT line FROM envmon.upload_rejection WHERE upload_id = \(result.id) ORDER BY line")
        #expect(Set(rejections.compactMap { $0["line"] ?? nil }) == ["2", "3", "4"])
        #expect(try await count(db, "envmon.sewage_report") == 0)
    }

    @Test func aMissingRequiredColumnFailsTheUploadNamingIt() async throws {
        let db = try await TestDatabase.make()
        let result = try await db.ingest(.sewage, csv: "plant_id,period,sewage_discharged_m3\nP1,2026-03,100\n")
        #expect(result.status == "failed")
        #expect(result.error?.contains("sewage_treated_m3") == true)
        let stored = try await db.rows("SELECT status, error, size_bytes FROM envmon.upload WHERE id = \(result.id)")
        #expect(stored.first?["status"] == "failed")
        #expect(stored.first?["size_bytes"] != "0")
    }

    @Test func gb18030FileWithChineseHeadersLoads() async throws {
        let db = try await TestDatabase.make()
        let text = """
            污水处理厂编码,污水处理厂名称,所属街道,统计期,污水排放量,污水处理量
            WWTP01,城北污水处理厂,城关街道,2026年3月,1000000,960000
            """
        let bytes = try #require(Self.gb18030(text))
        #expect(String(bytes: bytes, encoding: .utf8) == nil, "the fixture must not be valid UTF-8")
        let result = try await db.ingest(.sewage, bytes: bytes, fileName: "污水.csv")
        #expect(result.status == "loaded", "\(result.error ?? "")")
        let row = try await db.rows("SELECT s.name, r.period_label FROM envmon.sewage_report r JOIN envmon.site s ON s.kind = 'plant' AND s.site_id = r.plant_id")
        #expect(row.first?["name"] == "城北污水处理厂")
        #expect(row.first?["period_label"] == "2026-03")
        let upload = try await db.rows("SELECT encoding FROM envmon.upload WHERE id = \(result.id)")
        #expect(upload.first?["encoding"] == "gb18030")
    }

    @Test func utf8WithBOMAndTheRawBytesComeBackExactly() async throws {
        let db = try await TestDatabase.make()
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(Feeds.green.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let result = try await db.ingest(.green, bytes: bytes, fileName: "green.csv")
        #expect(result.status == "loaded", "\(result.error ?? "")")
        #expect(result.rowsLoaded == 2)
        let collected = LockedBytes()
        try await db.withDatabase { db in
            try await UploadArchive(database: db).raw(id: result.id) { collected.append($0) }
        }
        #expect(collected.bytes == bytes)
    }

    @Test func quotedNewlinesKeepLineNumbersRight() async throws {
        let db = try await TestDatabase.make()
        let csv = "district,period,collected_t,harmless_t,note\n"
            + "城关街道,2026-03,3000,3000,\"first line\nsecond line\"\n"
            + "南湖街道,2026-03,2000,2500,\n"
        let result = try await db.ingest(.waste, csv: csv)
        let rejection = try #require(try await db.rows("SELECT line, column_name, raw_value FROM envmon.upload_rejection WHERE upload_id = \(result.id)").first)
        #expect(rejection["line"] == "4")
        let extra = try await db.rows("SELECT extra->>'note' AS note FROM envmon.waste_report")
        #expect(extra.first?["note"] == "first line\nsecond line")
    }

    @Test func aDamagedWorkbookIsArchivedAndFailsSayingWhy() async throws {
        let db = try await TestDatabase.make()
        let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0, count: 60)
        let result = try await db.ingest(.waste, bytes: zip, fileName: "waste.xlsx")
        #expect(result.status == "failed")
        #expect(result.error?.contains(".xlsx") == true, "\(String(describing: result.error))")
        #expect(try await db.value("SELECT size_bytes FROM envmon.upload WHERE id = \(result.id)") == "64")
    }

    @Test func aFailureBetweenCopyAndCommitLeavesNoPartialRows() async throws {
        let db = try await TestDatabase.make()
        struct Crash: Error, CustomStringConvertible { var description: String { "simulated crash" } }
        var rows = ["enterprise_id,outlet_id,pollutant,measured_at,value,limit"]
        for minute in 0..<5000 {
            rows.append("E1,DA001,SO2,2026-03-01 \(String(format: "%02d:%02d", minute / 60 % 24, minute % 60)),\(minute % 40),35")
        }
        let text = rows.joined(separator: "\n") + "\n"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("crash-\(UUID().uuidString).csv")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let outcome = try await db.withDatabase { database in
            let stored = try await UploadArchive(database: database).store(
                .init(kind: .emissions, fileName: "crash.csv", uploader: "tests", format: .csv, encoding: "utf-8",
                      sha256: String(repeating: "a", count: 64), size: Int64(text.utf8.count)), file: file)
            var half: Data? = Data(text.utf8.prefix(text.utf8.count / 2))
            return try await IngestService(database: database).load(
                uploadID: stored.id, request: IngestRequest(kind: .emissions, uploader: "tests"), encoding: .utf8,
                fileName: "crash.csv"
            ) { _ in
                // The first half is COPY'd (straight into the readings table)… then the worker dies.
                guard let first = half else { throw Crash() }
                half = nil
                return first
            }
        }
        #expect(outcome.status == .failed)
        #expect(outcome.error == "simulated crash")
        #expect(try await count(db, "envmon.emission_reading") == 0)
        #expect(try await count(db, "envmon.emission_daily") == 0)
        #expect(try await count(db, "envmon.emission_series") == 0)
    }

    @Test func dailyAggregatesCountFlaggedReadingsApart() async throws {
        let db = try await TestDatabase.make()
        let csv = """
            enterprise_id,outlet_id,pollutant,measured_at,value,limit,flag
            E1,DA001,SO2,2026-03-01 01:00,10,35,N
            E1,DA001,SO2,2026-03-01 02:00,30,35,
            E1,DA001,SO2,2026-03-01 03:00,300,35,T
            E1,DA001,SO2,2026-03-02 00:30,20,30,N
            E1,DA001,SO2,2026-03-02 01:30,20,35,N
            """
        let result = try await db.ingest(.emissions, csv: csv)
        #expect(result.rowsLoaded == 5, "\(result.error ?? "")")
        let days = try await db.rows("SELECT day::text AS day, valid_count, flagged_count, value_sum::text AS s, limit_max::text AS l FROM envmon.emission_daily ORDER BY day")
        #expect(days.count == 2)
        #expect(days[0]["day"] == "2026-03-01")
        #expect(days[0]["valid_count"] == "2")
        #expect(days[0]["flagged_count"] == "1")
        #expect(days[0]["s"] == "40")
        #expect(days[1]["l"] == "30")  // the strictest limit of the day
    }

    @Test func sitesAreRegisteredSoLaterFeedsMayOmitNames() async throws {
        let db = try await TestDatabase.make()
        _ = try await db.ingest(.emissions, csv: Feeds.emissions)
        _ = try await db.ingest(.emissions, csv: "enterprise_id,outlet_id,pollutant,measured_at,value,limit\n91310115MA1H000001,DA001,SO2,2026-03-02 10:00,20,35\n")
        let sites = try await db.rows("SELECT kind, site_id, name, district FROM envmon.site WHERE kind = 'enterprise' ORDER BY site_id")
        #expect(sites.count == 2)
        #expect(sites[0]["name"] == "东方热电")
        #expect(sites[0]["district"] == "城关街道")
        let outlets = try await db.rows("SELECT parent_id FROM envmon.site WHERE kind = 'outlet' AND site_id = 'DA001'")
        #expect(outlets.first?["parent_id"] == "91310115MA1H000001")
    }

    /// The text as Excel on a Chinese Windows writes it, converted by the system's iconv.
    static func gb18030(_ text: String) -> [UInt8]? {
        // iconv writes GB18030 as raw bytes; it reads the text from a file and writes to one.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-iconv-\(UUID().uuidString)")
        let input = scratch.path + ".in", output = scratch.path + ".out"
        defer {
            try? FileManager.default.removeItem(atPath: input)
            try? FileManager.default.removeItem(atPath: output)
        }
        guard (try? Data(text.utf8).write(to: URL(fileURLWithPath: input))) != nil,
              let result = try? Shell.run("/bin/sh", ["-c", "iconv -f UTF-8 -t GB18030 > \"$0\"", output], standardInput: input),
              result.status == 0,
              let data = FileManager.default.contents(atPath: output) else { return nil }
        return Array(data)
    }
}

final class LockedBytes: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [UInt8] = []
    func append(_ data: Data) { lock.withLock { storage += data } }
    var bytes: [UInt8] { lock.withLock { storage } }
}
