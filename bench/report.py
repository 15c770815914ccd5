#!/usr/bin/env python3
"""Turn bench_fwd's or bench_bwd's Google Benchmark JSON into markdown tables.

    python3 bench/report.py bench/results/<host>.json [more.json ...]

One table per pass in the file (fwd, bwd_data, bwd_weights), one row per
layer: GFLOP/s (median over repetitions; the single run when there were no
repetitions) of tconv, each extra tconv column (layouts, tuned, fused
activation), the peers that ran (oneDNN, XNNPACK); tconv / best peer; and the
fraction of the measured FMA peak reached by tconv and by the best peer.
"""
import json
import math
import re
import sys

PEERS = [("onednn", "oneDNN"), ("xnnpack", "XNNPACK")]
NOISY_CV = 0.05  # coefficient of variation above which a number is marked


def load(path):
    with open(path) as f:
        data = json.load(f)
    ctx = data.get("context", {})
    runs = {}  # (family name) -> {"median": entry, "cv": entry, "single": [entries]}
    errors = {}
    for b in data.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        name = re.sub(r"/real_time$", "", name)
        if b.get("error_occurred"):
            errors[name] = b.get("error_message", "error")
            continue
        slot = runs.setdefault(name, {"single": []})
        if b.get("run_type") == "aggregate":
            slot[b.get("aggregate_name")] = b
        else:
            slot["single"].append(b)
    return ctx, runs, errors


def value(slot, key):
    """Median of counter `key` and its coefficient of variation (or None)."""
    if "median" in slot and key in slot["median"]:
        cv = slot.get("cv", {}).get(key)
        return slot["median"][key], cv
    vals = [b[key] for b in slot["single"] if key in b]
    if not vals:
        return None, None
    vals.sort()
    return vals[len(vals) // 2], None


def fmt(v, cv=None, digits=1):
    if v is None:
        return "–"
    s = f"{v:.{digits}f}"
    if cv is not None and cv > NOISY_CV:
        s += "~"
    return s


def report(path):
    ctx, runs, errors = load(path)
    out = []
    passes = []
    for name in list(runs) + list(errors):
        m = re.match(r"(fwd|bwd_data|bwd_weights)/[^/]+/[^/]+$", name)
        if m and m.group(1) not in passes:
            passes.append(m.group(1))
    program = "bench_fwd" if passes == ["fwd"] or not passes else "bench_bwd"
    out.append(f"## {program} on `{ctx.get('host_name', '?')}`, {ctx.get('date', '')}")
    out.append("")
    out.append(f"- CPU: {ctx.get('num_cpus', '?')} x {ctx.get('mhz_per_cpu', '?')} MHz; "
               f"time base: {ctx.get('time_base', '?')}; load average at start: "
               f"{', '.join(f'{x:.2f}' for x in ctx.get('load_avg', []))}")
    out.append(f"- f32 FMA peak, one thread: {ctx.get('fma_peak', '?')}")
    for key in ("tconv", "onednn", "xnnpack"):
        out.append(f"- {ctx[key]}" if key in ctx else f"- {key}: not in this build")
    out.append("")
    for pass_ in passes:
        out.extend(table(pass_, runs, errors, ctx))
    peaks = [(n, value(s, "GFLOP/s")) for n, s in runs.items() if n.startswith("peak/")]
    if peaks:
        out.append("FMA peak benchmarks (GFLOP/s, median): " +
                   ", ".join(f"`{n}` {fmt(v, cv)}" for n, (v, cv) in peaks))
        out.append("")
    out.append("GFLOP/s counts 2·N·C·F·H·W·kh·kw/groups per pass, all taps, including those that "
               "land on cropped rows; a layer with large crops relative to its output can show a peak "
               f"fraction above 1. `~`: coefficient of variation over the repetitions > {NOISY_CV:.0%}.")
    return "\n".join(out)


def table(pass_, runs, errors, ctx):
    """The markdown lines of one pass's table."""
    out = [f"### {pass_}", ""] if pass_ != "fwd" else []
    layers = []  # in run order
    impls = {}
    for name in list(runs) + list(errors):
        m = re.match(re.escape(pass_) + r"/([^/]+)/([^/]+)$", name)
        if not m:
            continue
        layer, impl = m.groups()
        if layer not in impls:
            layers.append(layer)
            impls[layer] = {}
        impls[layer][impl] = name

    tconv_extra = sorted({i for l in layers for i in impls[l] if i.startswith("tconv_")})
    peak = float(ctx.get("peak_gflops", "0") or 0)

    peers = [(p, label) for p, label in PEERS if any(p in impls[l] for l in layers)]
    head = ["layer", "shape (N x C x H x W -> N x F x OH x OW)", "tconv"] + tconv_extra
    head += [label for _, label in peers] + ["tconv / best peer", "tconv peak frac", "best peer peak frac"]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + "|")

    notes = {}
    ratios = []
    for layer in layers:
        row_impls = impls[layer]
        cells = {}
        gf = {}
        shape = ""
        for impl, name in row_impls.items():
            if name in errors:
                notes[f"{layer}/{impl}"] = errors[name]
                cells[impl] = "not run"
                continue
            v, cv = value(runs[name], "GFLOP/s")
            gf[impl] = v
            cells[impl] = fmt(v, cv)
            if impl == "tconv":
                lab = runs[name].get("median", (runs[name]["single"] or [{}])[0]).get("label", "")
                m = re.search(r"(\d+x\d+x\d+x\d+ -> \d+x\d+x\d+x\d+ k\d+x\d+ s\d+x\d+)", lab)
                shape = m.group(1) if m else ""
        peer_gf = [gf[p] for p, _ in peers if gf.get(p)]
        best = max(peer_gf) if peer_gf else None
        t = gf.get("tconv")
        ratio = t / best if (t and best) else None
        if ratio:
            ratios.append(ratio)
        row = [layer, shape, cells.get("tconv", "–")] + [cells.get(i, "–") for i in tconv_extra]
        row += [cells.get(p, "–") for p, _ in peers]
        row += [fmt(ratio, digits=2),
                fmt(t / peak if (t and peak) else None, digits=2),
                fmt(best / peak if (best and peak) else None, digits=2)]
        out.append("| " + " | ".join(row) + " |")
    if ratios:
        geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        row = ["geometric mean", "", ""] + [""] * (len(tconv_extra) + len(peers)) + [f"{geo:.2f}", "", ""]
        out.append("| " + " | ".join(row) + " |")
        wins = sum(1 for r in ratios if r >= 1.0)
        out.append("")
        out.append(f"tconv at least as fast as the best peer on {wins} of {len(ratios)} layers.")
    out.append("")
    for k, msg in notes.items():
        out.append(f"- `{pass_}/{k}` not run: {msg}")
    if notes:
        out.append("")
    return out


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    print("\n\n".join(report(p) for p in argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
