/*
 * The candidate lists the tuner measures (dispatch/select.c), for every
 * kernel table built into the library (listing needs no CPU support: no
 * kernel runs here), over layers whose scores favour different drivers:
 *
 * - the list holds every candidate once, the default first;
 * - every strategy (a forward (mode, family), a backward driver) has its
 *   best-scored candidate within the first as many entries as there are
 *   strategies, so that a tuner whose time budget runs out after a few
 *   comparisons has still measured each strategy once.
 *
 * Scores themselves are not checked (they are estimates, and the tuner is
 * there because they err); only the order's promises are.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "dispatch/desc.h"
#include "dispatch/select.h"
#include "kernels/bwd_driver.h"

typedef struct layer {
    const char *name;
    int64_t n, c, h, w, f, k, s, crop;
    tconv_layout layout;
} layer;

static const layer layers[] = {
    {"U-Net 512->256 NHWC", 1, 512, 52, 52, 256, 2, 2, 0, TCONV_NHWC},
    {"U-Net 512->256 NCHW", 1, 512, 52, 52, 256, 2, 2, 0, TCONV_NCHW},
    {"pix2pix 128->3 NCHW", 1, 128, 128, 128, 3, 4, 2, 1, TCONV_NCHW},
    {"FSRCNN 56->1 NHWC", 1, 56, 32, 32, 1, 9, 3, 3, TCONV_NHWC},
    {"DCGAN 100->512 NCHW", 16, 100, 1, 1, 512, 4, 1, 0, TCONV_NCHW},
};

static tconv_problem problem_of(const layer *l, tconv_dtype dtype)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.batch = l->n; d.channels = l->c; d.in_h = l->h; d.in_w = l->w;
    d.filters = l->f; d.filter_h = d.filter_w = l->k; d.stride_h = d.stride_w = l->s;
    d.crop_top = d.crop_bottom = d.crop_left = d.crop_right = l->crop;
    d.layout = l->layout;
    d.weight_layout = l->layout == TCONV_NHWC ? TCONV_W_OHWI : TCONV_W_IOHW;
    d.dtype = dtype;
    tconv_problem p;
    cr_assert_eq(tconv_problem_from_desc(&d, &p), TCONV_OK, "%s", l->name);
    return p;
}

/* The checks on one list: kinds[i] is candidate i's strategy. */
static void check_order(const char *what, const int *kinds, const void *const *ids, int n)
{
    cr_assert_gt(n, 0, "%s: no candidates", what);
    int nkinds = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i; j++)
            cr_assert_neq(ids[i], ids[j], "%s: candidate %d repeats %d", what, i, j);
        int first_of_kind = 1;
        for (int j = 0; j < i; j++) first_of_kind &= kinds[j] != kinds[i];
        nkinds += first_of_kind;
    }
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < nkinds && !seen; j++) seen = kinds[j] == kinds[i];
        cr_assert(seen, "%s: strategy %d (candidate %d) is not among the first %d", what,
                  kinds[i], i, nkinds);
    }
}

static const tconv_isa isas[] = {TCONV_ISA_SCALAR, TCONV_ISA_AVX2, TCONV_ISA_AVX512,
                                 TCONV_ISA_NEON};

Test(select, forward_candidates_measure_every_strategy_early)
{
    int tables = 0;
    for (size_t a = 0; a < sizeof isas / sizeof isas[0]; a++) {
        if (!tconv_select_table(isas[a])) continue;
        tables++;
        for (size_t l = 0; l < sizeof layers / sizeof layers[0]; l++)
            for (int dt = 0; dt < 2; dt++) {
                const tconv_problem p = problem_of(&layers[l], dt ? TCONV_F64 : TCONV_F32);
                tconv_fwd_choice c[TCONV_TUNE_MAX_CANDIDATES];
                const int n = tconv_select_candidates(&p, isas[a], c, TCONV_TUNE_MAX_CANDIDATES);
                if (n == 0) continue; /* no kernel of the dtype: the reference runs */
                const tconv_fwd_choice def = tconv_select_fwd(&p, isas[a]);
                cr_assert_eq(c[0].uk, def.uk, "%s: the default is not first", layers[l].name);
                cr_assert_eq(c[0].mode, def.mode, "%s: the default is not first", layers[l].name);
                int kinds[TCONV_TUNE_MAX_CANDIDATES];
                const void *ids[TCONV_TUNE_MAX_CANDIDATES];
                for (int i = 0; i < n; i++) {
                    kinds[i] = (int)c[i].mode * 4 + (int)c[i].uk->family;
                    /* a (kernel, mode) pair is one candidate: one id each */
                    ids[i] = (const char *)c[i].uk + c[i].mode;
                }
                check_order(layers[l].name, kinds, ids, n);
            }
    }
    cr_assert_gt(tables, 0, "no kernel table is built");
}

Test(select, backward_candidates_measure_every_driver_early)
{
    for (size_t a = 0; a < sizeof isas / sizeof isas[0]; a++) {
        if (!tconv_select_table(isas[a])) continue;
        for (size_t l = 0; l < sizeof layers / sizeof layers[0]; l++)
            for (int pass = TCONV_PASS_BWD_DATA; pass <= TCONV_PASS_BWD_WEIGHTS; pass++) {
                const tconv_problem p = problem_of(&layers[l], TCONV_F32);
                const tconv_ukernel *c[TCONV_TUNE_MAX_CANDIDATES];
                const int n = tconv_select_bwd_candidates(&p, (tconv_pass)pass, isas[a], c,
                                                          TCONV_TUNE_MAX_CANDIDATES);
                if (n == 0) continue; /* a table with no kernel for the pass: the reference */
                cr_assert_eq(c[0], tconv_select_bwd(&p, (tconv_pass)pass, isas[a]),
                             "%s: the default is not first", layers[l].name);
                int kinds[TCONV_TUNE_MAX_CANDIDATES];
                /* backward-data: a driver per family; backward-weights:
                 * one per kind, the packed kind per family */
                for (int i = 0; i < n; i++) {
                    const tconv_bwd_weights_kind kind = tconv_bwd_weights_kind_of(&p, c[i]);
                    kinds[i] = pass == TCONV_PASS_BWD_DATA ? (int)c[i]->family
                               : kind == TCONV_BWD_WEIGHTS_PACKED ? 8 + (int)c[i]->family
                                                                  : (int)kind;
                }
                check_order(layers[l].name, kinds, (const void *const *)c, n);
            }
    }
}
