/*
 * The library against hand-computed cases.
 *
 * Every expected output below is a literal worked out by hand from the
 * definition in include/tconv.h and design/semantics.md; the comment next to
 * it shows the working. Nothing expected is computed by code, except in the
 * all-layouts tests, which compare every layout pair against the NCHW/IOHW
 * result and tu_forward_scatter and then check a few hand-computed entries.
 *
 * Every case runs in f32 and f64, with the default plan and with
 * TCONV_PLAN_REFERENCE.
 *
 * Comparisons are exact (==). All inputs are small integers (or, for a bias,
 * a half-integer) and every product and partial sum is an integer (or
 * half-integer) far below 2^24, so both f32 and f64 hold every intermediate
 * value exactly, whatever order the kernel sums in. Any difference at all is
 * a bug. Output buffers are filled with NaN first, so an output position that
 * is never written (or is accumulated into) fails too.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tconv.h>

#include "testutil.h"

#define LEN(a) ((int64_t)(sizeof(a) / sizeof((a)[0])))

static const tconv_dtype DTYPES[] = {TCONV_F32, TCONV_F64};
static const unsigned FLAGS[] = {0u, TCONV_PLAN_REFERENCE};

static const char *dtype_name(tconv_dtype t) { return t == TCONV_F32 ? "f32" : "f64"; }
static const char *flags_name(unsigned f) { return f ? "reference plan" : "default plan"; }

static const char *layout_name(tconv_layout l)
{
    return l == TCONV_NCHW ? "NCHW" : l == TCONV_NHWC ? "NHWC" : "SSCB";
}

static const char *wlayout_name(tconv_weight_layout l)
{
    return l == TCONV_W_IOHW ? "W_IOHW" : l == TCONV_W_OHWI ? "W_OHWI" : "W_MATLAB";
}

/* A desc with everything but sizes and strides left at the defaults. */
static tconv_desc make_desc(int64_t n, int64_t c, int64_t ih, int64_t iw, int64_t f, int64_t kh,
                            int64_t kw, int64_t sh, int64_t sw)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.batch = n;
    d.channels = c;
    d.in_h = ih;
    d.in_w = iw;
    d.filters = f;
    d.filter_h = kh;
    d.filter_w = kw;
    d.stride_h = sh;
    d.stride_w = sw;
    return d;
}

static double *nan_buf(int64_t n)
{
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    cr_assert_not_null(v, "out of memory");
    for (int64_t i = 0; i < n; i++) v[i] = NAN;
    return v;
}

/* Exact element-wise comparison (see the header comment for why exact). */
static void expect_exact(const char *ctx, const char *what, const double *got, const double *want,
                         int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        cr_expect(got[i] == want[i], "%s: %s[%lld] = %.17g, expected %.17g", ctx, what,
                  (long long)i, got[i], want[i]);
}

static tconv_plan *make_plan(const char *ctx, const tconv_desc *d, unsigned flags)
{
    tconv_plan *p = NULL;
    tconv_status st = tconv_plan_create(&p, d, flags);
    cr_assert_eq(st, TCONV_OK, "%s: tconv_plan_create: %s (%s)", ctx, tconv_strerror(st),
                 tconv_last_error());
    cr_assert_not_null(p, "%s: tconv_plan_create returned OK but no plan", ctx);
    return p;
}

static void expect_crops(const char *name, const tconv_desc *d, int64_t t, int64_t b, int64_t l,
                         int64_t r)
{
    int64_t c[4] = {-99, -99, -99, -99};
    tconv_status st = tconv_desc_effective_crops(d, c);
    cr_assert_eq(st, TCONV_OK, "%s: tconv_desc_effective_crops: %s", name, tconv_last_error());
    cr_expect(c[0] == t && c[1] == b && c[2] == l && c[3] == r,
              "%s: effective crops {%lld,%lld,%lld,%lld}, expected {%lld,%lld,%lld,%lld}", name,
              (long long)c[0], (long long)c[1], (long long)c[2], (long long)c[3], (long long)t,
              (long long)b, (long long)l, (long long)r);
}

/* Forward of base (its dtype is overridden) in both dtypes and with both plan
 * flags; x, w, bias in the desc's layouts; want has want_n elements in the
 * desc's data layout and the output must be want_oh x want_ow. */
static void check_forward(const char *name, const tconv_desc *base, const double *x, int64_t nx,
                          const double *w, int64_t nw, const double *bias, int64_t want_oh,
                          int64_t want_ow, const double *want, int64_t want_n)
{
    tu_shape s = tu_shape_of(base);
    cr_assert_eq(tu_x_elems(&s), nx, "%s: x literal has %lld values, expected %lld", name,
                 (long long)nx, (long long)tu_x_elems(&s));
    cr_assert_eq(tu_w_elems(&s), nw, "%s: w literal has %lld values, expected %lld", name,
                 (long long)nw, (long long)tu_w_elems(&s));
    for (size_t di = 0; di < 2; di++)
        for (size_t fi = 0; fi < 2; fi++) {
            char ctx[256];
            snprintf(ctx, sizeof ctx, "%s [%s, %s]", name, dtype_name(DTYPES[di]),
                     flags_name(FLAGS[fi]));
            tconv_desc d = *base;
            d.dtype = DTYPES[di];
            int64_t oh = -1, ow = -1;
            tconv_status st = tconv_desc_output(&d, &oh, &ow);
            cr_assert_eq(st, TCONV_OK, "%s: tconv_desc_output: %s", ctx, tconv_last_error());
            cr_assert(oh == want_oh && ow == want_ow, "%s: output %lldx%lld, expected %lldx%lld",
                      ctx, (long long)oh, (long long)ow, (long long)want_oh, (long long)want_ow);
            int64_t ny = d.batch * d.filters * oh * ow;
            cr_assert_eq(ny, want_n, "%s: expected literal has %lld values for %lld outputs", ctx,
                         (long long)want_n, (long long)ny);
            tconv_plan *p = make_plan(ctx, &d, FLAGS[fi]);
            double *y = nan_buf(ny);
            st = tu_run_forward(p, &d, x, w, bias, y);
            cr_assert_eq(st, TCONV_OK, "%s: tconv_forward: %s (%s)", ctx, tconv_strerror(st),
                         tconv_last_error());
            expect_exact(ctx, "y", y, want, ny);
            free(y);
            tconv_plan_destroy(p);
        }
}

#define CHECK_FWD(name, d, x, w, bias, oh, ow, want) \
    check_forward(name, &(d), x, LEN(x), w, LEN(w), bias, oh, ow, want, LEN(want))

/* backward_data (when want_dx) and backward_weights (when want_dw; with and
 * without dbias) in both dtypes and with both plan flags. */
static void check_backward(const char *name, const tconv_desc *base, const double *x,
                           const double *w, const double *dy, int64_t ndy, const double *want_dx,
                           const double *want_dw, const double *want_dbias)
{
    tu_shape s = tu_shape_of(base);
    int64_t nx = tu_x_elems(&s), nw = tu_w_elems(&s);
    cr_assert_eq(tu_y_elems(&s), ndy, "%s: dy literal has %lld values, expected %lld", name,
                 (long long)ndy, (long long)tu_y_elems(&s));
    for (size_t di = 0; di < 2; di++)
        for (size_t fi = 0; fi < 2; fi++) {
            char ctx[256];
            snprintf(ctx, sizeof ctx, "%s [%s, %s]", name, dtype_name(DTYPES[di]),
                     flags_name(FLAGS[fi]));
            tconv_desc d = *base;
            d.dtype = DTYPES[di];
            tconv_plan *p = make_plan(ctx, &d, FLAGS[fi]);
            tconv_status st;
            if (want_dx) {
                double *dx = nan_buf(nx);
                st = tu_run_backward_data(p, &d, dy, w, dx);
                cr_assert_eq(st, TCONV_OK, "%s: tconv_backward_data: %s (%s)", ctx,
                             tconv_strerror(st), tconv_last_error());
                expect_exact(ctx, "dx", dx, want_dx, nx);
                free(dx);
            }
            if (want_dw) {
                double *dw = nan_buf(nw), *db = nan_buf(d.filters);
                st = tu_run_backward_weights(p, &d, x, dy, dw, want_dbias ? db : NULL);
                cr_assert_eq(st, TCONV_OK, "%s: tconv_backward_weights: %s (%s)", ctx,
                             tconv_strerror(st), tconv_last_error());
                expect_exact(ctx, "dw", dw, want_dw, nw);
                if (want_dbias) expect_exact(ctx, "dbias", db, want_dbias, d.filters);
                if (want_dbias) {
                    /* again without dbias: dw must not change */
                    double *dw2 = nan_buf(nw);
                    st = tu_run_backward_weights(p, &d, x, dy, dw2, NULL);
                    cr_assert_eq(st, TCONV_OK, "%s: tconv_backward_weights (dbias NULL): %s", ctx,
                                 tconv_last_error());
                    expect_exact(ctx, "dw (dbias NULL)", dw2, want_dw, nw);
                    free(dw2);
                }
                free(dw);
                free(db);
            }
            tconv_plan_destroy(p);
        }
}

/* ------------------------------------------------------------------------ */
/* MATLAB Cropping "same", 1-D, x = [1 2 3]                                  */
/* ------------------------------------------------------------------------ */

typedef struct same_case {
    const char *name;
    int64_t stride, k;
    double w[4];
    int64_t out;                   /* in * stride = 3 * stride */
    int64_t crop_begin, crop_end;  /* total = k - stride; floor/ceil halves, or 0 / total */
    double want[9];                /* no bias */
    double want_b[9];              /* bias 7: want + 7 */
} same_case;

static const double SAME_X[3] = {1, 2, 3};

static const same_case SAME_CASES[] = {
    /* x0*w at 0..2, x1*w at 2..4, x2*w at 4..6:
     * full = [1 10 100+2 20 200+3 30 300] = [1 10 102 20 203 30 300];
     * total = 3-2 = 1: crop 0 / 1 -> drop the last */
    {"same s2 k3", 2, 3, {1, 10, 100}, 6, 0, 1,
     {1, 10, 102, 20, 203, 30},
     {8, 17, 109, 27, 210, 37}},
    /* x0*w at 0..3, x1*w at 3..6, x2*w at 6..9:
     * full = [1 10 100 1000+2 20 200 2000+3 30 300 3000]; total = 4-3 = 1: crop 0 / 1 */
    {"same s3 k4", 3, 4, {1, 10, 100, 1000}, 9, 0, 1,
     {1, 10, 100, 1002, 20, 200, 2003, 30, 300},
     {8, 17, 107, 1009, 27, 207, 2010, 37, 307}},
    /* x0*w at 0..3, x1*w at 2..5, x2*w at 4..7:
     * full = [1 10 100+2 1000+20 200+3 2000+30 300 3000]; total = 4-2 = 2: crop 1 / 1 */
    {"same s2 k4", 2, 4, {1, 10, 100, 1000}, 6, 1, 1,
     {10, 102, 1020, 203, 2030, 300},
     {17, 109, 1027, 210, 2037, 307}},
    /* x0*w at 0..1, x1*w at 3..4, x2*w at 6..7: full = [1 10 0 2 20 0 3 30] (8);
     * total = 2-3 = -1: crop 0 / -1 -> one bias-only position at the end (0, or 7) */
    {"same s3 k2", 3, 2, {1, 10}, 9, 0, -1,
     {1, 10, 0, 2, 20, 0, 3, 30, 0},
     {8, 17, 7, 9, 27, 7, 10, 37, 7}},
};

static void run_same_cases(int along_h)
{
    for (size_t i = 0; i < sizeof SAME_CASES / sizeof SAME_CASES[0]; i++) {
        const same_case *sc = &SAME_CASES[i];
        char name[128];
        tconv_desc d = along_h ? make_desc(1, 1, 3, 1, 1, sc->k, 1, sc->stride, 1)
                               : make_desc(1, 1, 1, 3, 1, 1, sc->k, 1, sc->stride);
        /* something in the crop fields that "same" must ignore */
        d.crop_top = d.crop_bottom = d.crop_left = d.crop_right = 1;
        cr_assert_eq(tconv_crop_matlab_same(&d), TCONV_OK, "%s: tconv_crop_matlab_same: %s",
                     sc->name, tconv_last_error());
        cr_assert_eq(d.crop_mode, TCONV_CROP_SAME);
        int64_t oh = along_h ? sc->out : 1, ow = along_h ? 1 : sc->out;
        snprintf(name, sizeof name, "%s along %s", sc->name, along_h ? "H" : "W");
        if (along_h)
            expect_crops(name, &d, sc->crop_begin, sc->crop_end, 0, 0);
        else
            expect_crops(name, &d, 0, 0, sc->crop_begin, sc->crop_end);
        check_forward(name, &d, SAME_X, 3, sc->w, sc->k, NULL, oh, ow, sc->want, sc->out);
        snprintf(name, sizeof name, "%s along %s, bias 7", sc->name, along_h ? "H" : "W");
        const double bias[1] = {7};
        check_forward(name, &d, SAME_X, 3, sc->w, sc->k, bias, oh, ow, sc->want_b, sc->out);
    }
}

Test(reference, matlab_same_along_w) { run_same_cases(0); }
Test(reference, matlab_same_along_h) { run_same_cases(1); }

/* "same" with different dilations per dimension (see dilation_2d for the full output). */
Test(reference, matlab_same_dilated_2d)
{
    tconv_desc d = make_desc(1, 1, 2, 2, 1, 2, 2, 1, 2);
    d.dilation_h = 2;
    d.dilation_w = 3;
    cr_assert_eq(tconv_crop_matlab_same(&d), TCONV_OK);
    const double x[] = {1, 2, 3, 4};
    const double w[] = {1, 10, 100, 1000};
    /* H: k_eff 3, total 3-1 = 2 -> 1/1; W: k_eff 4, total 4-2 = 2 -> 1/1.
     * Full (dilation_2d below) rows 1..2, cols 1..4; output 2x4 = in * stride. */
    const double want[] = {
        0, 4, 30, 0,
        0, 200, 1000, 0,
    };
    expect_crops("same dilated 2-D", &d, 1, 1, 1, 1);
    CHECK_FWD("same dilated 2-D", d, x, w, NULL, 2, 4, want);
}

/* ------------------------------------------------------------------------ */
/* MATLAB numeric Cropping forms on a 2-D case with asymmetric values        */
/* ------------------------------------------------------------------------ */

/* x = [1 10; 100 1000] (2x2), w = [1 2 3; 4 5 6; 7 8 9] (3x3), stride 2,
 * full 5x5, full[2ih+kh][2iw+kw] += x[ih][iw] * w[kh][kw]:
 *   row 0: 1*w0       -> [1 2 3+10 20 30]            = [1 2 13 20 30]
 *   row 1: 1*w1       -> [4 5 6+40 50 60]            = [4 5 46 50 60]
 *   row 2: 1*w2 + 100*w0 at cols 0..2, 10*w2 + 1000*w0 at cols 2..4:
 *          [7+100 8+200 9+300+70+1000 80+2000 90+3000] = [107 208 1379 2080 3090]
 *   row 3: 100*w1, 1000*w1 -> [400 500 600+4000 5000 6000] = [400 500 4600 5000 6000]
 *   row 4: 100*w2, 1000*w2 -> [700 800 900+7000 8000 9000] = [700 800 7900 8000 9000]
 */
static const double CROP_X[] = {1, 10, 100, 1000};
static const double CROP_W[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static tconv_desc crop_desc(void) { return make_desc(1, 1, 2, 2, 1, 3, 3, 2, 2); }

Test(reference, crop_none_full)
{
    tconv_desc d = crop_desc();
    const double want[] = {
        1, 2, 13, 20, 30,
        4, 5, 46, 50, 60,
        107, 208, 1379, 2080, 3090,
        400, 500, 4600, 5000, 6000,
        700, 800, 7900, 8000, 9000,
    };
    CHECK_FWD("no crop", d, CROP_X, CROP_W, NULL, 5, 5, want);
}

Test(reference, matlab_crop_scalar)
{
    tconv_desc d = crop_desc();
    const int64_t c1[] = {1};
    cr_assert_eq(tconv_crop_matlab(&d, c1, 1), TCONV_OK, "%s", tconv_last_error());
    expect_crops("matlab 1", &d, 1, 1, 1, 1);
    /* rows 1..3, cols 1..3 of the full output */
    const double want1[] = {
        5, 46, 50,
        208, 1379, 2080,
        500, 4600, 5000,
    };
    CHECK_FWD("matlab cropping 1", d, CROP_X, CROP_W, NULL, 3, 3, want1);

    const int64_t c2[] = {2};
    cr_assert_eq(tconv_crop_matlab(&d, c2, 1), TCONV_OK, "%s", tconv_last_error());
    /* row 2, col 2: the centre */
    const double want2[] = {1379};
    CHECK_FWD("matlab cropping 2", d, CROP_X, CROP_W, NULL, 1, 1, want2);
}

Test(reference, matlab_crop_two)
{
    tconv_desc d = crop_desc();
    const int64_t c01[] = {0, 1};
    cr_assert_eq(tconv_crop_matlab(&d, c01, 2), TCONV_OK, "%s", tconv_last_error());
    expect_crops("matlab [0 1]", &d, 0, 0, 1, 1);
    /* [a b] = [0 1]: rows 0..4, cols 1..3 */
    const double want01[] = {
        2, 13, 20,
        5, 46, 50,
        208, 1379, 2080,
        500, 4600, 5000,
        800, 7900, 8000,
    };
    CHECK_FWD("matlab cropping [0 1]", d, CROP_X, CROP_W, NULL, 5, 3, want01);

    const int64_t c10[] = {1, 0};
    cr_assert_eq(tconv_crop_matlab(&d, c10, 2), TCONV_OK, "%s", tconv_last_error());
    expect_crops("matlab [1 0]", &d, 1, 1, 0, 0);
    /* [a b] = [1 0]: rows 1..3, cols 0..4 */
    const double want10[] = {
        4, 5, 46, 50, 60,
        107, 208, 1379, 2080, 3090,
        400, 500, 4600, 5000, 6000,
    };
    CHECK_FWD("matlab cropping [1 0]", d, CROP_X, CROP_W, NULL, 3, 5, want10);
}

Test(reference, matlab_crop_four)
{
    tconv_desc d = crop_desc();
    /* [t b l r] = [2 0 1 0]: rows 2..4, cols 1..4 (read as ONNX [t l b r] it
     * would be rows 2..3, cols 0..4; every misreading changes the result) */
    const int64_t ca[] = {2, 0, 1, 0};
    cr_assert_eq(tconv_crop_matlab(&d, ca, 4), TCONV_OK, "%s", tconv_last_error());
    expect_crops("matlab [2 0 1 0]", &d, 2, 0, 1, 0);
    const double wanta[] = {
        208, 1379, 2080, 3090,
        500, 4600, 5000, 6000,
        800, 7900, 8000, 9000,
    };
    CHECK_FWD("matlab cropping [2 0 1 0]", d, CROP_X, CROP_W, NULL, 3, 4, wanta);

    /* [t b l r] = [0 1 2 0]: rows 0..3, cols 2..4 */
    const int64_t cb[] = {0, 1, 2, 0};
    cr_assert_eq(tconv_crop_matlab(&d, cb, 4), TCONV_OK, "%s", tconv_last_error());
    expect_crops("matlab [0 1 2 0]", &d, 0, 1, 2, 0);
    const double wantb[] = {
        13, 20, 30,
        46, 50, 60,
        1379, 2080, 3090,
        4600, 5000, 6000,
    };
    CHECK_FWD("matlab cropping [0 1 2 0]", d, CROP_X, CROP_W, NULL, 4, 3, wantb);
}

/* ------------------------------------------------------------------------ */
/* Output padding and negative crops: bias-only rows/cols (bias 0.5)         */
/* ------------------------------------------------------------------------ */

static const double HALF[] = {0.5};

Test(reference, onnx_pads_output_padding)
{
    tconv_desc d = crop_desc();
    /* pads [top left bottom right] = [1 2 0 0], output_padding [1 1]:
     * crop top 1, left 2, bottom 0-1 = -1, right 0-1 = -1 -> rows 1..5, cols 2..5
     * of the full output + 0.5; row 5 and col 5 lie outside it: bias only. */
    const int64_t pads[] = {1, 2, 0, 0}, op[] = {1, 1};
    cr_assert_eq(tconv_crop_onnx_pads(&d, pads, op), TCONV_OK, "%s", tconv_last_error());
    expect_crops("onnx pads [1 2 0 0] op [1 1]", &d, 1, -1, 2, -1);
    const double want[] = {
        46.5, 50.5, 60.5, 0.5,
        1379.5, 2080.5, 3090.5, 0.5,
        4600.5, 5000.5, 6000.5, 0.5,
        7900.5, 8000.5, 9000.5, 0.5,
        0.5, 0.5, 0.5, 0.5,
    };
    CHECK_FWD("onnx pads [1 2 0 0] op [1 1]", d, CROP_X, CROP_W, HALF, 5, 4, want);

    /* pads 0, output_padding [0 1] (h 0, w 1): one bias-only col at the right */
    const int64_t pads0[] = {0, 0, 0, 0}, op01[] = {0, 1};
    cr_assert_eq(tconv_crop_onnx_pads(&d, pads0, op01), TCONV_OK, "%s", tconv_last_error());
    expect_crops("onnx pads 0 op [0 1]", &d, 0, 0, 0, -1);
    const double want01[] = {
        1.5, 2.5, 13.5, 20.5, 30.5, 0.5,
        4.5, 5.5, 46.5, 50.5, 60.5, 0.5,
        107.5, 208.5, 1379.5, 2080.5, 3090.5, 0.5,
        400.5, 500.5, 4600.5, 5000.5, 6000.5, 0.5,
        700.5, 800.5, 7900.5, 8000.5, 9000.5, 0.5,
    };
    CHECK_FWD("onnx pads 0 op [0 1]", d, CROP_X, CROP_W, HALF, 5, 6, want01);
}

Test(reference, pytorch_padding_output_padding)
{
    tconv_desc d = crop_desc();
    /* padding [1 0], output_padding [0 1]: top 1, bottom 1-0 = 1, left 0,
     * right 0-1 = -1 -> rows 1..3, cols 0..5 (col 5 bias only) */
    const int64_t pa[] = {1, 0}, opa[] = {0, 1};
    cr_assert_eq(tconv_crop_pytorch(&d, pa, opa), TCONV_OK, "%s", tconv_last_error());
    expect_crops("pytorch p [1 0] op [0 1]", &d, 1, 1, 0, -1);
    const double wanta[] = {
        4.5, 5.5, 46.5, 50.5, 60.5, 0.5,
        107.5, 208.5, 1379.5, 2080.5, 3090.5, 0.5,
        400.5, 500.5, 4600.5, 5000.5, 6000.5, 0.5,
    };
    CHECK_FWD("pytorch padding [1 0] output_padding [0 1]", d, CROP_X, CROP_W, HALF, 3, 6, wanta);

    /* padding [0 1], output_padding [1 1]: top 0, bottom -1, left 1, right 0
     * -> rows 0..5 (row 5 bias only), cols 1..4 */
    const int64_t pb[] = {0, 1}, opb[] = {1, 1};
    cr_assert_eq(tconv_crop_pytorch(&d, pb, opb), TCONV_OK, "%s", tconv_last_error());
    expect_crops("pytorch p [0 1] op [1 1]", &d, 0, -1, 1, 0);
    const double wantb[] = {
        2.5, 13.5, 20.5, 30.5,
        5.5, 46.5, 50.5, 60.5,
        208.5, 1379.5, 2080.5, 3090.5,
        500.5, 4600.5, 5000.5, 6000.5,
        800.5, 7900.5, 8000.5, 9000.5,
        0.5, 0.5, 0.5, 0.5,
    };
    CHECK_FWD("pytorch padding [0 1] output_padding [1 1]", d, CROP_X, CROP_W, HALF, 6, 4, wantb);
}

Test(reference, negative_crop_top)
{
    tconv_desc d = crop_desc();
    d.crop_top = -1;
    /* rows -1..4: row -1 is outside the full output (bias only), then full + 0.5 */
    const double want[] = {
        0.5, 0.5, 0.5, 0.5, 0.5,
        1.5, 2.5, 13.5, 20.5, 30.5,
        4.5, 5.5, 46.5, 50.5, 60.5,
        107.5, 208.5, 1379.5, 2080.5, 3090.5,
        400.5, 500.5, 4600.5, 5000.5, 6000.5,
        700.5, 800.5, 7900.5, 8000.5, 9000.5,
    };
    CHECK_FWD("crop_top -1", d, CROP_X, CROP_W, HALF, 6, 5, want);

    /* crops top -1, bottom 2, left -1, right 1: rows -1..2, cols -1..3 */
    d.crop_bottom = 2;
    d.crop_left = -1;
    d.crop_right = 1;
    const double want2[] = {
        0.5, 0.5, 0.5, 0.5, 0.5,
        0.5, 1.5, 2.5, 13.5, 20.5,
        0.5, 4.5, 5.5, 46.5, 50.5,
        0.5, 107.5, 208.5, 1379.5, 2080.5,
    };
    CHECK_FWD("crops -1 2 -1 1", d, CROP_X, CROP_W, HALF, 4, 5, want2);
}

/* ------------------------------------------------------------------------ */
/* Dilation                                                                   */
/* ------------------------------------------------------------------------ */

Test(reference, dilation_1d)
{
    const double x[] = {1, 2, 3};
    /* k 2 d 2 stride 1, w = [1 10]: k_eff 3, full 2+3 = 5; x_i*w0 at i, x_i*w1 at i+2:
     * [1, 2, 10+3, 20, 30] */
    tconv_desc d = make_desc(1, 1, 1, 3, 1, 1, 2, 1, 1);
    d.dilation_w = 2;
    const double w2[] = {1, 10};
    const double want2[] = {1, 2, 13, 20, 30};
    CHECK_FWD("k2 d2 s1 along W", d, x, w2, NULL, 1, 5, want2);

    /* k 3 d 3 stride 2, w = [1 10 100]: k_eff 7, full 2*2+7 = 11; x_i*w_k at 2i+3k:
     * x0: 0:1 3:10 6:100; x1: 2:2 5:20 8:200; x2: 4:3 7:30 10:300 (1, 9 untouched) */
    const double w3[] = {1, 10, 100};
    const double want3[] = {1, 0, 2, 10, 3, 20, 100, 30, 200, 0, 300};
    d = make_desc(1, 1, 1, 3, 1, 1, 3, 1, 2);
    d.dilation_w = 3;
    CHECK_FWD("k3 d3 s2 along W", d, x, w3, NULL, 1, 11, want3);
    d = make_desc(1, 1, 3, 1, 1, 3, 1, 2, 1);
    d.dilation_h = 3;
    CHECK_FWD("k3 d3 s2 along H", d, x, w3, NULL, 11, 1, want3);
}

Test(reference, dilation_2d)
{
    /* x = [1 2; 3 4], w = [1 10; 100 1000], stride 1x2, dilation 2x3:
     * k_eff 3x4, full (1+3) x (2+4) = 4x6; x[ih][iw]*w[kh][kw] at (ih+2kh, 2iw+3kw):
     *   x00=1: (0,0)1 (0,3)10 (2,0)100 (2,3)1000
     *   x01=2: (0,2)2 (0,5)20 (2,2)200 (2,5)2000
     *   x10=3: (1,0)3 (1,3)30 (3,0)300 (3,3)3000
     *   x11=4: (1,2)4 (1,5)40 (3,2)400 (3,5)4000   (columns 1 and 4 stay 0) */
    tconv_desc d = make_desc(1, 1, 2, 2, 1, 2, 2, 1, 2);
    d.dilation_h = 2;
    d.dilation_w = 3;
    const double x[] = {1, 2, 3, 4};
    const double w[] = {1, 10, 100, 1000};
    const double want[] = {
        1, 0, 2, 10, 0, 20,
        3, 0, 4, 30, 0, 40,
        100, 0, 200, 1000, 0, 2000,
        300, 0, 400, 3000, 0, 4000,
    };
    CHECK_FWD("dilation 2x3 stride 1x2", d, x, w, NULL, 4, 6, want);
}

/* ------------------------------------------------------------------------ */
/* Groups and batch                                                           */
/* ------------------------------------------------------------------------ */

/* 1x2 input, 1x2 kernel, stride 1: a row [a b] with w [p q] gives [a*p, a*q + b*p, b*q]. */

Test(reference, groups_two)
{
    /* C 4, F 4, groups 2: Cg 2, Fg 2; filters 0,1 read channels 0,1; filters 2,3 channels 2,3 */
    tconv_desc d = make_desc(1, 4, 1, 2, 4, 1, 2, 1, 1);
    d.groups = 2;
    const double x[] = {1, 2, /* c0 */ 3, 4, /* c1 */ 5, 6, /* c2 */ 7, 8 /* c3 */};
    /* IOHW [c][m][1][2] */
    const double w[] = {
        1, 10, 2, 20,         /* c0: m0, m1 */
        100, 1000, 200, 2000, /* c1 */
        3, 30, 4, 40,         /* c2 */
        300, 3000, 400, 4000, /* c3 */
    };
    const double want[] = {
        /* f0 = c0*[1 10] + c1*[100 1000] = [1 12 20] + [300 3400 4000] */
        301, 3412, 4020,
        /* f1 = c0*[2 20] + c1*[200 2000] = [2 24 40] + [600 6800 8000] */
        602, 6824, 8040,
        /* f2 = c2*[3 30] + c3*[300 3000] = [15 168 180] + [2100 23400 24000] */
        2115, 23568, 24180,
        /* f3 = c2*[4 40] + c3*[400 4000] = [20 224 240] + [2800 31200 32000] */
        2820, 31424, 32240,
    };
    CHECK_FWD("groups 2", d, x, w, NULL, 1, 3, want);
}

Test(reference, groups_depthwise)
{
    /* groups == channels == filters == 3, bias [1 2 3] */
    tconv_desc d = make_desc(1, 3, 1, 2, 3, 1, 2, 1, 1);
    d.groups = 3;
    const double x[] = {1, 2, 3, 4, 5, 6};
    const double w[] = {1, 10, 2, 20, 3, 30};
    const double bias[] = {1, 2, 3};
    const double want[] = {
        2, 13, 21,   /* [1 2]*[1 10] = [1 12 20], + 1 */
        8, 70, 82,   /* [3 4]*[2 20] = [6 68 80], + 2 */
        18, 171, 183 /* [5 6]*[3 30] = [15 168 180], + 3 */
    };
    CHECK_FWD("depthwise", d, x, w, bias, 1, 3, want);
}

Test(reference, batch_three)
{
    /* N 3, C 1, F 2, in 2x2, k 1x2, stride 1: each row [a b] ->
     * f0 (w [1 10]): [a, 10a+b, 10b]; f1 (w [-1 1]): [-a, a-b, b] */
    tconv_desc d = make_desc(3, 1, 2, 2, 2, 1, 2, 1, 1);
    const double x[] = {
        1, 2, 3, 4,    /* n0 */
        5, 6, 7, 8,    /* n1 */
        9, 10, 11, 12, /* n2 */
    };
    const double w[] = {1, 10, -1, 1};
    const double want[] = {
        1, 12, 20, 3, 34, 40,         /* n0 f0 */
        -1, -1, 2, -3, -1, 4,         /* n0 f1 */
        5, 56, 60, 7, 78, 80,         /* n1 f0 */
        -5, -1, 6, -7, -1, 8,         /* n1 f1 */
        9, 100, 100, 11, 122, 120,    /* n2 f0 */
        -9, -1, 10, -11, -1, 12,      /* n2 f1 */
    };
    CHECK_FWD("batch 3", d, x, w, NULL, 2, 3, want);
}

/* ------------------------------------------------------------------------ */
/* Every data layout x weight layout pair                                     */
/* ------------------------------------------------------------------------ */

typedef struct hand_entry {
    int64_t n, f, oh, ow;
    double v;
} hand_entry;

/* x, w: logical NCHW / IOHW. Each layout pair gets the same logical tensors
 * written through tu_x_offset / tu_w_offset; its output is read back through
 * tu_y_offset and compared with the NCHW/IOHW output, tu_forward_scatter and
 * the hand-computed entries. */
static void check_all_layouts(const char *name, const tconv_desc *base, const double *x,
                              const double *w, const double *bias, const hand_entry *hand,
                              size_t nhand)
{
    static const tconv_layout LAYOUTS[] = {TCONV_NCHW, TCONV_NHWC, TCONV_SSCB};
    static const tconv_weight_layout WLAYOUTS[] = {TCONV_W_IOHW, TCONV_W_OHWI, TCONV_W_MATLAB};
    tu_shape s0 = tu_shape_of(base);
    int64_t nx = tu_x_elems(&s0), nw = tu_w_elems(&s0), ny = tu_y_elems(&s0);

    /* logical output of NCHW / IOHW, f64, default plan */
    double *yref = nan_buf(ny);
    {
        char ctx[256];
        snprintf(ctx, sizeof ctx, "%s [NCHW/W_IOHW f64]", name);
        tconv_desc d = *base;
        d.dtype = TCONV_F64;
        d.layout = TCONV_NCHW;
        d.weight_layout = TCONV_W_IOHW;
        tconv_plan *p = make_plan(ctx, &d, 0);
        tconv_status st = tu_run_forward(p, &d, x, w, bias, yref);
        cr_assert_eq(st, TCONV_OK, "%s: tconv_forward: %s", ctx, tconv_last_error());
        tconv_plan_destroy(p);
    }

    double *xp = nan_buf(nx), *wp = nan_buf(nw), *y = nan_buf(ny), *ys = nan_buf(ny);
    double *ylog = nan_buf(ny), *yslog = nan_buf(ny);
    for (size_t li = 0; li < 3; li++)
        for (size_t wi = 0; wi < 3; wi++)
            for (size_t di = 0; di < 2; di++)
                for (size_t fi = 0; fi < 2; fi++) {
                    char ctx[256];
                    snprintf(ctx, sizeof ctx, "%s [%s/%s %s, %s]", name, layout_name(LAYOUTS[li]),
                             wlayout_name(WLAYOUTS[wi]), dtype_name(DTYPES[di]),
                             flags_name(FLAGS[fi]));
                    tconv_desc d = *base;
                    d.layout = LAYOUTS[li];
                    d.weight_layout = WLAYOUTS[wi];
                    d.dtype = DTYPES[di];
                    tu_shape s = tu_shape_of(&d);
                    for (int64_t n = 0; n < s.n; n++)
                        for (int64_t c = 0; c < s.c; c++)
                            for (int64_t h = 0; h < s.ih; h++)
                                for (int64_t ww = 0; ww < s.iw; ww++)
                                    xp[tu_x_offset(&d, &s, n, c, h, ww)] =
                                        x[((n * s.c + c) * s.ih + h) * s.iw + ww];
                    for (int64_t c = 0; c < s.c; c++)
                        for (int64_t m = 0; m < s.fg; m++)
                            for (int64_t kh = 0; kh < s.kh; kh++)
                                for (int64_t kw = 0; kw < s.kw; kw++)
                                    wp[tu_w_offset(&d, &s, c, m, kh, kw)] =
                                        w[((c * s.fg + m) * s.kh + kh) * s.kw + kw];
                    for (int64_t i = 0; i < ny; i++) y[i] = NAN;
                    tconv_plan *p = make_plan(ctx, &d, FLAGS[fi]);
                    tconv_status st = tu_run_forward(p, &d, xp, wp, bias, y);
                    cr_assert_eq(st, TCONV_OK, "%s: tconv_forward: %s", ctx, tconv_last_error());
                    tconv_plan_destroy(p);
                    tu_forward_scatter(&d, xp, wp, bias, ys);
                    for (int64_t n = 0; n < s.n; n++)
                        for (int64_t f = 0; f < s.f; f++)
                            for (int64_t oh = 0; oh < s.oh; oh++)
                                for (int64_t ow = 0; ow < s.ow; ow++) {
                                    int64_t li2 = ((n * s.f + f) * s.oh + oh) * s.ow + ow;
                                    int64_t off = tu_y_offset(&d, &s, n, f, oh, ow);
                                    ylog[li2] = y[off];
                                    yslog[li2] = ys[off];
                                }
                    expect_exact(ctx, "y vs NCHW/W_IOHW", ylog, yref, ny);
                    expect_exact(ctx, "y vs tu_forward_scatter", ylog, yslog, ny);
                    for (size_t h = 0; h < nhand; h++) {
                        const hand_entry *e = &hand[h];
                        int64_t li2 = ((e->n * s.f + e->f) * s.oh + e->oh) * s.ow + e->ow;
                        cr_expect(ylog[li2] == e->v,
                                  "%s: y[n %lld][f %lld][%lld][%lld] = %.17g, hand value %.17g",
                                  ctx, (long long)e->n, (long long)e->f, (long long)e->oh,
                                  (long long)e->ow, ylog[li2], e->v);
                    }
                }
    free(xp);
    free(wp);
    free(y);
    free(ys);
    free(ylog);
    free(yslog);
    free(yref);
}

Test(reference, layouts_all_pairs)
{
    /* N 2, C 3, F 2, in 2x3, k 2x3, stride 2x1, crops top 1, bottom 0, left 0,
     * right -1: full (1*2+2) x (2*1+3) = 4x5, output rows 1..3 x cols 0..5 = 3x6
     * (col 5 bias only); bias [10 -20]. */
    tconv_desc d = make_desc(2, 3, 2, 3, 2, 2, 3, 2, 1);
    d.crop_top = 1;
    d.crop_right = -1;
    const double x[] = {
        1, 2, 3, 4, 5, 6,     /* n0 c0: [1 2 3; 4 5 6] */
        -1, 0, 2, 3, -2, 1,   /* n0 c1 */
        2, -3, 1, 0, 4, -1,   /* n0 c2 */
        0, 1, -2, 2, 3, -3,   /* n1 c0 */
        3, -1, 0, 1, 2, 2,    /* n1 c1 */
        -2, 2, 1, -1, 0, 3,   /* n1 c2 */
    };
    const double w[] = {
        1, -1, 2, 0, 3, 1,    /* c0 f0: [1 -1 2; 0 3 1] */
        2, 0, -1, 1, 1, -2,   /* c0 f1 */
        -2, 1, 0, 3, -1, 2,   /* c1 f0 */
        0, 2, 1, -1, 0, 3,    /* c1 f1 */
        1, 1, -3, 2, 0, -1,   /* c2 f0 */
        -1, 3, 0, 2, -2, 1,   /* c2 f1 */
    };
    const double bias[] = {10, -20};
    /* Output (oh, ow) is full (oh+1, ow); full row r = 2*ih + kh (one term per
     * row since stride_h = kernel_h), full col = iw + kw. */
    const hand_entry hand[] = {
        /* full (1,0): ih0 kh1, iw0 kw0: sum_c x[0][c][0][0] * w[c][0][1][0]
         * = 1*0 + (-1)*3 + 2*2 = 1, + 10 */
        {0, 0, 0, 0, 11},
        /* full (1,1): ih0 kh1; (iw0,kw1), (iw1,kw0):
         * c0 1*3 + 2*0 = 3; c1 (-1)*(-1) + 0*3 = 1; c2 2*0 + (-3)*2 = -6 -> -2, + 10 */
        {0, 0, 0, 1, 8},
        /* full (2,2): ih1 kh0; (iw0,kw2), (iw1,kw1), (iw2,kw0); n1, f1:
         * c0 x [2 3 -3], w [2 0 -1]: 2*(-1) + 3*0 + (-3)*2 = -8
         * c1 x [1 2 2],  w [0 2 1]:  1*1 + 2*2 + 2*0 = 5
         * c2 x [-1 0 3], w [-1 3 0]: (-1)*0 + 0*3 + 3*(-1) = -3  -> -6, - 20 */
        {1, 1, 1, 2, -26},
        /* full (3,4): ih1 kh1, iw2 kw2; n0 f1:
         * 6*(-2) + 1*3 + (-1)*1 = -10, - 20 */
        {0, 1, 2, 4, -30},
        /* full col 5 is outside the full output: bias only */
        {1, 0, 1, 5, 10},
        {0, 1, 0, 5, -20},
    };
    check_all_layouts("layouts groups 1", &d, x, w, bias, hand, sizeof hand / sizeof hand[0]);
}

Test(reference, layouts_all_pairs_grouped)
{
    /* N 2, C 4, F 6, groups 2 (Cg 2, Fg 3), in 3x2, k 2x3, stride 1x2, crops
     * bottom 1, left 1: full (2+2) x (2+3) = 4x5, output 3x4. No bias.
     * x[n][c][h][w] = (7n + 5c + 3h + 2w) mod 9 - 4,
     * w[c][m][kh][kw] = (3c + 5m + 7kh + 2kw) mod 7 - 3 (input generation only;
     * the expected entries below are worked by hand). */
    tconv_desc d = make_desc(2, 4, 3, 2, 6, 2, 3, 1, 2);
    d.groups = 2;
    d.crop_bottom = 1;
    d.crop_left = 1;
    double x[2 * 4 * 3 * 2], w[4 * 3 * 2 * 3];
    for (int n = 0; n < 2; n++)
        for (int c = 0; c < 4; c++)
            for (int h = 0; h < 3; h++)
                for (int ww = 0; ww < 2; ww++)
                    x[((n * 4 + c) * 3 + h) * 2 + ww] = (7 * n + 5 * c + 3 * h + 2 * ww) % 9 - 4;
    for (int c = 0; c < 4; c++)
        for (int m = 0; m < 3; m++)
            for (int kh = 0; kh < 2; kh++)
                for (int kw = 0; kw < 3; kw++)
                    w[((c * 3 + m) * 2 + kh) * 3 + kw] = (3 * c + 5 * m + 7 * kh + 2 * kw) % 7 - 3;
    /* output (oh, ow) is full (oh, ow+1); full row = ih + kh, full col = 2iw + kw */
    const hand_entry hand[] = {
        /* n0 f0 (g0 m0, channels 0,1), full (0,1): ih0 kh0, iw0 kw1:
         * x[0][0][0][0] = 0-4 = -4, w[0][0][0][1] = 2-3 = -1 -> 4;
         * x[0][1][0][0] = 5-4 = 1,  w[1][0][0][1] = 5-3 = 2  -> 2;   sum 6 */
        {0, 0, 0, 0, 6},
        /* n1 f4 (g1 m1, channels 2,3), full (1,2): (ih0,kh1), (ih1,kh0) x (iw0,kw2), (iw1,kw0):
         * c2: x(0,0)=17%9-4=4  * w(1,2)=22%7-3=-2 -> -8;  x(0,1)=19%9-4=-3 * w(1,0)=18%7-3=1 -> -3
         *     x(1,0)=20%9-4=-2 * w(0,2)=15%7-3=-2 -> 4;   x(1,1)=22%9-4=0  * w(0,0)=11%7-3=1 -> 0
         * c3: x(0,0)=22%9-4=0  * w(1,2)=25%7-3=1  -> 0;   x(0,1)=24%9-4=2  * w(1,0)=21%7-3=-3 -> -6
         *     x(1,0)=25%9-4=3  * w(0,2)=18%7-3=1  -> 3;   x(1,1)=27%9-4=-4 * w(0,0)=14%7-3=-3 -> 12
         * sum -7 + 9 = 2 */
        {1, 4, 1, 1, 2},
        /* n0 f5 (g1 m2), full (2,4): (ih2,kh0), (ih1,kh1) x (iw1,kw2):
         * c2: x(2,1)=18%9-4=-4 * w(0,2)=20%7-3=3 -> -12; x(1,1)=15%9-4=2 * w(1,2)=27%7-3=3 -> 6
         * c3: x(2,1)=23%9-4=1 * w(0,2)=23%7-3=-1 -> -1;  x(1,1)=20%9-4=-2 * w(1,2)=30%7-3=-1 -> 2
         * sum -5 */
        {0, 5, 2, 3, -5},
    };
    check_all_layouts("layouts groups 2", &d, x, w, NULL, hand, sizeof hand / sizeof hand[0]);
}

/* ------------------------------------------------------------------------ */
/* SSCB + W_MATLAB: MATLAB memory as MATLAB holds it                          */
/* ------------------------------------------------------------------------ */

/* MATLAB: X = cat(3, [1 2; 3 4], [5 6; 7 8]) (H 2, W 2, C 2);
 * Weights(:,:,f,c), kh 1 x kw 2: W(:,:,1,1) = [1 10], W(:,:,2,1) = [2 0],
 * W(:,:,1,2) = [100 1000], W(:,:,2,2) = [0 -1]; Stride [1 2].
 * Column-major memory: X(:) = [1 3 2 4 5 7 6 8], W(:) = [1 10 2 0 100 1000 0 -1]. */
static const double ML_X[] = {1, 3, 2, 4, 5, 7, 6, 8};
static const double ML_W[] = {1, 10, 2, 0, 100, 1000, 0, -1};

static tconv_desc matlab_desc(void)
{
    tconv_desc d = make_desc(1, 2, 2, 2, 2, 1, 2, 1, 2);
    d.layout = TCONV_SSCB;
    d.weight_layout = TCONV_W_MATLAB;
    return d;
}

Test(reference, sscb_matlab_literal)
{
    tconv_desc d = matlab_desc();
    /* Output 2 x 4 x 2 (H (2-1)*1+1 = 2, W (2-1)*2+2 = 4). Each row [a b] of a
     * channel with kernel [p q] and stride 2 gives [a*p a*q b*p b*q]:
     * Y(:,:,1): row 1: [1 10 2 20] + [500 5000 600 6000] = [501 5010 602 6020]
     *           row 2: [3 30 4 40] + [700 7000 800 8000] = [703 7030 804 8040]
     * Y(:,:,2): row 1: [2 0 4 0] + [0 -5 0 -6] = [2 -5 4 -6]
     *           row 2: [6 0 8 0] + [0 -7 0 -8] = [6 -7 8 -8]
     * Y(:) column by column: */
    const double want[] = {
        501, 703, 5010, 7030, 602, 804, 6020, 8040,
        2, 6, -5, -7, 4, 8, -6, -8,
    };
    CHECK_FWD("MATLAB memory", d, ML_X, ML_W, NULL, 2, 4, want);
}

Test(reference, sscb_matlab_literal_cropped)
{
    tconv_desc d = matlab_desc();
    /* Cropping [t b l r] = [1 0 0 1]: row 2, cols 1..3 of the full Y above */
    const int64_t crop[] = {1, 0, 0, 1};
    cr_assert_eq(tconv_crop_matlab(&d, crop, 4), TCONV_OK, "%s", tconv_last_error());
    /* bias [0.5 -1] (MATLAB Bias 1 x 1 x F): Y(1,:,1) = [703 7030 804] + 0.5,
     * Y(1,:,2) = [6 -7 8] - 1 */
    const double bias[] = {0.5, -1};
    const double want[] = {703.5, 7030.5, 804.5, 5, -8, 7};
    CHECK_FWD("MATLAB memory, cropping [1 0 0 1]", d, ML_X, ML_W, bias, 1, 3, want);
}

/* ------------------------------------------------------------------------ */
/* Backward passes                                                            */
/* ------------------------------------------------------------------------ */

/* 1-D along W: x = [1 2 3], w = [1 10 100], stride 2, k 3; full 7; dy = [1..7].
 * dx[i] = sum_k dy[2i + k - crop_left] * w[k]; dw[k] = sum_i x[i] * dy[2i + k - crop_left];
 * dy indices outside [0, 7) contribute 0. */
static const double BW_X[] = {1, 2, 3};
static const double BW_W[] = {1, 10, 100};
static const double BW_DY[] = {1, 2, 3, 4, 5, 6, 7};

static tconv_desc bw_desc(int64_t crop_left, int64_t crop_right)
{
    tconv_desc d = make_desc(1, 1, 1, 3, 1, 1, 3, 1, 2);
    d.crop_left = crop_left;
    d.crop_right = crop_right;
    return d;
}

Test(reference, backward_1d_uncropped)
{
    tconv_desc d = bw_desc(0, 0);
    /* dx[0] = dy0 + 10 dy1 + 100 dy2 = 1 + 20 + 300 = 321
     * dx[1] = dy2 + 10 dy3 + 100 dy4 = 3 + 40 + 500 = 543
     * dx[2] = dy4 + 10 dy5 + 100 dy6 = 5 + 60 + 700 = 765 */
    const double dx[] = {321, 543, 765};
    /* dw[0] = 1 dy0 + 2 dy2 + 3 dy4 = 1 + 6 + 15 = 22
     * dw[1] = 1 dy1 + 2 dy3 + 3 dy5 = 2 + 8 + 18 = 28
     * dw[2] = 1 dy2 + 2 dy4 + 3 dy6 = 3 + 10 + 21 = 34;  dbias = 1+...+7 = 28 */
    const double dw[] = {22, 28, 34};
    const double db[] = {28};
    check_backward("backward s2 k3 crop 0/0", &d, BW_X, BW_W, BW_DY, LEN(BW_DY), dx, dw, db);
}

Test(reference, backward_1d_cropped)
{
    /* crop left 1, right -1: output o = full o+1, out 7; dy[6] sits on the
     * bias-only position 7 (outside the full output).
     * dx[i] = sum_k dy[2i + k - 1] w[k]:
     *   dx[0] = 0*1 + dy0*10 + dy1*100 = 10 + 200 = 210
     *   dx[1] = dy1 + 10 dy2 + 100 dy3 = 2 + 30 + 400 = 432
     *   dx[2] = dy3 + 10 dy4 + 100 dy5 = 4 + 50 + 600 = 654
     * dw[k] = sum_i x[i] dy[2i + k - 1]:
     *   dw[0] = 1*0 + 2 dy1 + 3 dy3 = 4 + 12 = 16
     *   dw[1] = 1 dy0 + 2 dy2 + 3 dy4 = 1 + 6 + 15 = 22
     *   dw[2] = 1 dy1 + 2 dy3 + 3 dy5 = 2 + 8 + 18 = 28
     * dbias = 1+...+7 = 28 (dy6 = 7 on the bias-only position included) */
    tconv_desc d = bw_desc(1, -1);
    const double dx[] = {210, 432, 654};
    const double dw[] = {16, 22, 28};
    const double db[] = {28};
    check_backward("backward s2 k3 crop 1/-1", &d, BW_X, BW_W, BW_DY, LEN(BW_DY), dx, dw, db);

    /* crop left -1, right 1: output o = full o-1; dy0 = 1 is bias-only.
     * dx[i] = sum_k dy[2i + k + 1] w[k]:
     *   dx[0] = dy1 + 10 dy2 + 100 dy3 = 2 + 30 + 400 = 432
     *   dx[1] = dy3 + 10 dy4 + 100 dy5 = 4 + 50 + 600 = 654
     *   dx[2] = dy5 + 10 dy6 + 100*0 = 6 + 70 = 76
     * dw[k] = sum_i x[i] dy[2i + k + 1]:
     *   dw[0] = dy1 + 2 dy3 + 3 dy5 = 2 + 8 + 18 = 28
     *   dw[1] = dy2 + 2 dy4 + 3 dy6 = 3 + 10 + 21 = 34
     *   dw[2] = dy3 + 2 dy5 + 3*0 = 4 + 12 = 16
     * dbias = 28 (dy0 on the bias-only position included) */
    d = bw_desc(-1, 1);
    const double dx2[] = {432, 654, 76};
    const double dw2[] = {28, 34, 16};
    check_backward("backward s2 k3 crop -1/1", &d, BW_X, BW_W, BW_DY, LEN(BW_DY), dx2, dw2, db);
}

Test(reference, backward_batch_filters_along_h)
{
    /* N 2, C 1, F 2, along H: in 2x1, k 2x1, stride 1, out 3x1.
     * x: n0 [1 2], n1 [3 4]; w (IOHW [0][f][kh][0]): f0 [1 10], f1 [100 1000];
     * dy [n][f][oh]: n0 f0 [1 0 2], n0 f1 [0 1 0], n1 f0 [1 1 1], n1 f1 [2 0 -1]. */
    tconv_desc d = make_desc(2, 1, 2, 1, 2, 2, 1, 1, 1);
    const double x[] = {1, 2, 3, 4};
    const double w[] = {1, 10, 100, 1000};
    const double dy[] = {1, 0, 2, 0, 1, 0, 1, 1, 1, 2, 0, -1};
    /* dx[n][ih] = sum_f (dy[n][f][ih] w[f][0] + dy[n][f][ih+1] w[f][1]):
     *   n0 ih0: (1*1 + 0*10) + (0*100 + 1*1000) = 1001
     *   n0 ih1: (0*1 + 2*10) + (1*100 + 0*1000) = 120
     *   n1 ih0: (1*1 + 1*10) + (2*100 + 0*1000) = 211
     *   n1 ih1: (1*1 + 1*10) + (0*100 - 1*1000) = -989 */
    const double dx[] = {1001, 120, 211, -989};
    /* dw[f][kh] = sum_n sum_ih x[n][ih] dy[n][f][ih+kh]:
     *   f0 kh0: (1*1 + 2*0) + (3*1 + 4*1) = 8;   f0 kh1: (1*0 + 2*2) + (3*1 + 4*1) = 11
     *   f1 kh0: (1*0 + 2*1) + (3*2 + 4*0) = 8;   f1 kh1: (1*1 + 2*0) + (3*0 + 4*(-1)) = -3
     * dbias: f0 (1+0+2) + (1+1+1) = 6; f1 (0+1+0) + (2+0-1) = 2 */
    const double dw[] = {8, 11, 8, -3};
    const double db[] = {6, 2};
    check_backward("backward N2 F2 along H", &d, x, w, dy, LEN(dy), dx, dw, db);
}
