#!/usr/bin/env bash
# Wide-export benchmark: an online-monitoring platform's hourly export as .xlsx — N rows, each one
# outlet-hour with SO2, NOx and 烟尘 (measured and corrected) and O2, a two-row header with the
# pollutants merged over their measures — against the same readings (4 per row: the three
# pollutants and O2) as a long CSV, both loaded by `envmon ingest` into fresh databases, timed in
# ONE run, alternating; and psql's \copy of the long CSV as the floor. Prints seconds, readings/s,
# the ratio wide/long and the peak RSS of each envmon run.
# Usage: scripts/bench/wide.sh [ROWS] [ROUNDS]   (defaults 1000000 1)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1000000}
ROUNDS=${2:-1}
READINGS=$((ROWS * 4))
WORK=$(mktemp -d /tmp/envmon-bench-XXXXXX)
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT
command -v /usr/bin/time >/dev/null || { apt-get install -y -q time >/dev/null; }

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

XLSX="$WORK/wide.xlsx"
CSV="$WORK/long.csv"
echo "generating $ROWS wide rows and $READINGS long rows…" >&2
python3 - "$ROWS" "$XLSX" "$CSV" <<'PY'
import sys, datetime, zipfile
rows, xlsx, csv = int(sys.argv[1]), sys.argv[2], sys.argv[3]
outlets = 1100 // 3
start = datetime.datetime(2025, 1, 1)
epoch = datetime.datetime(1899, 12, 30)
def cell_text(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
parts = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="小时数据" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',
    "xl/styles.xml": '<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="22" applyNumberFormat="1"/></cellXfs></styleSheet>',
}
with zipfile.ZipFile(xlsx, "w", zipfile.ZIP_DEFLATED) as z, open(csv, "w") as long:
    for name, text in parts.items():
        z.writestr(name, text)
    long.write("enterprise_id,outlet_id,pollutant,measured_at,value,unit,corrected,o2,flag\n")
    with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
        w = lambda s: sheet.write(s.encode())
        w('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
        top = ["企业编码", "排放口编码", "监测时间", "二氧化硫", "二氧化硫", "氮氧化物", "氮氧化物", "烟尘", "烟尘", "氧含量(%)"]
        low = ["企业编码", "排放口编码", "监测时间"] + ["实测浓度(mg/m³)", "折算浓度(mg/m³)"] * 3 + ["氧含量(%)"]
        cols = "ABCDEFGHIJ"
        w('<row r="1">' + "".join(cell_text(f"{c}1", t) for c, t in zip(cols, top)) + "</row>")
        w('<row r="2">' + "".join(cell_text(f"{c}2", t) for c, t in zip(cols, low)) + "</row>")
        for i in range(rows):
            o, hour = i % outlets, i // outlets
            ent, outlet = f"91310115MA1H{o // 2:06d}", f"DA{o % 2:03d}"
            t = start + datetime.timedelta(hours=hour)
            serial = (t - epoch).total_seconds() / 86400
            so2, nox, pm, o2 = (i * 7919) % 420 / 10, (i * 104729) % 600 / 10, (i * 31) % 120 / 10, 8 + i % 50 / 10
            r = i + 3
            w(f'<row r="{r}">{cell_text(f"A{r}", ent)}{cell_text(f"B{r}", outlet)}<c r="C{r}" s="1"><v>{serial!r}</v></c>'
              f'<c r="D{r}"><v>{so2}</v></c><c r="E{r}"><v>{so2 * 1.5:.2f}</v></c><c r="F{r}"><v>{nox}</v></c>'
              f'<c r="G{r}"><v>{nox * 1.5:.2f}</v></c><c r="H{r}"><v>{pm}</v></c><c r="I{r}"><v>{pm * 1.5:.2f}</v></c>'
              f'<c r="J{r}"><v>{o2}</v></c></row>')
            ts = f"{t:%Y-%m-%d %H:%M}"
            long.write(f"{ent},{outlet},SO2,{ts},{so2},mg/m3,{so2 * 1.5:.2f},{o2},\n{ent},{outlet},NOx,{ts},{nox},mg/m3,{nox * 1.5:.2f},{o2},\n"
                       f"{ent},{outlet},PM,{ts},{pm},mg/m3,{pm * 1.5:.2f},{o2},\n{ent},{outlet},a19001,{ts},{o2},%,,,\n")
        w('</sheetData><mergeCells count="3"><mergeCell ref="D1:E1"/><mergeCell ref="F1:G1"/><mergeCell ref="H1:I1"/></mergeCells></worksheet>')
PY
echo "files: $(du -h "$XLSX" | cut -f1) xlsx, $(du -h "$CSV" | cut -f1) csv" >&2

now() { date +%s.%N; }
psql_on() { psql -X -q -v ON_ERROR_STOP=1 "$1" "${@:2}"; }
COLS="enterprise_id text, outlet_id text, pollutant text, measured_at timestamptz, value double precision, unit text, corrected double precision, o2 double precision, flag text"

run_copy() {
    psql_on "$BASE/postgres" -c "DROP DATABASE IF EXISTS bench_copy" -c "CREATE DATABASE bench_copy"
    psql_on "$BASE/bench_copy" -c "CREATE TABLE bare ($COLS)"
    local t0; t0=$(now)
    psql_on "$BASE/bench_copy" -c "\\copy bare FROM '$CSV' WITH (FORMAT csv, HEADER true)"
    echo "$(now) - $t0" | bc
}
# run_envmon NAME FILE: seconds; the peak RSS goes to $WORK/rss_NAME.
run_envmon() {
    psql_on "$BASE/postgres" -c "DROP DATABASE IF EXISTS bench_$1" -c "CREATE DATABASE bench_$1"
    DATABASE_URL="$BASE/bench_$1?sslmode=disable" "$ENVMON" migrate >/dev/null
    local t0; t0=$(now)
    DATABASE_URL="$BASE/bench_$1?sslmode=disable" /usr/bin/time -v -o "$WORK/time_$1" \
        "$ENVMON" ingest --kind emissions "$2" >"$WORK/out_$1"
    local t1; t1=$(now)
    grep -q "loaded $READINGS of $READINGS rows" "$WORK/out_$1" || { cat "$WORK/out_$1" >&2; exit 1; }
    awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print int($2 / 1024)}' "$WORK/time_$1" >"$WORK/rss_$1"
    echo "$t1 - $t0" | bc
}

best() { sort -g | head -1; }
P=(); L=(); W=()
for round in $(seq 1 "$ROUNDS"); do
    P+=("$(run_copy)"); L+=("$(run_envmon long "$CSV")"); W+=("$(run_envmon wide "$XLSX")")
    echo "round $round: copy=${P[-1]}s long=${L[-1]}s wide=${W[-1]}s" >&2
done
p=$(printf '%s\n' "${P[@]}" | best); l=$(printf '%s\n' "${L[@]}" | best); w=$(printf '%s\n' "${W[@]}" | best)
printf '%-44s %8s %12s %8s\n' "path ($ROWS rows = $READINGS readings, best of $ROUNDS)" "seconds" "readings/s" "RSS MB"
printf '%-44s %8.2f %12.0f\n' "psql \\copy of the long CSV, bare table" "$p" "$(echo "$READINGS / $p" | bc -l)"
printf '%-44s %8.2f %12.0f %8s\n' "envmon ingest, long CSV" "$l" "$(echo "$READINGS / $l" | bc -l)" "$(cat "$WORK/rss_long")"
printf '%-44s %8.2f %12.0f %8s\n' "envmon ingest, wide .xlsx" "$w" "$(echo "$READINGS / $w" | bc -l)" "$(cat "$WORK/rss_wide")"
printf 'wide speed / long speed = %.2f (target ≥ 0.33)\n' "$(echo "$l / $w" | bc -l)"
"$ENVMON" db stop >/dev/null
