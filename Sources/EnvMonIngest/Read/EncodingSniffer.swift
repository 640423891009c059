public import EnvMonDomain

/// Detects an upload's text encoding in one pass over its bytes (FEEDS.md "Encodings").
///
/// A BOM decides; otherwise the whole stream (not a prefix) being valid UTF-8 means UTF-8, and
/// anything else is taken as GB18030, which is what Excel on a Chinese Windows writes. It also
/// recognises Excel workbooks, which must be saved as CSV first. Memory is bounded: only the
/// first few bytes and the validator's state are kept.
///
/// ```swift
/// var sniffer = EncodingSniffer()
/// for chunk in chunks { chunk.withUnsafeBytes { sniffer.consume($0) } }
/// if sniffer.isSpreadsheet { /* read it as a workbook */ }
/// let encoding = sniffer.finish()
/// ```
public struct EncodingSniffer: Sendable {
    /// The first bytes of the stream, for the BOM and the workbook signatures.
    private var head: [UInt8] = []
    private var validator = UTF8Validator()

    /// Makes a sniffer that has seen nothing.
    public init() {}

    /// Feeds the next chunk of the upload, in order.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        if head.count < 8 {
            head.append(contentsOf: bytes.prefix(8 - head.count))
        }
        validator.consume(bytes)
    }

    /// Feeds the next chunk of the upload, in order.
    public mutating func consume(_ bytes: some Collection<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { consume(UnsafeRawBufferPointer($0)) }
        if done == nil {
            Array(bytes).withUnsafeBytes { consume($0) }
        }
    }

    /// Whether the bytes are an `.xlsx` (zip) or `.xls` (OLE compound file) workbook.
    public var isSpreadsheet: Bool { spreadsheetKind != nil }

    /// "xlsx" or "xls" when the bytes are an Excel workbook; nil for text.
    public var spreadsheetKind: String? {
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "xlsx" }
        if head.starts(with: [0xD0, 0xCF, 0x11, 0xE0]) { return "xls" }
        return nil
    }

    /// The encoding of everything consumed: the BOM's, else UTF-8 when all of it is valid UTF-8,
    /// else GB18030.
    public func finish() -> FeedEncoding {
        if let bom = TextDecoder.bomEncoding(of: head) { return bom }
        return validator.isCompleteAndValid ? .utf8 : .gb18030
    }
}
