"""The numpy functions: against an independent numpy loop (naive.py) and
tconv's scalar reference, every layout, MATLAB's cropping, fused
activations, the backward passes, and the module's settings (plan cache,
tuning, threads, instruction sets)."""
import threading
import time

import numpy as np
import pytest

import tconv
from tconv import _functional

import naive


def random_case(rng, dtype=np.float64):
    while True:
        groups = int(rng.integers(1, 4))
        c, f = groups * int(rng.integers(1, 5)), groups * int(rng.integers(1, 5))
        k = tuple(int(v) for v in rng.integers(1, 6, 2))
        s = tuple(int(v) for v in rng.integers(1, 4, 2))
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        n, h, w = (int(v) for v in rng.integers(1, 6, 3))
        crop = tuple(int(v) for v in rng.integers(0, 4, 4))  # MATLAB's: >= 0
        full = ((h - 1) * s[0] + (k[0] - 1) * d[0] + 1, (w - 1) * s[1] + (k[1] - 1) * d[1] + 1)
        if full[0] - crop[0] - crop[1] >= 1 and full[1] - crop[2] - crop[3] >= 1:
            break
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = rng.standard_normal((c, f // groups) + k).astype(dtype)
    b = rng.standard_normal(f).astype(dtype)
    return x, wt, b, dict(stride=s, dilation=d, groups=groups, cropping=crop)


def close(got, want, tol):
    scale = max(np.abs(want).max(), 1.0)
    return np.abs(got - want).max() <= tol * scale


@pytest.mark.parametrize("seed", range(60))
def test_forward_matches_independent_loop(seed):
    rng = np.random.default_rng(seed)
    dtype = np.float32 if seed % 2 else np.float64
    x, w, b, kw = random_case(rng, dtype)
    y = tconv.conv_transpose2d(x, w, b, **kw)
    want = naive.conv_transpose2d(x, w, b, kw["stride"], kw["cropping"], kw["groups"],
                                  kw["dilation"])
    assert y.dtype == dtype and y.shape == want.shape
    assert close(y, want, 1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_nhwc_and_ohwi_agree_with_nchw(seed):
    rng = np.random.default_rng(100 + seed)
    x, w, b, kw = random_case(rng)
    y = tconv.conv_transpose2d(x, w, b, **kw)
    g = kw["groups"]
    c, fg = w.shape[:2]
    # OHWI: [F][kh][kw][C/g]; PyTorch's IOHW is [g*Cg + ci][m][kh][kw].
    w_ohwi = w.reshape(g, c // g, fg, *w.shape[2:]).transpose(0, 2, 3, 4, 1).reshape(
        g * fg, *w.shape[2:], c // g)
    x_nhwc = x.transpose(0, 2, 3, 1)
    y_nhwc = tconv.conv_transpose2d(x_nhwc, w_ohwi, b, layout="NHWC", **kw)
    assert close(y_nhwc.transpose(0, 3, 1, 2), y, 1e-12)
    y_iohw = tconv.conv_transpose2d(x_nhwc, w, b, layout="NHWC", weight_layout="IOHW", **kw)
    assert close(y_iohw.transpose(0, 3, 1, 2), y, 1e-12)


def test_output_padding_adds_bias_only_rows():
    # PyTorch's output_padding is a negative crop at the bottom and right.
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((3, 2, 3, 3)), \
        rng.standard_normal(2)
    y = tconv.conv_transpose2d(x, w, b, stride=3, padding=(0, 1), output_padding=(2, 1))
    assert close(y, naive.conv_transpose2d(x, w, b, (3, 3), (0, -2, 1, 0)), 1e-12)


def test_matlab_same_cropping_examples():
    # The hand-computed examples of MATLAB's "same" (shared/design/semantics.md),
    # one row of the 2-D pass: stride 2, k 3 keeps the extra column at the right.
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 1, 1, 3)
    y = tconv.conv_transpose2d(x, np.array([1.0, 10, 100]).reshape(1, 1, 1, 3), stride=(1, 2),
                               cropping="same")
    assert y.ravel().tolist() == [1, 10, 102, 20, 203, 30]
    y = tconv.conv_transpose2d(x, np.array([1.0, 10, 100, 1000]).reshape(1, 1, 1, 4),
                               stride=(1, 3), cropping="same")
    assert y.ravel().tolist() == [1, 10, 100, 1002, 20, 200, 2003, 30, 300]
    y = tconv.conv_transpose2d(x, np.array([1.0, 10]).reshape(1, 1, 1, 2), stride=(1, 3),
                               cropping="same")
    assert y.ravel().tolist() == [1, 10, 0, 2, 20, 0, 3, 30, 0]
    # "same" keeps in * stride whatever the input, in both dimensions.
    y = tconv.conv_transpose2d(np.ones((2, 3, 5, 7)), np.ones((3, 4, 4, 3)), stride=(3, 2),
                               cropping="same")
    assert y.shape == (2, 4, 15, 14)


@pytest.mark.parametrize("cropping,crop", [(1, (1, 1, 1, 1)), ((1, 2), (1, 1, 2, 2)),
                                           ((0, 1, 2, 0), (0, 1, 2, 0))])
def test_matlab_cropping_forms(cropping, crop):
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((1, 2, 4, 5)), rng.standard_normal((2, 3, 3, 4))
    y = tconv.conv_transpose2d(x, w, stride=2, cropping=cropping)
    assert close(y, naive.conv_transpose2d(x, w, None, (2, 2), crop), 1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_simd_matches_reference_on_channel_heavy_layers(seed):
    rng = np.random.default_rng(200 + seed)
    dtype = np.float32 if seed % 2 else np.float64
    c, f = int(rng.choice([16, 48, 64])), int(rng.choice([3, 17, 32, 64]))
    k, s = int(rng.integers(2, 5)), int(rng.integers(1, 3))
    layout = "NHWC" if seed % 3 == 0 else "NCHW"
    x = rng.standard_normal((2, c, 9, 11)).astype(dtype)
    w = rng.standard_normal((c, f, k, k)).astype(dtype)
    if layout == "NHWC":
        x, w = x.transpose(0, 2, 3, 1).copy(), w.transpose(1, 2, 3, 0).copy()
    args = dict(stride=s, padding=k // 2 if s > 1 else 0, layout=layout)
    y = tconv.conv_transpose2d(x, w, **args)
    y_ref = tconv.conv_transpose2d(x, w, **args, reference=True)
    tol = 1e-4 if dtype == np.float32 else 1e-11
    assert close(y, y_ref, tol)
    dy = rng.standard_normal(y.shape).astype(dtype)
    got = tconv.conv_transpose2d_backward(x, w, dy, **args)
    want = tconv.conv_transpose2d_backward(x, w, dy, **args, reference=True)
    for g, r in zip(got, want):
        assert g.dtype == dtype and g.shape == r.shape and close(g, r, tol)


@pytest.mark.parametrize("seed", range(30))
def test_backward_is_the_adjoint(seed):
    rng = np.random.default_rng(300 + seed)
    x, w, b, kw = random_case(rng)
    y = tconv.conv_transpose2d(x, w, None, **kw)
    dy = rng.standard_normal(y.shape)
    dx, dw, db = tconv.conv_transpose2d_backward(x, w, dy, **kw)
    # <fwd(x), dy> = <x, bwd_data(dy)> = <w, bwd_weights(x, dy)>
    lhs = np.vdot(y, dy)
    assert abs(np.vdot(x, dx) - lhs) <= 1e-10 * max(abs(lhs), 1)
    assert abs(np.vdot(w, dw) - lhs) <= 1e-10 * max(abs(lhs), 1)
    assert np.allclose(db, dy.sum(axis=(0, 2, 3)), rtol=1e-12, atol=1e-12)
    # Each gradient alone is the same as computed together.
    assert np.array_equal(tconv.conv_transpose2d_backward(
        x, w, dy, **kw, output_mask=(True, False, False))[0], dx)
    only_db = tconv.conv_transpose2d_backward(x, w, dy, **kw, output_mask=(False, False, True))
    assert only_db[0] is None and only_db[1] is None and np.allclose(only_db[2], db)


@pytest.mark.parametrize("name,alpha,fn", [
    ("relu", None, lambda v: np.maximum(v, 0)),
    ("leaky_relu", None, lambda v: np.where(v > 0, v, 0.01 * v)),
    ("clipped_relu", 0.5, lambda v: np.clip(v, 0, 0.5)),
    ("elu", None, lambda v: np.where(v > 0, v, np.expm1(v))),
    ("sigmoid", None, lambda v: 1 / (1 + np.exp(-v))),
    ("tanh", None, np.tanh),
    ("swish", None, lambda v: v / (1 + np.exp(-v))),
])
def test_fused_activations(name, alpha, fn):
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((3, 5, 3, 3)), \
        rng.standard_normal(5)
    y = tconv.conv_transpose2d(x, w, b, 2, 1, activation=name, activation_alpha=alpha)
    want = fn(naive.conv_transpose2d(x, w, b, (2, 2), (1, 1, 1, 1)))
    assert close(y, want, 1e-12)


def test_non_contiguous_arrays_are_accepted():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 6, 5)).transpose(0, 1, 3, 2)  # a view with other strides
    w = rng.standard_normal((4, 3, 2, 2))[:, ::2].transpose(1, 0, 2, 3)  # (2, 4, 2, 2), strided
    x3 = x[:, :2]
    y = tconv.conv_transpose2d(x3, w, stride=2)
    assert close(y, naive.conv_transpose2d(x3, w, None, (2, 2), (0, 0, 0, 0)), 1e-12)


def test_plans_are_cached_per_configuration():
    tconv.clear_plan_cache()
    x, w = np.ones((1, 4, 3, 3), np.float32), np.ones((4, 2, 2, 2), np.float32)
    tconv.conv_transpose2d(x, w, stride=2)
    tconv.conv_transpose2d(x + 1, w, stride=2)
    assert len(_functional._plans) == 1
    tconv.conv_transpose2d(x, w, stride=1)
    tconv.conv_transpose2d(x.astype(np.float64), w.astype(np.float64), stride=2)
    assert len(_functional._plans) == 3
    for i in range(_functional.PLAN_CACHE_SIZE + 5):  # the least recently used go first
        tconv.conv_transpose2d(np.ones((1, 1, 1, i + 1)), np.ones((1, 1, 1, 1)))
    assert len(_functional._plans) == _functional.PLAN_CACHE_SIZE
    tconv.clear_plan_cache()
    assert len(_functional._plans) == 0


def test_plan_info_and_reference():
    x, w = np.ones((1, 8, 4, 4), np.float32), np.ones((8, 4, 4, 4), np.float32)
    info = tconv.plan_info(x, w, 2, 1)
    assert "f32 NCHW/W_IOHW 1x8x4x4 -> 1x4x8x8 k4x4 s2x2" in info
    assert "tune: fwd heuristic" in info
    assert "none (reference)" in tconv.plan_info(x, w, 2, 1, reference=True)


def test_tune_measures_then_later_calls_use_it():
    tconv.set_tune_budget(0.05)
    try:
        x = np.random.default_rng(1).standard_normal((1, 32, 6, 6)).astype(np.float32)
        w = np.random.default_rng(2).standard_normal((32, 16, 3, 3)).astype(np.float32)
        info = tconv.tune(x, w, 2, 1, passes="all")
        assert "fwd tuned, measured now" in info and "bwd_weights tuned, measured now" in info
        assert tconv.plan_info(x, w, 2, 1) == info  # the tuned plan serves later calls
        tconv.clear_plan_cache()
        assert "fwd tuned, from cache" in tconv.plan_info(x, w, 2, 1)
        y = tconv.conv_transpose2d(x, w, None, 2, 1)
        assert close(y, tconv.conv_transpose2d(x, w, None, 2, 1, reference=True), 1e-4)
    finally:
        tconv.set_tune_budget(2.0)


def test_threads_and_instruction_sets():
    rng = np.random.default_rng(11)
    x, w = rng.standard_normal((2, 24, 7, 7)), rng.standard_normal((24, 12, 4, 4))
    base = tconv.conv_transpose2d(x, w, None, 2, 1)
    default_threads = tconv.get_num_threads()
    try:
        for n in (1, 3):
            tconv.set_num_threads(n)
            assert tconv.get_num_threads() == n
            assert np.array_equal(tconv.conv_transpose2d(x, w, None, 2, 1), base)  # same bits
    finally:
        tconv.set_num_threads(0)
    assert tconv.get_num_threads() == default_threads
    best = tconv.isa()  # the CPU's best, or the cap TCONV_ISA set
    assert tconv.kernel_names(best)
    try:
        tconv.set_max_isa("scalar")
        assert tconv.isa() == "scalar" and "scalar" in tconv.plan_info(x, w, 2, 1)
        assert close(tconv.conv_transpose2d(x, w, None, 2, 1), base, 1e-12)
    finally:
        tconv.set_max_isa(best)
    info = tconv.host_info()
    assert info["isa"] == tconv.cpu_isa() and info["cores"] >= 1 and info["l1d_bytes"] > 0
    assert tconv.__version__ == tconv.version() == "0.1.0"


def test_cache_export_import_clear(tmp_path):
    out = tmp_path / "exported.txt"
    tconv.cache_export(out)
    assert out.read_text().startswith("#") or out.stat().st_size > 0
    tconv.cache_import(out)
    tconv.cache_clear()
    with pytest.raises(OSError):
        tconv.cache_import(tmp_path / "missing.txt")


def test_gil_is_released_during_passes():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((4, 128, 32, 32)).astype(np.float32)
    w = rng.standard_normal((128, 64, 4, 4)).astype(np.float32)
    tconv.conv_transpose2d(x, w, None, 2, 1)  # plan and warm up
    start = time.perf_counter()
    tconv.conv_transpose2d(x, w, None, 2, 1)
    one = time.perf_counter() - start
    runs, ticks = max(1, int(0.3 / max(one, 1e-4))), 0
    done = threading.Event()

    def work():
        for _ in range(runs):
            tconv.conv_transpose2d(x, w, None, 2, 1)
        done.set()

    tconv.set_num_threads(1)  # the pass on one core, this thread on the other
    try:
        t = threading.Thread(target=work)
        t.start()
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)
        t.join()
    finally:
        tconv.set_num_threads(0)
    # A pass holding the GIL for ~0.3 s would let this loop tick ~once per pass.
    assert ticks >= 2 * runs


def test_concurrent_calls_from_python_threads():
    rng = np.random.default_rng(17)
    x = rng.standard_normal((2, 32, 9, 9)).astype(np.float32)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    want = tconv.conv_transpose2d(x, w, None, 2, 1)
    results = [None] * 6

    def work(i):
        results[i] = all(np.array_equal(tconv.conv_transpose2d(x, w, None, 2, 1), want)
                         for _ in range(20))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results)


def test_plan_set_weights_serves_forward_without_weights():
    rng = np.random.default_rng(19)
    plan = tconv.Plan(batch=2, channels=8, in_h=5, in_w=4, filters=6, filter_h=3, filter_w=3,
                      stride=(2, 2), padding=(1, 1))
    x = rng.standard_normal((2, 8, 5, 4)).astype(np.float32)
    w, b = rng.standard_normal((8, 6, 3, 3)).astype(np.float32), \
        rng.standard_normal(6).astype(np.float32)
    y, y_packed = (np.empty((2, 6) + plan.output_size, np.float32) for _ in range(2))
    plan.forward(x, w, b, y)
    plan.set_weights(w, b)
    plan.forward(x, None, None, y_packed)
    # Few pixels: weights given per call stream (kernels/wstream.h), kept
    # ones run the packed forward driver; the sums run in other orders.
    assert "weights per call: wstream" in plan.info
    np.testing.assert_allclose(y_packed, y, rtol=0, atol=1e-5 * np.abs(y).max())
