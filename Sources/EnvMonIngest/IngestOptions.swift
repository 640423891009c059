public import Foundation
public import EnvMonDomain

/// How one upload is to be read: its kind and the facts the file itself cannot tell.
///
/// ```swift
/// let options = IngestOptions(kind: .water, year: 2021)
/// ```
public struct IngestOptions: Sendable {
    /// The kind of feed the upload was declared as.
    public var kind: FeedKind
    /// The time zone of times written without an offset (the feed time zone setting unless the
    /// upload names one).
    public var timeZone: TimeZone
    /// The year for times that carry none (`04-01 12:00` on the national release pages).
    public var year: Int?
    /// The moment against which "in the future by more than a day" is judged.
    public var now: Date
    /// The CSV delimiter when the uploader named one (otherwise the reader detects it).
    public var delimiter: UInt8?
    /// The sheet of an `.xlsx` upload, by name or 1-based number (otherwise the first sheet whose
    /// header fits the kind).
    public var sheet: String?

    /// Options for an upload of `kind`; the defaults suit the bureau's own spreadsheets.
    public init(
        kind: FeedKind,
        timeZone: TimeZone = FeedTimeZone.defaultZone,
        year: Int? = nil,
        now: Date = Date(),
        delimiter: UInt8? = nil,
        sheet: String? = nil
    ) {
        self.kind = kind
        self.timeZone = timeZone
        self.year = year
        self.now = now
        self.delimiter = delimiter
        self.sheet = sheet
    }
}
