public import EnvMonDomain
import Foundation
import Logging
import PostgresNIO

/// Plan targets, plan progress and metric values.
public struct PlanStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Replaces every target in one transaction.
    public func replaceTargets(_ targets: [PlanTarget]) async throws {
        try await database.client.withTransaction(logger: database.logger) { tx in
            try await tx.query("DELETE FROM envmon.plan_target", logger: database.logger)
            for t in targets {
                try await tx.query("""
                    INSERT INTO envmon.plan_target (metric, scope, comparator, value, granularity, due, description)
                    VALUES (\(t.metric), \(t.scope), \(t.comparator.rawValue), \(t.value.description)::numeric,
                            \(t.granularity.rawValue), \(t.due.description)::date, \(t.description))
                    """, logger: database.logger)
            }
        }
    }

    /// Loads `targets` only when the table is empty (a new database gets the plan's defaults).
    @discardableResult
    public func seedTargetsIfEmpty(_ targets: [PlanTarget]) async throws -> Bool {
        var count = 0
        for try await n in try await database.client.query(
            "SELECT count(*)::integer FROM envmon.plan_target", logger: database.logger).decode(Int.self) { count = n }
        guard count == 0, !targets.isEmpty else { return false }
        try await replaceTargets(targets)
        return true
    }

    public func targets() async throws -> [PlanTarget] {
        let rows = try await database.client.query("""
            SELECT metric, scope, comparator, value, granularity, due, description
            FROM envmon.plan_target ORDER BY id
            """, logger: database.logger)
        var result: [PlanTarget] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            result.append(PlanTarget(
                metric: try r["metric"].decode(String.self), scope: try r["scope"].decode(String.self),
                comparator: try r.word("comparator", Comparator.self, view: "envmon.plan_target"),
                value: try r["value"].decode(Decimal.self),
                granularity: try r.word("granularity", Granularity.self, view: "envmon.plan_target"),
                due: try r.civilDate("due"), description: try r["description"].decode(String?.self)))
        }
        return result
    }

    /// Plan progress: each target against its latest period with data.
    public func progress() async throws -> [PlanProgressRow] {
        try await database.viewRows(PlanProgressRow.self)
    }

    /// Plan progress as of a given period: the targets against that period's values.
    public func progress(period: String) async throws -> [PlanProgressRow] {
        let rows = try await database.client.query("""
            SELECT t.metric, t.scope, coalesce(p.period, \(period)) AS period, t.comparator, t.value AS target,
                   p.value, p.value_pct, p.gap, coalesce(p.status, 'no_data') AS status, t.due, p.projected
            FROM envmon.plan_target t
            LEFT JOIN analytics.plan_progress_by_period p ON p.target_id = t.id AND p.period = \(period)
            ORDER BY t.id
            """, logger: database.logger)
        var result: [PlanProgressRow] = []
        for try await row in rows { result.append(try PlanProgressRow(row.makeRandomAccess())) }
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
