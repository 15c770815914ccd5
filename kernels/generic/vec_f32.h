/*
 * Vector abstraction for the templates in kernels/template/: portable C11,
 * f32, one lane. The compiler may vectorize the unrolled tile at the
 * baseline of its target; nothing here needs more than C11.
 */
#ifndef TCONV_KERNELS_GENERIC_VEC_F32_H
#define TCONV_KERNELS_GENERIC_VEC_F32_H

#define ELEM float
#define VEC float
#define VLEN 1

static inline float vzero(void) { return 0; }
static inline float vload(const float *p) { return *p; }
static inline float vloadu(const float *p) { return *p; }
static inline float vbroadcast(const float *p) { return *p; }
/* A register hint for the vector ISAs (see fwd_pixels.inc); nothing for
 * scalar code. */
static inline void vkeep(float *v) { (void)v; }
/* acc + a * b (two roundings unless the compiler contracts it: fma() from
 * <math.h> would be a slow library call on targets without an FMA unit). */
static inline float vadd(float a, float b) { return a + b; }
static inline float vfma(float acc, float a, float b) { return acc + a * b; }
static inline void vstoreu(float *p, float v) { *p = v; }
/* The first count (0..VLEN) lanes. */
static inline void vstore_partial(float *p, float v, int count)
{
    if (count > 0)
        *p = v;
}

#endif
