/// The shared-string table, stored compactly: all strings in one UTF-8 buffer plus end offsets.
struct SharedStrings: Sendable {
    private var bytes: [UInt8] = []
    private var ends: [UInt32] = []

    var count: Int { ends.count }

    subscript(index: Int) -> String? {
        guard index >= 0, index < ends.count else { return nil }
        let start = index == 0 ? 0 : Int(ends[index - 1])
        return String(decoding: bytes[start..<Int(ends[index])], as: UTF8.self)
    }

    static func read(_ parser: inout XMLPullParser, limits: XLSXLimits) throws(XLSXError) -> SharedStrings {
        var table = SharedStrings()
        let maxBytes = min(limits.maxSharedStringBytes, Int(UInt32.max))
        var inItem = false
        var phoneticDepth = 0
        var inText = false
        var current = ""
        while let token = try parser.next() {
            switch token {
            case .start(let name, _, let selfClosing):
                switch name {
                case "si":
                    if selfClosing {
                        try table.append("", maxBytes: maxBytes, limits: limits, part: parser.part)
                    } else {
                        inItem = true
                        current = ""
                    }
                case "rPh" where !selfClosing: phoneticDepth += 1
                case "t" where !selfClosing: inText = inItem && phoneticDepth == 0
                default: break
                }
            case .end(let name):
                switch name {
                case "si":
                    try table.append(unescapeOOXML(current), maxBytes: maxBytes, limits: limits, part: parser.part)
                    inItem = false
                case "rPh": phoneticDepth = max(0, phoneticDepth - 1)
                case "t": inText = false
                default: break
                }
            case .text(let text):
                if inText {
                    current += text
                    if current.utf16.count > limits.maxCellTextLength {
                        throw XLSXError.limit(
                            .cellTextLength, "shared string \(table.count) is over \(limits.maxCellTextLength) characters",
                            part: parser.part)
                    }
                }
            }
        }
        return table
    }

    private mutating func append(_ string: String, maxBytes: Int, limits: XLSXLimits, part: String) throws(XLSXError) {
        guard ends.count < limits.maxSharedStrings else {
            throw XLSXError.limit(.sharedStringCount, "more than \(limits.maxSharedStrings) shared strings", part: part)
        }
        guard bytes.count + string.utf8.count <= maxBytes else {
            throw XLSXError.limit(.sharedStringBytes, "shared strings over \(maxBytes) bytes", part: part)
        }
        bytes.append(contentsOf: string.utf8)
        ends.append(UInt32(bytes.count))
    }
}

/// Decodes OOXML's `_xHHHH_` escapes (Excel writes a carriage return as `_x000D_`).
func unescapeOOXML(_ text: String) -> String {
    guard text.contains("_x") else { return text }
    var scalars = Array(text.unicodeScalars)
    var out = String.UnicodeScalarView()
    var index = 0
    func hex(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar {
        case "0"..."9": scalar.value - 48
        case "a"..."f": scalar.value - 87
        case "A"..."F": scalar.value - 55
        default: nil
        }
    }
    while index < scalars.count {
        if scalars[index] == "_", index + 6 < scalars.count, scalars[index + 1] == "x", scalars[index + 6] == "_" {
            var value: UInt32 = 0
            var valid = true
            for offset in 2...5 {
                guard let digit = hex(scalars[index + offset]) else {
                    valid = false
                    break
                }
                value = value * 16 + digit
            }
            if valid, let scalar = Unicode.Scalar(value) {
                out.append(scalar)
                index += 7
                continue
            }
        }
        out.append(scalars[index])
        index += 1
    }
    scalars.removeAll()
    return String(out)
}

/// Which cell styles (`s` index into cellXfs) show numbers as dates or times.
struct DateStyles: Sendable {
    private var isDate: [Bool] = []

    func isDateStyle(_ index: Int) -> Bool {
        index >= 0 && index < isDate.count && isDate[index]
    }

    static func read(_ parser: inout XMLPullParser) throws(XLSXError) -> DateStyles {
        var customFormats: [Int: String] = [:]
        var formatIds: [Int] = []
        var inCellXfs = false
        while let token = try parser.next() {
            switch token {
            case .start(let name, let attributes, let selfClosing):
                switch name {
                case "numFmt":
                    if let id = attributes.value("numFmtId").flatMap({ Int($0) }),
                       let code = attributes.value("formatCode") {
                        customFormats[id] = code
                    }
                case "cellXfs" where !selfClosing:
                    inCellXfs = true
                case "xf" where inCellXfs:
                    formatIds.append(attributes.value("numFmtId").flatMap { Int($0) } ?? 0)
                default: break
                }
            case .end(let name):
                if name == "cellXfs" { inCellXfs = false }
            case .text:
                break
            }
        }
        var styles = DateStyles()
        styles.isDate = formatIds.map { id in
            if let code = customFormats[id] { return ExcelDates.isDateFormatCode(code) }
            return ExcelDates.isBuiltInDateFormat(id)
        }
        return styles
    }
}

/// One relationship from a `.rels` part, with its target resolved to a part name.
struct Relationship {
    let id: String
    let type: String
    let target: String

    static func read(_ parser: inout XMLPullParser, base: String) throws(XLSXError) -> [Relationship] {
        var relationships: [Relationship] = []
        while let token = try parser.next() {
            guard case .start("Relationship", let attributes, _) = token,
                  attributes.value("TargetMode")?.lowercased() != "external",
                  let id = attributes.value("Id"), let target = attributes.value("Target")
            else { continue }
            relationships.append(
                Relationship(id: id, type: attributes.value("Type") ?? "", target: resolve(target, base: base)))
        }
        return relationships
    }

    /// A target relative to the folder `base` (or absolute when it starts with `/`) as a part name.
    static func resolve(_ target: String, base: String) -> String {
        let path = target.removingPercentEncodingIfPossible
        var segments: [Substring] = path.hasPrefix("/") ? [] : base.split(separator: "/")
        for segment in path.split(separator: "/") {
            switch segment {
            case ".": continue
            case "..": if !segments.isEmpty { segments.removeLast() }
            default: segments.append(segment)
            }
        }
        return segments.joined(separator: "/")
    }
}

extension String {
    fileprivate var removingPercentEncodingIfPossible: String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var utf8 = Array(self.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
               let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
