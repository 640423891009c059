/// A cell address: a 0-based column and a 1-based row, written `F123` in A1 notation.
///
/// ```swift
/// let ref = XLSXCellReference("F123")   // column 5, row 123
/// XLSXCellReference.describe(sheet: "小时数据", column: 5, row: 123)   // "小时数据!F123"
/// ```
public struct XLSXCellReference: Sendable, Hashable, CustomStringConvertible {
    /// Excel's largest column count (A...XFD).
    public static let maxColumns = 16384
    /// Excel's largest row number.
    public static let maxRows = 1_048_576

    /// 0-based column index (A = 0).
    public let column: Int
    /// 1-based row number.
    public let row: Int

    /// A reference from a 0-based column and 1-based row.
    public init(column: Int, row: Int) {
        self.column = column
        self.row = row
    }

    /// Parses A1 notation (`F123`, `$F$123`, `xfd1048576`); nil when malformed or beyond XFD1048576.
    public init?(_ text: some StringProtocol) {
        var column = 0
        var row = 0
        var letters = 0
        var digits = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "$") where digits == 0:
                continue
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"):
                guard digits == 0, letters < 3 else { return nil }
                column = column * 26 + Int((byte & 0xDF) - UInt8(ascii: "A")) + 1
                letters += 1
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard letters > 0, digits < 7 else { return nil }
                row = row * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
            default:
                return nil
            }
        }
        guard letters > 0, digits > 0, column <= Self.maxColumns, row >= 1, row <= Self.maxRows else { return nil }
        self.column = column - 1
        self.row = row
    }

    /// The column letters for a 0-based index: 0 → "A", 25 → "Z", 26 → "AA", 16383 → "XFD".
    public static func columnName(_ column: Int) -> String {
        guard column >= 0 else { return "?" }
        var n = column + 1
        var scalars: [Character] = []
        while n > 0 {
            let rem = (n - 1) % 26
            scalars.append(Character(Unicode.Scalar(UInt8(ascii: "A") + UInt8(rem))))
            n = (n - 1) / 26
        }
        return String(scalars.reversed())
    }

    /// The 0-based index for column letters ("A" → 0, "XFD" → 16383); nil when malformed.
    public static func columnIndex(_ letters: some StringProtocol) -> Int? {
        XLSXCellReference("\(letters)1")?.column
    }

    /// A1 notation, e.g. `F123`.
    public var description: String { "\(Self.columnName(column))\(row)" }

    /// A reference with its sheet, as Excel writes it: `小时数据!F123`, `'Sheet 1'!A2`.
    public static func describe(sheet: String, column: Int, row: Int) -> String {
        "\(quotedSheetName(sheet))!\(XLSXCellReference(column: column, row: row))"
    }

    /// A sheet name quoted the way Excel does in formulas when it holds spaces or punctuation.
    static func quotedSheetName(_ name: String) -> String {
        let plain = !name.isEmpty && name.unicodeScalars.allSatisfy {
            $0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_" || $0 == "."
        }
        if plain { return name }
        return "'" + name.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") + "'"
    }
}

/// A rectangular range of cells, such as a merged range `A1:C2`.
public struct XLSXRange: Sendable, Hashable, CustomStringConvertible {
    /// Top-left cell.
    public let start: XLSXCellReference
    /// Bottom-right cell.
    public let end: XLSXCellReference

    /// A range from two corners, in any order.
    public init(start: XLSXCellReference, end: XLSXCellReference) {
        self.start = XLSXCellReference(column: min(start.column, end.column), row: min(start.row, end.row))
        self.end = XLSXCellReference(column: max(start.column, end.column), row: max(start.row, end.row))
    }

    /// Parses `A1:C2` or a single cell `B4`; nil when malformed.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2,
              let first = XLSXCellReference(parts[0]),
              let last = parts.count == 2 ? XLSXCellReference(parts[1]) : first
        else { return nil }
        self.init(start: first, end: last)
    }

    /// Whether the range covers the cell.
    public func contains(column: Int, row: Int) -> Bool {
        column >= start.column && column <= end.column && row >= start.row && row <= end.row
    }

    public var description: String { start == end ? "\(start)" : "\(start):\(end)" }
}
