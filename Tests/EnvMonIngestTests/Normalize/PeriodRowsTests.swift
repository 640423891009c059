import EnvMonDomain
import Testing
@testable import EnvMonIngest

@Suite struct PeriodRowsTests {
    static let sewageHeader = ["污水处理厂编码", "污水处理厂名称", "服务区域", "统计期", "污水排放量(万立方米)", "集中处理量(万立方米)"]

    @Test func sewageRowConvertsVolumes() throws {
        let result = try Fixture.outcome(.sewage, Self.sewageHeader, ["WS001", "城东污水处理厂", "城关街道", "2026年3月", "125.4", "118.2"])
        #expect(result == .record(StagingRecord(line: 2, fields: [
            "2", "WS001", "城东污水处理厂", "城关街道", "2026-03-01", "2026-03-31", "2026-03", "1254000", "1182000", nil,
        ])))
    }

    @Test(arguments: [("100", "105", true), ("100", "105.01", false), ("100", "100", true), ("0", "0", true), ("0", "1", false)])
    func treatedMayExceedDischargedByFivePercentAtMost(discharged: String, treated: String, loads: Bool) throws {
        let result = try Fixture.outcome(.sewage, ["plant_id", "period", "sewage_discharged_m3", "sewage_treated_m3"],
                                         ["WS001", "2026-Q1", discharged, treated])
        if loads {
            guard case .record = result else { Issue.record("\(result)"); return }
        } else {
            #expect(result == .rejected([Rejection(line: 2, column: "sewage_treated_m3", value: treated,
                                                   reason: "sewage treated exceeds sewage discharged by more than 5%")]))
        }
    }

    static let greenHeader = ["街道", "年份", "建成区面积(平方公里)", "绿化覆盖面积(公顷)", "公园绿地面积", "人口(万人)"]

    @Test func greenRowConvertsAreasAndPopulation() throws {
        let fields = try Fixture.record(.green, Self.greenHeader, ["城关街道", "2025", "12.5", "520.3", "95.6", "8.72"])
        #expect(fields["district"] == "城关街道")
        #expect(fields["period_label"] == "2025")
        #expect(fields["built_up_area_ha"] == "1250")
        #expect(fields["green_covered_area_ha"] == "520.3")
        #expect(fields["park_green_area_ha"] == "95.6")
        #expect(fields["population"] == "87200")
    }

    @Test func greenCoveredAboveBuiltUpIsRejected() throws {
        let rejections = try Fixture.rejections(.green, Self.greenHeader, ["城关街道", "2025", "5", "520.3", "95.6", "8.72"])
        #expect(rejections == [Rejection(line: 2, column: "绿化覆盖面积(公顷)", value: "520.3",
                                         reason: "green covered area exceeds the built-up area")])
    }

    @Test(arguments: ["合计", "总计", "小计"])
    func greenTotalRowsAreSkipped(label: String) throws {
        #expect(try Fixture.outcome(.green, Self.greenHeader, [label, "2025", "50", "2000", "400", "35"]) == .skippedTotal)
    }

    static let wasteHeader = ["区域", "月份", "生活垃圾清运量", "无害化转运量", "白色污染点位数", "已整治点位数"]

    @Test func wasteRowLoads() throws {
        let fields = try Fixture.record(.waste, Self.wasteHeader, ["城关街道", "2026-03", "3,215.6", "3215.6", "12", "11"])
        #expect(fields["collected_t"] == "3215.6")
        #expect(fields["harmless_t"] == "3215.6")
        #expect(fields["white_pollution_sites"] == "12")
        #expect(fields["white_pollution_remediated"] == "11")
    }

    @Test func wasteCrossFieldRulesRejectEachBadCell() throws {
        let rejections = try Fixture.rejections(.waste, Self.wasteHeader, ["城关街道", "2026-03", "3000", "3000.5", "12", "13"])
        #expect(rejections == [
            Rejection(line: 2, column: "无害化转运量", value: "3000.5", reason: "harmless treatment exceeds the waste collected"),
            Rejection(line: 2, column: "已整治点位数", value: "13", reason: "more sites remediated than white pollution sites"),
        ])
    }

    @Test(arguments: ["12.5", "<3"])
    func siteCountsMustBeWholeNumbers(raw: String) throws {
        let rejections = try Fixture.rejections(.waste, Self.wasteHeader, ["城关街道", "2026-03", "3000", "3000", raw, "1"])
        #expect(rejections.map(\.column) == ["白色污染点位数"])
    }

    @Test func missingRequiredValuesAreRejected() throws {
        let rejections = try Fixture.rejections(.waste, Self.wasteHeader, ["", "2026-03", "", "3000", "", ""])
        #expect(rejections == [
            Rejection(line: 2, column: "区域", value: "", reason: "a value is required here"),
            Rejection(line: 2, column: "生活垃圾清运量", value: "", reason: "a value is required here"),
        ])
    }

    @Test func periodFromTheWrongColumnTypeIsRejected() throws {
        let rejections = try Fixture.rejections(.waste, Self.wasteHeader, ["城关街道", "三月", "3000", "3000", "", ""])
        #expect(rejections.map(\.column) == ["月份"])
    }
}
