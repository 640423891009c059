public import EnvMonDomain
public import Foundation
import PostgresNIO

/// The analytics-view queries the alert evaluator reads, so an alert and an analyst's query of
/// the same view always agree. Every row is a typed view row (`ViewRows.swift`).
extension AlertTransaction {
    /// Plan targets in a status (`missed` or `at_risk`).
    public func planProgress(status: PlanStatus) async throws -> [PlanProgressRow] {
        var binds = PostgresBindings()
        binds.append(status.rawValue)
        return try await connection.viewRows(PlanProgressRow.self, "WHERE status = $1", binds: binds, logger: logger)
    }

    /// Days on or after `sinceDay` whose daily mean broke the limit, by series and day.
    public func exceedances(sinceDay: CivilDate) async throws -> [ExceedanceDay] {
        var binds = PostgresBindings()
        binds.append(sinceDay.description)
        return try await connection.viewRows(
            ExceedanceDay.self, "WHERE day >= $1::date ORDER BY enterprise_id, outlet_id, pollutant, day",
            binds: binds, logger: logger)
    }

    /// Each section's latest monthly class.
    public func latestMonthlySectionClasses() async throws -> [SectionClassRow] {
        try await connection.viewRows(
            SectionClassRow.self,
            "WHERE granularity = 'month' AND class IS NOT NULL ORDER BY section_id, period_end DESC",
            logger: logger
        ).latestPerSection()
    }

    /// The latest data of every reporting place but outlets (retired places are not listed).
    public func siteFreshness() async throws -> [SiteFreshnessRow] {
        try await connection.viewRows(SiteFreshnessRow.self, "WHERE site_kind <> 'outlet'", logger: logger)
    }

    /// Per feed kind that has ever been uploaded: the latest upload and data.
    public func feedFreshness() async throws -> [FeedFreshnessRow] {
        try await connection.viewRows(FeedFreshnessRow.self, "WHERE last_received_at IS NOT NULL", logger: logger)
    }

    /// The latest finished upload of each uploader and kind, with its rejected share: a
    /// corrected file from the same person resolves the alert its bad file raised.
    public func latestUploadQuality() async throws -> [UploadOutcomeRow] {
        let rows = try await connection.viewRows(
            UploadOutcomeRow.self,
            "WHERE status IN ('loaded', 'failed') AND rows_total IS NOT NULL ORDER BY kind, uploader, upload_id DESC",
            logger: logger)
        var seen: Set<[String]> = []
        return rows.filter { seen.insert([$0.kind.rawValue, $0.uploader]).inserted }
    }

    /// Active data loggers (analytics.device_status) silent since before `since`: the last
    /// accepted packet, or registration when none came.
    public func silentDevices(since: Date) async throws -> [SilentDevice] {
        let rows = try await connection.query("""
            SELECT mn, name, enterprise_id, outlet_id, last_packet_at, created_at
            FROM analytics.device_status
            WHERE active AND coalesce(last_packet_at, created_at) < \(since)
            ORDER BY mn
            """, logger: logger)
        var result: [SilentDevice] = []
        for try await (mn, name, enterprise, outlet, last, created)
            in rows.decode((String, String?, String, String, Date?, Date).self) {
            result.append(SilentDevice(mn: mn, name: name, enterpriseID: enterprise, outletID: outlet,
                                       lastPacketAt: last, registeredAt: created))
        }
        return result
    }

    /// Series (analytics.hourly_value_runs) whose latest valid values run equal (`constant`,
    /// positive values) or zero/negative for at least `minimum` readings.
    public func valueRuns(constant: Bool, minimum: Int) async throws -> [ValueRun] {
        let rows = try await connection.query("""
            SELECT enterprise_id, enterprise_name, district, outlet_id, pollutant, last_at, last_value,
                   CASE WHEN \(constant) THEN constant_count ELSE nonpositive_count END,
                   CASE WHEN \(constant) THEN constant_since ELSE nonpositive_since END
            FROM analytics.hourly_value_runs
            WHERE CASE WHEN \(constant) THEN last_value > 0 AND constant_count >= \(minimum)
                       ELSE nonpositive_count >= \(minimum) END
            ORDER BY enterprise_id, outlet_id, pollutant
            """, logger: logger)
        var result: [ValueRun] = []
        for try await (enterprise, name, district, outlet, pollutant, last, value, count, since)
            in rows.decode((String, String?, String?, String, String, Date, Double, Int, Date).self) {
            result.append(ValueRun(enterpriseID: enterprise, enterpriseName: name, district: district, outletID: outlet,
                                   pollutant: pollutant, lastAt: last, lastValue: value, count: count, since: since))
        }
        return result
    }

    /// The feed time zone (`envmon.setting`), the one that cuts local days.
    public func feedTimeZone() async throws -> TimeZone {
        try await FeedZone.read(on: connection, logger: logger)
    }
}

extension Array where Element == SectionClassRow {
    /// The first row of each section, rows ordered by section and newest period first.
    func latestPerSection() -> [SectionClassRow] {
        var seen: Set<String> = []
        return filter { seen.insert($0.sectionID).inserted }
    }
}

/// An active data logger that has been silent (analytics.device_status).
public struct SilentDevice: Sendable, Equatable {
    public var mn: String
    public var name: String?
    public var enterpriseID: String
    public var outletID: String
    public var lastPacketAt: Date?
    public var registeredAt: Date
}

/// The run of equal or non-positive valid values a series ends with (analytics.hourly_value_runs).
public struct ValueRun: Sendable, Equatable {
    public var enterpriseID: String
    public var enterpriseName: String?
    public var district: String?
    public var outletID: String
    public var pollutant: String
    public var lastAt: Date
    public var lastValue: Double
    public var count: Int
    public var since: Date
}
