/*
 * Vector abstraction for the templates in kernels/template/: portable C11,
 * f64, one lane. The compiler may vectorize the unrolled tile at the
 * baseline of its target; nothing here needs more than C11.
 */
#ifndef TCONV_KERNELS_GENERIC_VEC_F64_H
#define TCONV_KERNELS_GENERIC_VEC_F64_H

#define ELEM double
#define VEC double
#define VLEN 1

static inline double vzero(void) { return 0; }
static inline double vload(const double *p) { return *p; }
static inline double vloadu(const double *p) { return *p; }
static inline double vbroadcast(const double *p) { return *p; }
/* A register hint for the vector ISAs (see fwd_pixels.inc); nothing for
 * scalar code. */
static inline void vkeep(double *v) { (void)v; }
/* acc + a * b (two roundings unless the compiler contracts it: fma() from
 * <math.h> would be a slow library call on targets without an FMA unit). */
static inline double vadd(double a, double b) { return a + b; }
static inline double vfma(double acc, double a, double b) { return acc + a * b; }
static inline void vstoreu(double *p, double v) { *p = v; }
/* The first count (0..VLEN) lanes. */
static inline void vstore_partial(double *p, double v, int count)
{
    if (count > 0)
        *p = v;
}

#endif
