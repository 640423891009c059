/// A civil date, validated (no 2024-02-30).
struct CivilDate: Sendable, Equatable, Comparable {
    var year: Int
    var month: Int
    var day: Int

    init?(year: Int, month: Int, day: Int) {
        guard (1900...2999).contains(year), (1...12).contains(month),
              (1...CivilDate.daysIn(month: month, year: year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `YYYY-MM-DD`.
    var iso: String { "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))" }

    static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return String(repeating: "0", count: max(0, width - text.count)) + text
}

/// A moment as written in a feed: local wall time plus the offset it is in.
struct FeedTimestamp: Sendable, Equatable {
    var date: CivilDate
    var hour: Int
    var minute: Int
    var second: Int
    /// Fraction of a second as written (digits after the point), kept verbatim.
    var fraction: String
    /// Offset from UTC in seconds.
    var offsetSeconds: Int

    /// Seconds since the Unix epoch.
    var epochSeconds: Int {
        date.daysSinceEpoch * 86_400 + hour * 3_600 + minute * 60 + second - offsetSeconds
    }

    /// ISO 8601 with offset: `2024-01-05T08:00:00+08:00`.
    var iso: String {
        let sign = offsetSeconds < 0 ? "-" : "+"
        let magnitude = abs(offsetSeconds)
        let frac = fraction.isEmpty ? "" : "." + fraction
        return "\(date.iso)T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))\(frac)"
            + "\(sign)\(pad(magnitude / 3_600, 2)):\(pad(magnitude % 3_600 / 60, 2))"
    }
}

/// Why a time could not be read.
enum TimeProblem: Error, Equatable {
    case unreadable
    case noYear
}

/// Reads the timestamp formats of FEEDS.md.
enum TimestampParser {
    /// Parses `raw`; times without an offset are local to `zoneOffset` (seconds east of UTC at a
    /// given UTC epoch second), and times without a year take `year` or fail with `.noYear`.
    static func parse(_ raw: String, year: Int?, zoneOffset: (Int) -> Int) throws(TimeProblem) -> FeedTimestamp {
        let text = TextFolding.trimmed(raw)
        var scanner = NumberScanner(text)
        guard let parts = scanner.fields() else { throw .unreadable }
        let numbers = parts.numbers
        var y: Int, mo: Int, d: Int, rest: ArraySlice<Int>
        if let first = numbers.first, parts.widths[0] == 4 {
            guard numbers.count >= 3 else { throw .unreadable }
            (y, mo, d) = (first, numbers[1], numbers[2])
            rest = numbers[3...]
        } else if parts.widths[0] == 8, numbers.count >= 1 {
            // 20240105 or 20240105 0800: compact dates as some loggers write them.
            let compact = numbers[0]
            (y, mo, d) = (compact / 10_000, compact / 100 % 100, compact % 100)
            rest = numbers[1...]
        } else if numbers.count >= 3, parts.widths.allSatisfy({ $0 <= 2 }) {
            // "04-01 12:00" as on the national release pages: month-day, no year.
            guard let given = year else { throw .noYear }
            (y, mo, d) = (given, numbers[0], numbers[1])
            rest = numbers[2...]
        } else {
            throw .unreadable
        }
        guard let date = CivilDate(year: y, month: mo, day: d) else { throw .unreadable }
        let clock = Array(rest)
        guard clock.count <= 3 else { throw .unreadable }
        let hour = clock.count > 0 ? clock[0] : 0
        let minute = clock.count > 1 ? clock[1] : 0
        let second = clock.count > 2 ? clock[2] : 0
        // 24:00 is not accepted: it is ambiguous between two days in the bureau's sheets.
        guard (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second) else {
            throw .unreadable
        }
        var stamp = FeedTimestamp(date: date, hour: hour, minute: minute, second: min(second, 59),
                                  fraction: parts.fraction, offsetSeconds: 0)
        if let offset = parts.offsetSeconds {
            stamp.offsetSeconds = offset
        } else {
            // Local wall time: find the offset in force at that moment (two passes settle DST edges).
            let guess = stamp.epochSeconds
            var offset = zoneOffset(guess)
            offset = zoneOffset(guess - offset)
            stamp.offsetSeconds = offset
        }
        return stamp
    }
}

/// Splits `2024/1/5 8:00`, `2024-01-05T08:00:00+08:00`, `2024年1月5日 8时` into numbers, a fraction
/// of a second and an optional offset, checking that only known separators appear.
struct NumberScanner {
    private let scalars: [Unicode.Scalar]
    private var index = 0

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    static let separators: Set<Unicode.Scalar> = ["-", "/", ".", " ", ":", "T", "t", "年", "月", "日", "时", "分", "秒", "点"]

    struct Fields {
        var numbers: [Int] = []
        var widths: [Int] = []
        var fraction = ""
        var offsetSeconds: Int?
    }

    mutating func fields() -> Fields? {
        var result = Fields()
        while index < scalars.count {
            let scalar = scalars[index]
            if let digit = digitValue(scalar) {
                var value = digit, width = 1
                index += 1
                while index < scalars.count, let next = digitValue(scalars[index]) {
                    value = value &* 10 &+ next
                    width += 1
                    index += 1
                }
                guard width <= 8 else { return nil }
                result.numbers.append(value)
                result.widths.append(width)
                // A "." after the seconds starts a fraction, not a date separator.
                if result.numbers.count == 6, index < scalars.count, scalars[index] == "." {
                    index += 1
                    var fraction = ""
                    while index < scalars.count, digitValue(scalars[index]) != nil {
                        fraction.unicodeScalars.append(scalars[index])
                        index += 1
                    }
                    guard !fraction.isEmpty, fraction.count <= 9 else { return nil }
                    result.fraction = fraction
                }
            } else if (scalar == "Z" || scalar == "z") && index == scalars.count - 1 {
                result.offsetSeconds = 0
                index += 1
            } else if scalar == "+" || scalar == "-", result.numbers.count >= 4 {
                guard let offset = offset() else { return nil }
                result.offsetSeconds = offset
            } else if NumberScanner.separators.contains(scalar) {
                // A date starts with a digit: `-2026-03-19` is not 2026-03-19.
                guard !result.numbers.isEmpty || scalar == " " else { return nil }
                index += 1
            } else {
                return nil
            }
        }
        return result.numbers.isEmpty ? nil : result
    }

    /// `+08:00`, `+0800`, `+08`, `-05:30` at the end of the text.
    private mutating func offset() -> Int? {
        let negative = scalars[index] == "-"
        index += 1
        var digits: [Int] = []
        while index < scalars.count {
            if let digit = digitValue(scalars[index]) { digits.append(digit) } else if scalars[index] != ":" { return nil }
            index += 1
        }
        guard digits.count == 2 || digits.count == 4 else { return nil }
        let hours = digits[0] * 10 + digits[1]
        let minutes = digits.count == 4 ? digits[2] * 10 + digits[3] : 0
        guard hours <= 14, minutes < 60 else { return nil }
        let seconds = hours * 3_600 + minutes * 60
        return negative ? -seconds : seconds
    }

    private func digitValue(_ scalar: Unicode.Scalar) -> Int? {
        scalar.value >= 48 && scalar.value <= 57 ? Int(scalar.value - 48) : nil
    }
}
