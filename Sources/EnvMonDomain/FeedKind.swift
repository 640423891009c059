/// The five kinds of feed the bureau uploads (FEEDS.md).
public enum FeedKind: String, CaseIterable, Sendable, Codable, Hashable {
    case emissions, sewage, water, green, waste

    /// The columns of this kind's staging table, in the order in which `StagingRecord.fields`
    /// carries them. Every field travels as PostgreSQL text input (`nil` is NULL):
    /// timestamps ISO 8601 with offset, dates `YYYY-MM-DD`, numbers in plain decimal,
    /// booleans `t`/`f`, `extra`/`items`/`below_detection` as JSON text.
    public var stagingColumns: [String] {
        switch self {
        case .emissions:
            return ["line", "enterprise_id", "enterprise_name", "district", "outlet_id", "pollutant",
                    "measured_at", "value", "below_detection", "unit", "limit_min", "limit_max",
                    "flag", "extra"]
        case .sewage:
            return ["line", "plant_id", "plant_name", "district", "period_start", "period_end",
                    "period_label", "sewage_discharged_m3", "sewage_treated_m3", "extra"]
        case .water:
            return ["line", "section_id", "section_name", "river", "river_level", "water_body",
                    "district", "sampled_at", "items", "below_detection", "reported_class",
                    "station_status", "extra"]
        case .green:
            return ["line", "district", "period_start", "period_end", "period_label",
                    "built_up_area_ha", "green_covered_area_ha", "park_green_area_ha",
                    "population", "extra"]
        case .waste:
            return ["line", "district", "period_start", "period_end", "period_label",
                    "collected_t", "harmless_t", "white_pollution_sites",
                    "white_pollution_remediated", "extra"]
        }
    }

    /// The staging columns that together identify a row (FEEDS.md "Natural key").
    public var naturalKey: [String] {
        switch self {
        case .emissions: return ["enterprise_id", "outlet_id", "pollutant", "measured_at"]
        case .sewage: return ["plant_id", "period_start", "period_end"]
        case .water: return ["section_id", "sampled_at"]
        case .green, .waste: return ["district", "period_start", "period_end"]
        }
    }
}

/// The container format of an upload.
public enum FeedFormat: String, CaseIterable, Sendable, Codable {
    case auto, csv, json, ndjson
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
