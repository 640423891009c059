import EnvMonDomain
import EnvMonServer
@testable import EnvMonStore
import EnvMonTestSupport
import Foundation
import Testing

/// Discharge permits as a feed kind, and the limit they give the emissions views: the permit in
/// force on a day outranks the limit a feed states (FEEDS.md `permits`).
@Suite("permits: the legal limits", .timeLimit(.minutes(10)), .temporaryDatabases)
struct PermitTests {
    static let enterprise = "91310115MA1H7A2B3C"

    /// SO2 at DA001 of 城东热电: one reading a day at 10:00, `value` on each of `days` of March 2026,
    /// with the feed's own limit of 50.
    static func readings(_ values: [(day: Int, value: String)], limit: String = "50") -> String {
        var csv = "企业编码,企业名称,所属街道,排放口编码,污染物,监测时间,监测值,单位,排放限值,数据标记\n"
        for (day, value) in values {
            csv += "\(enterprise),城东热电有限公司,城关街道,DA001,二氧化硫,2026-03-\(day < 10 ? "0" : "")\(day) 10:00,\(value),mg/m3,\(limit),N\n"
        }
        return csv
    }

    static func daily(_ db: TestDatabase) async throws -> [String: [String: String?]] {
        let rows = try await db.rows("""
            SELECT day::text AS day, mean::text AS mean, limit_max::text AS limit_max, limit_source,
                   feed_limit_max::text AS feed_limit_max, compliant::text AS compliant,
                   permit_valid_from::text AS permit_valid_from, o2_reference::text AS o2, monitoring
            FROM analytics.emission_daily ORDER BY day
            """)
        return Dictionary(uniqueKeysWithValues: rows.map { (($0["day"] ?? nil) ?? "", $0) })
    }

    @Test("a permit's limit decides over the feed's, and the difference is listed")
    func permitOutranksTheFeed() async throws {
        let db = try await TestDatabase.make()
        let permit = try await db.ingest(.permits, csv: """
            统一社会信用代码,企业名称,排放口编号,污染物种类,许可排放浓度限值(mg/m³),基准氧含量(%),监测方式,生效日期,失效日期
            \(Self.enterprise),城东热电有限公司,DA001,二氧化硫,35,6,手工监测,2026-01-01,2030-12-31
            """)
        #expect(permit.status == "loaded", "\(permit.error ?? "")")
        #expect(permit.rowsLoaded == 1)
        let stored = try await db.rows("""
            SELECT pollutant, limit_min::text AS min, limit_max::text AS max, unit, o2_reference::text AS o2,
                   monitoring, valid_from::text AS from, valid_to::text AS to FROM envmon.emission_permit
            """)
        #expect(stored == [["pollutant": "SO2", "min": nil, "max": "35", "unit": "mg/m3", "o2": "6",
                            "monitoring": "manual", "from": "2026-01-01", "to": "2030-12-31"]])

        // 40 complies with the feed's 50 but not with the permit's 35.
        let feed = try await db.ingest(.emissions, csv: Self.readings([(5, "40"), (6, "30")]))
        #expect(feed.status == "loaded", "\(feed.error ?? "")")
        let days = try await Self.daily(db)
        #expect(days["2026-03-05"]?["limit_max"] == "35")
        #expect(days["2026-03-05"]?["feed_limit_max"] == "50")
        #expect(days["2026-03-05"]?["limit_source"] == "permit")
        #expect(days["2026-03-05"]?["compliant"] == "false")
        #expect(days["2026-03-06"]?["compliant"] == "true")
        #expect(days["2026-03-05"]?["o2"] == "6")
        #expect(days["2026-03-05"]?["monitoring"] == "manual")

        let compliance = try await db.rows("""
            SELECT compliant::text AS compliant, first_failing_day::text AS day, first_failing_limit_max::text AS limit_max
            FROM analytics.enterprise_compliance WHERE period = '2026-03'
            """)
        #expect(compliance == [["compliant": "false", "day": "2026-03-05", "limit_max": "35"]])

        let discrepancies = try await db.rows("""
            SELECT outlet_id, pollutant, period, days::text AS days, first_day::text AS first, last_day::text AS last,
                   feed_limit_max::text AS feed, permit_limit_max::text AS permit, permit_valid_from::text AS from
            FROM analytics.limit_discrepancies
            """)
        #expect(discrepancies == [["outlet_id": "DA001", "pollutant": "SO2", "period": "2026-03", "days": "2",
                                   "first": "2026-03-05", "last": "2026-03-06", "feed": "50", "permit": "35",
                                   "from": "2026-01-01"]])
    }

    @Test("a new permit mid-month takes over from its first day; before it the old one holds")
    func permitChangeMidMonth() async throws {
        let db = try await TestDatabase.make()
        // The first permit names no start: in force since ever, until the next one begins.
        _ = try await db.ingest(.permits, csv: """
            enterprise_id,outlet_id,pollutant,limit,unit,valid_from
            \(Self.enterprise),DA001,SO2,35,mg/m3,
            \(Self.enterprise),DA001,SO2,50,mg/m3,2026-03-16
            """)
        let register = try await db.rows("""
            SELECT valid_from::text AS from, in_force_until::text AS until, limit_max::text AS max
            FROM analytics.permits ORDER BY valid_from
            """)
        #expect(register == [["from": "-infinity", "until": "2026-03-15", "max": "35"],
                             ["from": "2026-03-16", "until": "infinity", "max": "50"]])

        _ = try await db.ingest(.emissions, csv: Self.readings([(15, "40"), (16, "40")], limit: "35"))
        let days = try await Self.daily(db)
        #expect(days["2026-03-15"]?["limit_max"] == "35")
        #expect(days["2026-03-15"]?["compliant"] == "false")
        #expect(days["2026-03-16"]?["limit_max"] == "50")
        #expect(days["2026-03-16"]?["compliant"] == "true")
        // The feed said 35 on the 16th, where the permit says 50; on the 15th they agree.
        let discrepancies = try await db.rows("SELECT first_day::text AS day, days::text AS days FROM analytics.limit_discrepancies")
        #expect(discrepancies == [["day": "2026-03-16", "days": "1"]])
    }

    @Test("without a permit the feed's limit holds, as before")
    func noPermitKeepsTheFeedLimit() async throws {
        let db = try await TestDatabase.make()
        // A permit for another outlet does not apply.
        _ = try await db.ingest(.permits, csv: "enterprise_id,outlet_id,pollutant,limit\n\(Self.enterprise),DA009,SO2,10\n")
        _ = try await db.ingest(.emissions, csv: Self.readings([(5, "40")]))
        let days = try await Self.daily(db)
        #expect(days["2026-03-05"]?["limit_source"] == "feed")
        #expect(days["2026-03-05"]?["limit_max"] == "50")
        #expect(days["2026-03-05"]?["compliant"] == "true")
        #expect(try await db.value("SELECT count(*) FROM analytics.limit_discrepancies") == "0")
    }

    @Test("a changed permit supersedes with history, and a revert restores it")
    func permitsSupersedeAndRevert() async throws {
        let db = try await TestDatabase.make()
        let csv = "enterprise_id,outlet_id,pollutant,limit,valid_from\n\(Self.enterprise),DA001,SO2,35,2026-01-01\n\(Self.enterprise),DA001,NOx,50,2026-01-01\n"
        let first = try await db.ingest(.permits, csv: csv)
        let second = try await db.ingest(.permits, csv: csv.replacingOccurrences(of: "SO2,35", with: "SO2,30"))
        #expect(second.rowsSuperseded == 1)
        #expect(second.rowsUnchanged == 1)
        #expect(try await db.value("SELECT limit_max::text FROM envmon.emission_permit WHERE pollutant = 'SO2'") == "30")
        let history = try await db.rows("SELECT row_data->>'limit_max' AS max, upload_id::text AS upload FROM envmon.fact_history WHERE kind = 'permits'")
        #expect(history == [["max": "35", "upload": String(first.id)]])
        _ = try await db.withDatabase { try await UploadRevert(database: $0).revert(uploadID: second.id) }
        #expect(try await db.value("SELECT limit_max::text FROM envmon.emission_permit WHERE pollutant = 'SO2'") == "35")
        // The same bytes again are a duplicate.
        #expect(try await db.ingest(.permits, csv: csv).status == "duplicate")
    }

    @Test("bad permit rows are rejected with the column and the reason; good ones load")
    func badPermitRows() async throws {
        let db = try await TestDatabase.make()
        let result = try await db.ingest(.permits, csv: """
            企业编码,排放口编号,污染物,排放限值,单位,基准氧含量,监测方式,生效日期,失效日期
            \(Self.enterprise),DA001,SO2,35,mg/m3,6,自动,2026-01-01,
            \(Self.enterprise),DA001,NOx,,mg/m3,6,自动,2026-01-01,
            \(Self.enterprise),DA001,PM,10,mg/m3,21,自动,2026-01-01,
            \(Self.enterprise),DA001,COD,50,mg/m3,,手工,2026-01-01,
            \(Self.enterprise),DA002,SO2,35,mg/m3,6,偶尔,2026-01-01,
            \(Self.enterprise),DA003,SO2,35,mg/m3,6,自动,2026-06-01,2026-05-31
            \(Self.enterprise),DW001,pH,6-9,,,手工,2026-01-01,
            \(Self.enterprise),DA004,SO2,35,mg/m3,6,在线,2026-01-01,
            \(Self.enterprise),DA004,NOx,0.05,g/m3,6,自动,2026-01-01,
            \(Self.enterprise),DA005,SO2,35000,µg/m3,9,手工监测,2026-01-01,
            """)
        // Five bad rows of ten: at the default limit of a half, the good half loads.
        #expect(result.status == "loaded", "\(result.error ?? "")")
        #expect(result.rowsLoaded == 5)
        let rejections = try await db.rows("SELECT line::text AS line, column_name, reason FROM envmon.upload_rejection ORDER BY line")
        #expect(rejections.map { ($0["line"] ?? nil) ?? "" } == ["3", "4", "5", "6", "7"])
        let reasons = Dictionary(uniqueKeysWithValues: rejections.map { (($0["line"] ?? nil) ?? "", (($0["column_name"] ?? nil) ?? "") + ": " + (($0["reason"] ?? nil) ?? "")) })
        #expect(reasons["3"] == "排放限值: a permit needs its limit")
        #expect(reasons["4"] == "基准氧含量: a reference O2 is a share of air below 21 %")
        #expect(reasons["5"] == "单位: unit mg/m3 does not fit COD (measured in mg/L)")
        #expect(reasons["6"] == "监测方式: not a monitoring mode (write 自动 or 手工)")
        #expect(reasons["7"] == "失效日期: the permit ends before it begins")
        #expect(try await db.value("SELECT limit_min::text || '-' || limit_max::text FROM envmon.emission_permit WHERE pollutant = 'pH'") == "6-9")
        // Limits in g/m3 and µg/m3 are stored in mg/m3.
        #expect(try await db.value("SELECT limit_max::text FROM envmon.emission_permit WHERE outlet_id = 'DA004' AND pollutant = 'NOx'") == "50")
        #expect(try await db.value("SELECT limit_max::text || ' ' || unit || ' ' || monitoring FROM envmon.emission_permit WHERE outlet_id = 'DA005'") == "35 mg/m3 manual")
    }

    /// Hourly SO2 readings of DA001 for one day of March 2026: `hours` valid ones, then
    /// `flagged` more flagged D; each with its measured value, stated corrected value and O2.
    static func hourly(day: Int, hours: Int, flagged: Int = 0, value: String, corrected: String = "",
                       o2: String) -> String {
        var csv = ""
        for hour in 0..<(hours + flagged) {
            let time = "2026-03-\(day < 10 ? "0" : "")\(day) \(hour < 10 ? "0" : "")\(hour):00"
            csv += "\(enterprise),DA001,SO2,\(time),\(value),\(corrected),\(o2),\(hour < hours ? "N" : "D")\n"
        }
        return csv
    }

    @Test("a flue gas limit with a reference O2 judges the corrected concentration; automatic monitoring needs 20 valid hours a day")
    func o2CorrectionAndValidDays() async throws {
        let db = try await TestDatabase.make()
        _ = try await db.ingest(.permits, csv: """
            统一社会信用代码,排放口编号,污染物,许可排放浓度限值,单位,基准氧含量,监测方式,生效日期
            \(Self.enterprise),DA001,二氧化硫,35,mg/m3,6,自动,2026-01-01
            """)
        let header = "企业编码,排放口编码,污染物,监测时间,实测浓度(mg/m3),折算浓度(mg/m3),氧含量(%),数据标记\n"
        let csv = header
            // Measured 30 at 12 % O2 is 30 × (21 − 6) / (21 − 12) = 50 at the reference 6 %: over 35.
            + Self.hourly(day: 1, hours: 24, value: "30", o2: "12")
            // The export states the corrected value itself (20): it is the one judged.
            + Self.hourly(day: 2, hours: 24, value: "15", corrected: "20", o2: "10")
            // 19 valid hours and 5 flagged: not enough for a daily mean of automatic monitoring.
            + Self.hourly(day: 3, hours: 19, flagged: 5, value: "10", o2: "9")
            // O2 21 % is air: the row is rejected.
            + "\(Self.enterprise),DA001,SO2,2026-03-04 00:00,10,,21,N\n"
        let result = try await db.ingest(.emissions, csv: csv)
        #expect(result.status == "loaded", "\(result.error ?? "")")
        #expect(result.rowsLoaded == 72)
        #expect(result.rowsRejected == 1)
        #expect(try await db.value("SELECT column_name || ': ' || reason FROM envmon.upload_rejection")
                == "氧含量(%): an O2 of 21 % or more is air, not flue gas: the reading cannot be corrected")

        let rows = try await db.rows("""
            SELECT day::text AS day, round(measured_mean::numeric, 6)::text AS measured,
                   round(corrected_mean::numeric, 6)::text AS corrected, round(mean::numeric, 6)::text AS mean,
                   judged_on, sufficient::text AS sufficient, compliant::text AS compliant, unjudged_reason
            FROM analytics.emission_daily ORDER BY day
            """)
        #expect(rows == [
            ["day": "2026-03-01", "measured": "30.000000", "corrected": "50.000000", "mean": "50.000000",
             "judged_on": "corrected", "sufficient": "true", "compliant": "false", "unjudged_reason": nil],
            ["day": "2026-03-02", "measured": "15.000000", "corrected": "20.000000", "mean": "20.000000",
             "judged_on": "corrected", "sufficient": "true", "compliant": "true", "unjudged_reason": nil],
            ["day": "2026-03-03", "measured": "10.000000", "corrected": "12.500000", "mean": "12.500000",
             "judged_on": "corrected", "sufficient": "false", "compliant": nil,
             "unjudged_reason": "19 valid hourly values; automatic monitoring needs 20"],
        ])
        let month = try await db.rows("""
            SELECT reporting_days::text AS reporting, compliant_days::text AS compliant_days,
                   insufficient_days::text AS insufficient, compliant::text AS compliant,
                   round(first_failing_mean::numeric, 6)::text AS failing_mean
            FROM analytics.enterprise_compliance WHERE period = '2026-03'
            """)
        #expect(month == [["reporting": "2", "compliant_days": "1", "insufficient": "1", "compliant": "false",
                           "failing_mean": "50.000000"]])
        let rate = try await db.rows("""
            SELECT numerator::text AS n, denominator::text AS d FROM analytics.metric_values
            WHERE metric = 'emissions_compliance_rate' AND scope = 'all' AND period = '2026-03'
            """)
        #expect(rate == [["n": "0", "d": "1"]])

        // The threshold is a setting: with 19 the third day is judged (and complies).
        try await db.execute("UPDATE envmon.setting SET value = '19' WHERE key = 'daily_min_valid_hours'")
        #expect(try await db.value("SELECT compliant::text FROM analytics.emission_daily WHERE day = '2026-03-03'") == "true")
    }

    @Test("a reading set again with another O2 supersedes; the corrected daily mean follows, on both load paths")
    func correctedMeansFollowCorrections() async throws {
        let db = try await TestDatabase.make()
        _ = try await db.ingest(.permits, csv: "enterprise_id,outlet_id,pollutant,limit,o2_reference,monitoring\n\(Self.enterprise),DA001,SO2,35,6,手工\n")
        let header = "enterprise_id,outlet_id,pollutant,measured_at,value,corrected,o2,flag\n"
        let first = try await db.ingest(.emissions, bytes: Array((header + Self.hourly(day: 1, hours: 4, value: "30", o2: "12")).utf8),
                                        fileName: "first.csv") { $0.directLoadMinimumBytes = 0 }
        #expect(first.loadedDirectly)
        #expect(try await db.value("SELECT round(corrected_mean::numeric, 6)::text FROM analytics.emission_daily") == "50.000000")
        // Two of the four hours again at 16 % O2 (staging path): 30 × 15 / 5 = 90 for those.
        let second = try await db.ingest(.emissions, csv: header + Self.hourly(day: 1, hours: 2, value: "30", o2: "16"))
        #expect(second.rowsSuperseded == 2)
        #expect(try await db.value("SELECT round(corrected_mean::numeric, 6)::text FROM analytics.emission_daily") == "70.000000")
        #expect(try await db.value("SELECT count(*) FROM envmon.emission_reading_history WHERE o2 = 12") == "2")
    }
}
