import Foundation
import Logging
import PostgresNIO

/// The reads the HTTP API needs beyond uploads and alerts: metric values and plan progress (rows
/// travel as JSON built by PostgreSQL, so that numbers keep their exact decimal form and the views
/// may gain columns without a code change), rejection counts, and the gauges of `/metrics`.
public struct ServiceQueries: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Rows of `analytics.metric_values`, filtered; a JSON array.
    public func metricValues(metric: String?, scope: String?, period: String?, limit: Int, offset: Int) async throws -> String {
        try await jsonArray(view: "analytics.metric_values", """
            SELECT coalesce(jsonb_agg(to_jsonb(v)), '[]'::jsonb)::text FROM (
                SELECT * FROM analytics.metric_values
                 WHERE (\(metric)::text IS NULL OR metric = \(metric))
                   AND (\(scope)::text IS NULL OR scope = \(scope))
                   AND (\(period)::text IS NULL OR period = \(period))
                 ORDER BY metric, scope, period_start, period_end
                 LIMIT \(limit) OFFSET \(offset)) v
            """)
    }

    /// Every plan target against its latest period: `analytics.plan_progress`; a JSON array.
    public func planProgress() async throws -> String {
        try await jsonArray(view: "analytics.plan_progress", """
            SELECT coalesce(jsonb_agg(to_jsonb(p)), '[]'::jsonb)::text FROM analytics.plan_progress p
            """)
    }

    /// How many rejections an upload has.
    public func rejectionCount(uploadID: Int64) async throws -> Int {
        var count = 0
        for try await value in try await database.client.query(
            "SELECT count(*)::integer FROM envmon.upload_rejection WHERE upload_id = \(uploadID)",
            logger: database.logger).decode(Int.self) {
            count = value
        }
        return count
    }

    /// Alerts by state and failed notifications, for `/metrics`.
    public func alertAndNotificationCounts() async throws -> (alerts: [String: Int], failedNotifications: Int) {
        var alerts: [String: Int] = ["pending": 0, "firing": 0, "resolved": 0]
        for try await (state, count) in try await database.client.query(
            "SELECT state, count(*)::integer FROM envmon.alert GROUP BY state", logger: database.logger
        ).decode((String, Int).self) {
            alerts[state] = count
        }
        var failed = 0
        for try await count in try await database.client.query(
            "SELECT count(*)::integer FROM envmon.notification_outbox WHERE status = 'failed'", logger: database.logger
        ).decode(Int.self) {
            failed = count
        }
        return (alerts, failed)
    }

    /// The one JSON text `query` returns (a missing view is `DatabaseFailure.missingRelation`).
    private func jsonArray(view: String, _ query: PostgresQuery) async throws -> String {
        var json = "[]"
        for try await text in try await database.client.query(query, logger: database.logger).decode(String.self) {
            json = text
        }
        return json
    }
}
