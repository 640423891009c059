import EnvMonDomain
import EnvMonXLSX
import Foundation

/// The sheet of an `.xlsx` upload that holds the feed, read as rows of cell texts for the same
/// header search and normalizer as a CSV: title rows, blank rows and total rows alike.
///
/// The sheet is the one the uploader named (`IngestOptions.sheet`: a name, or a 1-based
/// number), else the first visible sheet whose header fits the kind's contract, else the first
/// visible sheet (whose missing columns are then the error). Merged cells give their value to
/// every cell they cover, so a title merged over a group names each column under it.
struct WorkbookSheet {
    /// The sheet's name, for messages (`小时数据!F123`).
    let name: String
    private var rows: XLSXRowReader
    /// Column index of each header text, once the header is known.
    private var headerColumns: [String: Int] = [:]
    /// The period column, once the header is known: a date cell there means its month.
    private var periodColumn: Int?

    /// Opens the workbook in `bytes` and picks its sheet.
    static func open(_ bytes: [UInt8], options: IngestOptions) throws(FeedError) -> WorkbookSheet {
        let book: XLSXWorkbook
        do throws(XLSXError) {
            book = try XLSXWorkbook(data: Data(bytes))
        } catch {
            throw FeedError(error.description)
        }
        let sheet = try choose(in: book, options: options)
        do throws(XLSXError) {
            return WorkbookSheet(name: sheet.name, rows: try book.rows(sheet: sheet, fillMergedHeaders: true))
        } catch {
            throw FeedError(error.description)
        }
    }

    private init(name: String, rows: XLSXRowReader) {
        self.name = name
        self.rows = rows
    }

    private static func choose(in book: XLSXWorkbook, options: IngestOptions) throws(FeedError) -> XLSXSheetInfo {
        let names = book.sheets.map(\.name).joined(separator: ", ")
        if let wanted = options.sheet {
            if let sheet = book.sheet(named: wanted) { return sheet }
            if let number = Int(wanted), book.sheets.indices.contains(number - 1) { return book.sheets[number - 1] }
            throw FeedError("the workbook has no sheet '\(wanted)'; its sheets are \(names)")
        }
        let visible = book.sheets.filter { !$0.isHidden }
        for sheet in visible {
            do throws(XLSXError) {
                if try fits(sheet, in: book, options: options) { return sheet }
            } catch {
                throw FeedError(error.description)
            }
        }
        guard let first = visible.first ?? book.sheets.first else { throw FeedError("the workbook has no sheets") }
        return first
    }

    /// Whether one of the sheet's first non-blank rows is a header of the kind.
    private static func fits(_ sheet: XLSXSheetInfo, in book: XLSXWorkbook, options: IngestOptions) throws(XLSXError) -> Bool {
        var rows = try book.rows(sheet: sheet, fillMergedHeaders: true)
        var seen = 0
        while seen < FeedIngestor.headerSearchRows, let row = try rows.next() {
            let cells = row.values.map(Self.text)
            guard !cells.allSatisfy({ $0.allSatisfy(\.isWhitespace) }) else { continue }
            seen += 1
            if (try? RowNormalizer.resolve(header: cells, options: options)) != nil { return true }
        }
        return false
    }

    /// The next row, its line the Excel row number.
    mutating func next() throws(FeedError) -> CSVRow? {
        do throws(XLSXError) {
            guard let row = try rows.next() else { return nil }
            var cells = row.values.map(Self.text)
            if let periodColumn, periodColumn < cells.count, case .date(let date) = row.values[periodColumn] {
                cells[periodColumn] = String(date.description.prefix(7))  // 2026-03-01 → the month 2026-03
            }
            return CSVRow(line: row.number, cells: cells)
        } catch {
            throw FeedError(error.description)
        }
    }

    /// Remembers the columns of the header row, to name the cell of a rejected value, and which
    /// is the period column.
    mutating func header(_ cells: [String], periodColumn: Int?) {
        self.periodColumn = periodColumn
        for (index, cell) in cells.enumerated() {
            let name = cell.trimmingCharacters(in: .whitespacesAndNewlines)
            if headerColumns[name] == nil { headerColumns[name] = index }
        }
    }

    /// Names the sheet and cell (`小时数据!F123`), or the sheet and row, in a rejection's reason.
    func locate(_ rejection: inout Rejection) {
        let place: String
        if let column = rejection.column.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }),
           let index = headerColumns[column] {
            place = "\(name)!\(XLSXCellReference(column: index, row: rejection.line))"
        } else {
            place = "sheet \(name), row \(rejection.line)"
        }
        rejection.reason += " (\(place))"
    }

    /// A cell as the text a CSV export of it would hold: numbers with the digits stored in the
    /// file, dates as `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`, booleans as TRUE/FALSE, errors
    /// (`#N/A`) and empty cells empty.
    static func text(_ value: XLSXValue) -> String {
        switch value {
        case .text(let text): text
        case .number(_, let digits): digits
        case .bool(let flag): flag ? "TRUE" : "FALSE"
        case .date(let date):
            // A time of day alone (a serial below 1) falls on Excel's day zero, 1899-12-30.
            if date.year == 1899 { String(date.description.suffix(8)) }
            else if date.hour == 0 && date.minute == 0 && date.second == 0 { String(date.description.prefix(10)) }
            else { date.description }
        case .error, .empty: ""
        }
    }
}
