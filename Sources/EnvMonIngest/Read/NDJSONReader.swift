/// A streaming reader for NDJSON: one JSON object per line, blank lines skipped
/// (FEEDS.md "Formats"). A record's index is its 1-based line number, so rejections point at the
/// line an editor shows.
public struct NDJSONReader: Sendable {
    /// The longest line accepted.
    public static let maxLineBytes = 16 << 20

    private var lineBytes: [UInt8] = []
    private var line = 1
    private var lastWasCR = false

    /// Makes a reader at the start of the file.
    public init() {}

    /// Reads the next chunk of UTF-8 and returns the records of the lines it completed.
    public mutating func consume(_ bytes: some Collection<UInt8>) throws(FeedError) -> [JSONRecord] {
        var records: [JSONRecord] = []
        for byte in bytes {
            let afterCR = lastWasCR
            lastWasCR = byte == 0x0D
            if byte == 0x0A && afterCR { continue }
            if byte == 0x0A || byte == 0x0D {
                try endLine(into: &records)
            } else {
                guard lineBytes.count < Self.maxLineBytes else {
                    throw FeedError("a line is longer than \(Self.maxLineBytes >> 20) MiB", line: line)
                }
                lineBytes.append(byte)
            }
        }
        return records
    }

    /// Ends the input and returns the record of a last line without a line break.
    public mutating func finish() throws(FeedError) -> [JSONRecord] {
        var records: [JSONRecord] = []
        try endLine(into: &records)
        return records
    }

    private mutating func endLine(into records: inout [JSONRecord]) throws(FeedError) {
        defer {
            lineBytes.removeAll(keepingCapacity: lineBytes.count <= 4096)
            line += 1
        }
        guard lineBytes.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return }
        do {
            let (keys, values) = try JSONObjectParser.parseObject(lineBytes)
            records.append(JSONRecord(index: line, keys: keys, values: values))
        } catch {
            throw FeedError("record \(line) is not a JSON object: \(error.message)", line: line)
        }
    }
}
