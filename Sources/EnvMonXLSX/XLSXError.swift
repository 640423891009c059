public import Foundation

/// What went wrong while reading a workbook, with a message fit to show the person who uploaded it.
///
/// The kind is a `Code`; more codes can be added without breaking callers that switch over the
/// ones they know (compare with `==`).
///
/// ```swift
/// do { _ = try XLSXWorkbook(data: upload) }
/// catch { if error.code == .legacyWorkbook { /* tell them to save as .xlsx */ } }
/// ```
public struct XLSXError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unreadableFile, notXLSX, legacyWorkbook, encrypted, corruptArchive, unsupportedCompression, missingPart,
                 malformedXML, badSharedStringIndex, limitExceeded
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        public var description: String { base.rawValue }

        /// The file could not be read from disk.
        public static let unreadableFile = Code(.unreadableFile)
        /// Not a zip archive at all (a CSV, a PDF, random bytes).
        public static let notXLSX = Code(.notXLSX)
        /// An OLE2 compound file: a legacy `.xls` workbook or a password-protected workbook.
        public static let legacyWorkbook = Code(.legacyWorkbook)
        /// A zip entry is encrypted (zip-level password).
        public static let encrypted = Code(.encrypted)
        /// A zip archive whose structure or compressed data is damaged or truncated.
        public static let corruptArchive = Code(.corruptArchive)
        /// A zip entry uses a compression method other than stored or deflate.
        public static let unsupportedCompression = Code(.unsupportedCompression)
        /// A part the workbook needs (workbook.xml, a sheet) is not in the archive.
        public static let missingPart = Code(.missingPart)
        /// A part's XML is not well formed, or holds a value that cannot be read.
        public static let malformedXML = Code(.malformedXML)
        /// A cell points at a shared string that does not exist.
        public static let badSharedStringIndex = Code(.badSharedStringIndex)
        /// One of `XLSXLimits` was exceeded; `XLSXError.limit` says which.
        public static let limitExceeded = Code(.limitExceeded)
    }

    /// The kind of failure.
    public let code: Code
    /// A human-readable explanation, naming the sheet, cell or part where known.
    public let message: String
    /// The sheet being read, if any.
    public let sheet: String?
    /// The cell reference (`F123`) where known.
    public let cell: String?
    /// The 1-based row where known.
    public let row: Int?
    /// The zip part involved (`xl/worksheets/sheet1.xml`) where known.
    public let part: String?
    /// Which limit was exceeded, for `.limitExceeded`.
    public let limit: XLSXLimits.Limit?

    public var description: String { message }

    init(
        _ code: Code, _ message: String, sheet: String? = nil, cell: String? = nil, row: Int? = nil,
        part: String? = nil, limit: XLSXLimits.Limit? = nil
    ) {
        self.code = code
        self.message = message
        self.sheet = sheet
        self.cell = cell
        self.row = row
        self.part = part
        self.limit = limit
    }

    static let saveAsAdvice = "save it as .xlsx (Excel Workbook) and upload again"

    static func notXLSX(_ detail: String) -> XLSXError {
        XLSXError(.notXLSX, "This file is not an Excel .xlsx workbook (\(detail)); \(saveAsAdvice).")
    }

    static var legacy: XLSXError {
        XLSXError(
            .legacyWorkbook,
            "This file is a legacy .xls workbook or a password-protected workbook, which cannot be read; "
                + "open it in Excel, remove any password, \(saveAsAdvice)."
        )
    }

    static func corrupt(_ detail: String, part: String? = nil) -> XLSXError {
        let where_ = part.map { " in \($0)" } ?? ""
        return XLSXError(
            .corruptArchive, "The workbook file is damaged or incomplete (\(detail)\(where_)); \(saveAsAdvice).",
            part: part)
    }

    static func limit(_ limit: XLSXLimits.Limit, _ detail: String, part: String? = nil, sheet: String? = nil,
                      cell: String? = nil, row: Int? = nil) -> XLSXError {
        XLSXError(.limitExceeded, "The workbook exceeds the \(limit.rawValue) limit: \(detail).",
                  sheet: sheet, cell: cell, row: row, part: part, limit: limit)
    }

    /// The same error with sheet and row context added, if it had none.
    func located(sheet: String, row: Int?) -> XLSXError {
        guard self.sheet == nil else { return self }
        var message = self.message
        if code == .malformedXML || code == .corruptArchive {
            let place = row.map { "sheet \(sheet) row \($0)" } ?? "sheet \(sheet)"
            message = "\(message) (at \(place))"
        }
        return XLSXError(code, message, sheet: sheet, cell: cell, row: self.row ?? row, part: part, limit: limit)
    }
}

/// What a file looks like from its first bytes.
public enum XLSXFileKind: Sendable, Hashable {
    /// A zip archive: possibly an .xlsx workbook.
    case xlsx
    /// An OLE2 compound file: a legacy .xls workbook, or an encrypted (password-protected) .xlsx.
    case legacyXLS
    /// Anything else.
    case other
}

extension XLSXError {
    private static let ole2Signature: [UInt8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]

    /// Decides from the first bytes of a file whether it is a zip (xlsx), an OLE2 file (.xls or
    /// encrypted workbook), or something else. Eight bytes are enough.
    public static func sniff(_ firstBytes: Data) -> XLSXFileKind {
        let bytes = [UInt8](firstBytes.prefix(8))
        if bytes.count >= 8 && bytes == ole2Signature { return .legacyXLS }
        if bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B
            && ((bytes[2] == 3 && bytes[3] == 4) || (bytes[2] == 5 && bytes[3] == 6)) {
            return .xlsx
        }
        return .other
    }
}
