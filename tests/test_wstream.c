/*
 * Weight streaming (kernels/wstream.h): the three passes of plans that read
 * the weights in place, against the reference plan on random configurations
 * of every layout, both weight layouts it reads (IOHW, MATLAB), both dtypes,
 * groups, dilations, crops and activations; the same bits for every thread
 * count; and when the automatic choice takes it.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "testutil.h"

typedef struct passes {
    double *y, *dx, *dw, *dbias;
} passes;

static void free_passes(passes *o)
{
    free(o->y);
    free(o->dx);
    free(o->dw);
    free(o->dbias);
}

/* All three passes of d (plan flags `flags`, `threads` threads) on x, w,
 * bias, dy; outputs start as NaN so an unwritten element fails. */
static passes run_all(const tconv_desc *d, unsigned flags, int threads, const double *x,
                      const double *w, const double *bias, const double *dy, char *info,
                      size_t info_n)
{
    const tu_shape s = tu_shape_of(d);
    const int64_t n[4] = {tu_y_elems(&s), tu_x_elems(&s), tu_w_elems(&s), s.f};
    passes o = {malloc((size_t)n[0] * sizeof(double)), malloc((size_t)n[1] * sizeof(double)),
                malloc((size_t)n[2] * sizeof(double)), malloc((size_t)n[3] * sizeof(double))};
    double *all[4] = {o.y, o.dx, o.dw, o.dbias};
    for (int k = 0; k < 4; k++) {
        cr_assert(all[k]);
        for (int64_t i = 0; i < n[k]; i++) all[k][i] = NAN;
    }
    cr_assert_eq(tconv_set_num_threads(threads), TCONV_OK);
    tconv_plan *plan;
    cr_assert_eq(tconv_plan_create(&plan, d, flags), TCONV_OK, "%s", tconv_last_error());
    if (info) snprintf(info, info_n, "%s", tconv_plan_info(plan));
    cr_assert_eq(tu_run_forward(plan, d, x, w, bias, o.y), TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(tu_run_backward_data(plan, d, dy, w, o.dx), TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(tu_run_backward_weights(plan, d, x, dy, o.dw, o.dbias), TCONV_OK, "%s",
                 tconv_last_error());
    tconv_plan_destroy(plan);
    cr_assert_eq(tconv_set_num_threads(1), TCONV_OK);
    return o;
}

/* Random inputs for d from seed. */
typedef struct inputs {
    double *x, *w, *bias, *dy;
} inputs;

static inputs random_inputs(const tconv_desc *d, uint64_t seed)
{
    const tu_shape s = tu_shape_of(d);
    tu_rng r = {seed};
    inputs in = {malloc((size_t)tu_x_elems(&s) * sizeof(double)),
                 malloc((size_t)tu_w_elems(&s) * sizeof(double)),
                 malloc((size_t)s.f * sizeof(double)),
                 malloc((size_t)tu_y_elems(&s) * sizeof(double))};
    cr_assert(in.x && in.w && in.bias && in.dy);
    tu_fill(&r, in.x, tu_x_elems(&s));
    tu_fill(&r, in.w, tu_w_elems(&s));
    tu_fill(&r, in.bias, s.f);
    tu_fill(&r, in.dy, tu_y_elems(&s));
    return in;
}

static void free_inputs(inputs *in)
{
    free(in->x);
    free(in->w);
    free(in->bias);
    free(in->dy);
}

/* A random configuration with at least 64 columns per weight row (the
 * widest forward tile of any ISA), so that the strategy can run it. */
static tconv_desc random_wide_desc(tu_rng *r, const tu_combo *k)
{
    tconv_desc d = tu_random_desc(r, k, 6);
    const int64_t g = d.groups, kk = d.filter_h * d.filter_w;
    int64_t fg = d.filters / g;
    if (fg * kk < 64) fg = (64 + kk - 1) / kk + tu_range(r, 0, 3);
    d.filters = fg * g;
    static const tconv_activation acts[] = {TCONV_ACT_NONE, TCONV_ACT_RELU, TCONV_ACT_TANH};
    d.activation = acts[tu_range(r, 0, 2)];
    return d;
}

Test(wstream, every_pass_matches_the_reference)
{
    cr_assert_eq(setenv("TCONV_WSTREAM", "on", 1), 0);
    const tconv_layout layouts[] = {TCONV_NCHW, TCONV_NHWC, TCONV_SSCB};
    const tconv_weight_layout wls[] = {TCONV_W_IOHW, TCONV_W_MATLAB};
    const tconv_dtype dtypes[] = {TCONV_F32, TCONV_F64};
    tu_rng r = {2026120601};
    int runs = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 2; c++)
                for (int i = 0; i < 8; i++) {
                    const tu_combo k = {layouts[a], wls[b], dtypes[c]};
                    const tconv_desc d = random_wide_desc(&r, &k);
                    const tu_shape s = tu_shape_of(&d);
                    inputs in = random_inputs(&d, tu_next(&r));
                    char info[1024], what[512];
                    passes fast = run_all(&d, 0, 1 + (int)tu_range(&r, 0, 1), in.x, in.w,
                                          in.bias, in.dy, info, sizeof info);
                    passes ref = run_all(&d, TCONV_PLAN_REFERENCE, 1, in.x, in.w, in.bias, in.dy,
                                         NULL, 0);
                    tu_describe(&d, what, sizeof what);
                    cr_assert(strstr(info, "bwd_data wstream") != NULL,
                              "%s: weight streaming does not run: %s", what, info);
                    const double tol = tu_tolerance(d.dtype);
                    const double e[4] = {tu_max_rel_diff(fast.y, ref.y, tu_y_elems(&s)),
                                         tu_max_rel_diff(fast.dx, ref.dx, tu_x_elems(&s)),
                                         tu_max_rel_diff(fast.dw, ref.dw, tu_w_elems(&s)),
                                         tu_max_rel_diff(fast.dbias, ref.dbias, s.f)};
                    static const char *names[4] = {"y", "dx", "dw", "dbias"};
                    for (int t = 0; t < 4; t++)
                        cr_assert(e[t] <= tol, "%s: %s differs from the reference by %g (%s)",
                                  what, names[t], e[t], info);
                    free_passes(&fast);
                    free_passes(&ref);
                    free_inputs(&in);
                    runs++;
                }
    unsetenv("TCONV_WSTREAM");
    printf("wstream: %d random configurations, all three passes within tolerance\n", runs);
}

/* Several images, many channels (several tiles of every kind), a partial
 * last column block: the same bits for 1, 2, 3 and 7 threads. */
Test(wstream, same_bits_for_every_thread_count)
{
    cr_assert_eq(setenv("TCONV_WSTREAM", "on", 1), 0);
    tconv_desc d;
    tconv_desc_init(&d);
    d.batch = 3;
    d.channels = 70;
    d.in_h = 3;
    d.in_w = 5;
    d.filters = 37;
    d.filter_h = d.filter_w = 4;
    d.stride_h = d.stride_w = 2;
    d.layout = TCONV_NHWC;
    const int64_t pad[2] = {1, 1}, out_pad[2] = {0, 1};
    cr_assert_eq(tconv_crop_pytorch(&d, pad, out_pad), TCONV_OK);
    const tu_shape s = tu_shape_of(&d);
    inputs in = random_inputs(&d, 7);
    char info[1024];
    passes one = run_all(&d, 0, 1, in.x, in.w, in.bias, in.dy, info, sizeof info);
    cr_assert(strstr(info, "wstream") != NULL, "%s", info);
    const int threads[] = {2, 3, 7};
    for (int t = 0; t < 3; t++) {
        passes many = run_all(&d, 0, threads[t], in.x, in.w, in.bias, in.dy, NULL, 0);
        cr_assert(memcmp(one.y, many.y, (size_t)tu_y_elems(&s) * sizeof(double)) == 0,
                  "y differs with %d threads", threads[t]);
        cr_assert(memcmp(one.dx, many.dx, (size_t)tu_x_elems(&s) * sizeof(double)) == 0,
                  "dx differs with %d threads", threads[t]);
        cr_assert(memcmp(one.dw, many.dw, (size_t)tu_w_elems(&s) * sizeof(double)) == 0,
                  "dw differs with %d threads", threads[t]);
        cr_assert(memcmp(one.dbias, many.dbias, (size_t)s.f * sizeof(double)) == 0,
                  "dbias differs with %d threads", threads[t]);
        free_passes(&many);
    }
    free_passes(&one);
    free_inputs(&in);
    unsetenv("TCONV_WSTREAM");
}

/* Forward with more pixels than a tile holds: the weight rows go into
 * panels, kc channels at a time. Enough channels for several chunks of kc
 * (about 512 KB of panels each: 300 channels of 64 filters x 16 taps in
 * f32 take three) and a partial last block, against the reference in the
 * data and weight layouts the strategy runs, f32 and f64. */
Test(wstream, forward_panels_over_channel_chunks)
{
    cr_assert_eq(setenv("TCONV_WSTREAM", "on", 1), 0);
    const tconv_layout layouts[] = {TCONV_NCHW, TCONV_SSCB};
    const tconv_weight_layout wls[] = {TCONV_W_IOHW, TCONV_W_MATLAB};
    for (int t = TCONV_F32; t <= TCONV_F64; t++)
        for (int a = 0; a < 2; a++) {
            tconv_desc d;
            tconv_desc_init(&d);
            d.dtype = (tconv_dtype)t;
            d.layout = layouts[a];
            d.weight_layout = wls[a];
            d.batch = 2;
            d.channels = 300;
            d.in_h = 3;
            d.in_w = 3;
            d.filters = 67;
            d.filter_h = d.filter_w = 4;
            d.stride_h = d.stride_w = 2;
            d.crop_top = d.crop_bottom = d.crop_left = d.crop_right = 1;
            const tu_shape s = tu_shape_of(&d);
            inputs in = random_inputs(&d, 300u + (uint64_t)(t * 2 + a));
            char info[1024], what[512];
            passes fast = run_all(&d, 0, 1, in.x, in.w, in.bias, in.dy, info, sizeof info);
            passes ref = run_all(&d, TCONV_PLAN_REFERENCE, 1, in.x, in.w, in.bias, in.dy, NULL, 0);
            tu_describe(&d, what, sizeof what);
            cr_assert(strstr(info, "(weights per call: wstream") != NULL,
                      "%s: the forward pass does not stream the weights: %s", what, info);
            const double e = tu_max_rel_diff(fast.y, ref.y, tu_y_elems(&s));
            cr_assert(e <= tu_tolerance(d.dtype), "%s: y differs from the reference by %g (%s)",
                      what, e, info);
            free_passes(&fast);
            free_passes(&ref);
            free_inputs(&in);
        }
    unsetenv("TCONV_WSTREAM");
}

/* A few pixels (1, 2 or 4 in the batch; DCGAN's latent layer is 1):
 * backward-data as dot products of weight rows and gathered columns where a
 * tile's columns would be mostly empty (always at 1 pixel), against the
 * reference in every layout, weight layout and dtype, with groups, and the
 * same bits on 1 and 2 threads. */
Test(wstream, few_pixels_as_dot_products)
{
    cr_assert_eq(setenv("TCONV_WSTREAM", "on", 1), 0);
    const tconv_layout layouts[] = {TCONV_NCHW, TCONV_NHWC, TCONV_SSCB};
    const tconv_weight_layout wls[] = {TCONV_W_IOHW, TCONV_W_MATLAB};
    const tconv_dtype dtypes[] = {TCONV_F32, TCONV_F64};
    const int64_t sizes[3][3] = {{1, 1, 1}, {2, 1, 1}, {1, 2, 2}}; /* batch, h, w */
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 2; c++)
                for (int z = 0; z < 3; z++)
                    for (int64_t groups = 1; groups <= 2; groups++) {
                        tconv_desc d;
                        tconv_desc_init(&d);
                        d.layout = layouts[a];
                        d.weight_layout = wls[b];
                        d.dtype = dtypes[c];
                        d.batch = sizes[z][0];
                        d.in_h = sizes[z][1];
                        d.in_w = sizes[z][2];
                        d.groups = groups;
                        d.channels = 7 * groups;
                        d.filters = 37 * groups;
                        d.filter_h = d.filter_w = 4;
                        if (tconv_desc_check(&d) != TCONV_OK) continue; /* e.g. MATLAB weights with groups */
                        const tu_shape s = tu_shape_of(&d);
                        inputs in = random_inputs(&d, 11 + (uint64_t)(a * 100 + b * 10 + c + z * 1000));
                        char info[1024], what[512];
                        passes one = run_all(&d, 0, 1, in.x, in.w, in.bias, in.dy, info, sizeof info);
                        passes two = run_all(&d, 0, 2, in.x, in.w, in.bias, in.dy, NULL, 0);
                        passes ref = run_all(&d, TCONV_PLAN_REFERENCE, 1, in.x, in.w, in.bias, in.dy,
                                             NULL, 0);
                        tu_describe(&d, what, sizeof what);
                        cr_assert(strstr(info, "bwd_data wstream") != NULL, "%s: %s", what, info);
                        if (d.batch * d.in_h * d.in_w == 1)
                            cr_assert(strstr(info, "/ dot /") != NULL, "%s: no dot products: %s",
                                      what, info);
                        const double e = tu_max_rel_diff(one.dx, ref.dx, tu_x_elems(&s));
                        cr_assert(e <= tu_tolerance(d.dtype), "%s: dx differs from the reference by %g (%s)",
                                  what, e, info);
                        cr_assert(memcmp(one.dx, two.dx, (size_t)tu_x_elems(&s) * sizeof(double)) == 0,
                                  "%s: dx differs on 2 threads", what);
                        free_passes(&one);
                        free_passes(&two);
                        free_passes(&ref);
                        free_inputs(&in);
                    }
    unsetenv("TCONV_WSTREAM");
}

/* The plan's info for a DCGAN-like layer: C -> F, k4 s2 pad 1, size x size
 * input, batch 1, weights in wl. */
static void info_of(int64_t c, int64_t f, int64_t size, tconv_weight_layout wl, char *info,
                    size_t n)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.channels = c;
    d.filters = f;
    d.in_h = d.in_w = size;
    d.filter_h = d.filter_w = 4;
    d.stride_h = d.stride_w = 2;
    d.weight_layout = wl;
    const int64_t pad[2] = {1, 1}, out_pad[2] = {0, 0};
    cr_assert_eq(tconv_crop_pytorch(&d, pad, out_pad), TCONV_OK);
    tconv_plan *plan;
    cr_assert_eq(tconv_plan_create(&plan, &d, 0), TCONV_OK, "%s", tconv_last_error());
    snprintf(info, n, "%s", tconv_plan_info(plan));
    tconv_plan_destroy(plan);
}

Test(wstream, automatic_choice)
{
    char info[1024];
    unsetenv("TCONV_WSTREAM");
    info_of(256, 128, 4, TCONV_W_IOHW, info, sizeof info); /* 16 pixels, 2 MB of weights */
    cr_assert(strstr(info, "bwd_weights wstream") != NULL, "few pixels: %s", info);
    info_of(256, 128, 8, TCONV_W_IOHW, info, sizeof info); /* 64: backward-weights packs */
    cr_assert(strstr(info, "bwd_data wstream") != NULL &&
                  strstr(info, "bwd_weights wstream") == NULL &&
                  strstr(info, "bwd_weights f") != NULL,
              "64 pixels: %s", info);
    info_of(64, 64, 32, TCONV_W_IOHW, info, sizeof info); /* 1024 pixels */
    cr_assert(strstr(info, "wstream") == NULL, "many pixels: %s", info);
    info_of(256, 128, 4, TCONV_W_OHWI, info, sizeof info); /* rows not contiguous */
    cr_assert(strstr(info, "wstream") == NULL, "OHWI weights: %s", info);
    cr_assert_eq(setenv("TCONV_WSTREAM", "off", 1), 0);
    info_of(256, 128, 4, TCONV_W_IOHW, info, sizeof info);
    cr_assert(strstr(info, "wstream") == NULL, "TCONV_WSTREAM=off: %s", info);
    unsetenv("TCONV_WSTREAM");
    /* A kernel forced by name is under test: its passes stay its own. */
    cr_assert_eq(setenv("TCONV_FWD_MODE", "gather", 1), 0);
    info_of(256, 128, 4, TCONV_W_IOHW, info, sizeof info);
    cr_assert(strstr(info, "wstream") == NULL, "TCONV_FWD_MODE set: %s", info);
    unsetenv("TCONV_FWD_MODE");
}

/* Weights kept by tconv_plan_set_weights run the forward driver's packed
 * copy; the per-call forward of the same plan streams: the same result. */
Test(wstream, kept_weights_agree_with_streamed)
{
    cr_assert_eq(setenv("TCONV_WSTREAM", "on", 1), 0);
    tu_rng r = {99};
    const tu_combo k = {TCONV_NCHW, TCONV_W_IOHW, TCONV_F32};
    for (int i = 0; i < 6; i++) {
        const tconv_desc d = random_wide_desc(&r, &k);
        const tu_shape s = tu_shape_of(&d);
        inputs in = random_inputs(&d, tu_next(&r));
        const int64_t ny = tu_y_elems(&s);
        double *a = malloc((size_t)ny * sizeof *a), *b = malloc((size_t)ny * sizeof *b);
        cr_assert(a && b);
        tconv_plan *plan;
        cr_assert_eq(tconv_plan_create(&plan, &d, 0), TCONV_OK, "%s", tconv_last_error());
        cr_assert_eq(tu_run_forward(plan, &d, in.x, in.w, in.bias, a), TCONV_OK);
        void *wf = tu_to_dtype(d.dtype, in.w, tu_w_elems(&s));
        void *bf = tu_to_dtype(d.dtype, in.bias, s.f);
        void *xf = tu_to_dtype(d.dtype, in.x, tu_x_elems(&s));
        void *yf = tu_to_dtype(d.dtype, a, ny);
        cr_assert_eq(tconv_plan_set_weights(plan, wf, bf), TCONV_OK, "%s", tconv_last_error());
        cr_assert_eq(tconv_forward(plan, xf, NULL, NULL, yf), TCONV_OK, "%s", tconv_last_error());
        double *kept = tu_from_dtype(d.dtype, yf, ny);
        memcpy(b, kept, (size_t)ny * sizeof *b);
        free(kept);
        free(xf);
        free(yf);
        char what[512];
        tu_describe(&d, what, sizeof what);
        const double e = tu_max_rel_diff(a, b, ny);
        cr_assert(e <= tu_tolerance(d.dtype), "%s: kept and streamed weights differ by %g (%s)",
                  what, e, tconv_plan_info(plan));
        tconv_plan_destroy(plan);
        free(wf);
        free(bf);
        free(a);
        free(b);
        free_inputs(&in);
    }
    unsetenv("TCONV_WSTREAM");
}
