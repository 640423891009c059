/// Excel's date serials and number formats: which formats are dates, and what a serial means.
enum ExcelDates {
    /// Built-in number format ids that are dates or times: 14–22 and 45–47 everywhere, 27–36 and
    /// 50–58 in East Asian (zh-CN, ja, ko) Excel, where they are `yyyy"年"m"月"d"日"` and the like.
    static func isBuiltInDateFormat(_ id: Int) -> Bool {
        (14...22).contains(id) || (45...47).contains(id) || (27...36).contains(id) || (50...58).contains(id)
    }

    /// Whether a custom format code shows a date or time: it has y, m, d, h or s outside quoted
    /// literals, escapes and `[...]` sections (colours, locales, conditions), or an elapsed-time
    /// section `[h]`, `[mm]`, `[ss]`.
    static func isDateFormatCode(_ code: String) -> Bool {
        let scalars = Array(code.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "\"":
                index += 1
                while index < scalars.count && scalars[index] != "\"" { index += 1 }
            case "\\", "_", "*":
                index += 1
            case "[":
                var inner = ""
                index += 1
                while index < scalars.count && scalars[index] != "]" {
                    inner.unicodeScalars.append(scalars[index])
                    index += 1
                }
                let lower = inner.lowercased()
                if !lower.isEmpty && lower.allSatisfy({ $0 == "h" || $0 == "m" || $0 == "s" }) { return true }
            case ";":
                // Only the first section (positive numbers) decides.
                return false
            default:
                switch scalar {
                case "y", "Y", "m", "M", "d", "D", "h", "H", "s", "S": return true
                default: break
                }
            }
            index += 1
        }
        return false
    }

    /// The civil date and time for a serial, or nil when it has none: negative, past 9999-12-31,
    /// or serial 60 in the 1900 system, Excel's fictitious 1900-02-29.
    static func dateTime(serial: Double, date1904: Bool) -> XLSXDateTime? {
        guard serial.isFinite, serial >= 0, serial < 2_958_466 else { return nil }
        let totalSeconds = Int64((serial * 86400).rounded())
        var days = Int(totalSeconds / 86400)
        let seconds = Int(totalSeconds % 86400)
        let epochDays: Int
        if date1904 {
            epochDays = daysFromCivil(year: 1904, month: 1, day: 1)
        } else {
            // Excel counts 1900-02-29, which never existed: serials from 61 on are one day ahead.
            if days == 60 { return nil }
            if days < 60 { days += 1 }
            epochDays = daysFromCivil(year: 1899, month: 12, day: 30)
        }
        let (year, month, day) = civilFromDays(epochDays + days)
        return XLSXDateTime(
            year: year, month: month, day: day, hour: seconds / 3600, minute: seconds / 60 % 60, second: seconds % 60)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01.
    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Parses the ISO 8601 text of a `t="d"` cell (strict OOXML): `2024-01-05`, `2024-01-05T08:30:00`.
    static func parseISO(_ text: String) -> XLSXDateTime? {
        let digits = text.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        let hasDate = text.count >= 10 && text.dropFirst(4).first == "-"
        if hasDate, digits.count >= 3 {
            let (y, mo, d) = (digits[0], digits[1], digits[2])
            guard (1...12).contains(mo), (1...31).contains(d) else { return nil }
            let h = digits.count > 3 ? digits[3] : 0
            let mi = digits.count > 4 ? digits[4] : 0
            let s = digits.count > 5 ? digits[5] : 0
            guard h < 24, mi < 60, s < 61 else { return nil }
            return XLSXDateTime(year: y, month: mo, day: d, hour: h, minute: mi, second: min(s, 59))
        }
        return nil
    }
}
