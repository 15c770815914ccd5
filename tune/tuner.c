/*
 * The forward pass's tuner (tune/tuner.h): its cache values, and its
 * candidates as a tconv_tune_runner for the shared timing loop
 * (tune/measure.c), each checked at sampled outputs against the gather
 * formula in double.
 */
#include "tune/tuner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/activation.h"
#include "kernels/activation.h"
#include "kernels/elem.h"
#include "kernels/fwd_driver.h"
#include "kernels/ref/ref.h"
#include "runtime/scratch.h" /* tconv_alloc_aligned */
#include "tune/measure.h"

/* ---- values ------------------------------------------------------------- */

static const char *mode_name(tconv_fwd_mode m)
{
    return m == TCONV_FWD_SCATTER ? "scatter" : m == TCONV_FWD_PHASES ? "phases" : "gather";
}

void tconv_tune_encode(const tconv_fwd_choice *c, char *buf, size_t n)
{
    snprintf(buf, n, "kernel=%s mode=%s", c->uk ? c->uk->name : "ref", mode_name(c->mode));
}

int tconv_tune_decode(const char *value, const tconv_problem *p, tconv_isa isa,
                      tconv_fwd_choice *out)
{
    char kernel[64], mode[16];
    if (sscanf(value, "kernel=%63s mode=%15s", kernel, mode) != 2) return 0;
    tconv_fwd_choice cand[TCONV_TUNE_MAX_CANDIDATES];
    const int n = tconv_select_candidates(p, isa, cand, TCONV_TUNE_MAX_CANDIDATES);
    for (int i = 0; i < n; i++)
        if (strcmp(cand[i].uk->name, kernel) == 0 && strcmp(mode, mode_name(cand[i].mode)) == 0) {
            *out = cand[i];
            return 1;
        }
    return 0;
}

/* ---- measuring ---------------------------------------------------------- */

/* The runner's context: the candidates and the data every one runs on (x,
 * w, bias in p's layouts, random in [-1, 1) from a fixed seed). */
typedef struct fwd_tuning {
    const tconv_problem *p;
    tconv_isa isa;
    tconv_fwd_choice cand[TCONV_TUNE_MAX_CANDIDATES];
    void *x, *w, *bias, *y;
} fwd_tuning;

/* A candidate ready to run: its driver and packed weights. */
typedef struct fwd_candidate {
    const fwd_tuning *t;
    tconv_fwd_driver *drv;
    void *pw, *pb;
} fwd_candidate;

static void destroy_candidate(void *cand)
{
    fwd_candidate *c = cand;
    free(c->pw);
    free(c->pb);
    tconv_fwd_driver_destroy(c->drv);
    free(c);
}

static void *create_candidate(void *ctx, int i)
{
    const fwd_tuning *t = ctx;
    const tconv_fwd_choice *ch = &t->cand[i];
    fwd_candidate *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->t = t;
    if (tconv_fwd_driver_create(t->p, ch->uk, ch->ph, ch->mode, tconv_select_act(t->isa),
                                &c->drv) != TCONV_OK) {
        destroy_candidate(c);
        return NULL;
    }
    const size_t es = (size_t)tconv_dtype_size(t->p->dtype);
    c->pw = tconv_alloc_aligned(tconv_fwd_driver_packed_w_elems(c->drv) * es);
    c->pb = tconv_alloc_aligned(tconv_fwd_driver_packed_bias_elems(c->drv) * es);
    if (!c->pw || !c->pb) {
        destroy_candidate(c);
        return NULL;
    }
    tconv_fwd_driver_pack(c->drv, t->w, t->bias, c->pw, c->pb);
    return c;
}

static tconv_status run_candidate(void *ctx, const void *cand)
{
    const fwd_tuning *t = ctx;
    const fwd_candidate *c = cand;
    return tconv_fwd_driver_run(c->drv, t->x, c->pw, c->pb, t->y);
}

/* One output of p by the gather formula, in double: the reference for a
 * sampled check (running the whole reference would cost more than tuning). */
static double reference_point(const fwd_tuning *t, int64_t n, int64_t f, int64_t oh, int64_t ow)
{
    const tconv_problem *p = t->p;
    const int64_t g = f / p->fg, m = f % p->fg;
    double acc = tconv_elem_load(p->dtype, t->bias, f);
    for (int64_t kh = 0; kh < p->k_h; kh++) {
        const int64_t ih = tconv_ref_source(oh + p->crop_top, kh, p->dil_h, p->stride_h, p->in_h);
        if (ih < 0) continue;
        for (int64_t kw = 0; kw < p->k_w; kw++) {
            const int64_t iw =
                tconv_ref_source(ow + p->crop_left, kw, p->dil_w, p->stride_w, p->in_w);
            if (iw < 0) continue;
            for (int64_t c = g * p->cg; c < (g + 1) * p->cg; c++)
                acc += tconv_elem_load(p->dtype, t->x, tconv_x_index(p, n, c, ih, iw)) *
                       tconv_elem_load(p->dtype, t->w, tconv_w_index(p, c, m, kh, kw));
        }
    }
    return tconv_act_ref(p->activation, p->activation_alpha, acc);
}

/* Whether y agrees with the reference at the sampled outputs. */
static int verified(void *ctx)
{
    const fwd_tuning *t = ctx;
    const tconv_problem *p = t->p;
    uint64_t s = 0x9E3779B97F4A7C15u;
    const double terms = (double)(p->cg * p->k_h * p->k_w);
    for (int i = 0; i < TCONV_TUNE_SAMPLES; i++) {
        tconv_tune_next(&s);
        const int64_t n = (int64_t)(s % (uint64_t)p->batch);
        const int64_t f = (int64_t)(s / 7 % (uint64_t)p->filters);
        const int64_t oh = (int64_t)(s / 131 % (uint64_t)p->out_h);
        const int64_t ow = (int64_t)(s / 9973 % (uint64_t)p->out_w);
        const double got = tconv_elem_load(p->dtype, t->y, tconv_y_index(p, n, f, oh, ow));
        if (!tconv_tune_agrees(p->dtype, got, reference_point(t, n, f, oh, ow), terms)) return 0;
    }
    return 1;
}

tconv_status tconv_tune_measure(const tconv_problem *p, tconv_isa isa, int exhaustive,
                                double budget, tconv_fwd_choice *best, double *gflops,
                                int *measured)
{
    *measured = 0;
    if (!tconv_tune_affordable(p)) return TCONV_EUNSUPPORTED;
    fwd_tuning *t = calloc(1, sizeof *t);
    if (!t) return TCONV_ENOMEM;
    t->p = p;
    t->isa = isa;
    const int n = tconv_select_candidates(p, isa, t->cand, TCONV_TUNE_MAX_CANDIDATES);
    const size_t es = (size_t)tconv_dtype_size(p->dtype);
    t->x = malloc((size_t)p->x_elems * es);
    t->w = malloc((size_t)p->w_elems * es);
    t->bias = malloc((size_t)p->filters * es);
    t->y = malloc((size_t)p->y_elems * es);
    tconv_status st = TCONV_ENOMEM;
    if (n == 0) {
        st = TCONV_EUNSUPPORTED;
    } else if (t->x && t->w && t->bias && t->y) {
        uint64_t seed = 0x2545F4914F6CDD1Du;
        tconv_tune_fill_random(p->dtype, t->x, p->x_elems, &seed);
        tconv_tune_fill_random(p->dtype, t->w, p->w_elems, &seed);
        tconv_tune_fill_random(p->dtype, t->bias, p->filters, &seed);
        const tconv_tune_runner r = {n, t, tconv_tune_pass_flop(p), create_candidate,
                                     run_candidate, verified, destroy_candidate};
        const int winner = tconv_tune_pick(&r, exhaustive, budget, gflops, measured);
        if (winner >= 0) *best = t->cand[winner];
        st = winner >= 0 ? TCONV_OK : TCONV_EUNSUPPORTED;
    }
    free(t->x); free(t->w); free(t->bias); free(t->y);
    free(t);
    return st;
}
