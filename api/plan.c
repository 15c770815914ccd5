/*
 * Plans: everything decided once per problem (validated sizes, resolved
 * crops, strides, the kernels and their driver), and the three pass entry
 * points, which check their pointers and then only compute.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/activation.h"
#include "dispatch/buffers.h"
#include "dispatch/desc.h"
#include "dispatch/select.h"
#include "kernels/bwd_driver.h"
#include "kernels/fwd_driver.h"
#include "kernels/wstream.h"
#include "runtime/error.h"
#include "runtime/scratch.h" /* tconv_alloc_aligned */
#include "runtime/threads.h"
#include "tconv.h"
#include "tune/cache.h"
#include "tune/tuner.h"

#define TCONV_TUNE_FLAGS (TCONV_TUNE_NONE | TCONV_TUNE_MEASURE | TCONV_TUNE_EXHAUSTIVE)
#define TCONV_PLAN_KNOWN_FLAGS (TCONV_PLAN_REFERENCE | TCONV_TUNE_FLAGS | TCONV_TUNE_ALL_PASSES)

/* How a pass's choice was made, for tconv_plan_info. */
#define HOW_HEURISTIC "heuristic"
#define HOW_FROM_CACHE "tuned, from cache"
#define HOW_MEASURED "tuned, measured now"

struct tconv_plan {
    tconv_desc desc;
    tconv_problem problem;
    const tconv_impl *ref;      /* the reference passes: backward, and forward without a driver */
    tconv_fwd_driver *fwd;      /* the SIMD forward path; NULL runs the reference */
    tconv_bwd_data_driver *bwd_data;       /* the SIMD backward passes; NULL: reference */
    tconv_bwd_weights_driver *bwd_weights;
    /* Weight streaming for every pass given the weights per call, on layers
     * with few pixels (kernels/wstream.h); NULL: the drivers above. */
    tconv_wstream *ws;
    int ws_bwd_weights;         /* ws runs backward-weights too (else its driver above) */
    size_t x_bytes, w_bytes, bias_bytes, y_bytes;
    /* Weights given to tconv_plan_set_weights: packed for the driver, or a
     * plain copy for the reference (has_weights says whether any are set). */
    int has_weights, has_bias;
    void *set_w, *set_bias;
    /* How each pass's kernel was chosen: one of the HOW_* strings. */
    const char *fwd_how, *bwd_data_how, *bwd_weights_how;
    char info[768];
};

static void describe(tconv_plan *plan)
{
    const tconv_problem *p = &plan->problem;
    static const char *act_names[] = {"",         " act=relu", " act=leaky_relu",
                                      " act=clipped_relu", " act=elu", " act=sigmoid",
                                      " act=tanh", " act=gelu", " act=swish"};
    char fwd[320] = "ref", bd[128] = "ref", bw[128] = "ref", ws[160] = "";
    if (plan->fwd) tconv_fwd_driver_describe(plan->fwd, fwd, sizeof fwd);
    strncat(fwd, act_names[p->activation], sizeof fwd - strlen(fwd) - 1);
    if (plan->bwd_data) tconv_bwd_data_driver_describe(plan->bwd_data, bd, sizeof bd);
    if (plan->bwd_weights) tconv_bwd_weights_driver_describe(plan->bwd_weights, bw, sizeof bw);
    if (plan->ws) { /* runs the passes that get the weights with the call */
        tconv_wstream_describe(plan->ws, ws, sizeof ws);
        snprintf(bd, sizeof bd, "%s", ws);
        if (plan->ws_bwd_weights) snprintf(bw, sizeof bw, "%s", ws);
        strncat(fwd, " (weights per call: ", sizeof fwd - strlen(fwd) - 1);
        strncat(fwd, ws, sizeof fwd - strlen(fwd) - 1);
        strncat(fwd, ")", sizeof fwd - strlen(fwd) - 1);
    }
    snprintf(plan->info, sizeof plan->info,
             "fwd %s, bwd_data %s, bwd_weights %s | %s %s/%s %lldx%lldx%lldx%lld -> %lldx%lldx%lldx%lld k%lldx%lld "
             "s%lldx%lld d%lldx%lld g%lld crop %lld,%lld,%lld,%lld | "
             "tune: fwd %s; bwd_data %s; bwd_weights %s",
             fwd, bd, bw, p->dtype == TCONV_F64 ? "f64" : "f32",
             tconv_layout_name(plan->desc.layout), tconv_weight_layout_name(plan->desc.weight_layout),
             (long long)p->batch, (long long)p->channels, (long long)p->in_h, (long long)p->in_w,
             (long long)p->batch, (long long)p->filters, (long long)p->out_h, (long long)p->out_w,
             (long long)p->k_h, (long long)p->k_w, (long long)p->stride_h, (long long)p->stride_w,
             (long long)p->dil_h, (long long)p->dil_w, (long long)p->groups,
             (long long)p->crop_top, (long long)p->crop_bottom, (long long)p->crop_left,
             (long long)p->crop_right, plan->fwd ? plan->fwd_how : "none (reference)",
             plan->bwd_data ? plan->bwd_data_how : "none (reference)",
             plan->bwd_weights ? plan->bwd_weights_how : "none (reference)");
}

/* What the tuning flags ask of a plan. */
typedef struct tuning {
    unsigned rigor;  /* 0 (use the cache), TCONV_TUNE_NONE, _MEASURE or _EXHAUSTIVE */
    unsigned passes; /* the TCONV_TUNE_FWD / _BWD_* bits of the passes to measure */
} tuning;

static const unsigned pass_bit[] = {TCONV_TUNE_FWD, TCONV_TUNE_BWD_DATA, TCONV_TUNE_BWD_WEIGHTS};

/* Whether the plan measures pass now (when the cache has no entry, or
 * always for EXHAUSTIVE). */
static int measures(const tuning *t, tconv_pass pass)
{
    return (t->rigor == TCONV_TUNE_MEASURE || t->rigor == TCONV_TUNE_EXHAUSTIVE) &&
           (t->passes & pass_bit[pass]);
}

/* The cache's value for pass of p in value (and its key in key, for a
 * store), or 0 when there is none or the plan must not read it (EXHAUSTIVE
 * measures anew). */
static int cached_value(const tconv_desc *d, const tconv_problem *p, tconv_pass pass,
                        tconv_isa isa, const tuning *t, char *key, size_t key_size, char *value,
                        size_t value_size)
{
    tconv_tune_key(d, p, pass, isa, tconv_get_num_threads(), key, key_size);
    if (t->rigor == TCONV_TUNE_EXHAUSTIVE && measures(t, pass)) return 0;
    return tconv_cache_lookup(key, value, value_size, NULL);
}

/*
 * The forward kernel and mode: the analytic choice (dispatch/select.c), or
 * the per-host cache's entry for this configuration, or candidates measured
 * now (tune/tuner.c), as the tuning flags say. A cache entry that names a
 * kernel this build or ISA does not have is ignored (and replaced when
 * measuring). Measuring that fails (out of memory) falls back to the
 * analytic choice; it never fails the plan.
 */
static tconv_fwd_choice choose_fwd(const tconv_desc *d, const tconv_problem *p, tconv_isa isa,
                                   const tuning *t, const char **how)
{
    tconv_fwd_choice choice = tconv_select_fwd(p, isa);
    *how = HOW_HEURISTIC;
    if (!choice.uk || t->rigor == TCONV_TUNE_NONE || tconv_select_forced()) return choice;
    char key[256], value[TCONV_CACHE_VALUE_SIZE];
    tconv_fwd_choice cached;
    if (cached_value(d, p, TCONV_PASS_FWD, isa, t, key, sizeof key, value, sizeof value) &&
        tconv_tune_decode(value, p, isa, &cached)) {
        *how = HOW_FROM_CACHE;
        return cached;
    }
    if (!measures(t, TCONV_PASS_FWD)) return choice;
    tconv_fwd_choice best;
    double gflops = 0.0;
    int measured = 0;
    if (tconv_tune_measure(p, isa, t->rigor == TCONV_TUNE_EXHAUSTIVE, tconv_tune_budget(), &best,
                           &gflops, &measured) != TCONV_OK)
        return choice;
    tconv_tune_encode(&best, value, sizeof value);
    (void)tconv_cache_store(key, value, gflops); /* an unwritable cache only warns */
    *how = HOW_MEASURED;
    return best;
}

/* The microkernel of a backward pass, chosen as choose_fwd chooses the
 * forward one (tune/tuner_bwd.c measures; TCONV_BWD_DATA_KERNEL or
 * TCONV_BWD_WEIGHTS_KERNEL keeps tuning out of that pass). */
static const tconv_ukernel *choose_bwd(const tconv_desc *d, const tconv_problem *p,
                                           tconv_pass pass, tconv_isa isa, const tuning *t,
                                           const char **how)
{
    const tconv_ukernel *choice = tconv_select_bwd(p, pass, isa);
    *how = HOW_HEURISTIC;
    if (!choice || t->rigor == TCONV_TUNE_NONE || tconv_select_bwd_forced(pass)) return choice;
    char key[256], value[TCONV_CACHE_VALUE_SIZE];
    const tconv_ukernel *cached;
    if (cached_value(d, p, pass, isa, t, key, sizeof key, value, sizeof value) &&
        tconv_tune_decode_bwd(value, p, pass, isa, &cached)) {
        *how = HOW_FROM_CACHE;
        return cached;
    }
    if (!measures(t, pass)) return choice;
    const tconv_ukernel *best;
    double gflops = 0.0;
    int measured = 0;
    if (tconv_tune_measure_bwd(p, pass, isa, t->rigor == TCONV_TUNE_EXHAUSTIVE,
                               tconv_tune_budget(), &best, &gflops, &measured) != TCONV_OK)
        return choice;
    tconv_tune_encode_bwd(best, value, sizeof value);
    (void)tconv_cache_store(key, value, gflops);
    *how = HOW_MEASURED;
    return best;
}

tconv_status tconv_plan_create(tconv_plan **plan, const tconv_desc *d, unsigned flags)
{
    if (!plan) return tconv_fail(TCONV_EINVAL, "plan (the output pointer) is NULL");
    *plan = NULL;
    if (flags & ~TCONV_PLAN_KNOWN_FLAGS)
        return tconv_fail(TCONV_EINVAL, "flags (0x%x) has unknown bits 0x%x", flags,
                          flags & ~TCONV_PLAN_KNOWN_FLAGS);
    tuning tune = {flags & TCONV_TUNE_FLAGS, flags & TCONV_TUNE_ALL_PASSES};
    if (tune.rigor & (tune.rigor - 1))
        return tconv_fail(TCONV_EINVAL,
                          "flags (0x%x) has more than one of TCONV_TUNE_NONE, TCONV_TUNE_MEASURE "
                          "and TCONV_TUNE_EXHAUSTIVE", flags);
    if (tune.passes && tune.rigor != TCONV_TUNE_MEASURE && tune.rigor != TCONV_TUNE_EXHAUSTIVE)
        return tconv_fail(TCONV_EINVAL,
                          "flags (0x%x) selects passes to measure (TCONV_TUNE_FWD, "
                          "TCONV_TUNE_BWD_DATA, TCONV_TUNE_BWD_WEIGHTS) without "
                          "TCONV_TUNE_MEASURE or TCONV_TUNE_EXHAUSTIVE", flags);
    if (!tune.passes) tune.passes = TCONV_TUNE_FWD; /* inference: measure only what it runs */
    tconv_problem problem;
    tconv_status st = tconv_problem_from_desc(d, &problem);
    if (st != TCONV_OK) return st;

    tconv_plan *p = calloc(1, sizeof *p);
    if (!p) return tconv_fail(TCONV_ENOMEM, "out of memory allocating a plan (%zu bytes)", sizeof *p);
    p->desc = *d;
    p->problem = problem;
    p->ref = tconv_select_ref(&problem);
    if (!(flags & TCONV_PLAN_REFERENCE)) {
        /* One read of the ISA for the kernel and the activation table. */
        const tconv_isa isa = tconv_get_isa();
        const tconv_fwd_choice choice = choose_fwd(d, &problem, isa, &tune, &p->fwd_how);
        /* A driver that cannot be planned (padded buffers too large to index)
         * leaves the reference in charge; only running out of memory fails. */
        if (choice.uk &&
            tconv_fwd_driver_create(&problem, choice.uk, choice.ph, choice.mode,
                                    tconv_select_act(isa), &p->fwd) == TCONV_ENOMEM) {
            free(p);
            return tconv_fail(TCONV_ENOMEM, "out of memory planning the forward pass");
        }
        /* The backward passes likewise: a kernel for each, or the reference. */
        const tconv_ukernel *bd =
            choose_bwd(d, &problem, TCONV_PASS_BWD_DATA, isa, &tune, &p->bwd_data_how);
        const tconv_ukernel *bw =
            choose_bwd(d, &problem, TCONV_PASS_BWD_WEIGHTS, isa, &tune, &p->bwd_weights_how);
        if ((bd && tconv_bwd_data_driver_create(&problem, bd, &p->bwd_data) == TCONV_ENOMEM) ||
            (bw && tconv_bwd_weights_driver_create(&problem, bw, &p->bwd_weights) ==
                       TCONV_ENOMEM)) {
            tconv_plan_destroy(p);
            return tconv_fail(TCONV_ENOMEM, "out of memory planning the backward passes");
        }
        const tconv_ukernel *ws[3];
        if (tconv_select_wstream(&problem, isa, ws, &p->ws_bwd_weights) &&
            tconv_wstream_create(&problem, ws[0], ws[1], ws[2], tconv_select_act(isa), &p->ws) ==
                TCONV_ENOMEM) {
            tconv_plan_destroy(p);
            return tconv_fail(TCONV_ENOMEM, "out of memory planning weight streaming");
        }
    }
    /* Byte counts were checked against SIZE_MAX by tconv_problem_from_desc. */
    const size_t es = (size_t)tconv_dtype_size(problem.dtype);
    p->x_bytes = (size_t)problem.x_elems * es;
    p->w_bytes = (size_t)problem.w_elems * es;
    p->bias_bytes = (size_t)problem.filters * es;
    p->y_bytes = (size_t)problem.y_elems * es;
    describe(p);
    const char *verbose = getenv("TCONV_VERBOSE");
    if (verbose && verbose[0] && strcmp(verbose, "0") != 0) fprintf(stderr, "tconv: plan: %s\n", p->info);
    *plan = p;
    return TCONV_OK;
}

void tconv_plan_destroy(tconv_plan *plan)
{
    if (!plan) return;
    tconv_fwd_driver_destroy(plan->fwd);
    tconv_bwd_data_driver_destroy(plan->bwd_data);
    tconv_bwd_weights_driver_destroy(plan->bwd_weights);
    tconv_wstream_destroy(plan->ws);
    free(plan->set_w);
    free(plan->set_bias);
    free(plan);
}

/* Packs (driver) or copies (reference) w and bias into new buffers. */
static tconv_status keep_weights(const tconv_plan *p, const void *w, const void *bias,
                                 void **out_w, void **out_bias)
{
    const size_t es = (size_t)tconv_dtype_size(p->problem.dtype);
    if (p->fwd) {
        *out_w = tconv_alloc_aligned(tconv_fwd_driver_packed_w_elems(p->fwd) * es);
        *out_bias = tconv_alloc_aligned(tconv_fwd_driver_packed_bias_elems(p->fwd) * es);
        if (*out_w && *out_bias) tconv_fwd_driver_pack(p->fwd, w, bias, *out_w, *out_bias);
    } else {
        *out_w = malloc(p->w_bytes);
        *out_bias = bias ? malloc(p->bias_bytes) : NULL;
        if (*out_w) memcpy(*out_w, w, p->w_bytes);
        if (*out_bias) memcpy(*out_bias, bias, p->bias_bytes);
        if (!bias) return *out_w ? TCONV_OK : TCONV_ENOMEM;
    }
    if (*out_w && *out_bias) return TCONV_OK;
    free(*out_w);
    free(*out_bias);
    *out_w = *out_bias = NULL;
    return TCONV_ENOMEM;
}

tconv_status tconv_plan_set_weights(tconv_plan *p, const void *w, const void *bias)
{
    if (!p) return tconv_fail(TCONV_EINVAL, "plan is NULL");
    if (!w) return tconv_fail(TCONV_EINVAL, "w is NULL");
    void *kw, *kb;
    if (keep_weights(p, w, bias, &kw, &kb) != TCONV_OK)
        return tconv_fail(TCONV_ENOMEM, "out of memory keeping the weights (%zu bytes)",
                          p->w_bytes);
    free(p->set_w);
    free(p->set_bias);
    p->set_w = kw;
    p->set_bias = kb;
    p->has_weights = 1;
    p->has_bias = bias != NULL;
    return TCONV_OK;
}

tconv_status tconv_plan_desc(const tconv_plan *p, tconv_desc *d)
{
    if (!p) return tconv_fail(TCONV_EINVAL, "plan is NULL");
    if (!d) return tconv_fail(TCONV_EINVAL, "desc is NULL");
    *d = p->desc;
    return TCONV_OK;
}

const char *tconv_plan_info(const tconv_plan *p) { return p ? p->info : ""; }

tconv_status tconv_forward(const tconv_plan *p, const void *x, const void *w, const void *bias,
                           void *y)
{
    if (!p) return tconv_fail(TCONV_EINVAL, "plan is NULL");
    if (!w && !p->has_weights)
        return tconv_fail(TCONV_EINVAL, "w is NULL and no weights were set with "
                                        "tconv_plan_set_weights");
    if (!w && bias)
        return tconv_fail(TCONV_EINVAL, "bias is given but w is NULL; weights set with "
                                        "tconv_plan_set_weights carry their own bias");
    const tconv_buffer bufs[] = {
        {"y", y, p->y_bytes}, {"x", x, p->x_bytes}, {"w", w, p->w_bytes},
        {"bias", bias, p->bias_bytes}};
    const int required[] = {1, 1, 0, 0};
    tconv_status st = tconv_check_buffers(bufs, required, 4, 1);
    if (st != TCONV_OK) return st;

    if (!w) { /* the weights kept by tconv_plan_set_weights */
        if (p->fwd) return tconv_fwd_driver_run(p->fwd, x, p->set_w, p->set_bias, y) == TCONV_OK
                               ? TCONV_OK
                               : tconv_fail(TCONV_ENOMEM, "out of memory for forward scratch");
        p->ref->fwd(&p->problem, x, p->set_w, p->has_bias ? p->set_bias : NULL, y);
        return TCONV_OK;
    }
    if (p->ws)
        return tconv_wstream_forward(p->ws, x, w, bias, y) == TCONV_OK
                   ? TCONV_OK
                   : tconv_fail(TCONV_ENOMEM, "out of memory for forward scratch");
    if (!p->fwd) {
        p->ref->fwd(&p->problem, x, w, bias, y);
        return TCONV_OK;
    }
    st = tconv_fwd_driver_run_packing(p->fwd, x, w, bias, y);
    return st == TCONV_OK ? TCONV_OK
                          : tconv_fail(TCONV_ENOMEM, "out of memory for the packed weights or "
                                                     "forward scratch");
}

tconv_status tconv_backward_data(const tconv_plan *p, const void *dy, const void *w, void *dx)
{
    if (!p) return tconv_fail(TCONV_EINVAL, "plan is NULL");
    const tconv_buffer bufs[] = {{"dx", dx, p->x_bytes}, {"dy", dy, p->y_bytes}, {"w", w, p->w_bytes}};
    const int required[] = {1, 1, 1};
    tconv_status st = tconv_check_buffers(bufs, required, 3, 1);
    if (st != TCONV_OK) return st;
    if (p->ws)
        return tconv_wstream_backward_data(p->ws, dy, w, dx) == TCONV_OK
                   ? TCONV_OK
                   : tconv_fail(TCONV_ENOMEM, "out of memory for backward-data scratch");
    if (p->bwd_data)
        return tconv_bwd_data_driver_run(p->bwd_data, dy, w, dx) == TCONV_OK
                   ? TCONV_OK
                   : tconv_fail(TCONV_ENOMEM, "out of memory for backward-data scratch");
    p->ref->bwd_data(&p->problem, dy, w, dx);
    return TCONV_OK;
}

tconv_status tconv_backward_weights(const tconv_plan *p, const void *x, const void *dy, void *dw,
                                    void *dbias)
{
    if (!p) return tconv_fail(TCONV_EINVAL, "plan is NULL");
    const tconv_buffer bufs[] = {
        {"dw", dw, p->w_bytes}, {"dbias", dbias, p->bias_bytes}, {"x", x, p->x_bytes},
        {"dy", dy, p->y_bytes}};
    const int required[] = {1, 0, 1, 1};
    tconv_status st = tconv_check_buffers(bufs, required, 4, 2);
    if (st != TCONV_OK) return st;
    if (p->ws && p->ws_bwd_weights)
        return tconv_wstream_backward_weights(p->ws, x, dy, dw, dbias) == TCONV_OK
                   ? TCONV_OK
                   : tconv_fail(TCONV_ENOMEM, "out of memory for backward-weights scratch");
    if (p->bwd_weights)
        return tconv_bwd_weights_driver_run(p->bwd_weights, x, dy, dw, dbias) == TCONV_OK
                   ? TCONV_OK
                   : tconv_fail(TCONV_ENOMEM, "out of memory for backward-weights scratch");
    p->ref->bwd_weights(&p->problem, x, dy, dw, dbias);
    return TCONV_OK;
}
