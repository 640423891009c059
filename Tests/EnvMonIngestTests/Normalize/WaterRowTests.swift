import EnvMonDomain
import Foundation
import Testing
@testable import EnvMonIngest

@Suite struct WaterRowTests {
    /// The national automatic stations' published header, from the fixture's English names.
    static let publishedHeader = [
        "省份", "流域", "断面名称", "监测时间", "水质类别", "水温(℃)", "pH(无量纲)", "溶解氧(mg/L)", "电导率(μS/cm)",
        "浊度(NTU)", "高锰酸盐指数(mg/L)", "氨氮(mg/L)", "总磷(mg/L)", "总氮(mg/L)", "叶绿素α(mg/L)", "藻密度(cells/L)",
        "站点情况",
    ]

    static func nationalRows() throws -> [[String]] {
        let url = try #require(Fixture.locate("Tests/EnvMonIngestTests/Fixtures/cnemc_auto_stations_2021-04.csv"))
        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        return lines.dropFirst().map { line in
            Array(line.split(separator: ",", omittingEmptySubsequences: false).prefix(publishedHeader.count).map(String.init))
        }
    }

    @Test func nationalStationPublicationLoadsAsItIs() throws {
        let rows = try Self.nationalRows()
        #expect(rows.count == 44)
        let normalizer = try #require(try RowNormalizer.resolve(header: Self.publishedHeader,
                                                                options: Fixture.options(.water, year: 2021)))
        let classes = ["Ⅰ": "1", "Ⅱ": "2", "Ⅲ": "3", "Ⅳ": "4", "Ⅴ": "5", "劣Ⅴ": "6"]
        let items = [(6, "ph"), (7, "do"), (10, "codmn"), (11, "nh3n"), (12, "tp"), (13, "tn")]
        var loaded = 0
        for (offset, row) in rows.enumerated() {
            let outcome = normalizer.normalize(line: offset + 2, cells: row)
            guard case .record(let record) = outcome else {
                // Only the station under maintenance with no time and no values is refused.
                #expect(row[2] == "七效港西桥", "\(row[2]): \(outcome)")
                continue
            }
            loaded += 1
            let fields = StagingFields(kind: .water, fields: record.fields)
            #expect(fields["section_id"] == row[2])
            #expect(fields["section_name"] == row[2])
            #expect(fields["sampled_at"] == "2021-\(row[3].replacingOccurrences(of: " ", with: "T")):00+08:00")
            #expect(fields["reported_class"] == classes[row[4]])
            #expect(fields["station_status"] == row[16])
            let json = try #require(fields["items"]?.data(using: .utf8))
            let stored = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Double])
            for (column, id) in items {
                #expect(stored[id] == Double(row[column]), "\(row[2]) \(id)")
            }
            let extraJSON = try #require(fields["extra"]?.data(using: .utf8))
            let extra = try #require(try JSONSerialization.jsonObject(with: extraJSON) as? [String: String])
            #expect(extra["省份"] == row[0])
            #expect(extra["水温(℃)"] == row[5])
            #expect(extra["藻密度(cells/L)"] == row[15])
        }
        #expect(loaded == 43)
    }

    @Test func maintenanceRowWithoutValuesIsRejectedWithReasons() throws {
        let rows = try Self.nationalRows()
        let row = try #require(rows.first { $0[2] == "七效港西桥" })
        let rejections = try Fixture.rejections(.water, Self.publishedHeader, row, year: 2021, line: 45)
        #expect(rejections == [
            Rejection(line: 45, column: "监测时间", value: "*", reason: "a value is required here"),
            Rejection(line: 45, column: nil, value: nil, reason: "no water quality item has a value (at least one is needed)"),
        ])
    }

    @Test func nationalTimesNeedTheYear() throws {
        let rows = try Self.nationalRows()
        let rejections = try Fixture.rejections(.water, Self.publishedHeader, rows[0])
        #expect(rejections == [Rejection(line: 2, column: "监测时间", value: "04-01 12:00",
                                         reason: "time has no year; give the year with --year")])
    }

    static let header = ["断面编码", "断面名称", "河流", "河道等级", "水体类型", "所属街道", "采样时间", "水质类别",
                         "溶解氧", "氨氮", "总磷", "汞", "挥发酚"]

    static func row(_ changes: [Int: String] = [:]) -> [String?] {
        var row = ["WS-0301", "城关桥", "清水河", "二级", "河流", "城关街道", "2026-03-01 09:00", "Ⅲ类",
                   "6.2", "0.82", "0.15", "<0.00004", "未检出"]
        for (index, value) in changes { row[index] = value }
        return row
    }

    @Test func sectionRowWithBelowDetectionItems() throws {
        let fields = try Fixture.record(.water, Self.header, Self.row())
        #expect(fields["section_id"] == "WS-0301")
        #expect(fields["river"] == "清水河")
        #expect(fields["river_level"] == "2")
        #expect(fields["water_body"] == "river")
        #expect(fields["items"] == #"{"do":6.2,"nh3n":0.82,"tp":0.15,"hg":0.00004}"#)
        #expect(fields["below_detection"] == #"["hg","phenol"]"#)
        #expect(fields["reported_class"] == "3")
        #expect(fields["extra"] == nil)
    }

    @Test(arguments: [("Ⅰ", "1"), ("Ⅱ类", "2"), ("III", "3"), ("Ⅳ", "4"), ("V", "5"), ("5", "5"), ("劣Ⅴ", "6"),
                      ("劣V", "6"), ("劣Ⅴ类", "6"), ("6", "6"), ("Ｖ", "5"), ("ⅰ", "1"), ("1", "1")])
    func reportedClasses(written: String, stored: String) throws {
        let fields = try Fixture.record(.water, Self.header, Self.row([7: written]))
        #expect(fields["reported_class"] == stored)
    }

    @Test(arguments: [("1", "1"), ("2", "2"), ("一级", "1"), ("二级", "2"), ("二级河道", "2")])
    func riverLevels(written: String, stored: String) throws {
        #expect(try Fixture.record(.water, Self.header, Self.row([3: written]))["river_level"] == stored)
    }

    @Test(arguments: [("河流", "river"), ("湖库", "lake"), ("湖泊", "lake"), ("水库", "lake"), ("river", "river"),
                      ("Lake", "lake"), ("reservoir", "lake")])
    func waterBodies(written: String, stored: String) throws {
        #expect(try Fixture.record(.water, Self.header, Self.row([4: written]))["water_body"] == stored)
    }

    @Test(arguments: [
        (7, "Ⅶ", "not a water quality class (write Ⅰ–Ⅴ or 劣Ⅴ)"),
        (3, "三级", "not a river level (write 1, 2, 一级 or 二级)"),
        (4, "海洋", "not a water body type (write 河流 or 湖库)"),
        (8, "35", "dissolved oxygen must be between 0 and 30 mg/L"),
        (9, "-0.1", "must not be negative"),
        (10, "abc", "not a number"),
        (0, "1.2E+17", "Excel turned this id into scientific notation, so its digits are lost; format the id column as Text in Excel and export again"),
    ])
    func badCellsAreRejectedWithColumnAndValue(index: Int, raw: String, reason: String) throws {
        let rejections = try Fixture.rejections(.water, Self.header, Self.row([index: raw]))
        #expect(rejections == [Rejection(line: 2, column: Self.header[index], value: raw, reason: reason)])
    }

    @Test(arguments: ["15", "-1"])
    func phOutsideZeroToFourteenIsRejected(raw: String) throws {
        let rejections = try Fixture.rejections(.water, ["section_id", "sampled_at", "pH"], ["S1", "2026-03-01", raw])
        #expect(rejections == [Rejection(line: 2, column: "pH", value: raw, reason: "pH must be between 0 and 14")])
    }

    @Test func rowWithoutAnyItemIsRejected() throws {
        let rejections = try Fixture.rejections(.water, Self.header, Self.row([8: "--", 9: "*", 10: "", 11: "/", 12: "—"]))
        #expect(rejections.map(\.reason) == ["no water quality item has a value (at least one is needed)"])
    }

    @Test func sectionNameStandsInForAMissingCode() throws {
        #expect(RowNormalizer.missingRequired(header: ["断面名称", "监测时间", "pH"], kind: .water).isEmpty)
        #expect(RowNormalizer.missingRequired(header: ["河流", "监测时间", "pH"], kind: .water) == ["section_id"])
    }

    @Test(arguments: ["合计", "小计"])
    func totalRowsAreSkipped(label: String) throws {
        #expect(try Fixture.outcome(.water, Self.header, Self.row([0: "", 1: label, 6: ""])) == .skippedTotal)
    }
}
