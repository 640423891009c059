-- Emissions compliance, built up in steps from the loader's daily aggregate (never the raw
-- readings): series day → enterprise day → enterprise period. Each rule lives in one step.

-- The permit register: each permit row with the last day it is in force — its valid_to, or the
-- day before the next permit of the same outlet and pollutant begins, whichever comes first
-- (a new permit supersedes the old one from its start). valid_from is '-infinity' for a permit
-- that names no start; in_force_until is 'infinity' while open-ended.
CREATE VIEW analytics.permits AS
SELECT p.enterprise_id,
       e.name AS enterprise_name,
       e.district,
       p.outlet_id,
       p.pollutant,
       p.valid_from,
       p.valid_to,
       least(coalesce(p.valid_to, 'infinity'::date),
             coalesce(lead(p.valid_from) OVER w - 1, 'infinity'::date)) AS in_force_until,
       p.limit_min,
       p.limit_max,
       p.unit,
       p.o2_reference,
       p.monitoring,
       p.upload_id
FROM envmon.emission_permit p
LEFT JOIN envmon.site e ON e.kind = 'enterprise' AND e.parent_id = '' AND e.site_id = p.enterprise_id
WINDOW w AS (PARTITION BY p.enterprise_id, p.outlet_id, p.pollutant ORDER BY p.valid_from);

-- One row per enterprise, outlet, pollutant and local day (feed time zone).
-- The limits are those of the permit in force on the day when there is one (limit_source
-- 'permit'; the permit outranks the feed), else the strictest the feed stated for the day
-- ('feed'); feed_limit_min/max keep what the feed said either way.
-- measured_mean: the mean of the day's valid readings (flag N or empty). corrected_mean: the
-- mean corrected to the permit's reference O2 (HJ 75-2017: C × (21 − O2ref) / (21 − O2), or the
-- feed's stated 折算 value), over the valid readings that carry either; without a reference O2,
-- the mean of the stated corrected values. mean: the one judged — corrected when the permit has
-- a reference O2 and the day has corrected values (judged_on 'corrected'), else measured.
-- sufficient: automatic monitoring (the permit's mode) needs at least daily_min_valid_hours
-- valid values in a day (HJ 75-2017: 20); a day with fewer is not judged (compliant NULL).
-- compliant: the mean lies within the limits; NULL for pollutants without a compliance role,
-- days with no valid reading, days without any limit and insufficient days (unjudged_reason
-- says which of the last two).
-- The mean is a floating-point sum divided by a count, so a relative 1e-9 keeps a mean that is
-- exactly on its limit (0.1, 0.2, 0.3 against 0.2) compliant.
CREATE VIEW analytics.emission_daily AS
SELECT s.enterprise_id,
       e.name AS enterprise_name,
       e.district,
       s.outlet_id,
       s.pollutant,
       coalesce(p.compliance, false) AS compliance_pollutant,
       d.day,
       j.mean,
       l.limit_min,
       l.limit_max,
       CASE WHEN p.compliance AND j.mean IS NOT NULL AND v.sufficient AND l.limit_source IS NOT NULL THEN
                (l.limit_min IS NULL OR j.mean >= l.limit_min - abs(l.limit_min) * 1e-9)
            AND (l.limit_max IS NULL OR j.mean <= l.limit_max + abs(l.limit_max) * 1e-9)
       END AS compliant,
       d.valid_count,
       d.flagged_count,
       d.series_id,
       l.limit_source,
       d.limit_min AS feed_limit_min,
       d.limit_max AS feed_limit_max,
       pm.valid_from AS permit_valid_from,
       pm.o2_reference,
       pm.monitoring,
       m.measured_mean,
       c.corrected_mean,
       j.judged_on,
       v.sufficient,
       CASE WHEN NOT coalesce(p.compliance, false) OR d.valid_count = 0 THEN NULL
            WHEN l.limit_source IS NULL THEN 'no limit: no permit in force, and the feed states none'
            WHEN NOT v.sufficient THEN
                format('%s valid hourly values; automatic monitoring needs %s', d.valid_count, h.hours)
       END AS unjudged_reason
FROM envmon.emission_daily d
JOIN envmon.emission_series s ON s.series_id = d.series_id
CROSS JOIN (SELECT coalesce((SELECT value::integer FROM envmon.setting WHERE key = 'daily_min_valid_hours'), 20) AS hours) h
LEFT JOIN envmon.emission_pollutant p ON p.pollutant = s.pollutant
LEFT JOIN envmon.site e ON e.kind = 'enterprise' AND e.parent_id = '' AND e.site_id = s.enterprise_id
LEFT JOIN analytics.permits pm
  ON pm.enterprise_id = s.enterprise_id AND pm.outlet_id = s.outlet_id AND pm.pollutant = s.pollutant
 AND d.day BETWEEN pm.valid_from AND pm.in_force_until
CROSS JOIN LATERAL (
    SELECT CASE WHEN d.valid_count > 0 THEN d.value_sum / d.valid_count END AS measured_mean
) m
CROSS JOIN LATERAL (
    SELECT CASE WHEN pm.o2_reference IS NOT NULL AND d.corrected_count + d.dilution_count > 0 THEN
                    (coalesce(d.corrected_sum, 0) + (21 - pm.o2_reference) * coalesce(d.dilution_sum, 0))
                    / (d.corrected_count + d.dilution_count)
                WHEN d.corrected_count > 0 THEN d.corrected_sum / d.corrected_count
           END AS corrected_mean
) c
CROSS JOIN LATERAL (
    SELECT CASE WHEN pm.o2_reference IS NOT NULL AND c.corrected_mean IS NOT NULL THEN c.corrected_mean
                ELSE m.measured_mean END AS mean,
           CASE WHEN pm.o2_reference IS NOT NULL AND c.corrected_mean IS NOT NULL THEN 'corrected'
                WHEN m.measured_mean IS NOT NULL THEN 'measured' END AS judged_on
) j
CROSS JOIN LATERAL (
    SELECT coalesce(pm.monitoring, 'manual') <> 'automatic' OR d.valid_count >= h.hours AS sufficient
) v
CROSS JOIN LATERAL (
    SELECT CASE WHEN pm.valid_from IS NOT NULL THEN pm.limit_min ELSE d.limit_min END AS limit_min,
           CASE WHEN pm.valid_from IS NOT NULL THEN pm.limit_max ELSE d.limit_max END AS limit_max,
           CASE WHEN pm.valid_from IS NOT NULL THEN 'permit'
                WHEN d.limit_min IS NOT NULL OR d.limit_max IS NOT NULL THEN 'feed' END AS limit_source
) l;

-- Where a feed stated a limit other than the permit in force: one row per series, month, feed
-- limits and permit, with the days it concerns (the permit decided those days).
CREATE VIEW analytics.limit_discrepancies AS
SELECT enterprise_id, enterprise_name, district, outlet_id, pollutant,
       to_char(date_trunc('month', day::timestamp), 'YYYY-MM') AS period,
       min(day) AS first_day, max(day) AS last_day, count(*)::integer AS days,
       feed_limit_min, feed_limit_max,
       limit_min AS permit_limit_min, limit_max AS permit_limit_max, permit_valid_from
FROM analytics.emission_daily
WHERE limit_source = 'permit'
  AND (feed_limit_min IS NOT NULL OR feed_limit_max IS NOT NULL)
  AND (feed_limit_min IS DISTINCT FROM limit_min OR feed_limit_max IS DISTINCT FROM limit_max)
GROUP BY enterprise_id, enterprise_name, district, outlet_id, pollutant, date_trunc('month', day::timestamp),
         feed_limit_min, feed_limit_max, limit_min, limit_max, permit_valid_from;

-- The days on which a compliance pollutant's daily mean broke its limit (for alerts and reports).
CREATE VIEW analytics.emission_exceedances AS
SELECT enterprise_id, enterprise_name, district, outlet_id, pollutant, day, mean,
       limit_min, limit_max, valid_count, flagged_count, judged_on, measured_mean, corrected_mean
FROM analytics.emission_daily
WHERE compliant = false;

-- One row per enterprise and local day on which it reported at least one valid daily mean of a
-- compliance pollutant; the day complies when all of its judged means comply (the "event" of
-- provincial key-source reports). Insufficient series-days (automatic monitoring with too few
-- valid hours) are not judged: counted in insufficient_series; a day with no judged series has
-- compliant NULL. Grouped on the enterprise id alone, names joined afterwards: this is the one
-- pass over the daily aggregate that every emissions metric rests on.
CREATE VIEW analytics.enterprise_day AS
WITH by_day AS (
    SELECT enterprise_id, day,
           count(*) FILTER (WHERE compliant IS NOT NULL) AS reporting_series,
           count(*) FILTER (WHERE NOT compliant) AS failing_series,
           bool_and(compliant) AS compliant,
           count(*) FILTER (WHERE NOT sufficient) AS insufficient_series
    FROM analytics.emission_daily
    WHERE compliance_pollutant AND valid_count > 0
    GROUP BY enterprise_id, day
)
SELECT b.enterprise_id, e.name AS enterprise_name, e.district, b.day,
       b.reporting_series, b.failing_series, b.compliant, b.insufficient_series
FROM by_day b
LEFT JOIN envmon.site e ON e.kind = 'enterprise' AND e.parent_id = '' AND e.site_id = b.enterprise_id;

-- One row per enterprise and month with reporting days, computed from enterprise_day: for every
-- enterprise, or for the (enterprise_ids[i], months[i]) pairs listed, where a NULL month means
-- every month of that enterprise. What the rollup envmon.enterprise_month keeps (migrations 0013,
-- 0014); enterprise_month reads the rollup and calls this for the pairs marked stale. Only the
-- days between the first and last month listed are judged, so a stale month costs a month.
CREATE FUNCTION analytics.enterprise_month_live(every_enterprise boolean, enterprise_ids text[], months date[])
RETURNS TABLE (enterprise_id text, month_start date, reporting_days integer, compliant_days integer,
               insufficient_days integer, first_failing_day date)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan AS $$
#variable_conflict use_column
DECLARE
    first_day date := '-infinity';
    end_day date := 'infinity';
BEGIN
    IF NOT every_enterprise AND coalesce(cardinality(enterprise_ids), 0) = 0 THEN
        RETURN;
    END IF;
    IF NOT every_enterprise AND NOT EXISTS (SELECT 1 FROM unnest(months) m WHERE m IS NULL) THEN
        SELECT min(m), (max(m) + interval '1 month')::date INTO first_day, end_day FROM unnest(months) m;
    END IF;
    RETURN QUERY
    SELECT d.enterprise_id, date_trunc('month', d.day::timestamp)::date,
           (count(*) FILTER (WHERE d.compliant IS NOT NULL))::integer,
           (count(*) FILTER (WHERE d.compliant))::integer,
           (count(*) FILTER (WHERE d.insufficient_series > 0))::integer,
           min(d.day) FILTER (WHERE NOT d.compliant)
    FROM analytics.enterprise_day d
    WHERE d.day >= first_day AND d.day < end_day
      -- Uncorrelated IN lists, hashed once: a correlated test against thousands of marks per
      -- enterprise-day took minutes at ten years.
      AND (every_enterprise
           OR d.enterprise_id IN (SELECT k.id FROM unnest(enterprise_ids, months) k (id, month_start)
                                  WHERE k.month_start IS NULL)
           OR (d.enterprise_id, date_trunc('month', d.day::timestamp)::date)
              IN (SELECT k.id, k.month_start FROM unnest(enterprise_ids, months) k (id, month_start)
                  WHERE k.month_start IS NOT NULL))
    GROUP BY d.enterprise_id, date_trunc('month', d.day::timestamp)::date;
END $$;

-- envmon.enterprise_month where it is current, and the live months of the stale pairs.
CREATE VIEW analytics.enterprise_month AS
WITH stale AS MATERIALIZED (
    SELECT coalesce(bool_or(enterprise_id IS NULL), false) AS every_enterprise,
           coalesce(array_agg(enterprise_id) FILTER (WHERE enterprise_id IS NOT NULL), '{}') AS ids,
           coalesce(array_agg(month_start) FILTER (WHERE enterprise_id IS NOT NULL), '{}') AS months
    FROM envmon.enterprise_month_stale
)
SELECT r.enterprise_id, r.month_start, r.reporting_days, r.compliant_days, r.insufficient_days, r.first_failing_day
FROM envmon.enterprise_month r, stale
WHERE NOT stale.every_enterprise
  AND NOT EXISTS (SELECT 1 FROM envmon.enterprise_month_stale m
                  WHERE m.enterprise_id = r.enterprise_id AND (m.month_start IS NULL OR m.month_start = r.month_start))
UNION ALL
SELECT l.enterprise_id, l.month_start, l.reporting_days, l.compliant_days, l.insufficient_days, l.first_failing_day
FROM stale, analytics.enterprise_month_live(stale.every_enterprise, stale.ids, stale.months) l;

-- One row per enterprise and calendar period (month and year) with reporting days. Stably
-- compliant: every daily mean of every compliance pollutant at every outlet complied.
-- Days are first gathered into their months (analytics.enterprise_month), and each month is
-- then counted in the periods that contain it (its month and its year): the same result as
-- counting each day, with 30 times fewer rows to expand.
CREATE VIEW analytics.enterprise_period AS
WITH by_period AS (
    SELECT m.enterprise_id, p.granularity, p.period, p.period_start, p.period_end,
           sum(m.reporting_days)::integer AS reporting_days,
           sum(m.compliant_days)::integer AS compliant_days,
           sum(m.insufficient_days)::integer AS insufficient_days,
           min(m.first_failing_day) AS first_failing_day
    FROM analytics.enterprise_month m
    CROSS JOIN LATERAL envmon.containing_periods(
        m.month_start, (m.month_start + interval '1 month - 1 day')::date) p
    GROUP BY m.enterprise_id, p.granularity, p.period, p.period_start, p.period_end
)
SELECT b.enterprise_id, e.name AS enterprise_name, e.district,
       b.granularity, b.period, b.period_start, b.period_end,
       b.reporting_days, b.compliant_days,
       CASE WHEN b.reporting_days > 0 THEN b.compliant_days = b.reporting_days END AS compliant,
       b.first_failing_day,
       b.insufficient_days
FROM by_period b
LEFT JOIN envmon.site e ON e.kind = 'enterprise' AND e.parent_id = '' AND e.site_id = b.enterprise_id;

-- enterprise_period with the first breach named: its day, outlet, pollutant, mean and limits
-- (the first in outlet and pollutant order when several broke on that day).
CREATE VIEW analytics.enterprise_compliance AS
SELECT ep.enterprise_id, ep.enterprise_name, ep.district,
       ep.period, ep.period_start, ep.period_end,
       ep.compliant, ep.reporting_days, ep.compliant_days,
       trim_scale(ep.compliant_days::numeric / nullif(ep.reporting_days, 0)) AS compliant_day_share,
       ep.first_failing_day,
       f.outlet_id AS first_failing_outlet,
       f.pollutant AS first_failing_pollutant,
       f.mean AS first_failing_mean,
       f.limit_min AS first_failing_limit_min,
       f.limit_max AS first_failing_limit_max,
       ep.insufficient_days
FROM analytics.enterprise_period ep
LEFT JOIN LATERAL (
    SELECT x.outlet_id, x.pollutant, x.mean, x.limit_min, x.limit_max
    FROM analytics.emission_exceedances x
    WHERE ep.first_failing_day IS NOT NULL  -- looked up only for a period with a breach
      AND x.enterprise_id = ep.enterprise_id AND x.day = ep.first_failing_day
    ORDER BY x.outlet_id, x.pollutant
    LIMIT 1
) f ON true;
