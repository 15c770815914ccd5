/*
 * Vector abstraction for the templates in kernels/template/: AVX2 + FMA, f32,
 * 8 lanes. Compiled with -mavx2 -mfma (kernels/x86/avx2/meson.build).
 */
#ifndef TCONV_KERNELS_X86_AVX2_VEC_F32_H
#define TCONV_KERNELS_X86_AVX2_VEC_F32_H

#include <immintrin.h>

#define ELEM float
#define VEC __m256
#define VLEN 8

static inline __m256 vzero(void) { return _mm256_setzero_ps(); }
/* p 32-byte aligned (packed weights, bias). */
static inline __m256 vload(const float *p) { return _mm256_load_ps(p); }
static inline __m256 vloadu(const float *p) { return _mm256_loadu_ps(p); }
static inline __m256 vbroadcast(const float *p) { return _mm256_broadcast_ss(p); }
/* Keeps v in a register: the compiler may not fold its load into the
 * instructions that use it (it does when they are few, and then reloads
 * it for each of them; see fwd_pixels.inc). Emits nothing. */
static inline void vkeep(__m256 *v) { __asm__("" : "+x"(*v)); }
/* acc + a * b, one rounding. */
static inline __m256 vadd(__m256 a, __m256 b) { return _mm256_add_ps(a, b); }
static inline __m256 vfma(__m256 acc, __m256 a, __m256 b) { return _mm256_fmadd_ps(a, b, acc); }
static inline void vstoreu(float *p, __m256 v) { _mm256_storeu_ps(p, v); }
/* Non-temporal store, p 64-byte aligned (the tiles use it for whole lines). */
#define VEC_STREAM 1
#define VEC_LINE_ELEMS 16 /* elements per 64-byte line */
static inline void vstream(float *p, __m256 v) { _mm256_stream_ps(p, v); }
/* The first count (0..VLEN) lanes: vmaskmovps writes (and faults on) only
 * the lanes whose mask sign bit is set. */
static inline void vstore_partial(float *p, __m256 v, int count)
{
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    _mm256_maskstore_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(count), lane), v);
}

#endif
