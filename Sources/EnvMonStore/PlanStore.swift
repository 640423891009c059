import Foundation
import Logging
import PostgresNIO

/// A plan target as `envmon.plan_target` holds it.
public struct StoredTarget: Sendable, Codable, Equatable {
    public var metric: String
    public var scope: String
    public var comparator: String
    public var value: String
    public var granularity: String
    public var due: String
    public var description: String?

    public init(metric: String, scope: String, comparator: String, value: String, granularity: String, due: String,
                description: String?) {
        self.metric = metric
        self.scope = scope
        self.comparator = comparator
        self.value = value
        self.granularity = granularity
        self.due = due
        self.description = description
    }
}

/// One row of `analytics.plan_progress`.
public struct PlanProgressRow: Sendable, Codable, Equatable {
    public var metric: String
    public var scope: String
    public var period: String?
    public var comparator: String
    public var target: String
    public var value: String?
    public var valuePct: String?
    public var gap: String?
    public var status: String
    public var due: String
    public var projected: String?
}

/// Plan targets, plan progress and metric values.
public struct PlanStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Replaces every target in one transaction.
    public func replaceTargets(_ targets: [StoredTarget]) async throws {
        try await database.client.withTransaction(logger: database.logger) { tx in
            try await tx.query("DELETE FROM envmon.plan_target", logger: database.logger)
            for t in targets {
                try await tx.query("""
                    INSERT INTO envmon.plan_target (metric, scope, comparator, value, granularity, due, description)
                    VALUES (\(t.metric), \(t.scope), \(t.comparator), \(t.value)::numeric, \(t.granularity),
                            \(t.due)::date, \(t.description))
                    """, logger: database.logger)
            }
        }
    }

    /// Loads `targets` only when the table is empty (a new database gets the plan's defaults).
    @discardableResult
    public func seedTargetsIfEmpty(_ targets: [StoredTarget]) async throws -> Bool {
        var count = 0
        for try await n in try await database.client.query(
            "SELECT count(*)::integer FROM envmon.plan_target", logger: database.logger).decode(Int.self) { count = n }
        guard count == 0, !targets.isEmpty else { return false }
        try await replaceTargets(targets)
        return true
    }

    public func targets() async throws -> [StoredTarget] {
        let rows = try await database.client.query("""
            SELECT metric, scope, comparator, value::text, granularity, due::text, description
            FROM envmon.plan_target ORDER BY id
            """, logger: database.logger)
        var result: [StoredTarget] = []
        for try await (metric, scope, comparator, value, granularity, due, description) in rows.decode(
            (String, String, String, String, String, String, String?).self) {
            result.append(StoredTarget(metric: metric, scope: scope, comparator: comparator, value: value,
                                       granularity: granularity, due: due, description: description))
        }
        return result
    }

    /// Plan progress: each target against its latest period with data.
    public func progress() async throws -> [PlanProgressRow] {
        let rows = try await database.client.query("""
            SELECT metric, scope, period, comparator, target::text, value::text, value_pct::text, gap::text, status,
                   due::text, projected::text
            FROM analytics.plan_progress
            """, logger: database.logger)
        var result: [PlanProgressRow] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            result.append(PlanProgressRow(
                metric: try r[0].decode(String.self), scope: try r[1].decode(String.self),
                period: try r[2].decode(String?.self), comparator: try r[3].decode(String.self),
                target: try r[4].decode(String.self), value: try r[5].decode(String?.self),
                valuePct: try r[6].decode(String?.self), gap: try r[7].decode(String?.self),
                status: try r[8].decode(String.self), due: try r[9].decode(String.self),
                projected: try r[10].decode(String?.self)))
        }
        return result
    }

    /// Plan progress as of a given period: the targets against that period's values.
    public func progress(period: String) async throws -> [PlanProgressRow] {
        let rows = try await database.client.query("""
            SELECT t.metric, t.scope, p.period, t.comparator, t.value::text, p.value::text, p.value_pct::text,
                   p.gap::text, coalesce(p.status, 'no_data'), t.due::text, p.projected::text
            FROM envmon.plan_target t
            LEFT JOIN analytics.plan_progress_by_period p ON p.target_id = t.id AND p.period = \(period)
            ORDER BY t.id
            """, logger: database.logger)
        var result: [PlanProgressRow] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            result.append(PlanProgressRow(
                metric: try r[0].decode(String.self), scope: try r[1].decode(String.self),
                period: try r[2].decode(String?.self) ?? period, comparator: try r[3].decode(String.self),
                target: try r[4].decode(String.self), value: try r[5].decode(String?.self),
                valuePct: try r[6].decode(String?.self), gap: try r[7].decode(String?.self),
                status: try r[8].decode(String.self), due: try r[9].decode(String.self),
                projected: try r[10].decode(String?.self)))
        }
        return result
    }

    /// Marks a site retired (no missing-data alerts) or active again.
    public func retireSite(kind: String?, id: String, reason: String?, retire: Bool) async throws -> Int {
        let rows = try await database.client.query("""
            UPDATE envmon.site SET retired_at = CASE WHEN \(retire) THEN now() ELSE NULL END,
                                   retired_reason = CASE WHEN \(retire) THEN \(reason) ELSE NULL END
            WHERE site_id = \(id) AND (\(kind)::text IS NULL OR kind = \(kind))
              AND kind <> 'outlet'
            RETURNING 1
            """, logger: database.logger)
        var count = 0
        for try await _ in rows.decode(Int.self) { count += 1 }
        return count
    }
}
