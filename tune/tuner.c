#include "tune/tuner.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatch/activation.h"
#include "dispatch/error.h"
#include "kernels/activation.h"
#include "kernels/elem.h"
#include "kernels/fwd_driver.h"

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

static const char *layout_name(tconv_layout l)
{
    return l == TCONV_NHWC ? "NHWC" : l == TCONV_SSCB ? "SSCB" : "NCHW";
}

static const char *weight_layout_name(tconv_weight_layout l)
{
    return l == TCONV_W_OHWI ? "OHWI" : l == TCONV_W_MATLAB ? "MATLAB" : "IOHW";
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
             p->dtype == TCONV_F64 ? "f64" : "f32", layout_name(d->layout),
             weight_layout_name(d->weight_layout), (long long)p->channels,
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
        const int64_t th = oh + p->crop_top - kh * p->dil_h;
        if (th < 0 || th % p->stride_h || th / p->stride_h >= p->in_h) continue;
        for (int64_t kw = 0; kw < p->k_w; kw++) {
            const int64_t tw = ow + p->crop_left - kw * p->dil_w;
            if (tw < 0 || tw % p->stride_w || tw / p->stride_w >= p->in_w) continue;
            for (int64_t c = g * p->cg; c < (g + 1) * p->cg; c++)
                acc += tconv_elem_load(p->dtype, td->x,
                                       tconv_x_index(p, n, c, th / p->stride_h, tw / p->stride_w)) *
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

/* Median seconds per forward pass of candidate c (a warm-up, then five
 * samples of enough passes to take ~10 ms each), or a negative value when
 * it cannot be planned or its output is wrong. */
static double time_candidate(const tconv_problem *p, tconv_isa isa, const tconv_fwd_choice *c,
                             const tune_data *td)
{
    tconv_fwd_driver *drv;
    if (tconv_fwd_driver_create(p, c->uk, c->mode, tconv_select_act(isa), &drv) != TCONV_OK)
        return -1.0;
    const int64_t es = tconv_dtype_size(p->dtype);
    void *pw = tconv_alloc_aligned(tconv_fwd_driver_packed_w_elems(drv) * (size_t)es);
    void *pb = tconv_alloc_aligned(tconv_fwd_driver_packed_bias_elems(drv) * (size_t)es);
    double result = -1.0;
    if (pw && pb) {
        tconv_fwd_driver_pack(drv, td->w, td->bias, pw, pb);
        double t0 = now_s();
        if (tconv_fwd_driver_run(drv, td->x, pw, pb, td->y) == TCONV_OK && verified(p, td)) {
            const double once = now_s() - t0;
            const int reps = once >= 0.01 ? 1 : (int)(0.01 / (once > 1e-6 ? once : 1e-6)) + 1;
            double samples[5];
            for (int s = 0; s < 5; s++) {
                t0 = now_s();
                for (int r = 0; r < reps; r++) tconv_fwd_driver_run(drv, td->x, pw, pb, td->y);
                samples[s] = (now_s() - t0) / reps;
            }
            qsort(samples, 5, sizeof samples[0], cmp_double);
            result = samples[2];
        }
    }
    free(pw);
    free(pb);
    tconv_fwd_driver_destroy(drv);
    return result;
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
        double best_t = -1.0;
        /* cand[0] is the heuristic choice: measured first, always. */
        for (int i = 0; i < n; i++) {
            if (i > 0 && now_s() - start > budget) break;
            const double t = time_candidate(p, isa, &cand[i], &td);
            (*measured)++;
            if (t <= 0.0) continue;
            /* A later candidate must beat the one kept by 3%, so that noise
             * never replaces the heuristic choice with an equal one. */
            if (best_t < 0.0 || t < best_t * 0.97) {
                best_t = t;
                *best = cand[i];
            }
        }
        if (best_t > 0.0) {
            const double flop = 2.0 * (double)p->batch * (double)p->channels * (double)p->fg *
                                (double)p->in_h * (double)p->in_w * (double)(p->k_h * p->k_w);
            *gflops = flop / best_t * 1e-9;
            st = TCONV_OK;
        } else {
            st = TCONV_EUNSUPPORTED;
        }
    }
    free(td.x); free(td.w); free(td.bias); free(td.y);
    return st;
}
