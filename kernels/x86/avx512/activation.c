/*
 * AVX-512F activations (kernels/template/activation.inc) with SLEEF's
 * avx512f functions: 16 f32 / 8 f64 lanes. The f64 macros come first:
 * SIGMOID, SWISH and GELU (kernels/template/activation_f64.inc) are f64
 * vector functions that the f32 table calls on its lanes widened to f64.
 * f32 tanh is kernels/template/activation_tanh_f32.inc's (SLEEF's expf
 * and a polynomial).
 */
#include <immintrin.h>
#include <sleef.h>

#include "kernels/activation.h"

#define AT double
#define AV __m512d
#define AL 8
#define AV_LOAD(p) _mm512_loadu_pd(p)
#define AV_STORE(p, v) _mm512_storeu_pd(p, v)
#define AV_SET1(x) _mm512_set1_pd(x)
#define AV_ADD(a, b) _mm512_add_pd(a, b)
#define AV_SUB(a, b) _mm512_sub_pd(a, b)
#define AV_MUL(a, b) _mm512_mul_pd(a, b)
#define AV_DIV(a, b) _mm512_div_pd(a, b)
#define AV_FMA(a, b, c) _mm512_fmadd_pd(a, b, c)
#define AV_LT(a, b) _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ)
#define AV_GT(a, b) _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ)
#define AV_AND(m, k) ((__mmask8)((m) & (k)))
#define AV_SEL(m, a, b) _mm512_mask_blend_pd(m, b, a)
#define AV_EXP(v) Sleef_expd8_u10avx512f(v)
#define AV_EXPM1(v) Sleef_expm1d8_u10avx512f(v)
#define AV_TANH(v) Sleef_tanhd8_u10avx512f(v)
#define AV_ERFC(v) Sleef_erfcd8_u15avx512f(v)
#define AV_IN_F64(f, v) f(v)
#define AV_GELU_IN_F64 act_gelu_f64
#define AV_SUFFIX f64
#include "kernels/template/activation_f64.inc"
#include "kernels/template/activation.inc"

/* f(v) for 16 f32 lanes: each half widened to 8 f64 lanes (exact), f in
 * f64, each result rounded to f32 once. */
static inline __m512 in_f64_avx512(__m512d (*f)(__m512d), __m512 v)
{
    const __m256 vhi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    const __m256 lo = _mm512_cvtpd_ps(f(_mm512_cvtps_pd(_mm512_castps512_ps256(v))));
    const __m256 hi = _mm512_cvtpd_ps(f(_mm512_cvtps_pd(vhi)));
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)),
                                               _mm256_castps_pd(hi), 1));
}

#define AT float
#define AV __m512
#define AL 16
#define AV_LOAD(p) _mm512_loadu_ps(p)
#define AV_STORE(p, v) _mm512_storeu_ps(p, v)
#define AV_SET1(x) _mm512_set1_ps(x)
#define AV_ADD(a, b) _mm512_add_ps(a, b)
#define AV_SUB(a, b) _mm512_sub_ps(a, b)
#define AV_MUL(a, b) _mm512_mul_ps(a, b)
#define AV_DIV(a, b) _mm512_div_ps(a, b)
#define AV_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define AV_LT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define AV_GT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ)
#define AV_AND(m, k) ((__mmask16)((m) & (k)))
#define AV_SEL(m, a, b) _mm512_mask_blend_ps(m, b, a)
#define AV_EXP(v) Sleef_expf16_u10avx512f(v)
#define AV_EXPM1(v) Sleef_expm1f16_u10avx512f(v)
#define AV_ABS(v) _mm512_abs_ps(v)
#define AV_COPYSIGN(m, s) \
    _mm512_castsi512_ps(_mm512_or_epi32(_mm512_castps_si512(m), _mm512_and_epi32(_mm512_castps_si512(s), _mm512_set1_epi32(INT32_MIN))))
#define AV_TANH(v) act_tanh_f32(v)
#define AV_DTANH(v) act_dtanh_f32(v)
#define AV_IN_F64(f, v) in_f64_avx512(f, v)
#define AV_GELU_IN_F64 act_gelu_f32_in_f64
#define AV_SUFFIX f32
#include "kernels/template/activation_tanh_f32.inc"
#include "kernels/template/activation.inc"

const tconv_act_impl tconv_act_avx512 = {"avx512", act_fwd_f32, act_fwd_f64, act_bwd_f32,
                                         act_bwd_f64};
