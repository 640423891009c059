import Foundation
import Logging
import PostgresNIO

/// A view of the `analytics` schema is missing (views not created yet, or being recreated).
public struct AnalyticsUnavailable: Error, Sendable, CustomStringConvertible {
    public let view: String
    public var description: String {
        "the view \(view) does not exist in this database; run `envmon migrate` to create the analytics views"
    }
}

/// What acknowledging an alert found.
public enum AlertAckResult: Sendable, Equatable {
    /// The alert as JSON after the acknowledgement.
    case acknowledged(json: String)
    case notFound
    case resolved
}

/// The reads and the one write the HTTP API needs beyond uploads: metric values, plan progress,
/// alerts and their acknowledgement. Rows travel as JSON built by PostgreSQL, so that numbers
/// keep their exact decimal form and the views may gain columns without a code change.
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

    static let alertColumns = """
        id, fingerprint, rule, kind, severity, state, labels, annotations, value, target, active_since, fired_at,
        resolved_at, last_seen_active, acked_by, acked_at, ack_note, created_at, updated_at
        """

    /// Alerts, newest first, optionally of one state; a JSON array.
    public func alerts(state: String?, limit: Int) async throws -> String {
        try await jsonArray(view: "envmon.alert", PostgresQuery(unsafeSQL: """
            SELECT coalesce(jsonb_agg(to_jsonb(a) ORDER BY a.id DESC), '[]'::jsonb)::text FROM (
                SELECT \(Self.alertColumns) FROM envmon.alert
                 WHERE ($1::text IS NULL OR state = $1) ORDER BY id DESC LIMIT $2) a
            """, binds: try Self.binds(state, limit)))
    }

    /// Records who acknowledged an open alert, with a note, and appends an `ack` event.
    public func acknowledge(alertID: Int64, by actor: String, note: String?) async throws -> AlertAckResult {
        let logger = database.logger
        return try await database.client.withTransaction(logger: logger) { tx in
            var state: String?
            for try await found in try await tx.query(
                "SELECT state FROM envmon.alert WHERE id = \(alertID) FOR UPDATE", logger: logger).decode(String.self) {
                state = found
            }
            guard let state else { return .notFound }
            if state == "resolved" { return .resolved }
            try await tx.query("""
                UPDATE envmon.alert SET acked_by = \(actor), acked_at = now(), ack_note = \(note), updated_at = now()
                 WHERE id = \(alertID)
                """, logger: logger)
            let object: [String: String] = note.map { ["note": $0] } ?? [:]
            let details = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            try await tx.query("""
                INSERT INTO envmon.alert_event (alert_id, at, from_state, to_state, event, actor, details)
                VALUES (\(alertID), now(), \(state), \(state), 'ack', \(actor), \(details)::jsonb)
                """, logger: logger)
            var json = "{}"
            for try await text in try await tx.query(PostgresQuery(unsafeSQL: """
                SELECT to_jsonb(a)::text FROM (SELECT \(Self.alertColumns) FROM envmon.alert WHERE id = $1) a
                """, binds: try Self.binds(alertID)), logger: logger).decode(String.self) {
                json = text
            }
            return .acknowledged(json: json)
        }
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

    private func jsonArray(view: String, _ query: PostgresQuery) async throws -> String {
        do {
            var json = "[]"
            for try await text in try await database.client.query(query, logger: database.logger).decode(String.self) {
                json = text
            }
            return json
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P01" {
            throw AnalyticsUnavailable(view: view)
        }
    }

    private static func binds(_ values: (any PostgresEncodable & Sendable)?...) throws -> PostgresBindings {
        var binds = PostgresBindings()
        for value in values {
            if let value { try binds.append(value) } else { binds.appendNull() }
        }
        return binds
    }
}
