import EnvMonTestSupport
import Foundation
@testable import EnvMonXLSX

func readAll(_ data: Data, sheet: Int = 0, fillMergedHeaders: Bool = false) throws -> [XLSXRow] {
    let workbook = try XLSXWorkbook(data: data)
    var reader = try workbook.rows(sheet: workbook.sheets[sheet], fillMergedHeaders: fillMergedHeaders)
    var rows: [XLSXRow] = []
    while let row = try reader.next() { rows.append(row) }
    return rows
}

/// One sheet with the given `<row>` XML and optional shared strings and styles.
func workbook(
    rows: String, strings: [String]? = nil, formats: [Int] = [0], custom: [Int: String] = [:], date1904: Bool = false
) throws -> Data {
    var builder = WorkbookBuilder()
    builder.sharedStrings = strings
    builder.cellFormats = formats
    builder.customFormats = custom
    builder.date1904 = date1904
    builder.addSheet("Sheet1", rows: rows)
    return try builder.build()
}

/// The value of a single numeric cell with style index 1 whose format is `format`.
func dateCell(_ serial: String, format: Int, custom: [Int: String] = [:], date1904: Bool = false) throws -> XLSXValue {
    let data = try workbook(
        rows: "<row r=\"1\"><c r=\"A1\" s=\"1\"><v>\(serial)</v></c></row>", formats: [0, format], custom: custom,
        date1904: date1904)
    return try readAll(data).first?[0] ?? .empty
}
