import EnvMonDomain
import EnvMonServer
@testable import EnvMonStore
import EnvMonTestSupport
import Foundation
import Testing

/// Wide online-monitoring exports (one row per outlet and hour, a group of columns per
/// pollutant) load as the long readings they hold.
@Suite("wide online-monitoring exports", .timeLimit(.minutes(10)), .temporaryDatabases)
struct WideExportTests {
    /// The readings as stored, without line and extra: what both forms must agree on.
    static let facts = """
        SELECT s.enterprise_id, s.outlet_id, s.pollutant, r.measured_at::text AS at, r.value::text AS value, r.unit,
               r.corrected::text AS corrected, r.o2::text AS o2, r.flag
        FROM envmon.emission_reading r JOIN envmon.emission_series s USING (series_id)
        ORDER BY s.pollutant, r.measured_at
        """

    /// Every header form of FEEDS.md at once: pollutant + measure + unit, a code with its HJ 212
    /// suffix, a per-pollutant flag, shared O2, flow and temperature, an amount column, date and
    /// hour range in two columns, a row flag.
    static let wide = """
        企业编码,排放口编码,监测日期,监测时间,SO2实测浓度(mg/m3),SO2折算浓度(mg/m3),二氧化硫标记,NOx实测值,NOx折算(mg/m³),a34013-Avg,a34013-ZsAvg,氧含量(%),标干流量(m³/h),烟气温度(℃),NOx排放量(kg),数据标记
        E1,DA001,2026-03-01,00:00-01:00,20.5,25.1,N,40,48.9,3.2,3.9,10.5,120000,85,1.2,N
        E1,DA001,2026-03-01,01:00-02:00,21.0,,D,41,50.2,,,10.7,121000,86,1.3,N
        E1,DA001,2026-03-01,02:00-03:00,,,,,,,,,,,,
        """

    static let long = """
        enterprise_id,outlet_id,pollutant,measured_at,value,unit,corrected,o2,flag
        E1,DA001,SO2,2026-03-01 00:00,20.5,mg/m3,25.1,10.5,N
        E1,DA001,NOx,2026-03-01 00:00,40,mg/m3,48.9,10.5,N
        E1,DA001,PM,2026-03-01 00:00,3.2,mg/m3,3.9,10.5,N
        E1,DA001,a19001,2026-03-01 00:00,10.5,%,,,N
        E1,DA001,a00000,2026-03-01 00:00,120000,m3/h,,,N
        E1,DA001,a01012,2026-03-01 00:00,85,℃,,,N
        E1,DA001,SO2,2026-03-01 01:00,21.0,mg/m3,,10.7,D
        E1,DA001,NOx,2026-03-01 01:00,41,mg/m3,50.2,10.7,N
        E1,DA001,a19001,2026-03-01 01:00,10.7,%,,,N
        E1,DA001,a00000,2026-03-01 01:00,121000,m3/h,,,N
        E1,DA001,a01012,2026-03-01 01:00,86,℃,,,N
        """

    @Test("a wide export and the same readings written long give the same facts")
    func wideEqualsLong() async throws {
        let wideDB = try await TestDatabase.make()
        let longDB = try await TestDatabase.make()
        let wide = try await wideDB.ingest(.emissions, csv: Self.wide)
        let long = try await longDB.ingest(.emissions, csv: Self.long)
        #expect(wide.status == "loaded", "\(wide.error ?? "")")
        #expect(long.status == "loaded", "\(long.error ?? "")")
        #expect(wide.rowsLoaded == 11)
        #expect(wide.rowsTotal == 11)
        let wideFacts = try await wideDB.rows(Self.facts)
        #expect(wideFacts.count == 11)
        #expect(wideFacts == (try await longDB.rows(Self.facts)))
        // The reading keeps the row's other columns: flow and temperature, and its own amount.
        let extra = try await wideDB.value("""
            SELECT r.extra::text FROM envmon.emission_reading r JOIN envmon.emission_series s USING (series_id)
            WHERE s.pollutant = 'NOx' AND r.measured_at = '2026-03-01 00:00+08'
            """)
        #expect(extra == #"{"NOx排放量(kg)": "1.2", "烟气温度(℃)": "85", "标干流量(m³/h)": "120000"}"#)  // jsonb's key order
    }

    @Test("a bad cell rejects that pollutant's reading only, naming the column; the row's others load")
    func badCellRejectsOneReading() async throws {
        let db = try await TestDatabase.make()
        let csv = """
            企业编码,排放口编码,监测时间,SO2实测浓度(mg/m3),NOx实测浓度(mg/m3),氧含量(%)
            E1,DA001,2026-03-01 00:00,20.5,abc,10.5
            E1,DA001,2026-03-01 01:00,21,41,10.7
            ,,平均值,20.75,41,10.6
            ,,最大值,21,41,10.7
            """
        let result = try await db.ingest(.emissions, csv: csv)
        #expect(result.status == "loaded", "\(result.error ?? "")")
        #expect(result.rowsLoaded == 5)
        #expect(result.rowsRejected == 1)
        #expect(result.rowsSkipped == 2)  // the export's 平均值 and 最大值 rows
        let rejection = try await db.rows("SELECT line::text AS line, column_name, raw_value, reason FROM envmon.upload_rejection")
        #expect(rejection == [["line": "2", "column_name": "NOx实测浓度(mg/m3)", "raw_value": "abc", "reason": "not a number"]])
    }

    @Test("a workbook with a two-row header (pollutants merged over 实测/折算) loads, and the permit judges its corrected values")
    func twoRowHeaderWorkbook() async throws {
        let db = try await TestDatabase.make()
        _ = try await db.ingest(.permits, csv: "enterprise_id,outlet_id,pollutant,limit,o2_reference,monitoring\nE9001,DA001,SO2,35,6,自动\n")
        let bytes = [UInt8](try BureauWorkbooks.wideEmissions())
        let result = try await db.ingest(.emissions, bytes: bytes, fileName: "在线监测小时数据.xlsx")
        #expect(result.status == "loaded", "\(result.error ?? "")")
        // 24 hours × SO2, NOx, PM, O2 and flow.
        #expect(result.rowsLoaded == 120)
        #expect(result.rowsRejected == 0)
        let five = try await db.rows("""
            SELECT r.value::text AS value, r.corrected::text AS corrected, r.o2::text AS o2, r.unit
            FROM envmon.emission_reading r JOIN envmon.emission_series s USING (series_id)
            WHERE s.pollutant = 'SO2' AND r.measured_at = '2026-03-01 05:00+08'
            """)
        #expect(five == [["value": "25", "corrected": "37.5", "o2": "13", "unit": "mg/m3"]])
        // The stated corrected values decide: 1.5 × (20 + 23 / 2) = 47.25 against 35.
        let day = try await db.rows("""
            SELECT round(measured_mean::numeric, 4)::text AS measured, round(mean::numeric, 4)::text AS mean,
                   judged_on, compliant::text AS compliant
            FROM analytics.emission_daily WHERE pollutant = 'SO2'
            """)
        #expect(day == [["measured": "31.5000", "mean": "47.2500", "judged_on": "corrected", "compliant": "false"]])
        #expect(try await db.ingest(.emissions, bytes: bytes, fileName: "again.xlsx").status == "duplicate")
    }
}
