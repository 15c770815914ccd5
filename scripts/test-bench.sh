#!/usr/bin/env bash
# The benchmark's one command, end to end, on this machine (a step of
# scripts/test.sh): `bench/run.sh --quick` must produce the JSON files, the
# table and the plots; its JSON must merge with the results committed from
# another run into one comparison; tconv's default and tuned plans must be
# columns with their summaries; a peer that is missing must be skipped
# with a note, not fail the run. Quick mode times a few layers briefly: the
# numbers are not checked, only that every step produced what it promises.
#
#   bash scripts/test-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

label=ci-quick
out=bench/results/$label
trap 'rm -rf "$out"' EXIT
# --no-pypi: CI does not download the Python package index's peers (1 GB);
# peers.py's missing-peer path is what runs instead (an interpreter without
# the packages and no network use: --no-install).
bash bench/run.sh --quick --no-pypi --label "$label" | tee build-ci/bench-quick.md
/usr/bin/python3 bench/peers.py --no-install --bench-fwd build-bench/bench/bench_fwd \
    --context-from "$out/fwd.json" --out "$out/peers.json" --layers dcgan_512_256 --repetitions 2 --min-time 0.01

# The committed results of the latest full run (the README's numbers) to
# merge with: the last directory, by name, whose fwd.json has a run_label.
committed=$(/usr/bin/python3 - "$label" <<'PYEOF'
import glob, json, os, sys
dirs = [d for d in sorted(glob.glob("bench/results/*/")) if not d.endswith(f"/{sys.argv[1]}/")]
dirs = [d for d in dirs if os.path.exists(d + "fwd.json") and json.load(open(d + "fwd.json"))["context"].get("run_label")]
print(dirs[-1] if dirs else "")
PYEOF
)
[ -n "$committed" ] || { echo "test-bench: no committed results under bench/results/ to merge with" >&2; exit 1; }
/usr/bin/python3 bench/report.py --plots build-ci/bench-merged-plots "$committed"*.json "$out"/*.json \
    >build-ci/bench-merged.md

/usr/bin/python3 - "$out" build-ci/bench-quick.md build-ci/bench-merged.md "$committed" <<'PYEOF'
import glob, json, os, sys

out, quick_md, merged_md, committed = sys.argv[1:5]
failures = []

def need(cond, what):
    if not cond:
        failures.append(what)

layers = ["dcgan_512_256", "fcn8s_upscore2", "enet_up4_32"]
fwd = json.load(open(os.path.join(out, "fwd.json")))
ctx = fwd["context"]
for key in ("run_label", "host_fingerprint", "host_cpu_model", "host_isa", "host_l1d_kib", "host_cores",
            "tconv", "tconv_tuning", "peak_f32_gflops", "peak_f64_gflops", "bandwidth_gbs", "peer_onednn"):
    need(ctx.get(key), f"fwd.json context lacks {key}")
medians = {b["run_name"].replace("/real_time", ""): b for b in fwd["benchmarks"]
           if b.get("aggregate_name") == "median"}
for layer in layers:
    for impl in ("tconv", "tconv_tuned", "tconv_f64", "onednn", "xnnpack"):
        b = medians.get(f"fwd/{layer}/{impl}")
        need(b and b.get("GFLOP/s", 0) > 0 and b.get("bytes", 0) > 0 and b.get("peak_frac", 0) > 0,
             f"fwd/{layer}/{impl}: no median with GFLOP/s, bytes and peak_frac")
need("peak_end/fma_f32_avx512" in medians or "peak_end/fma_f32_avx2" in medians or os.uname().machine != "x86_64",
     "fwd.json has no peak_end benchmark")
bwd = json.load(open(os.path.join(out, "bwd.json")))
names = {b["run_name"] for b in bwd["benchmarks"] if b.get("aggregate_name") == "median"}
for layer in layers:
    for p in ("bwd_data", "bwd_weights"):
        for impl in ("tconv", "tconv_f64", "onednn"):
            need(f"{p}/{layer}_b16/{impl}" in names, f"bwd.json lacks {p}/{layer}_b16/{impl}")
peers = json.load(open(os.path.join(out, "peers.json")))
errors = [b for b in peers["benchmarks"] if b.get("error_occurred")]
need(errors and peers["context"].get("peers_out"), "peers.py without its packages: no skipped entries")

quick = open(quick_md).read()
need("tconv / best peer" in quick, "report: no per-layer table")
# The default and the tuned plan, each a column with its summary line.
need("| tconv (default) | tconv (tuned) |" in quick, "report: no default and tuned tconv columns")
for what in ("tconv / best peer: ", "tconv_tuned / best peer: ", "tconv / tconv_tuned: "):
    line = next((l for l in quick.splitlines() if l.startswith(what)), "")
    need("geometric mean" in line and "worst" in line, f"report: no summary '{what}...' with its worst row")
need(os.path.exists(os.path.join(out, "tuning-cache.txt")), "run.sh: no tuning-cache.txt in the results")
need("plots: " in quick.strip().splitlines()[-1], "run.sh: the last line is not the plots' path")
pngs = glob.glob(os.path.join(out, "plots", "*.png"))
need(len(pngs) >= 4, f"plots: {len(pngs)} PNG files")
for p in pngs:
    need(open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n", f"{p} is not a PNG")

merged = open(merged_md).read()
label_committed = json.load(open(glob.glob(committed + "fwd.json")[0]))["context"].get("run_label", "")
need(label_committed and label_committed in merged and "ci-quick" in merged,
     "merged report does not name both runs")
need(len(glob.glob("build-ci/bench-merged-plots/*.png")) >= 3, "merged report: plots missing")

for f in failures:
    print("test-bench: FAILED:", f)
print(f"test-bench: {len(failures)} failed checks" if failures else
      "test-bench: run.sh --quick produced the JSON, the table and the plots; the merge with "
      f"{committed} compares both runs")
sys.exit(1 if failures else 0)
PYEOF
