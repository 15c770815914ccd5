/*
 * AArch64 Advanced SIMD activations (kernels/template/activation.inc) with
 * SLEEF's advsimd functions: 4 f32 / 2 f64 lanes. Compares give all-ones
 * lanes; vbsl picks bit by bit. The f64 macros come first: SIGMOID, SWISH
 * and GELU (kernels/template/activation_f64.inc) are f64 vector functions
 * that the f32 table calls on its lanes widened to f64.
 * f32 tanh is kernels/template/activation_tanh_f32.inc's (SLEEF's expf
 * and a polynomial).
 */
#include <arm_neon.h>
#include <sleef.h>

#include "kernels/activation.h"

#define AT double
#define AV float64x2_t
#define AL 2
#define AV_LOAD(p) vld1q_f64(p)
#define AV_STORE(p, v) vst1q_f64(p, v)
#define AV_SET1(x) vdupq_n_f64(x)
#define AV_ADD(a, b) vaddq_f64(a, b)
#define AV_SUB(a, b) vsubq_f64(a, b)
#define AV_MUL(a, b) vmulq_f64(a, b)
#define AV_DIV(a, b) vdivq_f64(a, b)
#define AV_FMA(a, b, c) vfmaq_f64(c, a, b)
#define AV_LT(a, b) vcltq_f64(a, b)
#define AV_GT(a, b) vcgtq_f64(a, b)
#define AV_AND(m, k) vandq_u64(m, k)
#define AV_SEL(m, a, b) vbslq_f64(m, a, b)
#define AV_EXP(v) Sleef_expd2_u10advsimd(v)
#define AV_EXPM1(v) Sleef_expm1d2_u10advsimd(v)
#define AV_TANH(v) Sleef_tanhd2_u10advsimd(v)
#define AV_ERFC(v) Sleef_erfcd2_u15advsimd(v)
#define AV_IN_F64(f, v) f(v)
#define AV_GELU_IN_F64 act_gelu_f64
#define AV_SUFFIX f64
#include "kernels/template/activation_f64.inc"
#include "kernels/template/activation.inc"

/* f(v) for 4 f32 lanes: each half widened to 2 f64 lanes (exact), f in f64,
 * each result rounded to f32 once. */
static inline float32x4_t in_f64_neon(float64x2_t (*f)(float64x2_t), float32x4_t v)
{
    const float32x2_t lo = vcvt_f32_f64(f(vcvt_f64_f32(vget_low_f32(v))));
    return vcvt_high_f32_f64(lo, f(vcvt_high_f64_f32(v)));
}

#define AT float
#define AV float32x4_t
#define AL 4
#define AV_LOAD(p) vld1q_f32(p)
#define AV_STORE(p, v) vst1q_f32(p, v)
#define AV_SET1(x) vdupq_n_f32(x)
#define AV_ADD(a, b) vaddq_f32(a, b)
#define AV_SUB(a, b) vsubq_f32(a, b)
#define AV_MUL(a, b) vmulq_f32(a, b)
#define AV_DIV(a, b) vdivq_f32(a, b)
#define AV_FMA(a, b, c) vfmaq_f32(c, a, b)
#define AV_LT(a, b) vcltq_f32(a, b)
#define AV_GT(a, b) vcgtq_f32(a, b)
#define AV_AND(m, k) vandq_u32(m, k)
#define AV_SEL(m, a, b) vbslq_f32(m, a, b)
#define AV_EXP(v) Sleef_expf4_u10advsimd(v)
#define AV_EXPM1(v) Sleef_expm1f4_u10advsimd(v)
#define AV_ABS(v) vabsq_f32(v)
#define AV_COPYSIGN(m, s) vbslq_f32(vdupq_n_u32(0x80000000u), s, m)
#define AV_TANH(v) act_tanh_f32(v)
#define AV_DTANH(v) act_dtanh_f32(v)
#define AV_IN_F64(f, v) in_f64_neon(f, v)
#define AV_GELU_IN_F64 act_gelu_f32_in_f64
#define AV_SUFFIX f32
#include "kernels/template/activation_tanh_f32.inc"
#include "kernels/template/activation.inc"

const tconv_act_impl tconv_act_neon = {"neon", act_fwd_f32, act_fwd_f64, act_bwd_f32,
                                       act_bwd_f64};
