import EnvMonDomain
import Testing
@testable import EnvMonIngest

@Suite struct EmissionsRowTests {
    @Test func goodRowFollowsTheStagingColumns() throws {
        let header = ["企业编码", "企业名称", "所属街道", "排放口编码", "污染物", "监测时间", "监测值", "单位", "排放限值", "数据标记"]
        let result = try Fixture.outcome(.emissions, header, [
            "91310115MA1H7AB12C", "城东热电有限公司", "城关街道", "DA001", "二氧化硫", "2026/3/5 8:00", "21.50", "mg/m3",
            "35", "N",
        ])
        #expect(result == .record(StagingRecord(line: 2, fields: [
            "2", "91310115MA1H7AB12C", "城东热电有限公司", "城关街道", "DA001", "SO2", "2026-03-05T08:00:00+08:00",
            "21.5", "f", "mg/m3", nil, "35", "N", nil, nil, nil,
        ])))
    }

    @Test func correctedConcentrationAndO2AreKeptWithTheReading() throws {
        let header = ["企业编码", "排放口编码", "污染物", "监测时间", "实测浓度(μg/m3)", "折算浓度(mg/m3)", "氧含量(%)"]
        let fields = try Fixture.record(.emissions, header, ["E1", "DA001", "SO2", "2026-03-05 08:00", "21500", "30.2", "8.5"])
        #expect(fields["value"] == "21.5")
        #expect(fields["corrected"] == "30.2")
        #expect(fields["o2"] == "8.5")
        // Without a unit in its header the corrected value takes the value's unit.
        let same = try Fixture.record(.emissions, ["企业编码", "排放口编码", "污染物", "监测时间", "监测值", "单位", "折算值", "O2"],
                                      ["E1", "DA001", "NOx", "2026-03-05 08:00", "40000", "µg/m3", "52000", "20.9"])
        #expect(same["corrected"] == "52")
        #expect(same["o2"] == "20.9")
        let air = try Fixture.rejections(.emissions, header, ["E1", "DA001", "SO2", "2026-03-05 08:00", "21500", "", "21"])
        #expect(air == [Rejection(line: 2, column: "氧含量(%)", value: "21",
                                  reason: "an O2 of 21 % or more is air, not flue gas: the reading cannot be corrected")])
    }

    @Test(arguments: [
        ("SO2", "SO2"), ("二氧化硫", "SO2"), ("a21026", "SO2"), ("02", "SO2"),
        ("NOx", "NOx"), ("氮氧化物", "NOx"), ("a21002", "NOx"), ("03", "NOx"),
        ("PM", "PM"), ("颗粒物", "PM"), ("烟尘", "PM"), ("a34013", "PM"), ("01", "PM"),
        ("COD", "COD"), ("化学需氧量", "COD"), ("w01018", "COD"), ("011", "COD"),
        ("NH3-N", "NH3N"), ("NH3N", "NH3N"), ("氨氮", "NH3N"), ("w21003", "NH3N"), ("060", "NH3N"),
        ("TP", "TP"), ("总磷", "TP"), ("w21011", "TP"), ("101", "TP"),
        ("TN", "TN"), ("总氮", "TN"), ("w21001", "TN"), ("065", "TN"),
        ("pH", "pH"), ("PH值", "pH"), ("w01001", "pH"), ("001", "pH"),
        ("ＳＯ２", "SO2"), ("A21026", "SO2"),
    ])
    func compliancePollutantsMapToTheirName(written: String, stored: String) throws {
        let limit = stored == "pH" ? "6-9" : "50"
        let unit = ["COD", "NH3N", "TP", "TN"].contains(stored) ? "mg/L" : stored == "pH" ? "" : "mg/m3"
        let fields = try Fixture.record(.emissions, Fixture.emissionsHeader,
                                        Fixture.emissionsRow(["pollutant": written, "limit": limit, "unit": unit, "value": "7"]))
        #expect(fields["pollutant"] == stored)
    }

    @Test(arguments: [("a19001", "a19001", "%"), ("S01", "a19001", "%"), ("氧气含量", "a19001", "%"),
                      ("a00000", "a00000", "m3/s"), ("B02", "a00000", "m3/s"), ("a01012", "a01012", "℃"),
                      ("PM2.5", "a34004", "mg/m3"), ("CO", "a21005", "mg/m3"), ("一氧化碳", "a21005", "mg/m3")])
    func otherHJ212FactorsKeepTheir2017CodeWithoutLimit(written: String, code: String, unit: String) throws {
        let fields = try Fixture.record(.emissions, Fixture.emissionsHeader,
                                        Fixture.emissionsRow(["pollutant": written, "limit": "", "unit": unit, "value": "8.5"]))
        #expect(fields["pollutant"] == code)
        #expect(fields["unit"] == unit)
        #expect(fields["limit_max"] == nil)
    }

    @Test func unknownPollutantIsRejected() throws {
        let rejections = try Fixture.rejections(.emissions, Fixture.emissionsHeader, Fixture.emissionsRow(["pollutant": "x99999"]))
        #expect(rejections == [Rejection(line: 2, column: "pollutant", value: "x99999", reason: "unknown pollutant code")])
    }

    /// The limit is in the row's unit too, so it converts with the value.
    @Test(arguments: [("μg/m3", "21500", "35000"), ("µg/m3", "21500", "35000"), ("ug/m3", "21500", "35000"), ("g/m3", "0.0215", "0.035"),
                      ("mg/m3", "21.5", "35"), ("mg/Nm3", "21.5", "35"), ("毫克/立方米", "21.5", "35")])
    func emissionUnitsConvertToMilligrams(unit: String, raw: String, limit: String) throws {
        let fields = try Fixture.record(.emissions, Fixture.emissionsHeader,
                                        Fixture.emissionsRow(["unit": unit, "value": raw, "limit": limit]))
        #expect(fields["value"] == "21.5")
        #expect(fields["unit"] == "mg/m3")
        #expect(fields["limit_max"] == "35")
    }

    @Test func unitInTheValueHeaderStandsInForTheUnitColumn() throws {
        let header = ["enterprise_id", "outlet_id", "pollutant", "measured_at", "监测值(μg/m3)", "limit"]
        let fields = try Fixture.record(.emissions, header, ["E1", "DA001", "SO2", "2026-03-05 08:00", "21500", "35"])
        #expect(fields["value"] == "21.5")
        #expect(fields["unit"] == "mg/m3")
    }

    @Test func wrongOrUnknownUnitForACompliancePollutantIsRejected() throws {
        let wrong = try Fixture.rejections(.emissions, Fixture.emissionsHeader, Fixture.emissionsRow(["unit": "mg/L"]))
        #expect(wrong == [Rejection(line: 2, column: "unit", value: "mg/L",
                                    reason: "unit mg/L does not fit SO2 (measured in mg/m3)")])
        let unknown = try Fixture.rejections(.emissions, Fixture.emissionsHeader, Fixture.emissionsRow(["unit": "ppm"]))
        #expect(unknown.map(\.column) == ["unit"])
    }

    @Test func phTakesARangeAndHasNoUnit() throws {
        let fields = try Fixture.record(.emissions, Fixture.emissionsHeader,
                                        Fixture.emissionsRow(["pollutant": "pH", "value": "7.2", "unit": "无量纲", "limit": "6-9"]))
        #expect(fields["limit_min"] == "6")
        #expect(fields["limit_max"] == "9")
        #expect(fields["unit"] == nil)
        let tilde = try Fixture.record(.emissions, Fixture.emissionsHeader,
                                       Fixture.emissionsRow(["pollutant": "pH", "value": "7.2", "unit": "", "limit": "6～9"]))
        #expect(tilde["limit_min"] == "6")
    }

    @Test(arguments: ["", "--", "/"])
    func aCompliancePollutantWithoutALimitLoadsForThePermitToJudge(limit: String) throws {
        let fields = try Fixture.record(.emissions, Fixture.emissionsHeader, Fixture.emissionsRow(["limit": limit]))
        #expect(fields["pollutant"] == "SO2")
        #expect(fields["limit_min"] == nil)
        #expect(fields["limit_max"] == nil)
    }

    @Test func noLimitColumnAtAll() throws {
        // A JSON record without a `limit` key, as online-monitoring exports are: limits come from permits.
        let header = ["enterprise_id", "outlet_id", "pollutant", "measured_at", "value"]
        let fields = try Fixture.record(.emissions, header, ["E1", "DA001", "NOx", "2026-03-05 08:00", "40"])
        #expect(fields["value"] == "40")
        #expect(fields["limit_max"] == nil)
    }

    @Test func unreadableLimitIsRejected() throws {
        let rejections = try Fixture.rejections(.emissions, Fixture.emissionsHeader, Fixture.emissionsRow(["limit": "35mg"]))
        #expect(rejections.map(\.column) == ["limit"])
    }

    @Test(arguments: ["N", "F", "M", "S", "D", "C", "T", "B", "n", "t"])
    func hj212FlagsAreStoredUpperCase(flag: String) throws {
        let fields = try Fixture.record(.emissions, Fixture.emissionsHeader, Fixture.emissionsRow(["flag": flag]))
        #expect(fields["flag"] == flag.uppercased())
    }

    @Test func emptyFlagIsNullAndAnUnknownFlagIsRejected() throws {
        let empty = try Fixture.record(.emissions, Fixture.emissionsHeader, Fixture.emissionsRow(["flag": ""]))
        #expect(empty["flag"] == nil)
        let bad = try Fixture.rejections(.emissions, Fixture.emissionsHeader, Fixture.emissionsRow(["flag": "X"]))
        #expect(bad == [Rejection(line: 2, column: "flag", value: "X",
                                  reason: "unknown data flag (HJ 212 flags are N, F, M, S, D, C, T, B)")])
    }

    @Test(arguments: [("<0.01", "0.01", "t"), ("未检出", nil, "t"), ("0.01", "0.01", "f")] as [(String, String?, String)])
    func belowDetection(raw: String, value: String?, flag: String) throws {
        let fields = try Fixture.record(.emissions, Fixture.emissionsHeader, Fixture.emissionsRow(["value": raw]))
        #expect(fields["value"] == value)
        #expect(fields["below_detection"] == flag)
    }

    @Test(arguments: [("", "a value is required here"), ("--", "a value is required here"), ("abc", "not a number"),
                      ("-3", "must not be negative")])
    func badValuesAreRejected(raw: String, reason: String) throws {
        let rejections = try Fixture.rejections(.emissions, Fixture.emissionsHeader, Fixture.emissionsRow(["value": raw]))
        #expect(rejections == [Rejection(line: 2, column: "value", value: raw, reason: reason)])
    }

    @Test func scientificNotationIdIsRejectedWithTheExcelExplanation() throws {
        let rejections = try Fixture.rejections(.emissions, Fixture.emissionsHeader,
                                                Fixture.emissionsRow(["enterprise_id": "9.13101E+17"]), line: 7)
        #expect(rejections.count == 1)
        #expect(rejections.first?.line == 7)
        #expect(rejections.first?.column == "enterprise_id")
        #expect(rejections.first?.value == "9.13101E+17")
        #expect(rejections.first?.reason.contains("Excel") == true)
        #expect(rejections.first?.reason.contains("scientific notation") == true)
    }

    @Test func oneRejectionPerBadCell() throws {
        let rejections = try Fixture.rejections(.emissions, Fixture.emissionsHeader, Fixture.emissionsRow([
            "outlet_id": "", "pollutant": "???", "measured_at": "2099-01-01 00:00", "flag": "Z",
        ]))
        #expect(rejections.map(\.column) == ["outlet_id", "pollutant", "measured_at", "flag"])
        #expect(rejections.allSatisfy { $0.line == 2 })
    }

    @Test(arguments: ["合计", "总计", "小计", "全区合计"])
    func totalRowsAreSkipped(label: String) throws {
        #expect(try Fixture.outcome(.emissions, Fixture.emissionsHeader,
                                    Fixture.emissionsRow(["enterprise_id": label, "outlet_id": "", "measured_at": ""]))
            == .skippedTotal)
    }

    @Test func blankRowsAreBlank() throws {
        #expect(try Fixture.outcome(.emissions, Fixture.emissionsHeader, ["", " ", nil, "", "", "", "", ""]) == .blank)
        #expect(try Fixture.outcome(.emissions, Fixture.emissionsHeader, []) == .blank)
    }
}
