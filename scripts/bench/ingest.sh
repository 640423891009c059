#!/usr/bin/env bash
# Ingest benchmark: N emissions rows, timed in ONE run, alternating:
#   (a) psql \copy of the CSV into a bare table with the same columns,
#   (b) the naive idempotent SQL path: \copy into an unlogged staging table, then
#       INSERT … SELECT … ON CONFLICT DO NOTHING into a table keyed by the text natural key,
#   (c) envmon ingest (release build) into a fresh database,
# then (d) re-ingesting the same file (a duplicate) and (e) a corrected re-export (the same keys,
# every tenth value changed: 10 % superseded with history, 90 % unchanged), and (f) the floor an
# idempotent loader is held to (issue 15): psql \copy of exactly the rows envmon stored, in file
# order, into envmon's own keyed, month-partitioned emission_reading (partitions made first) of
# a fresh database. Prints rows/s, the ratios c/a, c/b, c/f and e/c, and envmon's peak RSS.
# Usage: scripts/bench/ingest.sh [ROWS] [ROUNDS]   (defaults 1000000 2)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1000000}
ROUNDS=${2:-2}
WORK=$(mktemp -d /tmp/envmon-bench-XXXXXX)
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
command -v /usr/bin/time >/dev/null || { apt-get install -y -q time >/dev/null; }

# ENVMON_BIN: a release binary to measure (default: build one into .build-release).
if [ -z "${ENVMON_BIN:-}" ]; then
    echo "building envmon (release)…" >&2
    swift build -c release --product envmon --scratch-path .build-release >/dev/null
    ENVMON_BIN="$(swift build -c release --scratch-path .build-release --show-bin-path)/envmon"
fi
ENVMON=$ENVMON_BIN
export ENVMON_HOME="$WORK/home"
"$ENVMON" db start >/dev/null
URL=$("$ENVMON" db url)
BASE=${URL%/*}

CSV="$WORK/emissions.csv"
echo "generating $ROWS rows…" >&2
python3 - "$ROWS" "$CSV" <<'PY'
import sys, datetime
rows, path = int(sys.argv[1]), sys.argv[2]
pollutants = [("SO2", 35), ("NOx", 50), ("PM", 10)]
series = 1100
start = datetime.datetime(2025, 1, 1)
with open(path, "w") as f:
    f.write("enterprise_id,enterprise_name,district,outlet_id,pollutant,measured_at,value,unit,limit,flag\n")
    for i in range(rows):
        s, hour = i % series, i // series
        ent, outlet, (pol, lim) = s // 6, s % 2, pollutants[s % 3]
        t = start + datetime.timedelta(hours=hour)
        f.write(f"91310115MA1H{ent:06d},企业{ent},街道{ent % 12},DA{outlet:03d},{pol},{t:%Y-%m-%d %H:%M},{(i * 7919) % (lim * 12) / 10:.1f},mg/m3,{lim},N\n")
PY
# The corrected re-export: every tenth data row's value + 1.
awk -F, 'BEGIN { OFS = "," } NR > 1 && NR % 10 == 0 { $7 = $7 + 1 } { print }' "$CSV" > "$WORK/corrected.csv"
SIZE=$(du -m "$CSV" | cut -f1)
echo "file: $CSV ($SIZE MiB)" >&2

COLS="enterprise_id text, enterprise_name text, district text, outlet_id text, pollutant text, measured_at timestamptz, value double precision, unit text, lim double precision, flag text"
now() { date +%s.%N; }
psql_on() { psql -X -q -v ON_ERROR_STOP=1 "$1" "${@:2}"; }

run_a() {
    psql_on "$BASE/postgres" -c "DROP DATABASE IF EXISTS bench_a" -c "CREATE DATABASE bench_a"
    psql_on "$BASE/bench_a" -c "CREATE TABLE bare ($COLS)"
    local t0; t0=$(now)
    psql_on "$BASE/bench_a" -c "\\copy bare FROM '$CSV' WITH (FORMAT csv, HEADER true)"
    echo "$(now) - $t0" | bc
}
run_b() {
    psql_on "$BASE/postgres" -c "DROP DATABASE IF EXISTS bench_b" -c "CREATE DATABASE bench_b"
    psql_on "$BASE/bench_b" -c "CREATE UNLOGGED TABLE staging ($COLS)" \
        -c "CREATE TABLE keyed ($COLS, PRIMARY KEY (enterprise_id, outlet_id, pollutant, measured_at))"
    local t0; t0=$(now)
    psql_on "$BASE/bench_b" -c "\\copy staging FROM '$CSV' WITH (FORMAT csv, HEADER true)" \
        -c "INSERT INTO keyed SELECT * FROM staging ON CONFLICT DO NOTHING"
    echo "$(now) - $t0" | bc
}
run_c() {
    psql_on "$BASE/postgres" -c "DROP DATABASE IF EXISTS bench_c" -c "CREATE DATABASE bench_c"
    DATABASE_URL="$BASE/bench_c?sslmode=disable" "$ENVMON" migrate >/dev/null
    local t0; t0=$(now)
    DATABASE_URL="$BASE/bench_c?sslmode=disable" /usr/bin/time -v -o "$WORK/time_c" \
        "$ENVMON" ingest --kind emissions "$CSV" >"$WORK/out_c"
    local t1; t1=$(now)
    grep -q "loaded $ROWS of $ROWS rows" "$WORK/out_c" || { cat "$WORK/out_c" >&2; exit 1; }
    echo "$t1 - $t0" | bc
}
run_d() {
    local t0; t0=$(now)
    DATABASE_URL="$BASE/bench_c?sslmode=disable" "$ENVMON" ingest --kind emissions "$CSV" >"$WORK/out_d"
    local t1; t1=$(now)
    grep -q "duplicate" "$WORK/out_d" || { cat "$WORK/out_d" >&2; exit 1; }
    echo "$t1 - $t0" | bc
}
run_e() {
    local t0; t0=$(now)
    DATABASE_URL="$BASE/bench_c?sslmode=disable" "$ENVMON" ingest --kind emissions "$WORK/corrected.csv" >"$WORK/out_e"
    local t1; t1=$(now)
    grep -q "loaded" "$WORK/out_e" || { cat "$WORK/out_e" >&2; exit 1; }
    echo "$t1 - $t0" | bc
}

run_f() {
    psql_on "$BASE/postgres" -c "DROP DATABASE IF EXISTS bench_f" -c "CREATE DATABASE bench_f"
    DATABASE_URL="$BASE/bench_f?sslmode=disable" "$ENVMON" migrate >/dev/null
    if [ ! -s "$WORK/stored.tsv" ]; then
        psql_on "$BASE/bench_c" -c "\\copy (SELECT * FROM envmon.emission_reading ORDER BY line) TO '$WORK/stored.tsv'"
    fi
    psql_on "$BASE/bench_c" -At -c "SELECT DISTINCT date_trunc('month', measured_at AT TIME ZONE 'UTC')::date FROM envmon.emission_reading" \
        | while read -r month; do psql_on "$BASE/bench_f" -c "SELECT envmon.ensure_emission_partition('$month'::date)" >/dev/null; done
    local t0; t0=$(now)
    psql_on "$BASE/bench_f" -c "\\copy envmon.emission_reading FROM '$WORK/stored.tsv'"
    echo "$(now) - $t0" | bc
}

best() { sort -g | head -1; }
A=(); B=(); C=(); D=(); E=(); F=(); RSS=0
for round in $(seq 1 "$ROUNDS"); do
    A+=("$(run_a)"); B+=("$(run_b)"); C+=("$(run_c)"); F+=("$(run_f)"); D+=("$(run_d)"); E+=("$(run_e)")
    rss=$(awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}' "$WORK/time_c")
    [ "$rss" -gt "$RSS" ] && RSS=$rss
    echo "round $round: a=${A[-1]}s b=${B[-1]}s c=${C[-1]}s f=${F[-1]}s duplicate=${D[-1]}s corrected=${E[-1]}s ($(head -1 "$WORK/out_e"))" >&2
done
a=$(printf '%s\n' "${A[@]}" | best); b=$(printf '%s\n' "${B[@]}" | best)
c=$(printf '%s\n' "${C[@]}" | best); d=$(printf '%s\n' "${D[@]}" | best); e=$(printf '%s\n' "${E[@]}" | best)
f=$(printf '%s\n' "${F[@]}" | best)
printf '%-34s %8s %12s\n' "path ($ROWS rows, best of $ROUNDS)" "seconds" "rows/s"
printf '%-34s %8.2f %12.0f\n' "(a) psql \\copy, bare table" "$a" "$(echo "$ROWS / $a" | bc -l)"
printf '%-34s %8.2f %12.0f\n' "(b) naive idempotent SQL" "$b" "$(echo "$ROWS / $b" | bc -l)"
printf '%-34s %8.2f %12.0f\n' "(c) envmon ingest" "$c" "$(echo "$ROWS / $c" | bc -l)"
printf '%-34s %8.2f\n' "(d) envmon ingest, duplicate" "$d"
printf '%-34s %8.2f %12.0f\n' "(f) psql \\copy, envmon's keyed table" "$f" "$(echo "$ROWS / $f" | bc -l)"
printf '%-34s %8.2f %12.0f\n' "(e) envmon ingest, 10 % corrected" "$e" "$(echo "$ROWS / $e" | bc -l)"
printf 'e/c = %.2f (corrections vs first load)   c/f = %.2f (envmon vs COPY into its own keyed table)\n' \
    "$(echo "$e / $c" | bc -l)" "$(echo "$c / $f" | bc -l)"
printf 'c/a = %.2f   c/b = %.2f   envmon peak RSS = %d MB\n' "$(echo "$c / $a" | bc -l)" "$(echo "$c / $b" | bc -l)" "$((RSS / 1024))"
"$ENVMON" db stop >/dev/null
