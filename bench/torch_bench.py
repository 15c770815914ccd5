#!/usr/bin/env python3
"""PyTorch's own nn.ConvTranspose2d against tconv.torch.ConvTranspose2d.

Every layer of tconv's suite (bench/layers.c, parsed from the C table so the
suite has one definition) runs in both implementations with the same weights,
input and output gradient, in one process per thread count: the forward pass
(inference, under torch.no_grad) and forward + backward (the input requires
grad, so the input, weight and bias gradients are all computed). Before
timing, the two implementations' outputs and gradients are compared; a
mismatch is reported in the table and the JSON.

Timing: a warm-up, then rounds in which both implementations run once each,
the order alternating from round to round, until every implementation has
had its time budget (and at least --min-reps rounds). On a shared, noisy
machine, interleaving puts both under the same load; the medians and the
per-round ratios are what to compare.

Threads: PyTorch runs slow_conv_transpose2d (im2col/col2im around a BLAS
GEMM) for these layers, and a BLAS library sizes its own thread pool from
the environment when it is loaded, whatever torch.set_num_threads says. So
each thread count runs in a child process started with OPENBLAS_NUM_THREADS,
OMP_NUM_THREADS, MKL_NUM_THREADS and TCONV_NUM_THREADS set before torch is
imported, and the child also calls torch.set_num_threads and
tconv.set_num_threads.

BLAS: PyTorch's speed here is mostly its BLAS's. Debian's libtorch links
libblas.so.3, which is whichever BLAS the system's alternatives point at
(the Netlib reference BLAS when no optimized one is installed; libtorch
recommends OpenBLAS). --blas-dir DIR puts DIR (holding a libblas.so.3, e.g.
OpenBLAS's) first on the child's LD_LIBRARY_PATH; the BLAS the child really
loaded is read from /proc/self/maps and reported with every result.

Tuning: the children use a private, initially empty tuning cache
(TCONV_CACHE in a temporary directory), so "default" means tconv's analytic
plans whatever this host's cache holds, and --tuned neither reads nor
changes it. --tuned then calls tconv.tune(..., passes="all") for each layer
and times PyTorch against the tuned plans again, interleaved afresh.

Output: a table on stdout, bench/results/<label>/torch.json and torch.md.
"""
import argparse
import gc
import json
import math
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS_C = ROOT / "bench" / "layers.c"
RESULTS = ROOT / "bench" / "results"
QUICK_LAYERS = ["dcgan_512_256", "dcgan_256_128", "fcn8s_upscore2"]
FIELDS = ["N", "C", "H", "W", "F", "k", "s", "padding", "output_padding", "groups", "bias"]
PASSES = [("fwd", "forward"), ("fwdbwd", "forward + backward")]
# The largest acceptable max|a - b| / max|b| between the two implementations
# in f32 (the drop-in's tests use 1e-4 relative).
TOLERANCE = 1e-4


# --------------------------------------------------------------------------
# The suite

def parse_layers(path=LAYERS_C):
    """The rows of bench_layers[] in bench/layers.c, as dicts. The C file
    stays the one list of layers; a row this parser cannot read is an error,
    not a layer silently left out."""
    text = path.read_text()
    start = text.index("bench_layers[] = {")
    end = text.index("};", start)
    body = re.sub(r"/\*.*?\*/", "", text[start:end], flags=re.S)
    rows = re.findall(r"\{\s*\"([^\"]+)\"\s*,\s*\"((?:[^\"\\]|\\.)*)\"\s*,([^{}]*)\}", body)
    layers = []
    for name, model, rest in rows:
        values = [v.strip() for v in rest.split(",") if v.strip()]
        if len(values) != len(FIELDS) or not all(re.fullmatch(r"-?\d+", v) for v in values):
            raise SystemExit(f"torch_bench: cannot read the row of {name} in {path}: {rest!r}")
        layer = dict(name=name, model=model, **dict(zip(FIELDS, map(int, values))))
        layer["bias"] = bool(layer["bias"])
        layers.append(layer)
    if len(layers) != body.count("{\"") or not layers:
        raise SystemExit(f"torch_bench: read {len(layers)} rows of bench_layers[] in {path}, "
                         f"but it has {body.count(chr(123) + chr(34))}")
    return layers


def out_size(layer, n):
    return ((n - 1) * layer["s"] - 2 * layer["padding"] + layer["k"] + layer["output_padding"])


def fwd_flops(layer):
    """Useful multiply-adds x 2 of one forward pass, as bench_layer_flops."""
    return (2.0 * layer["N"] * layer["C"] * layer["F"] * layer["H"] * layer["W"] *
            layer["k"] * layer["k"] / layer["groups"])


# --------------------------------------------------------------------------
# The machine

def loaded_blas():
    """The BLAS (and LAPACK) shared objects this process has mapped, and
    OpenBLAS's own idea of the core and its configuration when it is one."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            if re.search(r"blas|mkl_rt|libblis|atlas", os.path.basename(path)):
                libs.add(path)
    info = {"libraries": sorted(libs)}
    if any("openblas" in p for p in libs):
        import ctypes
        try:
            lib = ctypes.CDLL(next(p for p in sorted(libs) if "openblas" in p))
            for fn in ("openblas_get_corename", "openblas_get_config"):
                getattr(lib, fn).restype = ctypes.c_char_p
                info[fn[len("openblas_get_"):]] = getattr(lib, fn)().decode()
            info["threads"] = lib.openblas_get_num_threads()
        except (OSError, AttributeError, StopIteration):
            pass
        # An OpenBLAS older than the CPU does not know its model and falls
        # back to a generic SSE3 core (Debian 12's 0.3.21 on Sapphire/Emerald
        # Rapids: "Prescott", about 10x slower GEMMs than its AVX-512
        # kernels); OPENBLAS_CORETYPE (e.g. SkylakeX, Cooperlake) chooses
        # the kernels, and passes through to the children.
        if info.get("corename", "").lower() in ("prescott", "core2", "nehalem", "katmai",
                                                "coppermine", "northwood", "banias"):
            info["warning"] = (f"OpenBLAS runs its generic {info['corename']} kernels on this CPU "
                               "(set OPENBLAS_CORETYPE, e.g. SkylakeX, for its AVX-512 ones)")
    if any(p.endswith("/blas/libblas.so.3") or "libblas.so.3.1" in p for p in libs) and not any(
            "openblas" in p or "blis" in p or "mkl" in p or "atlas" in p for p in libs):
        info["warning"] = ("the Netlib reference BLAS: PyTorch's transposed convolution runs "
                           "its GEMMs unoptimized (see --blas-dir)")
    return info


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fma_peak(fingerprint):
    """One core's f32 FMA peak as tconv's C benchmark measured it on this
    kind of host (same tconv host fingerprint), from the committed results:
    the best of their measurements, with where it came from. Python cannot
    measure it cheaply; None when no committed result matches."""
    best = None
    for path in sorted(RESULTS.glob("*/*.json")):
        try:
            ctx = json.loads(path.read_text()).get("context", {})
            peak = float(ctx["peak_f32_gflops"])
        except (ValueError, KeyError, OSError, AttributeError):
            continue
        if ctx.get("host_fingerprint") == fingerprint and (best is None or peak > best[0]):
            best = (peak, str(path.relative_to(ROOT)), ctx.get("date"))
    if best is None:
        return None
    return {"f32_gflops_one_core": best[0], "from": best[1], "date": best[2],
            "note": "best one-core FMA rate of tconv's C benchmarks on this host fingerprint "
                    "(bench/common.cc), not measured by this run; n threads: n x this"}


# --------------------------------------------------------------------------
# The child: one thread count

def max_rel_error(a, b):
    a, b = a.detach().double(), b.detach().double()
    scale = b.abs().max().item()
    return (a - b).abs().max().item() / (scale if scale > 0 else 1.0)


def interleave(fns, budget_s, min_reps, max_reps):
    """Runs each callable of fns once per round, alternating the order, and
    returns each one's list of seconds. Stops after max_reps rounds, or
    after min_reps rounds once the rounds took budget_s per callable."""
    names = list(fns)
    times = {name: [] for name in names}
    start = time.perf_counter()
    for rnd in range(max_reps):
        for name in (names if rnd % 2 == 0 else names[::-1]):
            t0 = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - t0)
        if rnd + 1 >= min_reps and time.perf_counter() - start >= budget_s * len(names):
            break
    return times


def summarize(times, ref="pytorch"):
    out = {}
    for name, ts in times.items():
        out[name] = {"median_ms": statistics.median(ts) * 1e3, "min_ms": min(ts) * 1e3,
                     "reps": len(ts), "times_ms": [round(t * 1e3, 4) for t in ts]}
    for name, ts in times.items():
        if name != ref:
            # The median of the rounds' own ratios: both ran under the same load.
            out[name]["paired_speedup"] = statistics.median(
                r / t for r, t in zip(times[ref], ts))
    return out


def run_layer(layer, args, torch, tconv_torch, tconv):
    import types

    import numpy as np

    nn = torch.nn
    torch.manual_seed(args.seed)
    ctor = dict(in_channels=layer["C"], out_channels=layer["F"], kernel_size=layer["k"],
                stride=layer["s"], padding=layer["padding"],
                output_padding=layer["output_padding"], groups=layer["groups"],
                bias=layer["bias"])
    ref = nn.ConvTranspose2d(**ctor)
    tc = tconv_torch.ConvTranspose2d(**ctor)
    tc.load_state_dict(ref.state_dict())
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    x = torch.randn(layer["N"], layer["C"], layer["H"], layer["W"]).contiguous(memory_format=fmt)
    xg = x.clone().requires_grad_(True)
    oh, ow = out_size(layer, layer["H"]), out_size(layer, layer["W"])
    grad = torch.randn(layer["N"], layer["F"], oh, ow).contiguous(memory_format=fmt)
    row = {"layer": layer["name"], "model": layer["model"],
           "shape": {k: layer[k] for k in FIELDS}, "fwd_gflop": fwd_flops(layer) * 1e-9,
           "loadavg_start": os.getloadavg()[0]}

    # Same outputs and gradients before any timing (also the first calls:
    # plans are made here, outside the timed rounds).
    values = {}
    for name, m in (("pytorch", ref), ("tconv", tc)):
        xg.grad = None
        for p in m.parameters():
            p.grad = None
        y = m(xg)
        y.backward(grad)
        values[name] = (y.detach(), xg.grad.clone(), m.weight.grad.clone(),
                        None if m.bias is None else m.bias.grad.clone())
    errors = {label: max_rel_error(a, b)
              for label, a, b in zip(("y", "dx", "dw", "db"), values["tconv"], values["pytorch"])
              if b is not None}
    row["max_rel_error"] = errors
    row["check"] = "ok" if all(e <= TOLERANCE for e in errors.values()) else "MISMATCH"

    def forward(m):
        def run():
            with torch.no_grad():
                m(x)
        return run

    def forward_backward(m):
        params = list(m.parameters())

        def run():
            # Gradients set to None, so that every step writes them afresh
            # (as optimizer.zero_grad(set_to_none=True) leaves them).
            xg.grad = None
            for p in params:
                p.grad = None
            m(xg).backward(grad)
        return run

    makers = {"fwd": forward, "fwdbwd": forward_backward}
    # The configuration the module runs, as tconv.plan_info and tconv.tune
    # take it (shapes and dtypes; PyTorch's weights are IOHW with NCHW or
    # NHWC data).
    n, c, h, w = x.shape
    spec = dict(x=types.SimpleNamespace(shape=(n, h, w, c) if args.channels_last else (n, c, h, w),
                                        dtype=np.float32),
                w=types.SimpleNamespace(shape=tuple(tc.weight.shape), dtype=np.float32),
                stride=layer["s"], padding=layer["padding"],
                output_padding=layer["output_padding"], groups=layer["groups"],
                layout="NHWC" if args.channels_last else "NCHW", weight_layout="IOHW")
    row["plan_default"] = tconv.plan_info(**spec)
    for variant in ["default"] + (["tuned"] if args.tuned else []):
        if variant == "tuned":
            t0 = time.perf_counter()
            row["plan_tuned"] = tconv.tune(**spec, passes="all")
            row["tune_seconds"] = time.perf_counter() - t0
        for pass_name, _ in PASSES:
            fns = {"pytorch": makers[pass_name](ref), "tconv": makers[pass_name](tc)}
            for _ in range(args.warmup):
                for fn in fns.values():
                    fn()
            gc.collect()
            gc.disable()  # no collection in the middle of a timed call
            try:
                times = interleave(fns, args.budget, args.min_reps, args.max_reps)
            finally:
                gc.enable()
            res = summarize(times)
            flops = fwd_flops(layer) * (3 if pass_name == "fwdbwd" else 1)
            for name in fns:
                res[name]["gflops"] = flops / (res[name]["median_ms"] * 1e-3) * 1e-9
            res["speedup"] = res["pytorch"]["median_ms"] / res["tconv"]["median_ms"]
            row.setdefault(variant, {})[pass_name] = res
    row["loadavg_end"] = os.getloadavg()[0]
    return row


def child(args):
    """Runs the layers at args.threads_now threads and writes a JSON file."""
    import torch

    import tconv
    import tconv.torch as tconv_torch

    n = args.threads_now
    torch.set_num_threads(n)
    tconv.set_num_threads(n)
    layers = select_layers(args)
    out = {"threads": n, "tconv_module": tconv.__file__, "torch_threads": torch.get_num_threads(),
           "tconv_threads": tconv.get_num_threads(), "blas": loaded_blas(),
           "tconv_isa": tconv.isa(), "tconv_cache": tconv.cache_path(),
           "env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                   "MKL_NUM_THREADS", "TCONV_NUM_THREADS",
                                                   "LD_LIBRARY_PATH")},
           "loadavg_start": os.getloadavg(), "rows": []}
    if "warning" in out["blas"]:
        print(f"torch_bench: warning: PyTorch uses {out['blas']['warning']}", file=sys.stderr)
    # Which ATen operator PyTorch runs for a transposed convolution here.
    from torch.profiler import profile
    probe = torch.nn.ConvTranspose2d(8, 8, 4, 2, 1)
    with profile() as prof:
        probe(torch.randn(1, 8, 8, 8, requires_grad=True)).sum().backward()
    out["torch_ops"] = sorted({e.key for e in prof.key_averages()
                               if re.search(r"conv|mkldnn|col2im|im2col|addmm|gemm", e.key)})
    for layer in layers:
        t0 = time.perf_counter()
        row = run_layer(layer, args, torch, tconv_torch, tconv)
        row["seconds"] = time.perf_counter() - t0
        out["rows"].append(row)
        print(format_row(row, n), file=sys.stderr, flush=True)
    out["loadavg_end"] = os.getloadavg()
    Path(args.child_out).write_text(json.dumps(out))


# --------------------------------------------------------------------------
# The parent: children, tables, files

def select_layers(args):
    layers = parse_layers()
    if args.layers:
        want = [s.strip() for s in args.layers.split(",") if s.strip()]
        by_name = {l["name"]: l for l in layers}
        unknown = [w for w in want if w not in by_name]
        if unknown:
            raise SystemExit(f"torch_bench: unknown layers {unknown}; the suite has "
                             f"{', '.join(by_name)}")
        return [by_name[w] for w in want]
    if args.quick:
        return [l for l in layers if l["name"] in QUICK_LAYERS]
    return layers


def format_row(row, threads):
    parts = [f"{row['layer']:<22} t={threads}"]
    for variant in ("default", "tuned"):
        if variant not in row:
            continue
        for pass_name, _ in PASSES:
            r = row[variant][pass_name]
            parts.append(f"{variant[0]}:{pass_name} {r['pytorch']['median_ms']:8.2f} "
                         f"{r['tconv']['median_ms']:8.2f} ms x{r['speedup']:.2f}")
    if row["check"] != "ok":
        parts.append(f"CHECK {row['check']} {row['max_rel_error']}")
    return "  ".join(parts)


def geomean(values):
    values = list(values)
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def summary(runs):
    """Geometric means of the speedups per thread count, variant and pass."""
    out = []
    for run in runs:
        for variant in ("default", "tuned"):
            for pass_name, _ in PASSES:
                speedups = [row[variant][pass_name]["speedup"] for row in run["rows"]
                            if variant in row]
                if not speedups:
                    continue
                paired = [row[variant][pass_name]["tconv"]["paired_speedup"]
                          for row in run["rows"] if variant in row]
                out.append({"threads": run["threads"], "plans": variant, "pass": pass_name,
                            "layers": len(speedups), "geomean_speedup": geomean(speedups),
                            "geomean_paired_speedup": geomean(paired),
                            "slower_layers": [row["layer"] for row in run["rows"]
                                              if variant in row and
                                              row[variant][pass_name]["speedup"] < 1]})
    return out


def tables(result):
    """The Markdown tables (also what stdout shows)."""
    peak = result.get("fma_peak") or {}
    lines = []
    for run in result["runs"]:
        t = run["threads"]
        tuned = any("tuned" in row for row in run["rows"])
        lines.append(f"\n### {t} thread{'s' if t > 1 else ''}\n")
        head = ["layer", "pass", "PyTorch ms", "tconv ms", "speedup", "PyTorch GFLOP/s",
                "tconv GFLOP/s"]
        if peak:
            head.append("tconv % peak")
        if tuned:
            head += ["PyTorch ms (tuned run)", "tconv tuned ms", "tuned speedup"]
        head.append("check")
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join("---" if i < 2 else "---:" for i in range(len(head))) + "|")
        for row in run["rows"]:
            for pass_name, pass_title in PASSES:
                r = row["default"][pass_name]
                cells = [row["layer"], pass_title, f"{r['pytorch']['median_ms']:.3f}",
                         f"{r['tconv']['median_ms']:.3f}", f"{r['speedup']:.2f}x",
                         f"{r['pytorch']['gflops']:.1f}", f"{r['tconv']['gflops']:.1f}"]
                if peak:
                    cells.append(f"{100 * r['tconv']['gflops'] / (peak['f32_gflops_one_core'] * t):.0f}%")
                if tuned:
                    q = row.get("tuned", {}).get(pass_name)
                    cells += ([f"{q['pytorch']['median_ms']:.3f}", f"{q['tconv']['median_ms']:.3f}",
                               f"{q['speedup']:.2f}x"] if q else ["", "", ""])
                cells.append(row["check"])
                lines.append("| " + " | ".join(cells) + " |")
    lines.append("\n### Geometric means of the speedup (PyTorch time / tconv time)\n")
    lines.append("| threads | tconv plans | pass | layers | geomean speedup | "
                 "geomean of per-round ratios | layers where tconv is slower |")
    lines.append("|---:|---|---|---:|---:|---:|---|")
    for s in result["summary"]:
        lines.append(f"| {s['threads']} | {s['plans']} | {dict(PASSES)[s['pass']]} | "
                     f"{s['layers']} | {s['geomean_speedup']:.2f}x | "
                     f"{s['geomean_paired_speedup']:.2f}x | "
                     f"{', '.join(s['slower_layers']) or 'none'} |")
    return "\n".join(lines)


def markdown(result):
    host, torch_info = result["host"], result["torch"]
    blas = result["runs"][0]["blas"] if result["runs"] else {}
    env = result["runs"][0].get("env", {}) if result["runs"] else {}
    peak = result.get("fma_peak")
    md = [f"# PyTorch nn.ConvTranspose2d vs tconv.torch.ConvTranspose2d: {result['label']}", "",
          f"- date: {result['date']}; command: `{result['command']}`",
          f"- tconv {result['source']['tconv_version']} from {result['source']['tconv_module']}"
          + (f", built from {result['source']['built_from']}" if result['source'].get('built_from')
             else "")
          + f"; the repository's HEAD at the start: {result['source']['repository_head'][:12]}",
          f"- CPU: {host['cpu_model']} ({host['tconv']['fingerprint']}), "
          f"{host['tconv']['cores']} cores; tconv isa {result['runs'][0]['tconv_isa'] if result['runs'] else '?'}",
          f"- load average (1 min) at start {result['loadavg_start'][0]:.2f}, at end "
          f"{result['loadavg_end'][0]:.2f} (`uptime` before: {result['uptime_start']}; "
          f"after: {result['uptime_end']})",
          f"- PyTorch {torch_info['version']}, operators run for a transposed convolution: "
          f"{', '.join(result['runs'][0]['torch_ops']) if result['runs'] else '?'}",
          f"- PyTorch's BLAS: {', '.join(blas.get('libraries', [])) or 'none found'}"
          + (f" (OpenBLAS core {blas['corename']}, {blas['config']})" if "corename" in blas else "")
          + (f" **{blas['warning']}**" if "warning" in blas else "")
          + (f"; OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']}" if env.get("OPENBLAS_CORETYPE")
             else ""),
          f"- data: f32, {'channels_last (tconv runs NHWC)' if result['channels_last'] else 'NCHW'}"
          f"; forward under torch.no_grad(); forward + backward = y = m(x); y.backward(g) with a "
          f"fixed random g, x.requires_grad, gradients set to None before each step",
          f"- method: {result['method']}",
          "- speedup = PyTorch median time / tconv median time (above 1: tconv is faster); "
          "GFLOP/s = 2*N*C*F*H*W*k*k/groups per forward, 3x that for forward + backward",
          ("- tconv % peak: of " + f"{peak['f32_gflops_one_core']:.1f} GFLOP/s per core "
           f"(from {peak['from']}, {peak['date']}; not measured in this run)" if peak else
           "- FMA peak: no committed C benchmark result for this host fingerprint"),
          "- check: outputs and all three gradients of the two implementations agree within "
          f"max|a-b|/max|b| <= {TOLERANCE:g}"]
    return "\n".join(md) + "\n" + tables(result) + "\n"


def parent(args):
    threads = sorted({int(t) for t in args.threads.split(",")}) if args.threads else sorted(
        {1, len(os.sched_getaffinity(0))})
    label = args.label or f"{socket.gethostname()}-{time.strftime('%Y-%m-%d')}-torch"
    out_dir = Path(args.out) if args.out else RESULTS / label
    select_layers(args)  # unknown names fail here, before any child starts
    import tconv  # the parent does not import torch: only the children do
    host = {"cpu_model": cpu_model(), "tconv": tconv.host_info(), "python": sys.version.split()[0],
            "platform": platform.platform()}
    # What was measured: the tconv this interpreter imports (the children
    # import the same one), and the repository it ran from. A build of a
    # tree with uncommitted changes is not the commit's: the files are listed.
    git = lambda *a: subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True,
                                    text=True).stdout.strip()
    source = {"tconv_module": tconv.__file__, "tconv_version": tconv.version(),
              "built_from": args.built_from,
              "repository_head": git("rev-parse", "HEAD"),
              "repository_modified": git("status", "--porcelain", "--untracked-files=no")
              .splitlines()}
    uptime = lambda: subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    result = {"label": label, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]), "host": host,
              "source": source, "threads": threads, "channels_last": args.channels_last,
              "method": (f"{args.warmup} warm-up calls each, then rounds of one call per "
                         f"implementation in alternating order until each had {args.budget} s "
                         f"(at least {args.min_reps}, at most {args.max_reps} rounds); median "
                         "wall-clock time per call"),
              "fma_peak": fma_peak(host["tconv"]["fingerprint"]),
              "uptime_start": uptime(), "loadavg_start": os.getloadavg(), "runs": []}
    with tempfile.TemporaryDirectory(prefix="torch_bench-") as tmp:
        for n in threads:
            env = dict(os.environ)
            for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                        "TCONV_NUM_THREADS"):
                env[var] = str(n)
            env["TCONV_CACHE"] = os.path.join(tmp, f"tuning-{n}.txt")  # private, empty
            if args.blas_dir:
                env["LD_LIBRARY_PATH"] = os.pathsep.join(
                    [str(Path(args.blas_dir).resolve())] +
                    [p for p in env.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p])
            child_out = os.path.join(tmp, f"threads-{n}.json")
            cmd = [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:],
                   "--threads-now", str(n), "--child-out", child_out]
            print(f"torch_bench: {n} thread(s), {len(select_layers(args))} layers ...",
                  file=sys.stderr, flush=True)
            subprocess.run(cmd, env=env, check=True)
            result["runs"].append(json.loads(Path(child_out).read_text()))
        import torch  # only for its version and build configuration
        result["torch"] = {"version": torch.__version__, "config": torch.__config__.show(),
                           "parallel_info": torch.__config__.parallel_info()}
    result["uptime_end"], result["loadavg_end"] = uptime(), os.getloadavg()
    result["summary"] = summary(result["runs"])
    print(tables(result))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "torch.json").write_text(json.dumps(result, indent=1) + "\n")
    (out_dir / "torch.md").write_text(markdown(result))
    print(f"\nwrote {out_dir / 'torch.json'} and {out_dir / 'torch.md'}")
    bad = [row["layer"] for run in result["runs"] for row in run["rows"] if row["check"] != "ok"]
    if bad:
        print(f"torch_bench: outputs or gradients differ from PyTorch's on: {', '.join(bad)}",
              file=sys.stderr)
        return 1
    return 0


def main():
    p = argparse.ArgumentParser(
        description="Times PyTorch's own nn.ConvTranspose2d against tconv.torch.ConvTranspose2d "
                    "on every layer of tconv's suite (bench/layers.c): forward, and forward + "
                    "backward, f32, at 1 thread and at all cores.",
        epilog="Example: python3 bench/torch_bench.py --label mybox-torch --tuned "
               "--blas-dir /usr/lib/x86_64-linux-gnu/openblas-pthread")
    p.add_argument("--label", help="results go to bench/results/LABEL/ (default: "
                   "<hostname>-<date>-torch)")
    p.add_argument("--out", help="write torch.json and torch.md to this directory instead")
    p.add_argument("--threads", help="comma-separated thread counts (default: 1 and all the "
                   "CPUs this process may use)")
    p.add_argument("--quick", action="store_true", help=f"three small layers "
                   f"({', '.join(QUICK_LAYERS)}), short budget: a smoke test, not numbers "
                   "to publish")
    p.add_argument("--layers", help="comma-separated layer names of bench/layers.c")
    p.add_argument("--tuned", action="store_true", help="also tune each layer "
                   "(tconv.tune(..., passes='all'), in a private tuning cache) and time the "
                   "tuned plans")
    p.add_argument("--channels-last", action="store_true", help="channels_last input and "
                   "output gradient (tconv runs NHWC) instead of NCHW")
    p.add_argument("--blas-dir", help="a directory with the libblas.so.3 PyTorch should load "
                   "(put first on the children's LD_LIBRARY_PATH), e.g. OpenBLAS's")
    p.add_argument("--budget", type=float, default=None, help="seconds of timed calls per "
                   "implementation, layer and pass (default 0.75; 0.1 with --quick)")
    p.add_argument("--min-reps", type=int, default=5, help="at least this many rounds (default 5)")
    p.add_argument("--max-reps", type=int, default=200, help="at most this many rounds")
    p.add_argument("--warmup", type=int, default=2, help="untimed calls of each before timing")
    p.add_argument("--built-from", help="what the imported tconv was built from (e.g. a "
                   "commit), recorded with the results: the script cannot tell")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads-now", type=int, help=argparse.SUPPRESS)  # set for a child
    p.add_argument("--child-out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.budget is None:
        args.budget = 0.1 if args.quick else 0.75
    if args.quick:
        args.min_reps = min(args.min_reps, 3)
    if args.threads_now is not None:
        return child(args)
    return parent(args)


if __name__ == "__main__":
    sys.exit(main())
