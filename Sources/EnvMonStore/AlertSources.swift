import Foundation
import PostgresNIO

/// The analytics-view queries the alert evaluator reads, so an alert and an analyst's query of
/// the same view always agree. Every row comes back as text columns.
extension AlertTransaction {
    /// Plan targets in a status (`missed` or `at_risk`).
    public func planProgress(status: String) async throws -> [[String: String]] {
        var binds = PostgresBindings()
        binds.append(status)
        return try await rows("""
            SELECT metric, scope, period, comparator, target, value, value_pct, gap, status, due, projected
            FROM analytics.plan_progress WHERE status = $1
            """, binds: binds)
    }

    /// Days inside the window whose daily mean broke the limit.
    public func exceedances(sinceDay: String) async throws -> [[String: String]] {
        var binds = PostgresBindings()
        binds.append(sinceDay)
        return try await rows("""
            SELECT enterprise_id, enterprise_name, district, outlet_id, pollutant, day, mean, limit_min, limit_max
            FROM analytics.emission_exceedances WHERE day >= $1::date
            ORDER BY enterprise_id, outlet_id, pollutant, day
            """, binds: binds)
    }

    /// Second-level sections whose latest monthly class is worse than Ⅴ.
    public func sectionsWorseThanV() async throws -> [[String: String]] {
        try await rows("""
            SELECT * FROM (
                SELECT DISTINCT ON (section_id) section_id, section_name, river, district, river_level, period,
                       class, class_label, deciding_items
                FROM analytics.water_section_class
                WHERE granularity = 'month' AND class IS NOT NULL
                ORDER BY section_id, period_end DESC
            ) latest
            WHERE river_level = 2 AND class = 6
            """)
    }

    /// The latest data of every reporting place (retired places are not listed).
    public func siteFreshness() async throws -> [[String: String]] {
        try await rows("""
            SELECT feed_kind, site_kind, parent_id, site_id, site_name, district, last_data_at, last_day
            FROM analytics.site_freshness WHERE site_kind <> 'outlet'
            """)
    }

    /// Per feed kind that has ever been uploaded: the latest upload and data.
    public func feedFreshness() async throws -> [[String: String]] {
        try await rows("""
            SELECT feed_kind, last_received_at, last_loaded_at, last_data_at
            FROM analytics.feed_freshness WHERE last_received_at IS NOT NULL
            """)
    }

    /// The latest non-duplicate upload of each uploader and kind, with its rejected share: a
    /// corrected file from the same person resolves the alert its bad file raised.
    public func latestUploadQuality() async throws -> [[String: String]] {
        try await rows("""
            SELECT DISTINCT ON (kind, uploader) upload_id, kind, uploader, file_name, received_at, status,
                   rows_total, rows_rejected, rejected_share
            FROM analytics.uploads
            WHERE status IN ('loaded', 'failed') AND rows_total IS NOT NULL
            ORDER BY kind, uploader, upload_id DESC
            """)
    }

    /// The feed time zone (envmon.setting).
    public func feedTimeZone() async throws -> String {
        try await rows("SELECT envmon.feed_time_zone() AS tz").first?["tz"] ?? "Asia/Shanghai"
    }
}
