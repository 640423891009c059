# Sourced by the console benchmarks (console.sh, scale.sh): serve_and_sign_in starts a release
# `envmon serve` on $DB and signs in an admin; time_pages prints p50, p95 and max of N requests
# per page after one warm-up, and fails on any answer other than 200.
# Needs $ENVMON, $DB, $WORK and $SERVER_PIDS from embedded.sh.

serve_and_sign_in() {
    local password
    password="bench-$(date +%s)-console"
    printf '%s\n' "$password" | "$ENVMON" user add bench --role admin --password-stdin --database-url "$DB" >/dev/null
    PORT=$((20000 + RANDOM % 10000))
    "$ENVMON" serve --port "$PORT" --workers 1 --database-url "$DB" >"$WORK/serve.log" 2>&1 &
    SERVER_PID=$!
    SERVER_PIDS="$SERVER_PIDS $SERVER_PID"
    for _ in $(seq 600); do
        curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
        sleep 0.2
    done
    curl -sf -c "$WORK/cookies" -o /dev/null --data-urlencode "username=bench" --data-urlencode "password=$password" \
        "http://127.0.0.1:$PORT/login" || { echo "sign-in failed" >&2; exit 1; }
}

# Usage: time_pages N PAGE…
time_pages() {
    local n=$1 page
    shift
    printf '%-22s %8s %8s %8s\n' "page" "p50 ms" "p95 ms" "max ms"
    for page in "$@"; do
        curl -s -b "$WORK/cookies" -o /dev/null "http://127.0.0.1:$PORT$page"
        for _ in $(seq "$n"); do
            curl -s -b "$WORK/cookies" -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:$PORT$page"
        done >"$WORK/times"
        if grep -qv '^200 ' "$WORK/times"; then echo "$page: not 200: $(grep -v '^200 ' "$WORK/times" | head -1)" >&2; exit 1; fi
        awk '{ print $2 * 1000 }' "$WORK/times" | sort -g | awk -v page="$page" '
            { t[NR] = $1 } END { printf "%-22s %8.1f %8.1f %8.1f\n", page, t[int((NR + 1) / 2)], t[int(NR * 0.95 + 0.999)], t[NR] }'
    done
}
