# Sourced by the HTTP, console and HJ 212 benchmarks: a scratch folder ($WORK), a release envmon
# ($ENVMON, built into .build-release unless given), its own embedded cluster in $WORK/home
# ($BASE = its URL without a database), and a cleanup on exit that stops the processes listed
# in $SERVER_PIDS, the cluster, and removes $WORK.
# Usage: . scripts/bench/embedded.sh NAME
WORK=$(mktemp -d "/tmp/envmon-$1-XXXXXX")
chmod 755 "$WORK"
SERVER_PIDS=""
cleanup() {
    for pid in $SERVER_PIDS; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
    ENVMON_HOME="$WORK/home" "$ENVMON" db stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "${ENVMON:-}" ]; then
    echo "building envmon (release)…" >&2
    swift build -c release --product envmon --scratch-path .build-release >/dev/null
    ENVMON="$(swift build -c release --scratch-path .build-release --show-bin-path)/envmon"
fi
export ENVMON_HOME="$WORK/home"
"$ENVMON" db start >/dev/null
URL=$("$ENVMON" db url)
BASE=${URL%/*}
