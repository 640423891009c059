-- Emissions compliance, built up in steps from the loader's daily aggregate (never the raw
-- readings): series day → enterprise day → enterprise period. Each rule lives in one step.

-- One row per enterprise, outlet, pollutant and local day (feed time zone).
-- compliant: the day's mean of valid readings (flag N or empty) lies within the strictest limits
-- of the day; NULL for pollutants without a compliance role and for days with no valid reading.
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
       m.mean,
       d.limit_min,
       d.limit_max,
       CASE WHEN p.compliance AND m.mean IS NOT NULL THEN
                (d.limit_min IS NULL OR m.mean >= d.limit_min - abs(d.limit_min) * 1e-9)
            AND (d.limit_max IS NULL OR m.mean <= d.limit_max + abs(d.limit_max) * 1e-9)
       END AS compliant,
       d.valid_count,
       d.flagged_count,
       d.series_id
FROM envmon.emission_daily d
JOIN envmon.emission_series s ON s.series_id = d.series_id
CROSS JOIN LATERAL (SELECT CASE WHEN d.valid_count > 0 THEN d.value_sum / d.valid_count END AS mean) m
LEFT JOIN envmon.emission_pollutant p ON p.pollutant = s.pollutant
LEFT JOIN envmon.site e ON e.kind = 'enterprise' AND e.parent_id = '' AND e.site_id = s.enterprise_id;

-- The days on which a compliance pollutant's daily mean broke its limit (for alerts and reports).
CREATE VIEW analytics.emission_exceedances AS
SELECT enterprise_id, enterprise_name, district, outlet_id, pollutant, day, mean,
       limit_min, limit_max, valid_count, flagged_count
FROM analytics.emission_daily
WHERE compliant = false;

-- One row per enterprise and local day on which it reported at least one valid daily mean of a
-- compliance pollutant; the day complies when all of them comply (the "event" of provincial
-- key-source reports). Grouped on the enterprise id alone, names joined afterwards: this is
-- the one pass over the daily aggregate that every emissions metric rests on.
CREATE VIEW analytics.enterprise_day AS
WITH by_day AS (
    SELECT enterprise_id, day,
           count(*) AS reporting_series,
           count(*) FILTER (WHERE NOT compliant) AS failing_series,
           bool_and(compliant) AS compliant
    FROM analytics.emission_daily
    WHERE compliance_pollutant AND valid_count > 0
    GROUP BY enterprise_id, day
)
SELECT b.enterprise_id, e.name AS enterprise_name, e.district, b.day,
       b.reporting_series, b.failing_series, b.compliant
FROM by_day b
LEFT JOIN envmon.site e ON e.kind = 'enterprise' AND e.parent_id = '' AND e.site_id = b.enterprise_id;

-- One row per enterprise and calendar period (month and year) with reporting days. Stably
-- compliant: every daily mean of every compliance pollutant at every outlet complied.
-- Days are first gathered into their months, and each month is then counted in the periods
-- that contain it (its month and its year): the same result as counting each day, with 30
-- times fewer rows to expand.
CREATE VIEW analytics.enterprise_period AS
WITH by_month AS (
    SELECT enterprise_id, date_trunc('month', day::timestamp)::date AS month_start,
           count(*) AS reporting_days,
           count(*) FILTER (WHERE compliant) AS compliant_days,
           min(day) FILTER (WHERE NOT compliant) AS first_failing_day
    FROM analytics.enterprise_day
    GROUP BY enterprise_id, date_trunc('month', day::timestamp)::date
), by_period AS (
    SELECT m.enterprise_id, p.granularity, p.period, p.period_start, p.period_end,
           sum(m.reporting_days)::integer AS reporting_days,
           sum(m.compliant_days)::integer AS compliant_days,
           min(m.first_failing_day) AS first_failing_day
    FROM by_month m
    CROSS JOIN LATERAL envmon.containing_periods(
        m.month_start, (m.month_start + interval '1 month - 1 day')::date) p
    GROUP BY m.enterprise_id, p.granularity, p.period, p.period_start, p.period_end
)
SELECT b.enterprise_id, e.name AS enterprise_name, e.district,
       b.granularity, b.period, b.period_start, b.period_end,
       b.reporting_days, b.compliant_days,
       b.compliant_days = b.reporting_days AS compliant,
       b.first_failing_day
FROM by_period b
LEFT JOIN envmon.site e ON e.kind = 'enterprise' AND e.parent_id = '' AND e.site_id = b.enterprise_id;

-- enterprise_period with the first breach named: its day, outlet, pollutant, mean and limits
-- (the first in outlet and pollutant order when several broke on that day).
CREATE VIEW analytics.enterprise_compliance AS
SELECT ep.enterprise_id, ep.enterprise_name, ep.district,
       ep.period, ep.period_start, ep.period_end,
       ep.compliant, ep.reporting_days, ep.compliant_days,
       trim_scale(ep.compliant_days::numeric / ep.reporting_days) AS compliant_day_share,
       ep.first_failing_day,
       f.outlet_id AS first_failing_outlet,
       f.pollutant AS first_failing_pollutant,
       f.mean AS first_failing_mean,
       f.limit_min AS first_failing_limit_min,
       f.limit_max AS first_failing_limit_max
FROM analytics.enterprise_period ep
LEFT JOIN LATERAL (
    SELECT x.outlet_id, x.pollutant, x.mean, x.limit_min, x.limit_max
    FROM analytics.emission_exceedances x
    WHERE x.enterprise_id = ep.enterprise_id AND x.day = ep.first_failing_day
    ORDER BY x.outlet_id, x.pollutant
    LIMIT 1
) f ON true;
