/*
 * Activations applied to y by the forward pass, and their derivatives for
 * training. One table per ISA (kernels/<isa>/activation.c), each function
 * over n contiguous elements; the forward pass fuses them into the store of
 * its CHANNELS tiles (kernels/fwd_gather.c). Transcendentals come from SLEEF
 * (exp, expm1, tanh `u10`, erfc `u15`): vector forms in the SIMD tables, the
 * portable `purec` forms in the scalar one. SIGMOID, SWISH and GELU are
 * evaluated in f64 for both dtypes (kernels/template/activation_f64.inc);
 * f32 TANH is built from SLEEF's expf (kernels/template/activation_tanh_f32.inc).
 */
#ifndef TCONV_KERNELS_ACTIVATION_H
#define TCONV_KERNELS_ACTIVATION_H

#include <stdint.h>

#include "tconv.h"

typedef struct tconv_act_impl {
    const char *isa;
    /* p[i] = act(p[i]), in place. */
    void (*fwd_f32)(tconv_activation act, float alpha, float *p, int64_t n);
    void (*fwd_f64)(tconv_activation act, double alpha, double *p, int64_t n);
    /* dz[i] = dy[i] * act'(z[i]) from saved = the output (from_output) or the
     * input z; dz may equal dy. */
    void (*bwd_f32)(tconv_activation act, float alpha, const float *saved, int from_output,
                    const float *dy, float *dz, int64_t n);
    void (*bwd_f64)(tconv_activation act, double alpha, const double *saved, int from_output,
                    const double *dy, double *dz, int64_t n);
} tconv_act_impl;

extern const tconv_act_impl tconv_act_scalar;
extern const tconv_act_impl tconv_act_avx2;
extern const tconv_act_impl tconv_act_avx512;
extern const tconv_act_impl tconv_act_neon;

/* The activation in double with the C library (no SLEEF): the reference
 * passes' oracle, independent of the fast paths. */
double tconv_act_ref(tconv_activation act, double alpha, double x);

#endif /* TCONV_KERNELS_ACTIVATION_H */
