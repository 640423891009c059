/// One HJ 212 data segment, parsed: `QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;[PNUM=…;PNO=…;]CP=&&…&&`.
///
/// ```swift
/// let packet = try HJ212Packet(parsing: frame.segment)
/// if packet.needsReply { reply(try HJ212Encoder.dataResponse(to: packet, now: now)) }
/// let readings = try packet.readings(in: chinaTime)
/// ```
public struct HJ212Packet: Sendable, Hashable {
    /// Request number, `yyyyMMddHHmmssSSS`; absent in 2005-style packets.
    public var qn: String?
    /// System code (21 surface water, 22 air quality, 31 flue gas, 32 wastewater, 91 system …).
    public var st: String
    /// Command code (2011 real-time, 2051 minute, 2061 hourly, 2031 daily, 9014 data response …).
    public var cn: String
    /// Access password.
    public var pw: String?
    /// Device (data logger) identifier.
    public var mn: String
    /// Flag bits: bit 0 `A` answer wanted, bit 1 `D` split packet, upper bits protocol version.
    public var flag: Int?
    /// Number of packets of a split message.
    public var pnum: Int?
    /// This packet's number in a split message, 1-based.
    public var pno: Int?
    /// Header items other than the ones above, in order.
    public var otherHeaderItems: [HJ212Item]
    /// The CP data area: groups separated by `;`, each of items separated by `,`.
    public var dataGroups: [[HJ212Item]]

    /// A packet from its parts.
    public init(
        qn: String? = nil, st: String, cn: String, pw: String? = nil, mn: String, flag: Int? = nil,
        pnum: Int? = nil, pno: Int? = nil, otherHeaderItems: [HJ212Item] = [], dataGroups: [[HJ212Item]] = []
    ) {
        self.qn = qn
        self.st = st
        self.cn = cn
        self.pw = pw
        self.mn = mn
        self.flag = flag
        self.pnum = pnum
        self.pno = pno
        self.otherHeaderItems = otherHeaderItems
        self.dataGroups = dataGroups
    }

    /// Flag bit A: the receiver must answer with a CN 9014 data response carrying this QN.
    public var needsReply: Bool { (flag ?? 0) & 0b01 != 0 }
    /// Flag bit D: the packet is one part of a split message (see `pnum`, `pno`).
    public var isSplit: Bool { (flag ?? 0) & 0b10 != 0 }
    /// The protocol version in the upper flag bits (1 for HJ 212-2017); nil without Flag.
    public var protocolVersion: Int? { flag.map { $0 >> 2 } }
    /// HJ 212-2017 when Flag carries a version, otherwise HJ/T 212-2005 style.
    public var protocolEdition: HJ212ProtocolEdition {
        if let version = protocolVersion, version >= 1 { .v2017 } else { .v2005 }
    }

    /// Every CP item, in order.
    public var dataItems: [HJ212Item] { dataGroups.flatMap { $0 } }
    /// The `DataTime` value, as sent.
    public var dataTime: String? { dataItems.first { $0.key == "DataTime" }?.value }
    /// The pollutant fields (`code-Suffix=value`), in order.
    public var fields: [HJ212Field] { dataItems.compactMap(HJ212Field.init(item:)) }
    /// CP items that are neither `DataTime` nor pollutant fields (`RtdInterval`, `QnRtn`, …).
    public var parameters: [HJ212Item] {
        dataItems.filter { $0.key != "DataTime" && !$0.key.contains("-") }
    }
}

/// Which edition of the protocol a packet follows.
public enum HJ212ProtocolEdition: Sendable, Hashable {
    /// HJ/T 212-2005: no QN and no version in Flag; 2–3 character pollutant codes (`011`, `B01`).
    case v2005
    /// HJ 212-2017: Flag carries the protocol version; codes like `a21026`, `w01018`.
    case v2017
}

/// One `key=value` item of the header or the CP data area.
public struct HJ212Item: Sendable, Hashable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// One pollutant field of CP, e.g. `a21026-Avg=12.3`.
public struct HJ212Field: Sendable, Hashable {
    /// Pollutant code: `a21026` (2017), `02` or `B01` (2005), or whatever the device sent.
    public var code: String
    /// What the value is: `Rtd`, `Avg`, `Min`, `Max`, `Cou`, `ZsRtd`, `ZsAvg`, `Flag`, `EFlag`, …
    public var suffix: String
    /// The value as sent.
    public var value: String

    public init(code: String, suffix: String, value: String) {
        self.code = code
        self.suffix = suffix
        self.value = value
    }

    /// `code-suffix`.
    public var key: String { code + "-" + suffix }

    /// The field an item is, when its key is `code-suffix`.
    public init?(item: HJ212Item) {
        guard let dash = item.key.firstIndex(of: "-") else { return nil }
        let code = item.key[..<dash]
        let suffix = item.key[item.key.index(after: dash)...]
        guard !code.isEmpty, !suffix.isEmpty else { return nil }
        self.init(code: String(code), suffix: String(suffix), value: item.value)
    }

    /// The item that writes this field.
    public var item: HJ212Item { HJ212Item(key: key, value: value) }
}
