import Foundation

/// A small streaming XML tokenizer for the parts of a workbook. It reads bytes from a
/// `PartReader` in chunks and hands out one token at a time, keeping only the current token in
/// memory. Namespace prefixes are dropped from names (`x:row` is `row`); the five predefined
/// entities and character references are decoded; DTDs with internal subsets are refused, so no
/// entity expansion can happen.
struct XMLPullParser {
    enum Token {
        case start(name: String, attributes: [(name: String, value: String)], selfClosing: Bool)
        case end(name: String)
        case text(String)
    }

    private var source: PartReader
    private var buffer: [UInt8] = []
    private var position = 0
    private var finished = false
    private let maxTokenBytes: Int

    init(source: PartReader, maxTokenBytes: Int = 4 << 20) {
        self.source = source
        self.maxTokenBytes = maxTokenBytes
    }

    var part: String { source.part }
    /// Uncompressed bytes of the part read so far.
    var bytesRead: Int { source.produced }

    private func malformed(_ why: String) -> XLSXError {
        XLSXError(.malformedXML, "The workbook part \(source.part) is not valid XML: \(why)", part: source.part)
    }

    /// Makes `buffer[position + ahead]` available if the input has it; false at the end.
    private mutating func available(_ ahead: Int) throws(XLSXError) -> Bool {
        while position + ahead >= buffer.count {
            if finished { return false }
            if position > 0 {
                buffer.removeSubrange(0..<position)
                position = 0
            }
            if buffer.count > maxTokenBytes { throw malformed("a single token is over \(maxTokenBytes) bytes") }
            if try !source.read(into: &buffer) { finished = true }
        }
        return true
    }

    /// Offset (from `position`) of the first `byte` at or after `position + from`, reading more
    /// input as needed; nil at the end of input.
    private mutating func scan(for byte: UInt8, from: Int) throws(XLSXError) -> Int? {
        var offset = from
        while try available(offset) {
            let start = position + offset
            let found = buffer.withUnsafeBufferPointer { pointer -> Int? in
                guard let base = pointer.baseAddress,
                      let hit = memchr(base + start, Int32(byte), pointer.count - start) else { return nil }
                return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            }
            if let found { return found - position }
            offset = buffer.count - position
        }
        return nil
    }

    /// Index of the first occurrence of `pattern` at or after `position + from`, relative to position.
    private mutating func find(_ pattern: [UInt8], from: Int) throws(XLSXError) -> Int? {
        var offset = from
        while try available(offset + pattern.count - 1) {
            if buffer[position + offset] == pattern[0] {
                var match = true
                for index in 1..<pattern.count where buffer[position + offset + index] != pattern[index] {
                    match = false
                    break
                }
                if match { return offset }
            }
            offset += 1
        }
        return nil
    }

    mutating func next() throws(XLSXError) -> Token? {
        while true {
            guard try available(0) else { return nil }
            if buffer[position] != UInt8(ascii: "<") {
                let length = try scan(for: UInt8(ascii: "<"), from: 1) ?? (buffer.count - position)
                let text = try decodeText(buffer[position..<position + length])
                position += length
                return .text(text)
            }
            guard try available(1) else { throw malformed("the document ends inside a tag") }
            switch buffer[position + 1] {
            case UInt8(ascii: "?"):
                guard let end = try find(Array("?>".utf8), from: 2) else { throw malformed("unterminated <?") }
                position += end + 2
            case UInt8(ascii: "!"):
                if try available(8), buffer[position + 2] == UInt8(ascii: "["),
                   Array(buffer[position..<position + 9]) == Array("<![CDATA[".utf8) {
                    guard let end = try find(Array("]]>".utf8), from: 9) else { throw malformed("unterminated CDATA") }
                    let text = String(decoding: buffer[position + 9..<position + end], as: UTF8.self)
                    position += end + 3
                    return .text(text)
                }
                if try available(3), buffer[position + 2] == UInt8(ascii: "-"), buffer[position + 3] == UInt8(ascii: "-") {
                    guard let end = try find(Array("-->".utf8), from: 4) else { throw malformed("unterminated comment") }
                    position += end + 3
                } else {
                    guard let end = try find([UInt8(ascii: ">")], from: 2) else { throw malformed("unterminated <!") }
                    if buffer[position..<position + end].contains(UInt8(ascii: "[")) {
                        throw malformed("document type definitions are not allowed")
                    }
                    position += end + 1
                }
            case UInt8(ascii: "/"):
                guard let end = try find([UInt8(ascii: ">")], from: 2) else { throw malformed("unterminated end tag") }
                let name = localName(buffer[position + 2..<position + end])
                position += end + 1
                return .end(name: name)
            default:
                return try startTag()
            }
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private func localName(_ bytes: ArraySlice<UInt8>) -> String {
        var slice = bytes
        while let last = slice.last, Self.isSpace(last) { slice.removeLast() }
        if let colon = slice.lastIndex(of: UInt8(ascii: ":")) { slice = slice[(colon + 1)...] }
        return String(decoding: slice, as: UTF8.self)
    }

    private mutating func startTag() throws(XLSXError) -> Token {
        // Find the closing '>' outside attribute quotes.
        // Find '>' fast, then make sure it is not inside a quoted attribute value.
        var searchFrom = 1
        var offset = 0
        while true {
            guard let candidate = try scan(for: UInt8(ascii: ">"), from: searchFrom) else {
                throw malformed("the document ends inside a tag")
            }
            let start = position
            let balanced = buffer.withUnsafeBufferPointer { pointer -> Bool in
                var quote: UInt8 = 0
                for index in start + 1..<start + candidate {
                    let byte = pointer[index]
                    if quote != 0 {
                        if byte == quote { quote = 0 }
                    } else if byte == 0x22 || byte == 0x27 {
                        quote = byte
                    }
                }
                return quote == 0
            }
            if balanced {
                offset = candidate
                break
            }
            searchFrom = candidate + 1
        }
        let end = position + offset
        var selfClosing = false
        var contentEnd = end
        if buffer[end - 1] == UInt8(ascii: "/") {
            selfClosing = true
            contentEnd -= 1
        }
        var index = position + 1
        while index < contentEnd && !Self.isSpace(buffer[index]) { index += 1 }
        let name = localName(buffer[position + 1..<index])
        guard !name.isEmpty else { throw malformed("a tag without a name") }
        var attributes: [(name: String, value: String)] = []
        while index < contentEnd {
            while index < contentEnd && Self.isSpace(buffer[index]) { index += 1 }
            guard index < contentEnd else { break }
            let nameStart = index
            while index < contentEnd && buffer[index] != UInt8(ascii: "=") && !Self.isSpace(buffer[index]) { index += 1 }
            let nameEnd = index
            while index < contentEnd && Self.isSpace(buffer[index]) { index += 1 }
            guard index < contentEnd, buffer[index] == UInt8(ascii: "=") else { throw malformed("attribute without a value in <\(name)>") }
            index += 1
            while index < contentEnd && Self.isSpace(buffer[index]) { index += 1 }
            guard index < contentEnd, buffer[index] == UInt8(ascii: "\"") || buffer[index] == UInt8(ascii: "'") else {
                throw malformed("unquoted attribute in <\(name)>")
            }
            let quoteByte = buffer[index]
            index += 1
            let valueStart = index
            while index < contentEnd && buffer[index] != quoteByte { index += 1 }
            guard index < contentEnd else { throw malformed("unterminated attribute in <\(name)>") }
            // Keep the prefix of attribute names: r:id and id differ.
            let attributeName = String(decoding: buffer[nameStart..<nameEnd], as: UTF8.self)
            attributes.append((attributeName, try decodeText(buffer[valueStart..<index])))
            index += 1
        }
        position = end + 1
        return .start(name: name, attributes: attributes, selfClosing: selfClosing)
    }

    /// Text with entity and character references decoded.
    private func decodeText(_ bytes: ArraySlice<UInt8>) throws(XLSXError) -> String {
        guard bytes.contains(UInt8(ascii: "&")) else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "&") else {
                out.append(byte)
                index += 1
                continue
            }
            guard let semicolon = bytes[index...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else {
                throw malformed("an '&' that starts no entity")
            }
            let entity = String(decoding: bytes[(index + 1)..<semicolon], as: UTF8.self)
            switch entity {
            case "amp": out.append(UInt8(ascii: "&"))
            case "lt": out.append(UInt8(ascii: "<"))
            case "gt": out.append(UInt8(ascii: ">"))
            case "quot": out.append(UInt8(ascii: "\""))
            case "apos": out.append(UInt8(ascii: "'"))
            default:
                var scalarValue: UInt32?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    scalarValue = UInt32(entity.dropFirst(2), radix: 16)
                } else if entity.hasPrefix("#") {
                    scalarValue = UInt32(entity.dropFirst(), radix: 10)
                }
                guard let value = scalarValue, let scalar = Unicode.Scalar(value) else {
                    throw malformed("unknown entity &\(entity);")
                }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            }
            index = semicolon + 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension [(name: String, value: String)] {
    /// The value of an attribute by name; `prefixed: true` matches any `prefix:name`.
    func value(_ name: String, prefixed: Bool = false) -> String? {
        for attribute in self {
            if attribute.name == name { return attribute.value }
            if prefixed, attribute.name.hasSuffix(":" + name) { return attribute.value }
        }
        return nil
    }
}
