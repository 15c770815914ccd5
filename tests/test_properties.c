/*
 * Property tests over random small configurations of every option: batch,
 * groups, channels, filters, sizes, strides, dilations, every crop (negative
 * ones included) and MATLAB "same", for each data layout x weight layout x
 * dtype.
 *
 * - forward (with and without bias) against tu_forward_scatter, a scatter
 *   loop written in the test independently of the library's gather form;
 * - backward-data and backward-weights by the adjoint identity
 *   <fwd(x), dy> = <x, bwd_data(dy)> = <w, bwd_weights(x, dy)> (bias off);
 * - dbias against a direct sum of dy.
 * Outputs are pre-filled with NaN, so an element a pass fails to write fails
 * the comparison: passes overwrite, they never accumulate.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "testutil.h"

#define CONFIGS_PER_COMBINATION 100

static double *nan_array(int64_t n)
{
    double *v = malloc((size_t)n * sizeof *v);
    cr_assert_not_null(v);
    for (int64_t i = 0; i < n; i++) v[i] = NAN;
    return v;
}

static double *random_array(tu_rng *r, int64_t n)
{
    double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    cr_assert_not_null(v);
    tu_fill(r, v, n);
    return v;
}

static double abs_dot(const double *a, const double *b, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += fabs(a[i] * b[i]);
    return s;
}

static void check_one(const tconv_desc *d, tu_rng *r)
{
    char what[512];
    tu_describe(d, what, sizeof what);
    const tu_shape s = tu_shape_of(d);
    const double tol = tu_tolerance(d->dtype);

    int64_t out_h = 0, out_w = 0;
    cr_assert_eq(tconv_desc_output(d, &out_h, &out_w), TCONV_OK, "%s: %s", what, tconv_last_error());
    cr_assert(out_h == s.oh && out_w == s.ow, "%s: output %lldx%lld, expected %lldx%lld", what,
              (long long)out_h, (long long)out_w, (long long)s.oh, (long long)s.ow);

    tconv_plan *plan = NULL;
    cr_assert_eq(tconv_plan_create(&plan, d, 0), TCONV_OK, "%s: %s", what, tconv_last_error());

    const int64_t nx = tu_x_elems(&s), nw = tu_w_elems(&s), ny = tu_y_elems(&s);
    double *x = random_array(r, nx), *w = random_array(r, nw), *bias = random_array(r, s.f);
    double *dy = random_array(r, ny);
    double *expect = malloc((size_t)ny * sizeof *expect);
    cr_assert_not_null(expect);

    /* Forward with bias, then without, against the independent scatter loop. */
    for (int with_bias = 1; with_bias >= 0; with_bias--) {
        double *y = nan_array(ny);
        tu_forward_scatter(d, x, w, with_bias ? bias : NULL, expect);
        cr_assert_eq(tu_run_forward(plan, d, x, w, with_bias ? bias : NULL, y), TCONV_OK, "%s: %s",
                     what, tconv_last_error());
        const double err = tu_max_rel_diff(y, expect, ny);
        cr_assert(err <= tol, "%s: forward (bias %d) differs from the scatter loop by %g", what,
                  with_bias, err);
        free(y);
    }
    /* expect now holds fwd(x) without bias. The same through pre-packed
     * weights: tconv_plan_set_weights, then forward with w = bias = NULL. */
    {
        double *y = nan_array(ny), *with_bias = malloc((size_t)ny * sizeof *with_bias);
        cr_assert_not_null(with_bias);
        tu_forward_scatter(d, x, w, bias, with_bias);
        void *wb = tu_to_dtype(d->dtype, w, nw), *bb = tu_to_dtype(d->dtype, bias, s.f);
        cr_assert_eq(tconv_plan_set_weights(plan, wb, bb), TCONV_OK, "%s: %s", what,
                     tconv_last_error());
        free(wb); free(bb); /* the plan keeps its own packed copy */
        void *xb = tu_to_dtype(d->dtype, x, nx), *yb = tu_to_dtype(d->dtype, y, ny);
        cr_assert_eq(tconv_forward(plan, xb, NULL, NULL, yb), TCONV_OK, "%s: %s", what,
                     tconv_last_error());
        double *got = tu_from_dtype(d->dtype, yb, ny);
        const double err = tu_max_rel_diff(got, with_bias, ny);
        cr_assert(err <= tol, "%s: forward with set weights differs from the scatter loop by %g",
                  what, err);
        free(xb); free(yb); free(got); free(y); free(with_bias);
    }

    /* <fwd(x), dy> = <x, bwd_data(dy)> */
    double *dx = nan_array(nx);
    cr_assert_eq(tu_run_backward_data(plan, d, dy, w, dx), TCONV_OK, "%s: %s", what,
                 tconv_last_error());
    const double lhs = tu_dot(expect, dy, ny), rhs_data = tu_dot(x, dx, nx);
    const double scale_data = abs_dot(expect, dy, ny) + abs_dot(x, dx, nx) + 1e-30;
    cr_assert(fabs(lhs - rhs_data) <= tol * scale_data,
              "%s: <fwd(x), dy> = %.17g but <x, bwd_data(dy)> = %.17g", what, lhs, rhs_data);

    /* <fwd(x), dy> = <w, bwd_weights(x, dy)>, and dbias = sum of dy */
    double *dw = nan_array(nw), *dbias = nan_array(s.f);
    cr_assert_eq(tu_run_backward_weights(plan, d, x, dy, dw, dbias), TCONV_OK, "%s: %s", what,
                 tconv_last_error());
    const double rhs_weights = tu_dot(w, dw, nw);
    const double scale_weights = abs_dot(expect, dy, ny) + abs_dot(w, dw, nw) + 1e-30;
    cr_assert(fabs(lhs - rhs_weights) <= tol * scale_weights,
              "%s: <fwd(x), dy> = %.17g but <w, bwd_weights(x, dy)> = %.17g", what, lhs,
              rhs_weights);
    for (int64_t f = 0; f < s.f; f++) {
        double sum = 0.0, abs_sum = 0.0;
        for (int64_t n = 0; n < s.n; n++)
            for (int64_t oh = 0; oh < s.oh; oh++)
                for (int64_t ow = 0; ow < s.ow; ow++) {
                    const double v = dy[tu_y_offset(d, &s, n, f, oh, ow)];
                    sum += v;
                    abs_sum += fabs(v);
                }
        cr_assert(fabs(dbias[f] - sum) <= tol * (abs_sum + 1e-30),
                  "%s: dbias[%lld] = %.17g, sum of dy = %.17g", what, (long long)f, dbias[f], sum);
    }

    /* dbias is optional. */
    double *dw2 = nan_array(nw);
    cr_assert_eq(tu_run_backward_weights(plan, d, x, dy, dw2, NULL), TCONV_OK, "%s: %s", what,
                 tconv_last_error());
    cr_assert(tu_max_rel_diff(dw2, dw, nw) == 0.0, "%s: dw differs when dbias is NULL", what);

    free(x); free(w); free(bias); free(dy); free(expect); free(dx); free(dw); free(dbias);
    free(dw2);
    tconv_plan_destroy(plan);
}

ParameterizedTestParameters(properties, random_configurations)
{
    static tu_combo combos[3 * 3 * 2];
    size_t n = 0;
    for (int l = TCONV_NCHW; l <= TCONV_SSCB; l++)
        for (int wl = TCONV_W_IOHW; wl <= TCONV_W_MATLAB; wl++)
            for (int t = TCONV_F32; t <= TCONV_F64; t++)
                combos[n++] = (tu_combo){(tconv_layout)l, (tconv_weight_layout)wl, (tconv_dtype)t};
    return cr_make_param_array(tu_combo, combos, n);
}

ParameterizedTest(tu_combo *k, properties, random_configurations)
{
    /* A distinct, fixed seed per combination: failures reproduce exactly. */
    tu_rng r = {0x7c0ffee + 97u * (uint64_t)k->layout + 13u * (uint64_t)k->weight_layout +
                (uint64_t)k->dtype};
    for (int i = 0; i < CONFIGS_PER_COMBINATION; i++) {
        tconv_desc d = tu_random_desc(&r, k, 3);
        check_one(&d, &r);
    }
}

/* Enough channels per group to fill several output-channel blocks of every
 * kernel (NR up to 64) and leave remainders, on small images. */
ParameterizedTestParameters(properties, random_wide_channels)
{
    static tu_combo combos[3 * 2];
    size_t n = 0;
    for (int l = TCONV_NCHW; l <= TCONV_SSCB; l++)
        for (int t = TCONV_F32; t <= TCONV_F64; t++)
            combos[n++] = (tu_combo){(tconv_layout)l, TCONV_W_IOHW, (tconv_dtype)t};
    return cr_make_param_array(tu_combo, combos, n);
}

ParameterizedTest(tu_combo *k, properties, random_wide_channels)
{
    tu_rng r = {0x5eed + 31u * (uint64_t)k->layout + (uint64_t)k->dtype};
    for (int i = 0; i < 12; i++) {
        tconv_desc d = tu_random_desc(&r, k, 70);
        d.groups = 1 + (i % 4 == 3); /* mostly one group: wide groups */
        d.channels = d.groups * tu_range(&r, 1, 70);
        d.filters = d.groups * tu_range(&r, 1, 70);
        check_one(&d, &r);
    }
}

/* Shapes that must not fall off a cliff, against the reference plan. */
typedef struct awkward {
    const char *name;
    int64_t n, c, f, ih, iw, k, s, crop;
} awkward;

static void check_against_reference(const tconv_desc *d, const char *name)
{
    tconv_plan *fast, *ref;
    cr_assert_eq(tconv_plan_create(&fast, d, 0), TCONV_OK, "%s: %s", name, tconv_last_error());
    cr_assert_eq(tconv_plan_create(&ref, d, TCONV_PLAN_REFERENCE), TCONV_OK, "%s: %s", name,
                 tconv_last_error());
    const tu_shape s = tu_shape_of(d);
    tu_rng r = {77};
    double *x = random_array(&r, tu_x_elems(&s)), *w = random_array(&r, tu_w_elems(&s));
    double *bias = random_array(&r, s.f);
    double *y = nan_array(tu_y_elems(&s)), *expect = nan_array(tu_y_elems(&s));
    cr_assert_eq(tu_run_forward(fast, d, x, w, bias, y), TCONV_OK, "%s", name);
    cr_assert_eq(tu_run_forward(ref, d, x, w, bias, expect), TCONV_OK, "%s", name);
    const double err = tu_max_rel_diff(y, expect, tu_y_elems(&s));
    cr_assert(err <= tu_tolerance(d->dtype), "%s (%s): differs from the reference by %g", name,
              tconv_plan_info(fast), err);
    free(x); free(w); free(bias); free(y); free(expect);
    tconv_plan_destroy(fast);
    tconv_plan_destroy(ref);
}

Test(properties, awkward_shapes)
{
    static const awkward cases[] = {
        {"1x1 input (DCGAN's first layer)", 8, 100, 64, 1, 1, 4, 1, 0},
        {"1x1 input, batch 1", 1, 20, 40, 1, 1, 4, 1, 0},
        {"kernel smaller than the stride", 2, 8, 24, 5, 6, 2, 3, 0},
        {"stride 32, kernel 64 (FCN-32s)", 1, 5, 21, 3, 2, 64, 32, 16},
        {"very wide", 1, 4, 36, 1, 300, 3, 2, 1},
        {"very tall", 1, 4, 36, 300, 1, 3, 2, 1},
        {"batch 64", 64, 6, 20, 3, 3, 4, 2, 1},
        {"few output channels (64->3)", 2, 64, 3, 8, 8, 4, 2, 1},
        {"one output channel, k9 s3 (FSRCNN)", 1, 56, 1, 12, 10, 9, 3, 4},
    };
    for (int t = TCONV_F32; t <= TCONV_F64; t++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const awkward *a = &cases[i];
            tconv_desc d;
            tconv_desc_init(&d);
            d.dtype = (tconv_dtype)t;
            d.layout = i % 2 ? TCONV_NHWC : TCONV_NCHW;
            d.batch = a->n; d.channels = a->c; d.filters = a->f;
            d.in_h = a->ih; d.in_w = a->iw;
            d.filter_h = d.filter_w = a->k;
            d.stride_h = d.stride_w = a->s;
            d.crop_top = d.crop_bottom = d.crop_left = d.crop_right = a->crop;
            check_against_reference(&d, a->name);
        }
}

/* The passes may run on one plan from several threads at once: each thread's
 * result must equal the single-threaded one bit for bit. */
typedef struct concurrent_job {
    const tconv_plan *plan;
    const float *x, *w, *bias;
    float *y;
    tconv_status status;
} concurrent_job;

static void *run_forward_job(void *arg)
{
    concurrent_job *j = arg;
    for (int rep = 0; rep < 3 && j->status == TCONV_OK; rep++)
        j->status = tconv_forward(j->plan, j->x, j->w, j->bias, j->y);
    return NULL;
}

Test(properties, concurrent_passes_on_one_plan)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.batch = 2; d.channels = 6; d.filters = 4; d.groups = 2;
    d.in_h = 5; d.in_w = 4; d.filter_h = 3; d.filter_w = 4;
    d.stride_h = 2; d.stride_w = 3; d.crop_mode = TCONV_CROP_SAME;
    tconv_plan *plan;
    cr_assert_eq(tconv_plan_create(&plan, &d, 0), TCONV_OK, "%s", tconv_last_error());
    tu_shape s = tu_shape_of(&d);
    tu_rng r = {42};
    double *xd = random_array(&r, tu_x_elems(&s)), *wd = random_array(&r, tu_w_elems(&s));
    double *bd = random_array(&r, s.f);
    float *x = tu_to_dtype(TCONV_F32, xd, tu_x_elems(&s));
    float *w = tu_to_dtype(TCONV_F32, wd, tu_w_elems(&s));
    float *bias = tu_to_dtype(TCONV_F32, bd, s.f);
    const int64_t ny = tu_y_elems(&s);
    float *single = malloc((size_t)ny * sizeof *single);
    cr_assert_eq(tconv_forward(plan, x, w, bias, single), TCONV_OK);

    enum { THREADS = 4 };
    pthread_t threads[THREADS];
    concurrent_job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (concurrent_job){plan, x, w, bias, malloc((size_t)ny * sizeof(float)), TCONV_OK};
        cr_assert_eq(pthread_create(&threads[t], NULL, run_forward_job, &jobs[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        cr_assert_eq(jobs[t].status, TCONV_OK, "thread %d: %s", t, tconv_strerror(jobs[t].status));
        cr_assert(memcmp(jobs[t].y, single, (size_t)ny * sizeof(float)) == 0,
                  "thread %d's output differs from the single-threaded one", t);
        free(jobs[t].y);
    }
    free(xd); free(wd); free(bd); free(x); free(w); free(bias); free(single);
    tconv_plan_destroy(plan);
}

/* Every forward kernel of the ISA under test through the whole pipeline
 * (driver, packing, edges), forced with TCONV_FWD_KERNEL, in both driver
 * modes (TCONV_FWD_MODE): the automatic choice alone would leave some
 * kernels and modes unexercised by these tests. */
Test(properties, every_kernel_of_the_isa)
{
    const tconv_isa isa = tconv_get_isa();
    int tested = 0;
    for (int i = 0; tconv_kernel_name(isa, i); i++) {
        const char *name = tconv_kernel_name(isa, i);
        if (strstr(name, "_bwdw_")) continue; /* backward-weights only (test_backward.c) */
        if (strstr(name, "_ph")) continue;   /* the phases mode's tiles (phases_mode) */
        cr_assert_eq(setenv("TCONV_FWD_KERNEL", name, 1), 0);
        const tconv_dtype dtype = strncmp(name, "f64", 3) == 0 ? TCONV_F64 : TCONV_F32;
        for (int scatter = 0; scatter <= 1; scatter++) {
            const char *mode = scatter ? "scatter" : "gather";
            cr_assert_eq(setenv("TCONV_FWD_MODE", mode, 1), 0);
            tu_rng r = {1000u + (uint64_t)i};
            for (int j = 0; j < 16; j++) {
                const tu_combo k = {(tconv_layout)(j % 3), (tconv_weight_layout)((j / 3) % 3), dtype};
                tconv_desc d = tu_random_desc(&r, &k, j % 2 ? 40 : 3);
                tconv_plan *plan;
                cr_assert_eq(tconv_plan_create(&plan, &d, 0), TCONV_OK, "%s", tconv_last_error());
                const char *info = tconv_plan_info(plan);
                cr_assert(strstr(info, name) && strstr(info, mode),
                          "forcing %s in %s mode, the plan runs: %s", name, mode, info);
                tconv_plan_destroy(plan);
                check_one(&d, &r);
            }
            tested++;
        }
    }
    cr_assert(tested > 0, "no forward kernels for %s", tconv_isa_name(isa));
    unsetenv("TCONV_FWD_KERNEL");
    unsetenv("TCONV_FWD_MODE");
}

/* The phases mode (kernels/fwd_phases.c): each PIXELS tile of the ISA under
 * test forced with TCONV_FWD_MODE=phases on stride-2 and stride-3 layers,
 * which its PHASES tile of the same NR runs when the ISA has one for that
 * stride (else the plan chooses as if nothing were forced): kernels smaller than, equal to and larger than S*S (taps of zero
 * weight past the filter), crops that move the grid, output padding,
 * groups, a partial block of filters, odd sizes, every data layout, both
 * dtypes, bias or none, against the scatter loop (check_one). Every PHASES
 * tile of the table must have run at least once. */
Test(properties, phases_mode)
{
    const tconv_isa isa = tconv_get_isa();
    tu_rng r = {97531};
    int runs = 0;
    char seen[64][40];
    int nseen = 0;
    cr_assert_eq(setenv("TCONV_FWD_MODE", "phases", 1), 0);
    for (int i = 0; tconv_kernel_name(isa, i); i++) {
        const char *name = tconv_kernel_name(isa, i);
        if (!strstr(name, "_px")) continue;
        cr_assert_eq(setenv("TCONV_FWD_KERNEL", name, 1), 0);
        const tconv_dtype dtype = strncmp(name, "f64", 3) == 0 ? TCONV_F64 : TCONV_F32;
        for (int j = 0; j < 12; j++) {
            tconv_desc d;
            tconv_desc_init(&d);
            d.dtype = dtype;
            d.layout = (tconv_layout)(j % 3);
            d.weight_layout = (tconv_weight_layout)((j / 3) % 3);
            d.stride_h = d.stride_w = 2 + j % 2;
            static const int ks[] = {4, 9, 3, 5, 2, 6};
            d.filter_h = ks[j % 6];
            d.filter_w = ks[(j + 2) % 6];
            d.groups = j % 4 == 3 ? 2 : 1;
            d.channels = d.groups * tu_range(&r, 1, 9);
            d.filters = d.groups * tu_range(&r, 1, 5);
            d.batch = 1 + j % 2;
            d.in_h = tu_range(&r, 1, 9);
            d.in_w = tu_range(&r, 1, 21);
            d.crop_top = j % 3;
            d.crop_left = (j + 1) % 3;
            d.crop_bottom = j % 2;
            d.crop_right = 0;
            int64_t oh = 0, ow = 0;
            cr_assert_eq(tconv_desc_output(&d, &oh, &ow), TCONV_OK, "%s", tconv_last_error());
            tconv_plan *plan;
            cr_assert_eq(tconv_plan_create(&plan, &d, 0), TCONV_OK, "%s", tconv_last_error());
            const char *info = tconv_plan_info(plan);
            const char *ph = strstr(info, "fwd phases ");
            if (ph) {
                char tile[40] = "";
                sscanf(ph + strlen("fwd phases "), "%39s", tile);
                int k = 0;
                while (k < nseen && strcmp(seen[k], tile) != 0) k++;
                if (k == nseen && nseen < 64) strcpy(seen[nseen++], tile);
                runs++;
            }
            tconv_plan_destroy(plan);
            check_one(&d, &r);
        }
    }
    unsetenv("TCONV_FWD_KERNEL");
    unsetenv("TCONV_FWD_MODE");
    cr_assert(runs > 0, "no phases plan for %s", tconv_isa_name(isa));
    int tiles = 0;
    for (int i = 0; tconv_kernel_name(isa, i); i++)
        tiles += strstr(tconv_kernel_name(isa, i), "_ph") != NULL;
    cr_assert_eq(nseen, tiles, "%d of the %d PHASES tiles of %s ran", nseen, tiles,
                 tconv_isa_name(isa));
}

/* The scatter mode with PIXELS tiles (kernels/fwd_scatter.c): each input
 * row's channels copied a chunk at a time (several whole rows, or columns
 * of one row when the budget holds fewer than two rows: many channels or
 * many columns), the tile's column rows summed per output phase and added
 * into y. Each PIXELS tile of the ISA, forced, on layers that reach every
 * branch: strides 1-3 (the interleaved stride-2 add into NCHW rows and the
 * generic one), kernels narrower and wider than the stride, dilation,
 * negative and positive crops, groups, partial tiles and blocks, every
 * data and weight layout, both dtypes, with and without bias, against the
 * scatter loop (check_one); and the plan must say it runs that tile in
 * the scatter mode, with column chunks on the wide layers. */
Test(properties, scatter_mode_pixels_tiles)
{
    const tconv_isa isa = tconv_get_isa();
    tu_rng r = {424242};
    int runs = 0, column_chunks = 0;
    cr_assert_eq(setenv("TCONV_FWD_MODE", "scatter", 1), 0);
    for (int i = 0; tconv_kernel_name(isa, i); i++) {
        const char *name = tconv_kernel_name(isa, i);
        if (!strstr(name, "_px")) continue;
        cr_assert_eq(setenv("TCONV_FWD_KERNEL", name, 1), 0);
        const tconv_dtype dtype = strncmp(name, "f64", 3) == 0 ? TCONV_F64 : TCONV_F32;
        for (int j = 0; j < 10; j++) {
            tconv_desc d;
            tconv_desc_init(&d);
            d.dtype = dtype;
            d.layout = (tconv_layout)(j % 3);
            d.weight_layout = (tconv_weight_layout)((j / 3) % 3);
            d.stride_h = 1 + (j + 1) % 3;
            d.stride_w = 1 + j % 3;
            static const int ks[] = {4, 3, 1, 5, 2, 9};
            d.filter_h = ks[j % 6];
            d.filter_w = ks[(j + 3) % 6];
            d.dilation_h = j % 4 == 1 ? 2 : 1;
            d.dilation_w = j % 5 == 2 ? 3 : 1;
            d.groups = j % 4 == 3 ? 2 : 1;
            /* j = 8, 9: hundreds of channels per group and wide rows, so
             * that a chunk is a few columns of one row */
            const int wide = j >= 8;
            d.channels = d.groups * (wide ? tu_range(&r, 300, 500) : tu_range(&r, 1, 12));
            d.filters = d.groups * tu_range(&r, 1, 5);
            d.batch = wide ? 1 : 1 + j % 3;
            d.in_h = tu_range(&r, 1, wide ? 4 : 11);
            d.in_w = wide ? tu_range(&r, 70, 130) : tu_range(&r, 1, 37);
            d.crop_top = j % 3 - 1;
            d.crop_left = (j + 1) % 3;
            d.crop_bottom = j % 2;
            d.crop_right = j % 3 == 2 ? -1 : 0;
            int64_t oh = 0, ow = 0;
            if (tconv_desc_output(&d, &oh, &ow) != TCONV_OK) continue; /* cropped away */
            tconv_plan *plan;
            cr_assert_eq(tconv_plan_create(&plan, &d, 0), TCONV_OK, "%s", tconv_last_error());
            const char *info = tconv_plan_info(plan);
            char expect[96];
            snprintf(expect, sizeof expect, "fwd scatter %s ", name);
            cr_assert(strstr(info, expect), "forcing %s in scatter mode, the plan runs: %s", name,
                      info);
            column_chunks += strstr(info, "columns a chunk") != NULL;
            tconv_plan_destroy(plan);
            check_one(&d, &r);
            runs++;
        }
    }
    unsetenv("TCONV_FWD_KERNEL");
    unsetenv("TCONV_FWD_MODE");
    cr_assert(runs > 0, "no PIXELS tile for %s", tconv_isa_name(isa));
    cr_assert(column_chunks > 0, "no plan chunked a row by columns");
}

/* The activation in double, written here from tconv.h's definitions. */
static double activate(tconv_activation act, double alpha, double x)
{
    switch (act) {
    case TCONV_ACT_RELU: return x < 0 ? 0 : x;
    case TCONV_ACT_LEAKY_RELU: return x < 0 ? alpha * x : x;
    case TCONV_ACT_CLIPPED_RELU: return x < 0 ? 0 : x > alpha ? alpha : x;
    case TCONV_ACT_ELU: return x < 0 ? alpha * (exp(x) - 1) : x;
    case TCONV_ACT_SIGMOID: return 1 / (1 + exp(-x));
    case TCONV_ACT_TANH: return tanh(x);
    case TCONV_ACT_GELU: return 0.5 * x * erfc(-x / sqrt(2.0));
    case TCONV_ACT_SWISH: return x / (1 + exp(-x));
    default: return x;
    }
}

/* The gather mode with the ISA's first CHANNELS tile forced, against the
 * scatter loop (then the activation, when the layer fuses one), with and
 * without bias, in every data layout and dtype, and the same bits from 1
 * and 3 threads. shape() sets the layer (all but dtype and layout) from the
 * tile's NR, the element size and this host's L2; the plan's info must
 * contain want. */
static void check_gather_tile_forced(void (*shape)(tconv_desc *d, int nr, int64_t es, int64_t l2),
                                     const char *want, uint64_t seed)
{
    const tconv_isa isa = tconv_get_isa();
    tconv_host_info host;
    cr_assert_eq(tconv_host_query(&host), TCONV_OK, "%s", tconv_last_error());
    tu_rng r = {seed};
    for (int t = TCONV_F32; t <= TCONV_F64; t++) {
        int nr = 0;
        const char *tile = tu_first_channels_tile(isa, (tconv_dtype)t, &nr);
        cr_assert(tile, "no CHANNELS tile for %s", tconv_isa_name(isa));
        cr_assert_eq(setenv("TCONV_FWD_KERNEL", tile, 1), 0);
        cr_assert_eq(setenv("TCONV_FWD_MODE", "gather", 1), 0);
        for (int l = TCONV_NCHW; l <= TCONV_SSCB; l++) {
            tconv_desc d;
            tconv_desc_init(&d);
            d.dtype = (tconv_dtype)t;
            d.layout = (tconv_layout)l;
            shape(&d, nr, t == TCONV_F64 ? 8 : 4, host.l2_bytes);
            tconv_plan *plan;
            cr_assert_eq(tconv_plan_create(&plan, &d, 0), TCONV_OK, "%s", tconv_last_error());
            char what[512];
            tu_describe(&d, what, sizeof what);
            const char *info = tconv_plan_info(plan);
            cr_assert(strstr(info, tile) && strstr(info, want),
                      "%s (L2 %lld bytes, NR %d): expected a gather plan with %s and '%s': %s",
                      what, (long long)host.l2_bytes, nr, tile, want, info);
            const tu_shape s = tu_shape_of(&d);
            const int64_t ny = tu_y_elems(&s);
            double *x = random_array(&r, tu_x_elems(&s)), *w = random_array(&r, tu_w_elems(&s));
            double *bias = random_array(&r, s.f), *expect = nan_array(ny);
            for (int with_bias = 1; with_bias >= 0; with_bias--) {
                double *y[2] = {nan_array(ny), nan_array(ny)};
                tu_forward_scatter(&d, x, w, with_bias ? bias : NULL, expect);
                for (int64_t i = 0; i < ny; i++)
                    expect[i] = activate(d.activation, d.activation_alpha, expect[i]);
                for (int k = 0; k < 2; k++) {
                    tconv_set_num_threads(k ? 3 : 1);
                    cr_assert_eq(tu_run_forward(plan, &d, x, w, with_bias ? bias : NULL, y[k]),
                                 TCONV_OK, "%s: %s", what, tconv_last_error());
                }
                tconv_set_num_threads(0);
                const double err = tu_max_rel_diff(y[0], expect, ny);
                cr_assert(err <= tu_tolerance(d.dtype),
                          "%s (bias %d): differs from the scatter loop by %g (%s)", what,
                          with_bias, err, info);
                cr_assert(memcmp(y[0], y[1], (size_t)ny * sizeof(double)) == 0,
                          "%s (bias %d): 1 and 3 threads give different bits (%s)", what,
                          with_bias, info);
                free(y[0]); free(y[1]);
            }
            free(x); free(w); free(bias); free(expect);
            tconv_plan_destroy(plan);
        }
    }
    unsetenv("TCONV_FWD_KERNEL");
    unsetenv("TCONV_FWD_MODE");
}

/* Two phase rows, 8 phases of one tap: 8 * C * NR * es bytes, just over
 * half of L2; one row half that. One partial block of filters. */
static void shape_phases_in_groups(tconv_desc *d, int nr, int64_t es, int64_t l2)
{
    d->channels = l2 / 2 / (8 * nr * es) + 1;
    d->filters = nr - 1 > 0 ? nr - 1 : 1;
    d->in_h = 5;
    d->in_w = 6;
    d->filter_h = d->filter_w = 4;
    d->stride_h = d->stride_w = 4;
    d->crop_top = d->crop_left = 2;
    d->crop_bottom = d->crop_right = 1;
}

/* Gather CHANNELS tiles run phases inside one tile loop in groups: all
 * phases when all their weights fit in half of L2, else whole phase rows
 * (fwd_gather.c). A k4 s4 layer (16 phases of one tap: no tap classes,
 * which keep a phase out of groups) whose channel count is derived from
 * this host's L2 and the forced tile's NR, so that two phase rows' weights
 * do not fit and one does: the plan must say "4 inner". The crops make the
 * phases' compute regions differ, so that each phase also runs strips
 * outside its group's intersection. */
Test(properties, gather_phases_in_groups)
{
    check_gather_tile_forced(shape_phases_in_groups, "phases=16 (4 inner)", 4321);
}

/* A k2 s2 layer (4 phases of one tap) whose channel count makes a block of
 * NR filters 2/5 of half of L2; 5 blocks, the last partial. */
static void shape_blocks_per_pass(tconv_desc *d, int nr, int64_t es, int64_t l2)
{
    d->channels = l2 / 2 * 2 / 5 / (nr * es);
    d->filters = 5 * nr - 3;
    d->in_h = 3;
    d->in_w = 5;
    d->filter_h = d->filter_w = 2;
    d->stride_h = d->stride_w = 2;
}

/* Gather with a phase's weights over half of L2: as many output-channel
 * blocks as fit there run over all the tiles at a time (fwd_gather.c,
 * blocks_per_pass): here 2 blocks a pass, and the 5 blocks leave a short
 * last pass. */
Test(properties, gather_blocks_per_pass)
{
    check_gather_tile_forced(shape_blocks_per_pass, "block passes=3", 8642);
}

/* Few channels and one block of filters, rows of several whole tiles: the
 * gather mode runs them as row runs (fwd_gather.c, run_row), and the tiles
 * at the rows' ends that need fewer taps (the output padding's last column)
 * tile by tile. Batch 2, a crop that moves the grid, tanh fused (the runs
 * apply it themselves). */
static void shape_row_runs(tconv_desc *d, int nr, int64_t es, int64_t l2)
{
    (void)es;
    (void)l2;
    d->batch = 2;
    d->channels = 5;
    d->filters = nr > 3 ? nr - 3 : nr;
    d->in_h = 4;
    d->in_w = 75;
    d->filter_h = d->filter_w = 3;
    d->stride_h = d->stride_w = 2;
    d->crop_top = d->crop_left = 1; /* PyTorch padding 1, output_padding 1 */
    d->activation = TCONV_ACT_TANH;
}

/* Stride 1 and a 1x20 filter: the rows' first and last tiles miss some
 * taps (offsets up to 19, past a tile's width), so runs start and stop
 * inside the rows. */
static void shape_row_runs_wide_filter(tconv_desc *d, int nr, int64_t es, int64_t l2)
{
    shape_row_runs(d, nr, es, l2);
    d->filter_h = 1;
    d->filter_w = 20;
    d->stride_h = d->stride_w = 1;
    d->crop_top = d->crop_left = 0;
}

Test(properties, gather_row_runs)
{
    check_gather_tile_forced(shape_row_runs, "row runs<=", 9753);
    check_gather_tile_forced(shape_row_runs_wide_filter, "row runs<=", 9754);
}

/* Fused activations on every driver path (the automatic choice, then gather
 * and scatter forced, with every kernel family the mode allows) and in the
 * reference plan, against the scatter oracle followed by the activation. */
Test(properties, fused_activations)
{
    static const struct { tconv_activation act; double alpha; } acts[] = {
        {TCONV_ACT_RELU, 0}, {TCONV_ACT_LEAKY_RELU, 0.01}, {TCONV_ACT_CLIPPED_RELU, 0.5},
        {TCONV_ACT_ELU, 1.0}, {TCONV_ACT_SIGMOID, 0}, {TCONV_ACT_TANH, 0}, {TCONV_ACT_GELU, 0},
        {TCONV_ACT_SWISH, 0}};
    static const char *modes[] = {"", "gather", "scatter"};
    tu_rng r = {2468};
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++)
        for (int mode = 0; mode < 3; mode++)
            for (int j = 0; j < 12; j++) {
                const tu_combo k = {(tconv_layout)(j % 3), TCONV_W_IOHW, (tconv_dtype)(j / 6)};
                tconv_desc d = tu_random_desc(&r, &k, j % 2 ? 40 : 3);
                d.activation = acts[a].act;
                d.activation_alpha = acts[a].alpha;
                if (*modes[mode]) cr_assert_eq(setenv("TCONV_FWD_MODE", modes[mode], 1), 0);
                else unsetenv("TCONV_FWD_MODE");
                const tu_shape s = tu_shape_of(&d);
                const int64_t ny = tu_y_elems(&s);
                double *x = random_array(&r, tu_x_elems(&s)), *w = random_array(&r, tu_w_elems(&s));
                double *bias = random_array(&r, s.f), *expect = nan_array(ny);
                tu_forward_scatter(&d, x, w, bias, expect);
                for (int64_t i = 0; i < ny; i++)
                    expect[i] = activate(acts[a].act, acts[a].alpha, expect[i]);
                for (int ref = 0; ref <= 1; ref++) {
                    tconv_plan *plan;
                    cr_assert_eq(tconv_plan_create(&plan, &d, ref ? TCONV_PLAN_REFERENCE : 0),
                                 TCONV_OK, "%s", tconv_last_error());
                    double *y = nan_array(ny);
                    cr_assert_eq(tu_run_forward(plan, &d, x, w, bias, y), TCONV_OK);
                    const double err = tu_max_rel_diff(y, expect, ny);
                    cr_assert(err <= tu_tolerance(d.dtype),
                              "activation %d mode '%s' (%s): differs by %g", (int)acts[a].act,
                              modes[mode], tconv_plan_info(plan), err);
                    free(y);
                    tconv_plan_destroy(plan);
                }
                free(x); free(w); free(bias); free(expect);
            }
    unsetenv("TCONV_FWD_MODE");
}
