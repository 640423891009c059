public import Foundation

/// Builds HJ 212 packets and frames: data responses (CN 9014) and data uploads (for tests and the
/// simulator).
///
/// ```swift
/// let reply = try HJ212Encoder.dataResponse(to: packet, now: .now)
/// // ##0076QN=…;ST=91;CN=9014;PW=…;MN=…;Flag=4;CP=&&&&XXXX\r\n
/// ```
public enum HJ212Encoder {
    /// China Standard Time (UTC+8), the zone HJ 212 devices report in.
    public static let chinaStandardTime = TimeZone(secondsFromGMT: 8 * 3600) ?? .gmt
    /// The longest data segment the 4-digit length can declare.
    public static let maximumSegmentLength = 9999

    /// The CN 9014 data response to `packet`: `QN=<its QN>;ST=91;CN=9014;PW=<pw>;MN=<mn>;Flag=4;CP=&&&&`.
    /// A packet without QN (2005 style) is answered with a QN made from `now` in `timeZone`.
    public static func dataResponsePacket(
        to packet: HJ212Packet, now: Date, timeZone: TimeZone = chinaStandardTime
    ) -> HJ212Packet {
        HJ212Packet(
            qn: packet.qn ?? HJ212Time.format(now, in: timeZone, milliseconds: true),
            st: "91", cn: "9014", pw: packet.pw ?? "", mn: packet.mn, flag: 4)
    }

    /// The framed CN 9014 data response to `packet`, CRC and CRLF included.
    public static func dataResponse(
        to packet: HJ212Packet, now: Date, timeZone: TimeZone = chinaStandardTime
    ) throws(HJ212EncodeError) -> [UInt8] {
        try encode(dataResponsePacket(to: packet, now: now, timeZone: timeZone))
    }

    /// A data upload packet (CN 2011/2051/2061/2031) with one CP group per value.
    ///
    /// QN is `now` and DataTime `dataTime`, both local time in `timeZone`; Flag is 4 (version 1),
    /// 5 when `needsReply`.
    public static func dataUpload(
        _ command: HJ212UploadCommand, st: String, pw: String, mn: String, dataTime: Date, now: Date,
        timeZone: TimeZone = chinaStandardTime, needsReply: Bool = true, values: [HJ212UploadValue]
    ) throws(HJ212EncodeError) -> HJ212Packet {
        var groups: [[HJ212Item]] = [[HJ212Item(key: "DataTime", value: HJ212Time.format(dataTime, in: timeZone))]]
        for value in values {
            var group: [HJ212Item] = []
            let numbers: [(String, Double?)] = [
                ("Rtd", value.rtd), ("ZsRtd", value.zsRtd), ("Cou", value.cou), ("Min", value.min),
                ("Avg", value.avg), ("Max", value.max), ("ZsAvg", value.zsAvg),
            ]
            for case let (suffix, number?) in numbers {
                guard number.isFinite else { throw .nonFiniteValue(field: value.code + "-" + suffix) }
                group.append(HJ212Item(key: value.code + "-" + suffix, value: HJ212Number.format(number)))
            }
            if let flag = value.flag { group.append(HJ212Item(key: value.code + "-Flag", value: flag.code)) }
            if !group.isEmpty { groups.append(group) }
        }
        let packet = HJ212Packet(
            qn: HJ212Time.format(now, in: timeZone, milliseconds: true), st: st, cn: command.rawValue, pw: pw,
            mn: mn, flag: needsReply ? 5 : 4, dataGroups: groups)
        _ = try segment(for: packet)
        return packet
    }

    /// The framed packet: `##`, length, segment, CRC, CRLF.
    public static func encode(_ packet: HJ212Packet) throws(HJ212EncodeError) -> [UInt8] {
        try frame(segment: Array(segment(for: packet).utf8))
    }

    /// The data segment text of `packet`; every value is checked so the result parses back to it.
    public static func segment(for packet: HJ212Packet) throws(HJ212EncodeError) -> String {
        var header: [(String, String)] = []
        if let qn = packet.qn { header.append(("QN", qn)) }
        header.append(("ST", packet.st))
        header.append(("CN", packet.cn))
        if let pw = packet.pw { header.append(("PW", pw)) }
        header.append(("MN", packet.mn))
        if let flag = packet.flag { header.append(("Flag", String(flag))) }
        if let pnum = packet.pnum { header.append(("PNUM", String(pnum))) }
        if let pno = packet.pno { header.append(("PNO", String(pno))) }
        for item in packet.otherHeaderItems {
            guard !HJ212Packet.headerKeys.contains(item.key), item.key != "CP" else {
                throw .reservedCharacter(field: item.key, value: item.key)
            }
            try check(key: item.key, forbidden: ";=", field: item.key)
            header.append((item.key, item.value))
        }
        var text = ""
        for (key, value) in header {
            try check(value: value, forbidden: ";", field: key)
            text += key + "=" + value + ";"
        }
        var groups: [String] = []
        for group in packet.dataGroups where !group.isEmpty {
            var items: [String] = []
            for item in group {
                try check(key: item.key, forbidden: ";,=", field: item.key)
                try check(value: item.value, forbidden: ";,", field: item.key)
                items.append(item.key + "=" + item.value)
            }
            groups.append(items.joined(separator: ","))
        }
        text += "CP=&&" + groups.joined(separator: ";") + "&&"
        guard text.utf8.count <= maximumSegmentLength else { throw .segmentTooLong(text.utf8.count) }
        return text
    }

    /// Frames a segment: `##` + 4-digit length + segment + 4 hex CRC + CRLF.
    public static func frame(segment: some Collection<UInt8>) throws(HJ212EncodeError) -> [UInt8] {
        let bytes = Array(segment)
        guard bytes.count <= maximumSegmentLength else { throw .segmentTooLong(bytes.count) }
        let length = String(bytes.count)
        var frame = Array("##".utf8) + Array((String(repeating: "0", count: 4 - length.count) + length).utf8)
        frame += bytes
        frame += Array(HJ212CRC.hex(HJ212CRC.checksum(bytes)).utf8)
        frame += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
        return frame
    }

    private static func check(key: String, forbidden: String, field: String) throws(HJ212EncodeError) {
        guard !key.isEmpty else { throw .emptyKey }
        try check(value: key, forbidden: forbidden, field: field)
    }

    private static func check(value: String, forbidden: String, field: String) throws(HJ212EncodeError) {
        for byte in value.utf8 {
            guard byte >= 0x20 && byte < 0x7F else { throw .nonASCII(field: field, value: value) }
            guard !forbidden.utf8.contains(byte) else { throw .reservedCharacter(field: field, value: value) }
        }
    }
}

/// The data upload commands.
public enum HJ212UploadCommand: String, Sendable, Hashable, CaseIterable {
    case realTime = "2011"
    case minute = "2051"
    case hourly = "2061"
    case daily = "2031"
}

/// One pollutant's values for `HJ212Encoder.dataUpload`.
public struct HJ212UploadValue: Sendable, Hashable {
    /// The HJ 212 code to send, e.g. `a21026`.
    public var code: String
    public var rtd: Double?
    public var zsRtd: Double?
    public var avg: Double?
    public var min: Double?
    public var max: Double?
    public var zsAvg: Double?
    public var cou: Double?
    public var flag: HJ212DataFlag?

    public init(
        code: String, rtd: Double? = nil, zsRtd: Double? = nil, avg: Double? = nil, min: Double? = nil,
        max: Double? = nil, zsAvg: Double? = nil, cou: Double? = nil, flag: HJ212DataFlag? = .normal
    ) {
        self.code = code
        self.rtd = rtd
        self.zsRtd = zsRtd
        self.avg = avg
        self.min = min
        self.max = max
        self.zsAvg = zsAvg
        self.cou = cou
        self.flag = flag
    }
}

/// Why a packet could not be written.
public enum HJ212EncodeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The segment is longer than the 4-digit length allows.
    case segmentTooLong(Int)
    /// A value with a byte outside printable ASCII.
    case nonASCII(field: String, value: String)
    /// A value containing a separator (`;`, `,`, `=`) where it would change the packet's meaning,
    /// or a header key the packet already writes.
    case reservedCharacter(field: String, value: String)
    /// An item with an empty key.
    case emptyKey
    /// NaN or infinity.
    case nonFiniteValue(field: String)

    public var description: String {
        switch self {
        case .segmentTooLong(let count):
            "data segment of \(count) bytes exceeds \(HJ212Encoder.maximumSegmentLength)"
        case .nonASCII(let field, let value):
            "field \(field)=\"\(HJ212ParseError.shortened(value))\" is not printable ASCII"
        case .reservedCharacter(let field, let value):
            "field \(field)=\"\(HJ212ParseError.shortened(value))\" contains a separator or reserved key"
        case .emptyKey:
            "an item has an empty key"
        case .nonFiniteValue(let field):
            "field \(field) is not a finite number"
        }
    }
}
