/*
 * Vector abstraction for the templates in kernels/template/: AArch64
 * Advanced SIMD (baseline there, no flags), f64, 2 lanes.
 */
#ifndef TCONV_KERNELS_ARM_NEON_VEC_F64_H
#define TCONV_KERNELS_ARM_NEON_VEC_F64_H

#include <arm_neon.h>

#define ELEM double
#define VEC float64x2_t
#define VLEN 2

static inline float64x2_t vzero(void) { return vdupq_n_f64(0.0); }
static inline float64x2_t vload(const double *p) { return vld1q_f64(p); }
static inline float64x2_t vloadu(const double *p) { return vld1q_f64(p); }
static inline float64x2_t vbroadcast(const double *p) { return vld1q_dup_f64(p); }
/* Keeps v in a register: the compiler may not fold its load into the
 * instructions that use it (it does when they are few, and then reloads
 * it for each of them; see fwd_pixels.inc). Emits nothing. */
static inline void vkeep(float64x2_t *v) { __asm__("" : "+w"(*v)); }
/* acc + a * b, one rounding. */
static inline float64x2_t vadd(float64x2_t a, float64x2_t b) { return vaddq_f64(a, b); }
static inline float64x2_t vfma(float64x2_t acc, float64x2_t a, float64x2_t b)
{
    return vfmaq_f64(acc, a, b);
}
static inline void vstoreu(double *p, float64x2_t v) { vst1q_f64(p, v); }
/* The first count (0..VLEN) lanes: at most one. */
static inline void vstore_partial(double *p, float64x2_t v, int count)
{
    if (count > 0)
        p[0] = vgetq_lane_f64(v, 0);
}

#endif
