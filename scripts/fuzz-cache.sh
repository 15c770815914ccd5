#!/usr/bin/env bash
# Fuzzes the tuning cache's parser (tune/cache_format.c) with libFuzzer from
# Debian's clang, under AddressSanitizer and UndefinedBehaviorSanitizer, for
# a bounded time, starting from the checked-in seeds (tests/fuzz/seeds/:
# valid, damaged, truncated and foreign files) and a dictionary of the
# format's tokens. Fails on a crash, a sanitizer report, a broken invariant
# (tests/fuzz/fuzz_cache.c traps), an input that takes longer than 5 s, or a
# leak.
#
#   bash scripts/fuzz-cache.sh            # 30 seconds
#   bash scripts/fuzz-cache.sh 600        # longer, by hand
#
# New corpus entries and any crashing input go to build-fuzz/ (never into the
# checked-in seeds); a crash is replayed with
#   build-fuzz/fuzz_cache build-fuzz/crash-<hash>
set -euo pipefail
cd "$(dirname "$0")/.."

# clang-14 and its runtime (libFuzzer lives in libclang-rt-14-dev) are
# Debian 12's.
bash scripts/install-deps.sh clang-14 libclang-rt-14-dev

seconds=${1:-30}
out=build-fuzz
rm -rf "$out"
mkdir -p "$out/corpus"
clang-14 -std=c11 -g -O1 -Wall -Wextra -Werror \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Iinclude -I. tests/fuzz/fuzz_cache.c tune/cache_format.c -lm -o "$out/fuzz_cache"

# -timeout: seconds per input before it counts as a hang; -max_len: a cache
# line is at most ~550 bytes, 8 KiB holds a header and a dozen lines.
ASAN_OPTIONS=detect_leaks=1 "$out/fuzz_cache" \
    -max_total_time="$seconds" -timeout=5 -max_len=8192 -rss_limit_mb=2048 \
    -dict=tests/fuzz/cache.dict -artifact_prefix="$out/" -print_final_stats=1 \
    "$out/corpus" tests/fuzz/seeds 2> "$out/fuzz.log" || {
    tail -n 60 "$out/fuzz.log"
    echo "fuzz-cache: the parser failed on an input; see $out/fuzz.log and $out/crash-*" >&2
    exit 1
}
# libFuzzer's closing lines: runs done, coverage, corpus size.
grep -E '^(#[0-9]+[[:space:]]+DONE|Done|stat::)' "$out/fuzz.log" | sed 's/^/fuzz-cache: /'
echo "fuzz-cache: no crash, hang or leak in ${seconds}s"
