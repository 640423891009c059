import EnvMonDomain
@testable import EnvMonServer
@testable import EnvMonStore
import EnvMonTestSupport
import Foundation
import Testing

/// Emissions whose keys are all new go straight into `envmon.emission_reading`
/// (`DirectEmissions`); what the staging path would compute in SQL must come out the same.
@Suite("Direct emissions loads", .temporaryDatabases)
struct DirectLoadTests {
    /// `emission_daily` recomputed from the stored readings, as the staging path does it.
    static let recomputedDaily = """
        SELECT r.series_id, (r.measured_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
               count(*) FILTER (WHERE coalesce(r.flag, 'N') = 'N' AND r.value IS NOT NULL) AS valid_count,
               count(*) FILTER (WHERE coalesce(r.flag, 'N') <> 'N') AS flagged_count,
               round(sum(r.value) FILTER (WHERE coalesce(r.flag, 'N') = 'N')::numeric, 9) AS value_sum,
               max(r.limit_min) AS limit_min, min(r.limit_max) AS limit_max
        FROM envmon.emission_reading r GROUP BY 1, 2
        """
    static let storedDaily = """
        SELECT series_id, day, valid_count, flagged_count, round(value_sum::numeric, 9) AS value_sum, limit_min, limit_max
        FROM envmon.emission_daily
        """

    /// Ingests emissions CSV with the direct load allowed whatever the size.
    static func ingest(_ db: TestDatabase, _ csv: String) async throws -> UploadSummary {
        try await db.ingest(.emissions, bytes: Array(csv.utf8), fileName: "test.csv") { $0.directLoadMinimumBytes = 0 }
    }

    /// A new database holding E1/DA001/SO2 at 01:00 (10) and 02:00 (11) on 2026-03-02, for a
    /// correction to meet.
    static func withTwoStoredReadings() async throws -> TestDatabase {
        let db = try await TestDatabase.make()
        _ = try await ingest(db, """
            enterprise_id,outlet_id,pollutant,measured_at,value,limit
            E1,DA001,SO2,2026-03-02 01:00,10,35
            E1,DA001,SO2,2026-03-02 02:00,11,35
            """)
        return db
    }

    /// Rows of `a` missing from `b` and of `b` missing from `a`.
    static func difference(_ db: TestDatabase, _ a: String, _ b: String) async throws -> [[String: String?]] {
        try await db.rows("(\(a) EXCEPT \(b)) UNION ALL (\(b) EXCEPT \(a))")
    }

    @Test func dailyAggregatesOfDirectLoadsEqualARecomputeAndAddUp() async throws {
        let db = try await TestDatabase.make()
        // Hours either side of local midnight, flagged and missing values, a pH range, limits
        // that change within a day.
        let first = """
            enterprise_id,outlet_id,pollutant,measured_at,value,unit,limit,flag
            E1,DA001,SO2,2026-03-01 23:00,10.5,mg/m3,35,N
            E1,DA001,SO2,2026-03-02 00:00,12.25,mg/m3,30,N
            E1,DA001,SO2,2026-03-02 01:00,300,mg/m3,35,T
            E1,DA001,SO2,2026-03-02 02:00,未检出,mg/m3,35,N
            E1,DA001,NOx,2026-03-02 02:00,<2,mg/m3,50,
            E1,DW001,pH,2026-03-02 02:00,7.1,,6-9,N
            E2,DA001,SO2,2026-03-02 08:00,0.1,mg/m3,35,M
            """
        let one = try await Self.ingest(db, first)
        #expect(one.status == "loaded" && one.rowsLoaded == 7 && one.rowsSuperseded == 0 && one.rowsUnchanged == 0,
                "\(one)")
        #expect(one.loadedDirectly)
        #expect(try await Self.difference(db, Self.recomputedDaily, Self.storedDaily).isEmpty)

        // More hours of the same days: the second upload's aggregates add to the first's.
        let second = """
            enterprise_id,outlet_id,pollutant,measured_at,value,unit,limit,flag
            E1,DA001,SO2,2026-03-02 03:00,20,mg/m3,25,N
            E1,DA001,SO2,2026-03-02 04:00,21.5,mg/m3,35,D
            E1,DW001,pH,2026-03-02 03:00,8.5,,6.5-8.5,N
            E2,DA001,SO2,2026-03-02 09:00,0.3,mg/m3,35,N
            E3,DA009,SO2,2026-03-02 09:00,1,mg/m3,35,N
            """
        let two = try await Self.ingest(db, second)
        #expect(two.status == "loaded" && two.rowsLoaded == 5 && two.rowsSuperseded == 0, "\(two)")
        #expect(two.loadedDirectly)
        #expect(try await Self.difference(db, Self.recomputedDaily, Self.storedDaily).isEmpty)
        let day = try await db.rows("""
            SELECT d.valid_count, d.flagged_count, d.value_sum::text AS s, d.limit_min::text AS lo, d.limit_max::text AS hi
            FROM envmon.emission_daily d JOIN envmon.emission_series s USING (series_id)
            WHERE s.enterprise_id = 'E1' AND s.pollutant = 'pH'
            """)
        #expect(day.count == 1)
        #expect(day.first?["valid_count"] == "2")
        #expect(day.first?["lo"] == "6.5")  // the strictest range of the day
        #expect(day.first?["hi"] == "8.5")
    }

    @Test func anUploadOverlappingStoredReadingsGoesThroughStagingAndSupersedes() async throws {
        let db = try await Self.withTwoStoredReadings()
        let overlap = try await Self.ingest(db, """
            enterprise_id,outlet_id,pollutant,measured_at,value,limit
            E1,DA001,SO2,2026-03-02 02:00,15,35
            E1,DA001,SO2,2026-03-02 03:00,12,35
            """)
        #expect(overlap.status == "loaded" && overlap.rowsLoaded == 2 && overlap.rowsSuperseded == 1, "\(overlap)")
        #expect(!overlap.loadedDirectly)  // the stored key sent it through staging
        #expect(try await db.value("SELECT count(*) FROM envmon.emission_reading_history") == "1")
        #expect(try await db.value("SELECT value_sum FROM envmon.emission_daily") == "37")
        #expect(try await Self.difference(db, Self.recomputedDaily, Self.storedDaily).isEmpty)
    }

    @Test func placesOfADirectLoadKeepTheLatestNameAndEveryDistrict() async throws {
        let db = try await TestDatabase.make()
        let result = try await Self.ingest(db, """
            enterprise_id,enterprise_name,district,outlet_id,pollutant,measured_at,value,limit
            E1,旧名,甲街道,DA001,SO2,2026-03-02 01:00,10,35
            E1,新名,乙街道,DA002,SO2,2026-03-02 01:00,10,35
            E1,,,DA001,NOx,2026-03-02 01:00,10,50
            E2,二厂,丙街道,DA001,SO2,2026-03-02 01:00,10,35
            E2,,甲街道,DA001,NOx,2026-03-02 02:00,10,50
            """)
        #expect(result.rowsLoaded == 5 && result.loadedDirectly, "\(result)")
        let enterprises = try await db.rows(
            "SELECT site_id, name, district FROM envmon.site WHERE kind = 'enterprise' ORDER BY site_id")
        #expect(enterprises.map { $0["name"] ?? nil } == ["新名", "二厂"])
        #expect(enterprises.map { $0["district"] ?? nil } == ["乙街道", "甲街道"])
        let outlets = try await db.rows(
            "SELECT parent_id || '/' || site_id AS o FROM envmon.site WHERE kind = 'outlet' ORDER BY 1")
        #expect(outlets.map { $0["o"] ?? nil } == ["E1/DA001", "E1/DA002", "E2/DA001"])
        let districts = try await db.rows("SELECT site_id FROM envmon.site WHERE kind = 'district' ORDER BY 1")
        #expect(Set(districts.map { $0["site_id"] ?? nil }) == ["甲街道", "乙街道", "丙街道"])
    }

    /// A file meeting stored readings (a correction, through the keyed stage) gathers its places
    /// as the rows pass: the latest non-null name and district of each enterprise must still
    /// win, also when an earlier combination comes back later in the file.
    @Test func placesOfACorrectionKeepTheLatestNonNullNameAndDistrict() async throws {
        let db = try await TestDatabase.make()
        _ = try await Self.ingest(db, """
            enterprise_id,outlet_id,pollutant,measured_at,value,limit
            E1,DA001,SO2,2026-03-02 01:00,9,35
            """)
        let result = try await Self.ingest(db, """
            enterprise_id,enterprise_name,district,outlet_id,pollutant,measured_at,value,limit
            E1,旧名,甲街道,DA001,SO2,2026-03-02 01:00,10,35
            E1,新名,乙街道,DA002,SO2,2026-03-02 01:00,10,35
            E1,旧名,甲街道,DA001,NOx,2026-03-02 01:00,10,50
            E1,,,DA001,NOx,2026-03-02 02:00,10,50
            E1,新名,,DA003,SO2,2026-03-02 01:00,10,35
            E2,二厂,丙街道,DA001,SO2,2026-03-02 01:00,10,35
            E2,,丁街道,DA001,NOx,2026-03-02 02:00,10,50
            E2,,,DA001,NOx,2026-03-02 03:00,10,50
            """)
        #expect(result.rowsLoaded == 8 && !result.loadedDirectly, "\(result)")
        let enterprises = try await db.rows(
            "SELECT site_id, name, district FROM envmon.site WHERE kind = 'enterprise' ORDER BY site_id")
        #expect(enterprises.map { $0["name"] ?? nil } == ["新名", "二厂"])
        #expect(enterprises.map { $0["district"] ?? nil } == ["甲街道", "丁街道"])
        let outlets = try await db.rows(
            "SELECT parent_id || '/' || site_id AS o FROM envmon.site WHERE kind = 'outlet' ORDER BY 1")
        #expect(outlets.map { $0["o"] ?? nil } == ["E1/DA001", "E1/DA002", "E1/DA003", "E2/DA001"])
        let districts = try await db.rows("SELECT site_id FROM envmon.site WHERE kind = 'district' ORDER BY 1")
        #expect(Set(districts.map { $0["site_id"] ?? nil }) == ["甲街道", "乙街道", "丙街道", "丁街道"])
    }

    /// A file of several reads whose later rows fall in a month with no partition yet: the
    /// partition is made by another connection while this load's transaction holds the table.
    @Test(.timeLimit(.minutes(10)))
    func aLongUploadReachingANewMonthMakesItsPartitionMidLoad() async throws {
        let db = try await TestDatabase.make()
        var csv = "enterprise_id,enterprise_name,district,outlet_id,pollutant,measured_at,value,unit,limit,flag\n"
        let start = DateComponents(calendar: Calendar(identifier: .gregorian), timeZone: TimeZone(identifier: "UTC"),
                                   year: 2026, month: 1, day: 20).date ?? Date(timeIntervalSince1970: 0)
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        let rows = 12_000  // ≈ 1.4 MB: six reads; 600 hours from 20 January (UTC) reach February
        for index in 0..<rows {
            let hour = index / 20
            let series = index % 20
            let time = formatter.string(from: start.addingTimeInterval(Double(hour) * 3_600))
            csv += "9131011500000000\(series / 4),某某环保科技有限公司第\(series / 4)分厂,某某街道,DA00\(series % 4),SO2,\(time),\(index % 50).5,mg/m3,35,N\n"
        }
        #expect(csv.utf8.count > 1_048_576)
        let result = try await db.ingest(.emissions, bytes: Array(csv.utf8), fileName: "long.csv")  // > 1 MiB: direct
        #expect(result.status == "loaded" && result.rowsLoaded == rows && result.loadedDirectly, "\(result)")
        let partitions = try await db.rows("""
            SELECT c.relname AS name, (SELECT count(*) FROM envmon.emission_reading r WHERE r.tableoid = c.oid) AS n
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'envmon.emission_reading'::regclass ORDER BY 1
            """)
        let counts = Dictionary(uniqueKeysWithValues: partitions.compactMap { row -> (String, String)? in
            guard let name = row["name"] ?? nil, let n = row["n"] ?? nil else { return nil }
            return (name, n)
        })
        #expect(counts["emission_reading_default"] == "0")
        #expect(counts["emission_reading_202601"] == "5760")  // 288 hours × 20 series
        #expect(counts["emission_reading_202602"] == "6240")
        #expect(try await Self.difference(db, Self.recomputedDaily, Self.storedDaily).isEmpty)
    }

    /// More series-days than `DirectEmissions.heldDays`: aggregates are flushed in parts (a day
    /// may be split between two flushes) and added up at the end.
    @Test(.timeLimit(.minutes(10)))
    func aggregatesFlushedInPartsAddUp() async throws {
        let db = try await TestDatabase.make()
        var csv = "enterprise_id,outlet_id,pollutant,measured_at,value,limit,flag\n"
        let series = 900, days = 25
        for day in 1...days {
            for hour in [1, 13] {
                for index in 0..<series {
                    let flag = (index + day + hour) % 7 == 0 ? "T" : "N"
                    csv += "E\(index / 3),DA001,\(["SO2", "NOx", "PM"][index % 3]),2026-01-\(day < 10 ? "0" : "")\(day) "
                        + "\(hour < 10 ? "0" : "")\(hour):00,\((index * 7 + day * 3 + hour) % 40).25,35,\(flag)\n"
                }
            }
        }
        #expect(series * days > DirectEmissions.heldDays)
        let result = try await Self.ingest(db, csv)
        #expect(result.status == "loaded" && result.rowsLoaded == series * days * 2 && result.loadedDirectly,
                "\(result)")
        #expect(try await db.value("SELECT count(*) FROM envmon.emission_daily") == String(series * days))
        #expect(try await Self.difference(db, Self.recomputedDaily, Self.storedDaily).isEmpty)
    }

    /// A correction of a big file: the direct attempt stops at its first row (stored already),
    /// possibly after reading only part of the file; the staging pass must read it all again
    /// from the first byte (the bytes' source is told so).
    @Test(.timeLimit(.minutes(10)))
    func aBigCorrectionIsReadAgainFromItsFirstByte() async throws {
        let db = try await TestDatabase.make()
        var lines = ["enterprise_id,outlet_id,pollutant,measured_at,value,limit"]
        for hour in 0..<640 {  // 1–27 February
            for index in 0..<50 {
                let stamp = String(format: "2026-02-%02d %02d:00", 1 + hour / 24, hour % 24)
                lines.append("E\(index / 2),DA00\(index % 2),SO2,\(stamp),\((hour + index) % 30).5,35")
            }
        }
        let original = lines.joined(separator: "\n") + "\n"
        #expect(original.utf8.count > 1 << 20)  // several reads, and past the direct threshold
        let first = try await db.ingest(.emissions, bytes: Array(original.utf8), fileName: "feb.csv")
        #expect(first.loadedDirectly && first.rowsLoaded == 32_000, "\(first)")

        lines[1] = lines[1].replacingOccurrences(of: ",35", with: ",30")  // the first reading's limit changes
        let corrected = Array((lines.joined(separator: "\n") + "\n").utf8)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("feb-\(UUID().uuidString).csv")
        try Data(corrected).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let (outcome, starts) = try await db.withDatabase { database in
            let stored = try await UploadArchive(database: database).store(
                .init(kind: .emissions, fileName: "feb-corrected.csv", uploader: "tests", format: .csv,
                      encoding: "utf-8", sha256: String(repeating: "b", count: 64), size: Int64(corrected.count)),
                file: file)
            var offset = 0
            var starts = 0
            let outcome = try await IngestService(database: database).load(
                uploadID: stored.id, request: IngestRequest(kind: .emissions, uploader: "tests"), encoding: .utf8,
                fileName: "feb-corrected.csv"
            ) { fromStart in
                if fromStart {
                    offset = 0
                    starts += 1
                }
                guard offset < corrected.count else { return nil }
                let end = min(offset + SurveyedFile.readSize, corrected.count)
                defer { offset = end }
                return Data(corrected[offset..<end])
            }
            return (outcome, starts)
        }
        #expect(starts == 2)  // the direct attempt, then staging from the first byte
        #expect(!outcome.loadedDirectly)
        #expect(outcome.rowsTotal == 32_000 && outcome.rowsLoaded == 1 && outcome.rowsSuperseded == 1
                && outcome.rowsUnchanged == 31_999, "\(outcome)")
    }

    @Test func aRepeatedKeyOrTooManyRejectionsGoThroughStaging() async throws {
        let db = try await TestDatabase.make()
        let repeated = try await Self.ingest(db, """
            enterprise_id,outlet_id,pollutant,measured_at,value,limit
            E1,DA001,SO2,2026-03-02 01:00,10,35
            E1,DA001,SO2,2026-03-02 01:00,11,35
            """)
        #expect(!repeated.loadedDirectly && repeated.rowsLoaded == 1 && repeated.rowsRejected == 1, "\(repeated)")
        let bad = try await Self.ingest(db, """
            enterprise_id,outlet_id,pollutant,measured_at,value,limit
            E1,DA001,SO2,2026-03-03 01:00,x,35
            E1,DA001,SO2,2026-03-03 02:00,y,35
            E1,DA001,SO2,2026-03-03 03:00,1,35
            """)
        #expect(bad.status == "failed" && !bad.loadedDirectly, "\(bad)")
        #expect(try await db.value("SELECT count(*) FROM envmon.upload_rejection WHERE upload_id = \(bad.id)") == "2")
        #expect(try await db.value("SELECT count(*) FROM envmon.emission_reading WHERE measured_at >= '2026-03-03'") == "0")
    }

    /// A correction that also repeats a key within the file: the keyed stage gives way to the
    /// staging table, which rejects the repeat naming its first line and merges the rest; the
    /// rejected row's name is not taken.
    @Test func aCorrectionRepeatingAKeyRejectsTheRepeatAndMergesTheRest() async throws {
        let db = try await Self.withTwoStoredReadings()
        let corrected = try await Self.ingest(db, """
            enterprise_id,enterprise_name,outlet_id,pollutant,measured_at,value,limit
            E1,一厂,DA001,SO2,2026-03-02 01:00,10,35
            E1,一厂,DA001,SO2,2026-03-02 02:00,12,35
            E1,一厂,DA001,SO2,2026-03-02 03:00,13,35
            E1,改名,DA001,SO2,2026-03-02 03:00,14,35
            """)
        #expect(corrected.status == "loaded" && corrected.rowsLoaded == 2 && corrected.rowsSuperseded == 1
                && corrected.rowsUnchanged == 1 && corrected.rowsRejected == 1, "\(corrected)")
        let rejections = try await db.rows("SELECT line, reason FROM envmon.upload_rejection WHERE upload_id = \(corrected.id)")
        #expect(rejections.count == 1 && rejections.first?["line"] == "5", "\(rejections)")
        #expect((rejections.first?["reason"] ?? nil)?.contains("as line 4") == true, "\(rejections)")
        #expect(try await db.value("SELECT string_agg(value::text, ',' ORDER BY measured_at) FROM envmon.emission_reading")
                == "10,12,13")
        #expect(try await db.value("SELECT count(*) FROM envmon.emission_reading_history") == "1")
        #expect(try await db.value("SELECT name FROM envmon.site WHERE kind = 'enterprise' AND site_id = 'E1'") == "一厂")
        #expect(try await Self.difference(db, Self.recomputedDaily, Self.storedDaily).isEmpty)
    }

    /// A correction that repeats a stored reading's key, once with the stored value and once
    /// with another: whichever way it is loaded, history and readings must agree — a history
    /// row exactly when the stored value changed, counts that add up — never a superseded
    /// value that was not replaced. With new rows in the file and without.
    @Test(arguments: [false, true])
    func aRepeatOfAStoredKeyKeepsHistoryAndReadingsTogether(withNewRows: Bool) async throws {
        let db = try await Self.withTwoStoredReadings()
        let corrected = try await Self.ingest(db, """
            enterprise_id,outlet_id,pollutant,measured_at,value,limit
            E1,DA001,SO2,2026-03-02 01:00,10,35
            E1,DA001,SO2,2026-03-02 01:00,15,35
            E1,DA001,SO2,2026-03-02 02:00,11,35
            """ + (withNewRows ? "\nE1,DA001,SO2,2026-03-02 03:00,12,35" : ""))
        #expect(corrected.status == "loaded" && corrected.rowsTotal == (withNewRows ? 4 : 3), "\(corrected)")
        let value = try await db.value(
            "SELECT value::text FROM envmon.emission_reading WHERE measured_at = '2026-03-02 01:00+08'")
        let history = try await db.rows("SELECT value::text AS value FROM envmon.emission_reading_history")
        if value == "15" {
            #expect(history.map { $0["value"] ?? nil } == ["10"] && corrected.rowsSuperseded == 1, "\(corrected) \(history)")
        } else {
            #expect(value == "10" && history.isEmpty && corrected.rowsSuperseded == 0 && corrected.rowsRejected == 1,
                    "\(String(describing: value)) \(corrected) \(history)")
        }
        #expect(corrected.rowsLoaded + corrected.rowsUnchanged + corrected.rowsRejected == corrected.rowsTotal, "\(corrected)")
        #expect(try await Self.difference(db, Self.recomputedDaily, Self.storedDaily).isEmpty)
    }

    @Test func smallUploadsUseStagingByDefault() async throws {
        let db = try await TestDatabase.make()
        let small = try await db.ingest(.emissions, csv: Feeds.emissions)
        #expect(small.status == "loaded" && !small.loadedDirectly)
    }

    @Test(arguments: [
        ("2024-01-05T08:00:00+08:00", 1_704_412_800),
        ("2024-01-05T08:00:00.25+08:00", 1_704_412_800),
        ("1969-12-31T23:00:00-01:30", 1_800),
        ("2024-02-29T00:00:00+00:00", 1_709_164_800),
    ])
    func isoTimesReadToEpochSeconds(iso: String, epoch: Int) {
        #expect(DirectEmissions.epochSeconds(iso) == epoch)
    }

    @Test func civilDaysRoundTrip() {
        for days in stride(from: -800_000, through: 800_000, by: 997) {
            let (y, m, d) = CivilCalendar.civil(fromDays: days)
            #expect(CivilCalendar.daysFromCivil(year: y, month: m, day: d) == days)
        }
        #expect(CivilCalendar.civil(fromDays: 0) == (1970, 1, 1))
        #expect(CivilCalendar.civil(fromDays: 19_782) == (2024, 2, 29))
        #expect(CivilDate(dayNumber: 19_782).description == "2024-02-29")
        #expect(CivilDate(dayNumber: -719_468).description == "0000-03-01")
    }
}
