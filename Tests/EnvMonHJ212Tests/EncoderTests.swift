import Foundation
import Testing
@testable import EnvMonHJ212

@Suite("Encoder")
struct EncoderTests {
    static let now = Date(timeIntervalSince1970: 1_767_236_712.345)  // 2026-01-01 11:05:12.345 +08:00

    static func decodeOne(_ wire: [UInt8]) throws -> HJ212Packet {
        let frames = Fixtures.frames(Fixtures.decode([wire]))
        let frame = try #require(frames.first)
        #expect(frames.count == 1 && frame.crcValid && frame.lengthMatches)
        return try HJ212Packet(parsing: frame.segment)
    }

    @Test("the 9014 data response carries the packet's QN, ST=91, Flag=4, CRC and CRLF")
    func dataResponse() throws {
        let sample = try #require(Fixtures.sample(containing: "CN=2061"))
        let packet = try HJ212Packet(parsing: sample.segment)
        let wire = try HJ212Encoder.dataResponse(to: packet, now: Self.now)
        let segment = "QN=20190925181031464;ST=91;CN=9014;PW=BF470F88957588DE902D1A52;MN=Z13401000010301;Flag=4;CP=&&&&"
        let expected = "##" + String(format: "%04d", segment.utf8.count) + segment
            + HJ212CRC.hex(HJ212CRC.checksum(Array(segment.utf8))) + "\r\n"
        #expect(String(decoding: wire, as: UTF8.self) == expected)
        let reply = try Self.decodeOne(wire)
        #expect(reply.qn == packet.qn && reply.cn == "9014" && reply.st == "91" && !reply.needsReply)
    }

    @Test("a 2005 packet without QN is answered with a QN from now")
    func responseWithoutQN() throws {
        let packet = try HJ212Packet(parsing: Array("ST=31;CN=2011;PW=123456;MN=M;CP=&&&&".utf8))
        let reply = HJ212Encoder.dataResponsePacket(to: packet, now: Self.now)
        #expect(reply.qn == "20260101110512345")
    }

    @Test("every real sample re-encodes to its own bytes", arguments: Fixtures.verified)
    func reencodeSamples(sample: Fixtures.Sample) throws {
        let packet = try HJ212Packet(parsing: sample.segment)
        let segment = try HJ212Encoder.segment(for: packet)
        #expect(Array(segment.utf8) == sample.segment)
        let wire = try HJ212Encoder.encode(packet)
        #expect(String(decoding: wire, as: UTF8.self).uppercased() == sample.line.uppercased() + "\r\n")
    }

    @Test("upload round trip: encode → frame → parse → readings", arguments: HJ212UploadCommand.allCases)
    func uploadRoundTrip(command: HJ212UploadCommand) throws {
        let dataTime = Date(timeIntervalSince1970: 1_767_232_800)  // 2026-01-01 10:00 +08:00
        let values = [
            HJ212UploadValue(code: "a21026", avg: 12.5, min: 10, max: 15.25, zsAvg: 14.1, cou: 0.0123),
            HJ212UploadValue(code: "a19001", rtd: command == .realTime ? 8.7 : nil, avg: command == .realTime ? nil : 8.7),
            HJ212UploadValue(code: "w21003", avg: 0.09055002, flag: .maintenance),
        ]
        let packet = try HJ212Encoder.dataUpload(
            command, st: "31", pw: "123456", mn: "SIM0001", dataTime: dataTime, now: Self.now, values: values)
        #expect(packet.cn == command.rawValue && packet.flag == 5 && packet.qn == "20260101110512345")
        let decoded = try Self.decodeOne(try HJ212Encoder.encode(packet))
        #expect(decoded == packet)
        let readings = try decoded.readings(in: Fixtures.china)
        #expect(readings.map(\.pollutant) == ["SO2", "O2", "NH3N"])
        #expect(readings[0].timestamp == dataTime)
        #expect(readings[0].avg == 12.5 && readings[0].min == 10 && readings[0].max == 15.25)
        #expect(readings[0].zsAvg == 14.1 && readings[0].cou == 0.0123 && readings[0].flag == "N")
        #expect(readings[1].value == 8.7)
        #expect(readings[2].avg == 0.09055002 && readings[2].dataFlag == .maintenance)
    }

    @Test("a split packet round-trips with PNUM and PNO")
    func splitRoundTrip() throws {
        let packet = HJ212Packet(
            qn: "1", st: "31", cn: "2061", pw: "p", mn: "M", flag: 7, pnum: 2, pno: 2,
            otherHeaderItems: [HJ212Item(key: "X", value: "y")],
            dataGroups: [[HJ212Item(key: "DataTime", value: "20260101110000")]])
        #expect(try Self.decodeOne(try HJ212Encoder.encode(packet)) == packet)
    }

    @Test("random uploads round-trip")
    func randomRoundTrips() throws {
        var rng = SplitMix64(seed: 7)
        let codes = HJ212CodeTable.standard.entries.map(\.code2017)
        for _ in 0..<200 {
            let values = (0..<Int(rng.next() % 8)).map { _ in
                HJ212UploadValue(
                    code: codes[Int(rng.next() % UInt64(codes.count))],
                    avg: Double(Int64(rng.next() % 2_000_000) - 1_000_000) / 1000,
                    min: Double(rng.next() % 1000), max: rng.next() % 2 == 0 ? nil : Double(rng.next() % 1000) / 7)
            }
            let packet = try HJ212Encoder.dataUpload(
                .minute, st: "32", pw: "1", mn: "M\(rng.next() % 100)", dataTime: Self.now, now: Self.now,
                needsReply: rng.next() % 2 == 0, values: values)
            #expect(try Self.decodeOne(try HJ212Encoder.encode(packet)) == packet)
        }
    }

    @Test("values that would change the packet's meaning are refused")
    func refused() {
        #expect(throws: HJ212EncodeError.reservedCharacter(field: "MN", value: "a;b")) {
            try HJ212Encoder.encode(HJ212Packet(st: "31", cn: "2011", mn: "a;b"))
        }
        #expect(throws: HJ212EncodeError.reservedCharacter(field: "x", value: "1,2")) {
            try HJ212Encoder.encode(HJ212Packet(st: "31", cn: "2011", mn: "M", dataGroups: [[HJ212Item(key: "x", value: "1,2")]]))
        }
        #expect(throws: HJ212EncodeError.nonASCII(field: "MN", value: "监测")) {
            try HJ212Encoder.encode(HJ212Packet(st: "31", cn: "2011", mn: "监测"))
        }
        #expect(throws: HJ212EncodeError.nonFiniteValue(field: "a21026-Avg")) {
            try HJ212Encoder.dataUpload(.hourly, st: "31", pw: "1", mn: "M", dataTime: Self.now, now: Self.now,
                                        values: [HJ212UploadValue(code: "a21026", avg: .nan)])
        }
        let long = HJ212Packet(st: "31", cn: "2011", mn: String(repeating: "M", count: 10_000))
        #expect(throws: HJ212EncodeError.segmentTooLong(10_025)) { try HJ212Encoder.encode(long) }
    }
}
