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
    case TCONV_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case TCONV_ACT_TANH: return tanh(x);
    case TCONV_ACT_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case TCONV_ACT_SWISH: return x / (1.0 + exp(-x));
    }
    return x;
}
