/*
 * Vector abstraction for the templates in kernels/template/: AArch64
 * Advanced SIMD (baseline there, no flags), f32, 4 lanes.
 */
#ifndef TCONV_KERNELS_ARM_NEON_VEC_F32_H
#define TCONV_KERNELS_ARM_NEON_VEC_F32_H

#include <arm_neon.h>

#define ELEM float
#define VEC float32x4_t
#define VLEN 4

static inline float32x4_t vzero(void) { return vdupq_n_f32(0.0f); }
static inline float32x4_t vload(const float *p) { return vld1q_f32(p); }
static inline float32x4_t vloadu(const float *p) { return vld1q_f32(p); }
static inline float32x4_t vbroadcast(const float *p) { return vld1q_dup_f32(p); }
/* Keeps v in a register: the compiler may not fold its load into the
 * instructions that use it (it does when they are few, and then reloads
 * it for each of them; see fwd_pixels.inc). Emits nothing. */
static inline void vkeep(float32x4_t *v) { __asm__("" : "+w"(*v)); }
/* acc + a * b, one rounding. */
static inline float32x4_t vadd(float32x4_t a, float32x4_t b) { return vaddq_f32(a, b); }
static inline float32x4_t vfma(float32x4_t acc, float32x4_t a, float32x4_t b)
{
    return vfmaq_f32(acc, a, b);
}
static inline void vstoreu(float *p, float32x4_t v) { vst1q_f32(p, v); }
/* The first count (0..VLEN) lanes, through a stack copy. */
static inline void vstore_partial(float *p, float32x4_t v, int count)
{
    float tmp[VLEN];
    vst1q_f32(tmp, v);
    for (int k = 0; k < count; k++)
        p[k] = tmp[k];
}

#endif
