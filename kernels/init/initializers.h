/*
 * MATLAB transposedConv2dLayer initializers, as values of logical elements.
 *
 * Element i of a parameter (its MATLAB column-major linear index: in
 * kh x kw x Fg x Cg x G for the weights, in 1 x 1 x F for the bias) gets a
 * value that depends only on (kind, param, seed, i): block i of Philox4x32-10
 * keyed by the seed (kernels/init/philox.h). So the value is the same in
 * every weight layout, on every ISA and in any fill order, and an f32 tensor
 * holds the f64 values rounded.
 */
#ifndef TCONV_KERNELS_INIT_INITIALIZERS_H
#define TCONV_KERNELS_INIT_INITIALIZERS_H

#include <stdint.h>

#include "kernels/problem.h"
#include "tconv.h"

/* The value of element `index` for a non-custom kind. param: the bound b of
 * GLOROT's U(-b, b); the standard deviation of HE and NARROW_NORMAL; unused
 * otherwise. */
double tconv_init_value(tconv_initializer kind, double param, uint64_t seed, uint64_t index);

/* Writes every logical weight of p into w (p's weight layout and dtype).
 * kind CUSTOM: the values come from `matlab`, MATLAB's column-major
 * kh x kw x Fg x Cg x G array in p's dtype; otherwise from tconv_init_value
 * (matlab unused, may be NULL). */
void tconv_init_write_weights(const tconv_problem *p, tconv_initializer kind, double param,
                              uint64_t seed, const void *matlab, void *w);

/* Writes the p->filters bias values of a non-custom kind in p's dtype. */
void tconv_init_write_bias(const tconv_problem *p, tconv_initializer kind, double param,
                           uint64_t seed, void *bias);

#endif /* TCONV_KERNELS_INIT_INITIALIZERS_H */
