/*
 * One core's peak FMA rate, measured: what a share of "this machine's peak"
 * divides by in dcgan_layer (the demo). Twelve independent FMA chains per
 * vector register width, enough to cover the FMA latency on two ports, best
 * of several short runs (about 10 ms in all). bench/common.cc measures the
 * same way for the benchmark's peak_frac; an example links only the public
 * library, so it carries its own copy.
 */
#ifndef TCONV_EXAMPLES_FMA_PEAK_H
#define TCONV_EXAMPLES_FMA_PEAK_H

#include <tconv.h>

/* One core's best f32 FMA rate in GFLOP/s (2 FLOP per lane per FMA) with
 * the vector instructions of isa (AVX-512, AVX2+FMA or NEON; scalar: the
 * C library's fmaf); 0 when this build cannot run isa's FMAs (an ISA of
 * another architecture). */
double fma_peak_gflops(tconv_isa isa);

#endif /* TCONV_EXAMPLES_FMA_PEAK_H */
