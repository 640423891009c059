#!/usr/bin/env bash
# HJ 212 listener benchmark (not a test), in ONE run against one embedded cluster:
#   (1) LOGGERS simulated data loggers connect to `envmon serve --hj212` at once; each sends
#       CN 2061 hourly packets with 8 pollutants (Flag=5) as fast as it is answered, for SECONDS
#       seconds (each packet a new hour, so every one stores 8 readings);
#   (2) reported: packets/s answered, p50/p99 latency from the packet's last byte sent to the
#       CN 9014 received (client side: includes the loopback and the client's own scheduling),
#       peak RSS of the server (VmHWM);
#   (3) the same number of readings loaded with psql \copy into a scratch table, for scale.
# Targets (issue 13): ≥ 5,000 packets/s, p99 ≤ 500 ms, RSS ≤ 300 MB with 2,000 loggers.
# Usage: scripts/bench/hj212.sh [LOGGERS] [SECONDS]   (defaults 2000 30)
# ENVMON=/path/to/envmon skips the release build. The loggers are scripts/bench/hj212_load.swift
# (one thread, poll; built with swiftc -O); HJ212_CLIENT=python runs the earlier asyncio client,
# which took ~70 % of a core itself.
# SERVE_LOG=FILE with ENVMON_LOG_LEVEL=debug keeps the server log (group commit sizes and times);
# PG_LOG=FILE keeps PostgreSQL's log of every statement with its duration.
set -euo pipefail
cd "$(dirname "$0")/../.."
LOGGERS=${1:-2000}
SECONDS_RUN=${2:-30}
. scripts/bench/embedded.sh hj212bench
psql -X -q "$BASE/postgres" -c "CREATE DATABASE bench_hj212" >/dev/null
DB="$BASE/bench_hj212?sslmode=disable"
"$ENVMON" migrate --database-url "$DB" >/dev/null
# PG_LOG=FILE keeps PostgreSQL's log with every statement's duration (where a commit's time goes).
if [ -n "${PG_LOG:-}" ]; then
    psql -X -q "$DB" -c "ALTER DATABASE bench_hj212 SET log_min_duration_statement = 0" >/dev/null
    if [ -n "${PG_EXPLAIN_MS:-}" ]; then
        psql -X -q "$DB" -c "ALTER DATABASE bench_hj212 SET session_preload_libraries = 'auto_explain'" \
             -c "ALTER DATABASE bench_hj212 SET auto_explain.log_min_duration = $PG_EXPLAIN_MS" \
             -c "ALTER DATABASE bench_hj212 SET auto_explain.log_analyze = on" \
             -c "ALTER DATABASE bench_hj212 SET auto_explain.log_nested_statements = on" >/dev/null
    fi
fi
# The devices, straight into the table (SHA-256 of 'pw').
psql -X -q "$DB" -c "
    INSERT INTO envmon.hj212_device (mn, password_sha256, enterprise_id, outlet_id, created_by)
    SELECT 'BENCH' || lpad(i::text, 6, '0'), sha256('pw'), 'E' || i, 'DA001', 'bench'
    FROM generate_series(1, $LOGGERS) i" >/dev/null

PORT=$((20000 + RANDOM % 10000))
HTTP_PORT=$((PORT + 1))
ulimit -n 65536 2>/dev/null || true
ENVMON_LOG_LEVEL=${ENVMON_LOG_LEVEL:-info} "$ENVMON" serve --database-url "$DB" --port "$HTTP_PORT" --workers 0 --hj212 "127.0.0.1:$PORT" \
    --hj212-max-connections $((LOGGERS + 100)) 2>"$WORK/serve.log" &
SERVER_PID=$!
SERVER_PIDS="$SERVER_PIDS $SERVER_PID"
for _ in $(seq 1 300); do
    grep -q "HJ 212 listener accepting" "$WORK/serve.log" 2>/dev/null && break
    sleep 0.1
done

if [ "${HJ212_CLIENT:-native}" = native ]; then
    cp scripts/bench/hj212_load.swift "$WORK/main.swift"  # top-level code, beside the receiver's CRC
    swiftc -O -o "$WORK/hj212-load" "$WORK/main.swift" Sources/EnvMonHJ212/HJ212CRC.swift
    "$WORK/hj212-load" "$PORT" "$LOGGERS" "$SECONDS_RUN" "$WORK/latencies.txt"
else
python3 - "$PORT" "$LOGGERS" "$SECONDS_RUN" "$WORK/latencies.txt" <<'PY'
import asyncio, sys, time
port, loggers, seconds, out = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]

def crc(data: bytes) -> int:
    reg = 0xFFFF
    for b in data:
        reg = (reg >> 8) ^ b
        for _ in range(8):
            carry = reg & 1
            reg >>= 1
            if carry:
                reg ^= 0xA001
    return reg

CODES = ["a21026", "a21002", "a34013", "a19001", "a00000", "a01012", "a01014", "a21005"]
BASE_HOUR = int(time.time() // 3600) * 3600 - 40 * 86400

def packet(mn: str, n: int) -> bytes:
    t = time.gmtime(BASE_HOUR - n * 3600 + 8 * 3600)
    data_time = time.strftime("%Y%m%d%H%M%S", t)
    qn = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() + 8 * 3600)) + "%03d" % (n % 1000)
    cp = ";".join(f"{c}-Avg={(n % 97) + i + 1}.5,{c}-Flag=N" for i, c in enumerate(CODES))
    seg = f"QN={qn};ST=31;CN=2061;PW=pw;MN={mn};Flag=5;CP=&&DataTime={data_time};{cp}&&".encode()
    return b"##%04d" % len(seg) + seg + b"%04X\r\n" % crc(seg)

latencies = []
counts = [0]

async def logger(i: int, deadline: float):
    mn = "BENCH%06d" % (i + 1)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = 0
    try:
        while time.monotonic() < deadline:
            n += 1
            writer.write(packet(mn, n))
            await writer.drain()
            sent = time.monotonic()
            line = await asyncio.wait_for(reader.readuntil(b"\r\n"), 30)
            latencies.append(time.monotonic() - sent)
            if b"CN=9014" in line:
                counts[0] += 1
    finally:
        writer.close()

async def main():
    start = time.monotonic()
    deadline = start + seconds
    await asyncio.gather(*(logger(i, deadline) for i in range(loggers)), return_exceptions=True)
    elapsed = time.monotonic() - start
    latencies.sort()
    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")
    print(f"loggers={loggers} packets_answered={counts[0]} seconds={elapsed:.1f} "
          f"packets_per_s={counts[0] / elapsed:.0f} p50_ms={pct(0.50):.0f} p99_ms={pct(0.99):.0f}")
    with open(out, "w") as f:
        f.write(str(counts[0]))

asyncio.run(main())
PY
fi
PACKETS=$(cat "$WORK/latencies.txt")
# SERVE_LOG=FILE keeps the server's log (with ENVMON_LOG_LEVEL=debug: each commit's size and time).
if [ -n "${SERVE_LOG:-}" ]; then cp "$WORK/serve.log" "$SERVE_LOG"; fi
if [ -n "${PG_LOG:-}" ]; then find "$WORK/home" -name '*.log' -path '*pg*' -exec cat {} + > "$PG_LOG"; fi
RSS=$(grep VmHWM /proc/$SERVER_PID/status | awk '{print $2}')
echo "server peak RSS: $((RSS / 1024)) MB"
psql -X -q -t "$DB" -c "SELECT 'archived packets: ' || count(*) || ', outcomes: ' || string_agg(DISTINCT outcome, ',') FROM envmon.hj212_packet"
psql -X -q -t "$DB" -c "SELECT 'readings stored: ' || count(*) FROM envmon.emission_reading"

# The same number of readings through psql \copy, for scale.
READINGS=$((PACKETS * 8))
psql -X -q "$DB" -c "CREATE TABLE copy_bench (series_id integer, measured_at timestamptz, value double precision, flag text)"
seq 1 "$READINGS" | awk '{ printf "%d\t2026-01-01 00:00:00+00\t%d.5\tN\n", $1 % 16000, $1 % 97 }' > "$WORK/copy.tsv"
START=$(date +%s.%N)
psql -X -q "$DB" -c "\\copy copy_bench FROM '$WORK/copy.tsv'"
END=$(date +%s.%N)
echo "psql \\copy of $READINGS readings: $(echo "$END - $START" | bc) s"
