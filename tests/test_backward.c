/*
 * The SIMD backward passes (kernels/bwd_data.c, kernels/bwd_weights.c)
 * against the scalar reference, element by element: every microkernel of
 * the ISA each pass may run (forced by name), random configurations over all
 * layouts, groups, dilations and crops, reductions long enough to be cut
 * into several chunks, and the same bits for every thread count. (The
 * adjoint identities of all three passes are checked in test_properties.c.)
 */
#define _POSIX_C_SOURCE 200809L /* setenv */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "testutil.h"

typedef struct outputs {
    double *dx, *dw, *dbias;
} outputs;

static void free_outputs(outputs *o)
{
    free(o->dx);
    free(o->dw);
    free(o->dbias);
}

/* Runs both backward passes of d with plan flags `flags` on the given
 * inputs; the outputs start as NaN, so an element left unwritten fails any
 * comparison. Returns the plan's info in info. */
static outputs run_backward(const tconv_desc *d, unsigned flags, const double *x, const double *w,
                            const double *dy, char *info, size_t info_n)
{
    const tu_shape s = tu_shape_of(d);
    const int64_t nx = tu_x_elems(&s), nw = tu_w_elems(&s);
    outputs o = {malloc((size_t)nx * sizeof(double)), malloc((size_t)nw * sizeof(double)),
                 malloc((size_t)s.f * sizeof(double))};
    cr_assert(o.dx && o.dw && o.dbias);
    for (int64_t i = 0; i < nx; i++) o.dx[i] = NAN;
    for (int64_t i = 0; i < nw; i++) o.dw[i] = NAN;
    for (int64_t i = 0; i < s.f; i++) o.dbias[i] = NAN;
    tconv_plan *plan;
    cr_assert_eq(tconv_plan_create(&plan, d, flags), TCONV_OK, "%s", tconv_last_error());
    if (info) snprintf(info, info_n, "%s", tconv_plan_info(plan));
    cr_assert_eq(tu_run_backward_data(plan, d, dy, w, o.dx), TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(tu_run_backward_weights(plan, d, x, dy, o.dw, o.dbias), TCONV_OK, "%s",
                 tconv_last_error());
    tconv_plan_destroy(plan);
    return o;
}

/* x, w and dy of shape s, filled from r in that order; the caller frees
 * them. */
static void random_tensors(const tu_shape *s, tu_rng *r, double **x, double **w, double **dy)
{
    const int64_t nx = tu_x_elems(s), nw = tu_w_elems(s), ny = tu_y_elems(s);
    *x = malloc((size_t)nx * sizeof **x);
    *w = malloc((size_t)nw * sizeof **w);
    *dy = malloc((size_t)ny * sizeof **dy);
    cr_assert(*x && *w && *dy);
    tu_fill(r, *x, nx);
    tu_fill(r, *w, nw);
    tu_fill(r, *dy, ny);
}

/* The backward passes of d (default plan) against the reference plan; the
 * plan's info goes to info. */
static void check_against_reference(const tconv_desc *d, uint64_t seed, char *info, size_t info_n)
{
    const tu_shape s = tu_shape_of(d);
    const int64_t nx = tu_x_elems(&s), nw = tu_w_elems(&s);
    tu_rng r = {seed};
    double *x, *w, *dy;
    random_tensors(&s, &r, &x, &w, &dy);
    outputs fast = run_backward(d, 0, x, w, dy, info, info_n);
    outputs ref = run_backward(d, TCONV_PLAN_REFERENCE, x, w, dy, NULL, 0);
    char what[512];
    tu_describe(d, what, sizeof what);
    const double tol = tu_tolerance(d->dtype);
    const double e_dx = tu_max_rel_diff(fast.dx, ref.dx, nx);
    const double e_dw = tu_max_rel_diff(fast.dw, ref.dw, nw);
    const double e_db = tu_max_rel_diff(fast.dbias, ref.dbias, s.f);
    cr_assert(e_dx <= tol, "%s: dx differs from the reference by %g (%s)", what, e_dx, info);
    cr_assert(e_dw <= tol, "%s: dw differs from the reference by %g (%s)", what, e_dw, info);
    cr_assert(e_db <= tol, "%s: dbias differs from the reference by %g (%s)", what, e_db, info);
    free_outputs(&fast);
    free_outputs(&ref);
    free(x); free(w); free(dy);
}

/* The kernel name a plan's info gives for a pass ("bwd_data NAME ..."). */
static int info_names(const char *info, const char *pass, const char *name)
{
    char want[128];
    snprintf(want, sizeof want, "%s %s ", pass, name);
    return strstr(info, want) != NULL;
}

/* Whether a plan of d runs kernel `name` for pass `label` (forced by the
 * environment; a forced kernel that cannot run d is passed over). */
static int plan_runs(const tconv_desc *d, const char *label, const char *name)
{
    tconv_plan *plan;
    cr_assert_eq(tconv_plan_create(&plan, d, 0), TCONV_OK, "%s", tconv_last_error());
    const int runs = info_names(tconv_plan_info(plan), label, name);
    tconv_plan_destroy(plan);
    return runs;
}

/* Every tile of the ISA forced in turn on 12 random layers of every layout.
 * A GEMM tile runs only layers whose product is at least as wide as itself
 * on both sides (kernels/bwd_weights_gemm.c): for those, random layers are
 * drawn until 12 that it runs, and there must be 12 within 400 draws. */
Test(backward, every_kernel_of_the_isa)
{
    const tconv_isa isa = tconv_get_isa();
    int tested = 0;
    for (int i = 0; tconv_kernel_name(isa, i); i++) {
        const char *name = tconv_kernel_name(isa, i);
        if (strstr(name, "_ph")) continue; /* the forward phases mode's tiles */
        /* GEMM tiles serve backward-weights only (PIXELS tiles both
         * passes: backward-data's columns strategy). */
        const int gemm = strstr(name, "_bwdw_") != NULL;
        const int weights_only = gemm;
        const tconv_dtype dtype = strncmp(name, "f64", 3) == 0 ? TCONV_F64 : TCONV_F32;
        for (int pass = weights_only; pass < 2; pass++) {
            const char *env = pass ? "TCONV_BWD_WEIGHTS_KERNEL" : "TCONV_BWD_DATA_KERNEL";
            const char *label = pass ? "bwd_weights" : "bwd_data";
            cr_assert_eq(setenv(env, name, 1), 0);
            tu_rng r = {2000u + (uint64_t)(i * 2 + pass)};
            int ran = 0;
            for (int j = 0; ran < 12 && j < (gemm ? 400 : 12); j++) {
                const tu_combo k = {(tconv_layout)(j % 3), (tconv_weight_layout)((j / 3) % 3),
                                    dtype};
                const tconv_desc d = tu_random_desc(&r, &k, gemm ? 80 : j % 2 ? 40 : 3);
                if (gemm && !plan_runs(&d, label, name)) continue;
                char info[1024];
                check_against_reference(&d, 77u + (uint64_t)j, info, sizeof info);
                cr_assert(info_names(info, label, name), "forcing %s for %s, the plan runs: %s",
                          name, label, info);
                ran++;
            }
            cr_assert_eq(ran, 12, "%s ran on %d random layers, not 12", name, ran);
            unsetenv(env);
            tested++;
        }
    }
    cr_assert(tested > 0, "no kernels for %s", tconv_isa_name(isa));
}

Test(backward, random_configurations_default_choice)
{
    tu_rng r = {31337u};
    for (int j = 0; j < 60; j++) {
        const tu_combo k = {(tconv_layout)(j % 3), (tconv_weight_layout)((j / 3) % 3),
                            (tconv_dtype)((j / 9) % 2)};
        const tconv_desc d = tu_random_desc(&r, &k, j % 3 == 0 ? 70 : 6);
        char info[1024];
        check_against_reference(&d, 5u + (uint64_t)j, info, sizeof info);
        cr_assert(strstr(info, "bwd_data ref") == NULL && strstr(info, "bwd_weights ref") == NULL,
                  "a SIMD plan fell back to the reference backward: %s", info);
    }
}

/* tu_first_channels_tile, which this ISA must have. */
static const char *first_channels_tile_nr(tconv_isa isa, tconv_dtype t, int *nr)
{
    const char *tile = tu_first_channels_tile(isa, t, nr);
    cr_assert(tile, "no CHANNELS tile of %s for %s", t == TCONV_F64 ? "f64" : "f32",
              tconv_isa_name(isa));
    return tile;
}

/* Layers shaped like real ones: the reduction of backward-weights is long
 * enough to be cut into several chunks (added into the accumulator in
 * order), by the default plan (with x and dy channel-innermost, the GEMM
 * tiles reading them in place) and by the packing drivers (a CHANNELS tile
 * forced: the filters as lanes, or for three filters as rows). Sized for
 * the reference, which runs well under 1 GFLOP/s, to take seconds, not
 * minutes, under the sanitizers and qemu. The first two cut into several
 * chunks with an L2 of up to 2 MiB (this CI's Xeon, and qemu-aarch64 on
 * it): the filters-as-rows chunk does not depend on the channel count, so
 * that shape has few channels and many rows. */
Test(backward, long_reductions_in_chunks)
{
    static const struct {
        int64_t n, c, f, g, h, w, k, s, crop;
    } shapes[] = {
        {2, 128, 64, 1, 16, 64, 2, 2, 0},  /* wide rows of many channels: small chunks */
        {8, 16, 3, 1, 64, 48, 4, 2, 1},    /* three filters: folded taps, or filters as rows */
        {2, 64, 64, 2, 12, 80, 3, 1, -1},  /* groups, stride 1, bias-only border */
        {2, 64, 17, 1, 9, 70, 5, 3, 2},    /* odd sizes everywhere */
    };
    const tconv_isa isa = tconv_get_isa();
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int t = TCONV_F32; t <= TCONV_F64; t++)
            for (int l = TCONV_NCHW; l <= TCONV_SSCB; l++)
                for (int packing = 0; packing <= 1; packing++) {
                    tconv_desc d;
                    tconv_desc_init(&d);
                    d.dtype = (tconv_dtype)t;
                    d.layout = (tconv_layout)l;
                    d.batch = shapes[i].n;
                    d.channels = shapes[i].c;
                    d.filters = shapes[i].f;
                    d.groups = shapes[i].g;
                    d.in_h = shapes[i].h;
                    d.in_w = shapes[i].w;
                    d.filter_h = d.filter_w = shapes[i].k;
                    d.stride_h = d.stride_w = shapes[i].s;
                    d.crop_top = d.crop_bottom = d.crop_left = d.crop_right = shapes[i].crop;
                    const char *forced = packing ? first_channels_tile_nr(isa, d.dtype, NULL) : NULL;
                    cr_assert(!packing || forced, "no CHANNELS tile for %s", tconv_isa_name(isa));
                    if (forced) cr_assert_eq(setenv("TCONV_BWD_WEIGHTS_KERNEL", forced, 1), 0);
                    char info[1024];
                    check_against_reference(&d, 900u + i, info, sizeof info);
                    unsetenv("TCONV_BWD_WEIGHTS_KERNEL");
                    /* Scalar tiles may need no chunks; SIMD ones must have cut. */
                    if (isa == TCONV_ISA_SCALAR || i > 1) continue;
                    const char *c = strstr(info, "chunks=");
                    cr_assert(c && atoi(c + 7) > 1, "expected several chunks: %s", info);
                    if (packing)
                        cr_assert((strstr(info, "filter rows=") != NULL) == (i == 1),
                                  "expected the filters as %s: %s", i == 1 ? "rows" : "lanes", info);
                    else if (l == TCONV_NHWC)
                        cr_assert(strstr(info, "_bwdw_") != NULL, "expected a GEMM tile: %s", info);
                }
}

/* Backward-data of 3 x 5 inputs at batch 2, a k x k kernel of stride 2,
 * with the ISA's first CHANNELS tile forced, against the reference: every
 * dtype, both grid paths (dy copied for a crop of 1, in place without) and
 * every layout. shape() sets the channels and filters from the tile's NR,
 * the element size and this host's L2; the plan's info must contain want. */
static void check_data_tile_forced(int64_t k,
                                   void (*shape)(tconv_desc *d, int nr, int64_t es, int64_t l2),
                                   const char *want, unsigned seed)
{
    const tconv_isa isa = tconv_get_isa();
    tconv_host_info host;
    cr_assert_eq(tconv_host_query(&host), TCONV_OK, "%s", tconv_last_error());
    for (int t = TCONV_F32; t <= TCONV_F64; t++)
        for (int crop = 0; crop <= 1; crop++)
            for (int l = TCONV_NCHW; l <= TCONV_SSCB; l++) {
                int nr = 0;
                const char *tile = first_channels_tile_nr(isa, (tconv_dtype)t, &nr);
                tconv_desc d;
                tconv_desc_init(&d);
                d.dtype = (tconv_dtype)t;
                d.layout = (tconv_layout)l;
                d.batch = 2;
                d.in_h = 3;
                d.in_w = 5;
                d.filter_h = d.filter_w = k;
                d.stride_h = d.stride_w = 2;
                d.crop_top = d.crop_bottom = d.crop_left = d.crop_right = crop;
                shape(&d, nr, t == TCONV_F64 ? 8 : 4, host.l2_bytes);
                cr_assert_eq(setenv("TCONV_BWD_DATA_KERNEL", tile, 1), 0);
                char info[1024];
                check_against_reference(&d, seed + (unsigned)(t * 8 + crop * 4 + l), info,
                                        sizeof info);
                unsetenv("TCONV_BWD_DATA_KERNEL");
                cr_assert(strstr(info, want) != NULL, "expected '%s' (C %lld, F %lld, NR %d): %s",
                          want, (long long)d.channels, (long long)d.filters, nr, info);
            }
}

/* k_w * F channels a kernel tap (k = 4): at least half the L2/4 budget;
 * a whole channel block and a partial one. */
static void shape_taps_in_passes(tconv_desc *d, int nr, int64_t es, int64_t l2)
{
    d->channels = nr + 3;
    d->filters = l2 / 4 / (2 * 4 * nr * es) + 1;
}

/* Backward-data with a channel block's weights larger than a quarter of L2:
 * the tiles run over the taps in several passes, each adding to what the
 * last stored (bias NULL in the CHANNELS contract). The filter count is
 * derived from this host's L2 and the forced tile's NR so that every ISA
 * takes at least two passes. */
Test(backward, data_taps_in_passes)
{
    check_data_tile_forced(4, shape_taps_in_passes, "tap passes=", 1300u);
}

/* A channel block's weights (k * k * F rows of NR values, k = 2) a fifth
 * of L2; 5 channel blocks, the last partial. */
static void shape_blocks_in_passes(tconv_desc *d, int nr, int64_t es, int64_t l2)
{
    d->channels = 5 * nr - 3;
    d->filters = l2 / 5 / (2 * 2 * nr * es);
}

/* Backward-data running a span's tiles over several channel blocks in
 * turn, as many as have their weights in half of L2 together (d->bpp in
 * kernels/bwd_data.c): with a block's weights a fifth of L2, 2 blocks a
 * pass, and 5 blocks leave a short third pass. */
Test(backward, data_blocks_in_passes)
{
    check_data_tile_forced(2, shape_blocks_in_passes, "block passes=3", 1400u);
}

/* Backward-data writing dx with streaming stores (TCONV_STREAM_STORES=on,
 * which the size rule would choose only for a dx over half of L3), against
 * the reference: rows of whole aligned lines (C a multiple of the tile's
 * NR, dx 64-byte aligned) stream, the others, a partial channel block and a
 * dx one element off alignment store as usual; guards on both sides of dx
 * must stay untouched. ISAs without streaming stores (scalar, NEON) must
 * not report them. */
Test(backward, data_streaming_stores)
{
    const tconv_isa isa = tconv_get_isa();
    const int streams = isa == TCONV_ISA_AVX2 || isa == TCONV_ISA_AVX512;
    for (int t = TCONV_F32; t <= TCONV_F64; t++)
        for (int shape = 0; shape < 2; shape++)
            for (int offset = 0; offset <= 1; offset++) {
                int nr = 0;
                const char *tile = first_channels_tile_nr(isa, (tconv_dtype)t, &nr);
                tconv_desc d;
                tconv_desc_init(&d);
                d.dtype = (tconv_dtype)t;
                d.layout = TCONV_NHWC;
                d.batch = 2;
                d.channels = shape == 0 ? 2 * nr : nr + 5;
                d.filters = 7;
                d.in_h = 5;
                d.in_w = 6;
                d.filter_h = d.filter_w = 3;
                d.stride_h = d.stride_w = 2;
                d.crop_top = d.crop_bottom = d.crop_left = d.crop_right = shape; /* both grid paths */
                const tu_shape s = tu_shape_of(&d);
                const int64_t nx = tu_x_elems(&s), nw = tu_w_elems(&s), ny = tu_y_elems(&s);
                tu_rng r = {1500u + (unsigned)(t * 4 + shape * 2 + offset)};
                double *w = malloc((size_t)nw * sizeof *w), *dy = malloc((size_t)ny * sizeof *dy);
                double *want = malloc((size_t)nx * sizeof *want);
                cr_assert(w && dy && want);
                tu_fill(&r, w, nw);
                tu_fill(&r, dy, ny);
                tconv_plan *ref;
                cr_assert_eq(tconv_plan_create(&ref, &d, TCONV_PLAN_REFERENCE), TCONV_OK, "%s",
                             tconv_last_error());
                cr_assert_eq(tu_run_backward_data(ref, &d, dy, w, want), TCONV_OK, "%s",
                             tconv_last_error());
                tconv_plan_destroy(ref);

                /* dx at 64-byte alignment (+ offset elements), 64 guard
                 * elements before and after */
                const size_t es = t == TCONV_F64 ? 8 : 4, guard = 64;
                const size_t bytes = ((size_t)nx + 2 * guard + 1) * es;
                unsigned char *buf = aligned_alloc(64, (bytes + 63) / 64 * 64);
                cr_assert(buf);
                memset(buf, 0x5a, bytes);
                unsigned char *dx = buf + (guard + (size_t)offset) * es;
                void *dyb = tu_to_dtype(d.dtype, dy, ny), *wb = tu_to_dtype(d.dtype, w, nw);
                cr_assert_eq(setenv("TCONV_BWD_DATA_KERNEL", tile, 1), 0);
                cr_assert_eq(setenv("TCONV_STREAM_STORES", "on", 1), 0);
                tconv_plan *plan;
                cr_assert_eq(tconv_plan_create(&plan, &d, 0), TCONV_OK, "%s", tconv_last_error());
                unsetenv("TCONV_STREAM_STORES");
                unsetenv("TCONV_BWD_DATA_KERNEL");
                const char *info = tconv_plan_info(plan);
                cr_assert((strstr(info, "dx streamed") != NULL) == streams,
                          "%s: expected dx %sstreamed: %s", tile, streams ? "" : "not ", info);
                cr_assert_eq(tconv_backward_data(plan, dyb, wb, dx), TCONV_OK, "%s",
                             tconv_last_error());
                tconv_plan_destroy(plan);
                double *got = tu_from_dtype(d.dtype, dx, nx);
                const double e = tu_max_rel_diff(got, want, nx);
                cr_assert(e <= tu_tolerance(d.dtype), "%s C %lld offset %d: dx differs by %g (%s)",
                          tile, (long long)d.channels, offset, e, info);
                for (size_t i = 0; i < (guard + (size_t)offset) * es; i++)
                    cr_assert_eq(buf[i], 0x5a, "%s: byte %zu before dx written", tile, i);
                for (size_t i = (guard + (size_t)offset + (size_t)nx) * es; i < bytes; i++)
                    cr_assert_eq(buf[i], 0x5a, "%s: byte %zu after dx written", tile, i);
                free(got);
                free(dyb);
                free(wb);
                free(buf);
                free(want);
                free(w);
                free(dy);
            }
}

/* dbias sums dy per filter in (image, oh, ow) order whichever driver and
 * tile backward-weights runs (the packing drivers read dy a pixel's filters
 * at a time or, channel-planar, a row of one filter and then sum eight
 * filters side by side): the same bits for every kernel of the ISA, in
 * every layout, with more filters than are summed side by side and with
 * bias-only border positions (negative crops). */
Test(backward, dbias_same_bits_for_every_kernel)
{
    const tconv_isa isa = tconv_get_isa();
    tu_rng r = {5151u};
    for (int t = TCONV_F32; t <= TCONV_F64; t++)
        for (int l = TCONV_NCHW; l <= TCONV_SSCB; l++) {
            tconv_desc d;
            tconv_desc_init(&d);
            d.dtype = (tconv_dtype)t;
            d.layout = (tconv_layout)l;
            d.batch = 2;
            d.channels = 16;
            d.filters = 11;
            d.in_h = 6;
            d.in_w = 7;
            d.filter_h = d.filter_w = 4;
            d.stride_h = d.stride_w = 3;
            d.crop_top = d.crop_left = -1;
            d.crop_bottom = 2;
            d.crop_right = 1;
            const tu_shape s = tu_shape_of(&d);
            double *x, *w, *dy;
            random_tensors(&s, &r, &x, &w, &dy);
            outputs first = {NULL, NULL, NULL};
            char first_info[1024] = "", info[1024];
            int kernels = 0, by_rows = 0, gemm = 0;
            for (int i = 0; tconv_kernel_name(isa, i); i++) {
                const char *name = tconv_kernel_name(isa, i);
                if (strncmp(name, t == TCONV_F64 ? "f64_" : "f32_", 4) != 0) continue;
                if (strstr(name, "_ph")) continue; /* forward only */
                cr_assert_eq(setenv("TCONV_BWD_WEIGHTS_KERNEL", name, 1), 0);
                outputs o = run_backward(&d, 0, x, w, dy, info, sizeof info);
                unsetenv("TCONV_BWD_WEIGHTS_KERNEL");
                kernels++;
                by_rows += strstr(info, "filter rows=") != NULL;
                const char *bw = strstr(info, "bwd_weights ");
                gemm += bw && strstr(bw, "_bwdw_") != NULL;
                if (!first.dbias) {
                    first = o;
                    snprintf(first_info, sizeof first_info, "%s", info);
                    continue;
                }
                for (int64_t f = 0; f < s.f; f++)
                    cr_assert(memcmp(&o.dbias[f], &first.dbias[f], sizeof(double)) == 0,
                              "layout %d: dbias[%lld] %.17g with %s, %.17g with %s", l,
                              (long long)f, o.dbias[f], info, first.dbias[f], first_info);
                free_outputs(&o);
            }
            cr_assert(kernels > 1 && by_rows > 0 && gemm > 0,
                      "%s: %d %s kernels, %d with the filters as rows, %d GEMM tiles",
                      tconv_isa_name(isa), kernels, t == TCONV_F64 ? "f64" : "f32", by_rows, gemm);
            free_outputs(&first);
            free(x); free(w); free(dy);
        }
}

/* Backward-data through the staging buffer (kernels/bwd_data.c,
 * run_staged: dy copied for the crop, few weights, dx larger than L2):
 * NHWC dx whose pixels are not whole lines, and NCHW dx (transposed out
 * of the buffer); chunks that end inside image rows and span images,
 * several per band; f32 and f64, with and without streamed copies, 1 and
 * 2 threads with the same bits. The batch is sized from this host's L2. */
Test(backward, data_staged_chunks)
{
    tconv_host_info host;
    cr_assert_eq(tconv_host_query(&host), TCONV_OK);
    for (int t = TCONV_F32; t <= TCONV_F64; t++)
        for (int l = 0; l < 2; l++) {
            tconv_desc d;
            tconv_desc_init(&d);
            d.dtype = (tconv_dtype)t;
            d.layout = l == 0 ? TCONV_NHWC : TCONV_NCHW;
            d.channels = 36; /* NHWC pixels not whole lines: staged however dx is aligned */
            d.filters = 3;
            d.in_h = 7;
            d.in_w = 10;
            d.filter_h = d.filter_w = 3;
            d.stride_h = d.stride_w = 2;
            d.crop_top = d.crop_bottom = d.crop_left = d.crop_right = 1;
            const int64_t image_bytes = d.channels * d.in_h * d.in_w * (t == TCONV_F64 ? 8 : 4);
            d.batch = host.l2_bytes / image_bytes + 2;
            const tu_shape s = tu_shape_of(&d);
            const int64_t nx = tu_x_elems(&s);
            tu_rng r = {1700u + (unsigned)(t * 2 + l)};
            double *x, *w, *dy;
            random_tensors(&s, &r, &x, &w, &dy);
            outputs ref = run_backward(&d, TCONV_PLAN_REFERENCE, x, w, dy, NULL, 0);
            for (int stream = 0; stream <= 1; stream++) {
                cr_assert_eq(setenv("TCONV_STREAM_STORES", stream ? "on" : "off", 1), 0);
                char info[512];
                cr_assert_eq(tconv_set_num_threads(1), TCONV_OK);
                outputs one = run_backward(&d, 0, x, w, dy, info, sizeof info);
                cr_assert_eq(tconv_set_num_threads(2), TCONV_OK);
                outputs two = run_backward(&d, 0, x, w, dy, NULL, 0);
                cr_assert(strstr(info, "dx staged") != NULL, "expected dx staged: %s", info);
                const double e = tu_max_rel_diff(one.dx, ref.dx, nx);
                cr_assert(e <= tu_tolerance(d.dtype), "%s batch %lld stream %d: dx differs by %g (%s)",
                          l == 0 ? "NHWC" : "NCHW", (long long)d.batch, stream, e, info);
                cr_assert(memcmp(one.dx, two.dx, (size_t)nx * sizeof(double)) == 0,
                          "dx with 2 threads differs from 1 thread (%s)", info);
                free_outputs(&one);
                free_outputs(&two);
            }
            unsetenv("TCONV_STREAM_STORES");
            cr_assert_eq(tconv_set_num_threads(0), TCONV_OK);
            free_outputs(&ref);
            free(x); free(w); free(dy);
        }
}

/* Every output of both passes is computed by one task in a fixed order: the
 * same bits for 1, 2 and 5 threads. */
/* The first PIXELS tile of dtype t for the ISA under test (NULL: none). */
static const char *first_pixels_tile(tconv_dtype t)
{
    const tconv_isa isa = tconv_get_isa();
    for (int i = 0; tconv_kernel_name(isa, i); i++) {
        const char *name = tconv_kernel_name(isa, i);
        if (strstr(name, "_px") && strncmp(name, t == TCONV_F64 ? "f64" : "f32", 3) == 0)
            return name;
    }
    return NULL;
}

/* The chosen kernels, then (j >= 8) backward-data on a PIXELS tile
 * (kernels/bwd_data_columns.c), whose rows the threads share. */
Test(backward, same_bits_for_any_thread_count)
{
    tu_rng r = {4242u};
    for (int j = 0; j < 16; j++) {
        const tu_combo k = {(tconv_layout)(j % 3), TCONV_W_IOHW, (tconv_dtype)(j % 2)};
        const char *pixels = first_pixels_tile(k.dtype);
        if (j >= 8) {
            cr_assert_not_null(pixels, "no PIXELS tile of this dtype");
            cr_assert_eq(setenv("TCONV_BWD_DATA_KERNEL", pixels, 1), 0);
        }
        tconv_desc d = tu_random_desc(&r, &k, 24);
        d.batch = 4;
        const tu_shape s = tu_shape_of(&d);
        const int64_t nx = tu_x_elems(&s), nw = tu_w_elems(&s);
        double *x, *w, *dy;
        random_tensors(&s, &r, &x, &w, &dy);
        cr_assert_eq(tconv_set_num_threads(1), TCONV_OK);
        outputs one = run_backward(&d, 0, x, w, dy, NULL, 0);
        static const int counts[] = {2, 5};
        for (int c = 0; c < 2; c++) {
            cr_assert_eq(tconv_set_num_threads(counts[c]), TCONV_OK);
            outputs many = run_backward(&d, 0, x, w, dy, NULL, 0);
            cr_assert(memcmp(one.dx, many.dx, (size_t)nx * sizeof(double)) == 0,
                      "dx with %d threads differs from 1 thread", counts[c]);
            cr_assert(memcmp(one.dw, many.dw, (size_t)nw * sizeof(double)) == 0,
                      "dw with %d threads differs from 1 thread", counts[c]);
            cr_assert(memcmp(one.dbias, many.dbias, (size_t)s.f * sizeof(double)) == 0,
                      "dbias with %d threads differs from 1 thread", counts[c]);
            free_outputs(&many);
        }
        free_outputs(&one);
        free(x); free(w); free(dy);
        unsetenv("TCONV_BWD_DATA_KERNEL");
    }
    cr_assert_eq(tconv_set_num_threads(0), TCONV_OK);
}
