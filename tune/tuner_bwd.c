/*
 * The backward passes' tuner (tune/tuner.h): their cache values, and the
 * candidates of each (the forward microkernels tconv_select_bwd_candidates
 * lists) as a tconv_tune_runner for the shared timing loop
 * (tune/measure.c), each checked against the reference formulas of
 * include/tconv.h in double: backward-data at sampled dx elements,
 * backward-weights at sampled dw elements and dbias elements.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/bwd_driver.h"
#include "kernels/elem.h"
#include "kernels/ref/ref.h"
#include "tune/measure.h"
#include "tune/tuner.h"

/* ---- values ------------------------------------------------------------- */

void tconv_tune_encode_bwd(const tconv_ukernel *uk, char *buf, size_t n)
{
    snprintf(buf, n, "kernel=%s", uk->name);
}

int tconv_tune_decode_bwd(const char *value, const tconv_problem *p, tconv_pass pass,
                          tconv_isa isa, const tconv_ukernel **out)
{
    char kernel[64];
    int end = 0;
    if (sscanf(value, "kernel=%63s%n", kernel, &end) != 1 || value[end] != '\0') return 0;
    const tconv_ukernel *cand[TCONV_TUNE_MAX_CANDIDATES];
    const int n = tconv_select_bwd_candidates(p, pass, isa, cand, TCONV_TUNE_MAX_CANDIDATES);
    for (int i = 0; i < n; i++)
        if (strcmp(cand[i]->name, kernel) == 0) {
            *out = cand[i];
            return 1;
        }
    return 0;
}

/* ---- measuring ---------------------------------------------------------- */

/* The runner's context: the pass, its candidates, and the data every
 * candidate runs on (random inputs in p's layouts from a fixed seed; the
 * outputs are refilled with NaN for each candidate, so that an element a
 * candidate leaves unwritten fails the check instead of showing the
 * previous candidate's value). */
typedef struct bwd_tuning {
    const tconv_problem *p;
    tconv_pass pass;
    const tconv_ukernel *cand[TCONV_TUNE_MAX_CANDIDATES];
    void *x, *w, *dy;      /* inputs: dy and w (data), x and dy (weights) */
    void *dx, *dw, *dbias; /* outputs: dx (data), dw and dbias (weights) */
} bwd_tuning;

static void fill_nan(tconv_dtype t, void *v, int64_t n)
{
    for (int64_t i = 0; v && i < n; i++) tconv_elem_store(t, v, i, NAN);
}

/* A candidate is its driver: bwd_data or bwd_weights by the pass. */
typedef struct bwd_candidate {
    tconv_pass pass;
    tconv_bwd_data_driver *data;
    tconv_bwd_weights_driver *weights;
} bwd_candidate;

static void destroy_candidate(void *cand)
{
    bwd_candidate *c = cand;
    tconv_bwd_data_driver_destroy(c->data);
    tconv_bwd_weights_driver_destroy(c->weights);
    free(c);
}

static void *create_candidate(void *ctx, int i)
{
    const bwd_tuning *t = ctx;
    bwd_candidate *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->pass = t->pass;
    const tconv_status st =
        t->pass == TCONV_PASS_BWD_DATA
            ? tconv_bwd_data_driver_create(t->p, t->cand[i], &c->data)
            : tconv_bwd_weights_driver_create(t->p, t->cand[i], &c->weights);
    if (st != TCONV_OK) {
        destroy_candidate(c);
        return NULL;
    }
    fill_nan(t->p->dtype, t->dx, t->p->x_elems);
    fill_nan(t->p->dtype, t->dw, t->p->w_elems);
    fill_nan(t->p->dtype, t->dbias, t->p->filters);
    return c;
}

static tconv_status run_candidate(void *ctx, const void *cand)
{
    const bwd_tuning *t = ctx;
    const bwd_candidate *c = cand;
    return c->pass == TCONV_PASS_BWD_DATA
               ? tconv_bwd_data_driver_run(c->data, t->dy, t->w, t->dx)
               : tconv_bwd_weights_driver_run(c->weights, t->x, t->dy, t->dw, t->dbias);
}

/* dx[n][c][ih][iw] by its formula, in double: the sum over the filters m
 * of c's group and the taps of w[c][m][kh][kw] * dy at the output position
 * the tap takes input (ih, iw) to (terms outside dy left out). */
static double reference_dx(const bwd_tuning *t, int64_t n, int64_t c, int64_t ih, int64_t iw)
{
    const tconv_problem *p = t->p;
    const int64_t g = c / p->cg;
    double acc = 0.0;
    for (int64_t kh = 0; kh < p->k_h; kh++) {
        const int64_t oh = tconv_ref_target(ih, kh, p->dil_h, p->stride_h, p->crop_top, p->out_h);
        if (oh < 0) continue;
        for (int64_t kw = 0; kw < p->k_w; kw++) {
            const int64_t ow =
                tconv_ref_target(iw, kw, p->dil_w, p->stride_w, p->crop_left, p->out_w);
            if (ow < 0) continue;
            for (int64_t m = 0; m < p->fg; m++)
                acc += tconv_elem_load(p->dtype, t->w, tconv_w_index(p, c, m, kh, kw)) *
                       tconv_elem_load(p->dtype, t->dy,
                                       tconv_y_index(p, n, g * p->fg + m, oh, ow));
        }
    }
    return acc;
}

/* dw[c][m][kh][kw] by its formula, in double: the sum over every input
 * pixel of the batch of x times dy where the tap takes that pixel. */
static double reference_dw(const bwd_tuning *t, int64_t c, int64_t m, int64_t kh, int64_t kw)
{
    const tconv_problem *p = t->p;
    const int64_t f = c / p->cg * p->fg + m;
    double acc = 0.0;
    for (int64_t n = 0; n < p->batch; n++)
        for (int64_t ih = 0; ih < p->in_h; ih++) {
            const int64_t oh =
                tconv_ref_target(ih, kh, p->dil_h, p->stride_h, p->crop_top, p->out_h);
            if (oh < 0) continue;
            for (int64_t iw = 0; iw < p->in_w; iw++) {
                const int64_t ow =
                    tconv_ref_target(iw, kw, p->dil_w, p->stride_w, p->crop_left, p->out_w);
                if (ow < 0) continue;
                acc += tconv_elem_load(p->dtype, t->x, tconv_x_index(p, n, c, ih, iw)) *
                       tconv_elem_load(p->dtype, t->dy, tconv_y_index(p, n, f, oh, ow));
            }
        }
    return acc;
}

/* dbias[f]: the sum of dy over the batch's output pixels of filter f. */
static double reference_dbias(const bwd_tuning *t, int64_t f)
{
    const tconv_problem *p = t->p;
    double acc = 0.0;
    for (int64_t n = 0; n < p->batch; n++)
        for (int64_t oh = 0; oh < p->out_h; oh++)
            for (int64_t ow = 0; ow < p->out_w; ow++)
                acc += tconv_elem_load(p->dtype, t->dy, tconv_y_index(p, n, f, oh, ow));
    return acc;
}

/* Whether dx agrees with the reference at the sampled elements. */
static int dx_verified(const bwd_tuning *t)
{
    const tconv_problem *p = t->p;
    uint64_t s = 0x9E3779B97F4A7C15u;
    const double terms = (double)(p->fg * p->k_h * p->k_w);
    for (int i = 0; i < TCONV_TUNE_SAMPLES; i++) {
        tconv_tune_next(&s);
        const int64_t n = (int64_t)(s % (uint64_t)p->batch);
        const int64_t c = (int64_t)(s / 7 % (uint64_t)p->channels);
        const int64_t ih = (int64_t)(s / 131 % (uint64_t)p->in_h);
        const int64_t iw = (int64_t)(s / 9973 % (uint64_t)p->in_w);
        const double got = tconv_elem_load(p->dtype, t->dx, tconv_x_index(p, n, c, ih, iw));
        if (!tconv_tune_agrees(p->dtype, got, reference_dx(t, n, c, ih, iw), terms)) return 0;
    }
    return 1;
}

/* Whether dw and dbias agree with the reference at the sampled elements
 * (every dbias element when there are at most TCONV_TUNE_SAMPLES). */
static int dw_verified(const bwd_tuning *t)
{
    const tconv_problem *p = t->p;
    uint64_t s = 0x9E3779B97F4A7C15u;
    const double pixels = (double)(p->batch * p->in_h * p->in_w);
    for (int i = 0; i < TCONV_TUNE_SAMPLES; i++) {
        tconv_tune_next(&s);
        const int64_t c = (int64_t)(s % (uint64_t)p->channels);
        const int64_t m = (int64_t)(s / 7 % (uint64_t)p->fg);
        const int64_t kh = (int64_t)(s / 131 % (uint64_t)p->k_h);
        const int64_t kw = (int64_t)(s / 9973 % (uint64_t)p->k_w);
        const double got = tconv_elem_load(p->dtype, t->dw, tconv_w_index(p, c, m, kh, kw));
        if (!tconv_tune_agrees(p->dtype, got, reference_dw(t, c, m, kh, kw), pixels)) return 0;
    }
    const double outputs = (double)(p->batch * p->out_h * p->out_w);
    for (int i = 0; i < TCONV_TUNE_SAMPLES && i < p->filters; i++) {
        const int64_t f = p->filters <= TCONV_TUNE_SAMPLES
                              ? i
                              : (int64_t)(tconv_tune_next(&s) % (uint64_t)p->filters);
        const double got = tconv_elem_load(p->dtype, t->dbias, f);
        if (!tconv_tune_agrees(p->dtype, got, reference_dbias(t, f), outputs)) return 0;
    }
    return 1;
}

static int verified(void *ctx)
{
    const bwd_tuning *t = ctx;
    return t->pass == TCONV_PASS_BWD_DATA ? dx_verified(t) : dw_verified(t);
}

static void free_data(bwd_tuning *t)
{
    free(t->x); free(t->w); free(t->dy);
    free(t->dx); free(t->dw); free(t->dbias);
}

/* Allocates the pass's buffers and fills its inputs. 0 when memory ran out. */
static int make_data(bwd_tuning *t)
{
    const tconv_problem *p = t->p;
    const size_t es = (size_t)tconv_dtype_size(p->dtype);
    t->dy = malloc((size_t)p->y_elems * es);
    if (t->pass == TCONV_PASS_BWD_DATA) {
        t->w = malloc((size_t)p->w_elems * es);
        t->dx = malloc((size_t)p->x_elems * es);
        if (!t->dy || !t->w || !t->dx) return 0;
    } else {
        t->x = malloc((size_t)p->x_elems * es);
        t->dw = malloc((size_t)p->w_elems * es);
        t->dbias = malloc((size_t)p->filters * es);
        if (!t->dy || !t->x || !t->dw || !t->dbias) return 0;
    }
    uint64_t seed = 0x2545F4914F6CDD1Du;
    tconv_tune_fill_random(p->dtype, t->dy, p->y_elems, &seed);
    if (t->w) tconv_tune_fill_random(p->dtype, t->w, p->w_elems, &seed);
    if (t->x) tconv_tune_fill_random(p->dtype, t->x, p->x_elems, &seed);
    return 1;
}

tconv_status tconv_tune_measure_bwd(const tconv_problem *p, tconv_pass pass, tconv_isa isa,
                                    int exhaustive, double budget,
                                    const tconv_ukernel **best, double *gflops,
                                    int *measured)
{
    *measured = 0;
    if (pass != TCONV_PASS_BWD_DATA && pass != TCONV_PASS_BWD_WEIGHTS) return TCONV_EUNSUPPORTED;
    if (!tconv_tune_affordable(p)) return TCONV_EUNSUPPORTED;
    bwd_tuning *t = calloc(1, sizeof *t);
    if (!t) return TCONV_ENOMEM;
    t->p = p;
    t->pass = pass;
    const int n = tconv_select_bwd_candidates(p, pass, isa, t->cand, TCONV_TUNE_MAX_CANDIDATES);
    tconv_status st = TCONV_EUNSUPPORTED;
    if (n > 0 && !make_data(t)) {
        st = TCONV_ENOMEM;
    } else if (n > 0) {
        const tconv_tune_runner r = {n, t, tconv_tune_pass_flop(p), create_candidate,
                                     run_candidate, verified, destroy_candidate};
        const int winner = tconv_tune_pick(&r, exhaustive, budget, gflops, measured);
        if (winner >= 0) {
            *best = t->cand[winner];
            st = TCONV_OK;
        }
    }
    free_data(t);
    free(t);
    return st;
}
