import Testing
@testable import EnvMonHJ212

@Suite("HJ 212 CRC")
struct CRCTests {
    @Test("the check string gives 2F80, not the MODBUS 4B37")
    func checkString() {
        let bytes = Array("123456789".utf8)
        #expect(HJ212CRC.checksum(bytes) == 0x2F80)
        #expect(HJ212CRC.modbus(bytes) == 0x4B37)
    }

    @Test("the standard's Appendix A example is 1C80")
    func standardExample() {
        let segment = "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&"
        #expect(segment.utf8.count == 101)
        #expect(HJ212CRC.checksum(Array(segment.utf8)) == 0x1C80)
        #expect(HJ212CRC.hex(0x1C80) == "1C80")
    }

    @Test("hex digits parse in either case and nothing else", arguments: [
        ("1C80", UInt16?(0x1C80)), ("cc01", 0xCC01), ("Ab0f", 0xAB0F), ("00", nil), ("12345", nil), ("12G4", nil),
        (" 123", nil),
    ])
    func hexParsing(text: String, expected: UInt16?) {
        #expect(HJ212CRC.parseHex(Array(text.utf8)) == expected)
    }

    @Test("hex formatting pads to four upper-case digits")
    func hexFormatting() {
        #expect(HJ212CRC.hex(0x0001) == "0001")
        #expect(HJ212CRC.hex(0xFFFF) == "FFFF")
        #expect(HJ212CRC.hex(0xcc01) == "CC01")
    }

    @Test("matches accepts lower-case CRC text")
    func matchesEitherCase() {
        let segment = Array("123456789".utf8)
        #expect(HJ212CRC.matches("2f80", segment: segment))
        #expect(HJ212CRC.matches("2F80", segment: segment))
        #expect(!HJ212CRC.matches("4B37", segment: segment))
    }

    @Test("every verified sample's CRC matches its segment", arguments: Fixtures.verified)
    func samplesVerify(sample: Fixtures.Sample) throws {
        let crcText = String(sample.line.suffix(4))
        #expect(HJ212CRC.matches(crcText, segment: sample.segment))
        #expect(Int(sample.line.dropFirst(2).prefix(4)) == sample.segment.count)
    }

    @Test("the negative samples fail; the first is MODBUS byte-swapped")
    func negativeSamples() throws {
        let negatives = Fixtures.negative
        try #require(negatives.count == 2)
        let first = try #require(HJ212CRC.parseHex(Array(negatives[0].line.suffix(4).utf8)))
        #expect(HJ212CRCCheck(received: first, segment: negatives[0].segment) == .modbusByteSwapped)
        #expect(HJ212CRC.checksum(negatives[0].segment) == 0x0440)
        let second = try #require(HJ212CRC.parseHex(Array(negatives[1].line.suffix(4).utf8)))
        #expect(HJ212CRCCheck(received: second, segment: negatives[1].segment) == .mismatch)
        #expect(HJ212CRC.checksum(negatives[1].segment) == 0x2D00)
    }
}
