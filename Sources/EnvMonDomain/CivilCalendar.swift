/// Proleptic Gregorian day arithmetic without Foundation's calendars (H. Hinnant's algorithms):
/// fast enough for every row of a feed, and the same everywhere a day is cut.
public enum CivilCalendar {
    /// Days since 1970-01-01 of a date.
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date of a day number (days since 1970-01-01).
    public static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Quotient rounded toward negative infinity, and the matching non-negative remainder.
    public static func floorDivide(_ value: Int, by divisor: Int) -> (quotient: Int, remainder: Int) {
        let (q, r) = value.quotientAndRemainder(dividingBy: divisor)
        return r < 0 ? (q - 1, r + divisor) : (q, r)
    }
}

extension CivilDate {
    /// Days since 1970-01-01.
    public var dayNumber: Int { CivilCalendar.daysFromCivil(year: year, month: month, day: day) }

    public init(dayNumber: Int) {
        let (year, month, day) = CivilCalendar.civil(fromDays: dayNumber)
        self.init(year: year, month: month, day: day)
    }
}
