/// One JSON object of an upload, flattened to its top-level members.
public struct JSONRecord: Sendable, Equatable {
    /// 1-based record index (the position in the array, or the NDJSON line number).
    public var index: Int
    /// The member names, in the order written.
    public var keys: [String]
    /// Strings as they are, numbers as their literal text, `true`/`false`, nil for null, and
    /// nested objects and arrays as their JSON text.
    public var values: [String?]

    /// Makes a record.
    public init(index: Int, keys: [String], values: [String?]) {
        self.index = index
        self.keys = keys
        self.values = values
    }
}

/// Why a piece of JSON could not be read, and where.
struct JSONSyntaxError: Error {
    var message: String
    /// Offset within the parsed bytes.
    var offset: Int
}

/// Parses one complete JSON object held in memory (a record is small; the file is not, so the
/// streaming reader cuts the file into records and hands each one here).
///
/// Nested values are skipped with a bracket stack, not recursion, so deep nesting cannot
/// overflow the stack.
struct JSONObjectParser {
    private let bytes: [UInt8]
    private var position = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Reads `bytes` as exactly one object, with only whitespace around it.
    static func parseObject(_ bytes: [UInt8]) throws(JSONSyntaxError) -> (keys: [String], values: [String?]) {
        var parser = JSONObjectParser(bytes)
        return try parser.object()
    }

    /// Reads `bytes` as exactly one JSON string, quotes included.
    static func parseString(_ bytes: [UInt8]) throws(JSONSyntaxError) -> String {
        var parser = JSONObjectParser(bytes)
        guard parser.current == UInt8(ascii: "\"") else { throw parser.error("expected a string") }
        let text = try parser.string()
        guard parser.position == bytes.count else { throw parser.error("unexpected text after the string") }
        return text
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(message: message, offset: position)
    }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
            position += 1
        }
    }

    private mutating func expect(_ char: Unicode.Scalar, _ what: String) throws(JSONSyntaxError) {
        guard current == UInt8(ascii: char) else { throw error(what) }
        position += 1
    }

    private mutating func object() throws(JSONSyntaxError) -> (keys: [String], values: [String?]) {
        skipWhitespace()
        try expect("{", "expected an object starting with '{'")
        var keys: [String] = []
        var values: [String?] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw error("expected a member name in double quotes") }
                keys.append(try string())
                skipWhitespace()
                try expect(":", "expected ':' after the member name")
                skipWhitespace()
                values.append(try value())
                skipWhitespace()
                if current == UInt8(ascii: ",") { position += 1; continue }
                try expect("}", "expected ',' or '}' after a value")
                break
            }
        }
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected text after the object") }
        return (keys, values)
    }

    private mutating func value() throws(JSONSyntaxError) -> String? {
        guard let byte = current else { throw error("the object ends before its last value") }
        switch byte {
        case UInt8(ascii: "\""): return try string()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let start = position
            try skipNested()
            return String(decoding: bytes[start..<position], as: UTF8.self)
        case UInt8(ascii: "t"): try literal("true"); return "true"
        case UInt8(ascii: "f"): try literal("false"); return "false"
        case UInt8(ascii: "n"): try literal("null"); return nil
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character '\(Unicode.Scalar(byte))' where a value should be")
        }
    }

    private mutating func literal(_ word: String) throws(JSONSyntaxError) {
        for expected in word.utf8 {
            guard current == expected else { throw error("expected \(word)") }
            position += 1
        }
    }

    /// Number grammar of RFC 8259: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; the text is
    /// kept as written so the normalizer sees exactly what was sent (no binary rounding).
    private mutating func number() throws(JSONSyntaxError) -> String {
        let start = position
        func digits(_ parser: inout JSONObjectParser) -> Int {
            var count = 0
            while let byte = parser.current, byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                parser.position += 1
                count += 1
            }
            return count
        }
        if current == UInt8(ascii: "-") { position += 1 }
        if current == UInt8(ascii: "0") {
            position += 1
        } else if digits(&self) == 0 {
            throw error("not a valid number")
        }
        if current == UInt8(ascii: ".") {
            position += 1
            guard digits(&self) > 0 else { throw error("not a valid number") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard digits(&self) > 0 else { throw error("not a valid number") }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// Reads a string starting at its opening quote, resolving escapes.
    private mutating func string() throws(JSONSyntaxError) -> String {
        position += 1
        var runStart = position
        var text = ""
        func flush(_ parser: JSONObjectParser, upTo end: Int) {
            text += String(decoding: parser.bytes[runStart..<end], as: UTF8.self)
        }
        while true {
            guard let byte = current else { throw error("a string is never closed") }
            if byte == UInt8(ascii: "\"") {
                flush(self, upTo: position)
                position += 1
                return text
            }
            guard byte == UInt8(ascii: "\\") else { position += 1; continue }
            flush(self, upTo: position)
            position += 1
            guard let escaped = current else { throw error("a string is never closed") }
            position += 1
            switch escaped {
            case UInt8(ascii: "\""): text += "\""
            case UInt8(ascii: "\\"): text += "\\"
            case UInt8(ascii: "/"): text += "/"
            case UInt8(ascii: "b"): text += "\u{8}"
            case UInt8(ascii: "f"): text += "\u{C}"
            case UInt8(ascii: "n"): text += "\n"
            case UInt8(ascii: "r"): text += "\r"
            case UInt8(ascii: "t"): text += "\t"
            case UInt8(ascii: "u"):
                text.unicodeScalars.append(try unicodeEscape())
            default: throw error("unknown escape '\\\(Unicode.Scalar(escaped))' in a string")
            }
            runStart = position
        }
    }

    /// Reads the hex digits after `\u`, joining a surrogate pair; a lone surrogate becomes U+FFFD.
    private mutating func unicodeEscape() throws(JSONSyntaxError) -> Unicode.Scalar {
        let first = try hex4()
        if (0xD800...0xDBFF).contains(first),
           position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") {
            let save = position
            position += 2
            let second = try hex4()
            if (0xDC00...0xDFFF).contains(second) {
                let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                return Unicode.Scalar(combined) ?? "\u{FFFD}"
            }
            position = save
        }
        return Unicode.Scalar(first) ?? "\u{FFFD}"
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current, let digit = Self.hexValue(byte) else {
                throw error("\\u must be followed by four hex digits")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// Skips a nested object or array, checking that brackets match and strings close.
    private mutating func skipNested() throws(JSONSyntaxError) {
        var open: [UInt8] = []
        while let byte = current {
            position += 1
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                open.append(byte)
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                let expected = byte == UInt8(ascii: "}") ? UInt8(ascii: "{") : UInt8(ascii: "[")
                guard open.popLast() == expected else {
                    position -= 1
                    throw error("mismatched '\(Unicode.Scalar(byte))' in a nested value")
                }
                if open.isEmpty { return }
            case UInt8(ascii: "\""):
                position -= 1
                _ = try string()
            default:
                break
            }
        }
        throw error("a nested value is never closed")
    }
}
