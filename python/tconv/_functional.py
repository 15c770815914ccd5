"""numpy functions over tconv's plans, with PyTorch's argument semantics.

Every call describes one layer configuration (shapes, dtype, layout, stride,
padding, ...). The plan for it is made once and kept in a small cache keyed by
that configuration, the instruction set and the thread count, so a training
or inference loop plans on its first call only. The cache holds at most
``PLAN_CACHE_SIZE`` plans, dropping the least recently used.
"""
import threading
from collections import OrderedDict

import numpy as np

from . import _tconv

__all__ = ["conv_transpose2d", "conv_transpose2d_backward", "plan_info", "tune",
           "clear_plan_cache", "PLAN_CACHE_SIZE"]

PLAN_CACHE_SIZE = 64

# The alpha MATLAB's layers use when none is given; clipped_relu's ceiling
# has no default and must be given.
_DEFAULT_ALPHA = {"leaky_relu": 0.01, "elu": 1.0}
_DTYPES = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64"}
_LAYOUTS = {"NCHW": "IOHW", "NHWC": "OHWI"}  # the data layouts and their default weights

_plans = OrderedDict()
_plans_lock = threading.Lock()


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _pair(name, value):
    """An int or a pair of ints, as PyTorch takes stride, padding, ..."""
    if _is_int(value):
        return (int(value), int(value))
    try:
        pair = tuple(value)
    except TypeError:
        pair = None
    if pair is None or len(pair) != 2 or not all(_is_int(v) for v in pair):
        raise TypeError(f"tconv: {name} must be an int or a pair of ints, not {value!r}")
    return (int(pair[0]), int(pair[1]))


def _cropping(cropping, padding, output_padding):
    """MATLAB's Cropping ("same", a scalar, [a b] or [t b l r]) as the C
    binding takes it, or None for PyTorch's padding and output_padding."""
    if cropping is None:
        return None
    if padding != (0, 0) or output_padding != (0, 0):
        raise ValueError("tconv: give cropping, or padding and output_padding, not both")
    if isinstance(cropping, str):
        if cropping != "same":
            raise ValueError(f"tconv: cropping {cropping!r} is not 'same' or numbers")
        return "same"
    if _is_int(cropping):
        cropping = (cropping,)
    try:
        c = tuple(cropping)
    except TypeError:
        c = None
    if c is None or len(c) not in (1, 2, 4) or not all(_is_int(v) for v in c):
        raise ValueError(f"tconv: cropping {cropping!r} is not 'same', p, (a, b) or "
                         "(top, bottom, left, right)")
    c = tuple(int(v) for v in c)
    if len(c) == 1:
        return c * 4
    if len(c) == 2:  # [a b]: a top and bottom, b left and right
        return (c[0], c[0], c[1], c[1])
    return c


def _dtype_name(name, array):
    try:
        return _DTYPES[np.dtype(array.dtype)]
    except (KeyError, TypeError):
        raise TypeError(f"tconv: {name} has dtype {array.dtype}; tconv runs float32 and "
                        "float64") from None


def _activation(activation, alpha):
    if activation is None:
        return "none", 0.0
    if not isinstance(activation, str):
        raise TypeError(f"tconv: activation must be a name such as 'relu', not {activation!r}")
    if alpha is None:
        if activation == "clipped_relu":
            raise ValueError("tconv: activation 'clipped_relu' needs activation_alpha "
                             "(its ceiling)")
        alpha = _DEFAULT_ALPHA.get(activation, 0.0)
    return activation, float(alpha)


class Layer:
    """One layer configuration, from the shapes of x and w: the sizes tconv
    needs, the shapes of y, and the plan (made once, then from the cache)."""

    __slots__ = ("plan_args", "y_shape", "filters", "key")

    def __init__(self, x_shape, w_shape, dtype, stride=1, padding=0, output_padding=0,
                 groups=1, dilation=1, layout="NCHW", weight_layout=None, cropping=None,
                 activation=None, activation_alpha=None):
        if layout not in _LAYOUTS:
            raise ValueError(f"tconv: layout {layout!r} is not 'NCHW' or 'NHWC'")
        weight_layout = _LAYOUTS[layout] if weight_layout is None else weight_layout
        if weight_layout not in ("IOHW", "OHWI"):
            raise ValueError(f"tconv: weight_layout {weight_layout!r} is not 'IOHW' or 'OHWI'")
        if not _is_int(groups) or groups < 1:
            raise ValueError(f"tconv: groups ({groups!r}) must be a positive int")
        x_shape, w_shape = tuple(int(v) for v in x_shape), tuple(int(v) for v in w_shape)
        xdims = "(N, C, H, W)" if layout == "NCHW" else "(N, H, W, C)"
        if len(x_shape) != 4:
            raise ValueError(f"tconv: x must have 4 dimensions {xdims}, got shape {x_shape}")
        wdims = "(C, F/groups, kh, kw)" if weight_layout == "IOHW" else "(F, kh, kw, C/groups)"
        if len(w_shape) != 4:
            raise ValueError(f"tconv: w must have 4 dimensions {wdims}, got shape {w_shape}")
        if layout == "NCHW":
            n, c, h, w = x_shape
        else:
            n, h, w, c = x_shape
        if weight_layout == "IOHW":
            wc, fg, kh, kw = w_shape
            if wc != c:
                raise ValueError(f"tconv: w.shape[0] ({wc}) must equal the channels of x ({c}); "
                                 f"w is {wdims}")
            filters = fg * groups
        else:
            filters, kh, kw, cg = w_shape
            if cg * groups != c:
                raise ValueError(f"tconv: w.shape[3] ({cg}) times groups ({groups}) must equal "
                                 f"the channels of x ({c}); w is {wdims}")
        stride, dilation = _pair("stride", stride), _pair("dilation", dilation)
        padding, output_padding = _pair("padding", padding), _pair("output_padding", output_padding)
        crop = _cropping(cropping, padding, output_padding)
        act, alpha = _activation(activation, activation_alpha)
        self.plan_args = dict(batch=n, channels=c, in_h=h, in_w=w, filters=filters, filter_h=kh,
                              filter_w=kw, stride=stride, dilation=dilation, groups=groups,
                              dtype=dtype, layout=layout, weight_layout=weight_layout,
                              activation=act, activation_alpha=alpha)
        if crop is None:
            self.plan_args.update(padding=padding, output_padding=output_padding)
        else:
            self.plan_args.update(cropping=crop)
        self.filters = filters
        self.key = tuple(sorted(self.plan_args.items()))
        self.y_shape = None  # known once a plan exists (tconv computes the crops)

    def plan(self, flags=0):
        """The plan of this configuration: from the cache, or made now."""
        key = (self.key, flags, _tconv.isa(), _tconv.get_num_threads())
        with _plans_lock:
            plan = _plans.get(key)
            if plan is not None:
                _plans.move_to_end(key)
        if plan is None:
            plan = _tconv.Plan(**self.plan_args, flags=flags)  # may measure: not under the lock
            _remember(key, plan)
        oh, ow = plan.output_size
        n = self.plan_args["batch"]
        self.y_shape = ((n, self.filters, oh, ow) if self.plan_args["layout"] == "NCHW"
                        else (n, oh, ow, self.filters))
        return plan


def _remember(key, plan):
    with _plans_lock:
        _plans[key] = plan
        _plans.move_to_end(key)
        while len(_plans) > PLAN_CACHE_SIZE:
            _plans.popitem(last=False)


def clear_plan_cache():
    """Forgets every plan this module made (the tuning cache is not touched)."""
    with _plans_lock:
        _plans.clear()


def _operand(name, a, dtype=None):
    """a as a C-contiguous ndarray of float32 or float64 (copied only when it
    is not one already); dtype, when given, must match."""
    a = np.ascontiguousarray(a)
    name_of_dtype = _dtype_name(name, a)
    if dtype is not None and name_of_dtype != dtype:
        raise TypeError(f"tconv: {name} is {name_of_dtype} but x is {dtype}; give both "
                        "the same dtype")
    return a


def _flags(reference):
    return _tconv.PLAN_REFERENCE if reference else 0


def _layer(x, w, stride, padding, output_padding, groups, dilation, layout, weight_layout,
           cropping, activation=None, activation_alpha=None):
    x = _operand("x", x)
    dtype = _dtype_name("x", x)
    w = _operand("w", w, dtype)
    layer = Layer(x.shape, w.shape, dtype, stride, padding, output_padding, groups, dilation,
                  layout, weight_layout, cropping, activation, activation_alpha)
    return x, w, layer


def conv_transpose2d(x, w, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1, layout="NCHW", activation=None, *, cropping=None,
                     activation_alpha=None, weight_layout=None, reference=False):
    """The transposed convolution y = C^T x + bias, as a new array.

    Arguments as torch.nn.functional.conv_transpose2d: x is (N, C, H, W) and w
    (C, F/groups, kh, kw) with layout "NCHW"; with layout "NHWC", x is
    (N, H, W, C) and w (F, kh, kw, C/groups) ("OHWI"; weight_layout "IOHW"
    takes PyTorch's weights with NHWC data). y has x's layout and dtype
    (float32 or float64). cropping ("same", p, (a, b) or (top, bottom, left,
    right)) gives MATLAB's Cropping instead of padding/output_padding.
    activation: None, "relu", "leaky_relu", "clipped_relu", "elu",
    "sigmoid", "tanh", "gelu" or "swish", fused into the store
    (activation_alpha: leaky_relu's scale, default 0.01; clipped_relu's
    ceiling, required; elu's alpha, default 1). reference=True runs tconv's
    scalar reference kernels (for checking).
    """
    x, w, layer = _layer(x, w, stride, padding, output_padding, groups, dilation, layout,
                         weight_layout, cropping, activation, activation_alpha)
    if bias is not None:
        bias = _operand("bias", bias, layer.plan_args["dtype"])
        if bias.shape != (layer.filters,):
            raise ValueError(f"tconv: bias must have shape ({layer.filters},), one value per "
                             f"output channel, got {bias.shape}")
    plan = layer.plan(_flags(reference))
    y = np.empty(layer.y_shape, dtype=x.dtype)
    plan.forward(x, w, bias, y)
    return y


def conv_transpose2d_backward(x, w, dy, stride=1, padding=0, output_padding=0, groups=1,
                              dilation=1, layout="NCHW", *, cropping=None, weight_layout=None,
                              output_mask=(True, True, True), reference=False):
    """The gradients (dx, dw, db) of conv_transpose2d (without activation)
    given dy, the gradient of its output; same arguments. output_mask says
    which of the three to compute (the others are None)."""
    x, w, layer = _layer(x, w, stride, padding, output_padding, groups, dilation, layout,
                         weight_layout, cropping)
    plan = layer.plan(_flags(reference))
    dy = _operand("dy", dy, layer.plan_args["dtype"])
    if dy.shape != layer.y_shape:
        raise ValueError(f"tconv: dy has shape {dy.shape}, the output's is {layer.y_shape}")
    want_dx, want_dw, want_db = (bool(m) for m in output_mask)
    dx = dw = db = None
    if want_dx:
        dx = np.empty_like(x)
        plan.backward_data(dy, w, dx)
    if want_dw:
        dw = np.empty_like(w)
        db = np.empty(layer.filters, dtype=x.dtype) if want_db else None
        plan.backward_weights(x, dy, dw, db)
    elif want_db:  # the bias alone: a sum, in double as tconv sums it
        axes = (0, 2, 3) if layer.plan_args["layout"] == "NCHW" else (0, 1, 2)
        db = dy.sum(axis=axes, dtype=np.float64).astype(x.dtype)
    return dx, dw, db


def plan_info(x, w, stride=1, padding=0, output_padding=0, groups=1, dilation=1,
              layout="NCHW", activation=None, *, cropping=None, activation_alpha=None,
              weight_layout=None, reference=False):
    """What conv_transpose2d runs for these arguments (tconv_plan_info): the
    kernels of each pass, the layer and how each choice was made. x and w
    may be arrays, or anything with .shape and .dtype."""
    dtype = _dtype_name("x", x)
    if _dtype_name("w", w) != dtype:
        raise TypeError("tconv: x and w must have the same dtype")
    layer = Layer(x.shape, w.shape, dtype, stride, padding, output_padding, groups, dilation,
                  layout, weight_layout, cropping, activation, activation_alpha)
    return layer.plan(_flags(reference)).info


def tune(x, w, stride=1, padding=0, output_padding=0, groups=1, dilation=1, layout="NCHW",
         activation=None, *, cropping=None, activation_alpha=None, weight_layout=None,
         passes="forward", exhaustive=False):
    """Measures the candidate kernels of this configuration now
    (TCONV_TUNE_MEASURE, or TCONV_TUNE_EXHAUSTIVE), stores the winners in
    this host's tuning cache and uses them from now on; returns the plan's
    info. passes: "forward" (inference) or "all" (training: both backward
    passes too). A configuration already in the cache is not measured again
    unless exhaustive is set."""
    if passes not in ("forward", "all"):
        raise ValueError(f"tconv: passes {passes!r} is not 'forward' or 'all'")
    dtype = _dtype_name("x", x)
    if _dtype_name("w", w) != dtype:
        raise TypeError("tconv: x and w must have the same dtype")
    layer = Layer(x.shape, w.shape, dtype, stride, padding, output_padding, groups, dilation,
                  layout, weight_layout, cropping, activation, activation_alpha)
    flags = _tconv.TUNE_EXHAUSTIVE if exhaustive else _tconv.TUNE_MEASURE
    flags |= _tconv.TUNE_ALL_PASSES if passes == "all" else _tconv.TUNE_FWD
    plan = _tconv.Plan(**layer.plan_args, flags=flags)
    # A plan made now without flags would take the entries just stored: this
    # one is that plan, so later calls of the configuration use it.
    _remember((layer.key, 0, _tconv.isa(), _tconv.get_num_threads()), plan)
    return plan.info
