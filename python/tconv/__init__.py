"""tconv: transposed 2-D convolution for CPUs.

numpy functions with PyTorch's argument semantics (conv_transpose2d,
conv_transpose2d_backward), MATLAB's cropping, the library's settings
(threads, instruction set, tuning), and ``tconv.torch``: drop-in
``torch.nn.ConvTranspose1d/2d`` modules and ``tconv.torch.convert(model)``.
``tconv.torch`` imports PyTorch on first use, so ``import tconv`` alone
does not.
"""
import importlib as _importlib

from ._functional import (PLAN_CACHE_SIZE, clear_plan_cache, conv_transpose2d,
                          conv_transpose2d_backward, plan_info, tune)
from ._tconv import (Plan, cache_clear, cache_export, cache_import, cache_path, cpu_isa,
                     get_num_threads, host_info, isa, kernel_names, set_max_isa,
                     set_num_threads, set_tune_budget, version)

__version__ = version()

__all__ = ["conv_transpose2d", "conv_transpose2d_backward", "plan_info", "tune",
           "clear_plan_cache", "PLAN_CACHE_SIZE", "Plan", "set_num_threads",
           "get_num_threads", "isa", "cpu_isa", "set_max_isa", "set_tune_budget",
           "kernel_names", "host_info", "cache_path", "cache_import", "cache_export",
           "cache_clear", "version", "torch"]


def __getattr__(name):
    # tconv.torch on first use (PEP 562). The submodule is not imported
    # here as `torch`: that name in this package is tconv.torch.
    if name == "torch":
        return _importlib.import_module(".torch", __name__)
    raise AttributeError(f"module 'tconv' has no attribute {name!r}")
