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
first="$(date -d "$(date +%Y-%m-01) -12 months" +%Y-%m-%d)"
sql -v first="$first" -f "$root/scripts/bench/district.sql"
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

# First with every enterprise and section marked stale (the views compute them live, as they
# do for ids changed since the last refresh), then after the refresh a load or the evaluator makes.
echo "before the rollups' refresh (everything read live):"
time_query 'SELECT * FROM analytics.plan_progress'
sql -c '\timing on' -c 'SELECT * FROM envmon.refresh_rollups()' | grep -E '^Time' | sed 's/^/refresh of every enterprise and section: /'
echo "after it:"
time_query 'SELECT * FROM analytics.plan_progress'
time_query 'SELECT * FROM analytics.plan_progress_by_scope'
time_query 'SELECT * FROM analytics.metric_values'
time_query "SELECT * FROM analytics.metric_values WHERE metric = 'emissions_compliance_rate' AND scope = 'all'"
time_query 'SELECT * FROM analytics.enterprise_compliance'
time_query 'SELECT * FROM analytics.site_freshness'
