#!/usr/bin/env python3
"""Time the model-layer suite with the Python package index's peers: the
forward pass with ONNX Runtime and OpenVINO, all three passes with the
newest CPU build of oneDNN there; write Google Benchmark's JSON.

    python3 bench/peers.py --bench-fwd build-bench/bench/bench_fwd \\
        --context-from bench/results/X/fwd.json --out bench/results/X/peers.json \\
        [--venv bench/.venv-peers] [--threads 1] [--repetitions 5] \\
        [--min-time 0.2] [--layers REGEX] [--bwd-batches 16,64] \\
        [--peers onnxruntime,openvino,onednn_pypi] [--no-install]

The layers come from `bench_fwd --list_layers` (--layers: a regular
expression their names must match in full); benchmarks are named
`fwd/<layer>/<impl>` as in bench_fwd, so bench/report.py merges the files
(bench/README.md is the contract). The script itself needs only the standard
library: it makes the virtual environment --venv, pip-installs numpy and onnx
there, then each peer's packages on their own, and runs itself again with the
environment's Python (--no-install: none of this; the peers are whatever the
running interpreter can import). A peer that cannot be installed or imported
is skipped (a line on stderr, `peers_out` in the context, one error entry per
layer): the JSON comes out whatever is missing, and the exit status is then 0.

Each layer becomes an ONNX model of one ConvTranspose node: input X NCHW f32,
weights W [C, F/groups, k, k] and bias B as initializers. Weights are
constants of the model, so each runtime packs them while it builds its
session, outside timing. Each peer gets its best case:

- onnxruntime: InferenceSession, CPUExecutionProvider, ORT_ENABLE_ALL,
  intra_op_num_threads = --threads, inter_op 1, sequential execution; input
  and output bound once (IOBinding), so a timed run allocates nothing.
- openvino: Core().compile_model(model, "CPU") with INFERENCE_NUM_THREADS =
  --threads, PERFORMANCE_HINT LATENCY and INFERENCE_PRECISION_HINT f32
  (forced: on AMX/avx512_bf16 CPUs it would compute in bf16, which is no f32
  comparison); input and output NHWC (PrePostProcessor sets the tensor
  layout at the model's edges): given NCHW it spends most of the time of
  small-channel layers converting its output back; one infer request,
  reused, its input tensor set once.
- onednn_pypi: the wheels onednn-cpu-gomp and onednn-devel-cpu-gomp (the
  newest oneDNN built for the CPU with the OpenMP runtime on the index; the
  newer `onednn` wheels are SYCL builds that find no SYCL CPU device on a
  plain Linux host: "could not create an engine"). bench_fwd and bench_bwd
  are built against it (meson -Donednn_prefix, build-bench-onednn-pypi/)
  and run its benchmarks only, in the same configuration as Debian's oneDNN,
  into onednn-pypi-fwd.json and onednn-pypi-bwd.json beside --out.

ONNX Runtime gets NCHW, its own kernels' layout; the reorders a runtime
makes inside its run are its own business and are timed.
OMP_NUM_THREADS is --threads too. Before timing, each (layer, peer) runs at
batch min(batch, 2) against a float64 numpy reference written here (max
|got - want| / (|want| + mean |want|) <= 1e-3); a disagreement is a bug and
stops the script (exit 2), as in bench_fwd. Times are wall clock
(time.perf_counter); cpu_util is process CPU time over wall time of the
timed loop.
"""
import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime

PEERS = ("onnxruntime", "openvino", "onednn_pypi")
PYTHON_PEERS = ("onnxruntime", "openvino")  # driven from this script; onednn_pypi runs bench_fwd/bench_bwd
ONEDNN_WHEELS = ["onednn-cpu-gomp", "onednn-devel-cpu-gomp"]
BASE_PACKAGES = ["numpy", "onnx"]  # what every peer needs
TOLERANCE = 1e-3
NOISY_CV = 0.10
SEED = 20261201
COPIED_KEYS = ("run_label", "peak_f32_gflops", "peak_f64_gflops", "peak_threads", "peak_gflops", "bandwidth_gbs",
               "date", "host_name", "num_cpus", "mhz_per_cpu", "cpu_scaling_enabled", "caches", "load_avg")
np = onnx = None  # imported in the venv only (inner)


def log(msg):
    print("peers.py: " + msg, file=sys.stderr, flush=True)


def die(msg):
    log("error: " + msg)
    sys.exit(2)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bench-fwd", required=True, help="bench_fwd program (for --list_layers)")
    ap.add_argument("--context-from", help="bench_fwd's JSON: host and peak keys are copied from its context")
    ap.add_argument("--out", required=True, help="JSON file to write")
    ap.add_argument("--venv", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".venv-peers"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per repetition")
    ap.add_argument("--layers", default=".*", help="regex the layer names must match in full")
    ap.add_argument("--bwd-batches", default="16,64", help="onednn_pypi's backward batches (bench_bwd --batches)")
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--no-install", action="store_true",
                    help="no virtual environment, no pip: use what this interpreter imports")
    ap.add_argument("--inner-skipped", help=argparse.SUPPRESS)  # set by the re-exec into the venv
    args = ap.parse_args(argv)
    args.peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    if any(p not in PEERS for p in args.peers):
        ap.error(f"--peers: known peers are {', '.join(PEERS)}")
    if args.threads < 1 or args.repetitions < 1 or args.min_time < 0:
        ap.error("--threads and --repetitions must be >= 1, --min-time >= 0")
    return args


# --- Layers, context and the JSON (standard library only) -------------------

def list_layers(bench_fwd):
    try:
        out = subprocess.run([bench_fwd, "--list_layers"], check=True, capture_output=True, text=True).stdout
        return json.loads(out)
    except (OSError, subprocess.CalledProcessError, ValueError) as e:
        die(f"{bench_fwd} --list_layers: {e}")


def selected(layers, args):
    """[(layer, impl, benchmark name)] of the Python-driven peers that
    --layers and --peers keep, in run order."""
    rx = re.compile(args.layers)
    return [(l, p, f"fwd/{l['name']}/{p}") for l in layers for p in args.peers
            if p in PYTHON_PEERS and rx.fullmatch(l["name"])]


def source_context(args):
    """The context of --context-from ({} without one); dies when unreadable."""
    if not args.context_from:
        return {}
    try:
        with open(args.context_from) as f:
            return json.load(f).get("context", {})
    except (OSError, ValueError) as e:
        die(f"--context-from {args.context_from}: {e}")


def make_context(args):
    if args.context_from:
        src = source_context(args)
        ctx = {k: v for k, v in src.items() if k.startswith("host_") or k in COPIED_KEYS}
    else:
        model = ""
        try:
            with open("/proc/cpuinfo") as f:
                model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
        except OSError:
            pass
        ctx = {"date": datetime.now().astimezone().isoformat(timespec="seconds"),
               "host_name": socket.gethostname(), "num_cpus": os.cpu_count(), "host_cpu_model": model}
    ctx.update({"program": "peers.py", "threads": str(args.threads), "time_base": "real (wall clock)"})
    return ctx


def set_peers_out(ctx, skipped):
    ctx["peers_out"] = "; ".join(f"{p} ({why})" for p, why in skipped.items()) or "none"


def peak_gflops(ctx, threads):
    """The f32 FMA peak that peak_frac divides by, or None without one."""
    if "peak_f32_gflops" in ctx:
        return float(ctx["peak_f32_gflops"]) * float(ctx.get("peak_threads", threads))
    if "peak_gflops" in ctx:  # older bench_fwd: one core's peak, times the threads (at most the cores)
        cores = int(ctx.get("host_cores") or ctx.get("num_cpus") or threads)
        return float(ctx["peak_gflops"]) * min(threads, max(cores, 1))
    return None


def error_entry(index, name, reps, why):
    return {"name": name, "family_index": index, "per_family_instance_index": 0, "run_name": name,
            "run_type": "iteration", "repetitions": reps, "repetition_index": 0, "threads": 1,
            "error_occurred": True, "error_message": why, "iterations": 0,
            "real_time": 0.0, "cpu_time": 0.0, "time_unit": "ms"}


def entries_of(index, name, reps, label):
    """Google Benchmark 1.7's entries of one benchmark from its repetitions
    (dicts: iterations, real_time, cpu_time in ms, counters): the mean, median,
    stddev and cv aggregates (--benchmark_report_aggregates_only), or the one
    run when there is one repetition."""
    head = {"name": name, "family_index": index, "per_family_instance_index": 0, "run_name": name}
    if len(reps) == 1:
        return [dict(head, run_type="iteration", repetitions=1, repetition_index=0, threads=1,
                     **reps[0], label=label)]
    mean, stdev = statistics.mean, statistics.stdev
    stats = {"mean": mean, "median": statistics.median, "stddev": stdev,
             "cv": lambda v: stdev(v) / mean(v) if mean(v) else 0.0}
    out = []
    for agg, fn in stats.items():
        e = dict(head, name=f"{name}_{agg}", run_type="aggregate", repetitions=len(reps), threads=1,
                 aggregate_name=agg, aggregate_unit="percentage" if agg == "cv" else "time", iterations=len(reps))
        for k, v in reps[0].items():
            if k != "iterations":
                e[k] = v if isinstance(v, str) else fn([r[k] for r in reps])  # time_unit: as is
        out.append(dict(e, label=label))
    return out


def write_json(path, ctx, entries):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"context": ctx, "benchmarks": entries}, f, indent=2)
        f.write("\n")
    log(f"wrote {path} ({len(entries)} entries)")


# --- Outer (system Python): the virtual environment, then the re-exec --------

def last_line(text):
    lines = [l.strip() for l in (text or "").splitlines() if l.strip()]
    return lines[-1] if lines else "no output"


def make_venv(venv):
    """(the venv's python, None), or (None, why not)."""
    py = os.path.join(os.path.abspath(venv), "bin", "python")
    if not os.path.exists(py):
        log(f"creating the virtual environment {venv}")
        r = subprocess.run([sys.executable, "-m", "venv", venv], capture_output=True, text=True)
        if r.returncode != 0:
            return None, f"python3 -m venv {venv} failed: {last_line(r.stderr + r.stdout)}"
    r = subprocess.run([py, "-c", "import sys"], capture_output=True, text=True)
    return (py, None) if r.returncode == 0 else (None, f"{py} does not run: {last_line(r.stderr)}")


def install(py, packages, probe=None):
    """None when `packages` import in the venv (or the command `probe`
    succeeds there), pip-installing them if not yet, else why not."""
    test = probe or [py, "-c", "import " + ", ".join(packages)]
    if subprocess.run(test, capture_output=True).returncode == 0:
        return None
    log(f"pip install {' '.join(packages)}")
    r = subprocess.run([py, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--timeout", "30",
                        "--retries", "2"] + packages, capture_output=True, text=True)
    if r.returncode != 0:
        return f"pip install {' '.join(packages)} failed: {last_line(r.stderr + r.stdout)}"
    r = subprocess.run(test, capture_output=True, text=True)
    return None if r.returncode == 0 else f"{' '.join(packages)} installed but unusable: {last_line(r.stderr)}"


def onednn_pypi(args, py, why):
    """Builds bench_fwd and bench_bwd against the index's oneDNN (installed
    into the venv of `py`) and runs its benchmarks; (files written, why not)."""
    probe = [py, "-c", "import importlib.metadata as m; " + "; ".join(f"m.version('{w}')" for w in ONEDNN_WHEELS)]
    why = why or install(py, ONEDNN_WHEELS, probe=probe)
    if why:
        return [], why
    prefix = subprocess.run([py, "-c", "import sys; print(sys.prefix)"], capture_output=True,
                            text=True).stdout.strip()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.path.join(root, "build-bench-onednn-pypi")
    opts = ["-Dbench=enabled", "-Dtests=disabled", "-Dexamples=disabled", "--buildtype=release",
            f"-Donednn_prefix={prefix}"]
    setup = ["meson", "setup"] + (["--reconfigure"] if os.path.exists(os.path.join(build, "build.ninja")) else [])
    for cmd in (setup + [build] + opts, ["ninja", "-C", build, "bench/bench_fwd", "bench/bench_bwd"]):
        r = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
        if r.returncode != 0:
            return [], f"{' '.join(cmd[:2])} failed: {last_line(r.stdout + r.stderr)}"
    layers = f"({args.layers})"
    ctx = source_context(args)
    common = [f"--threads={args.threads}", f"--benchmark_repetitions={args.repetitions}",
              f"--benchmark_min_time={args.min_time}", "--benchmark_report_aggregates_only=true",
              "--benchmark_out_format=json", "--dtypes=f32"]
    if ctx.get("run_label"):
        common.append(f"--run_label={ctx['run_label']}")
    if "real" in ctx.get("time_base", ""):
        common.append("--time=real")
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    runs = [("bench_fwd", "onednn-pypi-fwd.json", f"^peak|^fwd/{layers}/onednn_pypi$", []),
            ("bench_bwd", "onednn-pypi-bwd.json", f"^peak|^bwd_[a-z]+/{layers}_b[0-9]+/onednn_pypi$",
             [f"--batches={args.bwd_batches}"])]
    written = []
    for program, name, rx, extra in runs:
        path = os.path.join(out_dir, name)
        log(f"onednn_pypi: {program} -> {path}")
        r = subprocess.run([os.path.join(build, "bench", program)] + common + extra +
                           [f"--benchmark_filter={rx}", f"--benchmark_out={path}"],
                           stdout=subprocess.DEVNULL, env=dict(os.environ, OMP_NUM_THREADS=str(args.threads)))
        if r.returncode != 0:
            return written, f"{program} (built against the index's oneDNN) exited with {r.returncode}"
        written.append(path)
    return written, None


def outer(args, argv, layers):
    py, why = make_venv(args.venv)
    base_why = why or install(py, BASE_PACKAGES)
    skipped = {}
    if "onednn_pypi" in args.peers:
        _, onednn_why = onednn_pypi(args, py, why)
        if onednn_why:
            skipped["onednn_pypi"] = onednn_why
            log(f"onednn_pypi skipped: {onednn_why}")
    for p in args.peers:  # one pip install per peer: one failing leaves the other
        if p not in PYTHON_PEERS:
            continue
        why = base_why or install(py, [p])
        if why:
            skipped[p] = why
            log(f"{p} skipped: {why}")
    if all(p in skipped for p in args.peers if p in PYTHON_PEERS):  # nothing to run in the venv
        ctx = make_context(args)
        set_peers_out(ctx, skipped)
        write_json(args.out, ctx, [error_entry(i, name, args.repetitions, f"{p} skipped: {skipped[p]}")
                                   for i, (_, p, name) in enumerate(selected(layers, args))])
        return 0
    sys.stdout.flush()
    os.execve(py, [py, os.path.abspath(__file__)] + argv + ["--inner-skipped", json.dumps(skipped)],
              dict(os.environ, OMP_NUM_THREADS=str(args.threads)))


# --- Inner (in the venv): model, reference, peers, timing --------------------

def tensors(l):
    """The layer's fixed inputs at its batch: x, w (ONNX layout), bias or None."""
    rng = np.random.default_rng(SEED)
    u = lambda *shape: rng.uniform(-1.0, 1.0, shape).astype(np.float32)
    x = u(l["batch"], l["channels"], l["in_h"], l["in_w"])
    w = u(l["channels"], l["filters"] // l["groups"], l["kernel"], l["kernel"])
    return x, w, (u(l["filters"]) if l["bias"] else None)


def out_shape(l, n):
    s, p, k, op = l["stride"], l["padding"], l["kernel"], l["out_pad"]
    oh, ow = [(i - 1) * s - 2 * p + k + op for i in (l["in_h"], l["in_w"])]
    if (oh, ow) != (l["out_h"], l["out_w"]):
        die(f"{l['name']}: ConvTranspose gives {oh}x{ow}, --list_layers says {l['out_h']}x{l['out_w']}")
    return [n, l["filters"], oh, ow]


def onnx_model(l, n, w, b):
    """The serialized ONNX model of the layer at batch n: one ConvTranspose node."""
    from onnx import TensorProto, helper, numpy_helper
    s, p, op, k = l["stride"], l["padding"], l["out_pad"], l["kernel"]
    inits = [numpy_helper.from_array(w, "W")] + ([numpy_helper.from_array(b, "B")] if b is not None else [])
    node = helper.make_node("ConvTranspose", ["X", "W"] + (["B"] if b is not None else []), ["Y"],
                            strides=[s, s], pads=[p] * 4, output_padding=[op, op], group=l["groups"],
                            kernel_shape=[k, k])
    x_info = helper.make_tensor_value_info("X", TensorProto.FLOAT, [n, l["channels"], l["in_h"], l["in_w"]])
    y_info = helper.make_tensor_value_info("Y", TensorProto.FLOAT, out_shape(l, n))
    graph = helper.make_graph([node], l["name"], [x_info], [y_info], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model.SerializeToString()


def reference(l, x, w, b):
    """Transposed convolution in float64. Tap (i, j) adds x @ W[:, :, i, j]
    (per group) to the full output at (i + s*h, j + s*w); then p is cropped
    at top/left; the output_padding rows/columns at bottom/right keep what
    lands there (no tap: zeros), then the bias is added."""
    N, C, H, W = x.shape
    s, p, op, k, g, F = l["stride"], l["padding"], l["out_pad"], l["kernel"], l["groups"], l["filters"]
    Cg, Fg = C // g, F // g
    xt = x.astype(np.float64).transpose(0, 2, 3, 1)  # N H W C
    full = np.zeros((N, (H - 1) * s + k + op, (W - 1) * s + k + op, F))
    for gi in range(g):
        xg, wg = xt[..., gi * Cg:(gi + 1) * Cg], w[gi * Cg:(gi + 1) * Cg].astype(np.float64)
        for i in range(k):
            for j in range(k):
                rows, cols = slice(i, i + s * (H - 1) + 1, s), slice(j, j + s * (W - 1) + 1, s)
                full[:, rows, cols, gi * Fg:(gi + 1) * Fg] += xg @ wg[:, :, i, j]
    y = full[:, p:p + l["out_h"], p:p + l["out_w"], :] + (0.0 if b is None else b.astype(np.float64))
    return y.transpose(0, 3, 1, 2)


def max_rel_error(got, want):
    """(max |got - want| / (|want| + mean |want|), flat index of the worst); NaN counts as worst."""
    err = np.abs(got.astype(np.float64) - want) / (np.abs(want) + np.abs(want).mean() + 1e-30)
    err[np.isnan(err)] = np.inf
    at = int(np.argmax(err))
    return float(err.flat[at]), at


def ort_peer(threads):
    """(description, open); open(model, x, y_shape) -> (run, output, label, objects to keep)."""
    import onnxruntime as ort
    about = (f"ONNX Runtime {ort.__version__}: InferenceSession, CPUExecutionProvider, ORT_ENABLE_ALL, "
             f"intra_op_num_threads={threads}, inter_op_num_threads=1, ORT_SEQUENTIAL; f32; input NCHW (its kernels' layout); "
             "weights and bias are initializers, prepared at session creation (outside timing); input and "
             "output bound once (IOBinding), a timed run allocates nothing")

    def open_(model, x, y_shape):
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.log_severity_level = 3
        with tempfile.TemporaryDirectory() as tmp:  # the optimized graph, for the label
            so.optimized_model_filepath = os.path.join(tmp, "optimized.onnx")
            sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
            ops = "+".join((n.domain + "." if n.domain else "") + n.op_type
                           for n in onnx.load(so.optimized_model_filepath).graph.node)
        y = np.empty(y_shape, np.float32)
        io = sess.io_binding()
        io.bind_cpu_input("X", x)
        io.bind_output("Y", "cpu", 0, np.float32, y_shape, y.ctypes.data)
        label = f"onnxruntime {ort.__version__} {sess.get_providers()[0]}: {ops} f32 NCHW"
        return (lambda: sess.run_with_iobinding(io)), (lambda: y), label, (sess, io, x)
    return about, open_


def ov_peer(threads):
    """(description, open), as ort_peer."""
    import openvino as ov
    from openvino.preprocess import PrePostProcessor
    core = ov.Core()
    about = (f"OpenVINO {ov.__version__}: compile_model on CPU ({core.get_property('CPU', 'FULL_DEVICE_NAME')}), "
             f"INFERENCE_NUM_THREADS={threads}, PERFORMANCE_HINT=LATENCY, INFERENCE_PRECISION_HINT=f32 (forced, "
             "not bf16); input and output NHWC (its best case; the NCHW model's layout set at its edges with "
             "PrePostProcessor), its internal reorders timed; weights and bias are constants, "
             "packed at compile time (outside timing); one infer request reused, its input set once")
    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}

    def open_(model, x, y_shape):
        # NHWC at the model's edges, its best case: given NCHW it converts
        # the output back from its own nhwc with a slow generic reorder
        # (YOLOv8's proto layer: 7 of 9 ms; ENet 32->32: 4-5x overall).
        ppp = PrePostProcessor(core.read_model(model))
        for edge in (ppp.input(), ppp.output()):
            edge.tensor().set_layout(ov.Layout("NHWC"))
            edge.model().set_layout(ov.Layout("NCHW"))
        compiled = core.compile_model(ppp.build(), "CPU", config)
        if compiled.get_property("INFERENCE_PRECISION_HINT") != ov.Type.f32:
            raise RuntimeError(f"precision {compiled.get_property('INFERENCE_PRECISION_HINT')}, not f32")
        prims = []  # what it runs, from its runtime model, for the label
        for o in compiled.get_runtime_model().get_ordered_ops():
            info = o.get_rt_info()
            kind, prim, prec = (info[k].astype(str) for k in ("layerType", "primitiveType", "runtimePrecision"))
            if kind == "Deconvolution" and prec != "f32":
                raise RuntimeError(f"its Deconvolution runs in {prec}, not f32")
            if kind not in ("Input", "Output", "Const"):
                prims.append(f"{kind} {prim}")
        req = compiled.create_infer_request()
        x_nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        req.set_input_tensor(ov.Tensor(x_nhwc))
        label = f"openvino {ov.__version__} CPU, NHWC: " + " > ".join(prims)
        nchw = lambda: req.get_output_tensor().data.transpose(0, 3, 1, 2)  # for the check only
        return req.infer, nchw, label, (compiled, req, x_nhwc)
    return about, open_


def check(open_, l, name, x, w, b):
    """Runs the peer at batch min(batch, 2) against the reference, dies on a
    disagreement; returns the opened peer when that is the layer's batch."""
    n = min(l["batch"], 2)
    xs = np.ascontiguousarray(x[:n])
    opened = open_(onnx_model(l, n, w, b), xs, out_shape(l, n))
    opened[0]()
    got, want = np.asarray(opened[1]()), reference(l, xs, w, b)
    if got.shape != want.shape:
        die(f"{name}: output shape {list(got.shape)}, expected {list(want.shape)}")
    worst, at = max_rel_error(got, want)
    if not worst <= TOLERANCE:
        i = np.unravel_index(at, want.shape)
        die(f"{name} DISAGREES with the numpy reference at batch {n}: max relative error {worst:.3g} > "
            f"{TOLERANCE:.0e} at n,f,oh,ow={tuple(int(v) for v in i)} (got {got[i]:.6g}, reference {want[i]:.6g}); "
            f"the layer mapping or the peer is wrong [{opened[2]}]")
    log(f"check {name} ok (batch {n}, max rel err {worst:.2e})")
    return opened if n == l["batch"] else None


def measure(run, repetitions, min_time):
    """[(iterations, wall s/iteration, CPU s/iteration)] per repetition, after one warm-up run."""
    run()
    reps = []
    for _ in range(repetitions):
        n, w0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            run()
            n += 1
            wall = time.perf_counter() - w0
            if wall >= min_time:
                break
        reps.append((n, wall / n, (time.process_time() - c0) / n))
    return reps


def bench_one(open_, l, name, args, peak):
    """(repetitions as entry dicts, label) of one (layer, peer), checked first."""
    x, w, b = tensors(l)
    y_shape = out_shape(l, l["batch"])
    opened = check(open_, l, name, x, w, b) or open_(onnx_model(l, l["batch"], w, b), x, y_shape)
    nbytes = 4.0 * (x.size + w.size + (0 if b is None else b.size) + int(np.prod(y_shape)))
    reps = []
    for it, wall, cpu in measure(opened[0], args.repetitions, args.min_time):
        r = {"iterations": it, "real_time": wall * 1e3, "cpu_time": cpu * 1e3, "time_unit": "ms",
             "GFLOP/s": l["gflop"] / wall}
        if peak:
            r["peak_frac"] = r["GFLOP/s"] / peak
        reps.append(dict(r, bytes=nbytes, cpu_util=cpu / wall))
    return reps, opened[2]


def inner(args, layers):
    global np, onnx
    skipped, ctx, peers = json.loads(args.inner_skipped), make_context(args), {}
    try:
        import numpy as np
        import onnx
    except Exception as e:  # noqa: BLE001 - whatever breaks the import skips every peer
        skipped.update({p: f"import numpy, onnx failed: {e}" for p in args.peers if p not in skipped})
    for p in args.peers:
        if p in skipped or p not in PYTHON_PEERS:
            continue
        try:
            ctx[f"peer_{p}"], peers[p] = {"onnxruntime": ort_peer, "openvino": ov_peer}[p](args.threads)
            log(ctx[f"peer_{p}"])
        except Exception as e:  # noqa: BLE001
            skipped[p] = f"import {p} failed: {last_line(str(e)) or type(e).__name__}"
            log(f"{p} skipped: {skipped[p]}")
    set_peers_out(ctx, skipped)
    peak, entries = peak_gflops(ctx, args.threads), []
    for index, (l, p, name) in enumerate(selected(layers, args)):
        if p not in peers:
            entries.append(error_entry(index, name, args.repetitions, f"{p} skipped: {skipped[p]}"))
            continue
        try:
            reps, label = bench_one(peers[p], l, name, args, peak)
        except Exception as e:  # noqa: BLE001 - the peer refused the layer
            why = last_line(str(e)) or type(e).__name__
            log(f"{name} REFUSED: {why}")
            entries.append(error_entry(index, name, args.repetitions, f"{p} refused: {why}"))
            continue
        gf = [r["GFLOP/s"] for r in reps]
        cv = statistics.stdev(gf) / statistics.mean(gf) if len(gf) > 1 else 0.0
        log(f"{name}: {statistics.median(gf):.1f} GFLOP/s (median of {len(gf)}, cv {100 * cv:.1f}%) [{label}]")
        if cv > NOISY_CV:
            log(f"warning: {name} is noisy: cv of GFLOP/s {100 * cv:.1f}% > {100 * NOISY_CV:.0f}%")
        entries.extend(entries_of(index, name, reps, label))
    write_json(args.out, ctx, entries)
    return 0


def main(argv):
    args = parse_args(argv)
    layers = list_layers(args.bench_fwd)
    if not any(re.fullmatch(args.layers, l["name"]) for l in layers):
        log(f"warning: --layers {args.layers!r} matches no layer")
    if args.no_install:  # this interpreter, as it is
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
        args.inner_skipped = json.dumps({p: "not run with --no-install" for p in args.peers
                                         if p not in PYTHON_PEERS})
    if args.inner_skipped is not None:
        return inner(args, layers)
    return outer(args, argv, layers)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
