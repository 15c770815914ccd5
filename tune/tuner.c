#include "tune/tuner.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatch/activation.h"
#include "dispatch/desc.h"
#include "dispatch/error.h"
#include "kernels/activation.h"
#include "kernels/elem.h"
#include "kernels/fwd_driver.h"
#include "kernels/ref/ref.h"

/* ---- keys and values ---------------------------------------------------- */

/* Sizes up to 8 exactly; above, buckets of 2^k and 1.5 * 2^k (lower bound),
 * so 100 and 104 share one and 56 and 64 do not. */
static long long bucket(int64_t v)
{
    if (v <= 8) return (long long)v;
    int64_t b = 8;
    while (b * 2 <= v) b *= 2;
    return (long long)(v >= b + b / 2 ? b + b / 2 : b);
}

static long long mod(int64_t a, int64_t m)
{
    return (long long)(((a % m) + m) % m);
}

void tconv_tune_key(const tconv_desc *d, const tconv_problem *p, tconv_isa isa, int threads,
                    char *buf, size_t n)
{
    snprintf(buf, n,
             "fwd %s %s/%s c%lld f%lld g%lld k%lldx%lld s%lldx%lld d%lldx%lld "
             "phase%lld,%lld act%d h~%lld w~%lld n~%lld isa=%s threads=%d",
             p->dtype == TCONV_F64 ? "f64" : "f32", tconv_layout_name(d->layout),
             tconv_weight_layout_name(d->weight_layout), (long long)p->channels,
             (long long)p->filters, (long long)p->groups, (long long)p->k_h, (long long)p->k_w,
             (long long)p->stride_h, (long long)p->stride_w, (long long)p->dil_h,
             (long long)p->dil_w, mod(p->crop_top, p->stride_h), mod(p->crop_left, p->stride_w),
             (int)p->activation, bucket(p->in_h), bucket(p->in_w), bucket(p->batch),
             tconv_isa_name(isa), threads);
}

void tconv_tune_encode(const tconv_fwd_choice *c, char *buf, size_t n)
{
    snprintf(buf, n, "kernel=%s mode=%s", c->uk ? c->uk->name : "ref",
             c->mode == TCONV_FWD_SCATTER ? "scatter" : "gather");
}

int tconv_tune_decode(const char *value, const tconv_problem *p, tconv_isa isa,
                      tconv_fwd_choice *out)
{
    char kernel[64], mode[16];
    if (sscanf(value, "kernel=%63s mode=%15s", kernel, mode) != 2) return 0;
    tconv_fwd_choice cand[TCONV_TUNE_MAX_CANDIDATES];
    const int n = tconv_select_candidates(p, isa, cand, TCONV_TUNE_MAX_CANDIDATES);
    for (int i = 0; i < n; i++)
        if (strcmp(cand[i].uk->name, kernel) == 0 &&
            strcmp(mode, cand[i].mode == TCONV_FWD_SCATTER ? "scatter" : "gather") == 0) {
            *out = cand[i];
            return 1;
        }
    return 0;
}

/* ---- budget ------------------------------------------------------------- */

static _Atomic double budget_s = 2.0;

double tconv_tune_budget(void) { return atomic_load(&budget_s); }

tconv_status tconv_set_tune_budget(double seconds)
{
    if (!(seconds > 0.0 && seconds <= 86400.0))
        return tconv_fail(TCONV_EINVAL, "seconds (%g) is not in (0, 86400]", seconds);
    atomic_store(&budget_s, seconds);
    return TCONV_OK;
}

/* ---- measuring ---------------------------------------------------------- */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Inputs shared by every candidate: x, w, bias in p's layouts, random in
 * [-1, 1) from a fixed seed (xorshift: only the values' spread matters). */
typedef struct tune_data {
    void *x, *w, *bias, *y;
} tune_data;

static void fill_random(tconv_dtype t, void *v, int64_t n, uint64_t *s)
{
    for (int64_t i = 0; i < n; i++) {
        *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
        tconv_elem_store(t, v, i, (double)(*s >> 11) * 0x1p-52 - 1.0);
    }
}

/* One output of p by the gather formula, in double: the reference for a
 * sampled check (running the whole reference would cost more than tuning). */
static double reference_point(const tconv_problem *p, const tune_data *td, int64_t n, int64_t f,
                              int64_t oh, int64_t ow)
{
    const int64_t g = f / p->fg, m = f % p->fg;
    double acc = tconv_elem_load(p->dtype, td->bias, f);
    for (int64_t kh = 0; kh < p->k_h; kh++) {
        const int64_t ih = tconv_ref_source(oh + p->crop_top, kh, p->dil_h, p->stride_h, p->in_h);
        if (ih < 0) continue;
        for (int64_t kw = 0; kw < p->k_w; kw++) {
            const int64_t iw =
                tconv_ref_source(ow + p->crop_left, kw, p->dil_w, p->stride_w, p->in_w);
            if (iw < 0) continue;
            for (int64_t c = g * p->cg; c < (g + 1) * p->cg; c++)
                acc += tconv_elem_load(p->dtype, td->x, tconv_x_index(p, n, c, ih, iw)) *
                       tconv_elem_load(p->dtype, td->w, tconv_w_index(p, c, m, kh, kw));
        }
    }
    return tconv_act_ref(p->activation, p->activation_alpha, acc);
}

/* Whether y agrees with the reference at 64 sampled outputs. */
static int verified(const tconv_problem *p, const tune_data *td)
{
    uint64_t s = 0x9E3779B97F4A7C15u;
    const double tol = p->dtype == TCONV_F64 ? 1e-9 : 1e-3;
    const double scale = sqrt((double)(p->cg * p->k_h * p->k_w)) + 1.0;
    for (int i = 0; i < 64; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        const int64_t n = (int64_t)(s % (uint64_t)p->batch);
        const int64_t f = (int64_t)(s / 7 % (uint64_t)p->filters);
        const int64_t oh = (int64_t)(s / 131 % (uint64_t)p->out_h);
        const int64_t ow = (int64_t)(s / 9973 % (uint64_t)p->out_w);
        const double want = reference_point(p, td, n, f, oh, ow);
        const double got = tconv_elem_load(p->dtype, td->y, tconv_y_index(p, n, f, oh, ow));
        if (!(fabs(got - want) <= tol * scale)) return 0;
    }
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A candidate ready to run: its driver and packed weights, and how many
 * passes make one sample of ~10 ms. */
typedef struct prepared {
    tconv_fwd_choice choice;
    tconv_fwd_driver *drv;
    void *pw, *pb;
    int reps;
} prepared;

static void release(prepared *c)
{
    free(c->pw);
    free(c->pb);
    tconv_fwd_driver_destroy(c->drv);
    c->drv = NULL;
    c->pw = c->pb = NULL;
}

/* Plans, packs, runs once (the warm-up) and verifies candidate ch. 0 when
 * it cannot be planned or its output is wrong (released then). */
static int prepare(const tconv_problem *p, tconv_isa isa, const tconv_fwd_choice *ch,
                   const tune_data *td, prepared *c)
{
    *c = (prepared){*ch, NULL, NULL, NULL, 1};
    if (tconv_fwd_driver_create(p, ch->uk, ch->mode, tconv_select_act(isa), &c->drv) != TCONV_OK)
        return 0;
    const int64_t es = tconv_dtype_size(p->dtype);
    c->pw = tconv_alloc_aligned(tconv_fwd_driver_packed_w_elems(c->drv) * (size_t)es);
    c->pb = tconv_alloc_aligned(tconv_fwd_driver_packed_bias_elems(c->drv) * (size_t)es);
    if (!c->pw || !c->pb) {
        release(c);
        return 0;
    }
    tconv_fwd_driver_pack(c->drv, td->w, td->bias, c->pw, c->pb);
    const double t0 = now_s();
    if (tconv_fwd_driver_run(c->drv, td->x, c->pw, c->pb, td->y) != TCONV_OK || !verified(p, td)) {
        release(c);
        return 0;
    }
    const double once = now_s() - t0;
    c->reps = once >= 0.01 ? 1 : (int)(0.01 / (once > 1e-6 ? once : 1e-6)) + 1;
    return 1;
}

/* Seconds per pass, over one sample. */
static double sample(const prepared *c, const tune_data *td)
{
    const double t0 = now_s();
    for (int r = 0; r < c->reps; r++) tconv_fwd_driver_run(c->drv, td->x, c->pw, c->pb, td->y);
    return (now_s() - t0) / c->reps;
}

/*
 * How fast a candidate is against the one kept so far: samples of the two
 * alternate (so a change in the machine's load hits both alike), and the
 * median of the seven ratios candidate / kept is the answer. Timing them one
 * after the other instead let a busy moment make a slower kernel look 3%
 * faster on this shared machine.
 */
#define TCONV_TUNE_ROUNDS 7

static double paired_ratio(const prepared *cand, const prepared *kept, const tune_data *td,
                           double *kept_seconds)
{
    double ratio[TCONV_TUNE_ROUNDS], kept_t[TCONV_TUNE_ROUNDS];
    for (int r = 0; r < TCONV_TUNE_ROUNDS; r++) {
        kept_t[r] = sample(kept, td);
        ratio[r] = sample(cand, td) / kept_t[r];
    }
    qsort(ratio, TCONV_TUNE_ROUNDS, sizeof ratio[0], cmp_double);
    qsort(kept_t, TCONV_TUNE_ROUNDS, sizeof kept_t[0], cmp_double);
    *kept_seconds = kept_t[TCONV_TUNE_ROUNDS / 2];
    return ratio[TCONV_TUNE_ROUNDS / 2];
}

/* Candidates measured in MEASURE mode: the best-scored few. */
#define TCONV_TUNE_PRUNED 6

tconv_status tconv_tune_measure(const tconv_problem *p, tconv_isa isa, int exhaustive,
                                double budget, tconv_fwd_choice *best, double *gflops,
                                int *measured)
{
    tconv_fwd_choice cand[TCONV_TUNE_MAX_CANDIDATES];
    int n = tconv_select_candidates(p, isa, cand, TCONV_TUNE_MAX_CANDIDATES);
    if (!exhaustive && n > TCONV_TUNE_PRUNED) n = TCONV_TUNE_PRUNED;
    *measured = 0;
    if (n == 0) return TCONV_EUNSUPPORTED;
    const int64_t es = tconv_dtype_size(p->dtype);
    tune_data td = {malloc((size_t)(p->x_elems * es)), malloc((size_t)(p->w_elems * es)),
                    malloc((size_t)(p->filters * es)), malloc((size_t)(p->y_elems * es))};
    tconv_status st = TCONV_ENOMEM;
    if (td.x && td.w && td.bias && td.y) {
        uint64_t seed = 0x2545F4914F6CDD1Du;
        fill_random(p->dtype, td.x, p->x_elems, &seed);
        fill_random(p->dtype, td.w, p->w_elems, &seed);
        fill_random(p->dtype, td.bias, p->filters, &seed);
        const double start = now_s();
        /* cand[0], the heuristic choice, is kept first; each later one
         * replaces the kept one only when at least 3% faster than it, so
         * that noise never swaps in an equal kernel; and a winner other
         * than the heuristic choice must beat it by 3% once more, in fresh
         * rounds, to be taken. */
        prepared heur = {{NULL, TCONV_FWD_GATHER}, NULL, NULL, NULL, 0}, kept = heur;
        double kept_seconds = 0.0;
        for (int i = 0; i < n; i++) {
            if (kept.drv && now_s() - start > budget) break;
            prepared c;
            (*measured)++;
            if (!prepare(p, isa, &cand[i], &td, &c)) continue;
            if (!kept.drv) {
                kept = heur = c;
                continue;
            }
            double kept_t;
            const double ratio = paired_ratio(&c, &kept, &td, &kept_t);
            kept_seconds = kept_t;
            if (ratio < 0.97) {
                if (kept.drv != heur.drv) release(&kept);
                kept = c;
                kept_seconds = kept_t * ratio;
            } else {
                release(&c);
            }
        }
        if (kept.drv != heur.drv) {
            double heur_t;
            const double ratio = paired_ratio(&kept, &heur, &td, &heur_t);
            if (ratio < 0.97) {
                release(&heur);
                kept_seconds = heur_t * ratio;
            } else {
                release(&kept);
                kept = heur;
                kept_seconds = heur_t;
            }
        }
        if (kept.drv) {
            if (kept_seconds <= 0.0) { /* only one candidate ran: time it alone */
                double t[TCONV_TUNE_ROUNDS];
                for (int r = 0; r < TCONV_TUNE_ROUNDS; r++) t[r] = sample(&kept, &td);
                qsort(t, TCONV_TUNE_ROUNDS, sizeof t[0], cmp_double);
                kept_seconds = t[TCONV_TUNE_ROUNDS / 2];
            }
            const double flop = 2.0 * (double)p->batch * (double)p->channels * (double)p->fg *
                                (double)p->in_h * (double)p->in_w * (double)(p->k_h * p->k_w);
            *best = kept.choice;
            *gflops = flop / kept_seconds * 1e-9;
            release(&kept);
            st = TCONV_OK;
        } else {
            st = TCONV_EUNSUPPORTED;
        }
    }
    free(td.x); free(td.w); free(td.bias); free(td.y);
    return st;
}
