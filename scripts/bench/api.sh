#!/usr/bin/env bash
# HTTP API benchmark, in ONE run against one embedded cluster:
#   (1) a ROWS-row emissions CSV loaded by `envmon ingest` (CLI) into database bench_cli,
#   (2) the same file POSTed to `envmon serve` (database bench_http) and timed until the
#       upload is `loaded` — target: within 1.3 × the CLI time,
#   (3) SMALL concurrent small uploads with distinct contents (CONCURRENCY at a time): every
#       one accepted (202), p50/p99 accept latency (target p99 < 200 ms), and all loaded
#       exactly once (one job attempt each, rows = SMALL × 3).
# Usage: scripts/bench/api.sh [ROWS] [SMALL] [CONCURRENCY]   (defaults 1000000 200 200)
# SERVERS=2 runs a second `envmon serve` on the same database; the small uploads alternate
# between the two (issue 15: two processes, exactly once, p99 accept < 200 ms).
# ENVMON=/path/to/envmon skips the release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1000000}
SMALL=${2:-200}
CONCURRENCY=${3:-200}
. scripts/bench/embedded.sh apibench
for db in bench_cli bench_http; do
    psql -X -q "$BASE/postgres" -c "CREATE DATABASE $db" >/dev/null
    "$ENVMON" migrate --database-url "$BASE/$db?sslmode=disable" >/dev/null
done
HTTP_DB="$BASE/bench_http?sslmode=disable"

CSV="$WORK/emissions.csv"
echo "generating $ROWS rows…" >&2
python3 - "$ROWS" "$CSV" <<'PY'
import sys, datetime
rows, path = int(sys.argv[1]), sys.argv[2]
pollutants = [("SO2", 35), ("NOx", 50), ("PM", 10)]
series, start = 1100, datetime.datetime(2025, 1, 1)
with open(path, "w") as f:
    f.write("enterprise_id,enterprise_name,district,outlet_id,pollutant,measured_at,value,unit,limit,flag\n")
    for i in range(rows):
        s, hour = i % series, i // series
        ent, outlet, (pol, lim) = s // 6, s % 2, pollutants[s % 3]
        t = start + datetime.timedelta(hours=hour)
        f.write(f"91310115MA1H{ent:06d},企业{ent},街道{ent % 12},DA{outlet:03d},{pol},{t:%Y-%m-%d %H:%M},{(i * 7919) % (lim * 12) / 10:.1f},mg/m3,{lim},N\n")
PY
echo "file: $(du -m "$CSV" | cut -f1) MiB" >&2

now() { date +%s.%N; }
T0=$(now)
"$ENVMON" ingest --database-url "$BASE/bench_cli?sslmode=disable" --kind emissions "$CSV" >/dev/null
CLI=$(echo "$(now) - $T0" | bc)

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TOKEN=$("$ENVMON" token create --database-url "$HTTP_DB" --name bench --scope upload)
"$ENVMON" serve --database-url "$HTTP_DB" --port "$PORT" --workers 2 --uploads-per-minute 0 --log-level warning 2>"$WORK/serve.log" &
SERVER_PID=$!
SERVER_PIDS="$SERVER_PIDS $SERVER_PID"
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
PORTS=$PORT
SECOND_PID=""
if [ "${SERVERS:-1}" = 2 ]; then
    # A second process on the same database, as behind a load balancer: the small uploads
    # alternate between the two, and both run ingest workers.
    PORT2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$ENVMON" serve --database-url "$HTTP_DB" --port "$PORT2" --workers 2 --uploads-per-minute 0 --log-level warning 2>"$WORK/serve2.log" &
    SECOND_PID=$!
    SERVER_PIDS="$SERVER_PIDS $SECOND_PID"
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT2/readyz" >/dev/null && break; sleep 0.2; done
    PORTS="$PORT,$PORT2"
fi

T0=$(now)
ID=$(curl -fs -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/csv' --data-binary "@$CSV" \
     "http://127.0.0.1:$PORT/v1/uploads?kind=emissions" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
ACCEPTED=$(echo "$(now) - $T0" | bc)
while :; do
    STATUS=$(curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/v1/uploads/$ID" \
             | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
    [ "$STATUS" = loaded ] || [ "$STATUS" = failed ] && break
    sleep 0.1
done
HTTP=$(echo "$(now) - $T0" | bc)
printf 'big file: CLI %.1f s, HTTP %.1f s (accepted after %.1f s, %s), ratio %.2f (target ≤ 1.30)\n' \
    "$CLI" "$HTTP" "$ACCEPTED" "$STATUS" "$(echo "$HTTP / $CLI" | bc -l)"

python3 - "$PORTS" "$TOKEN" "$SMALL" "$CONCURRENCY" <<'PY'
import json, sys, threading, time, urllib.request
ports, token, count, concurrency = sys.argv[1].split(","), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
latencies, ids, errors, lock = [], [], [], threading.Lock()
gate = threading.Semaphore(concurrency)
def send(i):
    body = "enterprise_id,outlet_id,pollutant,measured_at,value,limit\n" + "".join(
        f"B{i:05d},DA001,SO2,2026-03-01 {h:02d}:00,{20 + h},35\n" for h in range(3))
    req = urllib.request.Request(f"http://127.0.0.1:{ports[i % len(ports)]}/v1/uploads?kind=emissions", data=body.encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"})
    with gate:
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                answer = json.load(r)
            with lock:
                latencies.append(time.perf_counter() - t0); ids.append(answer["id"])
        except Exception as e:
            with lock: errors.append(str(e))
threads = [threading.Thread(target=send, args=(i,)) for i in range(count)]
t0 = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
wall = time.perf_counter() - t0
latencies.sort()
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")
print(f"small uploads: {len(ids)}/{count} accepted in {wall:.2f} s, {len(errors)} errors; "
      f"accept latency p50 {p(0.5):.0f} ms, p99 {p(0.99):.0f} ms (target < 200 ms)")
deadline = time.time() + 300
pending = set(ids)
while pending and time.time() < deadline:
    for i in list(pending):
        req = urllib.request.Request(f"http://127.0.0.1:{ports[0]}/v1/uploads/{i}", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req) as r:
            if json.load(r)["status"] in ("loaded", "failed"): pending.discard(i)
    time.sleep(0.2)
print(f"small uploads loaded after {time.perf_counter() - t0:.1f} s; {len(pending)} not finished")
PY
psql -X -q -t -A "$BASE/bench_http" -c "
    SELECT 'exactly once: ' || count(*) FILTER (WHERE u.status = 'loaded') || ' loaded, '
           || count(*) FILTER (WHERE j.attempts <> 1) || ' retried, '
           || (SELECT count(*) FROM envmon.emission_reading r JOIN envmon.emission_series s USING (series_id)
               WHERE s.enterprise_id LIKE 'B%') || ' rows (expected ' || $SMALL * 3 || ')'
    FROM envmon.upload u JOIN envmon.ingest_job j ON j.upload_id = u.id WHERE u.kind = 'emissions' AND u.size_bytes < 1000"
