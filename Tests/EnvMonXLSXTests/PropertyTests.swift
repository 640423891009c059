import EnvMonTestSupport
import Foundation
@testable import EnvMonXLSX
import PropertyBased
import Testing
import ZIPFoundation

/// The reader's properties over generated workbooks — what `scripts/fuzz.sh xlsx` explores
/// for hours, checked on every run.
@Suite("XLSX: properties over generated workbooks")
struct XLSXPropertyTests {
    /// A cell: a shared string (index into `texts`), a number, or nothing.
    static let cell = Gen.int(in: -1...1_000_000)

    @Test("a grid of shared strings and numbers reads back cell for cell")
    func roundTrip() async throws {
        let texts = ["监测时间", "二氧化硫", "A & B <1>", " lead", "trail ", "", "😀", "x\"y"]
        await propertyCheck(count: 60, input: Self.cell.array(of: 1...6).array(of: 1...8)) { grid in
            var rows = ""
            for (r, cells) in grid.enumerated() {
                rows += "<row r=\"\(r + 1)\">"
                for (c, value) in cells.enumerated() {
                    let reference = XLSXCellReference(column: c, row: r + 1).description
                    if value < 0 { continue }
                    if value % 2 == 0 {
                        rows += "<c r=\"\(reference)\" t=\"s\"><v>\(value / 2 % texts.count)</v></c>"
                    } else {
                        rows += "<c r=\"\(reference)\"><v>\(value)</v></c>"
                    }
                }
                rows += "</row>"
            }
            let read = try readAll(try workbook(rows: rows, strings: texts))
            for (r, cells) in grid.enumerated() {
                for (c, value) in cells.enumerated() {
                    let found = read.first { $0.number == r + 1 }?[c] ?? .empty
                    let expected: XLSXValue = value < 0 ? .empty
                        : value % 2 == 0 ? .text(texts[value / 2 % texts.count]) : .number(Double(value), text: "\(value)")
                    #expect(found == expected, "row \(r + 1) column \(c)")
                }
            }
        }
    }

    @Test("a damaged workbook is refused with an XLSXError or read; never a crash")
    func damagedBytes() async throws {
        var builder = WorkbookBuilder()
        builder.sharedStrings = ["监测时间", "二氧化硫"]
        builder.compression = .none
        builder.addSheet("小时数据", rows: """
            <row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>\
            <row r="2"><c r="A2" s="0"><v>46054.5</v></c><c r="B2"><v>12.5</v></c></row>
            """, after: "<mergeCells count=\"1\"><mergeCell ref=\"A1:B1\"/></mergeCells>")
        let original = try builder.build()
        let size = original.count
        await propertyCheck(count: 300, input: Gen.int(in: 0...(size - 1)).array(of: 1...8), Gen.uint8().array(of: 8)) {
            (offsets: [Int], values: [UInt8]) in
            var damaged = original
            for (index, offset) in offsets.enumerated() {
                damaged[damaged.startIndex + offset] = values[index % values.count]
            }
            #expect(Self.readsOrRefuses(damaged))
        }
    }

    /// Reads every row of every sheet; true when that worked or ended in an XLSXError.
    static func readsOrRefuses(_ data: Data) -> Bool {
        do throws(XLSXError) {
            let workbook = try XLSXWorkbook(data: data)
            for sheet in workbook.sheets {
                var reader = try workbook.rows(sheet: sheet, fillMergedHeaders: true)
                while try reader.next() != nil {}
            }
            return true
        } catch {
            return !"\(error)".isEmpty
        }
    }
}
