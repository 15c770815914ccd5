/*
 * Layer parameters of MATLAB's transposedConv2dLayer through the public API:
 * the initializers (reproducibility, the same logical weights in every weight
 * layout and dtype, bounds and moments on large draws, custom callbacks in
 * MATLAB's order), the Philox4x32-10 generator behind them (the published
 * known-answer vectors), the SGDM step against a scalar transcription of
 * MATLAB's formulas, and every bad-input class with its message.
 *
 * Weight offsets come from testutil (written independently of the library).
 * The generator's header is self-contained (static inline), so the
 * known-answer test includes it directly and then checks that the library's
 * glorot values are exactly the documented function of its output.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tconv.h>

#include "../kernels/init/philox.h"
#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static tconv_desc make_desc(int64_t c, int64_t f, int64_t kh, int64_t kw, int64_t g,
                            tconv_dtype t, tconv_weight_layout wl)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.channels = c;
    d.filters = f;
    d.in_h = 3;
    d.in_w = 2;
    d.filter_h = kh;
    d.filter_w = kw;
    d.groups = g;
    d.stride_h = 2;
    d.dtype = t;
    d.weight_layout = wl;
    return d;
}

static int64_t w_elems(const tconv_desc *d)
{
    int64_t n = 0;
    cr_assert_eq(tconv_desc_tensor_size(d, TCONV_TENSOR_W, &n, NULL), TCONV_OK);
    return n;
}

/* Weights initialized by the library, as doubles in the desc's layout. */
static double *init_w(const tconv_desc *d, tconv_initializer kind, uint64_t seed)
{
    const int64_t n = w_elems(d);
    void *w = malloc((size_t)n * (d->dtype == TCONV_F64 ? 8 : 4));
    cr_assert_not_null(w);
    tconv_status st = tconv_init_weights(d, kind, seed, NULL, NULL, w);
    cr_assert_eq(st, TCONV_OK, "tconv_init_weights: %s", tconv_last_error());
    double *v = tu_from_dtype(d->dtype, w, n);
    free(w);
    return v;
}

/* Logical weights in MATLAB's column-major order (kh fastest, then kw, m, cg, g). */
static double *logical_w(const tconv_desc *d, const double *w)
{
    const tu_shape s = tu_shape_of(d);
    double *out = malloc((size_t)tu_w_elems(&s) * sizeof *out);
    cr_assert_not_null(out);
    int64_t i = 0;
    for (int64_t g = 0; g < s.g; g++)
        for (int64_t cg = 0; cg < s.cg; cg++)
            for (int64_t m = 0; m < s.fg; m++)
                for (int64_t kw = 0; kw < s.kw; kw++)
                    for (int64_t kh = 0; kh < s.kh; kh++)
                        out[i++] = w[tu_w_offset(d, &s, g * s.cg + cg, m, kh, kw)];
    return out;
}

static void expect_msg(const char *field, const char *value)
{
    const char *m = tconv_last_error();
    cr_assert_not_null(m);
    cr_assert(strstr(m, field), "message does not name %s: \"%s\"", field, m);
    if (value) cr_assert(strstr(m, value), "message lacks the value %s: \"%s\"", value, m);
}

static double mean_of(const double *v, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += v[i];
    return s / (double)n;
}

static double second_moment(const double *v, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += v[i] * v[i];
    return s / (double)n;
}

static const tconv_weight_layout all_wl[] = {TCONV_W_IOHW, TCONV_W_OHWI, TCONV_W_MATLAB};
static const tconv_initializer random_kinds[] = {TCONV_INIT_GLOROT, TCONV_INIT_HE,
                                                 TCONV_INIT_NARROW_NORMAL};

/* ------------------------------------------------------------------------ */
/* Philox4x32-10                                                             */
/* ------------------------------------------------------------------------ */

/* Random123's known-answer vectors for philox4x32, 10 rounds. */
Test(philox, known_answers)
{
    static const struct { uint32_t ctr[4], key[2], out[4]; } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        uint32_t out[4];
        tconv_philox4x32_10(kat[i].ctr, kat[i].key, out);
        for (int k = 0; k < 4; k++)
            cr_assert_eq(out[k], kat[i].out[k], "vector %zu word %d: %08x, expected %08x", i, k,
                         out[k], kat[i].out[k]);
    }
}

/* The library's glorot weight with MATLAB index i is b * (2u - 1), u = the
 * top 53 bits of block i's words 1:0 times 2^-53: the documented generator. */
Test(philox, glorot_is_the_documented_function_of_the_generator)
{
    const tconv_desc d = make_desc(3, 4, 2, 3, 1, TCONV_F64, TCONV_W_MATLAB);
    const uint64_t seed = UINT64_C(0x0123456789abcdef);
    double *w = init_w(&d, TCONV_INIT_GLOROT, seed);
    const int64_t n = w_elems(&d);
    const double b = sqrt(6.0 / (6.0 * 3 + 6.0 * 4));
    for (int64_t i = 0; i < n; i++) {
        uint32_t blk[4];
        tconv_philox_block(seed, (uint64_t)i, blk);
        const uint64_t bits = ((((uint64_t)blk[1]) << 32) | blk[0]) >> 11;
        const double u = (double)bits / 9007199254740992.0;
        cr_assert_eq(w[i], b * (2.0 * u - 1.0), "element %lld", (long long)i);
    }
    free(w);
}

/* ------------------------------------------------------------------------ */
/* Reproducibility, layouts, dtypes                                          */
/* ------------------------------------------------------------------------ */

Test(init, same_seed_same_bits_other_seed_differs)
{
    for (size_t k = 0; k < 3; k++)
        for (int t = 0; t < 2; t++) {
            const tconv_desc d = make_desc(6, 4, 3, 3, 2, (tconv_dtype)t, TCONV_W_OHWI);
            const int64_t n = w_elems(&d);
            const size_t bytes = (size_t)n * (t ? 8 : 4);
            void *a = malloc(bytes), *b = malloc(bytes), *c = malloc(bytes);
            cr_assert(a && b && c);
            cr_assert_eq(tconv_init_weights(&d, random_kinds[k], 42, NULL, NULL, a), TCONV_OK);
            cr_assert_eq(tconv_init_weights(&d, random_kinds[k], 42, NULL, NULL, b), TCONV_OK);
            cr_assert_eq(tconv_init_weights(&d, random_kinds[k], 43, NULL, NULL, c), TCONV_OK);
            cr_assert_eq(memcmp(a, b, bytes), 0, "kind %d dtype %d: same seed, other bits",
                         (int)random_kinds[k], t);
            double *va = tu_from_dtype(d.dtype, a, n), *vc = tu_from_dtype(d.dtype, c, n);
            int64_t same = 0;
            for (int64_t i = 0; i < n; i++) same += va[i] == vc[i];
            cr_assert_lt(same, 2, "kind %d: seeds 42 and 43 agree on %lld of %lld weights",
                         (int)random_kinds[k], (long long)same, (long long)n);
            free(va); free(vc); free(a); free(b); free(c);
        }
}

/* The library's normal weights (HE, narrow-normal) against Box-Muller
 * computed here in long double with the C library's logl and cosl from the
 * same generator blocks: within a few ulp on every ISA and machine that runs
 * the suite (NEON under qemu included). An independent check of the values,
 * not of the bits; bit identity across machines follows from the scalar SLEEF
 * functions the library uses (kernels/init/initializers.c). */
Test(philox, normals_are_box_muller_of_the_generator)
{
    const tconv_desc d = make_desc(4, 6, 3, 2, 2, TCONV_F64, TCONV_W_MATLAB);
    const int64_t n = w_elems(&d);
    const double num_in = 3.0 * 2.0 * 4.0 / 2.0; /* kh * kw * C / groups */
    const tconv_initializer kinds[2] = {TCONV_INIT_HE, TCONV_INIT_NARROW_NORMAL};
    const double sd[2] = {sqrt(2.0 / num_in), 0.01};
    for (int k = 0; k < 2; k++) {
        double *w = init_w(&d, kinds[k], 2026);
        for (int64_t i = 0; i < n; i++) {
            uint32_t blk[4];
            tconv_philox_block(2026, (uint64_t)i, blk);
            const uint64_t b01 = ((((uint64_t)blk[1]) << 32) | blk[0]) >> 11;
            const uint64_t b23 = ((((uint64_t)blk[3]) << 32) | blk[2]) >> 11;
            const long double u1 = ((long double)b01 + 1.0L) / 9007199254740992.0L;
            const long double u2 = (long double)b23 / 9007199254740992.0L;
            const long double z = sqrtl(-2.0L * logl(u1)) *
                                  cosl(6.283185307179586476925286766559L * u2);
            const double expect = (double)((long double)sd[k] * z);
            const double tol = 8.0 * 2.220446049250313e-16 * (fabs(expect) + 1e-300) + 1e-300;
            cr_assert(fabs(w[i] - expect) <= tol || fabs(w[i] - expect) <= 1e-15 * sd[k],
                      "kind %d element %lld: %.17g, Box-Muller gives %.17g", (int)kinds[k],
                      (long long)i, w[i], expect);
        }
        free(w);
    }
}

Test(init, same_logical_weights_in_every_layout_and_dtype)
{
    const int64_t groups[] = {1, 3};
    for (size_t gi = 0; gi < 2; gi++)
        for (size_t k = 0; k < 3; k++) {
            const tconv_desc d0 = make_desc(6, 9, 3, 2, groups[gi], TCONV_F64, TCONV_W_IOHW);
            const int64_t n = w_elems(&d0);
            double *w0 = init_w(&d0, random_kinds[k], 7);
            double *ref = logical_w(&d0, w0);
            free(w0);
            for (size_t l = 0; l < 3; l++)
                for (int t = 0; t < 2; t++) {
                    const tconv_desc d = make_desc(6, 9, 3, 2, groups[gi], (tconv_dtype)t,
                                                   all_wl[l]);
                    double *w = init_w(&d, random_kinds[k], 7);
                    double *lw = logical_w(&d, w);
                    for (int64_t i = 0; i < n; i++) {
                        const double want = t ? ref[i] : (double)(float)ref[i];
                        cr_assert_eq(lw[i], want,
                                     "groups %lld kind %d layout %d dtype %d element %lld: %.17g "
                                     "vs %.17g",
                                     (long long)groups[gi], (int)random_kinds[k], (int)all_wl[l],
                                     t, (long long)i, lw[i], want);
                    }
                    free(w);
                    free(lw);
                }
            free(ref);
        }
}

/* ------------------------------------------------------------------------ */
/* Distributions                                                             */
/* ------------------------------------------------------------------------ */

/* 64 x 64 channels, 5 x 5 taps: 102400 weights. */
static double *big_draw(tconv_initializer kind, int64_t groups, tconv_dtype t, int64_t *n)
{
    const tconv_desc d = make_desc(64, 64, 5, 5, groups, t, TCONV_W_OHWI);
    *n = w_elems(&d);
    return init_w(&d, kind, 12345);
}

/* mean within 5 standard errors of 0 and E[x^2] within 5 of var, where the
 * variance of x^2 is var_x2. */
static void check_moments(const double *v, int64_t n, double var, double var_x2, const char *what)
{
    const double mean = mean_of(v, n), m2 = second_moment(v, n);
    const double se_mean = sqrt(var / (double)n), se_m2 = sqrt(var_x2 / (double)n);
    cr_assert_lt(fabs(mean), 5 * se_mean, "%s: mean %g, standard error %g", what, mean, se_mean);
    cr_assert_lt(fabs(m2 - var), 5 * se_m2, "%s: variance %g, expected %g (standard error %g)",
                 what, m2, var, se_m2);
}

Test(init, glorot_bounds_and_moments)
{
    const int64_t groups[] = {1, 4};
    for (int gi = 0; gi < 2; gi++)
        for (int t = 0; t < 2; t++) {
            int64_t n;
            double *v = big_draw(TCONV_INIT_GLOROT, groups[gi], (tconv_dtype)t, &n);
            const double fan = 25.0 * 64 / (double)groups[gi];
            const double b = sqrt(6.0 / (fan + fan));
            const double bt = t ? b : (double)(float)b;
            for (int64_t i = 0; i < n; i++)
                cr_assert(v[i] >= -bt && v[i] <= bt, "groups %lld: %g outside [-%g, %g]",
                          (long long)groups[gi], v[i], b, b);
            /* U(-b, b): variance b^2/3, E[x^4] = b^4/5. */
            const double var = b * b / 3, var_x2 = b * b * b * b / 5 - var * var;
            check_moments(v, n, var, var_x2, "glorot");
            free(v);
        }
}

Test(init, he_moments)
{
    const int64_t groups[] = {1, 4};
    for (int gi = 0; gi < 2; gi++)
        for (int t = 0; t < 2; t++) {
            int64_t n;
            double *v = big_draw(TCONV_INIT_HE, groups[gi], (tconv_dtype)t, &n);
            const double var = 2.0 / (25.0 * 64 / (double)groups[gi]);
            check_moments(v, n, var, 2 * var * var, "he");
            free(v);
        }
}

Test(init, narrow_normal_moments)
{
    for (int t = 0; t < 2; t++) {
        int64_t n;
        double *v = big_draw(TCONV_INIT_NARROW_NORMAL, 2, (tconv_dtype)t, &n);
        const double var = 1e-4;
        check_moments(v, n, var, 2 * var * var, "narrow-normal");
        /* A normal's tails: about 0.27% beyond 3 sd, none beyond 7 sd here. */
        int64_t beyond3 = 0;
        for (int64_t i = 0; i < n; i++) {
            cr_assert_lt(fabs(v[i]), 0.07);
            beyond3 += fabs(v[i]) > 0.03;
        }
        cr_assert(beyond3 > n / 1000 && beyond3 < n / 200, "%lld of %lld beyond 3 sd",
                  (long long)beyond3, (long long)n);
        free(v);
    }
}

Test(init, zeros_and_ones_exact)
{
    for (size_t l = 0; l < 3; l++)
        for (int t = 0; t < 2; t++) {
            const tconv_desc d = make_desc(4, 6, 3, 2, 2, (tconv_dtype)t, all_wl[l]);
            const int64_t n = w_elems(&d);
            double *z = init_w(&d, TCONV_INIT_ZEROS, 1), *o = init_w(&d, TCONV_INIT_ONES, 1);
            for (int64_t i = 0; i < n; i++) {
                cr_assert_eq(z[i], 0.0);
                cr_assert_eq(o[i], 1.0);
            }
            free(z);
            free(o);
            double *b = malloc(6 * sizeof *b);
            void *raw = malloc(6 * 8);
            cr_assert(b && raw);
            cr_assert_eq(tconv_init_bias(&d, TCONV_INIT_ONES, 9, NULL, NULL, raw), TCONV_OK);
            double *ones = tu_from_dtype(d.dtype, raw, 6);
            cr_assert_eq(tconv_init_bias(&d, TCONV_INIT_ZEROS, 9, NULL, NULL, raw), TCONV_OK);
            double *zeros = tu_from_dtype(d.dtype, raw, 6);
            for (int f = 0; f < 6; f++) {
                cr_assert_eq(ones[f], 1.0);
                cr_assert_eq(zeros[f], 0.0);
            }
            free(ones); free(zeros); free(b); free(raw);
        }
}

Test(init, bias_narrow_normal)
{
    tconv_desc d = make_desc(4, 4000, 1, 1, 1, TCONV_F64, TCONV_W_IOHW);
    double *a = malloc(4000 * sizeof *a), *b = malloc(4000 * sizeof *b);
    float *c = malloc(4000 * sizeof *c);
    cr_assert(a && b && c);
    cr_assert_eq(tconv_init_bias(&d, TCONV_INIT_NARROW_NORMAL, 5, NULL, NULL, a), TCONV_OK);
    cr_assert_eq(tconv_init_bias(&d, TCONV_INIT_NARROW_NORMAL, 5, NULL, NULL, b), TCONV_OK);
    cr_assert_eq(memcmp(a, b, 4000 * sizeof *a), 0);
    d.dtype = TCONV_F32;
    cr_assert_eq(tconv_init_bias(&d, TCONV_INIT_NARROW_NORMAL, 5, NULL, NULL, c), TCONV_OK);
    for (int f = 0; f < 4000; f++) cr_assert_eq(c[f], (float)a[f]);
    check_moments(a, 4000, 1e-4, 2e-8, "bias narrow-normal");
    free(a); free(b); free(c);
}

/* ------------------------------------------------------------------------ */
/* Custom initializers                                                       */
/* ------------------------------------------------------------------------ */

typedef struct seen {
    int calls, ndims;
    int64_t size[8];
    tconv_dtype dtype;
} seen;

/* Writes each element's column-major linear index + 1 as its value. */
static void index_fill(void *ctx, const int64_t *size, int ndims, tconv_dtype dtype, void *out)
{
    seen *s = ctx;
    s->calls++;
    s->ndims = ndims;
    s->dtype = dtype;
    int64_t n = 1;
    for (int i = 0; i < ndims && i < 8; i++) {
        s->size[i] = size[i];
        n *= size[i];
    }
    for (int64_t i = 0; i < n; i++) {
        if (dtype == TCONV_F64) ((double *)out)[i] = (double)(i + 1);
        else ((float *)out)[i] = (float)(i + 1);
    }
}

Test(init, custom_weights_in_matlab_order)
{
    const int64_t groups[] = {1, 2};
    for (size_t gi = 0; gi < 2; gi++)
        for (size_t l = 0; l < 3; l++)
            for (int t = 0; t < 2; t++) {
                const int64_t C = 4, F = 6, KH = 3, KW = 2, G = groups[gi];
                const tconv_desc d = make_desc(C, F, KH, KW, G, (tconv_dtype)t, all_wl[l]);
                const tu_shape s = tu_shape_of(&d);
                const int64_t n = w_elems(&d);
                void *raw = malloc((size_t)n * 8);
                cr_assert_not_null(raw);
                seen sn = {0};
                cr_assert_eq(tconv_init_weights(&d, TCONV_INIT_CUSTOM, 0, index_fill, &sn, raw),
                             TCONV_OK, "%s", tconv_last_error());
                cr_assert_eq(sn.calls, 1);
                cr_assert_eq(sn.dtype, d.dtype);
                if (G == 1) {
                    cr_assert_eq(sn.ndims, 4);
                    const int64_t want[4] = {KH, KW, F, C};
                    for (int i = 0; i < 4; i++) cr_assert_eq(sn.size[i], want[i]);
                } else {
                    cr_assert_eq(sn.ndims, 5);
                    const int64_t want[5] = {KH, KW, F / G, C / G, G};
                    for (int i = 0; i < 5; i++) cr_assert_eq(sn.size[i], want[i]);
                }
                double *w = tu_from_dtype(d.dtype, raw, n);
                /* Element (i, j, k, l, g) of MATLAB's array is logical weight
                 * (c = g*Cg + l, m = k, kh = i, kw = j). */
                for (int64_t g = 0; g < G; g++)
                    for (int64_t ll = 0; ll < C / G; ll++)
                        for (int64_t k = 0; k < F / G; k++)
                            for (int64_t j = 0; j < KW; j++)
                                for (int64_t i = 0; i < KH; i++) {
                                    const int64_t lin =
                                        i + KH * (j + KW * (k + (F / G) * (ll + (C / G) * g)));
                                    const double got =
                                        w[tu_w_offset(&d, &s, g * (C / G) + ll, k, i, j)];
                                    cr_assert_eq(got, (double)(lin + 1),
                                                 "layout %d groups %lld (%lld,%lld,%lld,%lld,%lld)",
                                                 (int)all_wl[l], (long long)G, (long long)i,
                                                 (long long)j, (long long)k, (long long)ll,
                                                 (long long)g);
                                }
                free(w);
                free(raw);
            }
}

Test(init, custom_bias)
{
    for (int t = 0; t < 2; t++) {
        const tconv_desc d = make_desc(4, 6, 3, 2, 2, (tconv_dtype)t, TCONV_W_MATLAB);
        void *raw = malloc(6 * 8);
        cr_assert_not_null(raw);
        seen sn = {0};
        cr_assert_eq(tconv_init_bias(&d, TCONV_INIT_CUSTOM, 0, index_fill, &sn, raw), TCONV_OK);
        cr_assert_eq(sn.calls, 1);
        cr_assert_eq(sn.ndims, 3);
        cr_assert_eq(sn.size[0], 1);
        cr_assert_eq(sn.size[1], 1);
        cr_assert_eq(sn.size[2], 6);
        cr_assert_eq(sn.dtype, d.dtype);
        double *b = tu_from_dtype(d.dtype, raw, 6);
        for (int f = 0; f < 6; f++) cr_assert_eq(b[f], (double)(f + 1));
        free(b);
        free(raw);
    }
}

/* ------------------------------------------------------------------------ */
/* SGDM                                                                      */
/* ------------------------------------------------------------------------ */

/* MATLAB's SGDM, transcribed per element (f64). */
static void sgdm_ref64(int64_t n, double *th, const double *gr, double *v, double lr, double mom,
                       double l2, double rate_factor, double l2_factor)
{
    if (rate_factor == 0) return;
    const double l2e = l2 * l2_factor, rate = lr * rate_factor;
    for (int64_t i = 0; i < n; i++) {
        const double g = gr[i] + l2e * th[i];
        v[i] = mom * v[i] - rate * g;
        th[i] = th[i] + v[i];
    }
}

/* The same in float (the coefficients rounded to float once). */
static void sgdm_ref32(int64_t n, float *th, const float *gr, float *v, double lr, double mom,
                       double l2, double rate_factor, double l2_factor)
{
    if (rate_factor == 0) return;
    const float l2e = (float)(l2 * l2_factor), rate = (float)(lr * rate_factor);
    const float mu = (float)mom;
    for (int64_t i = 0; i < n; i++) {
        const float g = gr[i] + l2e * th[i];
        v[i] = mu * v[i] - rate * g;
        th[i] = th[i] + v[i];
    }
}

static void run_sgdm_case(tconv_dtype t, const tconv_train_factors *f, const tconv_sgdm *o,
                          int with_bias)
{
    const tconv_desc d = make_desc(6, 8, 3, 3, 2, t, TCONV_W_OHWI);
    const int64_t n = w_elems(&d), nb = 8;
    const size_t es = t == TCONV_F64 ? 8 : 4;
    tu_rng r = {99};
    double *init = malloc((size_t)(n + nb) * sizeof *init);
    cr_assert_not_null(init);
    tu_fill(&r, init, n + nb);
    void *w = tu_to_dtype(t, init, n), *b = tu_to_dtype(t, init + n, nb);
    void *rw = tu_to_dtype(t, init, n), *rb = tu_to_dtype(t, init + n, nb);
    void *vw = calloc((size_t)n, es), *vb = calloc((size_t)nb, es);
    void *rvw = calloc((size_t)n, es), *rvb = calloc((size_t)nb, es);
    cr_assert(vw && vb && rvw && rvb);
    for (int step = 0; step < 5; step++) {
        tu_fill(&r, init, n + nb); /* new gradients */
        void *dw = tu_to_dtype(t, init, n), *db = tu_to_dtype(t, init + n, nb);
        tconv_status st = tconv_sgdm_step(&d, f, o, w, dw, vw, with_bias ? b : NULL,
                                          with_bias ? db : NULL, with_bias ? vb : NULL);
        cr_assert_eq(st, TCONV_OK, "%s", tconv_last_error());
        if (t == TCONV_F64) {
            sgdm_ref64(n, rw, dw, rvw, o->learn_rate, o->momentum, o->l2_regularization,
                       f->weight_learn_rate_factor, f->weight_l2_factor);
            if (with_bias)
                sgdm_ref64(nb, rb, db, rvb, o->learn_rate, o->momentum, o->l2_regularization,
                           f->bias_learn_rate_factor, f->bias_l2_factor);
        } else {
            sgdm_ref32(n, rw, dw, rvw, o->learn_rate, o->momentum, o->l2_regularization,
                       f->weight_learn_rate_factor, f->weight_l2_factor);
            if (with_bias)
                sgdm_ref32(nb, rb, db, rvb, o->learn_rate, o->momentum, o->l2_regularization,
                           f->bias_learn_rate_factor, f->bias_l2_factor);
        }
        free(dw);
        free(db);
    }
    double *a[4] = {tu_from_dtype(t, w, n), tu_from_dtype(t, vw, n), tu_from_dtype(t, b, nb),
                    tu_from_dtype(t, vb, nb)};
    double *e[4] = {tu_from_dtype(t, rw, n), tu_from_dtype(t, rvw, n), tu_from_dtype(t, rb, nb),
                    tu_from_dtype(t, rvb, nb)};
    const int64_t len[4] = {n, n, nb, nb};
    const double tol = t == TCONV_F64 ? 1e-14 : 1e-6;
    for (int k = 0; k < 4; k++) {
        for (int64_t i = 0; i < len[k]; i++)
            cr_assert_leq(fabs(a[k][i] - e[k][i]), tol * (1 + fabs(e[k][i])),
                          "dtype %d array %d element %lld: %.17g vs %.17g", (int)t, k,
                          (long long)i, a[k][i], e[k][i]);
        free(a[k]);
        free(e[k]);
    }
    free(init); free(w); free(b); free(rw); free(rb); free(vw); free(vb); free(rvw); free(rvb);
}

Test(sgdm, defaults)
{
    tconv_train_factors f;
    tconv_sgdm o;
    tconv_train_factors_init(&f);
    tconv_sgdm_init(&o);
    cr_assert_eq(f.weight_learn_rate_factor, 1.0);
    cr_assert_eq(f.bias_learn_rate_factor, 1.0);
    cr_assert_eq(f.weight_l2_factor, 1.0);
    cr_assert_eq(f.bias_l2_factor, 0.0);
    cr_assert_eq(o.learn_rate, 0.01);
    cr_assert_eq(o.momentum, 0.9);
    cr_assert_eq(o.l2_regularization, 1e-4);
    tconv_train_factors_init(NULL);
    tconv_sgdm_init(NULL);
}

Test(sgdm, matches_transcription)
{
    tconv_train_factors f;
    tconv_sgdm o;
    tconv_train_factors_init(&f);
    tconv_sgdm_init(&o);
    for (int t = 0; t < 2; t++) {
        run_sgdm_case((tconv_dtype)t, &f, &o, 1);
        /* Other factors and options. */
        tconv_train_factors f2 = {2.5, 0.5, 3.0, 1.5};
        tconv_sgdm o2 = {0.1, 0.5, 0.01};
        run_sgdm_case((tconv_dtype)t, &f2, &o2, 1);
        tconv_sgdm o3 = {0.05, 0.0, 0.0};
        run_sgdm_case((tconv_dtype)t, &f2, &o3, 1);
    }
}

Test(sgdm, frozen_and_no_bias)
{
    for (int t = 0; t < 2; t++) {
        tconv_sgdm o;
        tconv_sgdm_init(&o);
        tconv_train_factors frozen_w = {0, 1, 1, 0}, frozen_b = {1, 0, 1, 1};
        run_sgdm_case((tconv_dtype)t, &frozen_w, &o, 1);
        run_sgdm_case((tconv_dtype)t, &frozen_b, &o, 1);
        tconv_train_factors f;
        tconv_train_factors_init(&f);
        run_sgdm_case((tconv_dtype)t, &f, &o, 0);
    }
}

/* Frozen weights: exactly unchanged, velocity too (not only "close"). */
Test(sgdm, frozen_weights_untouched)
{
    const tconv_desc d = make_desc(2, 2, 2, 2, 1, TCONV_F64, TCONV_W_IOHW);
    double w[16], dw[16], v[16];
    for (int i = 0; i < 16; i++) { w[i] = i; dw[i] = 1; v[i] = 0.5; }
    tconv_train_factors f = {0, 1, 1, 0};
    tconv_sgdm o;
    tconv_sgdm_init(&o);
    cr_assert_eq(tconv_sgdm_step(&d, &f, &o, w, dw, v, NULL, NULL, NULL), TCONV_OK);
    for (int i = 0; i < 16; i++) {
        cr_assert_eq(w[i], (double)i);
        cr_assert_eq(v[i], 0.5);
    }
}

/* ------------------------------------------------------------------------ */
/* Bad input                                                                 */
/* ------------------------------------------------------------------------ */

static void fill_ignore(void *ctx, const int64_t *size, int ndims, tconv_dtype dtype, void *out)
{
    (void)ctx; (void)size; (void)ndims; (void)dtype; (void)out;
}

Test(errors, initializers)
{
    tconv_desc d = make_desc(4, 6, 3, 2, 2, TCONV_F32, TCONV_W_IOHW);
    float w[4 * 3 * 3 * 2], b[6];
    cr_assert_eq(tconv_init_weights(NULL, TCONV_INIT_GLOROT, 0, NULL, NULL, w), TCONV_EINVAL);
    expect_msg("desc", NULL);
    cr_assert_eq(tconv_init_bias(NULL, TCONV_INIT_ZEROS, 0, NULL, NULL, b), TCONV_EINVAL);
    expect_msg("desc", NULL);
    tconv_desc bad = d;
    bad.channels = 0;
    cr_assert_eq(tconv_init_weights(&bad, TCONV_INIT_GLOROT, 0, NULL, NULL, w), TCONV_EINVAL);
    expect_msg("channels", "0");
    bad = d;
    bad.groups = 3;
    cr_assert_eq(tconv_init_bias(&bad, TCONV_INIT_ZEROS, 0, NULL, NULL, b), TCONV_EINVAL);
    expect_msg("groups", "3");
    cr_assert_eq(tconv_init_weights(&d, TCONV_INIT_GLOROT, 0, NULL, NULL, NULL), TCONV_EINVAL);
    expect_msg("w", NULL);
    cr_assert_eq(tconv_init_bias(&d, TCONV_INIT_ZEROS, 0, NULL, NULL, NULL), TCONV_EINVAL);
    expect_msg("bias", NULL);
    cr_assert_eq(tconv_init_weights(&d, (tconv_initializer)6, 0, NULL, NULL, w), TCONV_EINVAL);
    expect_msg("kind", "6");
    cr_assert_eq(tconv_init_weights(&d, (tconv_initializer)-1, 0, NULL, NULL, w), TCONV_EINVAL);
    expect_msg("kind", "-1");
    cr_assert_eq(tconv_init_bias(&d, (tconv_initializer)77, 0, NULL, NULL, b), TCONV_EINVAL);
    expect_msg("kind", "77");
    cr_assert_eq(tconv_init_bias(&d, TCONV_INIT_GLOROT, 0, NULL, NULL, b), TCONV_EINVAL);
    expect_msg("kind", "0");
    cr_assert_eq(tconv_init_bias(&d, TCONV_INIT_HE, 0, NULL, NULL, b), TCONV_EINVAL);
    expect_msg("kind", "1");
    cr_assert_eq(tconv_init_weights(&d, TCONV_INIT_CUSTOM, 0, NULL, NULL, w), TCONV_EINVAL);
    expect_msg("fn", NULL);
    cr_assert_eq(tconv_init_bias(&d, TCONV_INIT_CUSTOM, 0, NULL, NULL, b), TCONV_EINVAL);
    expect_msg("fn", NULL);
    /* fn is ignored by the other kinds. */
    cr_assert_eq(tconv_init_weights(&d, TCONV_INIT_ONES, 0, fill_ignore, NULL, w), TCONV_OK);
}

Test(errors, sgdm)
{
    const tconv_desc d = make_desc(2, 2, 2, 2, 1, TCONV_F64, TCONV_W_IOHW);
    double w[16] = {0}, dw[16] = {0}, v[16] = {0}, b[2] = {0}, db[2] = {0}, vb[2] = {0};
    double big[40] = {0};
    tconv_train_factors f;
    tconv_sgdm o;
    tconv_train_factors_init(&f);
    tconv_sgdm_init(&o);
    cr_assert_eq(tconv_sgdm_step(NULL, &f, &o, w, dw, v, b, db, vb), TCONV_EINVAL);
    expect_msg("desc", NULL);
    tconv_desc bad = d;
    bad.filter_h = -2;
    cr_assert_eq(tconv_sgdm_step(&bad, &f, &o, w, dw, v, b, db, vb), TCONV_EINVAL);
    expect_msg("filter_h", "-2");
    cr_assert_eq(tconv_sgdm_step(&d, NULL, &o, w, dw, v, b, db, vb), TCONV_EINVAL);
    expect_msg("f", NULL);
    cr_assert_eq(tconv_sgdm_step(&d, &f, NULL, w, dw, v, b, db, vb), TCONV_EINVAL);
    expect_msg("o", NULL);

    const struct { double lr, mom, l2; const char *field, *value; } opts[] = {
        {-1, 0.9, 0, "learn_rate", "-1"},       {NAN, 0.9, 0, "learn_rate", "nan"},
        {INFINITY, 0.9, 0, "learn_rate", "inf"}, {0.01, 1.0, 0, "momentum", "1"},
        {0.01, -0.5, 0, "momentum", "-0.5"},     {0.01, NAN, 0, "momentum", "nan"},
        {0.01, 0.9, -2, "l2_regularization", "-2"},
        {0.01, 0.9, INFINITY, "l2_regularization", "inf"},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        tconv_sgdm ob = {opts[i].lr, opts[i].mom, opts[i].l2};
        cr_assert_eq(tconv_sgdm_step(&d, &f, &ob, w, dw, v, b, db, vb), TCONV_EINVAL, "%s",
                     opts[i].field);
        expect_msg(opts[i].field, opts[i].value);
    }
    const char *names[4] = {"weight_learn_rate_factor", "bias_learn_rate_factor",
                            "weight_l2_factor", "bias_l2_factor"};
    const double vals[3] = {-3, NAN, INFINITY};
    const char *vstr[3] = {"-3", "nan", "inf"};
    for (int k = 0; k < 4; k++)
        for (int j = 0; j < 3; j++) {
            tconv_train_factors fb;
            tconv_train_factors_init(&fb);
            double *fields[4] = {&fb.weight_learn_rate_factor, &fb.bias_learn_rate_factor,
                                 &fb.weight_l2_factor, &fb.bias_l2_factor};
            *fields[k] = vals[j];
            cr_assert_eq(tconv_sgdm_step(&d, &fb, &o, w, dw, v, b, db, vb), TCONV_EINVAL);
            expect_msg(names[k], vstr[j]);
        }

    cr_assert_eq(tconv_sgdm_step(&d, &f, &o, NULL, dw, v, b, db, vb), TCONV_EINVAL);
    expect_msg("w is NULL", NULL);
    cr_assert_eq(tconv_sgdm_step(&d, &f, &o, w, NULL, v, b, db, vb), TCONV_EINVAL);
    expect_msg("dw is NULL", NULL);
    cr_assert_eq(tconv_sgdm_step(&d, &f, &o, w, dw, NULL, b, db, vb), TCONV_EINVAL);
    expect_msg("w_velocity is NULL", NULL);
    cr_assert_eq(tconv_sgdm_step(&d, &f, &o, w, dw, v, b, NULL, vb), TCONV_EINVAL);
    expect_msg("dbias", NULL);
    cr_assert_eq(tconv_sgdm_step(&d, &f, &o, w, dw, v, NULL, db, NULL), TCONV_EINVAL);
    expect_msg("bias_velocity", NULL);
    cr_assert_eq(tconv_sgdm_step(&d, &f, &o, w, dw, v, b, db, NULL), TCONV_EINVAL);
    expect_msg("bias_velocity", NULL);

    /* Overlaps: the same buffer twice, a partial overlap, bias against weights. */
    cr_assert_eq(tconv_sgdm_step(&d, &f, &o, w, w, v, NULL, NULL, NULL), TCONV_EINVAL);
    expect_msg("overlap", NULL);
    expect_msg("dw", NULL);
    cr_assert_eq(tconv_sgdm_step(&d, &f, &o, big, dw, big + 8, NULL, NULL, NULL), TCONV_EINVAL);
    expect_msg("w_velocity", NULL);
    cr_assert_eq(tconv_sgdm_step(&d, &f, &o, big, dw, big + 16, big + 32, db, big + 33),
                 TCONV_EINVAL);
    expect_msg("bias_velocity", NULL);
    cr_assert_eq(tconv_sgdm_step(&d, &f, &o, w, dw, v, b, w + 15, vb), TCONV_EINVAL);
    expect_msg("dbias", NULL);
    /* Adjacent, not overlapping: fine. */
    cr_assert_eq(tconv_sgdm_step(&d, &f, &o, big, dw, big + 16, big + 32, db, big + 34),
                 TCONV_OK, "%s", tconv_last_error());
}
