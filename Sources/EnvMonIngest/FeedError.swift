/// A whole-upload failure: the upload loads nothing and is stored as failed with this reason.
///
/// Row-level problems are `Rejection`s instead; a `FeedError` means the file as a whole cannot be
/// read (wrong encoding, unterminated quote, no header, a spreadsheet instead of text).
public struct FeedError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Plain words; names the column, line or value when it can.
    public var reason: String
    /// The 1-based line where the problem is, when it applies.
    public var line: Int?

    /// Makes an error with a reason and, optionally, the line it is about.
    public init(_ reason: String, line: Int? = nil) {
        self.reason = reason
        self.line = line
    }

    /// "line 3: reason", or just the reason when no line applies.
    public var description: String {
        if let line { return "line \(line): \(reason)" }
        return reason
    }
}

extension FeedError {
    /// The upload holds no rows at all.
    public static let emptyFile = FeedError("the file is empty")

    /// A legacy `.xls` workbook (an OLE2 compound file), which is not read.
    public static let legacyWorkbook = FeedError(
        "this is a legacy Excel .xls workbook (or a password-protected one), which cannot be read; "
            + "open it in Excel, remove any password, save it as .xlsx (Excel Workbook) and upload again")

    /// No row among the first ones qualifies as the header.
    public static func missingColumns(_ columns: [String], line: Int?) -> FeedError {
        let names = columns.joined(separator: ", ")
        let noun = columns.count == 1 ? "column" : "columns"
        return FeedError("missing required \(noun) \(names)", line: line)
    }

    /// The bytes are not valid in the declared or detected encoding.
    public static func invalidBytes(encoding: String, byteOffset: Int, line: Int) -> FeedError {
        FeedError("not valid \(encoding) at byte \(byteOffset)", line: line)
    }
}
