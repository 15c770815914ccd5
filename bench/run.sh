#!/usr/bin/env bash
# The benchmark of tconv on this machine, in one command (bench/README.md):
#
#   bench/run.sh [--label NAME] [--quick] [--no-pypi] [--scaling-threads N]
#                [--tuning-cache FILE] [-- GOOGLE_BENCHMARK_FLAGS...]
#
#   -h, --help            this text
#   --label NAME          results go to bench/results/NAME/ (default <host>-<date>)
#   --tuning-cache FILE   start the run's tuning cache from a copy of FILE (one
#                         tconv-tune filled, e.g. ~/.cache/tconv/tuning-<host>.txt);
#                         default: an empty one, so the tuned plans measure now
#   --quick               a few layers, fewer and shorter repetitions: a smoke
#                         run of every step (CI runs it), not numbers to publish
#   --no-pypi             skip peers.py (ONNX Runtime, OpenVINO and oneDNN from
#                         the Python package index: downloads of about 1 GB)
#   --scaling-threads N   the thread count of the scaling run (default: the
#                         cores this process may use; 1 skips it)
#   -- FLAGS              passed to every Google Benchmark program
#
# Steps: install the Debian packages it needs (as root or through sudo);
# build build-bench; bench_fwd (fwd.json: tconv's default plan, "tconv", and
# its tuned plan, "tconv_tuned", beside the peers), bench_bwd (bwd.json), the thread
# scaling pair (fwd-threads1.json and fwd-threads<N>.json, wall-clock time),
# peers.py (peers.json, onednn-pypi-*.json); then report.py prints the
# Markdown table (also in report.md) and writes the plots under plots/.
# The tuned plans use the run's own tuning cache, tuning-cache.txt in the
# results (TCONV_CACHE): measured while the plans are made, outside timing,
# and kept with the results; this host's cache is left alone.
# While a program runs, stderr shows which program, which benchmark, how
# many of how many are done, the time so far and an estimate of the time
# left: one line kept up to date on a terminal, a line per 5% otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

label="$(uname -n | cut -d. -f1)-$(date +%F)"
quick=0 pypi=1 scaling="" tuning_cache=""
gb_flags=()
usage() { sed -n '2,/^set -euo pipefail/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
while (($#)); do
  case "$1" in
  -h | --help) usage; exit 0 ;;
  --label) label=${2:?--label needs a name}; shift 2 ;;
  --label=*) label=${1#--label=}; shift ;;
  --quick) quick=1; shift ;;
  --no-pypi) pypi=0; shift ;;
  --scaling-threads) scaling=${2:?--scaling-threads needs a count}; shift 2 ;;
  --scaling-threads=*) scaling=${1#--scaling-threads=}; shift ;;
  --tuning-cache) tuning_cache=${2:?--tuning-cache needs a file}; shift 2 ;;
  --tuning-cache=*) tuning_cache=${1#--tuning-cache=}; shift ;;
  --) shift; gb_flags=("$@"); break ;;
  *) { echo "run.sh: unknown option '$1'"; echo; usage; } >&2; exit 2 ;;
  esac
done
case "$label" in
'' | *[!A-Za-z0-9._-]*) echo "run.sh: --label: letters, digits, '.', '_' and '-' only, not '$label'" >&2; exit 2 ;;
esac
if [ -n "$tuning_cache" ] && [ ! -r "$tuning_cache" ]; then
  echo "run.sh: --tuning-cache $tuning_cache: cannot read it" >&2; exit 2
fi

# Debian's python3 sees Debian's python3-matplotlib; a python3 earlier on
# PATH (pyenv, a virtual environment) may not.
py=/usr/bin/python3
bash scripts/install-deps.sh
bash scripts/install-deps.sh libbenchmark-dev libdnnl-dev libxnnpack-dev libpthreadpool-dev g++ \
  python3 python3-matplotlib python3-venv

opts=(-Dbench=enabled -Dtests=disabled -Dexamples=disabled --buildtype=release)
if [ -f build-bench/meson-private/coredata.dat ]; then
  meson setup --reconfigure build-bench "${opts[@]}" >/dev/null
else
  meson setup build-bench "${opts[@]}" >/dev/null
fi
ninja -C build-bench bench/bench_fwd bench/bench_bwd >/dev/null

out=bench/results/$label
mkdir -p "$out"
rm -f "$out"/*.json "$out"/report.md "$out"/plots/*.png "$out"/tuning-cache.txt
# The run's own tuning cache: what tconv_tuned takes or measures and stores.
export TCONV_CACHE=$PWD/$out/tuning-cache.txt
if [ -n "$tuning_cache" ]; then
  cp "$tuning_cache" "$TCONV_CACHE"
  echo "run.sh: tuning cache $TCONV_CACHE, a copy of $tuning_cache" >&2
fi

cores=$(nproc)
[ -n "$scaling" ] || scaling=$cores
reps=(--benchmark_repetitions=5 --benchmark_min_time=0.2)
filter=() bwd_filter=() batches=(--batches=16,64) layers='.*'
if ((quick)); then
  reps=(--benchmark_repetitions=3 --benchmark_min_time=0.02)
  layers='dcgan_512_256|fcn8s_upscore2|enet_up4_32'
  filter=(--benchmark_filter="^peak|/($layers)/")
  bwd_filter=(--benchmark_filter="^peak|/($layers)_b16/")
  batches=(--batches=16)
fi
common=(--run_label="$label" "${reps[@]}" --benchmark_report_aggregates_only=true --benchmark_out_format=json)

duration() {  # duration SECONDS: "42s", "3m05s", "1h02m"
  local s=$1
  if ((s < 60)); then printf '%ds' "$s"
  elif ((s < 3600)); then printf '%dm%02ds' $((s / 60)) $((s % 60))
  else printf '%dh%02dm' $((s / 3600)) $((s % 3600 / 60)); fi
}

progress() {  # progress PROGRAM TOTAL: follows the program's console table on stdin
  local program=$1 total=$2 done=0 start=$SECONDS last="" name msg elapsed left
  local step=$(((total + 19) / 20 > 0 ? (total + 19) / 20 : 1)) tty=0
  [ -t 2 ] && tty=1
  while IFS= read -r line; do
    # A result row starts with the benchmark's name ("fwd/unet_512_256/tconv/..."),
    # once per aggregate (_mean, _median, _stddev, _cv) or as an error row.
    name=${line%% *}
    case "$name" in */*) ;; *) continue ;; esac
    name=${name%_mean} name=${name%_median} name=${name%_stddev} name=${name%_cv}
    [ "$name" = "$last" ] && continue
    last=$name done=$((done + 1)) elapsed=$((SECONDS - start))
    left=$((total > done ? elapsed * (total - done) / done : 0))
    msg="run.sh: $program $done/$total, $(duration "$elapsed"), about $(duration "$left") left: $name"
    # No count (listing failed): what is done and the time, no estimate.
    ((total)) || msg="run.sh: $program $done done, $(duration "$elapsed"): $name"
    if ((tty)); then printf '\r\033[K%s' "${msg:0:$((${COLUMNS:-120} - 1))}" >&2
    elif ((done % step == 0 || done == total)); then echo "$msg" >&2; fi
  done
  ((tty)) && printf '\n' >&2
  return 0
}

run() {  # run NAME.json PROGRAM FLAGS...: one Google Benchmark program into $out/NAME.json
  local json=$1 program=$2 total
  shift 2
  local exe=./build-bench/bench/$program
  # How many benchmarks the run holds: the same flags, listed, not run.
  total=$("$exe" "${common[@]}" "$@" "${gb_flags[@]}" --benchmark_list_tests=true 2>/dev/null | grep -c / || true)
  echo "run.sh: $program $* -> $out/$json ($total benchmarks)" >&2
  "$exe" "${common[@]}" --benchmark_out="$out/$json" "$@" "${gb_flags[@]}" | progress "$program" "$total"
}

# --tconv_tuned: "tconv_tuned" (TCONV_TUNE_MEASURE) beside "tconv" (the
# default plan) on every layer, both in NHWC with OHWI weights.
run fwd.json bench_fwd --tconv_tuned "${filter[@]}"
run bwd.json bench_bwd "${batches[@]}" "${bwd_filter[@]}"
if ((scaling > 1)); then
  # Thread scaling: f32 at 1 and N threads, both on the wall clock (a
  # thread's CPU time would miss the other threads' work).
  run fwd-threads1.json bench_fwd --dtypes=f32 --time=real "${filter[@]}"
  run "fwd-threads$scaling.json" bench_fwd --dtypes=f32 --threads="$scaling" "${filter[@]}"
else
  echo "run.sh: one core: no thread-scaling run" >&2
fi
if ((pypi)); then
  peer_flags=(--repetitions 5 --min-time 0.2)
  ((quick)) && peer_flags=(--repetitions 3 --min-time 0.02 --layers "$layers" --bwd-batches 16)
  "$py" bench/peers.py --bench-fwd build-bench/bench/bench_fwd --context-from "$out/fwd.json" \
    --out "$out/peers.json" "${peer_flags[@]}"
else
  echo "run.sh: --no-pypi: the Python package index's peers are not run" >&2
fi

rm -f "$TCONV_CACHE.lock"  # the writers' lock file: nothing to keep
"$py" bench/report.py --plots "$out/plots" --out "$out/report.md" "$out"/*.json
