/*
 * Allocation failure (issue 19): every allocation tconv makes, one at a
 * time, fails, through plan creation, tconv_plan_set_weights, each pass,
 * tuning and the cache. Each call then returns TCONV_ENOMEM (or, where it
 * can do without, succeeds with the right result), leaves its plan usable or
 * destroyable, and leaks nothing (LeakSanitizer, in the sanitizer build of
 * scripts/test.sh, checks every test process at exit).
 *
 * The program links the static library with -Wl,--wrap for malloc, calloc,
 * realloc and aligned_alloc (tests/meson.build): only the library's own
 * calls come here, not libc's, hwloc's or Criterion's. A scenario runs
 * with allocation n failing, for n = 1, 2, ... until a run makes fewer
 * than n allocations: then every allocation index of the scenario has
 * failed once.
 *
 * Tuning measures with a clock that advances one second per reading
 * (tconv_tune_set_clock), so that it makes the same decisions, and the
 * same allocations, on every run, machine and load, and every sample is
 * one run. (With the real clock the count of timed runs varies, but a pass
 * allocates nothing once its plan's scratch is set up, which
 * passes_allocate_nothing_after_their_first_call checks, so the timed runs
 * add no allocations.)
 */
#define _DEFAULT_SOURCE /* mkdtemp, setenv */
#include <criterion/criterion.h>

#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tconv.h>

#include "tempdir.h"
#include "tune/measure.h" /* tconv_tune_set_clock */

/* ---- the failing allocator ---------------------------------------------- */

static atomic_long allocations; /* counted while armed */
static atomic_long fail_at;     /* the allocation that fails (1-based); 0: none */
static atomic_int failed;       /* whether it has failed */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);

static int fail_now(void)
{
    const long at = atomic_load(&fail_at);
    if (at == 0) return 0;
    if (atomic_fetch_add(&allocations, 1) + 1 != at) return 0;
    atomic_store(&failed, 1);
    return 1;
}

void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return fail_now() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }
void *__wrap_aligned_alloc(size_t align, size_t n)
{
    return fail_now() ? NULL : __real_aligned_alloc(align, n);
}

static void arm(long n)
{
    atomic_store(&allocations, 0);
    atomic_store(&failed, 0);
    atomic_store(&fail_at, n);
}

static void disarm(void) { atomic_store(&fail_at, 0); }

/* The test's own buffers: --wrap redirects this file's malloc calls too, and
 * they must neither fail nor count. */
static void *test_alloc(size_t n)
{
    void *p = __real_malloc(n + 1);
    cr_assert_not_null(p);
    return p;
}

/* Runs scenario(ctx) with allocation n failing, for n = 1, 2, ... until a
 * run makes fewer than n allocations, and after each run reset() (NULL:
 * none) with no allocation failing, to put back what a failure may have
 * left (a cache file a failed clear did not remove); returns how many
 * allocations the scenario makes when none fails (the first n that did not
 * fail, less one). */
static long every_index(void (*scenario)(void *), void (*reset)(void), void *ctx, long most)
{
    for (long n = 1; n <= most; n++) {
        arm(n);
        scenario(ctx);
        disarm();
        if (reset) reset();
        if (!atomic_load(&failed)) return n - 1;
    }
    cr_assert_fail("the scenario made more than %ld allocations", most);
    return -1;
}

/* The allocations one run of the scenario makes when none fails. */
static long allocations_of(void (*scenario)(void *), void (*reset)(void), void *ctx)
{
    arm(LONG_MAX); /* counts, never reached */
    scenario(ctx);
    const long n = atomic_load(&allocations);
    disarm();
    if (reset) reset();
    return n;
}

/* ---- data and comparison ------------------------------------------------- */

typedef struct layer {
    tconv_desc d;
    size_t xb, wb, bb, yb;
    float *x, *w, *bias, *dy;
    float *y, *dx, *dw, *db; /* the expected results, from a reference plan */
} layer;

static float *random_floats(size_t bytes, uint64_t *s)
{
    float *v = test_alloc(bytes);
    for (size_t i = 0; i < bytes / sizeof *v; i++) {
        *s = *s * 6364136223846793005u + 1442695040888963407u;
        v[i] = (float)((double)(*s >> 11) * 0x1p-52 - 1.0);
    }
    return v;
}

static size_t bytes_of(const tconv_desc *d, tconv_tensor t)
{
    size_t b = 0;
    cr_assert_eq(tconv_desc_tensor_size(d, t, NULL, &b), TCONV_OK, "%s", tconv_last_error());
    return b;
}

static void layer_init(layer *l, const tconv_desc *d)
{
    memset(l, 0, sizeof *l);
    l->d = *d;
    l->xb = bytes_of(d, TCONV_TENSOR_X);
    l->wb = bytes_of(d, TCONV_TENSOR_W);
    l->bb = bytes_of(d, TCONV_TENSOR_BIAS);
    l->yb = bytes_of(d, TCONV_TENSOR_Y);
    uint64_t s = 42;
    l->x = random_floats(l->xb, &s);
    l->w = random_floats(l->wb, &s);
    l->bias = random_floats(l->bb, &s);
    l->dy = random_floats(l->yb, &s);
    l->y = test_alloc(l->yb);
    l->dx = test_alloc(l->xb);
    l->dw = test_alloc(l->wb);
    l->db = test_alloc(l->bb);
    tconv_plan *ref = NULL;
    cr_assert_eq(tconv_plan_create(&ref, d, TCONV_PLAN_REFERENCE), TCONV_OK);
    cr_assert_eq(tconv_forward(ref, l->x, l->w, l->bias, l->y), TCONV_OK);
    cr_assert_eq(tconv_backward_data(ref, l->dy, l->w, l->dx), TCONV_OK);
    cr_assert_eq(tconv_backward_weights(ref, l->x, l->dy, l->dw, l->db), TCONV_OK);
    tconv_plan_destroy(ref);
}

static void layer_free(layer *l)
{
    float *all[] = {l->x, l->w, l->bias, l->dy, l->y, l->dx, l->dw, l->db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
}

static void close_to(const float *got, const float *want, size_t bytes, const char *what)
{
    for (size_t i = 0; i < bytes / sizeof *got; i++)
        cr_assert(fabsf(got[i] - want[i]) <= 1e-3f * (1.0f + fabsf(want[i])),
                  "%s[%zu] = %g, expected %g", what, i, got[i], want[i]);
}

/* A status after an allocation may have failed: OK, or ENOMEM with a
 * message that says memory ran out. */
static int ok_or_enomem(tconv_status s, const char *call)
{
    if (s == TCONV_OK) return 1;
    cr_assert_eq(s, TCONV_ENOMEM, "%s: %s (%s)", call, tconv_strerror(s), tconv_last_error());
    cr_assert(strstr(tconv_last_error(), "memory") != NULL, "%s: message \"%s\"", call,
              tconv_last_error());
    return 0;
}

/* ---- scenarios -------------------------------------------------------------- */

/* Plan, set weights, and every pass with and without the kept weights;
 * after a failure the plan is still used: later calls must work (or fail
 * cleanly again) and their results be right. */
static void passes(void *ctx)
{
    const layer *l = ctx;
    tconv_plan *p = NULL;
    if (!ok_or_enomem(tconv_plan_create(&p, &l->d, 0), "tconv_plan_create")) {
        cr_assert_null(p);
        return;
    }
    float *y = test_alloc(l->yb), *dx = test_alloc(l->xb), *dw = test_alloc(l->wb),
          *db = test_alloc(l->bb);
    if (ok_or_enomem(tconv_forward(p, l->x, l->w, l->bias, y), "tconv_forward (packing)"))
        close_to(y, l->y, l->yb, "y");
    const int kept = ok_or_enomem(tconv_plan_set_weights(p, l->w, l->bias), "tconv_plan_set_weights");
    if (kept && ok_or_enomem(tconv_forward(p, l->x, NULL, NULL, y), "tconv_forward (kept)"))
        close_to(y, l->y, l->yb, "y (kept weights)");
    if (ok_or_enomem(tconv_backward_data(p, l->dy, l->w, dx), "tconv_backward_data"))
        close_to(dx, l->dx, l->xb, "dx");
    if (ok_or_enomem(tconv_backward_weights(p, l->x, l->dy, dw, db), "tconv_backward_weights")) {
        close_to(dw, l->dw, l->wb, "dw");
        close_to(db, l->db, l->bb, "dbias");
    }
    /* Once more, each call now past the failed allocation. */
    if (ok_or_enomem(tconv_forward(p, l->x, l->w, l->bias, y), "tconv_forward again"))
        close_to(y, l->y, l->yb, "y again");
    tconv_plan_destroy(p);
    free(y); free(dx); free(dw); free(db);
}

static tconv_desc desc_of(int64_t n, int64_t c, int64_t f, int64_t hw, int64_t k, int64_t s,
                          int64_t g, tconv_layout layout)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.batch = n; d.channels = c; d.filters = f; d.groups = g;
    d.in_h = d.in_w = hw; d.filter_h = d.filter_w = k; d.stride_h = d.stride_w = s;
    d.crop_top = d.crop_left = 1;
    d.layout = layout;
    return d;
}

/* As testutil.c does for the other programs: a suite's ISA must be the one
 * in use, so that an ISA is never reported as tested when it was not. */
static void require_isa(void)
{
    const char *want = getenv("TCONV_ISA");
    if (want && *want)
        cr_assert_str_eq(tconv_isa_name(tconv_get_isa()), want, "TCONV_ISA=%s is not in use", want);
}

static void use_fresh_cache(void)
{
    require_isa();
    char dir[TU_TEMP_DIR_SIZE];
    cr_assert_eq(tu_temp_dir("tconv-test-alloc", dir), 0, "mkdtemp");
    char path[256];
    snprintf(path, sizeof path, "%s/cache.txt", dir);
    cr_assert_eq(setenv("TCONV_CACHE", path, 1), 0);
}

/* Layers that take weight streaming, the forward gather (CHANNELS and
 * PIXELS tiles) and scatter modes and the backward-weights GEMM, rows and
 * packing drivers, on two threads (per-thread scratch). */
Test(alloc_fail, every_allocation_of_plans_and_passes)
{
    use_fresh_cache();
    cr_assert_eq(tconv_set_num_threads(2), TCONV_OK);
    const tconv_desc descs[] = {
        desc_of(2, 16, 24, 4, 4, 2, 1, TCONV_NCHW),  /* 32 pixels: weight streaming */
        desc_of(2, 16, 24, 8, 4, 2, 1, TCONV_NCHW),  /* DCGAN-like, 128 pixels: the drivers */
        desc_of(1, 32, 3, 6, 5, 2, 1, TCONV_NHWC),   /* few filters: scatter, rows */
        desc_of(2, 8, 8, 5, 3, 3, 2, TCONV_SSCB),    /* grouped, k = s */
        desc_of(1, 2, 1, 17, 9, 3, 1, TCONV_NCHW),   /* one filter: PIXELS tiles */
    };
    for (size_t i = 0; i < sizeof descs / sizeof descs[0]; i++) {
        layer l;
        layer_init(&l, &descs[i]);
        const long count = every_index(passes, NULL, &l, 100000);
        printf("alloc_fail: layer %zu: %ld allocations, each failed once\n", i, count);
        cr_assert(count > 0);
        layer_free(&l);
    }
}

/* What the tuner's timing relies on (and a training loop gains): a pass
 * allocates nothing once its first call has set up the plan's scratch, so
 * that timed runs measure the arithmetic, not malloc and page faults. One
 * thread: a worker's own scratch is set up by the first task it happens to
 * take. */
Test(alloc_fail, passes_allocate_nothing_after_their_first_call)
{
    use_fresh_cache();
    cr_assert_eq(tconv_set_num_threads(1), TCONV_OK);
    const tconv_desc descs[] = {
        desc_of(2, 16, 24, 4, 4, 2, 1, TCONV_NCHW),
        desc_of(2, 16, 24, 8, 4, 2, 1, TCONV_NCHW),
        desc_of(1, 32, 3, 6, 5, 2, 1, TCONV_NHWC),
        desc_of(2, 8, 8, 5, 3, 3, 2, TCONV_SSCB),
        desc_of(1, 2, 1, 17, 9, 3, 1, TCONV_NCHW),
    };
    for (size_t i = 0; i < sizeof descs / sizeof descs[0]; i++) {
        layer l;
        layer_init(&l, &descs[i]);
        tconv_plan *p = NULL;
        cr_assert_eq(tconv_plan_create(&p, &l.d, TCONV_TUNE_NONE), TCONV_OK);
        float *y = test_alloc(l.yb), *dx = test_alloc(l.xb), *dw = test_alloc(l.wb),
              *db = test_alloc(l.bb);
        cr_assert_eq(tconv_plan_set_weights(p, l.w, l.bias), TCONV_OK);
        for (int call = 0; call < 3; call++) {
            if (call > 0) arm(LONG_MAX); /* counts, never reached */
            cr_assert_eq(tconv_forward(p, l.x, l.w, l.bias, y), TCONV_OK); /* packing */
            cr_assert_eq(tconv_forward(p, l.x, NULL, NULL, y), TCONV_OK);     /* kept weights */
            cr_assert_eq(tconv_backward_data(p, l.dy, l.w, dx), TCONV_OK);
            cr_assert_eq(tconv_backward_weights(p, l.x, l.dy, dw, db), TCONV_OK);
            const long n = atomic_load(&allocations);
            disarm();
            cr_assert(call == 0 || n == 0, "layer %zu: call %d of the passes made %ld "
                      "allocations", i, call + 1, n);
        }
        close_to(y, l.y, l.yb, "y");
        close_to(dx, l.dx, l.xb, "dx");
        close_to(dw, l.dw, l.wb, "dw");
        close_to(db, l.db, l.bb, "dbias");
        tconv_plan_destroy(p);
        free(y); free(dx); free(dw); free(db);
        layer_free(&l);
    }
}

/* Measuring every pass into the cache (which is empty at the start of
 * each run, so every run measures), then the cache's export, import and
 * clear. */
static void tuning(void *ctx)
{
    const layer *l = ctx;
    tconv_plan *p = NULL;
    const unsigned flags = TCONV_TUNE_MEASURE | TCONV_TUNE_ALL_PASSES;
    if (ok_or_enomem(tconv_plan_create(&p, &l->d, flags), "tconv_plan_create (tuning)")) {
        float *y = test_alloc(l->yb);
        if (ok_or_enomem(tconv_forward(p, l->x, l->w, l->bias, y), "tconv_forward (tuned)"))
            close_to(y, l->y, l->yb, "y (tuned)");
        free(y);
        tconv_plan_destroy(p);
    }
    char path[300];
    snprintf(path, sizeof path, "%s.export", tconv_cache_path());
    if (ok_or_enomem(tconv_cache_export(path), "tconv_cache_export"))
        ok_or_enomem(tconv_cache_import(path), "tconv_cache_import");
    ok_or_enomem(tconv_cache_clear(), "tconv_cache_clear");
}

/* After a run: no cache file (a clear that ran out of memory leaves it,
 * and the next run's plan would take its entries instead of measuring),
 * no export. */
static void empty_cache(void)
{
    cr_assert_eq(tconv_cache_clear(), TCONV_OK, "%s", tconv_last_error());
    char path[300];
    snprintf(path, sizeof path, "%s.export", tconv_cache_path());
    remove(path);
}

/* The tuner's clock: one second per reading. */
static atomic_long clock_readings;
static double one_second_per_reading(void) { return (double)atomic_fetch_add(&clock_readings, 1); }

Test(alloc_fail, every_allocation_of_tuning_and_the_cache)
{
    use_fresh_cache();
    cr_assert_eq(tconv_set_num_threads(1), TCONV_OK);
    /* Every pass measures its analytic choice and the next five (or all
     * there are), each timed by one-run samples in alternation with the
     * kept one: the budget (a day) never ends measuring early. */
    tconv_tune_set_clock(one_second_per_reading);
    cr_assert_eq(tconv_set_tune_budget(86400.0), TCONV_OK);
    const tconv_desc d = desc_of(1, 4, 4, 3, 3, 2, 1, TCONV_NCHW);
    layer l;
    layer_init(&l, &d);
    /* With no failure first, a plan that must have measured every pass,
     * then the scenario once: they set up what the process keeps once set
     * up (the cache's location, the host's fingerprint, this thread's
     * scratch at its largest), so that every run after them makes the same
     * allocations. */
    tconv_plan *p = NULL;
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_MEASURE | TCONV_TUNE_ALL_PASSES), TCONV_OK);
    cr_assert(strstr(tconv_plan_info(p), "tune: fwd tuned, measured now; bwd_data tuned, "
                                         "measured now; bwd_weights tuned, measured now"),
              "%s", tconv_plan_info(p));
    tconv_plan_destroy(p);
    empty_cache();
    tuning(&l);
    empty_cache();
    const long count = allocations_of(tuning, empty_cache, &l);
    const long tried = every_index(tuning, empty_cache, &l, count + 1);
    printf("alloc_fail: tuning and cache: %ld allocations, each failed once\n", tried);
    cr_assert_eq(tried, count, "a run with no failure made %ld allocations, the runs with one "
                 "%ld", count, tried);
    /* The failures changed nothing a later run depends on. */
    cr_assert_eq(allocations_of(tuning, empty_cache, &l), count);
    tconv_tune_set_clock(NULL);
    layer_free(&l);
}
