extension HJ212Packet {
    /// The longest QN accepted (the standard's is 17 digits; 20 is its field width).
    static let maximumQNLength = 20

    /// Parses a data segment (the bytes between the length field and the CRC).
    ///
    /// Accepts HJ 212-2017 packets and 2005-style ones without QN and Flag. ST, CN, MN and CP are
    /// required; header items the standard does not name are kept in `otherHeaderItems`.
    public init(parsing segment: some Collection<UInt8>) throws(HJ212ParseError) {
        let bytes = Array(segment)
        guard !bytes.isEmpty else { throw .emptySegment }
        for (offset, byte) in bytes.enumerated() {
            if byte >= 0x80 { throw .nonASCII(offset: offset, byte: byte) }
            if byte < 0x20 || byte == 0x7F { throw .controlCharacter(offset: offset, byte: byte) }
        }
        let text = String(decoding: bytes, as: UTF8.self)

        var rest = Substring(text)
        var header: [(key: String, value: String)] = []
        var cpText: Substring?
        while !rest.isEmpty {
            if rest.hasPrefix("CP=") {
                cpText = rest.dropFirst(3)
                break
            }
            let token: Substring
            if let semicolon = rest.firstIndex(of: ";") {
                token = rest[..<semicolon]
                rest = rest[rest.index(after: semicolon)...]
            } else {
                token = rest
                rest = rest[rest.endIndex...]
            }
            if token.isEmpty { continue }
            guard let equals = token.firstIndex(of: "="), equals > token.startIndex else {
                throw .malformedHeaderItem(String(token))
            }
            header.append((String(token[..<equals]), String(token[token.index(after: equals)...])))
        }
        guard let cpText else { throw .missingCP }
        guard cpText.count >= 4, cpText.hasPrefix("&&"), cpText.hasSuffix("&&") else {
            throw .malformedCP(String(cpText))
        }

        var known: [String: String] = [:]
        var others: [HJ212Item] = []
        for (key, value) in header {
            if Self.headerKeys.contains(key) {
                guard known[key] == nil else { throw .duplicateField(key) }
                known[key] = value
            } else {
                guard !others.contains(where: { $0.key == key }) else { throw .duplicateField(key) }
                others.append(HJ212Item(key: key, value: value))
            }
        }

        let st = try Self.required("ST", in: known)
        let cn = try Self.required("CN", in: known)
        let mn = try Self.required("MN", in: known)
        guard Self.isDigits(cn) else {
            throw .invalidField(name: "CN", value: cn, reason: "a command code is decimal digits")
        }
        if let qn = known["QN"] {
            guard Self.isDigits(qn), qn.count <= Self.maximumQNLength else {
                throw .invalidField(name: "QN", value: qn, reason: "a request number is 1–20 decimal digits")
            }
        }
        let flag = try Self.integer("Flag", known["Flag"], in: 0...255)
        let pnum = try Self.integer("PNUM", known["PNUM"], in: 1...9999)
        let pno = try Self.integer("PNO", known["PNO"], in: 1...9999)
        switch (pnum, pno) {
        case (nil, nil):
            break
        case (let total?, let number?):
            guard number <= total else {
                throw .invalidField(name: "PNO", value: String(number), reason: "packet number exceeds PNUM=\(total)")
            }
        case (nil, _):
            throw .missingField("PNUM")
        case (_, nil):
            throw .missingField("PNO")
        }

        let inner = cpText.dropFirst(2).dropLast(2)
        self.init(
            qn: known["QN"], st: st, cn: cn, pw: known["PW"], mn: mn, flag: flag, pnum: pnum, pno: pno,
            otherHeaderItems: others, dataGroups: try Self.parseDataArea(inner)
        )
    }

    /// The header fields with a meaning of their own, in the order they are written.
    static let headerKeys: [String] = ["QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO"]

    private static func parseDataArea(_ text: Substring) throws(HJ212ParseError) -> [[HJ212Item]] {
        var groups: [[HJ212Item]] = []
        for groupText in text.split(separator: ";") {
            var group: [HJ212Item] = []
            for itemText in groupText.split(separator: ",") {
                guard let equals = itemText.firstIndex(of: "="), equals > itemText.startIndex else {
                    throw .malformedCPItem(String(itemText))
                }
                let item = HJ212Item(
                    key: String(itemText[..<equals]), value: String(itemText[itemText.index(after: equals)...]))
                if item.key.contains("-") && HJ212Field(item: item) == nil {
                    throw .malformedCPItem(String(itemText))
                }
                group.append(item)
            }
            if !group.isEmpty { groups.append(group) }
        }
        return groups
    }

    private static func required(_ name: String, in fields: [String: String]) throws(HJ212ParseError) -> String {
        guard let value = fields[name] else { throw .missingField(name) }
        guard !value.isEmpty else { throw .invalidField(name: name, value: value, reason: "must not be empty") }
        return value
    }

    private static func integer(
        _ name: String, _ text: String?, in range: ClosedRange<Int>
    ) throws(HJ212ParseError) -> Int? {
        guard let text else { return nil }
        guard isDigits(text), text.count <= 5, let value = Int(text), range.contains(value) else {
            throw .invalidField(
                name: name, value: text,
                reason: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    static func isDigits(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
