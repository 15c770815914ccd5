#!/usr/bin/env bash
# Builds and runs bench_fwd (tconv beside oneDNN and XNNPACK, one thread each)
# and writes bench/results/<host>.json and bench/results/<host>.md; with
# --bwd first, bench_bwd (the backward passes beside oneDNN, batches 16 and
# 64) into bench/results/<host>-bwd.{json,md}.
#
#   bench/run.sh [bench_fwd or Google Benchmark flags...]
#   bench/run.sh --bwd [bench_bwd or Google Benchmark flags...]
#   bench/run.sh --benchmark_filter='fwd/unet' --benchmark_min_time=0.2
#   bench/run.sh --tconv_layouts=nhwc,nchw --time=real
#
# Installs the Debian packages it needs when they are missing (as root).
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(libbenchmark-dev libdnnl-dev libxnnpack-dev libpthreadpool-dev meson ninja-build g++ pkg-config python3)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "run.sh: missing packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "run.sh: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

program=bench_fwd suffix=
if [ "${1:-}" = --bwd ]; then
  program=bench_bwd suffix=-bwd
  shift
fi

opts=(-Dbench=true -Dtests=false --buildtype=release)
if [ -f build-bench/meson-private/coredata.dat ]; then
  meson setup --reconfigure build-bench "${opts[@]}" >/dev/null
else
  meson setup build-bench "${opts[@]}" >/dev/null
fi
ninja -C build-bench "bench/$program" >/dev/null

host=$(uname -n)
host=${host%%.*}
mkdir -p bench/results
out=bench/results/$host$suffix.json
"./build-bench/bench/$program" \
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out" --benchmark_out_format=json "$@"
python3 bench/report.py "$out" | tee "bench/results/$host$suffix.md"
