-- Plan targets against the metric values.

-- Every plan target against every period of its metric and scope at the target's granularity
-- (green metrics: every surveyed period). status:
--   missed   the value does not meet the target (envmon.target_met: exact numeric comparison,
--            so "= 1" is met only by exactly 100%);
--   at_risk  it meets it, but the least-squares line through the values of the last six periods
--            (this one included; at least three), projected to the target's due date, does not;
--   met      otherwise.
-- projected: that line's value at the due date (x = each period's midpoint in days), clamped to
-- 0..1 for ratios and to ≥ 0 otherwise, rounded to 6 decimals; NULL with fewer than 3 periods.
-- gap = value − target (negative: short of a ≥ target).
-- plan_progress_by_scope: the same for every scope the target can be read in — its own, and for
-- a district-wide target ('all') each sub-district too, judged against the district's target
-- (target_scope is the target's, scope the values'). One evaluation of metric_series gives the
-- console's overview its trends, its sub-district matrix and its table.
CREATE VIEW analytics.plan_progress_by_scope AS
WITH candidate AS (
    SELECT t.id AS target_id, t.metric, t.scope AS target_scope, s.scope, t.comparator, t.value AS target,
           t.granularity, t.due, m.sort_order,
           s.period, s.period_start, s.period_end, s.value, s.unit,
           ((s.period_start - DATE '2000-01-01') + (s.period_end - s.period_start) / 2.0)::double precision AS x
    FROM envmon.plan_target t
    JOIN envmon.metric m ON m.metric = t.metric
    JOIN analytics.metric_series s
      ON s.metric = t.metric AND (s.scope = t.scope OR t.scope = 'all')
     AND (m.period_basis = 'survey' OR s.granularity = t.granularity)
), trend AS (
    SELECT c.*,
           count(*) OVER w AS trend_periods,
           regr_slope(c.value::double precision, c.x) OVER w AS slope,
           regr_intercept(c.value::double precision, c.x) OVER w AS intercept
    FROM candidate c
    WINDOW w AS (PARTITION BY c.target_id, c.target_scope, c.scope ORDER BY c.period_end, c.period_start
                 ROWS BETWEEN 5 PRECEDING AND CURRENT ROW)
), projection AS (
    SELECT t.*,
           CASE WHEN t.trend_periods >= 3 AND t.slope IS NOT NULL THEN
               round(greatest(0::double precision,
                              least(CASE WHEN t.unit = 'ratio' THEN 1::double precision ELSE 'Infinity'::double precision END,
                                    t.intercept + t.slope * (t.due - DATE '2000-01-01')))::numeric, 6)
           END AS projected
    FROM trend t
)
SELECT p.target_id, p.metric, p.target_scope, p.scope, p.granularity, p.period, p.period_start, p.period_end,
       p.comparator, p.target, p.value,
       CASE WHEN p.unit = 'ratio' THEN round(p.value * 100, 2) END AS value_pct,
       p.value - p.target AS gap,
       CASE WHEN NOT envmon.target_met(p.value, p.comparator, p.target) THEN 'missed'
            WHEN p.projected IS NOT NULL AND NOT envmon.target_met(p.projected, p.comparator, p.target) THEN 'at_risk'
            ELSE 'met'
       END AS status,
       p.due, p.projected, p.trend_periods, p.sort_order
FROM projection p;

CREATE VIEW analytics.plan_progress_by_period AS
SELECT target_id, metric, scope, granularity, period, period_start, period_end,
       comparator, target, value, value_pct, gap, status, due, projected, trend_periods, sort_order
FROM analytics.plan_progress_by_scope
WHERE scope = target_scope;

-- Each plan target against its latest period with data (no_data when there is none).
CREATE VIEW analytics.plan_progress AS
WITH latest AS (
    SELECT DISTINCT ON (target_id) *
    FROM analytics.plan_progress_by_period
    ORDER BY target_id, period_end DESC, period_start DESC
)
SELECT t.metric, t.scope, l.period, t.comparator, t.value AS target,
       l.value, l.value_pct, l.gap,
       coalesce(l.status, 'no_data') AS status,
       t.due, l.projected
FROM envmon.plan_target t
LEFT JOIN envmon.metric m ON m.metric = t.metric
LEFT JOIN latest l ON l.target_id = t.id
ORDER BY m.sort_order, t.scope;
