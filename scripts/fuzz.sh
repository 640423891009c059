#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS seconds (default 600):
#   scripts/fuzz.sh feeds|sniffer|xlsx|hj212|alert-files [SECONDS] [extra libFuzzer flags…]
# Builds the Fuzz/ package with -sanitize=fuzzer,address (its own .build, release with
# debug info), seeds the corpus from the repository's fixtures on first use, and keeps what
# the fuzzer learns in Fuzz/corpus/TARGET (not in git). A crash leaves crash-* in
# Fuzz/findings/TARGET/: turn it into a regression test, fix it, and keep the input.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh feeds|sniffer|xlsx|hj212|alert-files [SECONDS]}
seconds=${2:-600}
shift $(( $# >= 2 ? 2 : 1 ))

case "$target" in
    feeds) product=FuzzFeeds; seeds=(Tests/EnvMonIngestTests/Fixtures Tests/EnvMonStoreTests/Fixtures Tests/EnvMonTestSupport/Fixtures) ;;
    sniffer) product=FuzzSniffer; seeds=(Tests/EnvMonIngestTests/Fixtures) ;;
    xlsx) product=FuzzXLSX; seeds=() ;;
    hj212) product=FuzzHJ212; seeds=(Tests/EnvMonHJ212Tests/Fixtures) ;;
    alert-files) product=FuzzAlertFiles; seeds=(alerts) ;;
    *) echo "unknown target '$target': feeds, sniffer, xlsx, hj212 or alert-files" >&2; exit 2 ;;
esac

swift build --package-path Fuzz -c release --product "$product" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -g -Xswiftc -use-ld=lld >&2
binary=$(swift build --package-path Fuzz -c release --show-bin-path)/$product

corpus=Fuzz/corpus/$target
findings=Fuzz/findings/$target
mkdir -p "$corpus" "$findings"
if [ -z "$(ls -A "$corpus")" ]; then
    for dir in "${seeds[@]}"; do
        [ -d "$dir" ] && find "$dir" -type f -size -512k -exec cp -n {} "$corpus/" \; 2>/dev/null || true
    done
    [ "$target" = xlsx ] && python3 Fuzz/seed_xlsx.py "$corpus"
    # Feeds: the first two bytes choose kind/format/encoding and chunk size.
    if [ "$target" = feeds ]; then
        for file in "$corpus"/*; do
            for selector in '\x00\x04' '\x01\x10' '\x02\x01' '\x03\x40' '\x04\x08' '\x2a\x02'; do
                { printf "$selector"; cat "$file"; } > "$file.$(printf '%s' "$selector" | tr -d '\\x')"
            done
            rm -f "$file"
        done
    fi
fi

echo "fuzz: $product for $seconds s, corpus $corpus ($(ls "$corpus" | wc -l) inputs)" >&2
exec "$binary" "$corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$findings/" -print_final_stats=1 "$@"
