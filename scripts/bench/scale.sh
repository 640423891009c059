#!/usr/bin/env bash
# Scale benchmark (issue 15, item 5): YEARS years of a district's hourly readings (1,100 series:
# ten years ≈ 96M rows in envmon.emission_reading, generated in SQL by scripts/bench/scale.sql
# with their daily aggregates by the loader's rule), in one embedded cluster, then:
#   - the rollups' refresh of everything, and plan_progress, metric_values and
#     enterprise_compliance (median of 5 runs each)             target: plan_progress < 1 s
#   - every console page through a real `envmon serve` (p50/p95/max of N requests)
#                                                                target: p95 < 1 s
#   - one more month (≈ 800k readings as CSV) loaded by `envmon ingest` into the big database
#     and, in the same run, into an empty one                    target: the same speed
# Usage: scripts/bench/scale.sh [YEARS] [N]     (defaults 10 and 20; YEARS=1 for a quick check)
# ENVMON=/path/to/envmon skips the release build. Needs about 25 GB of disk at ten years.
set -euo pipefail
cd "$(dirname "$0")/../.."
YEARS=${1:-10}
N=${2:-20}
. scripts/bench/embedded.sh scalebench
. scripts/bench/pages.sh
DB="$BASE/bench_scale?sslmode=disable"
EMPTY="$BASE/bench_empty?sslmode=disable"
psql -X -q "$BASE/postgres" -c "CREATE DATABASE bench_scale" -c "CREATE DATABASE bench_empty" >/dev/null
"$ENVMON" migrate --database-url "$DB" >/dev/null
"$ENVMON" migrate --database-url "$EMPTY" >/dev/null
zone=$(psql -X -At "$DB" -c "SELECT value FROM envmon.setting WHERE key = 'feed_time_zone'")

# The generated months end the month before last; last month is the one loaded at the end.
months=$((YEARS * 12))
extra="$(date -d "$(date +%Y-%m-01) -1 month" +%Y-%m-01)"
first="$(date -d "$extra -$months months" +%Y-%m-%d)"
echo "generating $YEARS years from $first (zone $zone)…" >&2
start=$(date +%s.%N)
psql -X -q -v first="$first" -v months="$months" -v zone="$zone" "$DB" -f scripts/bench/scale.sql >/dev/null
generated=$(echo "$(date +%s.%N) - $start" | bc -l)
psql -X -At "$DB" -c "SELECT 'readings: ' || (SELECT count(*) FROM envmon.emission_reading) || ', emission_daily rows: ' || (SELECT count(*) FROM envmon.emission_daily) || ', database: ' || pg_size_pretty(pg_database_size(current_database()))"
printf 'generated in %.0f s\n' "$generated"

# Times one statement: the median of 5 runs, in ms.
median_ms() {
    for _ in 1 2 3 4 5; do
        psql -X -At "$DB" -c '\timing on' -c "$1" | awk '/^Time:/ { print $2 }'
    done | sort -g | sed -n 3p
}
refresh=$(psql -X -At "$DB" -c '\timing on' -c "SELECT envmon.refresh_rollups()" | awk '/^Time:/ { print $2 }')
printf '%-48s %10.1f ms\n' "refresh_rollups (everything stale)" "$refresh"
for query in "SELECT * FROM analytics.plan_progress" "SELECT * FROM analytics.metric_values" \
             "SELECT * FROM analytics.enterprise_compliance"; do
    printf '%-48s %10.1f ms\n' "$query" "$(median_ms "$query")"
done

serve_and_sign_in
time_pages "$N" / /alerts /uploads /uploads/1 /enterprises /enterprises/E001 /water /water/S1 /sites

# One more month of the same 1,100 series as a CSV, as a bureau would upload it.
echo "writing one more month ($extra)…" >&2
psql -X -q "$DB" -c "\\copy (SELECT s.enterprise_id, s.outlet_id, s.pollutant, to_char(h AT TIME ZONE '$zone', 'YYYY-MM-DD HH24:MI'), round((CASE s.pollutant WHEN 'pH' THEN 6.5 + random() * 2 WHEN 'a19001' THEN 6 + random() * 6 ELSE coalesce(lim.hi, 1000) * (0.3 + 0.5 * random()) END)::numeric, 3), lim.hi FROM envmon.emission_series s CROSS JOIN generate_series('$extra'::timestamp AT TIME ZONE '$zone', ('$extra'::timestamp + interval '1 month') AT TIME ZONE '$zone' - interval '1 hour', interval '1 hour') h CROSS JOIN LATERAL (SELECT CASE s.pollutant WHEN 'SO2' THEN 35 WHEN 'NOx' THEN 50 WHEN 'PM' THEN 10 WHEN 'COD' THEN 50 WHEN 'NH3N' THEN 5 WHEN 'TP' THEN 0.5 WHEN 'TN' THEN 15 END AS hi) lim ORDER BY 1, 2, 3, 4) TO '$WORK/month.csv' WITH (FORMAT csv)"
sed -i '1i enterprise_id,outlet_id,pollutant,measured_at,value,limit' "$WORK/month.csv"
rows=$(($(wc -l <"$WORK/month.csv") - 1))
load() {
    local url=$1 start
    start=$(date +%s.%N)
    "$ENVMON" ingest --quiet --kind emissions --database-url "$url" "$WORK/month.csv" >"$WORK/out"
    grep -q "loaded $rows of $rows" "$WORK/out" || { echo "unexpected: $(cat "$WORK/out")" >&2; exit 1; }
    echo "$(date +%s.%N) - $start" | bc -l
}
empty=$(load "$EMPTY")
big=$(load "$DB")
printf '%-48s %10.2f s %10.0f rows/s\n' "one month ($rows readings) into an empty database" "$empty" "$(echo "$rows / $empty" | bc -l)"
printf '%-48s %10.2f s %10.0f rows/s\n' "the same month into the $YEARS-year database" "$big" "$(echo "$rows / $big" | bc -l)"
printf 'big/empty = %.2f\n' "$(echo "$big / $empty" | bc -l)"
printf '%-48s %10.1f ms\n' "plan_progress after the load" "$(median_ms "SELECT * FROM analytics.plan_progress")"
