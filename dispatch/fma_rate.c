/*
 * The ymm/zmm FMA throughput ratio (see fma_rate.h): twelve independent FMA
 * chains per width, long enough to cover the FMA latency times two ports,
 * timed in alternation so both see the same clock (the first zmm burst also
 * wakes the upper vector lanes, which some Intel cores power down), best of
 * several short runs against preemption.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */

#include "dispatch/fma_rate.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tconv.h"

#if (defined(__x86_64__) || defined(_M_X64)) && TCONV_HAVE_AVX512
#define TCONV_MEASURE_RATE 1
#include <immintrin.h>
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static double rate = 1.0;

#if TCONV_MEASURE_RATE
enum { CHAINS_ITERS = 4096, RUNS = 7 };

/* Twelve chains a = a * m + c of vector type T, written out so that they
 * stay in registers; returns a value that depends on all of them so none is
 * optimized away. */
#define FMA_CHAINS(T, set1, fmadd, add, cvt)                                                    \
    T a0 = set1(0.10f), a1 = set1(0.11f), a2 = set1(0.12f), a3 = set1(0.13f);                   \
    T a4 = set1(0.14f), a5 = set1(0.15f), a6 = set1(0.16f), a7 = set1(0.17f);                   \
    T a8 = set1(0.18f), a9 = set1(0.19f), a10 = set1(0.20f), a11 = set1(0.21f);                 \
    const T m = set1(mult), c = set1(1e-6f);                                               \
    for (int i = 0; i < CHAINS_ITERS; i++) {                                                    \
        a0 = fmadd(a0, m, c), a1 = fmadd(a1, m, c), a2 = fmadd(a2, m, c);                       \
        a3 = fmadd(a3, m, c), a4 = fmadd(a4, m, c), a5 = fmadd(a5, m, c);                       \
        a6 = fmadd(a6, m, c), a7 = fmadd(a7, m, c), a8 = fmadd(a8, m, c);                       \
        a9 = fmadd(a9, m, c), a10 = fmadd(a10, m, c), a11 = fmadd(a11, m, c);                   \
    }                                                                                           \
    const T s = add(add(add(add(a0, a1), add(a2, a3)), add(add(a4, a5), add(a6, a7))),          \
                    add(add(a8, a9), add(a10, a11)));                                           \
    return cvt(s);

__attribute__((target("avx512f"))) static float chains_zmm(float mult)
{
    FMA_CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_cvtss_f32)
}

__attribute__((target("avx2,fma"))) static float chains_ymm(float mult)
{
    FMA_CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_cvtss_f32)
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The chains' multiplier, read anew for every call: a chain function of
 * no argument is a constant to the compiler, which then computed it once
 * and timed nothing (GCC 12 hoisted the zmm calls out of the timing loop:
 * 0.02 us against 6.7 for ymm, so every CPU measured 1/2, AMD's Zen 4 too,
 * and the AVX2 tiles never competed there). */
static volatile float multiplier = 0.999999f;

static double measure(void)
{
    double best_zmm = 1e30, best_ymm = 1e30;
    volatile float sink = 0;
    sink += chains_zmm(multiplier); /* warm-up */
    for (int r = 0; r < RUNS; r++) {
        double t = now();
        sink += chains_zmm(multiplier);
        const double z = now() - t;
        t = now();
        sink += chains_ymm(multiplier);
        const double y = now() - t;
        if (z < best_zmm) best_zmm = z;
        if (y < best_ymm) best_ymm = y;
    }
    (void)sink;
    /* The same number of FMA instructions, each ymm one half the lanes. */
    return best_zmm / (2.0 * best_ymm);
}
#endif

static void init(void)
{
    const char *env = getenv("TCONV_YMM_RATE");
    if (env && *env) {
        if (strcmp(env, "1") == 0 || strcmp(env, "0.5") == 0) {
            rate = strcmp(env, "1") == 0 ? 1.0 : 0.5;
            return;
        }
        fprintf(stderr, "tconv: warning: TCONV_YMM_RATE=%s is not 0.5 or 1; measuring instead\n",
                env);
    }
#if TCONV_MEASURE_RATE
    if (tconv_cpu_isa() == TCONV_ISA_AVX512) rate = measure() < 0.75 ? 0.5 : 1.0;
#endif
}

double tconv_ymm_zmm_rate(void)
{
    pthread_once(&once, init);
    return rate;
}
