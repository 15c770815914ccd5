/*
 * Activations in portable C: SLEEF's `purec` single-lane forms of the same
 * functions the SIMD tables use in vector form. SIGMOID, SWISH and GELU are
 * kernels/template/activation_f64.inc's, instantiated here with one double
 * for the vector (f32 goes through double and is rounded once, as in the
 * SIMD tables), and f32 TANH is kernels/template/activation_tanh_f32.inc's
 * with one float.
 */
#include <math.h>
#include <sleef.h>

#include "kernels/activation.h"

#define AV double
#define AV_SET1(x) ((double)(x))
#define AV_ADD(a, b) ((a) + (b))
#define AV_SUB(a, b) ((a) - (b))
#define AV_MUL(a, b) ((a) * (b))
#define AV_DIV(a, b) ((a) / (b))
#define AV_FMA(a, b, c) fma(a, b, c)
#define AV_LT(a, b) ((a) < (b))
#define AV_GT(a, b) ((a) > (b))
#define AV_SEL(m, a, b) ((m) ? (a) : (b))
#define AV_EXP(v) Sleef_expd1_u10purec(v)
#define AV_ERFC(v) Sleef_erfcd1_u15purec(v)
#include "kernels/template/activation_f64.inc"
#undef AV
#undef AV_SET1
#undef AV_ADD
#undef AV_SUB
#undef AV_MUL
#undef AV_DIV
#undef AV_FMA
#undef AV_LT
#undef AV_GT
#undef AV_SEL
#undef AV_EXP
#undef AV_ERFC

#define AV float
#define AV_SET1(x) ((float)(x))
#define AV_ADD(a, b) ((a) + (b))
#define AV_SUB(a, b) ((a) - (b))
#define AV_MUL(a, b) ((a) * (b))
#define AV_DIV(a, b) ((a) / (b))
/* a*b + c: the product of two floats is exact in double, the sum rounds to
 * double and then to float, which differs from one FMA rounding only where
 * the double sum falls on a float tie (rarely; never by more than that
 * rounding). fmaf is a libm call without -mfma (x86-64's baseline) and
 * made the scalar tanh 1.5x slower. */
#define AV_FMA(a, b, c) ((float)((double)(a) * (double)(b) + (double)(c)))
#define AV_LT(a, b) ((a) < (b))
#define AV_GT(a, b) ((a) > (b))
#define AV_SEL(m, a, b) ((m) ? (a) : (b))
#define AV_ABS(v) fabsf(v)
#define AV_COPYSIGN(m, s) copysignf(m, s)
#define AV_EXP(v) Sleef_expf1_u10purec(v)
#include "kernels/template/activation_tanh_f32.inc"
#undef AV
#undef AV_SET1
#undef AV_ADD
#undef AV_SUB
#undef AV_MUL
#undef AV_DIV
#undef AV_FMA
#undef AV_LT
#undef AV_GT
#undef AV_SEL
#undef AV_ABS
#undef AV_COPYSIGN
#undef AV_EXP

/* tanh'(z) from the input in f64: 1 - tanh(z)^2, as the SIMD tables
 * (activation.inc without AV_DTANH). */
static double dtanh_f64(double z)
{
    const double y = Sleef_tanhd1_u10purec(z);
    return 1 - y * y;
}

/* One element of each activation and of its derivative, written once for
 * both dtypes: T the type, EXP, EXPM1 its SLEEF purec functions, TANH and
 * DTANH tanh and its derivative from the input, GELU_IN_F64
 * activation_f64.inc's gelu for the dtype. */
#define TCONV_ACT_SCALAR(T, SUFFIX, EXP, EXPM1, TANH, DTANH, GELU_IN_F64)                       \
    static T act_##SUFFIX(tconv_activation act, T alpha, T x)                                   \
    {                                                                                           \
        switch (act) {                                                                          \
        case TCONV_ACT_NONE: return x;                                                          \
        case TCONV_ACT_RELU: return x < 0 ? 0 : x; /* NaN stays NaN */                          \
        case TCONV_ACT_LEAKY_RELU: return x < 0 ? alpha * x : x;                                \
        case TCONV_ACT_CLIPPED_RELU: return x < 0 ? 0 : (x > alpha ? alpha : x);                \
        case TCONV_ACT_ELU: return x < 0 ? alpha * EXPM1(x) : x;                                \
        case TCONV_ACT_SIGMOID: return (T)act_sigmoid_f64(x);                                   \
        case TCONV_ACT_TANH: return TANH(x);                                                    \
        case TCONV_ACT_GELU: return (T)GELU_IN_F64(x);                                          \
        case TCONV_ACT_SWISH: return (T)act_swish_f64(x);                                       \
        }                                                                                       \
        return x;                                                                               \
    }                                                                                           \
    /* act'(z) from the input z, or from the output y where the kind allows. */                 \
    static T dact_##SUFFIX(tconv_activation act, T alpha, T s, int from_output)                 \
    {                                                                                           \
        switch (act) {                                                                          \
        case TCONV_ACT_NONE: return 1;                                                          \
        case TCONV_ACT_RELU: return s > 0 ? 1 : 0;                                              \
        case TCONV_ACT_LEAKY_RELU: return s > 0 ? 1 : alpha;                                    \
        case TCONV_ACT_CLIPPED_RELU: return s > 0 && s < alpha ? 1 : 0;                         \
        case TCONV_ACT_ELU:                                                                     \
            if (s > 0) return 1;                                                                \
            return from_output ? s + alpha : alpha * EXP(s);                                    \
        case TCONV_ACT_SIGMOID:                                                                 \
            return from_output ? s * (1 - s) : (T)act_dsigmoid_f64(s);                          \
        case TCONV_ACT_TANH:                                                                    \
            return from_output ? 1 - s * s : DTANH(s);                                          \
        /* GELU and SWISH: from the input only (the dispatcher refuses from_output). */         \
        case TCONV_ACT_GELU: return (T)act_dgelu_f64(s);                                        \
        case TCONV_ACT_SWISH: return (T)act_dswish_f64(s);                                      \
        }                                                                                       \
        return 1;                                                                               \
    }                                                                                           \
    static void fwd_##SUFFIX(tconv_activation act, T alpha, T *p, int64_t n)                    \
    {                                                                                           \
        for (int64_t i = 0; i < n; i++) p[i] = act_##SUFFIX(act, alpha, p[i]);                  \
    }                                                                                           \
    static void bwd_##SUFFIX(tconv_activation act, T alpha, const T *saved, int from_output,    \
                             const T *dy, T *dz, int64_t n)                                     \
    {                                                                                           \
        for (int64_t i = 0; i < n; i++)                                                         \
            dz[i] = dy[i] * dact_##SUFFIX(act, alpha, saved[i], from_output);                   \
    }

TCONV_ACT_SCALAR(float, f32, Sleef_expf1_u10purec, Sleef_expm1f1_u10purec, act_tanh_f32,
                 act_dtanh_f32, act_gelu_f32_in_f64)
TCONV_ACT_SCALAR(double, f64, Sleef_expd1_u10purec, Sleef_expm1d1_u10purec, Sleef_tanhd1_u10purec,
                 dtanh_f64, act_gelu_f64)

const tconv_act_impl tconv_act_scalar = {"scalar", fwd_f32, fwd_f64, bwd_f32, bwd_f64};
