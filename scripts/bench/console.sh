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
. scripts/bench/pages.sh
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
serve_and_sign_in
time_pages "$N" / /alerts /uploads /uploads/1 /enterprises /enterprises/E001 /water /water/S1 /sites
