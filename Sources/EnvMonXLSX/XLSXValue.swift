/// A civil (time-zone-free) date and time read from a date-formatted cell, as Excel shows it.
public struct XLSXDateTime: Sendable, Hashable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int
    public let hour: Int
    public let minute: Int
    public let second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// `2024-01-05 08:00:00`.
    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
    }
}

/// The typed value of one cell.
public enum XLSXValue: Sendable, Hashable {
    /// A string: shared, inline, or a formula's string result.
    case text(String)
    /// A number; `text` is the digits as stored in the file (`0.1`, `1e-5`), for exact decimals.
    case number(Double, text: String)
    /// A boolean cell.
    case bool(Bool)
    /// A number whose cell style is a date or time format.
    case date(XLSXDateTime)
    /// An error value such as `#N/A` or `#DIV/0!`; consumers treat it as null.
    case error(String)
    /// No value.
    case empty

    /// True for `.empty` and `.error`: the cell holds no usable value.
    public var isNull: Bool {
        switch self {
        case .empty, .error: true
        default: false
        }
    }

    /// The text of a `.text` value, nil otherwise.
    public var text: String? {
        if case .text(let text) = self { return text }
        return nil
    }

    /// The number of a `.number` value, nil otherwise.
    public var number: Double? {
        if case .number(let value, _) = self { return value }
        return nil
    }

    /// The value as a plain string: text as is, numbers as stored, dates as `YYYY-MM-DD HH:MM:SS`,
    /// booleans `TRUE`/`FALSE`; nil for null values.
    public var stringValue: String? {
        switch self {
        case .text(let text): text
        case .number(_, let text): text
        case .bool(let value): value ? "TRUE" : "FALSE"
        case .date(let date): date.description
        case .error, .empty: nil
        }
    }
}

/// One cell with a value.
public struct XLSXCell: Sendable, Hashable {
    /// 0-based column index.
    public let column: Int
    /// 1-based row number.
    public let row: Int
    /// The value.
    public var value: XLSXValue

    public init(column: Int, row: Int, value: XLSXValue) {
        self.column = column
        self.row = row
        self.value = value
    }

    /// A1 reference, e.g. `F123`.
    public var reference: String { XLSXCellReference(column: column, row: row).description }
}

/// One row of a sheet: the cells that hold a value, in column order (blank cells are left out).
public struct XLSXRow: Sendable, Hashable {
    /// 1-based Excel row number.
    public let number: Int
    /// The cells with a value, ascending by column; columns may be skipped.
    public var cells: [XLSXCell]

    public init(number: Int, cells: [XLSXCell]) {
        self.number = number
        self.cells = cells
    }

    /// The value in a 0-based column, `.empty` when the row has none there.
    public subscript(column: Int) -> XLSXValue {
        cells.first { $0.column == column }?.value ?? .empty
    }

    /// The row as a dense array of values from column A to its last cell.
    public var values: [XLSXValue] {
        guard let last = cells.last else { return [] }
        var values = [XLSXValue](repeating: .empty, count: last.column + 1)
        for cell in cells { values[cell.column] = cell.value }
        return values
    }
}
