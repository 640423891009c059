-- The benchmark district of scripts/bench/views.sh and console.sh: about 9.6M hourly readings
-- represented by their daily aggregate (1,100 series × 365 days), 20 sewage plants, 30 sections,
-- 10 districts of waste and green reports, the plan's targets. Dates: the 12 months from :first.
-- Usage: psql -v first=YYYY-MM-01 -f scripts/bench/district.sql (into a migrated, empty database)
INSERT INTO envmon.upload (id, kind, uploader, sha256, size_bytes, status)
SELECT k.n, k.kind, 'bench', lpad(to_hex(k.n), 64, '0'), 0, 'loaded'
FROM (VALUES (1, 'emissions'), (2, 'sewage'), (3, 'water'), (4, 'green'), (5, 'waste')) k (n, kind);

-- 100 enterprises in 10 districts; each a flue-gas outlet (5 series) and a wastewater outlet
-- (6 series): 1,100 series, 8 of the 11 with a compliance role.
INSERT INTO envmon.site (kind, site_id, name, district)
SELECT 'enterprise', 'E' || lpad(e::text, 3, '0'), 'Enterprise ' || e, 'District ' || (e % 10)
FROM generate_series(1, 100) e;
INSERT INTO envmon.emission_series (enterprise_id, outlet_id, pollutant)
SELECT 'E' || lpad(e::text, 3, '0'), p.outlet, p.pollutant
FROM generate_series(1, 100) e
CROSS JOIN (VALUES ('G1', 'SO2'), ('G1', 'NOx'), ('G1', 'PM'), ('G1', 'a00000'), ('G1', 'a19001'),
                   ('W1', 'COD'), ('W1', 'NH3N'), ('W1', 'TP'), ('W1', 'TN'), ('W1', 'pH'), ('W1', 'w00000')) p (outlet, pollutant);
INSERT INTO envmon.site (kind, parent_id, site_id)
SELECT DISTINCT 'outlet', enterprise_id, outlet_id FROM envmon.emission_series;

-- The 12 months before this one (:first on), one row per series and local day: 24 hourly readings, a few flagged; about 1 series-day
-- in 5,000 over the limit (so that some enterprises fail in a month and most do not).
INSERT INTO envmon.emission_daily (series_id, day, valid_count, flagged_count, value_sum, limit_min, limit_max)
SELECT s.series_id, d::date, 24 - f.flagged, f.flagged,
       (24 - f.flagged) * CASE WHEN random() < 0.0002 THEN lim.hi * 1.2 ELSE lim.hi * (0.3 + 0.5 * random()) END,
       lim.lo, lim.hi
FROM envmon.emission_series s
CROSS JOIN generate_series(:'first'::date, (:'first'::date + interval '1 year - 1 day')::date, interval '1 day') d
CROSS JOIN LATERAL (SELECT CASE WHEN random() < 0.05 THEN 1 ELSE 0 END AS flagged) f
CROSS JOIN LATERAL (SELECT CASE s.pollutant WHEN 'pH' THEN 6 END::double precision AS lo,
                           CASE s.pollutant WHEN 'SO2' THEN 35 WHEN 'NOx' THEN 50 WHEN 'PM' THEN 10
                                WHEN 'COD' THEN 50 WHEN 'NH3N' THEN 5 WHEN 'TP' THEN 0.5 WHEN 'TN' THEN 15
                                WHEN 'pH' THEN 9 ELSE 1000 END::double precision AS hi) lim;

-- The other feeds, monthly: 20 plants, 30 second-level sections (4 samples a month), 10
-- districts of waste reports and one green survey each.
INSERT INTO envmon.sewage_report
SELECT 'P' || p, m::date, (m + interval '1 month - 1 day')::date, to_char(m, 'YYYY-MM'), 'District ' || (p % 10),
       10000 + p * 100, 9500 + p * 100 - (random() * 500)::int, 2, NULL, NULL
FROM generate_series(1, 20) p CROSS JOIN generate_series(:'first'::date, (:'first'::date + interval '11 months')::date, interval '1 month') m;
INSERT INTO envmon.water_sample (section_id, sampled_at, items, river_level, water_body, district, upload_id)
SELECT 'S' || s, t, jsonb_build_object('ph', round((6.5 + random() * 2)::numeric, 2), 'do', round((2 + random() * 7)::numeric, 2),
       'codmn', round((1 + random() * 12)::numeric, 2), 'nh3n', round((random() * 2.2)::numeric, 3),
       'tp', round((random() * 0.45)::numeric, 3)), 2, 'river', 'District ' || (s % 10), 3
FROM generate_series(1, 30) s CROSS JOIN generate_series((:'first' || ' 10:00+08')::timestamptz + interval '2 days', (:'first'::date + interval '1 year - 4 days')::timestamptz, interval '7 days') t;
INSERT INTO envmon.waste_report
SELECT 'District ' || k, m::date, (m + interval '1 month - 1 day')::date, to_char(m, 'YYYY-MM'),
       1000, 1000 - (random() * 3)::int, 50, 40 + (random() * 10)::int, 5, NULL, NULL
FROM generate_series(0, 9) k CROSS JOIN generate_series(:'first'::date, (:'first'::date + interval '11 months')::date, interval '1 month') m;
INSERT INTO envmon.green_survey
SELECT 'District ' || k, :'first'::date, (:'first'::date + interval '1 year - 1 day')::date, to_char(:'first'::date, 'YYYY'), 1000, 400 + k * 3, 90, 100000, 4, NULL, NULL
FROM generate_series(0, 9) k;

INSERT INTO envmon.plan_target (metric, scope, comparator, value, granularity, due) VALUES
    ('emissions_compliance_rate', 'all', '>=', 0.90, 'month', '2028-12-31'),
    ('sewage_treatment_rate', 'all', '>=', 0.95, 'month', '2028-12-31'),
    ('water_class_v_or_better_share', 'all', '>=', 0.50, 'month', '2028-12-31'),
    ('green_coverage_rate', 'all', '>=', 0.41, 'year', '2028-12-31'),
    ('park_green_per_capita_m2', 'all', '>=', 9, 'year', '2028-12-31'),
    ('white_pollution_remediation_rate', 'all', '>=', 0.90, 'month', '2028-12-31'),
    ('waste_harmless_transfer_rate', 'all', '=', 1, 'month', '2028-12-31')
ON CONFLICT (metric, scope) DO NOTHING;  -- `envmon migrate` seeds the same defaults
VACUUM ANALYZE;
