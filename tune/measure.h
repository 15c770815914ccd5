/*
 * The measuring machinery every pass's tuner shares (tune/tuner.c for the
 * forward pass, tune/tuner_bwd.c for the backward passes): the loop that
 * prepares, verifies and times the candidates of one pass in alternation
 * with the choice kept so far, the tuning budget (tconv_tune_budget, in
 * tune/tuner.h), and the helpers of the sampled checks (random inputs,
 * sample positions, tolerance).
 *
 * A pass describes its candidates with a tconv_tune_runner: how to plan
 * candidate i, how to run it once on the pass's data, and whether the last
 * run's output agrees with the reference. The loop knows nothing else of
 * the pass, so the forward and backward tuners rank candidates the same way.
 */
#ifndef TCONV_TUNE_MEASURE_H
#define TCONV_TUNE_MEASURE_H

#include <stdint.h>

#include "kernels/problem.h"
#include "tconv.h"

typedef struct tconv_tune_runner {
    int count;       /* candidates, the analytic choice first */
    void *ctx;       /* the pass's inputs, outputs and candidate list */
    double flop;     /* floating-point operations of one run, for GFLOP/s */
    /* Plans candidate i (0 <= i < count); NULL when it cannot be planned or
     * memory runs out. */
    void *(*create)(void *ctx, int i);
    /* Runs a created candidate once on ctx's inputs into ctx's outputs. */
    tconv_status (*run)(void *ctx, const void *cand);
    /* Whether ctx's outputs (of the last run) agree with the reference. */
    int (*verified)(void *ctx);
    void (*destroy)(void *cand);
} tconv_tune_runner;

/*
 * Measures r's candidates and returns the index of the fastest verified one
 * (-1 when none could be planned and verified), its GFLOP/s in *gflops and
 * the number of candidates tried in *measured. Candidate 0, the analytic
 * choice, is kept first; a later one, timed in alternation with the kept
 * one, replaces it only when at least 3% faster, and a winner other than
 * candidate 0 must beat it by 3% once more. exhaustive: every candidate;
 * else the first few. budget_s bounds the time spent past candidate 0,
 * which is always measured.
 */
int tconv_tune_pick(const tconv_tune_runner *r, int exhaustive, double budget_s, double *gflops,
                    int *measured);

/* For tests only: the clock the measuring loop reads, in seconds (NULL:
 * CLOCK_MONOTONIC, the default), for every process-wide use of it.
 * tests/test_alloc_fail.c installs one that advances by one second per
 * reading, so that measuring makes the same decisions, and so the same
 * allocations, on any machine and under any load: every sample is one run,
 * every candidate ties with the kept one (the analytic choice stays), and
 * the budget ends measuring after the same readings. Set it while no plan
 * measures: a measurement that read both clocks would mean nothing. */
void tconv_tune_set_clock(double (*clock)(void));

/* The multiply-adds (as 2 flops each) of any pass of p: every tap of every
 * input pixel against every filter of its group. The backward passes do
 * the same products as the forward pass, only summed differently. */
double tconv_tune_pass_flop(const tconv_problem *p);

/* Whether measuring a pass of p is affordable: its data (x, w and y, or
 * their gradients, at the layer's own sizes) within 2 GiB and one run
 * within 2^38 flops. Measuring runs each candidate a dozen times or more
 * on that data, so a larger layer (one from an untrusted model file, say)
 * would cost the plan gigabytes and minutes; the plan keeps the analytic
 * choice instead, as when memory runs out. */
int tconv_tune_affordable(const tconv_problem *p);

/* n values of dtype t in [-1, 1) from the generator state *seed (xorshift:
 * only the values' spread matters). */
void tconv_tune_fill_random(tconv_dtype t, void *v, int64_t n, uint64_t *seed);

/* The next state of the xorshift generator the sampled checks draw their
 * positions from. */
static inline uint64_t tconv_tune_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Positions a sampled check looks at. */
#define TCONV_TUNE_SAMPLES 64

/* Whether a computed element agrees with the reference's value (in double)
 * of a sum of `terms` products of inputs in [-1, 1): the rounding error of
 * such a sum grows with about sqrt(terms). */
int tconv_tune_agrees(tconv_dtype t, double got, double want, double terms);

#endif /* TCONV_TUNE_MEASURE_H */
