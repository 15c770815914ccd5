/*
 * AVX2 activations (kernels/template/activation.inc) with SLEEF's avx2 u10
 * functions: 8 f32 / 4 f64 lanes. Compares give all-ones lanes; blendv picks
 * by their sign bit.
 */
#include <immintrin.h>
#include <sleef.h>

#include "kernels/activation.h"

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
#define AV_LT(a, b) _mm256_cmp_ps(a, b, _CMP_LT_OQ)
#define AV_GT(a, b) _mm256_cmp_ps(a, b, _CMP_GT_OQ)
#define AV_AND(m, k) _mm256_and_ps(m, k)
#define AV_SEL(m, a, b) _mm256_blendv_ps(b, a, m)
#define AV_EXP(v) Sleef_expf8_u10avx2(v)
#define AV_EXPM1(v) Sleef_expm1f8_u10avx2(v)
#define AV_TANH(v) Sleef_tanhf8_u10avx2(v)
#define AV_ERF(v) Sleef_erff8_u10avx2(v)
#define AV_SUFFIX f32
#include "kernels/template/activation.inc"

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
#define AV_LT(a, b) _mm256_cmp_pd(a, b, _CMP_LT_OQ)
#define AV_GT(a, b) _mm256_cmp_pd(a, b, _CMP_GT_OQ)
#define AV_AND(m, k) _mm256_and_pd(m, k)
#define AV_SEL(m, a, b) _mm256_blendv_pd(b, a, m)
#define AV_EXP(v) Sleef_expd4_u10avx2(v)
#define AV_EXPM1(v) Sleef_expm1d4_u10avx2(v)
#define AV_TANH(v) Sleef_tanhd4_u10avx2(v)
#define AV_ERF(v) Sleef_erfd4_u10avx2(v)
#define AV_SUFFIX f64
#include "kernels/template/activation.inc"

const tconv_act_impl tconv_act_avx2 = {"avx2", act_fwd_f32, act_fwd_f64, act_bwd_f32,
                                       act_bwd_f64};
