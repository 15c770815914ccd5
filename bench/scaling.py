#!/usr/bin/env python3
"""Thread scaling from two bench_fwd runs: one thread and N threads.

    bench_fwd --threads=1 --time=real --benchmark_out=one.json ...
    bench_fwd --threads=N --time=real --benchmark_out=many.json ...
    python3 bench/scaling.py one.json many.json

One row per layer: its work in GFLOP, each implementation's GFLOP/s with one
and with N threads (medians over repetitions) and the speedup. Both runs must
use wall-clock time (--time=real): a thread's CPU time misses the others'
work. Speedups of layers under MIN_GFLOP are shown but left out of the
summary line, where thread start-up rightly dominates.
"""
import json
import math
import re
import sys

IMPLS = [("tconv", "tconv"), ("onednn", "oneDNN"), ("xnnpack", "XNNPACK")]
MIN_GFLOP = 0.2
TARGET = 1.85


def load(path):
    with open(path) as f:
        data = json.load(f)
    ctx = data.get("context", {})
    if "real" not in ctx.get("time_base", ""):
        sys.exit(f"{path}: not a wall-clock run (--time=real); its speedups would be wrong")
    med = {}
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = re.sub(r"/real_time$", "", b.get("run_name", b["name"]))
        m = re.match(r"fwd/([^/]+)/([^/]+)$", name)
        if not m or "GFLOP/s" not in b:
            continue
        # time in ms (Unit kMillisecond) and rate give the layer's work
        gflop = b["GFLOP/s"] * b["real_time"] / 1e3
        med[m.groups()] = (b["GFLOP/s"], gflop)
    return ctx, med


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    ctx1, one = load(argv[1])
    ctxn, many = load(argv[2])
    n = ctxn.get("threads", "N")
    layers = []
    for layer, _ in list(one) + list(many):
        if layer not in layers:
            layers.append(layer)
    head = ["layer", "GFLOP"]
    for _, label in IMPLS:
        head += [f"{label} 1T", f"{label} {n}T", f"{label} speedup"]
    print("| " + " | ".join(head) + " |")
    print("|---|" + "---:|" * (len(head) - 1))
    speedups = {impl: [] for impl, _ in IMPLS}
    below = []
    for layer in layers:
        gflop = next((one[(layer, i)][1] for i, _ in IMPLS if (layer, i) in one), None)
        row = [layer, f"{gflop:.3f}" if gflop else "–"]
        for impl, _ in IMPLS:
            a, b = one.get((layer, impl)), many.get((layer, impl))
            if not a or not b:
                row += ["–", "–", "–"]
                continue
            s = b[0] / a[0]
            row += [f"{a[0]:.1f}", f"{b[0]:.1f}", f"{s:.2f}"]
            if gflop and gflop >= MIN_GFLOP:
                speedups[impl].append(s)
                if impl == "tconv" and s < TARGET:
                    below.append(f"{layer} {s:.2f}")
        print("| " + " | ".join(row) + " |")
    print()
    parts = []
    for impl, label in IMPLS:
        v = speedups[impl]
        if v:
            geo = math.exp(sum(map(math.log, v)) / len(v))
            parts.append(f"{label} geometric mean {geo:.2f}x (min {min(v):.2f}x)")
    print(f"Layers of at least {MIN_GFLOP} GFLOP, 1 -> {n} threads: " + "; ".join(parts) + ".")
    print(f"tconv layers below {TARGET}x: " + (", ".join(below) if below else "none") + ".")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
