/// Pulls the rows of one sheet from its XML, one `next()` at a time. Memory is bounded by one
/// chunk of the part, the current row and the active merged ranges, whatever the sheet's size.
///
/// ```swift
/// var reader = try workbook.rows(sheet: sheet)
/// while let row = try reader.next() { ... }
/// ```
public struct XLSXRowReader {
    private var parser: XMLPullParser
    private let sheet: String
    private let sharedStrings: SharedStrings
    private let dateStyles: DateStyles
    private let date1904: Bool
    private let limits: XLSXLimits

    /// Merged ranges sorted by first row; `nextMerge` is the first not yet active.
    private let merges: [XLSXRange]
    private var nextMerge = 0
    private var activeMerges: [(range: XLSXRange, value: XLSXValue)] = []

    private var inSheetData = false
    private var finished = false
    private var lastRowNumber = 0

    // The row and cell being parsed.
    private var rowNumber = 0
    private var cells: [XLSXCell] = []
    private var nextColumn = 0
    private var cellColumn = 0
    private var cellType = "n"
    private var cellStyle = 0
    private var cellOpen = false
    private var valueText: String?
    private var inlineText: String?
    private var capturing = false
    private var inInline = false
    private var phoneticDepth = 0

    init(
        parser: XMLPullParser, sheet: String, sharedStrings: SharedStrings, dateStyles: DateStyles, date1904: Bool,
        limits: XLSXLimits, merges: [XLSXRange]
    ) {
        self.parser = parser
        self.sheet = sheet
        self.sharedStrings = sharedStrings
        self.dateStyles = dateStyles
        self.date1904 = date1904
        self.limits = limits
        self.merges = merges.sorted { $0.start.row < $1.start.row }
    }

    /// The next row, or nil after the last one.
    public mutating func next() throws(XLSXError) -> XLSXRow? {
        guard !finished else { return nil }
        do {
            guard var row = try parseNextRow() else {
                finished = true
                return nil
            }
            if !merges.isEmpty { fillMerges(&row) }
            return row
        } catch {
            finished = true
            throw error.located(sheet: sheet, row: rowNumber > 0 ? rowNumber : nil)
        }
    }

    /// Uncompressed bytes of the sheet part read so far (shows that reading is incremental).
    var bytesRead: Int { parser.bytesRead }

    /// Calls `body` for each remaining row.
    public mutating func forEach(_ body: (XLSXRow) throws -> Void) throws {
        while let row = try next() { try body(row) }
    }

    private func malformed(_ why: String) -> XLSXError {
        XLSXError(.malformedXML, "The sheet's XML is malformed: \(why)", part: parser.part)
    }

    private mutating func parseNextRow() throws(XLSXError) -> XLSXRow? {
        while let token = try parser.next() {
            switch token {
            case .start(let name, let attributes, let selfClosing):
                switch name {
                case "sheetData":
                    if selfClosing { return nil }
                    inSheetData = true
                case "row" where inSheetData:
                    if let text = attributes.value("r") {
                        guard let number = Int(text), number >= 1, number <= XLSXCellReference.maxRows else {
                            throw malformed("row number \"\(text)\" is not valid")
                        }
                        rowNumber = number
                    } else {
                        rowNumber = lastRowNumber + 1
                    }
                    lastRowNumber = rowNumber
                    cells = []
                    nextColumn = 0
                    if selfClosing { return XLSXRow(number: rowNumber, cells: []) }
                case "c" where inSheetData:
                    try startCell(attributes)
                    if selfClosing { cellOpen = false }
                case "v" where cellOpen && !selfClosing:
                    capturing = true
                    valueText = ""
                case "is" where cellOpen && !selfClosing:
                    inInline = true
                    inlineText = inlineText ?? ""
                case "rPh" where inInline && !selfClosing:
                    phoneticDepth += 1
                case "t" where inInline && phoneticDepth == 0 && !selfClosing:
                    capturing = true
                default:
                    break
                }
            case .end(let name):
                switch name {
                case "sheetData":
                    return nil
                case "row" where inSheetData:
                    var row = XLSXRow(number: rowNumber, cells: cells)
                    if !zip(cells, cells.dropFirst()).allSatisfy({ $0.column < $1.column }) {
                        row.cells.sort { $0.column < $1.column }
                    }
                    cells = []
                    return row
                case "c" where cellOpen:
                    try finishCell()
                case "v", "t":
                    capturing = false
                case "rPh":
                    phoneticDepth = max(0, phoneticDepth - 1)
                case "is":
                    inInline = false
                default:
                    break
                }
            case .text(let text):
                guard capturing else { continue }
                if inInline {
                    inlineText = (inlineText ?? "") + text
                } else {
                    valueText = (valueText ?? "") + text
                }
                // UTF-8 takes at most 4 bytes per UTF-16 unit: stop runaway text before it is complete.
                let byteBound = limits.maxCellTextLength.multipliedReportingOverflow(by: 4)
                let maxBytes = byteBound.overflow ? Int.max : byteBound.partialValue
                if (inlineText?.utf8.count ?? 0) > maxBytes || (valueText?.utf8.count ?? 0) > maxBytes {
                    throw textTooLong()
                }
            }
        }
        if inSheetData { throw malformed("the sheet ends before </sheetData>; the file may be truncated") }
        return nil
    }

    private var cellReference: String { XLSXCellReference(column: cellColumn, row: rowNumber).description }

    private func textTooLong() -> XLSXError {
        XLSXError.limit(
            .cellTextLength,
            "cell \(XLSXCellReference.describe(sheet: sheet, column: cellColumn, row: rowNumber)) holds over "
                + "\(limits.maxCellTextLength) characters", sheet: sheet, cell: cellReference, row: rowNumber)
    }

    private mutating func startCell(_ attributes: [(name: String, value: String)]) throws(XLSXError) {
        if let ref = attributes.value("r") {
            guard let reference = XLSXCellReference(ref) else { throw malformed("cell reference \"\(ref)\" is not valid") }
            cellColumn = reference.column
        } else {
            cellColumn = nextColumn
        }
        guard cellColumn < XLSXCellReference.maxColumns, cells.count < limits.maxCellsPerRow else {
            throw XLSXError.limit(
                .cellsPerRow, "row \(rowNumber) of sheet \(sheet) has more than \(limits.maxCellsPerRow) cells",
                sheet: sheet, row: rowNumber)
        }
        nextColumn = cellColumn + 1
        cellType = attributes.value("t") ?? "n"
        cellStyle = attributes.value("s").flatMap { Int($0) } ?? 0
        cellOpen = true
        valueText = nil
        inlineText = nil
        capturing = false
        inInline = false
        phoneticDepth = 0
    }

    private mutating func finishCell() throws(XLSXError) {
        cellOpen = false
        capturing = false
        let value = try cellValue()
        if case .text(let text) = value, text.utf16.count > limits.maxCellTextLength { throw textTooLong() }
        if value != .empty { cells.append(XLSXCell(column: cellColumn, row: rowNumber, value: value)) }
    }

    private func cellValue() throws(XLSXError) -> XLSXValue {
        if let inlineText, cellType == "inlineStr" || valueText == nil {
            return .text(unescapeOOXML(inlineText))
        }
        guard let raw = valueText else { return .empty }
        switch cellType {
        case "s":
            guard let index = Int(raw.trimmingASCIISpaces), let text = sharedStrings[index] else {
                let place = XLSXCellReference.describe(sheet: sheet, column: cellColumn, row: rowNumber)
                throw XLSXError(
                    .badSharedStringIndex,
                    "Cell \(place) refers to shared string \"\(raw)\", but the workbook has \(sharedStrings.count).",
                    sheet: sheet, cell: cellReference, row: rowNumber)
            }
            return .text(text)
        case "str", "inlineStr":
            return .text(unescapeOOXML(raw))
        case "b":
            let trimmed = raw.trimmingASCIISpaces
            return .bool(trimmed == "1" || trimmed.lowercased() == "true")
        case "e":
            return .error(raw.trimmingASCIISpaces)
        case "d":
            return ExcelDates.parseISO(raw.trimmingASCIISpaces).map { .date($0) } ?? .text(raw)
        default:
            let text = raw.trimmingASCIISpaces
            if text.isEmpty { return .empty }
            guard let number = Double(text), number.isFinite else { return .text(raw) }
            if dateStyles.isDateStyle(cellStyle), let date = ExcelDates.dateTime(serial: number, date1904: date1904) {
                return .date(date)
            }
            return .number(number, text: text)
        }
    }

    private mutating func fillMerges(_ row: inout XLSXRow) {
        activeMerges.removeAll { $0.range.end.row < row.number }
        while nextMerge < merges.count && merges[nextMerge].start.row <= row.number {
            let range = merges[nextMerge]
            nextMerge += 1
            guard range.end.row >= row.number else { continue }
            // A range whose top row was never seen has nothing to copy.
            let value = range.start.row == row.number ? row[range.start.column] : .empty
            activeMerges.append((range, value))
        }
        for merge in activeMerges where merge.value != .empty {
            for column in merge.range.start.column...merge.range.end.column {
                if column == merge.range.start.column && row.number == merge.range.start.row { continue }
                let cell = XLSXCell(column: column, row: row.number, value: merge.value)
                if let index = row.cells.firstIndex(where: { $0.column >= column }) {
                    if row.cells[index].column == column {
                        row.cells[index] = cell
                    } else {
                        row.cells.insert(cell, at: index)
                    }
                } else {
                    row.cells.append(cell)
                }
            }
        }
    }
}

extension String {
    fileprivate var trimmingASCIISpaces: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\n" || first == "\t" || first == "\r" {
            slice.removeFirst()
        }
        while let last = slice.last, last == " " || last == "\n" || last == "\t" || last == "\r" { slice.removeLast() }
        return String(slice)
    }
}
