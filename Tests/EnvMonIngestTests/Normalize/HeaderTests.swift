import EnvMonDomain
import Testing
@testable import EnvMonIngest

@Suite struct HeaderTests {
    @Test(arguments: [
        ["企业编码", "排放口编码", "污染物", "监测时间", "监测值"],
        ["统一社会信用代码", "排口编号", "监测因子", "时间", "实测浓度"],
        ["企业代码", "排放口编码", "污染物名称", "监测时间", "浓度"],
        ["Enterprise ID", " OUTLET_ID ", "Pollutant", "measured at", "VALUE"],
        ["ｅｎｔｅｒｐｒｉｓｅ＿ｉｄ", "ｏｕｔｌｅｔ＿ｉｄ", "ｐｏｌｌｕｔａｎｔ", "ｍｅａｓｕｒｅｄ＿ａｔ", "ｖａｌｕｅ"],
        ["企业 编码", "排放口编码", "污染物", "监测时间", "监测值（ｍｇ／ｍ３）"],
    ])
    func emissionsAliasesResolve(header: [String]) throws {
        #expect(RowNormalizer.missingRequired(header: header, kind: .emissions).isEmpty)
        #expect(try RowNormalizer.resolve(header: header, options: Fixture.options(.emissions)) != nil)
    }

    @Test func everyAliasOfEveryKindResolvesToItsColumn() {
        for kind in FeedKind.allCases {
            for column in ColumnAliases.columns(for: kind) {
                for name in column.allNames {
                    let layout = HeaderLayout(header: [name], kind: kind)
                    #expect(layout.columns[column.canonical]?.index == 0, "\(kind) \(name)")
                }
            }
        }
    }

    @Test func missingRequiredColumnsAreNamedCanonically() {
        #expect(RowNormalizer.missingRequired(header: ["企业编码", "污染物", "监测值"], kind: .emissions)
            == ["outlet_id", "measured_at"])
        #expect(RowNormalizer.missingRequired(header: ["区域", "建成区面积"], kind: .green)
            == ["green_covered_area_ha", "period"])
        #expect(RowNormalizer.missingRequired(header: ["区域", "period_start", "生活垃圾清运量", "无害化处理量"],
                                              kind: .waste) == ["period"])
    }

    @Test func titleRowAboveTheHeaderGivesNil() throws {
        let title = ["城关区2026年3月重点企业排放监测数据", nil, nil].map { $0 ?? "" }
        #expect(try RowNormalizer.resolve(header: title, options: Fixture.options(.emissions)) == nil)
    }

    @Test(arguments: [
        (["企业编码", "排放口编码", "污染物", "监测时间", "监测值(ppm)"], "监测值(ppm)"),
        (["district", "period", "建成区面积(亩)", "green_covered_area_ha"], "建成区面积(亩)"),
        (["section_id", "sampled_at", "汞(mg/m3)"], "汞(mg/m3)"),
    ])
    func unknownUnitRejectsTheUploadNamingTheColumn(header: [String], column: String) throws {
        let kind: FeedKind = header.contains("section_id") ? .water : header.contains("period") ? .green : .emissions
        do {
            _ = try RowNormalizer.resolve(header: header, options: Fixture.options(kind))
            Issue.record("no error for \(header)")
        } catch {
            #expect(error.reason.contains("'\(column)'"))
            #expect(error.reason.contains("unknown unit"))
        }
    }

    @Test func sameColumnTwiceRejectsTheUpload() throws {
        let header = ["企业编码", "排放口编码", "污染物", "监测因子", "监测时间", "监测值"]
        #expect(throws: FeedError.self) {
            try RowNormalizer.resolve(header: header, options: Fixture.options(.emissions))
        }
    }

    @Test(arguments: [
        ("COD(mg/L)", "cod", "12.5", "12.5"),
        ("汞(μg/L)", "hg", "0.05", "0.00005"),
        ("汞(µg/L)", "hg", "0.05", "0.00005"),
        ("汞（ug/L）", "hg", "0.05", "0.00005"),
        ("ＣＯＤ", "cod", "12", "12"),
        ("化学需氧量(CODcr)", "cod", "12", "12"),
        ("pH(无量纲)", "ph", "7.1", "7.1"),
        ("氨氮[mg/L]", "nh3n", "0.5", "0.5"),
    ])
    func waterHeadersWithUnits(header: String, item: String, raw: String, stored: String) throws {
        let fields = try Fixture.record(.water, ["section_id", "sampled_at", header], ["S1", "2026-03-01 08:00", raw])
        #expect(fields["items"] == "{\"\(item)\":\(stored)}")
    }

    @Test(arguments: [
        ("建成区面积(公顷)", "1234.5", "1234.5"),
        ("建成区面积（平方公里）", "12.345", "1234.5"),
        ("建成区面积(km²)", "12.345", "1234.5"),
        ("built_up_area_km2", "12.345", "1234.5"),
        ("built_up_area_ha", "1,234.5", "1234.5"),
    ])
    func areaUnitsConvertToHectares(header: String, raw: String, hectares: String) throws {
        let fields = try Fixture.record(.green, ["district", "period", header, "green_covered_area_ha"],
                                        ["城关街道", "2025", raw, "500"])
        #expect(fields["built_up_area_ha"] == hectares)
    }

    @Test(arguments: [("人口", "85000", "85000"), ("人口(万人)", "8.5", "85000"), ("population_10k", "8.5", "85000"),
                      ("常住人口（人）", "85,000", "85000")])
    func populationConvertsToPersons(header: String, raw: String, persons: String) throws {
        let fields = try Fixture.record(.green, ["district", "period", "built_up_area_ha", "green_covered_area_ha", header],
                                        ["城关街道", "2025", "1000", "420", raw])
        #expect(fields["population"] == persons)
    }

    @Test func unknownColumnsGoToExtra() throws {
        let fields = try Fixture.record(.waste, ["district", "period", "collected_t", "harmless_t", "备注", "填报人", ""],
                                        ["城关街道", "2026-01", "100", "100", "含\"节日\"高峰", "", "x"])
        // A value under a nameless column is not lost either: it is kept by position.
        #expect(fields["extra"] == #"{"备注":"含\"节日\"高峰","column 7":"x"}"#)
    }

    @Test func rowsShorterOrLongerThanTheHeaderAreTolerated() throws {
        let header = ["district", "period", "collected_t", "harmless_t", "white_pollution_sites"]
        let short = try Fixture.record(.waste, header, ["城关街道", "2026-01", "100", "99"])
        #expect(short["white_pollution_sites"] == nil)
        #expect(short["extra"] == nil)
        let long = try Fixture.record(.waste, header, ["城关街道", "2026-01", "100", "99", "3", "", "stray"])
        #expect(long["extra"] == #"{"column 7":"stray"}"#)
    }
}
