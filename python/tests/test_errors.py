"""Every class of bad input raises TypeError, ValueError (or OverflowError)
with a message naming the argument and the value, and no buffer is written
outside its bounds."""
import numpy as np
import pytest

import tconv
from tconv import Plan

X = np.ones((1, 4, 3, 3), np.float32)
W = np.ones((4, 2, 3, 3), np.float32)


@pytest.mark.parametrize("call,error,message", [
    (lambda: tconv.conv_transpose2d(X[0], W), ValueError,
     r"x must have 4 dimensions \(N, C, H, W\), got shape \(4, 3, 3\)"),
    (lambda: tconv.conv_transpose2d(X, W[0]), ValueError, "w must have 4 dimensions"),
    (lambda: tconv.conv_transpose2d(X.astype(np.int32), W), TypeError,
     "x has dtype int32; tconv runs float32 and float64"),
    (lambda: tconv.conv_transpose2d(X.astype(np.float16), W.astype(np.float16)), TypeError,
     "x has dtype float16"),
    (lambda: tconv.conv_transpose2d(X, W.astype(np.float64)), TypeError,
     "w is float64 but x is float32"),
    (lambda: tconv.conv_transpose2d(X, np.ones((3, 2, 3, 3), np.float32)), ValueError,
     r"w.shape\[0\] \(3\) must equal the channels of x \(4\)"),
    (lambda: tconv.conv_transpose2d(X, W, padding=-1), ValueError, r"padding.*-1"),
    (lambda: tconv.conv_transpose2d(X, W, stride=2, output_padding=2), ValueError,
     "output_padding"),
    (lambda: tconv.conv_transpose2d(X, W, stride=0), ValueError, r"stride_h \(0\)"),
    (lambda: tconv.conv_transpose2d(X, W, dilation=(1, -2)), ValueError, r"dilation_w \(-2\)"),
    (lambda: tconv.conv_transpose2d(X, W, groups=3), ValueError, r"groups \(3\)"),
    (lambda: tconv.conv_transpose2d(X, W, groups=0), ValueError, r"groups \(0\)"),
    (lambda: tconv.conv_transpose2d(X, W, stride=1.5), TypeError,
     "stride must be an int or a pair of ints, not 1.5"),
    (lambda: tconv.conv_transpose2d(X, W, padding=(1, 2, 3)), TypeError, "padding must be"),
    (lambda: tconv.conv_transpose2d(X, W, np.ones(3, np.float32)), ValueError,
     r"bias must have shape \(2,\)"),
    (lambda: tconv.conv_transpose2d(X, W, cropping="valid"), ValueError,
     "cropping 'valid' is not 'same'"),
    (lambda: tconv.conv_transpose2d(X, W, cropping=(1, 2, 3)), ValueError,
     r"cropping \(1, 2, 3\)"),
    (lambda: tconv.conv_transpose2d(X, W, cropping=(-1, 0)), ValueError,
     r"cropping\[0\] \(-1\) must be >= 0"),
    (lambda: tconv.conv_transpose2d(X, W, padding=1, cropping="same"), ValueError, "not both"),
    (lambda: tconv.conv_transpose2d(X, W, cropping=(3, 3)), ValueError, "crop"),
    (lambda: tconv.conv_transpose2d(X, W, layout="NWHC"), ValueError,
     "layout 'NWHC' is not 'NCHW' or 'NHWC'"),
    (lambda: tconv.conv_transpose2d(X, W, weight_layout="HWIO"), ValueError,
     "weight_layout 'HWIO'"),
    (lambda: tconv.conv_transpose2d(X, W, activation="softplus"), ValueError,
     "activation 'softplus' is not one of 'none', 'relu'"),
    (lambda: tconv.conv_transpose2d(X, W, activation="clipped_relu"), ValueError,
     "needs activation_alpha"),
    (lambda: tconv.conv_transpose2d(X, W, activation="leaky_relu", activation_alpha=-1),
     ValueError, "alpha"),
    (lambda: tconv.conv_transpose2d(X.transpose(0, 2, 3, 1), W, layout="NHWC"), ValueError,
     r"w.shape\[3\] \(3\) times groups \(1\) must equal the channels of x \(4\)"),
    (lambda: tconv.conv_transpose2d_backward(X, W, np.ones((1, 2, 4, 4), np.float32)),
     ValueError, r"dy has shape \(1, 2, 4, 4\), the output's is \(1, 2, 5, 5\)"),
    (lambda: tconv.tune(X, W, passes="backward"), ValueError, "passes 'backward'"),
    (lambda: tconv.set_num_threads(-1), ValueError, "-1"),
    (lambda: tconv.set_max_isa("sse2"), ValueError, "isa 'sse2' is not one of"),
    (lambda: tconv.set_tune_budget(0), ValueError, "0"),
])
def test_bad_arguments_raise_with_message(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("field", ["batch", "channels", "in_h", "filters", "filter_w"])
def test_sizes_too_large_fail_without_allocating(field):
    args = dict(batch=1, channels=4, in_h=3, in_w=3, filters=2, filter_h=3, filter_w=3)
    args[field] = 2**62
    with pytest.raises((ValueError, OverflowError), match="tconv: "):
        Plan(**args)
    args[field] = 2**70  # beyond int64: refused by the binding itself
    with pytest.raises(OverflowError):
        Plan(**args)


def make_plan(**kw):
    return Plan(batch=1, channels=4, in_h=3, in_w=3, filters=2, filter_h=3, filter_w=3, **kw)


def test_plan_buffers_are_checked_before_any_pass():
    plan = make_plan()
    assert plan.output_size == (5, 5) and plan.crops == (0, 0, 0, 0)
    y = np.zeros((1, 2, 5, 5), np.float32)
    with pytest.raises(ValueError, match="y holds 96 bytes, the plan's y needs 200"):
        plan.forward(X, W, None, np.zeros(24, np.float32))
    with pytest.raises(ValueError, match="x holds 140 bytes"):
        plan.forward(np.ones(35, np.float32), W, None, y)
    with pytest.raises(TypeError, match="x has format 'd', the plan's dtype is float32"):
        plan.forward(X.astype(np.float64), W, None, y)
    with pytest.raises(TypeError, match="y .* is not a C-contiguous writable buffer"):
        plan.forward(X, W, None, bytes(200))
    with pytest.raises(TypeError, match="x .* is not a C-contiguous buffer"):
        plan.forward(np.ones((1, 4, 3, 6), np.float32)[..., ::2], W, None, y)
    with pytest.raises(TypeError, match="w .*int.* is not a C-contiguous buffer"):
        plan.forward(X, 3, None, y)
    with pytest.raises(TypeError, match="bias has format"):
        plan.backward_weights(X, y, np.zeros_like(W), np.zeros(2, np.int32))
    assert not y.any()  # nothing was written by the refused calls


def test_outputs_overlapping_inputs_are_refused():
    plan = Plan(batch=1, channels=2, in_h=4, in_w=4, filters=2, filter_h=1, filter_w=1)
    buf = np.ones((1, 2, 4, 4), np.float32)
    with pytest.raises(ValueError, match="tconv: .*overlap"):
        plan.forward(buf, np.ones((2, 2, 1, 1), np.float32), None, buf)


def test_guard_bytes_around_outputs_stay_untouched():
    rng = np.random.default_rng(0)
    plan = make_plan(stride=(2, 2), padding=(1, 1), output_padding=(1, 0))
    oh, ow = plan.output_size
    x, w = rng.standard_normal((1, 4, 3, 3)).astype(np.float32), \
        rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    guard = np.full(2 * oh * ow + 64, np.float32(7.5))
    plan.forward(x, w, None, guard[32:-32])
    dx = np.full(36 + 64, np.float32(7.5))
    plan.backward_data(guard[32:-32], w, dx[32:-32])
    dw = np.full(72 + 64, np.float32(7.5))
    plan.backward_weights(x, guard[32:-32], dw[32:-32], None)
    for g in (guard, dx, dw):
        assert (g[:32] == 7.5).all() and (g[-32:] == 7.5).all()


def test_bad_plan_arguments():
    with pytest.raises(ValueError, match="dtype 'float16' is not one of 'float32', 'float64'"):
        make_plan(dtype="float16")
    with pytest.raises(ValueError, match="layout 'NWHC'"):
        make_plan(layout="NWHC")
    with pytest.raises(TypeError, match="padding must be"):
        make_plan(padding=3)
    with pytest.raises(ValueError, match="not both"):
        make_plan(padding=(1, 1), cropping="same")
    with pytest.raises(ValueError, match="flags"):
        make_plan(flags=1 << 20)
    with pytest.raises(TypeError):
        Plan()
