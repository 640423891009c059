import EnvMonDomain
import Foundation
import Testing
@testable import EnvMonIngest

@Suite struct TimeAndPeriodTests {
    static let header = ["section_id", "sampled_at", "ph"]

    @Test(arguments: [
        ("2026-01-05T08:00:00+08:00", "2026-01-05T08:00:00+08:00"),
        ("2026-01-05T00:00:00Z", "2026-01-05T00:00:00+00:00"),
        ("2026-01-05T08:00:00.250+08:00", "2026-01-05T08:00:00.250+08:00"),
        ("2026-01-05T09:30:00+0900", "2026-01-05T09:30:00+09:00"),
        ("2026-01-04T19:00:00-05:00", "2026-01-04T19:00:00-05:00"),
        ("2026-01-05T08:00:00", "2026-01-05T08:00:00+08:00"),
        ("2026-01-05 08:00", "2026-01-05T08:00:00+08:00"),
        ("2026-01-05 08:00:30", "2026-01-05T08:00:30+08:00"),
        ("2026/01/05 08:00", "2026-01-05T08:00:00+08:00"),
        ("2026/1/5 8:00", "2026-01-05T08:00:00+08:00"),
        ("2026年01月05日 08时", "2026-01-05T08:00:00+08:00"),
        ("2026年1月5日 8时", "2026-01-05T08:00:00+08:00"),
        ("２０２６－０１－０５　０８：００", "2026-01-05T08:00:00+08:00"),
        ("2026-01-05", "2026-01-05T00:00:00+08:00"),
    ])
    func timestampFormats(raw: String, iso: String) throws {
        let fields = try Fixture.record(.water, Self.header, ["S1", raw, "7.1"])
        #expect(fields["sampled_at"] == iso)
    }

    @Test func timeWithoutYearTakesTheGivenYear() throws {
        let fields = try Fixture.record(.water, Self.header, ["S1", "04-01 12:00", "7.1"], year: 2021)
        #expect(fields["sampled_at"] == "2021-04-01T12:00:00+08:00")
    }

    @Test func timeWithoutYearIsRejectedWithoutOne() throws {
        let rejections = try Fixture.rejections(.water, Self.header, ["S1", "04-01 12:00", "7.1"])
        #expect(rejections == [Rejection(line: 2, column: "sampled_at", value: "04-01 12:00",
                                         reason: "time has no year; give the year with --year")])
    }

    @Test func localTimesFollowTheConfiguredZone() throws {
        var options = Fixture.options(.water)
        options.timeZone = try #require(TimeZone(identifier: "Europe/Berlin"))
        let normalizer = try #require(try RowNormalizer.resolve(header: Self.header, options: options))
        guard case .record(let summer) = normalizer.normalize(line: 2, cells: ["S1", "2026-07-01 12:00", "7"]),
              case .record(let winter) = normalizer.normalize(line: 3, cells: ["S1", "2026-01-01 12:00", "7"]) else {
            Issue.record("rows rejected")
            return
        }
        #expect(summer.fields[7] == "2026-07-01T12:00:00+02:00")
        #expect(winter.fields[7] == "2026-01-01T12:00:00+01:00")
    }

    @Test(arguments: ["2026-02-30 08:00", "2026-13-01", "2026-01-05 25:00", "tomorrow", "45292.5", "2026-01",
                      "05/01/2026 08:00", "2026-01-05 08:00 +99:00"])
    func unreadableTimesAreRejected(raw: String) throws {
        let rejections = try Fixture.rejections(.water, Self.header, ["S1", raw, "7.1"])
        #expect(rejections.map(\.reason) == ["not a date and time (write e.g. 2024-01-05 08:00)"])
        #expect(rejections.first?.value == raw)
    }

    @Test func moreThanADayInTheFutureIsRejected() throws {
        // now = 2026-11-30 20:00 in Shanghai; a day later is 2026-12-01 20:00.
        let soon = try Fixture.record(.water, Self.header, ["S1", "2026-12-01 19:00", "7"])
        #expect(soon["sampled_at"] == "2026-12-01T19:00:00+08:00")
        let rejections = try Fixture.rejections(.water, Self.header, ["S1", "2026-12-01 21:00", "7"])
        #expect(rejections.map(\.reason) == ["in the future by more than a day"])
    }

    @Test(arguments: [
        ("2025", "2025-01-01", "2025-12-31", "2025"),
        ("2025年", "2025-01-01", "2025-12-31", "2025"),
        ("2024-02", "2024-02-01", "2024-02-29", "2024-02"),
        ("2025/2", "2025-02-01", "2025-02-28", "2025-02"),
        ("202503", "2025-03-01", "2025-03-31", "2025-03"),
        ("2025年1月", "2025-01-01", "2025-01-31", "2025-01"),
        ("2025年12月", "2025-12-01", "2025-12-31", "2025-12"),
        ("2025-Q1", "2025-01-01", "2025-03-31", "2025-Q1"),
        ("2025Q4", "2025-10-01", "2025-12-31", "2025-Q4"),
        ("2025 q2", "2025-04-01", "2025-06-30", "2025-Q2"),
        ("2025年第一季度", "2025-01-01", "2025-03-31", "2025-Q1"),
        ("2025年第3季度", "2025-07-01", "2025-09-30", "2025-Q3"),
        ("2025年四季度", "2025-10-01", "2025-12-31", "2025-Q4"),
        ("２０２５－０６", "2025-06-01", "2025-06-30", "2025-06"),
        ("2025-06-15", "2025-06-15", "2025-06-15", "2025-06-15"),
    ])
    func periodFormats(raw: String, start: String, end: String, label: String) throws {
        let fields = try Fixture.record(.waste, ["district", "period", "collected_t", "harmless_t"],
                                        ["城关街道", raw, "100", "100"])
        #expect(fields["period_start"] == start)
        #expect(fields["period_end"] == end)
        #expect(fields["period_label"] == label)
    }

    @Test func periodFromStartAndEndColumns() throws {
        let fields = try Fixture.record(.sewage, ["plant_id", "开始日期", "结束日期", "污水排放量", "污水处理量"],
                                        ["WS001", "2026/1/1", "2026年1月15日", "1000", "990"])
        #expect(fields["period_start"] == "2026-01-01")
        #expect(fields["period_end"] == "2026-01-15")
        #expect(fields["period_label"] == "2026-01-01..2026-01-15")
    }

    @Test func periodEndingBeforeItStartsIsRejected() throws {
        let rejections = try Fixture.rejections(.sewage, ["plant_id", "period_start", "period_end",
                                                          "sewage_discharged_m3", "sewage_treated_m3"],
                                                ["WS001", "2026-02-01", "2026-01-31", "1000", "990"])
        #expect(rejections == [Rejection(line: 2, column: "period_end", value: "2026-01-31",
                                         reason: "the period ends before it starts")])
    }

    @Test(arguments: ["2026-02-30", "2026-01", "next week"])
    func badPeriodDaysAreRejected(raw: String) throws {
        let rejections = try Fixture.rejections(.sewage, ["plant_id", "period_start", "period_end",
                                                          "sewage_discharged_m3", "sewage_treated_m3"],
                                                ["WS001", raw, "2026-03-31", "1000", "990"])
        #expect(rejections == [Rejection(line: 2, column: "period_start", value: raw,
                                         reason: "not a date (write e.g. 2024-01-05)")])
    }

    @Test(arguments: ["2025-13", "2025-Q5", "2025年第五季度", "25-01", "一月", "2025/02/30", "Q1 2025"])
    func badPeriodsAreRejected(raw: String) throws {
        let rejections = try Fixture.rejections(.waste, ["district", "period", "collected_t", "harmless_t"],
                                                ["城关街道", raw, "100", "100"])
        #expect(rejections.map(\.column) == ["period"])
        #expect(rejections.first?.reason.hasPrefix("not a period") == true)
    }

    @Test func periodThatHasNotBegunIsRejected() throws {
        let rejections = try Fixture.rejections(.waste, ["district", "period", "collected_t", "harmless_t"],
                                                ["城关街道", "2027-01", "100", "100"])
        #expect(rejections.map(\.reason) == ["the period has not begun yet"])
    }
}
