import EnvMonDomain

/// Decides an upload's format from its first decoded bytes (FEEDS.md: "`--format auto` decides
/// by content, not by file name alone").
///
/// A first non-whitespace `[` is JSON. A `{` is NDJSON when the first line is a whole object and
/// another object starts on a later line (or when that lone object has no `records` array);
/// otherwise JSON. Anything else is CSV.
enum FormatDetector {
    /// How much text may be held before deciding anyway.
    static let window = 1 << 20

    /// The format, or nil while more text is needed to tell.
    static func detect(_ text: [UInt8], final: Bool) -> FeedFormat? {
        guard let start = text.firstIndex(where: { !isWhitespace($0) }) else {
            return final ? .csv : nil
        }
        switch text[start] {
        case UInt8(ascii: "["): return .json
        case UInt8(ascii: "{"): break
        default: return .csv
        }
        let undecided: FeedFormat? = final || text.count >= window ? .json : nil
        let lineEnd = text[start...].firstIndex { $0 == 0x0A || $0 == 0x0D }
        guard lineEnd != nil || final else { return undecided }
        let firstLine = Array(text[start..<(lineEnd ?? text.endIndex)])
        guard let object = try? JSONObjectParser.parseObject(firstLine) else { return .json }
        let rest = text[(lineEnd ?? text.endIndex)...]
        guard let next = rest.firstIndex(where: { !isWhitespace($0) }) else {
            guard final else { return undecided }
            let records = object.keys.firstIndex(of: "records").flatMap { object.values[$0] }
            return records?.hasPrefix("[") == true ? .json : .ndjson
        }
        return text[next] == UInt8(ascii: "{") ? .ndjson : .json
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
