import Foundation

/// HJ 212 times: `yyyyMMddHHmmss` local time, some devices adding milliseconds (`…SSS`).
enum HJ212Time {
    /// The instant `text` names in `timeZone`; nil when it is not 14 or 17 digits or not a real
    /// local time there (Feb 30, 25:00, a time skipped by a daylight-saving change).
    static func parse(_ text: String, in timeZone: TimeZone) -> Date? {
        let digits = Array(text.utf8)
        guard digits.count == 14 || digits.count == 17,
            digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        func number(_ range: Range<Int>) -> Int {
            digits[range].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        }
        var components = DateComponents()
        components.year = number(0..<4)
        components.month = number(4..<6)
        components.day = number(6..<8)
        components.hour = number(8..<10)
        components.minute = number(10..<12)
        components.second = number(12..<14)
        let calendar = Self.calendar(timeZone)
        guard let date = calendar.date(from: components) else { return nil }
        let back = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        guard back.year == components.year, back.month == components.month, back.day == components.day,
            back.hour == components.hour, back.minute == components.minute, back.second == components.second
        else { return nil }
        let milliseconds = digits.count == 17 ? number(14..<17) : 0
        return date.addingTimeInterval(Double(milliseconds) / 1000)
    }

    /// `date` as `yyyyMMddHHmmss` (or with milliseconds) local time in `timeZone`.
    static func format(_ date: Date, in timeZone: TimeZone, milliseconds: Bool = false) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let whole = Date(timeIntervalSince1970: seconds)
        let parts = calendar(timeZone).dateComponents([.year, .month, .day, .hour, .minute, .second], from: whole)
        var text = pad(parts.year ?? 0, 4) + pad(parts.month ?? 0, 2) + pad(parts.day ?? 0, 2)
        text += pad(parts.hour ?? 0, 2) + pad(parts.minute ?? 0, 2) + pad(parts.second ?? 0, 2)
        if milliseconds {
            let millis = min(999, max(0, Int(((date.timeIntervalSince1970 - seconds) * 1000).rounded(.down))))
            text += pad(millis, 3)
        }
        return text
    }

    private static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// Decimal numbers as HJ 212 values carry them.
enum HJ212Number {
    /// A finite number written with digits, one optional sign, point and exponent; nil otherwise
    /// (so `nan`, `inf` and `0x1p3`, which `Double.init` takes, are refused).
    static func parse(_ text: String) -> Double? {
        let allowed = text.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
                || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
        }
        guard allowed, let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// The shortest text that reads back as `value` (whole numbers without a fraction).
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 {
            return String(Int64(value))
        }
        return String(value)
    }
}
