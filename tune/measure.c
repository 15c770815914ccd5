#include "tune/measure.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "kernels/elem.h"
#include "runtime/error.h"
#include "tune/tuner.h"

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

double tconv_tune_pass_flop(const tconv_problem *p)
{
    return 2.0 * (double)p->batch * (double)p->channels * (double)p->fg * (double)p->in_h *
           (double)p->in_w * (double)(p->k_h * p->k_w);
}

#define TUNE_MAX_BYTES 2147483648.0 /* 2 GiB */
#define TUNE_MAX_FLOP 274877906944.0 /* 2^38 */

int tconv_tune_affordable(const tconv_problem *p)
{
    /* In double: the products may exceed int64_t, and only a bound matters. */
    const double bytes = ((double)p->x_elems + (double)p->w_elems + (double)p->y_elems) *
                         (double)tconv_dtype_size(p->dtype);
    return bytes <= TUNE_MAX_BYTES && tconv_tune_pass_flop(p) <= TUNE_MAX_FLOP;
}

/* ---- sampled checks ----------------------------------------------------- */

void tconv_tune_fill_random(tconv_dtype t, void *v, int64_t n, uint64_t *seed)
{
    for (int64_t i = 0; i < n; i++)
        tconv_elem_store(t, v, i, (double)(tconv_tune_next(seed) >> 11) * 0x1p-52 - 1.0);
}

int tconv_tune_agrees(tconv_dtype t, double got, double want, double terms)
{
    const double tol = t == TCONV_F64 ? 1e-9 : 1e-3;
    return fabs(got - want) <= tol * (sqrt(terms) + 1.0);
}

/* ---- timing ------------------------------------------------------------- */

static double monotonic_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The clock every reading below takes (tconv_tune_set_clock). */
static double (*_Atomic clock_s)(void) = monotonic_s;

void tconv_tune_set_clock(double (*clock)(void))
{
    atomic_store(&clock_s, clock ? clock : monotonic_s);
}

static double now_s(void) { return atomic_load(&clock_s)(); }

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A candidate ready to time: what r->create returned, and how many runs
 * make one sample of ~10 ms. */
typedef struct prepared {
    int index;
    void *cand;
    int reps;
} prepared;

static void release(const tconv_tune_runner *r, prepared *c)
{
    if (c->cand) r->destroy(c->cand);
    c->cand = NULL;
}

/* Plans candidate i, runs it once (the warm-up, which also sizes the
 * samples) and verifies its output. 0 when it cannot be planned or run or
 * its output is wrong (released then). */
static int prepare(const tconv_tune_runner *r, int i, prepared *c)
{
    *c = (prepared){i, r->create(r->ctx, i), 1};
    if (!c->cand) return 0;
    const double t0 = now_s();
    if (r->run(r->ctx, c->cand) != TCONV_OK || !r->verified(r->ctx)) {
        release(r, c);
        return 0;
    }
    const double once = now_s() - t0;
    c->reps = once >= 0.01 ? 1 : (int)(0.01 / (once > 1e-6 ? once : 1e-6)) + 1;
    return 1;
}

/* Seconds per run, over one sample. */
static double sample(const tconv_tune_runner *r, const prepared *c)
{
    const double t0 = now_s();
    for (int k = 0; k < c->reps; k++) r->run(r->ctx, c->cand);
    return (now_s() - t0) / c->reps;
}

/*
 * How fast a candidate is against the one kept so far: samples of the two
 * alternate (so a change in the machine's load hits both alike), and the
 * median of the seven ratios candidate / kept is the answer. Timing them one
 * after the other instead let a busy moment make a slower kernel look 3%
 * faster on this shared machine.
 */
#define ROUNDS 7

static double paired_ratio(const tconv_tune_runner *r, const prepared *cand, const prepared *kept,
                           double *kept_seconds)
{
    double ratio[ROUNDS], kept_t[ROUNDS];
    for (int k = 0; k < ROUNDS; k++) {
        kept_t[k] = sample(r, kept);
        ratio[k] = sample(r, cand) / kept_t[k];
    }
    qsort(ratio, ROUNDS, sizeof ratio[0], cmp_double);
    qsort(kept_t, ROUNDS, sizeof kept_t[0], cmp_double);
    *kept_seconds = kept_t[ROUNDS / 2];
    return ratio[ROUNDS / 2];
}

/* Candidates measured without `exhaustive`: the best-scored few. */
#define PRUNED 6

int tconv_tune_pick(const tconv_tune_runner *r, int exhaustive, double budget, double *gflops,
                    int *measured)
{
    const int n = !exhaustive && r->count > PRUNED ? PRUNED : r->count;
    *measured = 0;
    const double start = now_s();
    /* Candidate 0, the analytic choice, is kept first; each later one
     * replaces the kept one only when at least 3% faster than it, so that
     * noise never swaps in an equal kernel; and a winner other than the
     * analytic choice must beat it by 3% once more, in fresh rounds, to be
     * taken. (If the analytic choice fails, the first that works stands in
     * for it.) */
    prepared first = {-1, NULL, 0}, kept = first;
    double kept_seconds = 0.0;
    for (int i = 0; i < n; i++) {
        if (kept.cand && now_s() - start > budget) break;
        prepared c;
        (*measured)++;
        if (!prepare(r, i, &c)) continue;
        if (!kept.cand) {
            kept = first = c;
            continue;
        }
        double kept_t;
        const double ratio = paired_ratio(r, &c, &kept, &kept_t);
        kept_seconds = kept_t;
        if (ratio < 0.97) {
            if (kept.cand != first.cand) release(r, &kept);
            kept = c;
            kept_seconds = kept_t * ratio;
        } else {
            release(r, &c);
        }
    }
    if (kept.cand != first.cand) {
        double first_t;
        const double ratio = paired_ratio(r, &kept, &first, &first_t);
        if (ratio < 0.97) {
            release(r, &first);
            kept_seconds = first_t * ratio;
        } else {
            release(r, &kept);
            kept = first;
            kept_seconds = first_t;
        }
    }
    if (!kept.cand) return -1;
    if (kept_seconds <= 0.0) { /* only one candidate ran: time it alone */
        double t[ROUNDS];
        for (int k = 0; k < ROUNDS; k++) t[k] = sample(r, &kept);
        qsort(t, ROUNDS, sizeof t[0], cmp_double);
        kept_seconds = t[ROUNDS / 2];
    }
    *gflops = r->flop / kept_seconds * 1e-9;
    const int winner = kept.index;
    release(r, &kept);
    return winner;
}
