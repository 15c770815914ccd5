/*
 * Vector abstraction for the templates in kernels/template/: AVX-512F, f64,
 * 8 lanes. Compiled with -mavx512f -mavx2 -mfma (kernels/x86/avx512/meson.build).
 */
#ifndef TCONV_KERNELS_X86_AVX512_VEC_F64_H
#define TCONV_KERNELS_X86_AVX512_VEC_F64_H

#include <immintrin.h>

#define ELEM double
#define VEC __m512d
#define VLEN 8

static inline __m512d vzero(void) { return _mm512_setzero_pd(); }
/* p 64-byte aligned (packed weights, bias). */
static inline __m512d vload(const double *p) { return _mm512_load_pd(p); }
static inline __m512d vloadu(const double *p) { return _mm512_loadu_pd(p); }
static inline __m512d vbroadcast(const double *p) { return _mm512_set1_pd(*p); }
/* Keeps v in a register: the compiler may not fold its load into the
 * instructions that use it (it does when they are few, and then reloads
 * it for each of them; see fwd_pixels.inc). Emits nothing. */
static inline void vkeep(__m512d *v) { __asm__("" : "+v"(*v)); }
/* acc + a * b, one rounding. */
static inline __m512d vadd(__m512d a, __m512d b) { return _mm512_add_pd(a, b); }
static inline __m512d vfma(__m512d acc, __m512d a, __m512d b) { return _mm512_fmadd_pd(a, b, acc); }
static inline void vstoreu(double *p, __m512d v) { _mm512_storeu_pd(p, v); }
/* Non-temporal store, p 64-byte aligned (the tiles use it for whole lines). */
#define VEC_STREAM 1
#define VEC_LINE_ELEMS 8 /* elements per 64-byte line */
static inline void vstream(double *p, __m512d v) { _mm512_stream_pd(p, v); }
/* The first count (0..VLEN) lanes; a masked store touches nothing else. */
static inline void vstore_partial(double *p, __m512d v, int count)
{
    _mm512_mask_storeu_pd(p, (__mmask8)((1u << count) - 1u), v);
}

#endif
