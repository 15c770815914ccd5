#!/usr/bin/env bash
# Fuzzes the public API (include/tconv.h) with libFuzzer from Debian's clang,
# under AddressSanitizer and UndefinedBehaviorSanitizer, for a bounded time:
# bytes become a descriptor (every field and enum, extreme and negative
# values), a crop helper, plan flags, and, for small tensors, every pass
# against the reference with guard bytes around every buffer
# (tests/fuzz/fuzz_api.c says what it checks). The library is built with the
# same compiler and sanitizers (and libFuzzer's coverage) in build-fuzz-api/.
# Fails on a crash, a sanitizer report, a broken promise (the target traps),
# an input that takes longer than 10 s, or a leak.
#
#   bash scripts/fuzz-api.sh            # 60 seconds
#   bash scripts/fuzz-api.sh 600        # longer, by hand
#
# New corpus entries and any crashing input go to build-fuzz-api/ (never into
# the source tree); a crash is replayed with
#   build-fuzz-api/fuzz_api build-fuzz-api/crash-<hash>
set -euo pipefail
cd "$(dirname "$0")/.."

# clang-14 and its runtime (libFuzzer lives in libclang-rt-14-dev) are
# Debian 12's.
bash scripts/install-deps.sh clang-14 libclang-rt-14-dev

seconds=${1:-60}
out=build-fuzz-api
san=address,undefined
# The library as a static archive, every file instrumented for coverage
# (fuzzer-no-link) and the sanitizers; only libtconv.a is built.
if [ ! -f "$out/build.ninja" ]; then
    log=$(mktemp)
    CC=clang-14 meson setup "$out" --buildtype=plain -Db_sanitize="$san" -Db_lundef=false \
        -Dc_args="-g -O1 -fsanitize=fuzzer-no-link -fno-sanitize-recover=all" \
        -Dtests=disabled -Dbench=disabled -Dexamples=disabled > "$log" 2>&1 || {
        cat "$log"
        rm -f "$log"
        exit 1
    }
    rm -f "$log"
fi
ninja -C "$out" libtconv.a > "$out/build.log" 2>&1 || { tail -n 40 "$out/build.log"; exit 1; }
clang-14 -std=c11 -g -O1 -Wall -Wextra -Werror \
    -fsanitize=fuzzer,$san -fno-sanitize-recover=all \
    -Iinclude tests/fuzz/fuzz_api.c "$out/libtconv.a" -lsleef -lhwloc -lm -lpthread \
    -o "$out/fuzz_api"

rm -rf "$out/corpus" "$out/seeds" "$out"/crash-* "$out"/leak-* "$out"/timeout-*
mkdir -p "$out/corpus" "$out/seeds"
# Seeds: valid small layers in the byte encoding of tests/fuzz/fuzz_api.c
# (a run byte: ISA cap and threads; twelve sizes, byte m giving m % 9 - 1;
# the crop mode and four crops, byte m < 200 giving m % 12 - 4; dtype,
# layout, weight layout and activation, byte m giving m % (count + 2) - 1;
# alpha; a crop helper and its six values; flags; an 8-byte seed; bias or
# not), so that the passes run from the first second on.
seed() { printf "$2" > "$out/seeds/$1"; }
# avx512, f32 NCHW/IOHW, batch 2, 4 -> 4 channels, 3x3 input, k3 s2, crops 1,1,0,0
seed nchw '\x02\x03\x05\x04\x04\x05\x04\x04\x03\x03\x02\x02\x02\x01\x05\x05\x04\x04\x01\x01\x01\x01\x00\x00\x01\x04\x04\x04\x04\x04\x04\x00\x01\x02\x03\x04\x05\x06\x07\x08\x01'
# avx2, f64 NHWC/OHWI, leaky ReLU
seed nhwc_f64 '\x01\x03\x05\x04\x04\x05\x04\x04\x03\x03\x02\x02\x02\x01\x05\x05\x04\x04\x02\x02\x02\x03\x00\x00\x01\x04\x04\x04\x04\x04\x04\x00\x01\x02\x03\x04\x05\x06\x07\x08\x01'
# avx512 on 2 threads, SSCB/MATLAB weights, 2 groups, dilation 2, tanh
seed sscb_groups '\x06\x03\x05\x05\x05\x07\x04\x04\x03\x03\x03\x03\x03\x01\x05\x05\x04\x04\x01\x03\x03\x07\x00\x00\x01\x04\x04\x04\x04\x04\x04\x00\x01\x02\x03\x04\x05\x06\x07\x08\x01'
# scalar, tconv_crop_pytorch padding 1, output_padding 1
seed pytorch '\x00\x03\x05\x04\x04\x05\x04\x04\x03\x03\x02\x02\x02\x01\x05\x05\x04\x04\x01\x01\x01\x01\x00\x06\x01\x05\x05\x04\x04\x05\x05\x00\x01\x02\x03\x04\x05\x06\x07\x08\x01'
# avx512, 7 channels 4x4, k4 s3, ELU alpha 6
seed elu '\x02\x02\x08\x05\x05\x08\x05\x05\x04\x04\x02\x02\x02\x01\x05\x05\x04\x04\x01\x01\x01\x05\x04\x00\x01\x04\x04\x04\x04\x04\x04\x00\x01\x02\x03\x04\x05\x06\x07\x08\x01'
# the first, with TCONV_TUNE_MEASURE of the backward passes
seed measure '\x02\x03\x05\x04\x04\x05\x04\x04\x03\x03\x02\x02\x02\x01\x05\x05\x04\x04\x01\x01\x01\x01\x00\x00\x01\x04\x04\x04\x04\x04\x04\xe2\x01\x02\x03\x04\x05\x06\x07\x08\x01'
# Plans read (and measuring ones write) the tuning cache: a fresh one here.
export TCONV_CACHE="$PWD/$out/tune-cache"
rm -f "$TCONV_CACHE"
# -timeout: seconds per input before it counts as a hang; -max_len: a desc,
# a crop helper's arguments, flags and a seed fit in ~200 bytes.
ASAN_OPTIONS=detect_leaks=1 "$out/fuzz_api" \
    -max_total_time="$seconds" -timeout=10 -max_len=512 -rss_limit_mb=4096 \
    -artifact_prefix="$out/" -print_final_stats=1 "$out/corpus" "$out/seeds" 2> "$out/fuzz.log" || {
    tail -n 60 "$out/fuzz.log"
    echo "fuzz-api: the API failed on an input; see $out/fuzz.log and $out/crash-*" >&2
    exit 1
}
# libFuzzer's closing lines: runs done, coverage, corpus size.
grep -E '^(#[0-9]+[[:space:]]+DONE|Done|stat::)' "$out/fuzz.log" | sed 's/^/fuzz-api: /'
echo "fuzz-api: no crash, hang, leak or broken promise in ${seconds}s"
