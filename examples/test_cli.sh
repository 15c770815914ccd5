#!/usr/bin/env bash
# The examples' command lines (examples/meson.build runs this as the test
# examples_cli, suite examples): --help and -h print the usage and exit 0;
# every bad argument exits 2 with a message naming it and the usage line;
# a short run of each prints what the README says it prints.
#
#   examples/test_cli.sh DCGAN_LAYER DCGAN_GENERATOR
set -uo pipefail
layer=$1 generator=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect STATUS WANT PROGRAM ARGS...: the exit status is STATUS and the
# output (stdout and stderr) holds WANT.
expect() {
    local status=$1 want=$2
    shift 2
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    [ "$rc" -eq "$status" ] || fail "$(basename "$1") ${*:2}: exit $rc, want $status; output: $out"
    grep -qF -- "$want" <<<"$out" || fail "$(basename "$1") ${*:2}: output lacks '$want': $out"
    return 0
}

for h in --help -h; do
    expect 0 "usage: dcgan_layer [options] [BATCH]" "$layer" "$h"
    expect 0 "usage: dcgan_generator" "$generator" "$h"
done
expect 0 "--no-onednn" "$layer" --help

# dcgan_layer: each bad argument, named, with the usage line.
expect 2 "unknown option '--bogus'" "$layer" --bogus
expect 2 "unknown option '-q'" "$layer" -q
expect 2 "batch '0'" "$layer" 0
expect 2 "batch '5000'" "$layer" 5000
expect 2 "batch 'abc'" "$layer" abc
expect 2 "batch '-1'" "$layer" -- -1
expect 2 "unexpected argument '2'" "$layer" 1 2
expect 2 "option '--runs' needs a value" "$layer" --runs
expect 2 "--runs '0'" "$layer" --runs=0
expect 2 "--threads '0'" "$layer" --threads 0
expect 2 "--threads '2x'" "$layer" -t 2x
expect 2 "option '--no-onednn=1' takes no value" "$layer" --no-onednn=1
expect 2 "usage: dcgan_layer" "$layer" --bogus

# dcgan_generator: the same.
expect 2 "unknown option '--bogus'" "$generator" --bogus
expect 2 "got 'abc'" "$generator" abc
expect 2 "got '-1'" "$generator" -- -1
expect 2 "got '12x'" "$generator" 12x
expect 2 "unexpected argument 'extra'" "$generator" 1 "$tmp/a.png" extra
expect 2 "usage: dcgan_generator" "$generator" --bogus

# A short run of the demo: every line its write-up shows (README, bench/README.md).
out=$("$layer" --runs 3 --threads 1 1 2>&1)
rc=$?
[ "$rc" -eq 0 ] || fail "dcgan_layer --runs 3 --threads 1 1: exit $rc: $out"
for want in "tconv " "layer:    DCGAN generator 512 -> 256" "1x512x4x4 -> 1x256x8x8" "plan:     fwd " \
    "checksum: sum " "every warm run gave the same bits" "cold: " "tconv_plan_create" \
    "warm: " "median of 3 runs" "GFLOP/s" "oneDNN:"; do
    grep -qF -- "$want" <<<"$out" || fail "dcgan_layer: output lacks '$want': $out"
done
case "$(uname -m)" in
x86_64 | aarch64) grep -qF "% of the FMA peak (1 core x " <<<"$out" || fail "dcgan_layer: no share of the peak: $out" ;;
esac
expect 0 "oneDNN:   left out (--no-onednn)" "$layer" --runs 2 --no-onednn 1

# The generator writes its PNG.
expect 0 "png:      $tmp/seed7.png" "$generator" 7 "$tmp/seed7.png"
[ -s "$tmp/seed7.png" ] || fail "dcgan_generator 7: no PNG at $tmp/seed7.png"

if [ "$failures" -ne 0 ]; then
    echo "examples_cli: $failures failure(s)"
    exit 1
fi
echo "examples_cli: all checks passed"
