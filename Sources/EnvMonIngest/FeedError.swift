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

    /// The upload is an Excel workbook, which is not read natively (FEEDS.md "Excel realities").
    public static func spreadsheet(_ what: String) -> FeedError {
        FeedError("this is an Excel workbook (\(what)), not text; open it in Excel and save it as CSV (UTF-8), then upload the CSV")
    }

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
