import EnvMonDomain
@testable import EnvMonIngest
import Foundation
import Testing

/// `.xlsx` uploads read by the same header search and normalizer as CSV. The fixture is written
/// by openpyxl (Tests/EnvMonTestSupport/Fixtures/make_workbooks.py), not by our own code.
@Suite("Excel workbooks as feeds")
struct WorkbookFeedTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../EnvMonTestSupport/Fixtures").standardized

    static func workbook(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fixtures.appendingPathComponent(name)))
    }

    static func read(_ bytes: [UInt8], sheet: String? = nil, format: FeedFormat = .auto, chunk: Int = 4096)
        throws(FeedError) -> (IngestOutput, IngestCounts) {
        var options = IngestOptions(kind: .emissions, now: Date(timeIntervalSince1970: 1_900_000_000))
        options.sheet = sheet
        var ingestor = FeedIngestor(options: options, encoding: .auto, format: format)
        var output = IngestOutput()
        var offset = 0
        while offset < bytes.count {
            let piece = Array(bytes[offset..<min(bytes.count, offset + chunk)])
            let part = try piece.withUnsafeBytes { buffer in
                Result { () throws(FeedError) in try ingestor.consume(buffer) }
            }.get()
            output.records += part.records
            output.rejections += part.rejections
            offset += chunk
        }
        let rest = try ingestor.finish()
        output.records += rest.records
        output.rejections += rest.rejections
        return (output, ingestor.counts)
    }

    @Test("the data sheet is found past an instructions sheet; title, blank and total rows as for CSV", arguments: [1, 7, 4096])
    func readsTheDataSheet(chunk: Int) throws {
        let (output, counts) = try Self.read(try Self.workbook("emissions_workbook.xlsx"), chunk: chunk)
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
        let (output, _) = try Self.read(try Self.workbook("emissions_workbook.xlsx"))
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
        #expect(try column("value")[6] == "23")
    }

    @Test("a sheet named or numbered by the uploader is read; an unknown one is an error that lists the sheets")
    func namedSheet() throws {
        let bytes = try Self.workbook("emissions_workbook.xlsx")
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
        #expect(try Self.read(try Self.workbook("emissions_workbook.xlsx"), format: .csv).1.rowsTotal == 26)
        let text = Array("enterprise_id,outlet_id,pollutant,measured_at,value\n".utf8)
        let error = #expect(throws: FeedError.self) { try Self.read(text, format: .xlsx) }
        #expect(error?.reason.contains(".xlsx") == true, "\(String(describing: error))")
    }
}
