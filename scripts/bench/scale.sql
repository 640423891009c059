-- The district of scripts/bench/scale.sh: :months months of hourly readings from :first (a
-- month start) for 1,100 series (100 enterprises, a flue-gas and a wastewater outlet each):
-- ten years are about 96M rows in envmon.emission_reading, with their daily aggregates computed
-- by the loader's rule from the stored readings, and :months of every other feed.
-- Usage: psql -v first=YYYY-MM-01 -v months=N -v zone=Asia/Shanghai -f scripts/bench/scale.sql
--        (into a migrated, empty database)
\set ON_ERROR_STOP on
SET synchronous_commit = off;
SET work_mem = '256MB';

INSERT INTO envmon.upload (id, kind, uploader, sha256, size_bytes, status)
SELECT k.n, k.kind, 'bench', lpad(to_hex(k.n), 64, '0'), 0, 'loaded'
FROM (VALUES (1, 'emissions'), (2, 'sewage'), (3, 'water'), (4, 'green'), (5, 'waste')) k (n, kind);
SELECT setval(pg_get_serial_sequence('envmon.upload', 'id'), 5);

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

-- The UTC month partitions the local months touch (one before and after the range).
SELECT envmon.ensure_emission_partition(m::date)
FROM generate_series(:'first'::date - interval '1 month', :'first'::date + make_interval(months => :months), interval '1 month') m;

-- One local month at a time, each its own transaction: the readings (a few flagged; about one
-- series-day in 5,000 over its limit all day, so some enterprise months fail), then that month's
-- daily aggregates by the loader's SQL rule over the stored readings.
SELECT format($month$
    INSERT INTO envmon.emission_reading (series_id, measured_at, value, limit_min, limit_max, flag, upload_id, line)
    SELECT s.series_id, h, CASE WHEN s.pollutant = 'pH' THEN 6.5 + random() * 2
                                WHEN s.pollutant = 'a19001' THEN 6 + random() * 6
                                WHEN (s.series_id * 7919 + (h AT TIME ZONE %2$L)::date - date '2000-01-01') %% 5000 = 0 THEN lim.hi * 1.2
                                ELSE lim.hi * (0.3 + 0.5 * random()) END,
           lim.lo, lim.hi, CASE WHEN random() < 0.002 THEN 'F' ELSE 'N' END, 1, NULL
    FROM envmon.emission_series s
    CROSS JOIN generate_series(%1$L::timestamp AT TIME ZONE %2$L,
                               (%1$L::timestamp + interval '1 month') AT TIME ZONE %2$L - interval '1 hour', interval '1 hour') h
    CROSS JOIN LATERAL (SELECT CASE s.pollutant WHEN 'pH' THEN 6 END::double precision AS lo,
                               CASE s.pollutant WHEN 'SO2' THEN 35 WHEN 'NOx' THEN 50 WHEN 'PM' THEN 10
                                    WHEN 'COD' THEN 50 WHEN 'NH3N' THEN 5 WHEN 'TP' THEN 0.5 WHEN 'TN' THEN 15
                                    WHEN 'pH' THEN 9 ELSE 1000 END::double precision AS hi) lim
    ORDER BY s.series_id, h
    $month$, m::date, :'zone'),
    format($daily$
    INSERT INTO envmon.emission_daily (series_id, day, valid_count, flagged_count, value_sum, limit_min, limit_max,
                                       corrected_sum, corrected_count, dilution_sum, dilution_count)
    SELECT r.series_id, (r.measured_at AT TIME ZONE %2$L)::date,
           count(*) FILTER (WHERE coalesce(r.flag, 'N') = 'N' AND r.value IS NOT NULL),
           count(*) FILTER (WHERE coalesce(r.flag, 'N') <> 'N'),
           sum(r.value) FILTER (WHERE coalesce(r.flag, 'N') = 'N'),
           max(r.limit_min), min(r.limit_max),
           sum(r.corrected) FILTER (WHERE coalesce(r.flag, 'N') = 'N'),
           count(r.corrected) FILTER (WHERE coalesce(r.flag, 'N') = 'N'),
           sum(r.value / (21 - r.o2)) FILTER (WHERE coalesce(r.flag, 'N') = 'N' AND r.corrected IS NULL),
           count(r.value / (21 - r.o2)) FILTER (WHERE coalesce(r.flag, 'N') = 'N' AND r.corrected IS NULL)
    FROM envmon.emission_reading r
    WHERE r.measured_at >= %1$L::timestamp AT TIME ZONE %2$L
      AND r.measured_at < (%1$L::timestamp + interval '1 month') AT TIME ZONE %2$L
    GROUP BY 1, 2
    $daily$, m::date, :'zone')
FROM generate_series(:'first'::date, :'first'::date + make_interval(months => :months - 1), interval '1 month') m
\gexec

-- The other feeds, monthly: 20 plants, 30 second-level sections (a sample a week), 10
-- districts of waste reports; a green survey per district and year.
INSERT INTO envmon.sewage_report
SELECT 'P' || p, m::date, (m + interval '1 month - 1 day')::date, to_char(m, 'YYYY-MM'), 'District ' || (p % 10),
       10000 + p * 100, 9500 + p * 100 - (random() * 500)::int, 2, NULL, NULL
FROM generate_series(1, 20) p
CROSS JOIN generate_series(:'first'::date, :'first'::date + make_interval(months => :months - 1), interval '1 month') m;
INSERT INTO envmon.water_sample (section_id, sampled_at, items, river_level, water_body, district, upload_id)
SELECT 'S' || s, t, jsonb_build_object('ph', round((6.5 + random() * 2)::numeric, 2), 'do', round((2 + random() * 7)::numeric, 2),
       'codmn', round((1 + random() * 12)::numeric, 2), 'nh3n', round((random() * 2.2)::numeric, 3),
       'tp', round((random() * 0.45)::numeric, 3)), 2, 'river', 'District ' || (s % 10), 3
FROM generate_series(1, 30) s
CROSS JOIN generate_series((:'first' || ' 10:00+08')::timestamptz + interval '2 days',
                           (:'first'::date + make_interval(months => :months) - interval '4 days')::timestamptz, interval '7 days') t;
INSERT INTO envmon.waste_report
SELECT 'District ' || k, m::date, (m + interval '1 month - 1 day')::date, to_char(m, 'YYYY-MM'),
       1000, 1000 - (random() * 3)::int, 50, 40 + (random() * 10)::int, 5, NULL, NULL
FROM generate_series(0, 9) k
CROSS JOIN generate_series(:'first'::date, :'first'::date + make_interval(months => :months - 1), interval '1 month') m;
INSERT INTO envmon.green_survey
SELECT 'District ' || k, y::date, (y + interval '1 year - 1 day')::date, to_char(y, 'YYYY'), 1000, 400 + k * 3, 90, 100000, 4, NULL, NULL
FROM generate_series(0, 9) k
CROSS JOIN generate_series(date_trunc('year', :'first'::date), :'first'::date + make_interval(months => :months - 1), interval '1 year') y;
VACUUM ANALYZE;
