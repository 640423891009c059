import Foundation
import Testing
@testable import EnvMonHJ212

@Suite("Hourly values and O2 correction")
struct HourlyValueTests {
    static let hour = Date(timeIntervalSince1970: 1_767_232_800)  // 2026-01-01 10:00 +08:00

    static func minutes(_ count: Int, invalid: Int = 0, value: (Int) -> Double = { Double($0) },
                        flag: String = "M") -> [HJ212Reading] {
        (0..<(count + invalid)).map { minute in
            HJ212Reading(pollutant: "SO2", code: "a21026", timestamp: hour + Double(minute * 60), avg: value(minute),
                         flag: minute < count ? "N" : flag)
        }
    }

    @Test("44 valid minutes give no hourly value; 45 do", arguments: [(44, false), (45, true), (60, true), (0, false)])
    func threshold(valid: Int, derived: Bool) {
        let result = HJ212HourlyValue.derive(minutes: Self.minutes(valid, invalid: 60 - valid))
        #expect((result != nil) == derived)
    }

    @Test("invalid minutes do not count, whatever their flag", arguments: ["M", "F", "S", "D", "C", "T", "B", "X"])
    func invalidFlags(flag: String) {
        #expect(HJ212HourlyValue.derive(minutes: Self.minutes(44, invalid: 16, flag: flag)) == nil)
    }

    @Test("manual minutes count when the platform accepts them")
    func manualAccepted() {
        let minutes = Self.minutes(44, invalid: 16, flag: "S")
        #expect(HJ212HourlyValue.derive(minutes: minutes, acceptingManual: true) != nil)
    }

    @Test("mean, min and max of the valid minutes only; the hour's start as time")
    func statistics() throws {
        var minutes = Self.minutes(45, value: { Double($0 % 5) + 10 })  // 10…14
        minutes.append(HJ212Reading(pollutant: "SO2", code: "a21026", timestamp: Self.hour + 3000, avg: 999, flag: "D"))
        let hourly = try #require(HJ212HourlyValue.derive(minutes: minutes))
        #expect(hourly.avg == 12 && hourly.min == 10 && hourly.max == 14)
        #expect(hourly.timestamp == Self.hour && hourly.flag == "N" && hourly.pollutant == "SO2")
        #expect(hourly.zsAvg == nil)
    }

    @Test("minute Min/Max and Cou are used when present")
    func minuteStatistics() throws {
        let minutes = (0..<45).map {
            HJ212Reading(pollutant: "SO2", code: "a21026", timestamp: Self.hour + Double($0 * 60), avg: 10, min: 8,
                         max: Double(11 + $0), cou: 0.5, flag: "N")
        }
        let hourly = try #require(HJ212HourlyValue.derive(minutes: minutes))
        #expect(hourly.min == 8 && hourly.max == 55 && hourly.cou == 22.5)
    }

    @Test("a minute sent twice counts once; minutes outside the hour are left out")
    func duplicatesAndOutside() {
        let doubled = Self.minutes(44) + Self.minutes(44)
        #expect(HJ212HourlyValue.derive(minutes: doubled) == nil)
        let spread = Self.minutes(90)
        #expect(HJ212HourlyValue.derive(minutes: spread, hourStart: Self.hour + 3600) == nil, "only 30 in the next hour")
        #expect(HJ212HourlyValue.derive(minutes: spread, hourStart: Self.hour)?.avg == 29.5)
    }

    @Test("O2 correction figures", arguments: [
        (30.0, 9.0, 6.0, 37.5), (100.0, 6.0, 6.0, 100.0), (50.0, 3.0, 6.0, 41.666666666666664), (10.0, 15.0, 11.0, 16.666666666666668),
    ])
    func correction(concentration: Double, measured: Double, reference: Double, expected: Double) throws {
        let corrected = try #require(HJ212OxygenCorrection(measured: measured, reference: reference).correct(concentration))
        #expect(abs(corrected - expected) < 1e-9)
    }

    @Test("no correction at or above 21 % O2, below 0, or above the platform's cap", arguments: [
        (21.0, 21.0), (25.0, 21.0), (-1.0, 21.0), (19.5, 19.0), (Double.nan, 21.0),
    ])
    func correctionGuard(measured: Double, limit: Double) {
        #expect(HJ212OxygenCorrection(measured: measured, reference: 6, measuredLimit: limit).correct(30) == nil)
    }

    @Test("a reference of 21 % or more is refused")
    func referenceGuard() {
        #expect(HJ212OxygenCorrection(measured: 9, reference: 21).factor == nil)
    }

    @Test("the hourly value carries the O2-corrected mean")
    func hourlyCorrected() throws {
        let hourly = try #require(HJ212HourlyValue.derive(
            minutes: Self.minutes(45, value: { _ in 30 }), oxygen: HJ212OxygenCorrection(measured: 9, reference: 6)))
        #expect(hourly.avg == 30 && hourly.zsAvg == 37.5)
        let guarded = try #require(HJ212HourlyValue.derive(
            minutes: Self.minutes(45, value: { _ in 30 }), oxygen: HJ212OxygenCorrection(measured: 21, reference: 6)))
        #expect(guarded.avg == 30 && guarded.zsAvg == nil)
    }

    @Test("hourly O2 from O2 minutes, then the SO2 correction")
    func oxygenFromMinutes() throws {
        let o2 = (0..<60).map {
            HJ212Reading(pollutant: "O2", code: "a19001", timestamp: Self.hour + Double($0 * 60), avg: $0 % 2 == 0 ? 8 : 10, flag: "N")
        }
        let o2Hour = try #require(HJ212HourlyValue.derive(minutes: o2))
        #expect(o2Hour.avg == 9)
        let measured = try #require(o2Hour.avg)
        let so2 = try #require(HJ212HourlyValue.derive(
            minutes: Self.minutes(50, value: { _ in 30 }), oxygen: HJ212OxygenCorrection(measured: measured, reference: 6)))
        #expect(so2.zsAvg == 37.5)
    }

    @Test("minutes with no value are not valid")
    func noValue() {
        let minutes = (0..<60).map {
            HJ212Reading(pollutant: "SO2", code: "a21026", timestamp: Self.hour + Double($0 * 60), avg: $0 < 44 ? 1 : nil, flag: "N")
        }
        #expect(HJ212HourlyValue.derive(minutes: minutes) == nil)
    }
}
