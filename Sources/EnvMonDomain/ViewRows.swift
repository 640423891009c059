public import Foundation

/// A column of an analytics view as PostgreSQL describes it (`format_type`), e.g.
/// `("gap", "numeric")`.
public struct ViewColumn: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var type: String

    public init(_ name: String, _ type: String) {
        self.name = name
        self.type = type
    }

    public var description: String { "\(name) \(type)" }
}

/// A typed row of one analytics view. The store selects `columns` by name and decodes each into
/// its Swift type; a test compares `columns` with the view's catalogue entry, so a renamed or
/// retyped view column fails the tests instead of turning into a nil at run time.
public protocol ViewRow: Sendable {
    /// The view, schema-qualified (`analytics.plan_progress`).
    static var view: String { get }
    /// The columns read, with the PostgreSQL type each must have.
    static var columns: [ViewColumn] { get }
}

/// `analytics.plan_progress`: each plan target against its latest period with data.
public struct PlanProgressRow: ViewRow, Codable, Equatable {
    public var metric: String
    public var scope: String
    /// The latest period with a value; nil with `no_data`.
    public var period: String?
    public var comparator: Comparator
    public var target: Decimal
    public var value: Decimal?
    public var valuePct: Decimal?
    /// value − target (negative: short of a `>=` target). The one meaning of "gap" everywhere.
    public var gap: Decimal?
    public var status: PlanStatus
    public var due: CivilDate
    /// The least-squares line's value at the due date (nil with fewer than three periods).
    public var projected: Decimal?

    public init(metric: String, scope: String, period: String?, comparator: Comparator, target: Decimal,
                value: Decimal?, valuePct: Decimal?, gap: Decimal?, status: PlanStatus, due: CivilDate,
                projected: Decimal?) {
        self.metric = metric
        self.scope = scope
        self.period = period
        self.comparator = comparator
        self.target = target
        self.value = value
        self.valuePct = valuePct
        self.gap = gap
        self.status = status
        self.due = due
        self.projected = projected
    }

    public static let view = "analytics.plan_progress"
    public static let columns = [
        ViewColumn("metric", "text"), ViewColumn("scope", "text"), ViewColumn("period", "text"),
        ViewColumn("comparator", "text"), ViewColumn("target", "numeric"), ViewColumn("value", "numeric"),
        ViewColumn("value_pct", "numeric"), ViewColumn("gap", "numeric"), ViewColumn("status", "text"),
        ViewColumn("due", "date"), ViewColumn("projected", "numeric"),
    ]
}

/// `analytics.emission_exceedances`: a day whose daily mean broke its limit.
public struct ExceedanceDay: ViewRow, Codable, Equatable {
    public var enterpriseID: String
    public var enterpriseName: String?
    public var district: String?
    public var outletID: String
    public var pollutant: String
    public var day: CivilDate
    public var mean: Double?
    public var limitMin: Double?
    public var limitMax: Double?

    public init(enterpriseID: String, enterpriseName: String?, district: String?, outletID: String, pollutant: String,
                day: CivilDate, mean: Double?, limitMin: Double?, limitMax: Double?) {
        self.enterpriseID = enterpriseID
        self.enterpriseName = enterpriseName
        self.district = district
        self.outletID = outletID
        self.pollutant = pollutant
        self.day = day
        self.mean = mean
        self.limitMin = limitMin
        self.limitMax = limitMax
    }

    public static let view = "analytics.emission_exceedances"
    public static let columns = [
        ViewColumn("enterprise_id", "text"), ViewColumn("enterprise_name", "text"), ViewColumn("district", "text"),
        ViewColumn("outlet_id", "text"), ViewColumn("pollutant", "text"), ViewColumn("day", "date"),
        ViewColumn("mean", "double precision"), ViewColumn("limit_min", "double precision"),
        ViewColumn("limit_max", "double precision"),
    ]
}

/// `analytics.water_section_class`: a section's class in one period (from the period means).
public struct SectionClassRow: ViewRow, Codable, Equatable {
    public var sectionID: String
    public var sectionName: String?
    public var river: String?
    public var district: String?
    public var riverLevel: Int?
    public var granularity: Granularity
    public var period: String
    public var periodStart: CivilDate
    public var periodEnd: CivilDate
    /// 1…6 (6 = 劣Ⅴ); nil when no assessed item was measured.
    public var waterClass: Int?
    public var classLabel: String?
    public var decidingItems: [String]?
    public var reportedClass: Int?

    public init(sectionID: String, sectionName: String?, river: String?, district: String?, riverLevel: Int?,
                granularity: Granularity, period: String, periodStart: CivilDate, periodEnd: CivilDate,
                waterClass: Int?, classLabel: String?, decidingItems: [String]?, reportedClass: Int?) {
        self.sectionID = sectionID
        self.sectionName = sectionName
        self.river = river
        self.district = district
        self.riverLevel = riverLevel
        self.granularity = granularity
        self.period = period
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.waterClass = waterClass
        self.classLabel = classLabel
        self.decidingItems = decidingItems
        self.reportedClass = reportedClass
    }

    public static let view = "analytics.water_section_class"
    public static let columns = [
        ViewColumn("section_id", "text"), ViewColumn("section_name", "text"), ViewColumn("river", "text"),
        ViewColumn("district", "text"), ViewColumn("river_level", "smallint"), ViewColumn("granularity", "text"),
        ViewColumn("period", "text"), ViewColumn("period_start", "date"), ViewColumn("period_end", "date"),
        ViewColumn("class", "smallint"), ViewColumn("class_label", "text"), ViewColumn("deciding_items", "text[]"),
        ViewColumn("reported_class", "smallint"),
    ]
}

/// `analytics.enterprise_compliance`: one enterprise in one month or year.
public struct EnterpriseComplianceRow: ViewRow, Codable, Equatable {
    public var enterpriseID: String
    public var enterpriseName: String?
    public var district: String?
    public var period: String
    public var periodStart: CivilDate
    /// Stably compliant: every judged day complied; nil when no day was judged.
    public var compliant: Bool?
    public var reportingDays: Int
    public var compliantDays: Int
    public var firstFailingDay: CivilDate?
    public var firstFailingPollutant: String?
    public var insufficientDays: Int

    public init(enterpriseID: String, enterpriseName: String?, district: String?, period: String, periodStart: CivilDate,
                compliant: Bool?, reportingDays: Int, compliantDays: Int, firstFailingDay: CivilDate?,
                firstFailingPollutant: String?, insufficientDays: Int) {
        self.enterpriseID = enterpriseID
        self.enterpriseName = enterpriseName
        self.district = district
        self.period = period
        self.periodStart = periodStart
        self.compliant = compliant
        self.reportingDays = reportingDays
        self.compliantDays = compliantDays
        self.firstFailingDay = firstFailingDay
        self.firstFailingPollutant = firstFailingPollutant
        self.insufficientDays = insufficientDays
    }

    public static let view = "analytics.enterprise_compliance"
    public static let columns = [
        ViewColumn("enterprise_id", "text"), ViewColumn("enterprise_name", "text"), ViewColumn("district", "text"),
        ViewColumn("period", "text"), ViewColumn("period_start", "date"), ViewColumn("compliant", "boolean"),
        ViewColumn("reporting_days", "integer"), ViewColumn("compliant_days", "integer"),
        ViewColumn("first_failing_day", "date"), ViewColumn("first_failing_pollutant", "text"),
        ViewColumn("insufficient_days", "integer"),
    ]
}

/// `analytics.site_freshness`: the latest data of one reporting place.
public struct SiteFreshnessRow: ViewRow, Codable, Equatable {
    public var feedKind: FeedKind
    /// enterprise, outlet, plant, section or district.
    public var siteKind: String
    public var parentID: String?
    public var siteID: String
    public var siteName: String?
    public var district: String?
    public var lastDataAt: Date?
    public var lastDay: CivilDate?

    public init(feedKind: FeedKind, siteKind: String, parentID: String?, siteID: String, siteName: String?,
                district: String?, lastDataAt: Date?, lastDay: CivilDate?) {
        self.feedKind = feedKind
        self.siteKind = siteKind
        self.parentID = parentID
        self.siteID = siteID
        self.siteName = siteName
        self.district = district
        self.lastDataAt = lastDataAt
        self.lastDay = lastDay
    }

    public static let view = "analytics.site_freshness"
    public static let columns = [
        ViewColumn("feed_kind", "text"), ViewColumn("site_kind", "text"), ViewColumn("parent_id", "text"),
        ViewColumn("site_id", "text"), ViewColumn("site_name", "text"), ViewColumn("district", "text"),
        ViewColumn("last_data_at", "timestamp with time zone"), ViewColumn("last_day", "date"),
    ]
}

/// `analytics.feed_freshness`: per feed kind, the latest upload and data.
public struct FeedFreshnessRow: ViewRow, Codable, Equatable {
    public var feedKind: FeedKind
    public var lastReceivedAt: Date?
    public var lastLoadedAt: Date?
    public var lastDataAt: Date?
    public var lastDay: CivilDate?
    public var sites: Int
    public var sitesWithData: Int

    public init(feedKind: FeedKind, lastReceivedAt: Date?, lastLoadedAt: Date?, lastDataAt: Date?, lastDay: CivilDate?,
                sites: Int, sitesWithData: Int) {
        self.feedKind = feedKind
        self.lastReceivedAt = lastReceivedAt
        self.lastLoadedAt = lastLoadedAt
        self.lastDataAt = lastDataAt
        self.lastDay = lastDay
        self.sites = sites
        self.sitesWithData = sitesWithData
    }

    public static let view = "analytics.feed_freshness"
    public static let columns = [
        ViewColumn("feed_kind", "text"), ViewColumn("last_received_at", "timestamp with time zone"),
        ViewColumn("last_loaded_at", "timestamp with time zone"), ViewColumn("last_data_at", "timestamp with time zone"),
        ViewColumn("last_day", "date"), ViewColumn("sites", "bigint"), ViewColumn("sites_with_data", "bigint"),
    ]
}

/// `analytics.uploads`: one upload with its outcome and rejected share.
public struct UploadOutcomeRow: ViewRow, Codable, Equatable {
    public var uploadID: Int64
    public var kind: FeedKind
    public var fileName: String?
    public var uploader: String
    public var receivedAt: Date
    public var status: UploadStatus
    public var rowsTotal: Int?
    public var rowsRejected: Int?
    /// Rejected rows ÷ data rows (total rows without skipped total rows).
    public var rejectedShare: Decimal?

    public init(uploadID: Int64, kind: FeedKind, fileName: String?, uploader: String, receivedAt: Date,
                status: UploadStatus, rowsTotal: Int?, rowsRejected: Int?, rejectedShare: Decimal?) {
        self.uploadID = uploadID
        self.kind = kind
        self.fileName = fileName
        self.uploader = uploader
        self.receivedAt = receivedAt
        self.status = status
        self.rowsTotal = rowsTotal
        self.rowsRejected = rowsRejected
        self.rejectedShare = rejectedShare
    }

    public static let view = "analytics.uploads"
    public static let columns = [
        ViewColumn("upload_id", "bigint"), ViewColumn("kind", "text"), ViewColumn("file_name", "text"),
        ViewColumn("uploader", "text"), ViewColumn("received_at", "timestamp with time zone"),
        ViewColumn("status", "text"), ViewColumn("rows_total", "integer"), ViewColumn("rows_rejected", "integer"),
        ViewColumn("rejected_share", "numeric"),
    ]
}

extension Decimal {
    /// The nearest Double (for charts, alert values and formatting).
    public var double: Double { NSDecimalNumber(decimal: self).doubleValue }
}
