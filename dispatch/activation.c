/*
 * The public activation functions (tconv_activation_forward/_backward) and
 * the activation checks and table choice the forward pass uses.
 */
#include "dispatch/activation.h"

#include <math.h>
#include <string.h>

#include "dispatch/buffers.h"
#include "dispatch/desc.h"
#include "runtime/error.h"

static const char *act_name(tconv_activation act)
{
    static const char *names[] = {"NONE", "RELU", "LEAKY_RELU", "CLIPPED_RELU", "ELU",
                                  "SIGMOID", "TANH", "GELU", "SWISH"};
    return (int)act >= 0 && (int)act <= TCONV_ACT_SWISH ? names[act] : "?";
}

tconv_status tconv_check_activation(tconv_activation act, double alpha)
{
    if ((int)act < TCONV_ACT_NONE || (int)act > TCONV_ACT_SWISH)
        return tconv_fail(TCONV_EINVAL, "activation (%d) is not a tconv_activation", (int)act);
    const int positive = act == TCONV_ACT_CLIPPED_RELU || act == TCONV_ACT_ELU;
    if ((positive || act == TCONV_ACT_LEAKY_RELU) &&
        (!isfinite(alpha) || (positive ? !(alpha > 0) : !(alpha >= 0))))
        return tconv_fail(TCONV_EINVAL, "activation_alpha (%g) must be %s and finite for %s",
                          alpha, positive ? "> 0" : ">= 0", act_name(act));
    return TCONV_OK;
}

const tconv_act_impl *tconv_select_act(tconv_isa isa)
{
    switch (isa) {
#if TCONV_HAVE_AVX2
    case TCONV_ISA_AVX2: return &tconv_act_avx2;
#endif
#if TCONV_HAVE_AVX512
    case TCONV_ISA_AVX512: return &tconv_act_avx512;
#endif
#if TCONV_HAVE_NEON
    case TCONV_ISA_NEON: return &tconv_act_neon;
#endif
    default: return &tconv_act_scalar;
    }
}

/* n elements of dtype: checked count and bytes. */
static tconv_status count(tconv_dtype dtype, int64_t n, size_t *bytes)
{
    if ((int)dtype != TCONV_F32 && (int)dtype != TCONV_F64)
        return tconv_fail(TCONV_EINVAL, "dtype (%d) is not a tconv_dtype", (int)dtype);
    if (n < 0) return tconv_fail(TCONV_EINVAL, "n (%lld) must be >= 0", (long long)n);
    const int64_t es = tconv_dtype_size(dtype);
    if (n > INT64_MAX / es || (uint64_t)(n * es) > (uint64_t)SIZE_MAX)
        return tconv_fail(TCONV_EOVERFLOW, "n (%lld) elements overflow size_t", (long long)n);
    *bytes = (size_t)(n * es);
    return TCONV_OK;
}

tconv_status tconv_activation_forward(tconv_activation act, double alpha, tconv_dtype dtype,
                                      int64_t n, const void *x, void *y)
{
    size_t bytes = 0;
    tconv_status st;
    if ((st = tconv_check_activation(act, alpha)) != TCONV_OK ||
        (st = count(dtype, n, &bytes)) != TCONV_OK)
        return st;
    /* y may be x itself, but not overlap it partly. */
    const tconv_buffer bufs[] = {{"y", y, bytes}, {"x", x == y ? NULL : x, bytes}};
    const int required[] = {1, 0};
    if (!x) return tconv_fail(TCONV_EINVAL, "x is NULL");
    if ((st = tconv_check_buffers(bufs, required, 2, 1)) != TCONV_OK) return st;
    if (x != y && bytes) memcpy(y, x, bytes);
    const tconv_act_impl *impl = tconv_select_act(tconv_get_isa());
    if (dtype == TCONV_F64) impl->fwd_f64(act, alpha, y, n);
    else impl->fwd_f32(act, (float)alpha, y, n);
    return TCONV_OK;
}

tconv_status tconv_activation_backward(tconv_activation act, double alpha, tconv_dtype dtype,
                                       int64_t n, const void *saved, int from_output,
                                       const void *dy, void *dz)
{
    size_t bytes = 0;
    tconv_status st;
    if ((st = tconv_check_activation(act, alpha)) != TCONV_OK ||
        (st = count(dtype, n, &bytes)) != TCONV_OK)
        return st;
    if (from_output && (act == TCONV_ACT_GELU || act == TCONV_ACT_SWISH))
        return tconv_fail(TCONV_EINVAL,
                          "from_output (%d): %s's derivative needs its input, not its output",
                          from_output, act_name(act));
    if (!saved) return tconv_fail(TCONV_EINVAL, "saved is NULL");
    if (!dy) return tconv_fail(TCONV_EINVAL, "dy is NULL");
    /* dz may be dy or saved itself (element-wise), but not overlap them partly. */
    const tconv_buffer bufs[] = {
        {"dz", dz, bytes}, {"dy", dy == dz ? NULL : dy, bytes}, {"saved", saved == dz ? NULL : saved, bytes}};
    const int required[] = {1, 0, 0};
    if ((st = tconv_check_buffers(bufs, required, 3, 1)) != TCONV_OK) return st;
    const tconv_act_impl *impl = tconv_select_act(tconv_get_isa());
    if (dtype == TCONV_F64) impl->bwd_f64(act, alpha, saved, from_output != 0, dy, dz, n);
    else impl->bwd_f32(act, (float)alpha, saved, from_output != 0, dy, dz, n);
    return TCONV_OK;
}
