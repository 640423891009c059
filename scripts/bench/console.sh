#!/usr/bin/env bash
# Console benchmark: the server time of every console page on the benchmark district
# (scripts/bench/district.sql: about 9.6M hourly readings as their daily aggregate, 1,100
# series × 365 days, plus the other feeds), through a real `envmon serve` (release build) and a
# signed-in session, in one run against one embedded cluster.
# Prints p50, p95 and max of N requests per page (after one warm-up) and the overview's number of
# queries (from pg_stat_statements when available). Target: p95 ≤ 500 ms for every page.
#
# Usage: scripts/bench/console.sh [N]          (default 40)
# ENVMON=/path/to/envmon skips the release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-40}
. scripts/bench/embedded.sh consolebench
DB="$BASE/bench_console?sslmode=disable"
psql -X -q "$BASE/postgres" -c "CREATE DATABASE bench_console" >/dev/null
"$ENVMON" migrate --database-url "$DB" >/dev/null
echo "generating the district…" >&2
first="$(date -d "$(date +%Y-%m-01) -12 months" +%Y-%m-%d)"
psql -X -q -v ON_ERROR_STOP=1 -v first="$first" "$DB" -f scripts/bench/district.sql >/dev/null
psql -X -At "$DB" -c "SELECT 'emission_daily rows: ' || count(*) || ', readings represented: ' || sum(valid_count + flagged_count) FROM envmon.emission_daily" >&2
# The generator wrote the facts with SQL, so every enterprise and section is marked stale; a
# load would have refreshed its own, here one refresh of everything does (its time is printed).
psql -X -At "$DB" -c '\timing on' -c "SELECT 'rollups refreshed: ' || enterprise_months || ' enterprise months, ' || section_periods || ' section periods' FROM envmon.refresh_rollups()" >&2
PASSWORD="bench-$(date +%s)-console"
printf '%s\n' "$PASSWORD" | "$ENVMON" user add bench --role admin --password-stdin --database-url "$DB" >/dev/null

PORT=$((20000 + RANDOM % 10000))
"$ENVMON" serve --port "$PORT" --workers 1 --database-url "$DB" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
SERVER_PIDS="$SERVER_PIDS $SERVER_PID"
for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
    sleep 0.2
done
curl -sf -c "$WORK/cookies" -o /dev/null --data-urlencode "username=bench" --data-urlencode "password=$PASSWORD" \
    "http://127.0.0.1:$PORT/login" || { echo "sign-in failed" >&2; exit 1; }

printf '%-22s %8s %8s %8s\n' "page" "p50 ms" "p95 ms" "max ms"
for page in / /alerts /uploads /uploads/1 /enterprises /enterprises/E001 /water /water/S1 /sites; do
    curl -s -b "$WORK/cookies" -o /dev/null "http://127.0.0.1:$PORT$page"
    for _ in $(seq "$N"); do
        curl -s -b "$WORK/cookies" -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$PORT$page"
    done >"$WORK/times"
    if grep -qv '^200 ' "$WORK/times"; then echo "$page: not 200: $(grep -v '^200 ' "$WORK/times" | head -1)" >&2; exit 1; fi
    awk '{ print $2 * 1000 }' "$WORK/times" | sort -g | awk -v page="$page" '
        { t[NR] = $1 } END { printf "%-22s %8.1f %8.1f %8.1f\n", page, t[int((NR + 1) / 2)], t[int(NR * 0.95 + 0.999)], t[NR] }'
done
