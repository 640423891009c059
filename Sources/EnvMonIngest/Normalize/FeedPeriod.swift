/// A reporting period: inclusive first and last day and the label the views group by.
struct FeedPeriod: Sendable, Equatable {
    var start: CivilDate
    var end: CivilDate
    /// `YYYY`, `YYYY-MM`, `YYYY-Qn`, `YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD`.
    var label: String

    static func year(_ year: Int) -> FeedPeriod? {
        guard let start = CivilDate(year: year, month: 1, day: 1),
              let end = CivilDate(year: year, month: 12, day: 31) else { return nil }
        return FeedPeriod(start: start, end: end, label: pad(year, 4))
    }

    static func month(_ year: Int, _ month: Int) -> FeedPeriod? {
        guard (1...12).contains(month), let start = CivilDate(year: year, month: month, day: 1),
              let end = CivilDate(year: year, month: month, day: CivilDate.daysIn(month: month, year: year))
        else { return nil }
        return FeedPeriod(start: start, end: end, label: "\(pad(year, 4))-\(pad(month, 2))")
    }

    static func quarter(_ year: Int, _ quarter: Int) -> FeedPeriod? {
        guard (1...4).contains(quarter), let first = month(year, quarter * 3 - 2), let last = month(year, quarter * 3)
        else { return nil }
        return FeedPeriod(start: first.start, end: last.end, label: "\(pad(year, 4))-Q\(quarter)")
    }

    /// A period given by explicit first and last days (inclusive).
    static func span(_ start: CivilDate, _ end: CivilDate) -> FeedPeriod {
        FeedPeriod(start: start, end: end, label: "\(start.iso)..\(end.iso)")
    }
}

/// Reads the period formats of FEEDS.md: `2024`, `2024-01`, `2024-Q1`, `2024年1月`,
/// `2024年第一季度`, and a single day `2024-01-05`.
enum PeriodParser {
    private static let chineseDigits: [Character: Int] = ["一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4]

    static func parse(_ raw: String) -> FeedPeriod? {
        // Folded: full-width gone, lower case, no spaces ("2024 Q1" → "2024q1").
        var text = String(TextFolding.widthFolded(raw).lowercased().filter { !$0.isWhitespace })
        if text.hasSuffix("年度") { text.removeLast() }
        guard text.count >= 4, text.prefix(4).allSatisfy({ $0.isASCII && $0.isNumber }), let year = Int(text.prefix(4)) else { return nil }
        var rest = Substring(text.dropFirst(4))
        if rest.isEmpty { return .year(year) }
        if rest == "年" || rest == "年度" { return .year(year) }
        if rest.hasPrefix("年") { rest = rest.dropFirst() }
        rest = rest.drop(while: { $0 == "-" || $0 == "/" || $0 == "." })
        // Quarters: q1, 年第一季度, 年1季度, 年一季度.
        if rest.hasPrefix("q"), rest.count == 2, let quarter = rest.last.flatMap({ Int(String($0)) }) {
            return .quarter(year, quarter)
        }
        if rest.hasSuffix("季度") {
            var number = rest.dropLast(2)
            if number.hasPrefix("第") { number = number.dropFirst() }
            guard number.count == 1, let digit = number.first, let quarter = chineseDigits[digit] else { return nil }
            return .quarter(year, quarter)
        }
        // Months: 2024-01, 202401, 2024/01, 2024.1, 2024年1月; days: 2024-01-05, 2024年1月5日.
        let separators: Set<Character> = ["-", "/", ".", "月", "日"]
        let pieces = rest.split(whereSeparator: { separators.contains($0) }).map(String.init)
        let numbers = pieces.compactMap { Int($0) }
        guard numbers.count == pieces.count, !numbers.isEmpty else { return nil }
        if numbers.count == 1 {
            let piece = pieces[0]
            if piece.count <= 2 { return .month(year, numbers[0]) }
            if piece.count == 4, let month = Int(piece.prefix(2)), let day = Int(piece.suffix(2)),
               let date = CivilDate(year: year, month: month, day: day) {
                return FeedPeriod(start: date, end: date, label: date.iso)
            }
            return nil
        }
        if numbers.count == 2, let date = CivilDate(year: year, month: numbers[0], day: numbers[1]) {
            return FeedPeriod(start: date, end: date, label: date.iso)
        }
        return nil
    }

    /// A day for `period_start`/`period_end`: `2024-01-05`, `2024/1/5`, `2024年1月5日`.
    static func day(_ raw: String) -> CivilDate? {
        guard let period = parse(raw), period.start == period.end else { return nil }
        return period.start
    }
}
