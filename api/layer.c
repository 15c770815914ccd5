/*
 * Layer parameters of MATLAB's transposedConv2dLayer: the public entry points
 * of the initializers and of the SGDM step. Each validates its arguments
 * completely (the desc through tconv_problem_from_desc), then calls the
 * kernels in kernels/init/ and kernels/train/.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "dispatch/buffers.h"
#include "dispatch/desc.h"
#include "kernels/init/initializers.h"
#include "kernels/train/sgdm.h"
#include "runtime/error.h"
#include "tconv.h"

#define KIND_NAMES                                                                          \
    "TCONV_INIT_GLOROT, TCONV_INIT_HE, TCONV_INIT_NARROW_NORMAL, TCONV_INIT_ZEROS, "        \
    "TCONV_INIT_ONES or TCONV_INIT_CUSTOM"

/* Checks the kind (compared as an int: a caller may store any value) and the
 * callback; is_bias rejects the kinds MATLAB offers only for weights. */
static tconv_status check_kind(tconv_initializer kind, tconv_init_fn fn, int is_bias)
{
    const int k = (int)kind;
    if (k < TCONV_INIT_GLOROT || k > TCONV_INIT_CUSTOM)
        return tconv_fail(TCONV_EINVAL, "kind (%d) is not a tconv_initializer (" KIND_NAMES ")",
                          k);
    if (is_bias && (k == TCONV_INIT_GLOROT || k == TCONV_INIT_HE))
        return tconv_fail(TCONV_EINVAL,
                          "kind (%d, %s) is not a bias initializer (TCONV_INIT_ZEROS, "
                          "TCONV_INIT_NARROW_NORMAL, TCONV_INIT_ONES or TCONV_INIT_CUSTOM)",
                          k, k == TCONV_INIT_GLOROT ? "TCONV_INIT_GLOROT" : "TCONV_INIT_HE");
    if (k == TCONV_INIT_CUSTOM && !fn)
        return tconv_fail(TCONV_EINVAL, "fn is NULL but kind is TCONV_INIT_CUSTOM (%d)", k);
    return TCONV_OK;
}

/* The distribution parameter of a random kind (kernels/init/initializers.h). */
static double kind_param(const tconv_problem *p, tconv_initializer kind)
{
    const double taps = (double)p->k_h * (double)p->k_w;
    const double num_in = taps * (double)p->cg, num_out = taps * (double)p->fg;
    switch (kind) {
    case TCONV_INIT_GLOROT: return sqrt(6.0 / (num_in + num_out));
    case TCONV_INIT_HE: return sqrt(2.0 / num_in);
    case TCONV_INIT_NARROW_NORMAL: return 0.01;
    default: return 0.0;
    }
}

tconv_status tconv_init_weights(const tconv_desc *d, tconv_initializer kind, uint64_t seed,
                                tconv_init_fn fn, void *ctx, void *w)
{
    tconv_problem p;
    tconv_status st = tconv_problem_from_desc(d, &p);
    if (st != TCONV_OK) return st;
    if ((st = check_kind(kind, fn, 0)) != TCONV_OK) return st;
    if (!w) return tconv_fail(TCONV_EINVAL, "w is NULL");

    if (kind != TCONV_INIT_CUSTOM) {
        tconv_init_write_weights(&p, kind, kind_param(&p, kind), seed, NULL, w);
        return TCONV_OK;
    }
    /* The callback writes MATLAB's column-major array into a temporary, which
     * is then converted into the desc's weight layout. */
    const size_t bytes = (size_t)p.w_elems * (size_t)tconv_dtype_size(p.dtype);
    void *tmp = malloc(bytes);
    if (!tmp)
        return tconv_fail(TCONV_ENOMEM,
                          "no memory for the custom initializer's %zu-byte MATLAB array", bytes);
    int64_t size[5] = {p.k_h, p.k_w, p.filters, p.channels, 1};
    int ndims = 4;
    if (p.groups > 1) {
        size[2] = p.fg;
        size[3] = p.cg;
        size[4] = p.groups;
        ndims = 5;
    }
    fn(ctx, size, ndims, p.dtype, tmp);
    tconv_init_write_weights(&p, kind, 0.0, seed, tmp, w);
    free(tmp);
    return TCONV_OK;
}

tconv_status tconv_init_bias(const tconv_desc *d, tconv_initializer kind, uint64_t seed,
                             tconv_init_fn fn, void *ctx, void *bias)
{
    tconv_problem p;
    tconv_status st = tconv_problem_from_desc(d, &p);
    if (st != TCONV_OK) return st;
    if ((st = check_kind(kind, fn, 1)) != TCONV_OK) return st;
    if (!bias) return tconv_fail(TCONV_EINVAL, "bias is NULL");

    if (kind == TCONV_INIT_CUSTOM) {
        /* MATLAB's 1 x 1 x F array is the bias's own memory. */
        const int64_t size[3] = {1, 1, p.filters};
        fn(ctx, size, 3, p.dtype, bias);
        return TCONV_OK;
    }
    tconv_init_write_bias(&p, kind, kind_param(&p, kind), seed, bias);
    return TCONV_OK;
}

void tconv_train_factors_init(tconv_train_factors *f)
{
    if (!f) return;
    f->weight_learn_rate_factor = 1.0;
    f->bias_learn_rate_factor = 1.0;
    f->weight_l2_factor = 1.0;
    f->bias_l2_factor = 0.0;
}

void tconv_sgdm_init(tconv_sgdm *o)
{
    if (!o) return;
    o->learn_rate = 0.01;
    o->momentum = 0.9;
    o->l2_regularization = 1e-4;
}

/* v >= 0 and finite (NaN fails). */
static tconv_status check_nonneg(const char *field, double v)
{
    if (!(v >= 0.0) || !isfinite(v))
        return tconv_fail(TCONV_EINVAL, "%s (%g) must be >= 0 and finite", field, v);
    return TCONV_OK;
}

tconv_status tconv_sgdm_step(const tconv_desc *d, const tconv_train_factors *f,
                             const tconv_sgdm *o, void *w, const void *dw, void *w_velocity,
                             void *bias, const void *dbias, void *bias_velocity)
{
    tconv_problem p;
    tconv_status st = tconv_problem_from_desc(d, &p);
    if (st != TCONV_OK) return st;
    if (!f) return tconv_fail(TCONV_EINVAL, "factors (f) is NULL");
    if (!o) return tconv_fail(TCONV_EINVAL, "options (o) is NULL");
    if (!(o->learn_rate >= 0.0) || !isfinite(o->learn_rate))
        return tconv_fail(TCONV_EINVAL, "learn_rate (%g) must be >= 0 and finite", o->learn_rate);
    if (!(o->momentum >= 0.0 && o->momentum < 1.0))
        return tconv_fail(TCONV_EINVAL, "momentum (%g) must be in [0, 1)", o->momentum);
    if ((st = check_nonneg("l2_regularization", o->l2_regularization)) != TCONV_OK ||
        (st = check_nonneg("weight_learn_rate_factor", f->weight_learn_rate_factor)) != TCONV_OK ||
        (st = check_nonneg("bias_learn_rate_factor", f->bias_learn_rate_factor)) != TCONV_OK ||
        (st = check_nonneg("weight_l2_factor", f->weight_l2_factor)) != TCONV_OK ||
        (st = check_nonneg("bias_l2_factor", f->bias_l2_factor)) != TCONV_OK)
        return st;
    if (!w) return tconv_fail(TCONV_EINVAL, "w is NULL");
    if (!dw) return tconv_fail(TCONV_EINVAL, "dw is NULL");
    if (!w_velocity) return tconv_fail(TCONV_EINVAL, "w_velocity is NULL");
    const int nb = (bias != NULL) + (dbias != NULL) + (bias_velocity != NULL);
    if (nb != 0 && nb != 3)
        return tconv_fail(TCONV_EINVAL,
                          "bias (%p), dbias (%p) and bias_velocity (%p) must be given all three "
                          "or none",
                          bias, dbias, bias_velocity);

    const size_t esize = (size_t)tconv_dtype_size(p.dtype);
    const size_t w_bytes = (size_t)p.w_elems * esize, b_bytes = (size_t)p.filters * esize;
    /* Outputs first. */
    const tconv_buffer bufs[] = {{"w", w, w_bytes},
                                 {"w_velocity", w_velocity, w_bytes},
                                 {"bias", bias, b_bytes},
                                 {"bias_velocity", bias_velocity, b_bytes},
                                 {"dw", dw, w_bytes},
                                 {"dbias", dbias, b_bytes}};
    if ((st = tconv_check_buffers(bufs, NULL, 6, 4)) != TCONV_OK) return st;

    if (f->weight_learn_rate_factor != 0.0) {
        const double rate = o->learn_rate * f->weight_learn_rate_factor;
        const double l2 = o->l2_regularization * f->weight_l2_factor;
        if (p.dtype == TCONV_F64)
            tconv_sgdm_f64(p.w_elems, w, dw, w_velocity, rate, o->momentum, l2);
        else
            tconv_sgdm_f32(p.w_elems, w, dw, w_velocity, rate, o->momentum, l2);
    }
    if (bias && f->bias_learn_rate_factor != 0.0) {
        const double rate = o->learn_rate * f->bias_learn_rate_factor;
        const double l2 = o->l2_regularization * f->bias_l2_factor;
        if (p.dtype == TCONV_F64)
            tconv_sgdm_f64(p.filters, bias, dbias, bias_velocity, rate, o->momentum, l2);
        else
            tconv_sgdm_f32(p.filters, bias, dbias, bias_velocity, rate, o->momentum, l2);
    }
    return TCONV_OK;
}
