import EnvMonDomain
import EnvMonTestSupport
@testable import EnvMonIngest
import Foundation
import Testing

/// `.xlsx` uploads read by the same header search and normalizer as CSV, on a workbook the test
/// writes part by part (`BureauWorkbooks.emissions`).
@Suite("Excel workbooks as feeds")
struct WorkbookFeedTests {
    static func workbook() throws -> [UInt8] {
        Array(try BureauWorkbooks.emissions())
    }

    static func read(_ bytes: [UInt8], sheet: String? = nil, format: FeedFormat = .auto, chunk: Int = 4096)
        throws(FeedError) -> (IngestOutput, IngestCounts) {
        var options = IngestOptions(kind: .emissions, now: Date(timeIntervalSince1970: 1_900_000_000))
        options.sheet = sheet
        let read = try ReadFixtures.ingest(bytes, chunkSize: chunk, encoding: .auto, format: format, options: options)
        return (read.output, read.counts)
    }

    @Test("the data sheet is found past an instructions sheet; title, blank and total rows as for CSV", arguments: [1, 7, 4096])
    func readsTheDataSheet(chunk: Int) throws {
        let (output, counts) = try Self.read(try Self.workbook(), chunk: chunk)
        #expect(counts == IngestCounts(rowsTotal: 26, rowsRejected: 1, rowsSkipped: 1))
        #expect(output.records.count == 24)
        // The rejected value is named by its sheet and cell, and its row is the Excel row.
        let rejection = try #require(output.rejections.first)
        #expect(rejection.line == 28)
        #expect(rejection.column == "监测值")
        #expect(rejection.value == "仪器故障")
        #expect(rejection.reason.hasSuffix("(小时数据!F28)"), "\(rejection.reason)")
    }

    @Test("date-time cells, numbers and a number stored as text read as a CSV export of them would")
    func cellValues() throws {
        let (output, _) = try Self.read(try Self.workbook())
        func column(_ name: String) throws -> [String?] {
            let index = try #require(FeedKind.emissions.position(of: name))
            return output.records.map { $0.fields[index] }
        }
        #expect(output.records.count == 24)
        #expect(Set(try column("enterprise_id")) == ["E9001"])
        #expect(Set(try column("pollutant")) == ["SO2"])
        let hours = try column("measured_at")
        #expect(Set(hours).count == 24)
        #expect(hours.first == "2026-03-01T00:00:00+08:00", "\(hours)")
        // 05:00 holds "22.5" stored as text; the others are numbers.
        #expect(try column("value")[5] == "22.5")
        #expect(try column("value")[6] == "23.0")  // the digits the cell stores
    }

    @Test("a sheet named or numbered by the uploader is read; an unknown one is an error that lists the sheets")
    func namedSheet() throws {
        let bytes = try Self.workbook()
        #expect(try Self.read(bytes, sheet: "小时数据").1.rowsTotal == 26)
        #expect(try Self.read(bytes, sheet: "2").1.rowsTotal == 26)
        let wrong = #expect(throws: FeedError.self) { try Self.read(bytes, sheet: "日数据") }
        #expect(wrong?.reason == "the workbook has no sheet '日数据'; its sheets are 填报说明, 小时数据")
        // The instructions sheet has no header of the kind: the error names the sheet.
        let notes = #expect(throws: FeedError.self) { try Self.read(bytes, sheet: "填报说明") }
        #expect(notes?.reason.hasSuffix("in sheet 填报说明") == true, "\(String(describing: notes))")
    }

    @Test("a workbook declared as CSV is still read as a workbook; text declared as xlsx is not a workbook")
    func declaredFormats() throws {
        #expect(try Self.read(try Self.workbook(), format: .csv).1.rowsTotal == 26)
        let text = Array("enterprise_id,outlet_id,pollutant,measured_at,value\n".utf8)
        let error = #expect(throws: FeedError.self) { try Self.read(text, format: .xlsx) }
        #expect(error?.reason.contains(".xlsx") == true, "\(String(describing: error))")
    }
}

/// Date and time in separate columns, hour ranges, and Excel dates in a period column.
@Suite("Dates and times as exports split them")
struct SplitDateTimeTests {
    static func records(_ kind: FeedKind, _ bytes: [UInt8]) throws -> [[String: String?]] {
        let options = IngestOptions(kind: kind, now: Date(timeIntervalSince1970: 1_900_000_000))
        let (output, _) = try ingestAll(bytes: bytes, options: options, encoding: .auto, format: .auto)
        #expect(output.rejections.isEmpty, "\(output.rejections)")
        return output.records.map { record in
            Dictionary(uniqueKeysWithValues: zip(kind.stagingColumns, record.fields))
        }
    }

    @Test("监测日期 + 监测时间, an hour range in either form: the hour that starts at the first time")
    func csvColumns() throws {
        let csv = """
            企业编码,排放口编码,污染物,监测日期,监测时间,监测值,排放限值
            E1,DA001,SO2,2026-03-01,13:00-14:00,20,35
            E1,DA001,SO2,2026/3/1,14:00,21,35
            E1,DA001,SO2,2026-03-01,15:00~16:00,22,35

            """
        let rows = try Self.records(.emissions, Array(csv.utf8))
        #expect(rows.map { $0["measured_at"] ?? nil } == [
            "2026-03-01T13:00:00+08:00", "2026-03-01T14:00:00+08:00", "2026-03-01T15:00:00+08:00",
        ])
        let oneCell = "企业编码,排放口编码,污染物,监测时间,监测值,排放限值\nE1,DA001,SO2,2026-03-01 13:00-14:00,20,35\n"
        #expect(try Self.records(.emissions, Array(oneCell.utf8)).first?["measured_at"] == "2026-03-01T13:00:00+08:00")
    }

    @Test("only a one-hour range on the hour is a range; a time with a UTC offset is not", arguments: [
        ("2026-03-01 13:00-14:00", "2026-03-01 13:00"), ("13:00~14:00", "13:00"), ("23:00-00:00", "23:00"),
        ("13:00:00 至 14:00:00", "13:00"), ("2026-03-01 13-14时", "2026-03-01 13:00"), ("13-15时", "13-15时"), ("2026-01-04 19:00:00-05:00", "2026-01-04 19:00:00-05:00"),
        ("2026-01-04T13:00-14:00", "2026-01-04T13:00-14:00"), ("13:00-15:00", "13:00-15:00"), ("13:30-14:30", "13:30-14:30"),
    ])
    func hourRanges(text: String, start: String) {
        #expect(RowCells.hourStart(text) == start)
    }

    @Test("a date cell and a time-of-day cell in a workbook")
    func workbookColumns() throws {
        var builder = WorkbookBuilder()
        builder.sharedStrings = ["企业编码", "排放口编码", "污染物", "监测日期", "监测时间", "监测值", "E1", "DA001", "SO2", "排放限值"]
        builder.cellFormats = [0, 14, 20]  // 14: m/d/yyyy, 20: h:mm
        func s(_ ref: String, _ index: Int) -> String { #"<c r="\#(ref)" t="s"><v>\#(index)</v></c>"# }
        let day = BureauWorkbooks.excelSerial(year: 2026, month: 3, day: 1)
        builder.addSheet("Sheet1", rows: #"<row r="1">\#(s("A1", 0))\#(s("B1", 1))\#(s("C1", 2))\#(s("D1", 3))\#(s("E1", 4))\#(s("F1", 5))\#(s("G1", 9))</row>"#
            + #"<row r="2">\#(s("A2", 6))\#(s("B2", 7))\#(s("C2", 8))<c r="D2" s="1"><v>\#(day)</v></c><c r="E2" s="2"><v>0.5416666666666666</v></c><c r="F2"><v>20</v></c><c r="G2"><v>35</v></c></row>"#)
        let rows = try Self.records(.emissions, Array(try builder.build()))
        #expect(rows.first?["measured_at"] == "2026-03-01T13:00:00+08:00")
    }

    @Test("a date cell in a workbook's period column is the month that contains it")
    func periodDate() throws {
        var builder = WorkbookBuilder()
        builder.sharedStrings = ["污水处理厂编码", "统计期", "污水排放量", "污水处理量", "WWTP01"]
        builder.cellFormats = [0, 14]
        func s(_ ref: String, _ index: Int) -> String { #"<c r="\#(ref)" t="s"><v>\#(index)</v></c>"# }
        let day = BureauWorkbooks.excelSerial(year: 2026, month: 3, day: 1)
        builder.addSheet("月报", rows: #"<row r="1">\#(s("A1", 0))\#(s("B1", 1))\#(s("C1", 2))\#(s("D1", 3))</row>"#
            + #"<row r="2">\#(s("A2", 4))<c r="B2" s="1"><v>\#(day)</v></c><c r="C2"><v>1000</v></c><c r="D2"><v>990</v></c></row>"#)
        let rows = try Self.records(.sewage, Array(try builder.build()))
        #expect(rows.first?["period_start"] == "2026-03-01")
        #expect(rows.first?["period_end"] == "2026-03-31")
        #expect(rows.first?["period_label"] == "2026-03")
    }
}
