/// One column of a feed kind's layout: what the normaliser fills, the staging table holds and the
/// fact table stores. Each kind's layout is written once (the `…Column` enums below); the
/// staging table, the loader's SQL (`FactTable`), the direct emissions encoder and the
/// normalisers all derive from it, and a database test checks the fact tables' DDL against it.
public struct FeedColumn: Sendable, Hashable {
    /// The PostgreSQL type a column has in staging and in its fact table, spelled as
    /// PostgreSQL's `format_type` prints it (so the catalogue test compares text with text).
    public enum StorageType: String, Sendable, Hashable {
        case integer, smallint, text, date, numeric, boolean, jsonb
        case timestamptz = "timestamp with time zone"
        case double = "double precision"
    }

    /// What a column is for.
    public enum Role: Sendable, Hashable {
        /// The row's 1-based line (CSV) or record index (JSON): kept with the stored row.
        case line
        /// Part of the natural key (FEEDS.md); together they identify a row.
        case key
        /// A stored value: a change supersedes the stored row and keeps the old one in history.
        case value
        /// Describes the place (name, river…): goes to the site registry, not the fact row.
        case site
        /// Unknown columns of the file as a JSON object.
        case extra
    }

    public let name: String
    public let type: StorageType
    public let role: Role

    public init(_ name: String, _ type: StorageType, _ role: Role) {
        self.name = name
        self.type = type
        self.role = role
    }
}

/// The columns of one feed kind, in staging order: an enum whose raw value is the position.
///
/// ```swift
/// let measuredAt = record[EmissionsColumn.measuredAt]
/// ```
public protocol FeedColumnSet: CaseIterable, Hashable, Sendable, RawRepresentable where RawValue == Int {
    var column: FeedColumn { get }
    /// The row's line (every layout has one).
    static var line: Self { get }
    /// The file's unknown columns as JSON (every layout has one).
    static var extra: Self { get }
}

extension FeedColumnSet {
    /// Position in `StagingRecord.fields` and in the staging table.
    @inlinable public var position: Int { rawValue }
    public var name: String { column.name }

    /// Every column of the set, in position order.
    public static var layout: [FeedColumn] { allCases.map(\.column) }

    /// A row's fields, all NULL, sized for this layout.
    public static func emptyFields() -> [String?] { Array(repeating: nil, count: allCases.count) }
}

/// `emissions`: one reading of one pollutant at one outlet (FEEDS.md).
public enum EmissionsColumn: Int, FeedColumnSet {
    case line, enterpriseID, enterpriseName, district, outletID, pollutant, measuredAt, value, belowDetection, unit,
         limitMin, limitMax, flag, corrected, o2, extra

    public var column: FeedColumn {
        switch self {
        case .line: FeedColumn("line", .integer, .line)
        case .enterpriseID: FeedColumn("enterprise_id", .text, .key)
        case .enterpriseName: FeedColumn("enterprise_name", .text, .site)
        case .district: FeedColumn("district", .text, .site)
        case .outletID: FeedColumn("outlet_id", .text, .key)
        case .pollutant: FeedColumn("pollutant", .text, .key)
        case .measuredAt: FeedColumn("measured_at", .timestamptz, .key)
        case .value: FeedColumn("value", .double, .value)
        case .belowDetection: FeedColumn("below_detection", .boolean, .value)
        case .unit: FeedColumn("unit", .text, .value)
        case .limitMin: FeedColumn("limit_min", .double, .value)
        case .limitMax: FeedColumn("limit_max", .double, .value)
        case .flag: FeedColumn("flag", .text, .value)
        // The O2-corrected concentration (折算) as the feed states it, in the value's unit.
        case .corrected: FeedColumn("corrected", .double, .value)
        // The flue gas's O2 (%) measured with the reading.
        case .o2: FeedColumn("o2", .double, .value)
        case .extra: FeedColumn("extra", .jsonb, .extra)
        }
    }

    /// The columns that name a series (the fact table keys readings by series and time).
    public static let seriesKey: [EmissionsColumn] = [.enterpriseID, .outletID, .pollutant]
}

/// `sewage`: one plant (or district) per period.
public enum SewageColumn: Int, FeedColumnSet {
    case line, plantID, plantName, district, periodStart, periodEnd, periodLabel, discharged, treated, extra

    public var column: FeedColumn {
        switch self {
        case .line: FeedColumn("line", .integer, .line)
        case .plantID: FeedColumn("plant_id", .text, .key)
        case .plantName: FeedColumn("plant_name", .text, .site)
        case .district: FeedColumn("district", .text, .value)
        case .periodStart: FeedColumn("period_start", .date, .key)
        case .periodEnd: FeedColumn("period_end", .date, .key)
        case .periodLabel: FeedColumn("period_label", .text, .value)
        case .discharged: FeedColumn("sewage_discharged_m3", .numeric, .value)
        case .treated: FeedColumn("sewage_treated_m3", .numeric, .value)
        case .extra: FeedColumn("extra", .jsonb, .extra)
        }
    }
}

/// `water`: one sample of one surface-water section.
public enum WaterColumn: Int, FeedColumnSet {
    case line, sectionID, sectionName, river, riverLevel, waterBody, district, sampledAt, items, belowDetection,
         reportedClass, stationStatus, extra

    public var column: FeedColumn {
        switch self {
        case .line: FeedColumn("line", .integer, .line)
        case .sectionID: FeedColumn("section_id", .text, .key)
        case .sectionName: FeedColumn("section_name", .text, .site)
        case .river: FeedColumn("river", .text, .site)
        case .riverLevel: FeedColumn("river_level", .smallint, .value)
        case .waterBody: FeedColumn("water_body", .text, .value)
        case .district: FeedColumn("district", .text, .value)
        case .sampledAt: FeedColumn("sampled_at", .timestamptz, .key)
        case .items: FeedColumn("items", .jsonb, .value)
        case .belowDetection: FeedColumn("below_detection", .jsonb, .value)
        case .reportedClass: FeedColumn("reported_class", .smallint, .value)
        case .stationStatus: FeedColumn("station_status", .text, .value)
        case .extra: FeedColumn("extra", .jsonb, .extra)
        }
    }
}

/// `green`: one district (or sub-district) per survey period.
public enum GreenColumn: Int, FeedColumnSet {
    case line, district, periodStart, periodEnd, periodLabel, builtUpArea, greenCoveredArea, parkGreenArea,
         population, extra

    public var column: FeedColumn {
        switch self {
        case .line: FeedColumn("line", .integer, .line)
        case .district: FeedColumn("district", .text, .key)
        case .periodStart: FeedColumn("period_start", .date, .key)
        case .periodEnd: FeedColumn("period_end", .date, .key)
        case .periodLabel: FeedColumn("period_label", .text, .value)
        case .builtUpArea: FeedColumn("built_up_area_ha", .numeric, .value)
        case .greenCoveredArea: FeedColumn("green_covered_area_ha", .numeric, .value)
        case .parkGreenArea: FeedColumn("park_green_area_ha", .numeric, .value)
        case .population: FeedColumn("population", .numeric, .value)
        case .extra: FeedColumn("extra", .jsonb, .extra)
        }
    }
}

/// `waste`: one district per period.
public enum WasteColumn: Int, FeedColumnSet {
    case line, district, periodStart, periodEnd, periodLabel, collected, harmless, whitePollutionSites,
         whitePollutionRemediated, extra

    public var column: FeedColumn {
        switch self {
        case .line: FeedColumn("line", .integer, .line)
        case .district: FeedColumn("district", .text, .key)
        case .periodStart: FeedColumn("period_start", .date, .key)
        case .periodEnd: FeedColumn("period_end", .date, .key)
        case .periodLabel: FeedColumn("period_label", .text, .value)
        case .collected: FeedColumn("collected_t", .numeric, .value)
        case .harmless: FeedColumn("harmless_t", .numeric, .value)
        case .whitePollutionSites: FeedColumn("white_pollution_sites", .integer, .value)
        case .whitePollutionRemediated: FeedColumn("white_pollution_remediated", .integer, .value)
        case .extra: FeedColumn("extra", .jsonb, .extra)
        }
    }
}

/// `permits`: the limit of one pollutant at one outlet from a date on (排污许可证). A change
/// supersedes with history like every kind; a new permit is a row with a later `valid_from`.
public enum PermitColumn: Int, FeedColumnSet {
    case line, enterpriseID, enterpriseName, outletID, pollutant, validFrom, validTo, limitMin, limitMax, unit,
         o2Reference, monitoring, extra

    public var column: FeedColumn {
        switch self {
        case .line: FeedColumn("line", .integer, .line)
        case .enterpriseID: FeedColumn("enterprise_id", .text, .key)
        case .enterpriseName: FeedColumn("enterprise_name", .text, .site)
        case .outletID: FeedColumn("outlet_id", .text, .key)
        case .pollutant: FeedColumn("pollutant", .text, .key)
        // `-infinity` when the permit names no start: in force since ever.
        case .validFrom: FeedColumn("valid_from", .date, .key)
        case .validTo: FeedColumn("valid_to", .date, .value)
        case .limitMin: FeedColumn("limit_min", .double, .value)
        case .limitMax: FeedColumn("limit_max", .double, .value)
        case .unit: FeedColumn("unit", .text, .value)
        case .o2Reference: FeedColumn("o2_reference", .double, .value)
        // `automatic` (自动, online) or `manual` (手工).
        case .monitoring: FeedColumn("monitoring", .text, .value)
        case .extra: FeedColumn("extra", .jsonb, .extra)
        }
    }
}

extension StagingRecord {
    /// The field of `column` (nil when NULL or when the record is not of that kind).
    @inlinable public subscript<C: FeedColumnSet>(_ column: C) -> String? {
        let position = column.position
        return position < fields.count ? fields[position] : nil
    }
}
