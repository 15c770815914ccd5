"""tconv.torch: PyTorch's transposed convolution modules, running on tconv.

``ConvTranspose2d`` and ``ConvTranspose1d`` subclass ``torch.nn``'s own:
the same constructor, parameters, ``state_dict`` and ``repr``; only their
forward and backward passes run tconv's kernels, through a
``torch.autograd.Function`` whose backward computes the input, weight and
bias gradients with tconv's backward passes. ``convert(model)`` swaps every
``nn.ConvTranspose1d/2d`` of a model in place (weights, optimizer references
and hooks stay: only the module's class changes) and returns the model.

Tensors are passed to tconv without copies when they are contiguous:
``torch.contiguous_format`` runs as NCHW, ``torch.channels_last`` as NHWC
(PyTorch's weights are read as they are in both). The passes run on tconv's
thread pool: ``tconv.set_num_threads`` or ``TCONV_NUM_THREADS`` set its size,
independently of ``torch.set_num_threads``.
"""
import math
import warnings

import numpy as np
import torch
from torch import nn
from torch.autograd.function import once_differentiable

from ._functional import Layer

__all__ = ["ConvTranspose1d", "ConvTranspose2d", "conv_transpose2d", "convert"]

_DTYPES = {torch.float32: "float32", torch.float64: "float64"}


def _dtype_name(name, t):
    dtype = _DTYPES.get(t.dtype)
    if dtype is None:
        raise TypeError(f"tconv.torch: {name} has dtype {t.dtype}; tconv runs float32 and "
                        "float64 (half precision, bfloat16, complex and integer tensors are "
                        "not supported)")
    if not t.is_cpu:  # (t.device builds an object per call: slower on small layers)
        raise ValueError(f"tconv.torch: {name} is on {t.device}; tconv runs on the CPU")
    return dtype


def _is_channels_last(x):
    # PyTorch's own rule: a tensor contiguous in both formats (C == 1, or
    # H == W == 1) counts as contiguous, i.e. NCHW.
    return not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)


def _array(t, nhwc):
    """The numpy view of a tensor that tconv reads or writes in place."""
    t = t.detach()
    return (t.permute(0, 2, 3, 1) if nhwc else t).numpy()


# Outputs of 4 MiB or more are allocated by numpy, which asks the kernel for
# transparent huge pages (madvise) where PyTorch 1.13 takes 4 KiB pages: a
# fresh 32 MB weight gradient then costs 3.2 ms of page faults instead of
# 10.7 ms on the 2-vCPU Xeon of bench/README.md, against 4 ms for the whole
# backward-weights pass of pix2pix's 1024->512 layer. The tensors are
# ordinary CPU tensors (torch.from_numpy shares the memory).
_HUGE_PAGE_BYTES = 1 << 22
_NUMPY_DTYPES = {torch.float32: np.float32, torch.float64: np.float64}
_ITEMSIZE = {torch.float32: 4, torch.float64: 8}


def _empty(shape, dtype, nhwc=False):
    """An uninitialized tensor of the logical shape (N, C, H, W) (or any
    shape, contiguous, when not nhwc), channels_last when nhwc."""
    if math.prod(shape) * _ITEMSIZE[dtype] < _HUGE_PAGE_BYTES:
        return torch.empty(shape, dtype=dtype,
                           memory_format=torch.channels_last if nhwc else torch.contiguous_format)
    if nhwc:
        n, c, h, w = shape
        return torch.from_numpy(np.empty((n, h, w, c), _NUMPY_DTYPES[dtype])).permute(0, 3, 1, 2)
    return torch.from_numpy(np.empty(shape, _NUMPY_DTYPES[dtype]))


# The Layer of each configuration met, so that a call after the first only
# looks it up (building one checks and converts every argument: about half
# of a small layer's Python time per call). Bounded like the plan cache.
_layers = {}
_LAYERS_MAX = 256


def _layer(x, weight, dtype, nhwc, stride, padding, output_padding, groups, dilation):
    key = (x.shape, weight.shape, dtype, nhwc, stride, padding, output_padding, groups, dilation)
    try:
        layer = _layers.get(key)
    except TypeError:  # an unhashable argument (a list): Layer says what it takes
        key, layer = None, None
    if layer is None:
        n, c, h, w = x.shape
        layer = Layer((n, h, w, c) if nhwc else (n, c, h, w), weight.shape, dtype, stride,
                      padding, output_padding, groups, dilation,
                      layout="NHWC" if nhwc else "NCHW", weight_layout="IOHW")
        if key is not None:
            if len(_layers) >= _LAYERS_MAX:
                _layers.clear()
            _layers[key] = layer
    return layer


class _ConvTranspose2dFunction(torch.autograd.Function):
    """y = conv_transpose2d(x, weight, bias) with tconv's three passes."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, groups, dilation):
        dtype = _dtype_name("input", x)
        if _dtype_name("weight", weight) != dtype or (
                bias is not None and _dtype_name("bias", bias) != dtype):
            raise TypeError(f"tconv.torch: input, weight and bias must have one dtype; got "
                            f"{x.dtype}, {weight.dtype}, {None if bias is None else bias.dtype}")
        nhwc = _is_channels_last(x)
        fmt = torch.channels_last if nhwc else torch.contiguous_format
        x = x.contiguous(memory_format=fmt)  # no copy when it already is
        weight = weight.contiguous()
        layer = _layer(x, weight, dtype, nhwc, stride, padding, output_padding, groups, dilation)
        plan = layer.plan()
        y_shape = layer.y_shape
        y = _empty((y_shape[0], y_shape[3], y_shape[1], y_shape[2]) if nhwc else y_shape,
                   x.dtype, nhwc)
        x_array, w_array = _array(x, nhwc), _array(weight, False)
        plan.forward(x_array, w_array,
                     None if bias is None else bias.detach().contiguous().numpy(),
                     _array(y, nhwc))
        ctx.save_for_backward(x, weight)
        # The backward pass reuses the plan and the numpy views of x and w
        # (ctx.saved_tensors still checks that neither changed in place):
        # on a small layer each costs microseconds per step.
        ctx.layer, ctx.plan, ctx.nhwc, ctx.fmt = layer, plan, nhwc, fmt
        ctx.arrays = (x_array, w_array)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y):
        x, weight = ctx.saved_tensors
        nhwc, plan = ctx.nhwc, ctx.plan
        x_array, w_array = ctx.arrays
        dy = grad_y.contiguous(memory_format=ctx.fmt)
        _dtype_name("grad_output", dy)
        want_dx, want_dw, want_db = ctx.needs_input_grad[:3]
        dx = dw = db = None
        dy_array = _array(dy, nhwc) if want_dx or want_dw else None
        if want_dx:
            dx = _empty(tuple(x.shape), x.dtype, nhwc)
            plan.backward_data(dy_array, w_array, _array(dx, nhwc))
        if want_dw:
            dw = _empty(tuple(weight.shape), weight.dtype)
            db = torch.empty(ctx.layer.filters, dtype=x.dtype) if want_db else None
            plan.backward_weights(x_array, dy_array, _array(dw, False),
                                  None if db is None else db.numpy())
        elif want_db:  # the bias alone (frozen weights): a sum, in double as tconv sums it
            db = dy.sum(dim=(0, 2, 3), dtype=torch.float64).to(x.dtype)
        return dx, dw, db, None, None, None, None, None


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """torch.nn.functional.conv_transpose2d on tconv, differentiable in
    input, weight and bias. input is (N, C, H, W) or unbatched (C, H, W)."""
    if input.dim() not in (3, 4):
        raise ValueError(f"tconv.torch: input must be (N, C, H, W) or (C, H, W), got shape "
                         f"{tuple(input.shape)}")
    if weight.dim() != 4:
        raise ValueError(f"tconv.torch: weight must be (C, F/groups, kh, kw), got shape "
                         f"{tuple(weight.shape)}")
    if input.dim() == 3:
        return conv_transpose2d(input.unsqueeze(0), weight, bias, stride, padding,
                                output_padding, groups, dilation).squeeze(0)
    return _ConvTranspose2dFunction.apply(input, weight, bias, stride, padding, output_padding,
                                          groups, dilation)


def _check_padding_mode(module):
    if module.padding_mode != "zeros":
        raise ValueError(f"tconv.torch: padding_mode {module.padding_mode!r} is not supported "
                         "(only 'zeros', as for torch.nn's transposed convolutions)")


class ConvTranspose2d(nn.ConvTranspose2d):
    """torch.nn.ConvTranspose2d whose passes run on tconv (same constructor,
    parameters and state_dict)."""

    def forward(self, input, output_size=None):
        _check_padding_mode(self)
        output_padding = self._output_padding(input, output_size, self.stride, self.padding,
                                              self.kernel_size, 2, self.dilation)
        return conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                tuple(output_padding), self.groups, self.dilation)


class ConvTranspose1d(nn.ConvTranspose1d):
    """torch.nn.ConvTranspose1d whose passes run on tconv, as the H = 1 case
    of the 2-D pass (same constructor, parameters and state_dict)."""

    def forward(self, input, output_size=None):
        _check_padding_mode(self)
        if input.dim() not in (2, 3):
            raise ValueError(f"tconv.torch: input must be (N, C, L) or (C, L), got shape "
                             f"{tuple(input.shape)}")
        output_padding = self._output_padding(input, output_size, self.stride, self.padding,
                                              self.kernel_size, 1, self.dilation)
        y = conv_transpose2d(input.unsqueeze(-2), self.weight.unsqueeze(-2), self.bias,
                             (1, self.stride[0]), (0, self.padding[0]),
                             (0, output_padding[0]), self.groups, (1, self.dilation[0]))
        return y.squeeze(-2)


_SWAPS = {nn.ConvTranspose2d: ConvTranspose2d, nn.ConvTranspose1d: ConvTranspose1d}


def _why_not(module):
    """Why convert leaves a transposed convolution module to PyTorch, or
    None when tconv can run it."""
    kind = type(module)
    if kind in _SWAPS.values():
        return None
    if isinstance(module, nn.ConvTranspose3d):
        return "3-D transposed convolution is not supported"
    if isinstance(module, nn.modules.lazy.LazyModuleMixin) and module.has_uninitialized_params():
        return "a lazy module whose shapes are not known yet (run the model once first)"
    if kind not in _SWAPS:
        return (f"{kind.__name__} is a subclass of {kind.__mro__[1].__name__}, whose forward "
                "tconv would replace")
    if module.padding_mode != "zeros":
        return f"padding_mode {module.padding_mode!r} is not supported"
    for name, p in (("weight", module.weight), ("bias", module.bias)):
        if p is not None and (p.dtype not in _DTYPES or p.device.type != "cpu"):
            return f"its {name} is {p.dtype} on {p.device} (tconv runs float32/float64 on the CPU)"
    return None


def convert(model):
    """Swaps every torch.nn.ConvTranspose1d/2d module of model (and model
    itself, if it is one) for tconv's, in place, and returns model. Weights,
    buffers, hooks and optimizers that hold the parameters stay as they are:
    only each module's class changes. Modules tconv cannot run (3-D, half
    precision, other devices, subclasses with their own forward, lazy
    modules not yet initialized) are left untouched and named in one
    warning."""
    left = []
    for name, module in model.named_modules():
        if not isinstance(module, nn.modules.conv._ConvTransposeNd):
            continue
        reason = _why_not(module)
        if reason is not None:
            left.append(f"{name or '(the model)'}: {reason}")
        elif type(module) in _SWAPS:
            module.__class__ = _SWAPS[type(module)]
    if left:
        warnings.warn("tconv.torch.convert left these modules to PyTorch: " + "; ".join(left),
                      stacklevel=2)
    return model
