import EnvMonDomain
import EnvMonServer
@testable import EnvMonStore
import EnvMonTestSupport
import Foundation
import PostgresNIO
import Testing

/// The plan's rollups (`envmon.enterprise_month`, `envmon.section_period`, migration 0013): the
/// views answer what the facts say whether a rollup was refreshed or not — every change marks
/// what it touched stale and the views read stale ids live — and a refresh brings the rollup to
/// exactly the live answer.
@Suite("rollups: enterprise months and section periods", .timeLimit(.minutes(10)), .temporaryDatabases)
struct RollupTests {
    static let enterprise = "91310115MA1H7A2B3C"

    /// SO2 at DA001: one reading at 10:00 on each listed day of March 2026, feed limit 50.
    static func readings(_ values: [(day: Int, value: String)]) -> String {
        var csv = "企业编码,企业名称,所属街道,排放口编码,污染物,监测时间,监测值,单位,排放限值,数据标记\n"
        for (day, value) in values {
            csv += "\(enterprise),城东热电有限公司,城关街道,DA001,二氧化硫,2026-03-\(day < 10 ? "0" : "")\(day) 10:00,\(value),mg/m3,50,N\n"
        }
        return csv
    }

    static func permit(limit: String, monitoring: String) -> String {
        """
        统一社会信用代码,企业名称,排放口编号,污染物种类,许可排放浓度限值(mg/m³),基准氧含量(%),监测方式,生效日期,失效日期
        \(enterprise),城东热电有限公司,DA001,二氧化硫,\(limit),,\(monitoring),2026-01-01,2030-12-31
        """
    }

    /// The views' rows equal a live computation of every id, and the stale marks left.
    struct Stale: Equatable, CustomStringConvertible {
        var enterprises: Int
        var sections: Int
        init(_ enterprises: Int, _ sections: Int) { (self.enterprises, self.sections) = (enterprises, sections) }
        var description: String { "\(enterprises) enterprise and \(sections) section marks" }
    }

    static func check(_ db: TestDatabase, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Stale {
        let months = try await db.rows("SELECT * FROM analytics.enterprise_month ORDER BY enterprise_id, month_start")
        let liveMonths = try await db.rows(
            "SELECT * FROM analytics.enterprise_month_live(true, '{}', '{}') ORDER BY enterprise_id, month_start")
        #expect(months == liveMonths, sourceLocation: sourceLocation)
        let columns = """
            section_id, granularity, period, period_start, period_end, sample_count, first_sampled_at, last_sampled_at,
            river_level, water_body, district, reported_class, class, deciding_items, tn_class, means
            """
        let periods = try await db.rows(
            "SELECT \(columns) FROM analytics.water_section_class ORDER BY section_id, granularity, period")
        let livePeriods = try await db.rows(
            "SELECT \(columns) FROM analytics.section_period_live(true, '{}') ORDER BY section_id, granularity, period")
        #expect(periods == livePeriods, sourceLocation: sourceLocation)
        let stale = try await db.rows("""
            SELECT (SELECT count(*) FROM envmon.enterprise_month_stale)::text AS e,
                   (SELECT count(*) FROM envmon.section_period_stale)::text AS s
            """)
        return Stale(Int((stale.first?["e"] ?? nil) ?? "") ?? -1, Int((stale.first?["s"] ?? nil) ?? "") ?? -1)
    }

    static func compliance(_ db: TestDatabase) async throws -> [[String: String?]] {
        try await db.rows("""
            SELECT compliant::text AS compliant, reporting_days::text AS days, first_failing_day::text AS first
            FROM analytics.enterprise_compliance WHERE period = '2026-03'
            """)
    }

    static func rolledUp(_ db: TestDatabase) async throws -> [[String: String?]] {
        try await db.rows("""
            SELECT reporting_days::text AS days, compliant_days::text AS compliant FROM envmon.enterprise_month
            WHERE month_start = '2026-03-01'
            """)
    }

    @Test("emissions: loads, a direct edit, permits, a setting and a revert — the views always right, the rollup after refresh")
    func emissionsStayRight() async throws {
        let db = try await TestDatabase.make()
        let upload = try await db.ingest(.emissions, csv: Self.readings([(5, "40"), (6, "30")]))
        #expect(upload.status == "loaded", "\(upload.error ?? "")")
        // The load refreshed: nothing stale, the rollup holds the month.
        #expect(try await Self.check(db) == Stale(0, 0))
        #expect(try await Self.rolledUp(db) == [["days": "2", "compliant": "2"]])
        #expect(try await Self.compliance(db) == [["compliant": "true", "days": "2", "first": nil]])

        // Another writer (psql, the HJ 212 committer) changes a day; nothing refreshes.
        try await db.execute("UPDATE envmon.emission_daily SET value_sum = 60 * valid_count WHERE day = '2026-03-06'")
        #expect(try await Self.check(db).enterprises > 0)
        #expect(try await Self.rolledUp(db) == [["days": "2", "compliant": "2"]], "the stale rollup row is not what the view reads")
        #expect(try await Self.compliance(db) == [["compliant": "false", "days": "2", "first": "2026-03-06"]])
        // Analysts read the same through the view (the live function runs with its owner's rights).
        let asAnalyst = try await db.rowsAsAnalyst(
            "SELECT compliant::text AS compliant FROM analytics.enterprise_compliance WHERE period = '2026-03'")
        #expect(asAnalyst == [["compliant": "false"]])

        let refreshed = try await db.withDatabase { try await Rollups(database: $0).refresh() }
        #expect(refreshed.enterprises == 1)
        #expect(refreshed.enterpriseMonths == 1)
        #expect(try await Self.check(db) == Stale(0, 0))
        #expect(try await Self.rolledUp(db) == [["days": "2", "compliant": "1"]])
        #expect(try await Self.compliance(db) == [["compliant": "false", "days": "2", "first": "2026-03-06"]])

        // A permit with a higher limit, automatic monitoring: one valid hour a day is not enough
        // (HJ 75-2017: 20), so no day is judged.
        let permit = try await db.ingest(.permits, csv: Self.permit(limit: "100", monitoring: "自动监测"))
        #expect(permit.status == "loaded", "\(permit.error ?? "")")
        #expect(try await Self.check(db) == Stale(0, 0))
        #expect(try await Self.rolledUp(db) == [["days": "0", "compliant": "0"]])

        // The setting changes what a sufficient day is: every enterprise is stale.
        try await db.execute("""
            INSERT INTO envmon.setting (key, value) VALUES ('daily_min_valid_hours', '1')
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
            """)
        #expect(try await Self.check(db).enterprises > 0)
        #expect(try await db.value("SELECT bool_or(enterprise_id IS NULL) FROM envmon.enterprise_month_stale") == "true")
        #expect(try await Self.compliance(db) == [["compliant": "true", "days": "2", "first": nil]])
        let everything = try await db.withDatabase { try await Rollups(database: $0).refresh() }
        #expect(everything.enterprises == nil, "a setting marks every enterprise")
        #expect(try await Self.rolledUp(db) == [["days": "2", "compliant": "2"]])

        // Reverting the readings leaves nothing to roll up.
        _ = try await db.withDatabase { try await UploadRevert(database: $0).revert(uploadID: upload.id) }
        #expect(try await Self.check(db) == Stale(0, 0))
        #expect(try await Self.rolledUp(db) == [])
        #expect(try await Self.compliance(db) == [])
    }

    @Test("emissions: a changed day marks its month only; a permit marks every month of its enterprise")
    func marksNameTheMonth() async throws {
        let db = try await TestDatabase.make()
        var csv = "企业编码,企业名称,所属街道,排放口编码,污染物,监测时间,监测值,单位,排放限值,数据标记\n"
        for day in ["2026-01-10", "2026-02-10", "2026-03-10"] {
            csv += "\(Self.enterprise),城东热电有限公司,城关街道,DA001,二氧化硫,\(day) 10:00,40,mg/m3,50,N\n"
        }
        #expect(try await db.ingest(.emissions, csv: csv).status == "loaded")
        #expect(try await Self.check(db) == Stale(0, 0))
        let before = try await db.rows("SELECT month_start::text AS m, ctid::text AS row FROM envmon.enterprise_month ORDER BY 1")
        #expect(before.map { $0["m"] ?? nil } == ["2026-01-01", "2026-02-01", "2026-03-01"])

        // One day of February changes: only February is stale, read live, and recomputed.
        try await db.execute("UPDATE envmon.emission_daily SET value_sum = 60 * valid_count WHERE day = '2026-02-10'")
        #expect(try await db.rows("SELECT enterprise_id, month_start::text AS m FROM envmon.enterprise_month_stale")
                == [["enterprise_id": Self.enterprise, "m": "2026-02-01"]])
        #expect(try await Self.check(db) == Stale(1, 0))
        let february = try await db.rows("""
            SELECT compliant::text AS c FROM analytics.enterprise_compliance WHERE period IN ('2026-01', '2026-02', '2026-03') ORDER BY period
            """)
        #expect(february.map { $0["c"] ?? nil } == ["true", "false", "true"])
        let refreshed = try await db.withDatabase { try await Rollups(database: $0).refresh() }
        #expect(refreshed.enterprises == 1)
        #expect(refreshed.enterpriseMonths == 1, "only the changed month is recomputed")
        #expect(try await Self.check(db) == Stale(0, 0))
        let after = try await db.rows("SELECT month_start::text AS m, ctid::text AS row FROM envmon.enterprise_month ORDER BY 1")
        #expect(after[0] == before[0] && after[2] == before[2], "January and March were left as they were")
        #expect(after[1] != before[1])

        // A permit decides every month of its enterprise: one mark without a month, all three recomputed.
        #expect(try await db.ingest(.permits, csv: Self.permit(limit: "30", monitoring: "手工监测")).status == "loaded")
        try await db.execute("INSERT INTO envmon.enterprise_month_stale (enterprise_id, month_start) VALUES ('\(Self.enterprise)', '2026-03-01')")
        try await db.execute("UPDATE envmon.emission_permit SET limit_max = limit_max")
        #expect(try await db.value("SELECT count(*) FROM envmon.enterprise_month_stale WHERE month_start IS NULL") == "1")
        #expect(try await Self.check(db).enterprises == 2)
        let all = try await db.withDatabase { try await Rollups(database: $0).refresh() }
        #expect(all.enterpriseMonths == 3)
        #expect(try await Self.check(db) == Stale(0, 0))
        let overLimit = try await db.rows("""
            SELECT compliant::text AS c FROM analytics.enterprise_compliance WHERE period IN ('2026-01', '2026-02', '2026-03') ORDER BY period
            """)
        #expect(overLimit.map { $0["c"] ?? nil } == ["false", "false", "false"], "40 is over the permit's 30 in every month")
    }

    @Test("water: a deleted sample and a section's registration mark the section; the class follows at once")
    func sectionsStayRight() async throws {
        let db = try await TestDatabase.make()
        let upload = try await db.ingest(.water, csv: """
            section_id,section_name,river,river_level,water_body,district,sampled_at,ph,do,codmn,nh3n,tp,tn,reported_class
            S1,North bridge,Qing river,2,river,Xinhua,2026-03-05 10:00,7.2,7.0,3.0,0.4,0.15,,Ⅱ
            S1,North bridge,Qing river,2,river,Xinhua,2026-03-20 10:00,7.6,3.5,5.0,1.6,0.05,,Ⅴ
            S2,Mill weir,Mill brook,2,river,Dongcheng,2026-03-10 09:00,7.0,6.5,4.0,2.5,0.1,,
            """)
        #expect(upload.status == "loaded", "\(upload.error ?? "")")
        #expect(try await Self.check(db) == Stale(0, 0))
        let march = "SELECT class::text AS class FROM analytics.water_section_class WHERE section_id = 'S1' AND period = '2026-03'"
        #expect(try await db.rows(march) == [["class": "3"]])

        // The first sample goes (psql); the month is the second sample's alone: class Ⅴ.
        try await db.execute("DELETE FROM envmon.water_sample WHERE section_id = 'S1' AND sampled_at < '2026-03-10'")
        #expect(try await Self.check(db).sections > 0)
        #expect(try await db.rows(march) == [["class": "5"]])
        #expect(try await db.rows("""
            SELECT class::text AS class FROM envmon.section_period WHERE section_id = 'S1' AND period = '2026-03'
            """) == [["class": "3"]], "the stale rollup row is not what the view reads")

        // Registering a section again (its name here) marks it too.
        try await db.execute("UPDATE envmon.site SET name = 'Mill weir (new)' WHERE kind = 'section' AND site_id = 'S2'")
        #expect(try await db.rows("SELECT DISTINCT section_id FROM envmon.section_period_stale ORDER BY 1")
                == [["section_id": "S1"], ["section_id": "S2"]])
        #expect(try await db.rows("SELECT DISTINCT section_name FROM analytics.water_section_class WHERE section_id = 'S2'")
                == [["section_name": "Mill weir (new)"]])

        let refreshed = try await db.withDatabase { try await Rollups(database: $0).refresh() }
        #expect(refreshed.sections == 2)
        #expect(try await Self.check(db) == Stale(0, 0))
        #expect(try await db.rows(march) == [["class": "5"]])
    }

    @Test("a change committed while a refresh runs stays marked and is read live until the next refresh")
    func refreshDuringAChange() async throws {
        let db = try await TestDatabase.make()
        let upload = try await db.ingest(.emissions, csv: Self.readings([(5, "40")]))
        #expect(upload.status == "loaded", "\(upload.error ?? "")")
        let address = db.address
        // A writer changes the day in a transaction that is still open while the refresh runs.
        try await TestCluster.withConnection(address) { writer in
            try await writer.query("BEGIN", logger: TestDatabase.logger)
            try await writer.query("UPDATE envmon.emission_daily SET value_sum = 70 * valid_count", logger: TestDatabase.logger)
            let refreshed = try await db.withDatabase { try await Rollups(database: $0).refresh() }
            #expect(refreshed.enterpriseMonths == 0, "the uncommitted mark is not the refresh's to take")
            try await writer.query("COMMIT", logger: TestDatabase.logger)
        }
        #expect(try await Self.check(db).enterprises == 1)
        #expect(try await Self.compliance(db) == [["compliant": "false", "days": "1", "first": "2026-03-05"]])
        _ = try await db.withDatabase { try await Rollups(database: $0).refresh() }
        #expect(try await Self.check(db) == Stale(0, 0))
        #expect(try await Self.rolledUp(db) == [["days": "1", "compliant": "0"]])
    }
}
