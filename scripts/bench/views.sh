#!/usr/bin/env bash
# Times the analytics views on one year of emissions for 1,100 series: the daily aggregate of
# about 10M hourly readings (1,100 series × 365 days ≈ 400k emission_daily rows), generated in
# SQL, plus a little of every other feed. Prints the median of 5 runs of each timed query.
# Target: SELECT * FROM analytics.plan_progress under 1 s.
#
# Usage: scripts/bench/views.sh                 # starts a throw-away cluster with the machine's
#                                               # PostgreSQL binaries (PG_BIN, else pg_config)
#        DATABASE_URL=postgres://… scripts/bench/views.sh   # uses that (empty) database instead
# Run as root, the throw-away cluster runs as the postgres user.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
runs=5

if [[ -z "${DATABASE_URL:-}" ]]; then
    pg_bin="${PG_BIN:-$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}"
    work="$(mktemp -d /tmp/envmon-bench-views.XXXXXX)"
    as_owner=()
    if [[ "$(id -u)" == 0 ]]; then
        chown postgres "$work"
        as_owner=(runuser -u postgres --)
    fi
    port=$((20000 + RANDOM % 20000))
    "${as_owner[@]}" "$pg_bin/initdb" -D "$work/data" -U postgres -A trust -E UTF8 >"$work/initdb.log"
    "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w \
        -o "-c listen_addresses='' -c unix_socket_directories=$work -p $port -c shared_buffers=256MB" start >/dev/null
    stop() { "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$work/data" -m fast stop >/dev/null; rm -rf "$work"; }
    trap stop EXIT
    "$pg_bin/psql" -h "$work" -p "$port" -U postgres -qX -c 'CREATE DATABASE envmon_bench' postgres
    DATABASE_URL="postgresql://postgres@/envmon_bench?host=$work&port=$port"
fi

sql() { psql "$DATABASE_URL" -qX -v ON_ERROR_STOP=1 "$@"; }

echo "applying sql/migrations and sql/views"
for f in "$root"/sql/migrations/*.sql; do sql -1 -f "$f"; done
{
    echo 'SET client_min_messages = warning; BEGIN; DROP SCHEMA analytics CASCADE; CREATE SCHEMA analytics;'
    for f in "$root"/sql/views/*.sql; do cat "$f"; echo; done
    echo 'COMMIT;'
} | sql

echo "generating data"
sql <<'SQL'
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

-- 2025, one row per series and local day: 24 hourly readings, a few flagged; about 1 series-day
-- in 5,000 over the limit (so that some enterprises fail in a month and most do not).
INSERT INTO envmon.emission_daily (series_id, day, valid_count, flagged_count, value_sum, limit_min, limit_max)
SELECT s.series_id, d::date, 24 - f.flagged, f.flagged,
       (24 - f.flagged) * CASE WHEN random() < 0.0002 THEN lim.hi * 1.2 ELSE lim.hi * (0.3 + 0.5 * random()) END,
       lim.lo, lim.hi
FROM envmon.emission_series s
CROSS JOIN generate_series(DATE '2025-01-01', DATE '2025-12-31', interval '1 day') d
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
FROM generate_series(1, 20) p CROSS JOIN generate_series(DATE '2025-01-01', DATE '2025-12-01', interval '1 month') m;
INSERT INTO envmon.water_sample (section_id, sampled_at, items, river_level, water_body, district, upload_id)
SELECT 'S' || s, t, jsonb_build_object('ph', round((6.5 + random() * 2)::numeric, 2), 'do', round((2 + random() * 7)::numeric, 2),
       'codmn', round((1 + random() * 12)::numeric, 2), 'nh3n', round((random() * 2.2)::numeric, 3),
       'tp', round((random() * 0.45)::numeric, 3)), 2, 'river', 'District ' || (s % 10), 3
FROM generate_series(1, 30) s CROSS JOIN generate_series(TIMESTAMPTZ '2025-01-03 10:00+08', '2025-12-28', interval '7 days') t;
INSERT INTO envmon.waste_report
SELECT 'District ' || k, m::date, (m + interval '1 month - 1 day')::date, to_char(m, 'YYYY-MM'),
       1000, 1000 - (random() * 3)::int, 50, 40 + (random() * 10)::int, 5, NULL, NULL
FROM generate_series(0, 9) k CROSS JOIN generate_series(DATE '2025-01-01', DATE '2025-12-01', interval '1 month') m;
INSERT INTO envmon.green_survey
SELECT 'District ' || k, DATE '2025-01-01', DATE '2025-12-31', '2025', 1000, 400 + k * 3, 90, 100000, 4, NULL, NULL
FROM generate_series(0, 9) k;

INSERT INTO envmon.plan_target (metric, scope, comparator, value, granularity, due) VALUES
    ('emissions_compliance_rate', 'all', '>=', 0.90, 'month', '2028-12-31'),
    ('sewage_treatment_rate', 'all', '>=', 0.95, 'month', '2028-12-31'),
    ('water_class_v_or_better_share', 'all', '>=', 0.50, 'month', '2028-12-31'),
    ('green_coverage_rate', 'all', '>=', 0.41, 'year', '2028-12-31'),
    ('park_green_per_capita_m2', 'all', '>=', 9, 'year', '2028-12-31'),
    ('white_pollution_remediation_rate', 'all', '>=', 0.90, 'month', '2028-12-31'),
    ('waste_harmless_transfer_rate', 'all', '=', 1, 'month', '2028-12-31');
VACUUM ANALYZE;
SQL
sql -At -c "SELECT 'emission_daily rows: ' || count(*) || ', readings represented: ' || sum(valid_count + flagged_count) FROM envmon.emission_daily"

# Median of $runs timings (ms) of one query, after one warm-up run.
time_query() {
    local query="$1"
    local script
    script="$(printf '%s\n' "$query;" '\timing on')"
    for _ in $(seq "$runs"); do script+=$'\n'"$query;"; done
    sql -o /dev/null -c "$query" >/dev/null
    printf '%s\n' "$script" | sql -o /dev/null 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -g \
        | awk -v q="$query" '{ t[NR] = $1 } END { printf "%-60s median %8.1f ms (min %.1f, max %.1f, %d runs)\n", q, t[int((NR + 1) / 2)], t[1], t[NR], NR }'
}

time_query 'SELECT * FROM analytics.plan_progress'
time_query 'SELECT * FROM analytics.metric_values'
time_query "SELECT * FROM analytics.metric_values WHERE metric = 'emissions_compliance_rate' AND scope = 'all'"
time_query 'SELECT * FROM analytics.enterprise_compliance'
time_query 'SELECT * FROM analytics.site_freshness'
