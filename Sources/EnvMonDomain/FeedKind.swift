public import Foundation

/// The kinds of feed the bureau uploads (FEEDS.md): five kinds of data, and the discharge
/// permits that hold the emissions' legal limits.
public enum FeedKind: String, CaseIterable, Sendable, Codable, Hashable {
    case emissions, sewage, water, green, waste, permits

    /// The columns of this kind, in staging order (`FeedColumns.swift` writes each layout once).
    public var columns: [FeedColumn] {
        switch self {
        case .emissions: EmissionsColumn.layout
        case .sewage: SewageColumn.layout
        case .water: WaterColumn.layout
        case .green: GreenColumn.layout
        case .waste: WasteColumn.layout
        case .permits: PermitColumn.layout
        }
    }

    /// The columns of this kind's staging table, in the order in which `StagingRecord.fields`
    /// carries them. Every field travels as PostgreSQL text input (`nil` is NULL):
    /// timestamps ISO 8601 with offset, dates `YYYY-MM-DD`, numbers in plain decimal,
    /// booleans `t`/`f`, `extra`/`items`/`below_detection` as JSON text.
    public var stagingColumns: [String] { columns.map(\.name) }

    /// The staging columns that together identify a row (FEEDS.md "Natural key").
    public var naturalKey: [String] { columns.filter { $0.role == .key }.map(\.name) }

    /// The position of the column named `name`, if the kind has one.
    public func position(of name: String) -> Int? { columns.firstIndex { $0.name == name } }
}

/// The container format of an upload.
public enum FeedFormat: String, CaseIterable, Sendable, Codable {
    case auto, csv, json, ndjson, xlsx
}

/// The text encoding of an upload, as declared or detected.
public enum FeedEncoding: String, CaseIterable, Sendable, Codable {
    case auto
    case utf8 = "utf-8"
    case gb18030
    case utf16le = "utf-16le"
    case utf16be = "utf-16be"
}

/// One normalised row ready for COPY into the kind's staging table.
public struct StagingRecord: Sendable, Equatable {
    /// 1-based line number of the row's first line (CSV) or 1-based record index (JSON/NDJSON).
    public var line: Int
    /// Values for `FeedKind.stagingColumns`, in order; `fields[0]` is the line as text.
    public var fields: [String?]

    public init(line: Int, fields: [String?]) {
        self.line = line
        self.fields = fields
    }
}

/// Why one row (or record) of an upload was not loaded.
public struct Rejection: Sendable, Equatable, Codable {
    /// 1-based line (CSV) or record index (JSON/NDJSON).
    public var line: Int
    /// The column as the file names it (its header text), or nil when the whole row is at fault.
    public var column: String?
    /// The raw value as it appeared in the file.
    public var value: String?
    /// A reason in plain words, e.g. "not a number", "in the future by more than a day".
    public var reason: String

    public init(line: Int, column: String?, value: String?, reason: String) {
        self.line = line
        self.column = column
        self.value = value
        self.reason = reason
    }
}

/// The feed time zone: the zone of times written without an offset, and the zone that cuts
/// local days in the views (`envmon.setting` `feed_time_zone`; migrations seed it with the
/// default below, and a test checks they agree).
public enum FeedTimeZone {
    /// The bureau's zone when nothing else is set.
    public static let defaultIdentifier = "Asia/Shanghai"

    /// `defaultIdentifier` as a zone (UTC+8 should the zone database lack it).
    public static var defaultZone: TimeZone {
        TimeZone(identifier: defaultIdentifier) ?? TimeZone(secondsFromGMT: 8 * 3_600) ?? .gmt
    }
}
