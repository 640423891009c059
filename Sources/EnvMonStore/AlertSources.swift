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
