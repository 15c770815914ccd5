/*
 * Activations in portable C: SLEEF's `purec` single-lane forms of the same
 * u10 functions the SIMD tables use in vector form.
 */
#include <sleef.h>

#include "kernels/activation.h"

/* One element of each activation and of its derivative, written once for
 * both dtypes: T the type, F(name) its SLEEF purec function. */
#define TCONV_ACT_SCALAR(T, SUFFIX, EXP, EXPM1, TANH, ERF)                                      \
    static T act_##SUFFIX(tconv_activation act, T alpha, T x)                                   \
    {                                                                                           \
        switch (act) {                                                                          \
        case TCONV_ACT_NONE: return x;                                                          \
        case TCONV_ACT_RELU: return x < 0 ? 0 : x; /* NaN stays NaN */                          \
        case TCONV_ACT_LEAKY_RELU: return x < 0 ? alpha * x : x;                                \
        case TCONV_ACT_CLIPPED_RELU: return x < 0 ? 0 : (x > alpha ? alpha : x);               \
        case TCONV_ACT_ELU: return x < 0 ? alpha * EXPM1(x) : x;                                \
        case TCONV_ACT_SIGMOID: return 1 / (1 + EXP(-x));                                       \
        case TCONV_ACT_TANH: return TANH(x);                                                    \
        case TCONV_ACT_GELU: return (T)0.5 * x * (1 + ERF(x * (T)0.70710678118654752440));     \
        case TCONV_ACT_SWISH: return x / (1 + EXP(-x));                                         \
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
        case TCONV_ACT_SIGMOID: {                                                               \
            const T y = from_output ? s : 1 / (1 + EXP(-s));                                    \
            return y * (1 - y);                                                                 \
        }                                                                                       \
        case TCONV_ACT_TANH: {                                                                  \
            const T y = from_output ? s : TANH(s);                                              \
            return 1 - y * y;                                                                   \
        }                                                                                       \
        case TCONV_ACT_GELU: /* Phi(z) + z phi(z) */                                            \
            return (T)0.5 * (1 + ERF(s * (T)0.70710678118654752440)) +                          \
                   s * (T)0.39894228040143267794 * EXP((T)-0.5 * s * s);                        \
        case TCONV_ACT_SWISH: {                                                                 \
            const T sg = 1 / (1 + EXP(-s));                                                     \
            return sg * (1 + s * (1 - sg));                                                     \
        }                                                                                       \
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

TCONV_ACT_SCALAR(float, f32, Sleef_expf1_u10purec, Sleef_expm1f1_u10purec, Sleef_tanhf1_u10purec,
                 Sleef_erff1_u10purec)
TCONV_ACT_SCALAR(double, f64, Sleef_expd1_u10purec, Sleef_expm1d1_u10purec,
                 Sleef_tanhd1_u10purec, Sleef_erfd1_u10purec)

const tconv_act_impl tconv_act_scalar = {"scalar", fwd_f32, fwd_f64, bwd_f32, bwd_f64};
