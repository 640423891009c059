import EnvMonDomain
import Testing
@testable import EnvMonIngest

/// The header forms of wide online-monitoring exports (FEEDS.md "Wide exports").
@Suite struct WideHeaderTests {
    @Test(arguments: [
        ("SO2实测浓度(mg/m3)", "SO2", WideLayout.Measure.measured, "mg/m3"),
        ("SO2折算浓度(mg/m3)", "SO2", .corrected, "mg/m3"),
        ("NOx折算(mg/m³)", "NOx", .corrected, "mg/m3"),
        ("烟尘实测值", "PM", .measured, nil),
        ("二氧化硫", "SO2", .measured, nil),
        ("二氧化硫标记", "SO2", .flag, nil),
        ("a21026-Avg", "SO2", .measured, nil),
        ("a21026-ZsAvg", "SO2", .corrected, nil),
        ("a21026-Flag", "SO2", .flag, nil),
        ("NOx排放量(kg)", "NOx", .other, "kg"),
        ("COD(mg/L)", "COD", .measured, "mg/L"),
        ("氨氮", "NH3N", .measured, nil),
        ("pH值", "pH", .measured, nil),
        ("氧含量(%)", "a19001", .measured, "%"),
        ("O2(%)", "a19001", .measured, "%"),
        ("标干流量(m³/h)", "flow", .measured, "m3/h"),
        ("烟气温度(℃)", "a01012", .measured, "℃"),
        ("湿度(%)", "a01014", .measured, "%"),
        ("烟气压力(kPa)", "a01013", .measured, "kPa"),
    ] as [(String, String, WideLayout.Measure, String?)])
    func headerForms(text: String, pollutant: String, measure: WideLayout.Measure, unit: String?) throws {
        let parsed = try #require(WideLayout.parse(text))
        #expect(parsed.pollutant == pollutant)
        #expect(parsed.measure == measure)
        #expect(parsed.unit == unit)
    }

    @Test(arguments: ["企业名称", "监测时间", "备注", "运行状态"])
    func otherColumnsAreNotPollutants(text: String) {
        #expect(WideLayout.parse(text) == nil)
    }

    @Test func twoHeaderRowsCombine() {
        // As a CSV writes merged cells: the name in the first cell, the rest empty.
        let upper = ["企业编码", "监测时间", "二氧化硫", "", "氮氧化物", "", "氧含量(%)"]
        let lower = ["", "", "实测浓度(mg/m³)", "折算浓度(mg/m³)", "实测浓度(mg/m³)", "折算浓度(mg/m³)", ""]
        #expect(TwoRowHeader.combine(upper: upper, lower: lower) == [
            "企业编码", "监测时间", "二氧化硫实测浓度(mg/m³)", "二氧化硫折算浓度(mg/m³)", "氮氧化物实测浓度(mg/m³)",
            "氮氧化物折算浓度(mg/m³)", "氧含量(%)",
        ])
        // The upper row alone is not taken for the header.
        let options = IngestOptions(kind: .emissions)
        #expect((try? RowNormalizer.resolve(header: upper + ["排放口编码"], options: options)) == nil)
    }

    @Test func aWideRowBecomesOneRecordPerPollutant() throws {
        let header = ["企业编码", "排放口编码", "监测时间", "SO2实测浓度(mg/m3)", "SO2折算浓度(mg/m3)", "NOx实测浓度(mg/m3)", "氧含量(%)"]
        let normalizer = try #require(try RowNormalizer.resolve(header: header, options: IngestOptions(kind: .emissions)))
        guard case .readings(let records, let rejected, _) = normalizer.normalize(
            line: 2, cells: ["E1", "DA001", "2026-03-01 00:00", "20.5", "30", "", "10"]) else {
            Issue.record("not a wide row")
            return
        }
        #expect(rejected == 0)
        #expect(records.map { $0[EmissionsColumn.pollutant] } == ["SO2", "a19001"])
        #expect(records.first?[EmissionsColumn.corrected] == "30")
        #expect(records.first?[EmissionsColumn.o2] == "10")
        #expect(records.last?[EmissionsColumn.o2] == nil)
    }
}
