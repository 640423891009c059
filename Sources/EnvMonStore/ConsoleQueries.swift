public import EnvMonDomain
public import Foundation
import PostgresNIO

/// What the console's pages read: the same typed view rows as alerts and analysts.
public struct ConsoleQueries: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Every reporting place but outlets, those without data first, then the longest silent.
    public func siteFreshness() async throws -> [SiteFreshnessRow] {
        try await database.viewRows(
            SiteFreshnessRow.self,
            "WHERE site_kind <> 'outlet' ORDER BY last_data_at ASC NULLS FIRST, feed_kind, site_id LIMIT 2000")
    }

    /// Each section's monthly classes from `firstMonth` on.
    public func monthlySectionClasses(from firstMonth: CivilDate) async throws -> [SectionClassRow] {
        var binds = PostgresBindings()
        binds.append(firstMonth.description)
        return try await database.viewRows(
            SectionClassRow.self,
            "WHERE granularity = 'month' AND period_start >= $1::date ORDER BY section_id, period_start LIMIT 20000",
            binds: binds)
    }

    /// Each enterprise's monthly compliance from `firstMonth` on.
    public func monthlyCompliance(from firstMonth: CivilDate) async throws -> [EnterpriseComplianceRow] {
        var binds = PostgresBindings()
        binds.append(firstMonth.description)
        return try await database.viewRows(
            EnterpriseComplianceRow.self,
            "WHERE period ~ '^[0-9]{4}-[0-9]{2}$' AND period_start >= $1::date ORDER BY enterprise_id, period_start LIMIT 20000",
            binds: binds)
    }

    /// Everything the overview shows but the counts, from ONE evaluation of the metrics
    /// (`analytics.plan_progress_by_scope`, materialised once): the targets' rows exactly as
    /// `analytics.plan_progress` defines them (each target's latest period in its own scope,
    /// no_data without one), each district-wide target's periods for its trend chart, and each
    /// sub-district's latest value against the district's target.
    public func overview() async throws -> (plan: [PlanProgressRow], points: [PlanPoint], cells: [DistrictCell]) {
        let rows = try await database.client.query("""
            WITH s AS MATERIALIZED (SELECT * FROM analytics.plan_progress_by_scope),
            latest AS (
                SELECT DISTINCT ON (target_id) * FROM s WHERE scope = target_scope
                ORDER BY target_id, period_end DESC, period_start DESC
            ), district AS (
                SELECT DISTINCT ON (target_id, scope) * FROM s WHERE target_scope = 'all' AND scope <> 'all'
                ORDER BY target_id, scope, period_end DESC, period_start DESC
            )
            SELECT 'plan' AS part, 0 AS position, t.metric, t.scope, l.period, t.comparator, t.value AS target,
                   l.value, l.value_pct, l.gap, coalesce(l.status, 'no_data') AS status, t.due, l.projected,
                   l.period_start, l.period_end, m.sort_order
            FROM envmon.plan_target t
            LEFT JOIN envmon.metric m ON m.metric = t.metric
            LEFT JOIN latest l ON l.target_id = t.id
            UNION ALL
            SELECT 'trend', 1, metric, scope, period, comparator, target, value, value_pct, gap, status, due, projected,
                   period_start, period_end, sort_order
            FROM s WHERE scope = target_scope AND target_scope = 'all'
            UNION ALL
            SELECT 'district', 2, metric, scope, period, comparator, target, value, value_pct, gap, status, due, projected,
                   period_start, period_end, sort_order
            FROM district
            ORDER BY position, sort_order, scope, period_end, period_start
            LIMIT 100000
            """, logger: database.logger)
        var plan: [PlanProgressRow] = [], points: [PlanPoint] = [], cells: [DistrictCell] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            let part = try r["part"].decode(String.self)
            let progress = try PlanProgressRow(r)
            switch part {
            case "plan":
                plan.append(progress)
            case "trend":
                guard let value = progress.value, let start = try r.optionalCivilDate("period_start"),
                      let end = try r.optionalCivilDate("period_end") else { continue }
                points.append(PlanPoint(metric: progress.metric, period: progress.period ?? "", periodStart: start, periodEnd: end,
                                        value: NSDecimalNumber(decimal: value).doubleValue,
                                        projected: progress.projected.map { NSDecimalNumber(decimal: $0).doubleValue }))
            default:
                guard let value = progress.value else { continue }
                cells.append(DistrictCell(metric: progress.metric, scope: progress.scope, period: progress.period ?? "",
                                          value: NSDecimalNumber(decimal: value).doubleValue, status: progress.status))
            }
        }
        return (plan, points, cells)
    }

    /// Firing alerts and places whose feed's cadence has passed since their latest data (never
    /// reported counts as overdue) — the same judgement as the 数据完整性 page.
    public func counts(cadence: [FeedKind: Double], now: Date) async throws -> OverviewCounts {
        let seconds = "{" + cadence.map { "\"\($0.key.rawValue)\": \($0.value)" }.joined(separator: ",") + "}"
        let rows = try await database.client.query("""
            SELECT (SELECT count(*) FROM envmon.alert WHERE state = 'firing')::integer,
                   (SELECT count(*) FROM envmon.alert WHERE state = 'firing' AND severity = 'critical')::integer,
                   (count(*) FILTER (WHERE last_data_at IS NULL
                       OR (\(seconds)::jsonb ->> feed_kind) IS NOT NULL
                          AND last_data_at < \(now)::timestamptz
                              - make_interval(secs => (\(seconds)::jsonb ->> feed_kind)::double precision)))::integer,
                   count(*)::integer
            FROM analytics.site_freshness
            WHERE site_kind <> 'outlet'
            """, logger: database.logger)
        for try await (firing, critical, overdue, places) in rows.decode((Int, Int, Int, Int).self) {
            return OverviewCounts(firing: firing, critical: critical, overdue: overdue, places: places)
        }
        return OverviewCounts(firing: 0, critical: 0, overdue: 0, places: 0)
    }

    /// An enterprise's series-days from `first` on, by outlet, pollutant and day.
    public func enterpriseDays(_ enterpriseID: String, from first: CivilDate) async throws -> [EmissionDayPoint] {
        let rows = try await database.client.query("""
            SELECT enterprise_name, district, outlet_id, pollutant, day, mean::double precision,
                   limit_min::double precision, limit_max::double precision, compliant, unjudged_reason
            FROM analytics.emission_daily
            WHERE enterprise_id = \(enterpriseID) AND day >= \(first.description)::date
            ORDER BY outlet_id, pollutant, day
            LIMIT 40000
            """, logger: database.logger)
        var points: [EmissionDayPoint] = []
        for try await (name, district, outlet, pollutant, day, mean, low, high, compliant, reason)
            in rows.decode((String?, String?, String, String, Date, Double?, Double?, Double?, Bool?, String?).self) {
            points.append(EmissionDayPoint(enterpriseName: name, district: district, outletID: outlet, pollutant: pollutant,
                                           day: CivilDate(utcMidnight: day), mean: mean, limitMin: low, limitMax: high,
                                           compliant: compliant, unjudgedReason: reason))
        }
        return points
    }

    /// A section's samples, oldest first (at most the latest 400), classified as
    /// `analytics.water_sample_class` classifies them: in one call of `envmon.gb3838_assessments`.
    /// That view classifies every sample of the district before any filter applies (1.4 s at ten
    /// years of 30 sections); here only this section's latest samples go in (one call per sample
    /// through `gb3838_assess` was slower still: ~1.5 ms each).
    public func sectionSamples(_ sectionID: String) async throws -> [SectionSample] {
        let rows = try await database.client.query("""
            WITH sample AS MATERIALIZED (
                SELECT row_number() OVER () AS obs_id, w.*
                FROM (SELECT * FROM analytics.water_sample
                      WHERE section_id = \(sectionID)
                      ORDER BY sampled_at DESC
                      LIMIT 400) w
            ), assessed AS (
                SELECT * FROM envmon.gb3838_assessments((
                    SELECT jsonb_agg(jsonb_build_object('id', obs_id, 'water_body', water_body, 'items', items))
                    FROM sample))
            )
            SELECT w.section_name, w.river, w.district, w.local_day, w.sampled_at, c.label, rc.label, w.items::text
            FROM sample w
            LEFT JOIN assessed a ON a.id = w.obs_id
            LEFT JOIN envmon.gb3838_class c ON c.class = a.class
            LEFT JOIN envmon.gb3838_class rc ON rc.class = w.reported_class
            ORDER BY w.sampled_at
            """, logger: database.logger)
        var samples: [SectionSample] = []
        for try await (name, river, district, day, at, label, reported, items)
            in rows.decode((String?, String?, String?, Date, Date, String?, String?, String?).self) {
            var values: [String: Double] = [:]
            if let data = items?.data(using: .utf8),
               let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] {
                for (key, value) in object {
                    if let number = value as? NSNumber { values[key] = number.doubleValue }
                }
            }
            samples.append(SectionSample(sectionName: name, river: river, district: district, day: CivilDate(utcMidnight: day),
                                         sampledAt: at, classLabel: label, reportedLabel: reported, items: values))
        }
        return samples
    }

    /// The GB 3838 items with their class Ⅴ bounds for rivers, in the standard's order.
    public func classVBounds() async throws -> [WaterItemBound] {
        let rows = try await database.client.query("""
            SELECT * FROM (
                SELECT DISTINCT ON (item_id) item_id, item_no, name_zh, name_en, unit,
                       lower_limit::double precision, upper_limit::double precision
                FROM analytics.gb3838_limits
                WHERE class = 5 AND applies_to IN ('all', 'river')
                ORDER BY item_id, applies_to DESC) b
            ORDER BY coalesce(substring(item_no FROM '^[0-9]+')::integer, 999), item_no
            """, logger: database.logger)
        var bounds: [WaterItemBound] = []
        for try await (id, number, chinese, english, unit, lower, upper)
            in rows.decode((String, String, String, String, String?, Double?, Double?).self) {
            bounds.append(WaterItemBound(itemID: id, itemNo: number, chinese: chinese, english: english, unit: unit,
                                         lower: lower, upper: upper))
        }
        return bounds
    }

    /// Whether a place (`enterprise`, `section`…) is registered (`envmon.site`), for a page
    /// about one that has no data in range.
    public func placeExists(kind: String, id: String) async throws -> Bool {
        let rows = try await database.client.query("""
            SELECT 1 FROM envmon.site WHERE kind = \(kind) AND parent_id = '' AND site_id = \(id) LIMIT 1
            """, logger: database.logger)
        for try await _ in rows.decode(Int.self) { return true }
        return false
    }

    /// Every data logger's state today (`analytics.device_status`), offline active ones first.
    public func devices() async throws -> [DeviceStatusRow] {
        let rows = try await database.client.query("""
            SELECT mn, name, enterprise_id, outlet_id, active, online, last_packet_at, stored_today, duplicate_today,
                   (bad_crc_today + bad_password_today + malformed_today + unsupported_today)::integer,
                   coalesce(valid_hours_today, 0)::integer, coalesce(hours_due_today, 0)::integer,
                   transmission_effective_rate::double precision
            FROM analytics.device_status
            ORDER BY active DESC, online, last_packet_at NULLS FIRST, mn
            LIMIT 5000
            """, logger: database.logger)
        var devices: [DeviceStatusRow] = []
        for try await (mn, name, enterprise, outlet, active, online, last, stored, duplicate, refused, valid, due, rate)
            in rows.decode((String, String?, String, String, Bool, Bool, Date?, Int, Int, Int, Int, Int, Double?).self) {
            devices.append(DeviceStatusRow(mn: mn, name: name, enterpriseID: enterprise, outletID: outlet, active: active, online: online,
                                           lastPacketAt: last, storedToday: stored, duplicateToday: duplicate, refusedToday: refused,
                                           validHoursToday: valid, hoursDueToday: due, effectiveRate: rate))
        }
        return devices
    }

    /// The latest packets of the last 7 days that were not stored (refused or malformed), newest
    /// first (the day partitions of the archive outside the week are not read).
    public func refusedPackets(limit: Int) async throws -> [RefusedPacketRow] {
        let rows = try await database.client.query("""
            SELECT received_at, peer, mn, cn, outcome, detail FROM analytics.hj212_packets
            WHERE outcome NOT IN ('stored', 'duplicate') AND received_at > now() - interval '7 days'
            ORDER BY received_at DESC
            LIMIT \(limit)
            """, logger: database.logger)
        var packets: [RefusedPacketRow] = []
        for try await (at, peer, mn, cn, outcome, detail) in rows.decode((Date, String?, String?, String?, String, String?).self) {
            packets.append(RefusedPacketRow(receivedAt: at, peer: peer, mn: mn, cn: cn, outcome: outcome, detail: detail))
        }
        return packets
    }
}
