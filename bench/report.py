#!/usr/bin/env python3
"""Markdown tables and PNG plots from tconv's benchmark results.

    python3 bench/report.py [--plots DIR] [--out FILE.md] FILE.json [FILE.json ...]

Reads the Google Benchmark JSON that bench_fwd, bench_bwd and peers.py write
(names, counters and context keys: bench/README.md; older files without
run_label, peak_f32_gflops or bytes are read too). Files with the same context
run_label (older files: the same host_name and date) are one source; a result
two of its files both have (same pass, layer, impl, thread count and time
base) is taken from the later file (by context date, then command-line
order), with a note.

Prints Markdown (and writes it to --out): with several sources first a
comparison by layer; then per source its warnings, the host and run header,
one table per pass and dtype at the smallest thread count (GFLOP/s of tconv,
its variants and each peer, tconv / best peer, % of the FMA peak, geometric
mean, wins; thread-CPU-time results where a wall-clock one exists too), and a
thread-scaling table when the source has wall-clock forward runs at two
thread counts. Warnings (noisy or single runs, peak
drift, frequency scaling) also go to stderr as "report.py: warning: ...".

With --plots DIR: gflops-<pass>.png, peak-fraction.png, threads.png and
roofline-<pass>.png in DIR (matplotlib's Agg backend; Debian's
python3-matplotlib serves /usr/bin/python3), linked from the Markdown; the
last line of stdout is then "plots: DIR (N files: ...)". Without matplotlib
the tables are still printed and the exit status is 1.
"""
import argparse
import json
import math
import os
import re
import statistics
import sys
from dataclasses import dataclass, field

PASSES = ("fwd", "bwd_data", "bwd_weights")
PEER_NAMES = {"onednn": "oneDNN", "xnnpack": "XNNPACK", "onednn_pypi": "oneDNN (PyPI)",
              "onnxruntime": "ONNX Runtime", "openvino": "OpenVINO"}
NOISY_CV = 0.10    # coefficient of variation of GFLOP/s above which a result is unreliable
PEAK_DRIFT = 0.10  # start-to-end change of the FMA peak that flags a run
MIN_GFLOP = 0.2    # layers with less work are left out of the speedup summary
TIME_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
NAME_RE = re.compile(r"(fwd|bwd_data|bwd_weights)/([^/]+)/([^/]+)$")
SHAPE_RE = re.compile(r"(\d+x\d+x\d+x\d+ -> \d+x\d+x\d+x\d+ k\d+x\d+ s\d+x\d+)")
SHAPE_HEAD = "shape (N x C x H x W -> N x F x OH x OW)"
NO_F64_PEER = "No peer runs f64 (oneDNN and XNNPACK have no f64 deconvolution on CPU)."


# --- reading ----------------------------------------------------------------

@dataclass
class Measure:
    """One benchmark of one file: medians over its repetitions."""
    file: str
    rate: float = None       # GFLOP/s (GB/s for peak/bandwidth)
    cv: float = None         # coefficient of variation of rate; None when unknown
    runs: int = 1
    peak_frac: float = None
    bytes: float = None
    gflop: float = None      # work of one iteration
    label: str = ""
    error: str = None
    base: str = "cpu"        # the file's time base: "cpu" or "real"

    @property
    def noisy(self):
        return self.cv is not None and self.cv > NOISY_CV


@dataclass
class Source:
    """The files of one run (one run_label) and their results."""
    label: str
    files: list = field(default_factory=list)    # (path, context), oldest first
    results: dict = field(default_factory=dict)  # (pass, layer, impl, threads, base) -> Measure
    layers: dict = field(default_factory=dict)   # pass -> layers in run order
    peaks: list = field(default_factory=list)    # (path, name, Measure) of peak/ and peak_end/
    notes: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def geomean(xs):
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def file_threads(ctx):
    return int(num(ctx.get("threads")) or 1)


def time_base(ctx):
    return "real" if "real" in ctx.get("time_base", "") else "cpu"


def to_measure(entries, path, base, counter="GFLOP/s"):
    """A Measure from one benchmark's entries (aggregates or iterations)."""
    failed = [e for e in entries if e.get("error_occurred")]
    if failed:
        return Measure(path, error=failed[0].get("error_message") or "error", base=base)
    aggs = {e.get("aggregate_name"): e for e in entries if e.get("run_type") == "aggregate"}
    runs = [e for e in entries if e.get("run_type") != "aggregate" and counter in e]
    if "median" in aggs:
        med, cv, n = aggs["median"], aggs.get("cv", {}).get(counter), aggs["median"].get("repetitions", 2)
    elif runs:  # no aggregates: one run, or repetitions a writer did not aggregate
        vals = [e[counter] for e in runs]
        med = sorted(runs, key=lambda e: e[counter])[len(runs) // 2]
        cv = statistics.stdev(vals) / statistics.mean(vals) if len(vals) > 1 and statistics.mean(vals) else None
        n = len(runs)
    else:
        return Measure(path, base=base)
    m = Measure(path, rate=med.get(counter), cv=cv, runs=n, peak_frac=med.get("peak_frac"),
                bytes=med.get("bytes"), label=med.get("label", ""), base=base)
    t = med.get("real_time" if base == "real" else "cpu_time")
    if m.rate is not None and t and counter == "GFLOP/s":
        m.gflop = m.rate * t * TIME_UNITS.get(med.get("time_unit", "ns"), 1e-9)
    return m


def read_json(path):
    """(context, {run name: [entries]}) of one file; names lose /real_time."""
    with open(path) as f:
        data = json.load(f)
    groups = {}
    for e in data.get("benchmarks", []):
        name = e.get("run_name") or e["name"]
        if "run_name" not in e and e.get("run_type") == "aggregate":
            name = name.removesuffix("_" + e.get("aggregate_name", ""))
        groups.setdefault(re.sub(r"/real_time$", "", name), []).append(e)
    return data.get("context", {}), groups


def add_file(src, path, ctx, groups):
    """Adds one file's results to its source; a later file's replace an earlier one's."""
    src.files.append((path, ctx))
    threads, base = file_threads(ctx), time_base(ctx)
    replaced = {}
    for name, entries in groups.items():
        if name.startswith(("peak/", "peak_end/")):
            counter = "GB/s" if name == "peak/bandwidth" else "GFLOP/s"
            src.peaks.append((path, name, to_measure(entries, path, base, counter)))
            continue
        m = NAME_RE.match(name)
        if not m:
            continue
        pass_, layer, impl = m.groups()
        key = (pass_, layer, impl, threads, base)
        if key in src.results:
            replaced.setdefault(src.results[key].file, []).append(name)
        src.results[key] = to_measure(entries, path, base)
        src.layers.setdefault(pass_, [])
        if layer not in src.layers[pass_]:
            src.layers[pass_].append(layer)
    for old, names in replaced.items():
        src.notes.append(f"`{os.path.basename(old)}` and `{os.path.basename(path)}` both have {len(names)} "
                         f"results at {threads} thread(s), {base} time (e.g. `{names[0]}`): the later "
                         f"file's (`{os.path.basename(path)}`) are kept.")


def load_sources(paths):
    """The sources of the given files, in command-line order of their first file."""
    by_label = {}
    for i, path in enumerate(paths):
        ctx, groups = read_json(path)
        label = ctx.get("run_label") or f"{ctx.get('host_name', '?')} {ctx.get('date', '')[:10]}".strip()
        by_label.setdefault(label, []).append((ctx.get("date", ""), i, path, ctx, groups))
    sources = []
    for label, files in by_label.items():
        src = Source(label)
        for _, _, path, ctx, groups in sorted(files, key=lambda f: f[:2]):
            add_file(src, path, ctx, groups)
        src.warnings = source_warnings(src)
        sources.append(src)
    return sources


# --- what a source holds ----------------------------------------------------

def impl_name(impl):
    return PEER_NAMES.get(impl, {"tconv_tuned": "tconv (tuned)"}.get(impl, impl))


def is_tconv(impl):
    return impl == "tconv" or impl.startswith("tconv_")


def tuned_impl(dtype):
    """tconv's tuned plan (bench_fwd --tconv_tuned) of a dtype."""
    return "tconv_tuned" if dtype == "f32" else "tconv_tuned_f64"


def dtype_of(impl):
    return "f64" if impl.endswith("_f64") else "f32"


def impl_order(impl):
    """Sort key: tconv, tconv_tuned, its other variants, the known peers in PEER_NAMES order, the rest."""
    base = impl.removesuffix("_f64")
    if is_tconv(base):
        return (0 if base == "tconv" else 0.5 if base == "tconv_tuned" else 1), impl
    peers = list(PEER_NAMES)
    return 2 + (peers.index(base) if base in peers else len(peers)), impl


def ctx_values(src, key, threads=None):
    """The distinct values of a context key over the source's files (of one thread count)."""
    vals = []
    for _, ctx in src.files:
        v = ctx.get(key)
        if (threads is None or file_threads(ctx) == threads) and v not in (None, "") and v not in vals:
            vals.append(v)
    return vals


def ctx_value(src, key, threads=None):
    vals = ctx_values(src, key, threads) or ctx_values(src, key)
    return vals[0] if vals else None


def thread_counts(src, pass_):
    return sorted({k[3] for k in src.results if k[0] == pass_})


def view(src, pass_, threads, base=None):
    """{(layer, impl): Measure} of one pass and thread count; CPU-time results
    are preferred where a wall-clock one exists too, unless base is given."""
    out = {}
    for (p, layer, impl, t, b), m in src.results.items():
        if p == pass_ and t == threads and base in (None, b) and ((layer, impl) not in out or b == "cpu"):
            out[(layer, impl)] = m
    return out


def peak_total(src, dtype, threads):
    """GFLOP/s the % of peak counts: one core's FMA peak times the threads it counts."""
    one = num(ctx_value(src, f"peak_{dtype}_gflops", threads))
    if not one and dtype == "f32":
        one = num(ctx_value(src, "peak_gflops", threads))
    if not one:
        one = max((m.rate for _, n, m in src.peaks if n.startswith(f"peak/fma_{dtype}_") and m.rate), default=None)
    cores = num(ctx_value(src, "host_cores")) or num(ctx_value(src, "num_cpus")) or threads
    n = num(ctx_value(src, "peak_threads", threads)) or min(threads, cores)
    return one * n if one else None


def bandwidth(src, threads):
    bw = num(ctx_value(src, "bandwidth_gbs", threads))
    return bw or next((m.rate for _, n, m in src.peaks if n == "peak/bandwidth" and m.rate), None)


def pct_of_peak(src, m, dtype, threads):
    if m is None or m.rate is None:
        return None
    if m.peak_frac is not None:
        return m.peak_frac
    peak = peak_total(src, dtype, threads)
    return m.rate / peak if peak else None


@dataclass
class Row:
    """One layer of one pass and dtype at one thread count."""
    layer: str
    cells: dict             # impl -> Measure, every impl of the layer
    main: Measure = None    # tconv (tconv_f64 for f64): the default (analytic) plan
    best: str = None        # the fastest peer of the dtype
    ratio: float = None     # main / best peer
    main_pct: float = None
    best_pct: float = None
    vs_f32: float = None    # tconv_f64 / tconv, f64 only
    tuned: Measure = None   # tconv_tuned (tconv_tuned_f64): the tuned plan, when the run has it
    tuned_ratio: float = None    # tuned / best peer
    default_vs_tuned: float = None  # main / tuned: how near the default plan is to the tuned one

    def used(self, key):
        """The measurements a ratio of this row is made of."""
        return {"ratio": [self.main, self.cells.get(self.best)],
                "tuned_ratio": [self.tuned, self.cells.get(self.best)],
                "default_vs_tuned": [self.main, self.tuned],
                "vs_f32": [self.main, self.cells.get("tconv")]}[key]

    def unreliable_for(self, key):
        return any(m and m.noisy for m in self.used(key))

    @property
    def unreliable(self):
        """Whether a measurement the ratios use (main, best peer, f64's tconv) is noisy."""
        used = [self.main, self.cells.get(self.best), self.vs_f32 and self.cells.get("tconv")]
        return any(m and m.noisy for m in used)


def pass_rows(src, pass_, dtype):
    """(threads, rows) of a pass and dtype at the source's smallest thread count."""
    counts = thread_counts(src, pass_)
    if not counts:
        return None, []
    threads, v = counts[0], view(src, pass_, counts[0])
    main_impl = "tconv" if dtype == "f32" else "tconv_f64"
    rows = []
    for layer in src.layers[pass_]:
        cells = {impl: m for (l, impl), m in v.items() if l == layer}
        if not any(dtype_of(i) == dtype for i in cells):
            continue
        row = Row(layer, cells, main=cells.get(main_impl), tuned=cells.get(tuned_impl(dtype)))
        peers = [(m.rate, i) for i, m in cells.items() if not is_tconv(i) and dtype_of(i) == dtype and m.rate]
        row.best = max(peers)[1] if peers else None
        rate = row.main.rate if row.main else None
        tuned = row.tuned.rate if row.tuned else None
        if rate and row.best:
            row.ratio = rate / cells[row.best].rate
        if tuned and row.best:
            row.tuned_ratio = tuned / cells[row.best].rate
        if rate and tuned:
            row.default_vs_tuned = rate / tuned
        row.main_pct = pct_of_peak(src, row.main, dtype, threads)
        row.best_pct = pct_of_peak(src, cells.get(row.best), dtype, threads)
        f32 = cells.get("tconv")
        if dtype == "f64" and rate and f32 and f32.rate:
            row.vs_f32 = rate / f32.rate
        rows.append(row)
    return threads, rows


# --- Markdown ---------------------------------------------------------------

def md_table(head, rows, left=1):
    align = ["---"] * left + ["---:"] * (len(head) - left)
    return (["| " + " | ".join(head) + " |", "|" + "|".join(align) + "|"]
            + ["| " + " | ".join(r) + " |" for r in rows])


def cell(m):
    if m is None:
        return "–"
    if m.error:
        return "not run"
    if m.rate is None:
        return "–"
    return f"{m.rate:.1f} ±{m.cv:.0%} ⚠" if m.noisy else f"{m.rate:.1f}"


def fmt(x, pct=False):
    return "–" if x is None else f"{100 * x:.0f}%" if pct else f"{x:.2f}"


def shape_of(row):
    labels = [row.cells[i].label for i in sorted(row.cells, key=impl_order) if is_tconv(i)]
    found = (SHAPE_RE.search(lab) for lab in labels)
    return next((m.group(1) for m in found if m), "")


def error_notes(rows, impls):
    """'not run' lines: one per message and set of layers, not one per cell."""
    by_msg = {}
    for row in rows:
        for impl in impls:
            m = row.cells.get(impl)
            if m and m.error:
                by_msg.setdefault(m.error, {}).setdefault(impl, []).append(row.layer)
    lines = []
    for msg, per_impl in by_msg.items():
        by_layers = {}
        for impl, layers in per_impl.items():
            by_layers.setdefault(tuple(layers), []).append(impl_name(impl))
        for layers, names in by_layers.items():
            where = (f"every layer ({len(layers)})" if len(layers) == len(rows) > 1
                     else ", ".join(f"`{l}`" for l in layers))
            lines.append(f"- {', '.join(names)} not run on {where}: {msg}")
    return lines


def single_run_note(rows, impls):
    """One line saying which GFLOP/s come from a single run (variation unknown)."""
    counts = {}
    for row in rows:
        for impl in impls:
            m = row.cells.get(impl)
            if m and m.rate is not None:
                counts.setdefault(impl, [0, 0])[0] += m.runs == 1
                counts[impl][1] += 1
    single = {i: c for i, c in counts.items() if c[0]}
    if not single:
        return []
    if all(c[0] == c[1] for c in counts.values()):
        return ["- (1 run): every GFLOP/s here is a single run (no repetitions): its variation is unknown."]
    parts = ", ".join(f"{impl_name(i)} ({a} of {b} layers)" for i, (a, b) in single.items())
    return [f"- (1 run): single runs (no repetitions, variation unknown): {parts}."]


def time_base_note(rows, impls):
    """A line naming the time base of each impl when a table mixes them."""
    bases = {}
    for row in rows:
        for impl in impls:
            if row.cells.get(impl) and row.cells[impl].rate is not None:
                bases.setdefault(row.cells[impl].base, []).append(impl_name(impl))
    if len(bases) < 2:
        return []
    what = {"cpu": "thread CPU time", "real": "wall clock"}
    return ["- time base: " + "; ".join(f"{what[b]} for {', '.join(dict.fromkeys(names))}"
                                        for b, names in sorted(bases.items())) + "."]


WITHIN = 0.10  # the default plan counts as near the tuned one within this fraction


def summary_lines(rows, key, what):
    """Geometric mean of a ratio (key: a Row attribute), with its worst row and,
    for a ratio over the best peer, the win count (for the default plan over the
    tuned one, the rows within 10%): over the reliable rows, and, when some are
    not, over all rows' medians too (on a noisy machine the reliable ones may be
    too few to mean much)."""
    who = what.split(" / ")[0]

    def summary(items):
        values = [v for _, v in items]
        out = f"geometric mean {geomean(values):.2f}"
        if key in ("ratio", "tuned_ratio"):
            out += f", {who} at least as fast as the best peer on {sum(v >= 1 for v in values)} of {len(values)} layers"
        elif key == "default_vs_tuned":
            out += (f", the default within {WITHIN:.0%} of the tuned plan on "
                    f"{sum(v >= 1 - WITHIN for v in values)} of {len(values)} layers")
        if key != "vs_f32":
            layer, worst = min(items, key=lambda it: it[1])
            out += f", worst {worst:.2f} (`{layer}`)"
        return out
    good = [(r.layer, getattr(r, key)) for r in rows if getattr(r, key) and not r.unreliable_for(key)]
    every = [(r.layer, getattr(r, key)) for r in rows if getattr(r, key)]
    if not every:
        return []
    if len(good) == len(every):
        return [f"{what}: {summary(good)}.", ""]
    left = len(every) - len(good)
    reliable = f"over the {len(good)} reliable rows, {summary(good)}" if good else "no reliable row"
    return [f"{what}: {reliable} ({left} with a cv > {NOISY_CV:.0%} in the ratio left out); "
            f"over all {len(every)} rows' medians, {summary(every)}.", ""]


def pass_table(src, pass_, dtype):
    """The Markdown of one pass and dtype of one source."""
    threads, rows = pass_rows(src, pass_, dtype)
    if not rows:
        return []
    impls = sorted({i for r in rows for i in r.cells if dtype_of(i) == dtype}, key=impl_order)
    peers = [i for i in impls if not is_tconv(i)]
    main = "tconv" if dtype == "f32" else "tconv_f64"
    tuned = tuned_impl(dtype) if any(r.tuned for r in rows) else None
    names = {main: f"{main} (default)", tuned: f"{main} (tuned)"} if tuned else {}
    head = ["layer", SHAPE_HEAD] + [names.get(i, impl_name(i)) for i in impls] + [f"{main} % of {dtype} peak"]
    head += [f"{tuned} % of {dtype} peak"] if tuned else []
    head += ["tconv_f64 / tconv (f32)"] if dtype == "f64" else []
    head += [f"{main} / best peer"] if peers else []
    head += [f"{tuned} / best peer"] if peers and tuned else []
    head += [f"{main} / {tuned}"] if tuned else []
    head += ["best peer % of peak"] if peers else []
    body = []
    for r in rows:
        line = [r.layer, shape_of(r)] + [cell(r.cells.get(i)) for i in impls] + [fmt(r.main_pct, True)]
        line += [fmt(pct_of_peak(src, r.tuned, dtype, threads), True)] if tuned else []
        line += [fmt(r.vs_f32)] if dtype == "f64" else []
        line += [fmt(r.ratio)] if peers else []
        line += [fmt(r.tuned_ratio)] if peers and tuned else []
        line += [fmt(r.default_vs_tuned)] if tuned else []
        line += [fmt(r.best_pct, True)] if peers else []
        body.append(line)
    out = [f"### {pass_}, {dtype}, {threads} thread(s): GFLOP/s", ""] + md_table(head, body, 2) + [""]
    if tuned:
        out += [f"`{main}` is tconv's default plan (the analytic choice, no tuning flag used: "
                f"`TCONV_TUNE_NONE`); `{tuned}` its tuned plan (`TCONV_TUNE_MEASURE`: the run's tuning "
                "cache entry, else measured when the plan was made, outside timing).", ""]
    if dtype == "f64":
        out += summary_lines(rows, "vs_f32", "tconv_f64 / tconv (f32)")
    if peers:
        out += summary_lines(rows, "ratio", f"{main} / best peer")
        if tuned:
            out += summary_lines(rows, "tuned_ratio", f"{tuned} / best peer")
    elif dtype == "f64":
        out += [NO_F64_PEER, ""]
    if tuned:
        out += summary_lines(rows, "default_vs_tuned", f"{main} / {tuned}")
    notes = error_notes(rows, impls) + single_run_note(rows, impls) + time_base_note(rows, impls)
    return out + notes + ([""] if notes else [])


def scaling_data(src):
    """(t1, tN, rows, note): per layer (layer, gflop, {impl: (rate1, rateN, noisy)}) of the
    fwd pass between the smallest and largest thread count; rows is None with a note
    when that cannot be computed."""
    counts = thread_counts(src, "fwd")
    if len(counts) < 2:
        return None, None, None, None
    t1, tn = counts[0], counts[-1]
    one, many = view(src, "fwd", t1, "real"), view(src, "fwd", tn, "real")
    if not one or not many:
        cpu = t1 if not one else tn
        return t1, tn, None, (f"Thread scaling 1 -> {tn}: the fwd results at {cpu} thread(s) are CPU-time based; "
                              "speedups need wall-clock runs (`--time=real`) at both thread counts, since one "
                              "thread's CPU time misses the other threads' work. No scaling table.")
    rows = []
    for layer in src.layers["fwd"]:
        pairs = {i: (one[(layer, i)], many[(layer, i)]) for (l, i) in one if l == layer and (l, i) in many}
        pairs = {i: (a, b) for i, (a, b) in pairs.items() if a.rate and b.rate}
        if pairs:
            work = [a.gflop for i, (a, _) in sorted(pairs.items(), key=lambda p: impl_order(p[0])) if a.gflop]
            rows.append((layer, work[0] if work else None,
                         {i: (a.rate, b.rate, a.noisy or b.noisy) for i, (a, b) in pairs.items()}))
    return t1, tn, rows, None


def scaling_table(src):
    t1, tn, rows, note = scaling_data(src)
    if note:
        return [note, ""]
    if not rows:
        return []
    impls = sorted({i for _, _, r in rows for i in r}, key=impl_order)
    head = ["layer", "GFLOP"]
    for i in impls:
        head += [f"{impl_name(i)} {t1}T", f"{impl_name(i)} {tn}T", f"{impl_name(i)} speedup"]
    body, speedups, left = [], {i: [] for i in impls}, 0
    for layer, gflop, r in rows:
        line = [layer, f"{gflop:.3f}" if gflop else "–"]
        for i in impls:
            if i not in r:
                line += ["–"] * 3
                continue
            a, b, noisy = r[i]
            line += [f"{a:.1f}", f"{b:.1f}", f"{b / a:.2f}" + (" ⚠" if noisy else "")]
            if gflop and gflop >= MIN_GFLOP:
                left += noisy
                if not noisy:
                    speedups[i].append(b / a)
        body.append(line)
    parts = [f"{impl_name(i)} {geomean(v):.2f}x (min {min(v):.2f}x)" for i, v in speedups.items() if v]
    out = [f"### Thread scaling, fwd, {t1} -> {tn} threads (wall clock)", ""] + md_table(head, body) + [""]
    summary = f"Speedup {t1} -> {tn} threads on layers of at least {MIN_GFLOP} GFLOP, geometric mean: "
    summary += "; ".join(parts) if parts else "no such layer"
    if left:
        summary += f" ({left} speedup(s) with a cv > {NOISY_CV:.0%} left out, marked ⚠)"
    return out + [summary + ".", ""]


def source_warnings(src):
    """Why some numbers of this source may be unreliable."""
    scaling = [f"`{os.path.basename(p)}`" for p, c in src.files if c.get("cpu_scaling_enabled") is True]
    out = [f"CPU frequency scaling is on ({', '.join(scaling)}): clock rates, and with them the GFLOP/s, may "
           "change during the run."] if scaling else []
    starts = {(p, n[5:]): m for p, n, m in src.peaks if n.startswith("peak/fma_")}
    for p, n, end in src.peaks:
        start = starts.get((p, n[9:])) if n.startswith("peak_end/fma_") else None
        if start and start.rate and end.rate and abs(end.rate / start.rate - 1) > PEAK_DRIFT:
            out.append(f"`{os.path.basename(p)}`: the FMA peak moved by {end.rate / start.rate - 1:+.0%} between "
                       "the start and end of the run (clock frequency or the machine's load changed): "
                       f"`peak/{n[9:]}` {start.rate:.1f}, `{n}` {end.rate:.1f} GFLOP/s.")
    for p, n, m in src.peaks:
        if m.noisy:
            out.append(f"`{os.path.basename(p)}`: `{n}` varied by {m.cv:.0%} (cv) over its repetitions: the "
                       "machine's speed was not steady, and the % of peak columns are uncertain.")
    noisy = {}
    for (pass_, layer, impl, t, base), m in src.results.items():
        if m.noisy:
            noisy.setdefault((PASSES.index(pass_), t, base), []).append(f"`{layer}/{impl}`")
    for (p, t, base), names in sorted(noisy.items()):
        some = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        out.append(f"{PASSES[p]} at {t} thread(s), {base} time: {len(names)} GFLOP/s with a cv above "
                   f"{NOISY_CV:.0%} over the repetitions ({some}), marked ⚠ and left out of geometric means, "
                   "win counts and speedup summaries.")
    single = sum(1 for m in src.results.values() if m.rate is not None and m.runs == 1)
    if single:
        out.append(f"{single} of {sum(1 for m in src.results.values() if m.rate is not None)} results are single "
                   "runs (no --benchmark_repetitions): their variation is unknown.")
    return out


def joined(src, key):
    vals = ctx_values(src, key)
    return "; ".join(", ".join(map(str, v)) if isinstance(v, list) else str(v) for v in vals) if vals else None


def caches(src):
    kib = [(lvl, num(ctx_value(src, f"host_{lvl.lower()}_kib"))) for lvl in ("L1d", "L2", "L3")]
    if any(v for _, v in kib):
        return ", ".join(f"{lvl} {v:.0f} KiB" for lvl, v in kib if v)
    return ", ".join(f"L{c['level']} {c.get('type', '')} {c['size'] >> 10} KiB"
                     for c in ctx_value(src, "caches") or [] if c.get("type") != "Instruction") or None


def header(src):
    """The host and run bullets of a source."""
    files = ", ".join(f"`{os.path.basename(p)}` ({c.get('program') or c.get('executable', '?').split('/')[-1]}, "
                      f"{file_threads(c)} thread(s), {c.get('time_base', 'cpu')}, {c.get('date', '?')})"
                      for p, c in src.files)
    cores = ctx_value(src, "host_cores")
    cpus = (f"{cores} cores, {ctx_value(src, 'host_pus')} PUs" if cores else
            f"{ctx_value(src, 'num_cpus')} CPUs at {ctx_value(src, 'mhz_per_cpu')} MHz")
    host = f"`{ctx_value(src, 'host_name')}`: {joined(src, 'host_cpu_model') or 'CPU model not recorded'}, {cpus}"
    items = [("files", files), ("host", host), ("fingerprint", joined(src, "host_fingerprint")),
             ("caches", caches(src)), ("ISA", joined(src, "host_isa")), ("tconv ISA", joined(src, "tconv_isa")),
             ("load average at start", joined(src, "load_avg")), ("tconv", joined(src, "tconv")),
             ("tuning", joined(src, "tconv_tuning")),
             ("FMA peak, one core, GFLOP/s", "; ".join(f"{dt} {v}" for dt in ("f32", "f64")
                                                        for v in ctx_values(src, f"peak_{dt}_gflops"))
              or joined(src, "fma_peak") or joined(src, "peak_gflops")),
             ("peak threads", joined(src, "peak_threads")), ("bandwidth, GB/s", joined(src, "bandwidth_gbs"))]
    keys = sorted({k for _, c in src.files for k in c if k.startswith("peer_")} | {"onednn", "xnnpack"})
    items += [(impl_name(k.removeprefix("peer_")), joined(src, k)) for k in keys]
    items.append(("peers skipped", joined(src, "peers_out")))
    out = [f"- {k}: {v}" for k, v in items if v]
    for path, _ in src.files:
        peaks = [f"`{n}` {m.rate:.1f}" for p, n, m in src.peaks if p == path and m.rate]
        if peaks:
            out.append(f"- peak benchmarks of `{os.path.basename(path)}` (GFLOP/s; bandwidth GB/s): "
                       + ", ".join(peaks))
    return out + [f"- note: {n}" for n in src.notes]


def source_part(src):
    out = [f"## {src.label}", ""]
    if src.warnings:
        out += ["### Warnings", ""] + [f"- ⚠ {w}" for w in src.warnings] + [""]
    out += header(src) + [""] + ([] if src.results else ["No pass results in these files.", ""])
    for pass_ in PASSES:
        for dtype in ("f32", "f64"):
            out += pass_table(src, pass_, dtype)
    return out + scaling_table(src)


def comparison(sources):
    """Per pass and dtype, one table that lines the sources up by layer."""
    tags = [chr(ord("A") + i) if i < 26 else f"S{i}" for i in range(len(sources))]
    intro = [[t, s.label, joined(s, "host_cpu_model") or "?", joined(s, "host_fingerprint") or "?",
              ", ".join(str(n) for n in sorted({file_threads(c) for _, c in s.files})),
              fmt(peak_total(s, "f32", 1)) + " GFLOP/s"] for t, s in zip(tags, sources)]
    out = ["## Comparison", ""] + md_table(["", "source", "CPU", "fingerprint", "threads", "f32 peak, 1 thread"],
                                          intro, 6) + [""]
    for pass_ in PASSES:
        for dtype in ("f32", "f64"):
            per = [dict((r.layer, r) for r in pass_rows(s, pass_, dtype)[1] if r.main) for s in sources]
            layers = list(dict.fromkeys(l for rows in per for l in rows))
            if sum(map(bool, per)) < 2:
                continue  # nothing to line up: the source's own part has it
            third = "f64 / f32" if dtype == "f64" else "/ best peer"
            head = ["layer"] + [h for t in tags for h in (f"{t} GFLOP/s", f"{t} % of peak", f"{t} {third}")]
            body = []
            for layer in layers:
                line = [layer]
                for rows in per:
                    r = rows.get(layer)
                    line += ([cell(r.main), fmt(r.main_pct, True), fmt(r.vs_f32 if dtype == "f64" else r.ratio)]
                             if r else ["–"] * 3)
                body.append(line)
            out += [f"### {pass_}, {dtype} ({'tconv_f64' if dtype == 'f64' else 'tconv'})", ""]
            out += md_table(head, body) + [""]
    return out


def render(sources):
    out = ["# tconv benchmark report", "",
           "GFLOP/s: 2·N·C·F·H·W·kh·kw/groups per pass over the median time of the repetitions; every tap "
           "counts, cropped ones too, so a layer with large crops can exceed the peak. % of peak: over the FMA "
           "peak of the dtype times the threads it counts. `±x% ⚠`: coefficient of variation over the "
           f"repetitions above {NOISY_CV:.0%}: unreliable, left out of geometric means and win counts.", ""]
    if len(sources) > 1:
        out += comparison(sources)
    for src in sources:
        out += source_part(src)
    return "\n".join(out)


# --- plots ------------------------------------------------------------------

def source_title(sources):
    return "; ".join(s.label + (f" ({ctx_value(s, 'host_cpu_model')})" if ctx_value(s, "host_cpu_model") else "")
                     for s in sources)


def hbars(ax, layers, series):
    """Grouped horizontal bars of series [(name, color, {layer: (value, noisy)})], empty
    ones left out, noisy bars hatched; returns whether any is."""
    series = [s for s in series if s[2]]
    h = 0.8 / max(1, len(series))
    for k, (name, color, vals) in enumerate(series):
        at = [(i, *vals[l]) for i, l in enumerate(layers) if l in vals]
        style = dict(color=color, edgecolor="black", linewidth=0.3)
        ax.barh([0], [0], height=0, label=name, **style)  # the legend's unhatched sample
        bars = ax.barh([i - 0.4 + h * (k + 0.5) for i, _, _ in at], [v for _, v, _ in at], height=h, **style)
        for bar, (_, _, noisy) in zip(bars, at):
            bar.set_hatch("////" if noisy else None)
    ax.set_yticks(range(len(layers)))
    ax.set_yticklabels([l if any(l in v for _, _, v in series) else f"{l} (no result)" for l in layers],
                       fontsize=8)
    ax.set_ylim(len(layers) - 0.5, -0.5)
    ax.grid(axis="x", alpha=0.3)
    return any(noisy for _, _, vals in series for _, noisy in vals.values())


HEADER_IN = 1.5  # inches above the panels for the title and the legend, until finish() knows


def bar_figure(plt, panels):
    """A 10-inch-wide figure with a panel per (layers, bars per layer), its height by both."""
    sizes = [max(2, n) * max(0.2, 0.09 * bars + 0.1) + 0.7 for n, bars in panels]
    fig, axes = plt.subplots(len(sizes), 1, figsize=(10, sum(sizes) + HEADER_IN), squeeze=False,
                             gridspec_kw={"height_ratios": sizes})
    return fig, [a[0] for a in axes]


def finish(plt, fig, axes, title, path, hatched):
    """Title and one legend (with the hatch's meaning when used) on top, then the PNG."""
    entries = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            entries.setdefault(label, handle)
    if hatched:
        from matplotlib.patches import Patch
        entries[f"hatched: cv > {NOISY_CV:.0%} over the repetitions (unreliable)"] = \
            Patch(facecolor="white", edgecolor="black", hatch="////")
    header = 0.65 + 0.18 * math.ceil(len(entries) / 3)
    height = fig.get_figheight() - HEADER_IN + header
    fig.set_figheight(height)
    fig.tight_layout(rect=(0, 0, 1, 1 - header / height), pad=0.4, h_pad=1.5)  # before the legend: it avoids it
    fig.suptitle(title, fontsize=11, y=1 - 0.1 / height, va="top")
    fig.legend(list(entries.values()), list(entries), loc="upper center", ncol=min(3, max(1, len(entries))),
               bbox_to_anchor=(0.5, 1 - 0.55 / height), fontsize=8, frameon=False)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def colors(plt, n, light=False):
    """n distinct colors (tab10), or n dark/light pairs (tab20) with light."""
    return [plt.get_cmap("tab20")(i % 20) for i in range(2 * n)] if light else \
        [plt.get_cmap("tab10")(i % 10) for i in range(n)]


def f32_impls(rows):
    """tconv, its tuned plan and the f32 peers of some rows, in column order."""
    return sorted({i for r in rows for i in r.cells
                   if dtype_of(i) == "f32" and (i in ("tconv", "tconv_tuned") or not is_tconv(i))},
                  key=impl_order)


def bar_value(m):
    return (m.rate, m.noisy) if m and m.rate else None


def plot_gflops(plt, sources, pass_, path):
    """Per layer, GFLOP/s of tconv and each f32 peer (several sources: tconv and best peer of each)."""
    per = [pass_rows(s, pass_, "f32") for s in sources]
    layers = list(dict.fromkeys(r.layer for _, rows in per for r in rows))
    if not layers:
        return False
    series = []
    if len(sources) == 1:
        impls = f32_impls(per[0][1])
        for impl, color in zip(impls, colors(plt, len(impls))):
            series.append((impl_name(impl), color, {r.layer: bar_value(r.cells.get(impl)) for r in per[0][1]}))
    else:
        pairs = colors(plt, len(sources), light=True)
        for k, (src, (_, rows)) in enumerate(zip(sources, per)):
            series.append((f"{src.label}: tconv", pairs[2 * k], {r.layer: bar_value(r.main) for r in rows}))
            series.append((f"{src.label}: best peer", pairs[2 * k + 1], {r.layer: bar_value(r.cells.get(r.best))
                                                                          for r in rows}))
    series = [(n, c, {l: v for l, v in d.items() if v}) for n, c, d in series]
    fig, (ax,) = bar_figure(plt, [(len(layers), sum(1 for s in series if s[2]))])
    hatched = hbars(ax, layers, series)
    ax.set_xlabel("GFLOP/s (higher is better)")
    threads = ", ".join(sorted({str(t) for t, _ in per if t}))
    shown = [s for s, (_, rows) in zip(sources, per) if rows]
    finish(plt, fig, [ax], f"{pass_}, f32, {threads} thread(s): GFLOP/s per layer\n{source_title(shown)}",
           path, hatched)
    return True


def plot_peak_fraction(plt, sources, path):
    """A panel per pass: per layer, tconv's % of the f32 FMA peak, a bar per source."""
    panels = []
    for pass_ in PASSES:
        per = [{r.layer: r for r in pass_rows(s, pass_, "f32")[1] if r.main_pct is not None} for s in sources]
        layers = list(dict.fromkeys(l for rows in per for l in rows))
        if layers:
            panels.append((pass_, layers, per))
    if not panels:
        return False
    fig, axes = bar_figure(plt, [(len(layers), sum(map(bool, per))) for _, layers, per in panels])
    palette, hatched = colors(plt, max(len(sources), len(PASSES))), False
    for ax, (pass_, layers, per) in zip(axes, panels):
        series = [(f"tconv, {pass_}" if len(sources) == 1 else src.label,
                   palette[PASSES.index(pass_) if len(sources) == 1 else k],
                   {l: (100 * r.main_pct, r.main.noisy) for l, r in rows.items()})
                  for k, (src, rows) in enumerate(zip(sources, per))]
        hatched |= hbars(ax, layers, series)
        ax.axvline(100, color="black", linestyle="--", linewidth=0.8, label="FMA peak (100%)")
        ax.set_title(pass_, fontsize=10)
        ax.set_xlabel("tconv's GFLOP/s, % of the f32 FMA peak")
    finish(plt, fig, axes, f"tconv's fraction of the FMA peak per layer\n{source_title(sources)}", path, hatched)
    return True


def plot_threads(plt, sources, path):
    """A panel per source with scaling data: per layer, each impl's speedup t1 -> tN."""
    panels = [(s, *scaling_data(s)) for s in sources]
    panels = [p for p in panels if p[3]]
    if not panels:
        return False
    fig, axes = bar_figure(plt, [(len(p[3]), len({i for *_, r in p[3] for i in r})) for p in panels])
    hatched = False
    for ax, (src, t1, tn, rows, _) in zip(axes, panels):
        impls = sorted({i for *_, r in rows for i in r}, key=impl_order)
        layers = [f"{l} ({g:.3f} GFLOP)" if g else l for l, g, _ in rows]
        series = [(impl_name(i), c, {lab: (r[i][1] / r[i][0], r[i][2]) for lab, (*_, r) in zip(layers, rows)
                                     if i in r}) for i, c in zip(impls, colors(plt, len(impls)))]
        hatched |= hbars(ax, layers, series)
        ax.axvline(tn / t1, color="black", linestyle="--", linewidth=0.8, label=f"ideal: {tn / t1:g}x")
        ax.axvline(1, color="grey", linewidth=0.6)
        ax.set_xlabel(f"speedup, {t1} -> {tn} threads (wall clock; higher is better)")
        if len(panels) > 1:
            ax.set_title(src.label, fontsize=10)
    finish(plt, fig, axes, f"fwd thread scaling per layer\n{source_title([p[0] for p in panels])}", path, hatched)
    return True


def roofline_points(src, rows):
    """{impl: [(FLOP/byte, GFLOP/s)]} of tconv and the f32 peers."""
    pts = {}
    for r in rows:
        for i in f32_impls([r]):
            m = r.cells[i]
            if m.rate and m.bytes and m.gflop:
                pts.setdefault(i, []).append((m.gflop * 1e9 / m.bytes, m.rate))
    return pts


def plot_roofline(plt, sources, pass_, path, notes):
    """Log-log GFLOP/s over FLOP/byte of tconv and each f32 peer, with the compute and bandwidth roofs."""
    drawn = []
    for src in sources:
        threads, rows = pass_rows(src, pass_, "f32")
        if not rows:
            continue
        peak, bw, pts = peak_total(src, "f32", threads), bandwidth(src, threads), roofline_points(src, rows)
        missing = [w for w, ok in (("bytes counters", pts), ("bandwidth (bandwidth_gbs or peak/bandwidth)", bw),
                                   ("FMA peak", peak)) if not ok]
        if missing:
            notes.append(f"roofline-{pass_}.png: `{src.label}` left out: no {', '.join(missing)}.")
        else:
            drawn.append((src, threads, peak, bw, pts))
    if not drawn:
        return False
    fig, ax = plt.subplots(figsize=(10, 8))
    palette, several = colors(plt, 10), len(drawn) > 1
    impls = sorted({i for *_, pts in drawn for i in pts}, key=impl_order)
    for k, (src, _, peak, bw, pts) in enumerate(drawn):
        xs = [x for p in pts.values() for x, _ in p] + [peak / bw]
        tag, roof = (f"{src.label}: ", palette[k]) if several else ("", "black")
        ax.plot([min(xs) / 2, peak / bw], [bw * min(xs) / 2, peak], color=roof, linestyle="--",
                label=f"{tag}bandwidth roof, {bw:.1f} GB/s")
        ax.plot([peak / bw, max(xs) * 2], [peak, peak], color=roof, label=f"{tag}compute roof, {peak:.0f} GFLOP/s")
        for impl in sorted(pts, key=impl_order):
            j = impls.index(impl)
            ax.scatter(*zip(*pts[impl]), marker="osD^v<>pP*X"[j % 11], s=30, alpha=0.8,
                       color=palette[k if several else j], label=f"{tag}{impl_name(impl)}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity, FLOP/byte (the pass's FLOP over the bytes it must move at least)")
    ax.set_ylabel("GFLOP/s")
    ax.grid(which="both", alpha=0.3)
    threads = ", ".join(sorted({str(d[1]) for d in drawn}))
    finish(plt, fig, [ax], f"{pass_}, f32, {threads} thread(s): roofline\n{source_title([d[0] for d in drawn])}",
           path, False)
    return True


def make_plots(plt, sources, outdir):
    """Writes the PNGs; returns (file names, notes)."""
    os.makedirs(outdir, exist_ok=True)
    files, notes = [], []
    jobs = [(f"gflops-{p}.png", lambda path, p=p: plot_gflops(plt, sources, p, path)) for p in PASSES]
    jobs += [("peak-fraction.png", lambda path: plot_peak_fraction(plt, sources, path)),
             ("threads.png", lambda path: plot_threads(plt, sources, path))]
    jobs += [(f"roofline-{p}.png", lambda path, p=p: plot_roofline(plt, sources, p, path, notes)) for p in PASSES
             if any(pass_rows(s, p, "f32")[1] for s in sources)]
    for name, job in jobs:
        if job(os.path.join(outdir, name)):
            files.append(name)
    return files, notes


def plots_section(files, notes, outdir, md_path):
    rel = os.path.relpath(outdir, os.path.dirname(os.path.abspath(md_path))) if md_path else outdir
    out = ["## Plots", ""] + [f"![{f[:-4]}]({os.path.join(rel, f)})" for f in files] + [""]
    return out + [f"- {n}" for n in notes] + ([""] if notes else [])


# --- main -------------------------------------------------------------------

def pyplot():
    """(matplotlib.pyplot on the Agg backend, None), or (None, the ImportError)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot
    except ImportError as e:
        return None, e
    return matplotlib.pyplot, None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plots", metavar="DIR", help="write PNG plots into DIR")
    ap.add_argument("--out", metavar="FILE.md", help="also write the Markdown to FILE.md")
    ap.add_argument("files", nargs="+", metavar="FILE.json")
    args = ap.parse_args(argv)
    sources = load_sources(args.files)
    for src in sources:
        for w in src.warnings:
            print(f"report.py: warning: {src.label}: {w}", file=sys.stderr)
    md, plt, files = render(sources), None, []
    if args.plots:
        plt, missing = pyplot()
        if plt:
            files, notes = make_plots(plt, sources, args.plots)
            md += "\n" + "\n".join(plots_section(files, notes, args.plots, args.out))
    print(md)
    if args.out:
        with open(args.out, "w") as f:
            f.write(md + "\n")
    if args.plots and not plt:
        print(f"report.py: --plots needs matplotlib, which {sys.executable} cannot import ({missing}): "
              "on Debian, apt-get install python3-matplotlib and run /usr/bin/python3 bench/report.py "
              "(a pyenv or virtualenv python does not see Debian's packages)", file=sys.stderr)
        return 1
    if args.plots:
        print(f"plots: {args.plots} ({len(files)} files" + (f": {', '.join(files)})" if files else ")"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
