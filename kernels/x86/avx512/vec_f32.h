/*
 * Vector abstraction for the templates in kernels/template/: AVX-512F, f32,
 * 16 lanes. Compiled with -mavx512f -mavx2 -mfma (kernels/x86/avx512/meson.build).
 */
#ifndef TCONV_KERNELS_X86_AVX512_VEC_F32_H
#define TCONV_KERNELS_X86_AVX512_VEC_F32_H

#include <immintrin.h>

#define ELEM float
#define VEC __m512
#define VLEN 16

static inline __m512 vzero(void) { return _mm512_setzero_ps(); }
/* p 64-byte aligned (packed weights, bias). */
static inline __m512 vload(const float *p) { return _mm512_load_ps(p); }
static inline __m512 vloadu(const float *p) { return _mm512_loadu_ps(p); }
static inline __m512 vbroadcast(const float *p) { return _mm512_set1_ps(*p); }
/* Keeps v in a register: the compiler may not fold its load into the
 * instructions that use it (it does when they are few, and then reloads
 * it for each of them; see fwd_pixels.inc). Emits nothing. */
static inline void vkeep(__m512 *v) { __asm__("" : "+v"(*v)); }
/* acc + a * b, one rounding. */
static inline __m512 vadd(__m512 a, __m512 b) { return _mm512_add_ps(a, b); }
static inline __m512 vfma(__m512 acc, __m512 a, __m512 b) { return _mm512_fmadd_ps(a, b, acc); }
static inline void vstoreu(float *p, __m512 v) { _mm512_storeu_ps(p, v); }
/* Non-temporal store, p 64-byte aligned (the tiles use it for whole lines). */
#define VEC_STREAM 1
#define VEC_LINE_ELEMS 16 /* elements per 64-byte line */
static inline void vstream(float *p, __m512 v) { _mm512_stream_ps(p, v); }
/* The first count (0..VLEN) lanes; a masked store touches nothing else. */
static inline void vstore_partial(float *p, __m512 v, int count)
{
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << count) - 1u), v);
}

#endif
