/// A streaming reader for a JSON upload: a top-level array of objects, or an object whose
/// `"records"` member is that array (FEEDS.md "Formats").
///
/// The file is never held whole: a small state machine walks the outer structure and buffers
/// one record at a time, which `JSONObjectParser` then reads. Members of the outer object other
/// than `records` are skipped without being kept.
public struct JSONRecordReader: Sendable {
    /// The largest single record accepted.
    public static let maxRecordBytes = 16 << 20

    private enum State: Sendable {
        case start
        case outerExpectKey(first: Bool)
        case outerKey
        case outerExpectColon
        case outerExpectValue
        case outerSkipValue
        case outerAfterValue
        case arrayExpectElement(first: Bool)
        case element
        case arrayAfterElement
        case done
    }

    private var state = State.start
    private var insideOuterObject = false
    private var foundRecords = false
    private var framer = ValueFramer()
    private var buffer: [UInt8] = []
    private var recordIndex = 0
    private var recordLine = 1
    private var line = 1

    /// Makes a reader at the start of the file.
    public init() {}

    /// Reads the next chunk of UTF-8 and returns the records it completed.
    public mutating func consume(_ bytes: some Collection<UInt8>) throws(FeedError) -> [JSONRecord] {
        var records: [JSONRecord] = []
        for byte in bytes {
            try step(byte, into: &records)
            if byte == 0x0A { line += 1 }
        }
        return records
    }

    /// Ends the input; fails when the array or the outer object is not closed.
    public mutating func finish() throws(FeedError) -> [JSONRecord] {
        switch state {
        case .done:
            return []
        case .start:
            throw FeedError.emptyFile
        case .element:
            throw FeedError("record \(recordIndex) is not valid JSON: the file ends inside it", line: recordLine)
        default:
            throw FeedError("the JSON ends before the records array is closed (after record \(recordIndex))",
                            line: line)
        }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private func unexpected(_ byte: UInt8, _ expected: String) -> FeedError {
        FeedError("unexpected '\(Unicode.Scalar(byte))' after record \(recordIndex); expected \(expected)",
                  line: line)
    }

    private mutating func step(_ byte: UInt8, into records: inout [JSONRecord]) throws(FeedError) {
        if Self.isWhitespace(byte) {
            switch state {
            case .outerKey, .element, .outerSkipValue: break
            default: return
            }
        }
        switch state {
        case .start:
            if byte == UInt8(ascii: "[") {
                state = .arrayExpectElement(first: true)
            } else if byte == UInt8(ascii: "{") {
                insideOuterObject = true
                state = .outerExpectKey(first: true)
            } else {
                throw FeedError("not JSON: expected an array of records or an object with a \"records\" array",
                                line: line)
            }
        case .outerExpectKey(let first):
            if byte == UInt8(ascii: "}") && first {
                try closeOuterObject()
            } else if byte == UInt8(ascii: "\"") {
                buffer = [byte]
                framer = ValueFramer()
                _ = framer.feed(byte)
                state = .outerKey
            } else {
                throw unexpected(byte, "a member name in double quotes")
            }
        case .outerKey:
            try appendToBuffer(byte)
            if framer.feed(byte) == .completeIncluding { state = .outerExpectColon }
        case .outerExpectColon:
            guard byte == UInt8(ascii: ":") else { throw unexpected(byte, "':'") }
            state = .outerExpectValue
        case .outerExpectValue:
            let key: String
            do {
                key = try JSONObjectParser.parseString(buffer)
            } catch {
                throw FeedError("a member name of the outer object is not valid JSON: \(error.message)", line: line)
            }
            buffer = []
            if key == "records" {
                guard byte == UInt8(ascii: "[") else {
                    throw FeedError("\"records\" must be an array of objects", line: line)
                }
                foundRecords = true
                state = .arrayExpectElement(first: true)
            } else {
                framer = ValueFramer()
                state = .outerSkipValue
                try step(byte, into: &records)
            }
        case .outerSkipValue:
            switch framer.feed(byte) {
            case .more: break
            case .completeIncluding: state = .outerAfterValue
            case .completeBefore:
                state = .outerAfterValue
                try step(byte, into: &records)
            }
        case .outerAfterValue:
            if byte == UInt8(ascii: ",") {
                state = .outerExpectKey(first: false)
            } else if byte == UInt8(ascii: "}") {
                try closeOuterObject()
            } else {
                throw unexpected(byte, "',' or '}'")
            }
        case .arrayExpectElement(let first):
            if byte == UInt8(ascii: "]") && first {
                closeArray()
            } else if byte == UInt8(ascii: "{") {
                recordIndex += 1
                recordLine = line
                framer = ValueFramer()
                _ = framer.feed(byte)
                buffer = [byte]
                state = .element
            } else {
                recordIndex += 1
                throw FeedError("record \(recordIndex) is not an object", line: line)
            }
        case .element:
            try appendToBuffer(byte)
            if framer.feed(byte) == .completeIncluding {
                records.append(try parseBufferedRecord())
                state = .arrayAfterElement
            }
        case .arrayAfterElement:
            if byte == UInt8(ascii: ",") {
                state = .arrayExpectElement(first: false)
            } else if byte == UInt8(ascii: "]") {
                closeArray()
            } else {
                throw unexpected(byte, "',' or ']'")
            }
        case .done:
            throw FeedError("unexpected text after the end of the JSON", line: line)
        }
    }

    private mutating func closeArray() {
        state = insideOuterObject ? .outerAfterValue : .done
    }

    private mutating func closeOuterObject() throws(FeedError) {
        guard foundRecords else {
            throw FeedError("the JSON object has no \"records\" array")
        }
        state = .done
    }

    private mutating func appendToBuffer(_ byte: UInt8) throws(FeedError) {
        guard buffer.count < Self.maxRecordBytes else {
            throw FeedError("record \(recordIndex) is longer than \(Self.maxRecordBytes >> 20) MiB",
                            line: recordLine)
        }
        buffer.append(byte)
    }

    private mutating func parseBufferedRecord() throws(FeedError) -> JSONRecord {
        defer { buffer = [] }
        do {
            let (keys, values) = try JSONObjectParser.parseObject(buffer)
            return JSONRecord(index: recordIndex, keys: keys, values: values)
        } catch {
            let errorLine = recordLine + buffer[..<min(error.offset, buffer.count)].count { $0 == 0x0A }
            throw FeedError("record \(recordIndex) is not valid JSON: \(error.message)", line: errorLine)
        }
    }
}

/// Finds where one JSON value ends, byte by byte, without parsing it: tracks strings, escapes
/// and bracket depth. A scalar (number, literal) ends at the byte after it.
struct ValueFramer: Sendable {
    enum Result: Equatable { case more, completeIncluding, completeBefore }

    private var started = false
    private var scalar = false
    private var inString = false
    private var escaped = false
    private var depth = 0

    mutating func feed(_ byte: UInt8) -> Result {
        if !started {
            started = true
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth = 1
            case UInt8(ascii: "\""): inString = true
            default: scalar = true
            }
            return .more
        }
        if scalar {
            switch byte {
            case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D:
                return .completeBefore
            default:
                return .more
            }
        }
        if inString {
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
                if depth == 0 { return .completeIncluding }
            }
            return .more
        }
        switch byte {
        case UInt8(ascii: "\""): inString = true
        case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            depth -= 1
            if depth == 0 { return .completeIncluding }
        default: break
        }
        return .more
    }
}
