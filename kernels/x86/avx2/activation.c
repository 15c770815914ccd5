/*
 * AVX2 activations (kernels/template/activation.inc) with SLEEF's avx2
 * functions: 8 f32 / 4 f64 lanes. Compares give all-ones lanes; blendv picks
 * by their sign bit. The f64 macros come first: SIGMOID, SWISH and GELU
 * (kernels/template/activation_f64.inc) are f64 vector functions that the
 * f32 table calls on its lanes widened to f64.
 * f32 tanh is kernels/template/activation_tanh_f32.inc's (SLEEF's expf
 * and a polynomial).
 */
#include <immintrin.h>
#include <sleef.h>

#include "kernels/activation.h"

#define AT double
#define AV __m256d
#define AL 4
#define AV_LOAD(p) _mm256_loadu_pd(p)
#define AV_STORE(p, v) _mm256_storeu_pd(p, v)
#define AV_SET1(x) _mm256_set1_pd(x)
#define AV_ADD(a, b) _mm256_add_pd(a, b)
#define AV_SUB(a, b) _mm256_sub_pd(a, b)
#define AV_MUL(a, b) _mm256_mul_pd(a, b)
#define AV_DIV(a, b) _mm256_div_pd(a, b)
#define AV_FMA(a, b, c) _mm256_fmadd_pd(a, b, c)
#define AV_LT(a, b) _mm256_cmp_pd(a, b, _CMP_LT_OQ)
#define AV_GT(a, b) _mm256_cmp_pd(a, b, _CMP_GT_OQ)
#define AV_AND(m, k) _mm256_and_pd(m, k)
#define AV_SEL(m, a, b) _mm256_blendv_pd(b, a, m)
#define AV_EXP(v) Sleef_expd4_u10avx2(v)
#define AV_EXPM1(v) Sleef_expm1d4_u10avx2(v)
#define AV_TANH(v) Sleef_tanhd4_u10avx2(v)
#define AV_ERFC(v) Sleef_erfcd4_u15avx2(v)
#define AV_IN_F64(f, v) f(v)
#define AV_GELU_IN_F64 act_gelu_f64
#define AV_SUFFIX f64
#include "kernels/template/activation_f64.inc"
#include "kernels/template/activation.inc"

/* f(v) for 8 f32 lanes: each half widened to 4 f64 lanes (exact), f in f64,
 * each result rounded to f32 once. */
static inline __m256 in_f64_avx2(__m256d (*f)(__m256d), __m256 v)
{
    const __m128 lo = _mm256_cvtpd_ps(f(_mm256_cvtps_pd(_mm256_castps256_ps128(v))));
    const __m128 hi = _mm256_cvtpd_ps(f(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))));
    return _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
}

#define AT float
#define AV __m256
#define AL 8
#define AV_LOAD(p) _mm256_loadu_ps(p)
#define AV_STORE(p, v) _mm256_storeu_ps(p, v)
#define AV_SET1(x) _mm256_set1_ps(x)
#define AV_ADD(a, b) _mm256_add_ps(a, b)
#define AV_SUB(a, b) _mm256_sub_ps(a, b)
#define AV_MUL(a, b) _mm256_mul_ps(a, b)
#define AV_DIV(a, b) _mm256_div_ps(a, b)
#define AV_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define AV_LT(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define AV_GT(a, b) _mm256_cmp_ps(a, b, _CMP_GT_OQ)
#define AV_AND(m, k) _mm256_and_ps(m, k)
#define AV_SEL(m, a, b) _mm256_blendv_ps(b, a, m)
#define AV_EXP(v) Sleef_expf8_u10avx2(v)
#define AV_EXPM1(v) Sleef_expm1f8_u10avx2(v)
#define AV_ABS(v) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v)
#define AV_COPYSIGN(m, s) _mm256_or_ps(m, _mm256_and_ps(s, _mm256_set1_ps(-0.0f)))
#define AV_TANH(v) act_tanh_f32(v)
#define AV_DTANH(v) act_dtanh_f32(v)
#define AV_IN_F64(f, v) in_f64_avx2(f, v)
#define AV_GELU_IN_F64 act_gelu_f32_in_f64
#define AV_SUFFIX f32
#include "kernels/template/activation_tanh_f32.inc"
#include "kernels/template/activation.inc"

const tconv_act_impl tconv_act_avx2 = {"avx2", act_fwd_f32, act_fwd_f64, act_bwd_f32,
                                       act_bwd_f64};
