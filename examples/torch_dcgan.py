#!/usr/bin/env python3
"""Training the DCGAN generator with tconv.torch: one import, no model changes.

The generator of examples/dcgan_generator.c (Radford, Metz and Chintala;
the PyTorch DCGAN tutorial's sizes, nz = 100, ngf = 64, nc = 3), written as
an ordinary PyTorch model:

    z 100x1x1 -> 512x4x4    ConvTranspose2d k4 s1 p0, BatchNorm, ReLU
              -> 256x8x8    ConvTranspose2d k4 s2 p1, BatchNorm, ReLU
              -> 128x16x16  ConvTranspose2d k4 s2 p1, BatchNorm, ReLU
              -> 64x32x32   ConvTranspose2d k4 s2 p1, BatchNorm, ReLU
              -> 3x64x64    ConvTranspose2d k4 s2 p1, Tanh

(the C example leaves BatchNorm out because it only runs untrained
weights; here the model trains, so it has the real DCGAN's BatchNorm).

A deep copy of the model is converted with tconv.torch.convert, which swaps
its five ConvTranspose2d modules for tconv's in place. Both copies then
train side by side, one step each in turn so both see the same machine
load, on the same fixed batch of random latent vectors against a fixed
random target image batch (MSE loss, Adam). Each step prints both losses
(which must agree: tconv computes the same forward pass and gradients) and
both step times. The last line, for a CI script to check, is

    loss <first> -> <last> after <N> steps: learned

when the loss went down and the two models agreed at every checked step (exit
status 0), or ends in "NOT learned" or "MISMATCH" (exit status 1).

PyTorch's step time is mostly its BLAS's (Debian's libtorch uses whichever
libblas.so.3 is installed; the second line names it): the ratio printed
here is large against the Netlib reference BLAS and small against an
optimized one (bench/torch_bench.py measures both; see
bench/results/xeon-avx512-2vcpu-2026-12-06-torch/README.md).
"""
import argparse
import copy
import os
import statistics
import sys
import time

import torch
from torch import nn

import tconv
import tconv.torch

NZ, NGF, NC = 100, 64, 3
# The largest relative difference between the two models' losses allowed
# at each of the first CHECK_STEPS steps. Both compute the same arithmetic
# up to the order of summation, but training feeds those rounding
# differences back into the weights and amplifies them: in f32 (batch 8,
# Adam lr 2e-3) the losses differ by ~1e-4 after 15 steps, and by a few
# percent after 50-60, when the loss is 50x smaller. In f64 they stay within
# 1e-14 over 60 steps (--dtype float64, batch 4), which says the drift is
# rounding, not a different computation. Later steps are printed, not checked.
LOSS_RTOL = 1e-3
CHECK_STEPS = 20


def generator():
    """The DCGAN generator (bias-free transposed convolutions, as DCGAN's,
    since each is followed by BatchNorm)."""
    def up(c_in, c_out, stride, padding):
        return [nn.ConvTranspose2d(c_in, c_out, 4, stride, padding, bias=False),
                nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]

    return nn.Sequential(
        *up(NZ, NGF * 8, 1, 0),        # 512 x 4 x 4
        *up(NGF * 8, NGF * 4, 2, 1),   # 256 x 8 x 8
        *up(NGF * 4, NGF * 2, 2, 1),   # 128 x 16 x 16
        *up(NGF * 2, NGF, 2, 1),       # 64 x 32 x 32
        nn.ConvTranspose2d(NGF, NC, 4, 2, 1, bias=False),
        nn.Tanh())                     # 3 x 64 x 64, in [-1, 1]


def init_weights(module):
    # DCGAN's initialization: N(0, 0.02) convolutions, BatchNorm scale N(1, 0.02).
    if isinstance(module, nn.ConvTranspose2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def blas_library():
    """The BLAS library this process loaded (PyTorch's step times depend on
    it: Debian's libtorch uses whichever libblas.so.3 the system provides)."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.rsplit("/", 1)[-1]}
    return ", ".join(sorted(libs)) or "none found"


def main():
    p = argparse.ArgumentParser(
        description="Trains the DCGAN generator for a few steps with PyTorch's own "
                    "ConvTranspose2d and, side by side, a copy converted with "
                    "tconv.torch.convert; prints both losses and step times.")
    p.add_argument("--steps", type=int, default=15, help="training steps (default 15)")
    p.add_argument("--batch", type=int, default=8, help="batch size (default 8)")
    p.add_argument("--lr", type=float, default=2e-3, help="Adam's learning rate (default 2e-3)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for PyTorch and tconv (default: all CPUs this process may use)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="the models' and data's precision (default float32)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if args.steps < 1 or args.batch < 1:
        p.error("--steps and --batch must be at least 1")

    threads = args.threads or len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    tconv.set_num_threads(threads)
    torch.manual_seed(args.seed)
    torch.set_default_dtype(getattr(torch, args.dtype))  # parameters and data alike

    reference = generator()
    reference.apply(init_weights)
    model = tconv.torch.convert(copy.deepcopy(reference))  # same weights, tconv's convolutions
    swapped = sum(isinstance(m, tconv.torch.ConvTranspose2d) for m in model.modules())
    print(f"DCGAN generator, batch {args.batch}, {args.steps} steps, Adam lr {args.lr}, "
          f"{args.dtype}, {threads} thread(s); tconv {tconv.version()} ({tconv.isa()}), PyTorch "
          f"{torch.__version__}; convert swapped {swapped} ConvTranspose2d modules")
    print(f"PyTorch's BLAS: {blas_library()}")

    z = torch.randn(args.batch, NZ, 1, 1)
    target = torch.rand(args.batch, NC, 64, 64) * 2 - 1  # random images in tanh's range
    loss_fn = nn.MSELoss()
    runs = {}
    for name, m in (("pytorch", reference), ("tconv", model)):
        m.train()
        runs[name] = {"model": m, "opt": torch.optim.Adam(m.parameters(), lr=args.lr),
                      "loss": [], "ms": []}

    def step(run):
        t0 = time.perf_counter()
        run["opt"].zero_grad(set_to_none=True)
        loss = loss_fn(run["model"](z), target)
        loss.backward()
        run["opt"].step()
        run["ms"].append((time.perf_counter() - t0) * 1e3)
        run["loss"].append(loss.item())

    print(f"{'step':>4}  {'loss PyTorch':>12}  {'loss tconv':>12}  {'rel. diff':>9}  "
          f"{'PyTorch ms':>10}  {'tconv ms':>9}")
    worst = 0.0
    for i in range(args.steps):
        # Alternate which model steps first, so neither always runs with
        # the other's data freshly in the caches.
        order = ("pytorch", "tconv") if i % 2 == 0 else ("tconv", "pytorch")
        for name in order:
            step(runs[name])
        a, b = runs["pytorch"]["loss"][-1], runs["tconv"]["loss"][-1]
        diff = abs(a - b) / max(abs(a), 1e-30)
        if i < CHECK_STEPS:
            worst = max(worst, diff)
        print(f"{i + 1:>4}  {a:>12.6f}  {b:>12.6f}  {diff:>9.2e}  "
              f"{runs['pytorch']['ms'][-1]:>10.1f}  {runs['tconv']['ms'][-1]:>9.1f}")

    # The first step of each also makes plans and allocates: left out of
    # the typical step time when there are others.
    def typical(ms):
        return statistics.median(ms[1:] if len(ms) > 1 else ms)

    t_ref, t_tc = typical(runs["pytorch"]["ms"]), typical(runs["tconv"]["ms"])
    print(f"median step time (steps 2..{args.steps}): PyTorch {t_ref:.1f} ms, tconv {t_tc:.1f} ms "
          f"({t_ref / t_tc:.2f}x)")
    checked = min(args.steps, CHECK_STEPS)
    print(f"largest relative difference of the two models' losses over steps 1..{checked}: "
          f"{worst:.2e} (tolerance {LOSS_RTOL:g})")
    first, last = runs["tconv"]["loss"][0], runs["tconv"]["loss"][-1]
    agree = worst <= LOSS_RTOL
    learned = last < first
    verdict = "learned" if learned and agree else (
        "MISMATCH (the tconv model's losses differ from PyTorch's)" if not agree
        else "NOT learned")
    print(f"loss {first:.6f} -> {last:.6f} after {args.steps} steps: {verdict}")
    return 0 if learned and agree else 1


if __name__ == "__main__":
    sys.exit(main())
