import Testing
@testable import EnvMonHJ212

@Suite("Packet parsing")
struct PacketTests {
    static func packet(_ text: String) throws(HJ212ParseError) -> HJ212Packet {
        try HJ212Packet(parsing: Array(text.utf8))
    }

    static func error(_ text: String) -> HJ212ParseError? {
        do {
            _ = try packet(text)
            return nil
        } catch {
            return error
        }
    }

    @Test("every real sample parses", arguments: Fixtures.samples)
    func realSamplesParse(sample: Fixtures.Sample) throws {
        let packet = try HJ212Packet(parsing: sample.segment)
        #expect(!packet.mn.isEmpty)
        #expect(!packet.cn.isEmpty)
    }

    @Test("the standard's example: header fields, flag bits and CP parameter")
    func standardExample() throws {
        let sample = try #require(Fixtures.sample(containing: "CN=1062"))
        let packet = try HJ212Packet(parsing: sample.segment)
        #expect(packet.qn == "20160801085857223")
        #expect(packet.st == "32")
        #expect(packet.cn == "1062")
        #expect(packet.pw == "100000")
        #expect(packet.mn == "010000A8900016F000169DC0")
        #expect(packet.flag == 5)
        #expect(packet.needsReply && !packet.isSplit)
        #expect(packet.protocolVersion == 1 && packet.protocolEdition == .v2017)
        #expect(packet.parameters == [HJ212Item(key: "RtdInterval", value: "30")])
        #expect(packet.fields.isEmpty && packet.dataTime == nil)
    }

    @Test("a real-time air packet: DataTime and fields in order")
    func realTimeFields() throws {
        let sample = try #require(Fixtures.sample(containing: "MN=Y80110010000010;Flag=4;CP=&&DataTime=20191012133710"))
        let packet = try HJ212Packet(parsing: sample.segment)
        #expect(packet.cn == "2011" && packet.flag == 4 && !packet.needsReply)
        #expect(packet.dataTime == "20191012133710")
        #expect(packet.fields.count == 14)
        #expect(packet.fields.first == HJ212Field(code: "a21005", suffix: "Rtd", value: "0.00"))
        #expect(packet.fields.last == HJ212Field(code: "a21002", suffix: "Flag", value: "N"))
        #expect(packet.dataGroups.count == 8)
    }

    @Test("the hourly sample: Avg and Flag per pollutant")
    func hourlyFields() throws {
        let sample = try #require(Fixtures.sample(containing: "CN=2061"))
        let packet = try HJ212Packet(parsing: sample.segment)
        #expect(packet.pw == "BF470F88957588DE902D1A52")
        #expect(packet.fields.filter { $0.suffix == "Avg" }.map(\.code) == ["a34006", "a34007", "a34048", "a34047", "a34049"])
        #expect(packet.fields.first?.value == "2.69700")
    }

    @Test("Flag=8 parses with version 2, neither A nor D")
    func flagEight() throws {
        let sample = try #require(Fixtures.sample(containing: "Flag=8"))
        let packet = try HJ212Packet(parsing: sample.segment)
        #expect(packet.flag == 8 && packet.protocolVersion == 2)
        #expect(!packet.needsReply && !packet.isSplit)
    }

    @Test("flag bits", arguments: [(4, false, false, 1), (5, true, false, 1), (6, false, true, 1), (7, true, true, 1), (0, false, false, 0), (3, true, true, 0)])
    func flagBits(flag: Int, reply: Bool, split: Bool, version: Int) throws {
        let packet = try Self.packet("QN=1;ST=32;CN=2011;PW=1;MN=M;Flag=\(flag);PNUM=2;PNO=1;CP=&&&&")
        #expect(packet.needsReply == reply)
        #expect(packet.isSplit == split)
        #expect(packet.protocolVersion == version)
        #expect(packet.protocolEdition == (version >= 1 ? .v2017 : .v2005))
    }

    @Test("2005-style packets: no QN, no Flag, 3-digit codes")
    func edition2005() throws {
        let sample = try #require(Fixtures.sample(containing: "MN=88888880000001"))
        let packet = try HJ212Packet(parsing: sample.segment)
        #expect(packet.qn == nil && packet.flag == nil)
        #expect(packet.protocolEdition == .v2005)
        #expect(packet.st == "31")
        #expect(packet.fields.first == HJ212Field(code: "831", suffix: "Rtd", value: "3.128"))
        #expect(packet.fields.contains(HJ212Field(code: "a99948", suffix: "Rtd", value: "452.341")))
        #expect(!packet.needsReply)
    }

    @Test("SampleTime and Rtd in one group")
    func sampleTime() throws {
        let sample = try #require(Fixtures.sample(containing: "SampleTime"))
        let packet = try HJ212Packet(parsing: sample.segment)
        #expect(packet.fields == [
            HJ212Field(code: "w01008", suffix: "SampleTime", value: "20231008123340"),
            HJ212Field(code: "w01008", suffix: "Rtd", value: "123.456"),
        ])
    }

    @Test("CP parameters other than DataTime: QnRtn, RestartTime")
    func parameters() throws {
        let reply = try #require(Fixtures.sample(containing: "QnRtn"))
        #expect(try HJ212Packet(parsing: reply.segment).parameters == [HJ212Item(key: "QnRtn", value: "1")])
        let restart = try #require(Fixtures.sample(containing: "RestartTime"))
        let packet = try HJ212Packet(parsing: restart.segment)
        #expect(packet.parameters == [HJ212Item(key: "RestartTime", value: "20231007130452")])
        #expect(packet.dataTime == "20231008130452")
    }

    @Test("non-ASCII bytes are refused with their offset")
    func nonASCII() {
        let bytes = Array("QN=1;ST=32;CN=2011;MN=监测;CP=&&&&".utf8)
        #expect(throws: HJ212ParseError.nonASCII(offset: 22, byte: 0xE7)) { try HJ212Packet(parsing: bytes) }
        #expect(HJ212ParseError.nonASCII(offset: 22, byte: 0xE7).description == "data segment byte 22 is 0xE7, not ASCII")
    }

    @Test("control characters are refused")
    func controlCharacters() {
        #expect(throws: HJ212ParseError.controlCharacter(offset: 2, byte: 0x0D)) {
            try HJ212Packet(parsing: Array("ST\r=1;CN=1;MN=1;CP=&&&&".utf8))
        }
    }

    @Test("malformed segments get specific errors", arguments: [
        ("", HJ212ParseError.emptySegment),
        ("ST=32;CN=2011;MN=M", .missingCP),
        ("ST=32;CN=2011;MN=M;CP=&&a=1", .malformedCP("&&a=1")),
        ("ST=32;CN=2011;MN=M;CP=&&&", .malformedCP("&&&")),
        ("ST=32;CN=2011;CP=&&&&", .missingField("MN")),
        ("ST=32;MN=M;CP=&&&&", .missingField("CN")),
        ("CN=2011;MN=M;CP=&&&&", .missingField("ST")),
        ("ST=32;CN=20x1;MN=M;CP=&&&&", .invalidField(name: "CN", value: "20x1", reason: "a command code is decimal digits")),
        ("ST=32;CN=2011;MN=;CP=&&&&", .invalidField(name: "MN", value: "", reason: "must not be empty")),
        ("ST=32;ST=31;CN=2011;MN=M;CP=&&&&", .duplicateField("ST")),
        ("ST=32;CN=2011;MN=M;junk;CP=&&&&", .malformedHeaderItem("junk")),
        ("ST=32;CN=2011;MN=M;Flag=x;CP=&&&&", .invalidField(name: "Flag", value: "x", reason: "must be a whole number from 0 to 255")),
        ("ST=32;CN=2011;MN=M;Flag=256;CP=&&&&", .invalidField(name: "Flag", value: "256", reason: "must be a whole number from 0 to 255")),
        ("ST=32;CN=2011;MN=M;PNUM=2;CP=&&&&", .missingField("PNO")),
        ("ST=32;CN=2011;MN=M;PNUM=2;PNO=3;CP=&&&&", .invalidField(name: "PNO", value: "3", reason: "packet number exceeds PNUM=2")),
        ("QN=12a;ST=32;CN=2011;MN=M;CP=&&&&", .invalidField(name: "QN", value: "12a", reason: "a request number is 1–20 decimal digits")),
        ("ST=32;CN=2011;MN=M;CP=&&DataTime=1;a21026-Rtd&&", .malformedCPItem("a21026-Rtd")),
        ("ST=32;CN=2011;MN=M;CP=&&a21026-=1&&", .malformedCPItem("a21026-=1")),
        ("ST=32;CN=2011;MN=M;CP=&&-Rtd=1&&", .malformedCPItem("-Rtd=1")),
    ])
    func malformed(text: String, expected: HJ212ParseError) {
        #expect(Self.error(text) == expected)
    }

    @Test("error descriptions name field, value and reason")
    func descriptions() {
        let error = HJ212ParseError.invalidField(name: "Flag", value: "x", reason: "must be a whole number from 0 to 255")
        #expect(error.description == "field Flag=\"x\": must be a whole number from 0 to 255")
        #expect(HJ212ParseError.invalidNumber(field: "a21026-Avg", value: "abc").description.contains("a21026-Avg=\"abc\""))
        #expect(HJ212ParseError.malformedCPItem(String(repeating: "x", count: 100)).description.count < 120)
    }

    @Test("unknown header items are kept; empty CP and stray separators are fine")
    func lenientParts() throws {
        let packet = try Self.packet("ST=32;CN=2011;MN=M;Extra=1;CP=&&;DataTime=20260101120000;;a21026-Rtd=1,&&")
        #expect(packet.otherHeaderItems == [HJ212Item(key: "Extra", value: "1")])
        #expect(packet.dataGroups.count == 2)
        #expect(try Self.packet("ST=32;CN=9014;MN=M;CP=&&&&").dataGroups.isEmpty)
    }

    @Test("a value may contain = and && inside CP")
    func valuesWithSpecials() throws {
        let packet = try Self.packet("ST=32;CN=2011;MN=M;CP=&&x=a=b;y=c&&d&&")
        #expect(packet.parameters == [HJ212Item(key: "x", value: "a=b"), HJ212Item(key: "y", value: "c&&d")])
    }
}
