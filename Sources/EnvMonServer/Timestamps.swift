public import EnvMonDomain
public import Foundation

/// Times as envmon reads and prints them.
public enum Timestamps {
    /// ISO 8601 with or without fractional seconds; a bare date is local midnight in `zone`.
    public static func parse(_ text: String, zone: TimeZone = FeedTimeZone.defaultZone) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withFullDate]
        formatter.timeZone = zone
        return formatter.date(from: text)
    }

    /// `2026-04-02T09:00:00+08:00` in `zone` (`Z` for UTC).
    public static func iso8601(_ date: Date, zone: TimeZone = .gmt) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = zone
        return formatter.string(from: date)
    }
}
