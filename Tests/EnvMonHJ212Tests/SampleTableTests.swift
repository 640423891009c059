import Testing
@testable import EnvMonHJ212

/// Each real sample's header and field count, read off the fixture independently of the parser.
@Suite("Real samples: expected fields")
struct SampleTableTests {
    struct Expected: Sendable, CustomStringConvertible {
        var index: Int
        var cn: String
        var mn: String
        var flag: Int?
        var fieldCount: Int
        var qn: String?
        var description: String { "sample \(index) CN=\(cn)" }
    }

    static let table: [Expected] = [
        Expected(index: 0, cn: "1062", mn: "010000A8900016F000169DC0", flag: 5, fieldCount: 0, qn: "20160801085857223"),
        Expected(index: 1, cn: "2011", mn: "Y80110010000010", flag: 4, fieldCount: 14, qn: "20191012133710130"),
        Expected(index: 2, cn: "2011", mn: "ZLDSZ20210127", flag: 8, fieldCount: 22, qn: "20210301111100112"),
        Expected(index: 3, cn: "2061", mn: "Z13401000010301", flag: 5, fieldCount: 10, qn: "20190925181031464"),
        Expected(index: 4, cn: "2051", mn: "JLYP01_AIR01_0001", flag: 4, fieldCount: 22, qn: "20220513162608370"),
        Expected(index: 5, cn: "9011", mn: "010000A8900016F000169DC0", flag: 4, fieldCount: 0, qn: "20231008125115215"),
        Expected(index: 6, cn: "2081", mn: "010000A8900016F000169DC0", flag: 5, fieldCount: 0, qn: "20231008130452757"),
        Expected(index: 7, cn: "2011", mn: "010000A8900016F000169DC0", flag: 5, fieldCount: 2, qn: "20231008123340461"),
        Expected(index: 8, cn: "2011", mn: "41050022000017", flag: nil, fieldCount: 10, qn: nil),
        Expected(index: 9, cn: "2011", mn: "88888880000001", flag: nil, fieldCount: 62, qn: nil),
        Expected(index: 10, cn: "2011", mn: "4201003", flag: nil, fieldCount: 62, qn: nil),
        Expected(index: 11, cn: "2011", mn: "Y80110010000010", flag: 4, fieldCount: 12, qn: "20190901181526940"),
    ]

    @Test("the fixture holds 12 packets, 10 verified")
    func counts() {
        #expect(Fixtures.samples.count == 12)
        #expect(Fixtures.verified.count == 10)
    }

    @Test("each sample's header and field count", arguments: table)
    func fields(expected: Expected) throws {
        try #require(expected.index < Fixtures.samples.count)
        let sample = Fixtures.samples[expected.index]
        let frame = try #require(Fixtures.frames(Fixtures.decode([sample.wire])).first)
        #expect(frame.crcValid == sample.verified)
        let packet = try HJ212Packet(parsing: frame.segment)
        #expect(packet.cn == expected.cn)
        #expect(packet.mn == expected.mn)
        #expect(packet.flag == expected.flag)
        #expect(packet.qn == expected.qn)
        #expect(packet.fields.count == expected.fieldCount)
        #expect(packet.protocolEdition == (expected.flag == nil ? .v2005 : .v2017))
        #expect(packet.needsReply == (expected.flag.map { $0 & 1 == 1 } ?? false))
    }
}
