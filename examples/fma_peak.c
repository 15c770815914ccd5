/* One core's peak FMA rate (see fma_peak.h). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */

/* The chains must stay in registers even in a build without optimization
 * (the example compiled by hand, `cc dcgan_layer.c fma_peak.c`): at -O0
 * every FMA would store to the stack and the "peak" would be a tenth of
 * the real one. GCC can raise this file's level itself; with another
 * compiler, build it with -O2. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O2")
#endif

#include "fma_peak.h"

#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

/* Iterations of one timed run: 12 FMAs each, about 1 ms at 3 GHz with two
 * FMA ports. */
enum { ITERS = 1 << 17, RUNS = 9 };

/* Twelve chains a = a * m + c of vector type T, written out so that they
 * stay in registers; returns a lane of their sum so none is optimized away.
 * m < 1 keeps the values finite and normal. */
#define FMA_CHAINS(T, set1, fmadd, add, first)                                                  \
    T a0 = set1(0.10f), a1 = set1(0.11f), a2 = set1(0.12f), a3 = set1(0.13f);                   \
    T a4 = set1(0.14f), a5 = set1(0.15f), a6 = set1(0.16f), a7 = set1(0.17f);                   \
    T a8 = set1(0.18f), a9 = set1(0.19f), a10 = set1(0.20f), a11 = set1(0.21f);                 \
    const T m = set1(0.999999f), c = set1(1e-6f);                                               \
    for (long i = 0; i < ITERS; i++) {                                                          \
        a0 = fmadd(a0, m, c), a1 = fmadd(a1, m, c), a2 = fmadd(a2, m, c);                       \
        a3 = fmadd(a3, m, c), a4 = fmadd(a4, m, c), a5 = fmadd(a5, m, c);                       \
        a6 = fmadd(a6, m, c), a7 = fmadd(a7, m, c), a8 = fmadd(a8, m, c);                       \
        a9 = fmadd(a9, m, c), a10 = fmadd(a10, m, c), a11 = fmadd(a11, m, c);                   \
    }                                                                                           \
    const T s = add(add(add(add(a0, a1), add(a2, a3)), add(add(a4, a5), add(a6, a7))),          \
                    add(add(a8, a9), add(a10, a11)));                                           \
    return first(s);

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static float chains_avx512(void)
{
    FMA_CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_cvtss_f32)
}

__attribute__((target("avx2,fma"))) static float chains_avx2(void)
{
    FMA_CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_cvtss_f32)
}
#elif defined(__aarch64__)
/* vfmaq_f32(a, b, c) is a + b * c. */
#define NEON_FMADD(a, m, c) vfmaq_f32(c, a, m)
static inline float vgetq_lane_f32_0(float32x4_t v) { return vgetq_lane_f32(v, 0); }
static float chains_neon(void)
{
    FMA_CHAINS(float32x4_t, vdupq_n_f32, NEON_FMADD, vaddq_f32, vgetq_lane_f32_0)
}
#endif

/* The scalar ISA: what tconv's portable C kernels can reach at best. */
static float scalar_madd(float a, float m, float c) { return a * m + c; }
static float scalar_add(float a, float b) { return a + b; }
static float scalar_set1(float a) { return a; }
static float scalar_first(float a) { return a; }
static float chains_scalar(void)
{
    FMA_CHAINS(float, scalar_set1, scalar_madd, scalar_add, scalar_first)
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double fma_peak_gflops(tconv_isa isa)
{
    float (*chains)(void) = NULL;
    int lanes = 1;
    switch (isa) {
    case TCONV_ISA_SCALAR: chains = chains_scalar; break;
#if defined(__x86_64__)
    case TCONV_ISA_AVX512: chains = chains_avx512, lanes = 16; break;
    case TCONV_ISA_AVX2: chains = chains_avx2, lanes = 8; break;
#elif defined(__aarch64__)
    case TCONV_ISA_NEON: chains = chains_neon, lanes = 4; break;
#endif
    default: return 0.0;
    }
    volatile float sink = chains(); /* warm-up: wakes the upper vector lanes, raises the clock */
    double best = 1e30;
    for (int r = 0; r < RUNS; r++) {
        const double t0 = now_seconds();
        sink += chains();
        const double t = now_seconds() - t0;
        if (t < best) best = t;
    }
    (void)sink;
    return 12.0 * ITERS * lanes * 2.0 / best * 1e-9;
}
