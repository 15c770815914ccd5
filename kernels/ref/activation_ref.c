/* The activations in double with the C library: the reference's oracle. */
#include <math.h>

#include "kernels/activation.h"

double tconv_act_ref(tconv_activation act, double alpha, double x)
{
    switch (act) {
    case TCONV_ACT_NONE: return x;
    /* Comparisons against x < 0 keep NaN as NaN. */
    case TCONV_ACT_RELU: return x < 0 ? 0 : x;
    case TCONV_ACT_LEAKY_RELU: return x < 0 ? alpha * x : x;
    case TCONV_ACT_CLIPPED_RELU: return x < 0 ? 0 : (x > alpha ? alpha : x);
    case TCONV_ACT_ELU: return x < 0 ? alpha * expm1(x) : x;
    /* e = exp(-|x|) <= 1: no overflow, no 1 - s to cancel (as the kernels,
     * kernels/template/activation_f64.inc); x = -inf gives swish 0. */
    case TCONV_ACT_SIGMOID: {
        const double e = exp(-fabs(x));
        return (x < 0 ? e : 1.0) / (1.0 + e);
    }
    case TCONV_ACT_TANH: return tanh(x);
    /* erfc(-x/sqrt2), not 1 + erf(x/sqrt2), which cancels for x < 0. */
    case TCONV_ACT_GELU: return isinf(x) ? (x > 0 ? x : 0.0) : 0.5 * x * erfc(-x / sqrt(2.0));
    case TCONV_ACT_SWISH: {
        const double e = exp(-fabs(x));
        return isinf(x) ? (x > 0 ? x : 0.0) : (x < 0 ? x * e : x) / (1.0 + e);
    }
    }
    return x;
}
