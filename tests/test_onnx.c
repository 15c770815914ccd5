/*
 * ONNX ConvTranspose node-test regression vectors.
 *
 * The vectors are the 2-D cases of onnx/backend/test/case/node/convtranspose.py
 * (onnx 1.23.0: test_convtranspose, _output_shape, _pad, _kernel_shape, _pads,
 * _dilations, _autopad_same, _group_2, _group_2_image_3), whose expected Y is
 * written literally in that file. tests/onnx_vectors.h is generated from
 * ../shared/testdata/onnx_convtranspose_2d.json by tests/gen_onnx_vectors.py
 * and holds X, W, Y and the node's RAW attributes only.
 *
 * Each case is run the way an ONNX runtime backend would run the node through
 * tconv: the attributes are mapped to crops by tconv's own ONNX helpers
 * (output_shape -> tconv_crop_onnx_output_shape; else auto_pad SAME_UPPER /
 * SAME_LOWER / VALID -> tconv_crop_onnx_auto_pad; else
 * tconv_crop_onnx_pads), then the test checks that tconv_desc_output gives Y's
 * shape, runs tconv_forward (bias NULL) in NCHW / W_IOHW, and compares with the
 * literal Y and with the independent scatter oracle tu_forward_scatter. Every
 * case runs in F32 and F64, with the default plan and a TCONV_PLAN_REFERENCE
 * plan.
 *
 * Comparisons are exact (==), not toleranced: every X and W value is a small
 * integer, so each product and each partial sum is an integer far below 2^24
 * (checked below by check_exactness_bound) and is represented exactly in f32
 * and f64 whatever order a kernel sums in. Any difference is a real error, not
 * rounding.
 *
 * Each ParameterizedTest runs one case per isolated process; every assertion
 * message names the case, the dtype and the plan.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h> /* ParameterizedTest is not in criterion.h */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <tconv.h>

#include "onnx_vectors.h"
#include "testutil.h"

static const char *dtype_name(tconv_dtype t) { return t == TCONV_F32 ? "f32" : "f64"; }

static int64_t prod4(const int64_t s[4]) { return s[0] * s[1] * s[2] * s[3]; }

/* The raw ONNX auto_pad attribute as tconv's enum, as a backend would map it. */
static tconv_onnx_auto_pad to_tconv_auto_pad(const onnx_case *oc)
{
    if (!oc->has_auto_pad) return TCONV_ONNX_NOTSET;
    switch (oc->auto_pad) {
    case ONNX_AUTO_PAD_NOTSET: return TCONV_ONNX_NOTSET;
    case ONNX_AUTO_PAD_SAME_UPPER: return TCONV_ONNX_SAME_UPPER;
    case ONNX_AUTO_PAD_SAME_LOWER: return TCONV_ONNX_SAME_LOWER;
    case ONNX_AUTO_PAD_VALID: return TCONV_ONNX_VALID;
    }
    cr_assert_fail("%s: unknown auto_pad value %d", oc->name, (int)oc->auto_pad);
    return TCONV_ONNX_NOTSET;
}

/*
 * Output height or width straight from the ONNX operator spec, computed here
 * without tconv (dimension i: 0 = H, 1 = W). It checks the vectors against the
 * spec, so that the tconv_desc_output check below tests tconv, not the data.
 */
static int64_t onnx_spec_output(const onnx_case *oc, int i)
{
    if (oc->has_output_shape) return oc->output_shape[i];
    int64_t in = oc->x_shape[2 + i], k = oc->w_shape[2 + i];
    int64_t s = oc->has_strides ? oc->strides[i] : 1;
    int64_t dil = oc->has_dilations ? oc->dilations[i] : 1;
    int64_t op = oc->has_output_padding ? oc->output_padding[i] : 0;
    tconv_onnx_auto_pad ap = to_tconv_auto_pad(oc);
    if (ap == TCONV_ONNX_SAME_UPPER || ap == TCONV_ONNX_SAME_LOWER) return in * s;
    int64_t pb = 0, pe = 0;
    if (ap == TCONV_ONNX_NOTSET && oc->has_pads) {
        pb = oc->pads[i];
        pe = oc->pads[2 + i];
    }
    return s * (in - 1) + op + ((k - 1) * dil + 1) - pb - pe;
}

/* Guards the exact-comparison argument of the header comment: integral inputs
 * and a bound on any partial sum of |x * w| terms well inside 2^24. */
static void check_exactness_bound(const onnx_case *oc, int64_t groups)
{
    double mx = 0.0, mw = 0.0;
    for (int64_t i = 0; i < prod4(oc->x_shape); i++) {
        cr_assert(oc->x[i] == floor(oc->x[i]), "%s: X[%lld] = %g is not an integer", oc->name,
                  (long long)i, oc->x[i]);
        mx = fmax(mx, fabs(oc->x[i]));
    }
    for (int64_t i = 0; i < prod4(oc->w_shape); i++) {
        cr_assert(oc->w[i] == floor(oc->w[i]), "%s: W[%lld] = %g is not an integer", oc->name,
                  (long long)i, oc->w[i]);
        mw = fmax(mw, fabs(oc->w[i]));
    }
    double terms = (double)(oc->x_shape[1] / groups) * (double)oc->w_shape[2] *
                   (double)oc->w_shape[3];
    cr_assert(mx * mw * terms < 16777216.0,
              "%s: values too large for an exact f32 comparison (bound %g)", oc->name,
              mx * mw * terms);
}

/* Index of the first element where a and b differ (== on doubles), or -1. */
static int64_t first_mismatch(const double *a, const double *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!(a[i] == b[i])) return i;
    return -1;
}

/* Reports a mismatch at flat NCHW index i of a Y of shape ys. */
static void assert_same_y(const char *ctx, const char *what, const double *got,
                          const double *want, const int64_t ys[4])
{
    int64_t i = first_mismatch(got, want, prod4(ys));
    if (i < 0) return;
    int64_t w = i % ys[3], h = (i / ys[3]) % ys[2], f = (i / (ys[3] * ys[2])) % ys[1],
            n = i / (ys[3] * ys[2] * ys[1]);
    cr_assert_fail("%s: %s differs at y[n=%lld][f=%lld][h=%lld][w=%lld]: got %.17g, expected %.17g",
                   ctx, what, (long long)n, (long long)f, (long long)h, (long long)w, got[i],
                   want[i]);
}

static void run_case(size_t idx, tconv_dtype dtype)
{
    cr_assert_lt(idx, (size_t)ONNX_NUM_CASES, "case index %zu out of range", idx);
    const onnx_case *oc = &onnx_cases[idx];
    char ctx[160];
    snprintf(ctx, sizeof ctx, "%s [%s]", oc->name, dtype_name(dtype));

    /* --- the node's attributes, as an ONNX backend reads them --------------- */
    int64_t groups = oc->has_group ? oc->group : 1;
    cr_assert_eq(oc->w_shape[0], oc->x_shape[1], "%s: W has %lld input channels, X has %lld", ctx,
                 (long long)oc->w_shape[0], (long long)oc->x_shape[1]);
    if (oc->has_kernel_shape) {
        cr_assert(oc->kernel_shape[0] == oc->w_shape[2] && oc->kernel_shape[1] == oc->w_shape[3],
                  "%s: kernel_shape %lldx%lld does not match W's %lldx%lld", ctx,
                  (long long)oc->kernel_shape[0], (long long)oc->kernel_shape[1],
                  (long long)oc->w_shape[2], (long long)oc->w_shape[3]);
    }
    check_exactness_bound(oc, groups);

    tconv_desc d;
    tconv_desc_init(&d);
    d.batch = oc->x_shape[0];
    d.channels = oc->x_shape[1];
    d.in_h = oc->x_shape[2];
    d.in_w = oc->x_shape[3];
    d.groups = groups;
    d.filters = oc->w_shape[1] * groups; /* W is C x M/group x kH x kW */
    d.filter_h = oc->w_shape[2];
    d.filter_w = oc->w_shape[3];
    if (oc->has_strides) {
        d.stride_h = oc->strides[0];
        d.stride_w = oc->strides[1];
    }
    if (oc->has_dilations) {
        d.dilation_h = oc->dilations[0];
        d.dilation_w = oc->dilations[1];
    }
    d.dtype = dtype;
    d.layout = TCONV_NCHW;
    d.weight_layout = TCONV_W_IOHW;

    /* --- crops through tconv's ONNX helpers ---------------------------------- */
    const int64_t *out_pad = oc->has_output_padding ? oc->output_padding : NULL;
    tconv_onnx_auto_pad ap = to_tconv_auto_pad(oc);
    tconv_status st;
    const char *helper;
    if (oc->has_output_shape) {
        helper = "tconv_crop_onnx_output_shape";
        st = tconv_crop_onnx_output_shape(&d, oc->output_shape, out_pad, ap);
    } else if (ap != TCONV_ONNX_NOTSET) {
        helper = "tconv_crop_onnx_auto_pad";
        st = tconv_crop_onnx_auto_pad(&d, ap, out_pad);
    } else {
        static const int64_t zero_pads[4] = {0, 0, 0, 0};
        helper = "tconv_crop_onnx_pads";
        st = tconv_crop_onnx_pads(&d, oc->has_pads ? oc->pads : zero_pads, out_pad);
    }
    cr_assert_eq(st, TCONV_OK, "%s: %s failed: %s (%s)", ctx, helper, tconv_strerror(st),
                 tconv_last_error());
    cr_assert_eq(d.crop_mode, TCONV_CROP_MANUAL, "%s: %s left crop_mode %d, expected MANUAL", ctx,
                 helper, (int)d.crop_mode);

    st = tconv_desc_check(&d);
    cr_assert_eq(st, TCONV_OK, "%s: tconv_desc_check after %s: %s (%s)", ctx, helper,
                 tconv_strerror(st), tconv_last_error());

    /* --- output shape --------------------------------------------------------- */
    const int64_t *ys = oc->y_shape;
    cr_assert(onnx_spec_output(oc, 0) == ys[2] && onnx_spec_output(oc, 1) == ys[3],
              "%s: the ONNX spec's output size %lldx%lld disagrees with the vector's Y %lldx%lld",
              ctx, (long long)onnx_spec_output(oc, 0), (long long)onnx_spec_output(oc, 1),
              (long long)ys[2], (long long)ys[3]);
    cr_assert(ys[0] == d.batch && ys[1] == d.filters,
              "%s: Y is %lld x %lld, desc has batch %lld and %lld filters", ctx, (long long)ys[0],
              (long long)ys[1], (long long)d.batch, (long long)d.filters);

    int64_t oh = -1, ow = -1;
    st = tconv_desc_output(&d, &oh, &ow);
    cr_assert_eq(st, TCONV_OK, "%s: tconv_desc_output: %s (%s)", ctx, tconv_strerror(st),
                 tconv_last_error());
    cr_assert(oh == ys[2] && ow == ys[3],
              "%s: tconv_desc_output gives %lldx%lld after %s (crops t%lld b%lld l%lld r%lld), "
              "ONNX expects %lldx%lld",
              ctx, (long long)oh, (long long)ow, helper, (long long)d.crop_top,
              (long long)d.crop_bottom, (long long)d.crop_left, (long long)d.crop_right,
              (long long)ys[2], (long long)ys[3]);

    int64_t y_elems = -1;
    size_t y_bytes = 0;
    st = tconv_desc_tensor_size(&d, TCONV_TENSOR_Y, &y_elems, &y_bytes);
    cr_assert_eq(st, TCONV_OK, "%s: tconv_desc_tensor_size(Y): %s", ctx, tconv_strerror(st));
    cr_assert_eq(y_elems, prod4(ys), "%s: Y has %lld elements, tconv says %lld", ctx,
                 (long long)prod4(ys), (long long)y_elems);
    cr_assert_eq(y_bytes,
                 (size_t)y_elems * (dtype == TCONV_F32 ? sizeof(float) : sizeof(double)),
                 "%s: Y byte count %zu", ctx, y_bytes);

    /* --- the independent oracle on the same desc must give the literal Y ------ */
    double *scatter = malloc((size_t)y_elems * sizeof(double));
    cr_assert_not_null(scatter);
    tu_forward_scatter(&d, oc->x, oc->w, NULL, scatter);
    char what[200];
    snprintf(what, sizeof what,
             "tu_forward_scatter with %s's crops (t%lld b%lld l%lld r%lld) vs ONNX Y", helper,
             (long long)d.crop_top, (long long)d.crop_bottom, (long long)d.crop_left,
             (long long)d.crop_right);
    assert_same_y(ctx, what, scatter, oc->y, ys);

    /* --- tconv_forward, default plan and reference plan ----------------------- */
    static const unsigned plan_flags[2] = {0u, TCONV_PLAN_REFERENCE};
    void *xb = tu_to_dtype(dtype, oc->x, prod4(oc->x_shape));
    void *wb = tu_to_dtype(dtype, oc->w, prod4(oc->w_shape));
    double *nan_fill = malloc((size_t)y_elems * sizeof(double));
    cr_assert_not_null(nan_fill);
    for (int64_t i = 0; i < y_elems; i++) nan_fill[i] = NAN;

    for (int k = 0; k < 2; k++) {
        char pctx[200];
        snprintf(pctx, sizeof pctx, "%s [%s, %s plan]", oc->name, dtype_name(dtype),
                 plan_flags[k] ? "reference" : "default");

        tconv_plan *plan = NULL;
        st = tconv_plan_create(&plan, &d, plan_flags[k]);
        cr_assert_eq(st, TCONV_OK, "%s: tconv_plan_create: %s (%s)", pctx, tconv_strerror(st),
                     tconv_last_error());
        cr_assert_not_null(plan, "%s: tconv_plan_create returned OK and a NULL plan", pctx);

        /* NaN-filled output: a position the pass fails to write (the output
         * is overwritten, not accumulated into) shows up as a mismatch. */
        void *yb = tu_to_dtype(dtype, nan_fill, y_elems);
        st = tconv_forward(plan, xb, wb, NULL, yb);
        cr_assert_eq(st, TCONV_OK, "%s: tconv_forward: %s (%s)", pctx, tconv_strerror(st),
                     tconv_last_error());
        double *y = tu_from_dtype(dtype, yb, y_elems);

        assert_same_y(pctx, "tconv_forward vs ONNX Y", y, oc->y, ys);
        assert_same_y(pctx, "tconv_forward vs tu_forward_scatter", y, scatter, ys);

        free(y);
        free(yb);
        tconv_plan_destroy(plan);
    }

    free(nan_fill);
    free(xb);
    free(wb);
    free(scatter);
}

/* Parameters: case indices into onnx_cases[]. Only plain integers cross into
 * the test process; each process looks its case up in its own static table. */
static void free_params(struct criterion_test_params *crp) { cr_free(crp->params); }

static struct criterion_test_params case_indices(void)
{
    size_t *idx = cr_malloc(sizeof(size_t) * ONNX_NUM_CASES);
    if (!idx) abort(); /* runs in the runner, outside any test: no cr_assert here */
    for (size_t i = 0; i < ONNX_NUM_CASES; i++) idx[i] = i;
    return cr_make_param_array(size_t, idx, ONNX_NUM_CASES, free_params);
}

Test(onnx, vector_table)
{
    /* The generated header holds all nine ONNX 2-D ConvTranspose cases. */
    cr_assert_eq(ONNX_NUM_CASES, 9, "onnx_vectors.h has %d cases, expected 9", ONNX_NUM_CASES);
    for (size_t i = 0; i < ONNX_NUM_CASES; i++) {
        cr_assert_not_null(onnx_cases[i].name, "case %zu has no name", i);
        cr_assert(onnx_cases[i].x && onnx_cases[i].w && onnx_cases[i].y,
                  "case %s lacks a tensor", onnx_cases[i].name);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(onnx_cases[i].name, onnx_cases[j].name, "duplicate case %s",
                              onnx_cases[i].name);
    }
}

ParameterizedTestParameters(onnx, forward_f32) { return case_indices(); }

ParameterizedTest(size_t *idx, onnx, forward_f32) { run_case(*idx, TCONV_F32); }

ParameterizedTestParameters(onnx, forward_f64) { return case_indices(); }

ParameterizedTest(size_t *idx, onnx, forward_f64) { run_case(*idx, TCONV_F64); }
