import Foundation
import Testing
@testable import EnvMonHJ212

@Suite("Readings and codes")
struct ReadingTests {
    static func packet(_ cp: String, cn: String = "2061") throws -> HJ212Packet {
        try HJ212Packet(parsing: Array("QN=20260101120000000;ST=31;CN=\(cn);PW=123456;MN=M1;Flag=5;CP=&&\(cp)&&".utf8))
    }

    @Test("hourly flue gas values map to SO2, NOx, PM, O2 with all statistics")
    func hourlyAir() throws {
        let packet = try Self.packet(
            "DataTime=20260101110000;a21026-Cou=1.5,a21026-Min=10,a21026-Avg=12.5,a21026-Max=15,a21026-ZsAvg=14.1,a21026-Flag=N;"
                + "a21002-Avg=40,a21002-Flag=M;a34013-Avg=3.2;a19001-Avg=8.5,a19001-Flag=N")
        let readings = try packet.readings(in: Fixtures.china)
        #expect(readings.map(\.pollutant) == ["SO2", "NOx", "PM", "O2"])
        let so2 = try #require(readings.first)
        #expect(so2.code == "a21026")
        #expect(so2.timestamp == Date(timeIntervalSince1970: 1_767_236_400))  // 2026-01-01 03:00 UTC
        #expect(so2.avg == 12.5 && so2.min == 10 && so2.max == 15 && so2.cou == 1.5 && so2.zsAvg == 14.1)
        #expect(so2.flag == "N" && so2.dataFlag == .normal && so2.isValid())
        #expect(readings[1].dataFlag == .maintenance && !readings[1].isValid())
        #expect(readings[2].flag == nil && readings[2].isValid())
    }

    @Test("real-time water sample: NH3N, TP, TN, pH, temperature mapped; others unmapped")
    func realWater() throws {
        let sample = try #require(Fixtures.sample(containing: "ZLDSZ20210127"))
        let set = try HJ212Packet(parsing: sample.segment).readingSet(in: Fixtures.china)
        #expect(set.readings.map(\.pollutant) == ["pH", "temperature", "TP", "TN", "NH3N"])
        let nh3n = try #require(set.readings.first { $0.pollutant == "NH3N" })
        #expect(nh3n.code == "w21003" && nh3n.rtd == 0.09055002 && nh3n.value == 0.09055002)
        #expect(set.unmappedCodes == ["w01009", "w01014", "w01003", "w01019", "w01008", "w23002"])
        #expect(set.unmapped.count == 12)
    }

    @Test("2005 codes map too (02 → SO2, 011 → COD, 060 → NH3N, B01 → flow)")
    func codes2005() throws {
        let packet = try HJ212Packet(parsing: Array(
            "ST=32;CN=2011;PW=123456;MN=M;CP=&&DataTime=20200921174057;02-Rtd=1;011-Rtd=2;060-Rtd=3;B01-Rtd=4;121-Rtd=5&&".utf8))
        #expect(packet.protocolEdition == .v2005)
        let set = try packet.readingSet(in: Fixtures.china)
        #expect(set.readings.map(\.pollutant) == ["SO2", "COD", "NH3N", "flow"])
        #expect(set.unmappedCodes == ["121"])
    }

    @Test("the real 2005 sample's codes are all outside the table")
    func real2005() throws {
        let sample = try #require(Fixtures.sample(containing: "MN=88888880000001"))
        let set = try HJ212Packet(parsing: sample.segment).readingSet(in: Fixtures.china)
        #expect(set.readings.isEmpty)
        #expect(set.unmappedCodes.count == 31)
    }

    @Test("DataTime with milliseconds")
    func milliseconds() throws {
        let readings = try Self.packet("DataTime=20260101110000500;a21026-Rtd=1").readings(in: Fixtures.china)
        #expect(readings.first?.timestamp == Date(timeIntervalSince1970: 1_767_236_400.5))
    }

    @Test("DataTime is local time in the zone given")
    func timeZones() throws {
        let packet = try Self.packet("DataTime=20260101110000;a21026-Rtd=1")
        let china = try #require(try packet.readings(in: Fixtures.china).first?.timestamp)
        let utc = try #require(try packet.readings(in: .gmt).first?.timestamp)
        #expect(utc.timeIntervalSince1970 - china.timeIntervalSince1970 == 28_800)
    }

    @Test("bad DataTime values", arguments: ["2026010111000", "20260230110000", "20261301110000", "20260101250000", "2026010111000x", ""])
    func badDataTime(text: String) throws {
        let packet = try Self.packet("DataTime=\(text);a21026-Rtd=1")
        #expect(throws: HJ212ParseError.invalidDataTime(text)) { try packet.readings(in: Fixtures.china) }
    }

    @Test("fields without DataTime")
    func missingDataTime() throws {
        let packet = try Self.packet("a21026-Rtd=1")
        #expect(throws: HJ212ParseError.missingDataTime) { try packet.readings(in: Fixtures.china) }
    }

    @Test("numbers are strict; empty is missing, not zero", arguments: ["abc", "nan", "inf", "0x10", "1.2.3", "--"])
    func badNumbers(value: String) throws {
        let packet = try Self.packet("DataTime=20260101110000;a21026-Avg=\(value)")
        #expect(throws: HJ212ParseError.invalidNumber(field: "a21026-Avg", value: value)) {
            try packet.readings(in: Fixtures.china)
        }
    }

    @Test("empty values and exponents")
    func emptyAndExponent() throws {
        let readings = try Self.packet("DataTime=20260101110000;a21026-Avg=,a21026-Max=1.5e2,a21026-Min=-0.5").readings(in: Fixtures.china)
        #expect(readings.first?.avg == nil && readings.first?.max == 150 && readings.first?.min == -0.5)
        #expect(readings.first?.isValid() == false, "no value is not valid data")
    }

    @Test("a duplicated field for one pollutant is refused")
    func duplicateField() throws {
        let packet = try Self.packet("DataTime=20260101110000;a21026-Avg=1;a21026-Avg=2")
        #expect(throws: HJ212ParseError.duplicateCPField("a21026-Avg")) { try packet.readings(in: Fixtures.china) }
    }

    @Test("packets without fields give no readings")
    func noFields() throws {
        let sample = try #require(Fixtures.sample(containing: "RtdInterval"))
        #expect(try HJ212Packet(parsing: sample.segment).readings(in: Fixtures.china).isEmpty)
    }

    @Test("every verified sample with data gives readings or unmapped fields", arguments: Fixtures.verified)
    func everySample(sample: Fixtures.Sample) throws {
        let packet = try HJ212Packet(parsing: sample.segment)
        let set = try packet.readingSet(in: Fixtures.china)
        let mappedFields = packet.fields.count - set.unmapped.count
        #expect(mappedFields >= set.readings.count)
    }
}

@Suite("Code table and data flags")
struct CodeTableTests {
    @Test("the embedded table matches hj212_pollutant_codes.csv")
    func matchesCSV() throws {
        let lines = Fixtures.text("hj212_pollutant_codes.csv").split(separator: "\n").dropFirst()
        try #require(lines.count == HJ212CodeTable.standard.entries.count)
        for (line, entry) in zip(lines, HJ212CodeTable.standard.entries) {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            #expect(cells[0] == entry.code2017)
            #expect((cells[1] == "--" ? nil : cells[1]) == entry.code2005)
            #expect(cells[2] == entry.nameZh && cells[3] == entry.nameEn && cells[7] == entry.medium)
        }
    }

    @Test("canonical codes", arguments: [
        ("a21026", "SO2"), ("02", "SO2"), ("a21002", "NOx"), ("03", "NOx"), ("a34013", "PM"), ("01", "PM"),
        ("w01018", "COD"), ("011", "COD"), ("w21003", "NH3N"), ("060", "NH3N"), ("w21011", "TP"), ("101", "TP"),
        ("w21001", "TN"), ("065", "TN"), ("w01001", "pH"), ("001", "pH"), ("a19001", "O2"), ("S01", "O2"),
        ("a00000", "flow"), ("B02", "flow"), ("w00000", "flow"), ("B01", "flow"), ("a01012", "temperature"),
        ("w01010", "temperature"), ("a01014", "humidity"), ("A21026", "SO2"), ("b01", "flow"),
    ])
    func canonical(code: String, expected: String) {
        #expect(HJ212CodeTable.standard.canonicalCode(for: code) == expected)
    }

    @Test("known factors without an envmon pollutant, and unknown codes", arguments: ["a21005", "a34004", "w01009", "a99948", "831", ""])
    func unmapped(code: String) {
        #expect(HJ212CodeTable.standard.canonicalCode(for: code) == nil)
    }

    @Test("data flags: only N is valid; S when a platform accepts manual values")
    func dataFlags() {
        let letters = ["N", "F", "M", "S", "D", "C", "T", "B", "X"]
        let flags = letters.map(HJ212DataFlag.init(code:))
        #expect(flags == [.normal, .stopped, .maintenance, .manual, .fault, .calibration, .overRange, .commsFault, .other("X")])
        #expect(flags.map(\.code) == letters)
        #expect(flags.filter(\.isValid) == [.normal])
        #expect(flags.filter { $0.isValid(acceptingManual: true) } == [.normal, .manual])
    }
}
