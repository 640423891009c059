public import Foundation

/// One period of a plan target's metric for the whole district
/// (`analytics.plan_progress_by_period`), for the overview's trend charts.
public struct PlanPoint: Sendable, Equatable {
    public var metric: String
    public var period: String
    public var periodStart: CivilDate
    public var periodEnd: CivilDate
    public var value: Double
    /// The view's least-squares projection to the due date from the six periods up to this one.
    public var projected: Double?

    public init(metric: String, period: String, periodStart: CivilDate, periodEnd: CivilDate, value: Double, projected: Double?) {
        self.metric = metric
        self.period = period
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.value = value
        self.projected = projected
    }

    /// The period's middle as a day number: the x of the view's regression.
    public var middle: Double {
        Double(periodStart.dayNumber) + Double(periodEnd.dayNumber - periodStart.dayNumber) / 2
    }
}

/// A plan metric's latest value in one sub-district, judged against the district's target
/// (`analytics.plan_progress_by_scope`).
public struct DistrictCell: Sendable, Equatable {
    public var metric: String
    public var scope: String
    public var period: String
    public var value: Double
    /// met, at_risk (met, but its own trend misses by the due date) or missed.
    public var status: PlanStatus

    public init(metric: String, scope: String, period: String, value: Double, status: PlanStatus) {
        self.metric = metric
        self.scope = scope
        self.period = period
        self.value = value
        self.status = status
    }
}

/// The overview's counts: firing alerts (and how many critical), places overdue of all places.
public struct OverviewCounts: Sendable, Equatable {
    public var firing: Int
    public var critical: Int
    public var overdue: Int
    public var places: Int

    public init(firing: Int, critical: Int, overdue: Int, places: Int) {
        self.firing = firing
        self.critical = critical
        self.overdue = overdue
        self.places = places
    }
}

/// One series-day of an enterprise (`analytics.emission_daily`), for its page's charts.
public struct EmissionDayPoint: Sendable, Equatable {
    public var enterpriseName: String?
    public var district: String?
    public var outletID: String
    public var pollutant: String
    public var day: CivilDate
    /// The judged daily mean (O2-corrected where the permit says so); nil with no valid value.
    public var mean: Double?
    public var limitMin: Double?
    public var limitMax: Double?
    /// false: over the limit; nil: not judged (`unjudgedReason`).
    public var compliant: Bool?
    public var unjudgedReason: String?

    public init(enterpriseName: String?, district: String?, outletID: String, pollutant: String, day: CivilDate, mean: Double?,
                limitMin: Double?, limitMax: Double?, compliant: Bool?, unjudgedReason: String?) {
        self.enterpriseName = enterpriseName
        self.district = district
        self.outletID = outletID
        self.pollutant = pollutant
        self.day = day
        self.mean = mean
        self.limitMin = limitMin
        self.limitMax = limitMax
        self.compliant = compliant
        self.unjudgedReason = unjudgedReason
    }
}

/// One sample of a section (`analytics.water_sample_class`), for its page.
public struct SectionSample: Sendable, Equatable {
    public var sectionName: String?
    public var river: String?
    public var district: String?
    public var day: CivilDate
    public var sampledAt: Date
    public var classLabel: String?
    public var reportedLabel: String?
    /// Item id (as in `analytics.gb3838_limits`) → value.
    public var items: [String: Double]

    public init(sectionName: String?, river: String?, district: String?, day: CivilDate, sampledAt: Date, classLabel: String?,
                reportedLabel: String?, items: [String: Double]) {
        self.sectionName = sectionName
        self.river = river
        self.district = district
        self.day = day
        self.sampledAt = sampledAt
        self.classLabel = classLabel
        self.reportedLabel = reportedLabel
        self.items = items
    }
}

/// A GB 3838 item with its class Ⅴ bound for rivers: the line a section must stay within.
public struct WaterItemBound: Sendable, Equatable {
    public var itemID: String
    /// The row of GB 3838 Table 1 ("8", "8b").
    public var itemNo: String
    public var chinese: String
    public var english: String
    public var unit: String?
    public var lower: Double?
    public var upper: Double?

    public init(itemID: String, itemNo: String, chinese: String, english: String, unit: String?, lower: Double?, upper: Double?) {
        self.itemID = itemID
        self.itemNo = itemNo
        self.chinese = chinese
        self.english = english
        self.unit = unit
        self.lower = lower
        self.upper = upper
    }
}

/// One data logger as `analytics.device_status` shows it, for the console's 在线监测 page.
public struct DeviceStatusRow: Sendable, Equatable {
    public var mn: String
    public var name: String?
    public var enterpriseID: String
    public var outletID: String
    public var active: Bool
    public var online: Bool
    public var lastPacketAt: Date?
    public var storedToday: Int
    public var duplicateToday: Int
    /// Bad CRC, bad password, malformed and unsupported packets today.
    public var refusedToday: Int
    public var validHoursToday: Int
    public var hoursDueToday: Int
    public var effectiveRate: Double?

    public init(mn: String, name: String?, enterpriseID: String, outletID: String, active: Bool, online: Bool, lastPacketAt: Date?,
                storedToday: Int, duplicateToday: Int, refusedToday: Int, validHoursToday: Int, hoursDueToday: Int,
                effectiveRate: Double?) {
        self.mn = mn
        self.name = name
        self.enterpriseID = enterpriseID
        self.outletID = outletID
        self.active = active
        self.online = online
        self.lastPacketAt = lastPacketAt
        self.storedToday = storedToday
        self.duplicateToday = duplicateToday
        self.refusedToday = refusedToday
        self.validHoursToday = validHoursToday
        self.hoursDueToday = hoursDueToday
        self.effectiveRate = effectiveRate
    }
}

/// A packet that was not stored (`analytics.hj212_packets`): when, from where, and why.
public struct RefusedPacketRow: Sendable, Equatable {
    public var receivedAt: Date
    public var peer: String?
    public var mn: String?
    public var cn: String?
    public var outcome: String
    public var detail: String?

    public init(receivedAt: Date, peer: String?, mn: String?, cn: String?, outcome: String, detail: String?) {
        self.receivedAt = receivedAt
        self.peer = peer
        self.mn = mn
        self.cn = cn
        self.outcome = outcome
        self.detail = detail
    }
}
