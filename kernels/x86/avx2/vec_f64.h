/*
 * Vector abstraction for the templates in kernels/template/: AVX2 + FMA, f64,
 * 4 lanes. Compiled with -mavx2 -mfma (kernels/x86/avx2/meson.build).
 */
#ifndef TCONV_KERNELS_X86_AVX2_VEC_F64_H
#define TCONV_KERNELS_X86_AVX2_VEC_F64_H

#include <immintrin.h>

#define ELEM double
#define VEC __m256d
#define VLEN 4

static inline __m256d vzero(void) { return _mm256_setzero_pd(); }
/* p 32-byte aligned (packed weights, bias). */
static inline __m256d vload(const double *p) { return _mm256_load_pd(p); }
static inline __m256d vloadu(const double *p) { return _mm256_loadu_pd(p); }
static inline __m256d vbroadcast(const double *p) { return _mm256_broadcast_sd(p); }
/* Keeps v in a register: the compiler may not fold its load into the
 * instructions that use it (it does when they are few, and then reloads
 * it for each of them; see fwd_pixels.inc). Emits nothing. */
static inline void vkeep(__m256d *v) { __asm__("" : "+x"(*v)); }
/* acc + a * b, one rounding. */
static inline __m256d vadd(__m256d a, __m256d b) { return _mm256_add_pd(a, b); }
static inline __m256d vfma(__m256d acc, __m256d a, __m256d b) { return _mm256_fmadd_pd(a, b, acc); }
static inline void vstoreu(double *p, __m256d v) { _mm256_storeu_pd(p, v); }
/* Non-temporal store, p 64-byte aligned (the tiles use it for whole lines). */
#define VEC_STREAM 1
#define VEC_LINE_ELEMS 8 /* elements per 64-byte line */
static inline void vstream(double *p, __m256d v) { _mm256_stream_pd(p, v); }
/* The first count (0..VLEN) lanes: vmaskmovpd writes (and faults on) only
 * the lanes whose mask sign bit is set. */
static inline void vstore_partial(double *p, __m256d v, int count)
{
    const __m256i lane = _mm256_setr_epi64x(0, 1, 2, 3);
    _mm256_maskstore_pd(p, _mm256_cmpgt_epi64(_mm256_set1_epi64x(count), lane), v);
}

#endif
