-- Every plan metric for every scope ('all' and each district) and period with data.
-- A metric value is always numerator ÷ denominator, both kept so that a scope's value can be
-- checked by hand; rows whose denominator is 0 carry no value and are left out.
-- Periods: calendar metrics count each fact in the month and year that wholly contain its
-- period (envmon.containing_periods); green metrics use the periods their surveys name.
-- Scopes: each fact counts in 'all' and in its own district (envmon.scopes_of).

-- metric_values plus the period's granularity (month, year; for survey periods also other),
-- which plan_progress matches against a target's granularity.
CREATE VIEW analytics.metric_series AS
WITH emissions AS (
    -- An enterprise counts when it reported a judged daily mean of a compliance pollutant.
    SELECT sc.scope, ep.granularity, ep.period, ep.period_start, ep.period_end,
           count(*) FILTER (WHERE ep.compliant)::numeric AS stably_compliant,
           count(*)::numeric AS enterprises,
           sum(ep.compliant_days::numeric / ep.reporting_days) AS compliant_day_shares
    FROM analytics.enterprise_period ep
    CROSS JOIN LATERAL envmon.scopes_of(ep.district) sc
    WHERE ep.reporting_days > 0  -- an enterprise with only insufficient days is not judged
    GROUP BY sc.scope, ep.granularity, ep.period, ep.period_start, ep.period_end
), water AS (
    -- Second-level sections with a period class; the share at class Ⅴ or better.
    SELECT sc.scope, w.granularity, w.period, w.period_start, w.period_end,
           count(*) FILTER (WHERE w.class <= 5)::numeric AS class_v_or_better,
           count(*)::numeric AS sections
    FROM analytics.water_section_class w
    CROSS JOIN LATERAL envmon.scopes_of(w.district) sc
    WHERE w.river_level = 2 AND w.class IS NOT NULL
    GROUP BY sc.scope, w.granularity, w.period, w.period_start, w.period_end
), sewage AS (
    SELECT sc.scope, p.granularity, p.period, p.period_start, p.period_end,
           sum(r.sewage_treated_m3) AS treated,
           sum(r.sewage_discharged_m3) AS discharged
    FROM analytics.sewage_treatment r
    CROSS JOIN LATERAL envmon.containing_periods(r.period_start, r.period_end) p
    CROSS JOIN LATERAL envmon.scopes_of(r.district) sc
    GROUP BY sc.scope, p.granularity, p.period, p.period_start, p.period_end
), waste AS (
    SELECT sc.scope, p.granularity, p.period, p.period_start, p.period_end,
           sum(w.harmless_t) AS harmless,
           sum(w.collected_t) AS collected,
           -- White pollution counts only rows that give both sites and remediated.
           sum(w.white_pollution_remediated) FILTER (WHERE w.white_pollution_sites IS NOT NULL)::numeric AS remediated,
           sum(w.white_pollution_sites) FILTER (WHERE w.white_pollution_remediated IS NOT NULL)::numeric AS sites
    FROM analytics.waste_transfer w
    CROSS JOIN LATERAL envmon.containing_periods(w.period_start, w.period_end) p
    CROSS JOIN LATERAL envmon.scopes_of(w.district) sc
    GROUP BY sc.scope, p.granularity, p.period, p.period_start, p.period_end
), green AS (
    SELECT sc.scope,
           CASE WHEN g.period_start = date_trunc('year', g.period_start)::date
                 AND g.period_end = (date_trunc('year', g.period_start) + interval '1 year - 1 day')::date THEN 'year'
                WHEN g.period_start = date_trunc('month', g.period_start)::date
                 AND g.period_end = (date_trunc('month', g.period_start) + interval '1 month - 1 day')::date THEN 'month'
                ELSE 'other'
           END AS granularity,
           g.period, g.period_start, g.period_end,
           sum(g.green_covered_area_ha) AS green_covered,
           sum(g.built_up_area_ha) AS built_up,
           -- Park green per capita counts only rows that give both park area and population.
           sum(g.park_green_area_ha * 10000) FILTER (WHERE g.population IS NOT NULL) AS park_green_m2,
           sum(g.population) FILTER (WHERE g.park_green_area_ha IS NOT NULL) AS population
    FROM analytics.green_coverage g
    CROSS JOIN LATERAL envmon.scopes_of(g.district) sc
    GROUP BY sc.scope, g.period, g.period_start, g.period_end
), parts AS (
    SELECT x.metric, e.scope, e.granularity, e.period, e.period_start, e.period_end, x.numerator, x.denominator
    FROM emissions e
    CROSS JOIN LATERAL (VALUES
        ('emissions_compliance_rate', e.stably_compliant, e.enterprises),
        ('emissions_event_compliance_rate', e.compliant_day_shares, e.enterprises)
    ) x (metric, numerator, denominator)
    UNION ALL
    SELECT 'water_class_v_or_better_share', w.scope, w.granularity, w.period, w.period_start, w.period_end,
           w.class_v_or_better, w.sections
    FROM water w
    UNION ALL
    SELECT 'sewage_treatment_rate', s.scope, s.granularity, s.period, s.period_start, s.period_end,
           s.treated, s.discharged
    FROM sewage s
    UNION ALL
    SELECT x.metric, w.scope, w.granularity, w.period, w.period_start, w.period_end, x.numerator, x.denominator
    FROM waste w
    CROSS JOIN LATERAL (VALUES
        ('waste_harmless_transfer_rate', w.harmless, w.collected),
        ('white_pollution_remediation_rate', w.remediated, w.sites)
    ) x (metric, numerator, denominator)
    UNION ALL
    SELECT x.metric, g.scope, g.granularity, g.period, g.period_start, g.period_end, x.numerator, x.denominator
    FROM green g
    CROSS JOIN LATERAL (VALUES
        ('green_coverage_rate', g.green_covered, g.built_up),
        ('park_green_per_capita_m2', g.park_green_m2, g.population)
    ) x (metric, numerator, denominator)
)
SELECT p.metric, p.scope, p.granularity, p.period, p.period_start, p.period_end,
       p.numerator, p.denominator,
       trim_scale(p.numerator / p.denominator) AS value,
       m.unit
FROM parts p
JOIN envmon.metric m ON m.metric = p.metric
WHERE p.denominator > 0;

-- The metric values of FEEDS.md. value is a fraction for ratio metrics (0.905) and m² per
-- person for park green; value_pct is value × 100 rounded to 2 decimals, for ratios only.
CREATE VIEW analytics.metric_values AS
SELECT metric, scope, period, period_start, period_end, numerator, denominator, value,
       CASE WHEN unit = 'ratio' THEN round(value * 100, 2) END AS value_pct,
       unit
FROM analytics.metric_series;
