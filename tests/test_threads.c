/*
 * Threads: the forward pass (every kernel, both modes, every output layout
 * route) and backward-data give the same bits with 1, 2, 3 and 7 threads;
 * passes run from several application threads at once, on one plan and on
 * many; a host's parallel-for hook runs the work and can be removed again;
 * a pass nested inside the host's parallel region; a child process after
 * fork; the thread-count controls and their bad input.
 *
 * scripts/test.sh also builds this file with ThreadSanitizer, on a stand-in
 * for Criterion (mini_criterion.h).
 */
#define _POSIX_C_SOURCE 200809L /* setenv, fork, alarm */
#ifdef TCONV_MINI_CRITERION /* the ThreadSanitizer build (see mini_criterion.h) */
#include "mini_criterion.h"
#else
#include <criterion/criterion.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* Shapes that give each split something to split: many tiles, bands and
 * rows, large weights (block-outer jobs), tap classes, NCHW output (the
 * unpack edge), a fused activation over y (PIXELS and scatter sweeps). */
typedef struct shape_case {
    const char *name;
    int64_t n, c, f, g, ih, iw, k, s, crop;
    tconv_layout layout;
    tconv_activation act;
} shape_case;

static const shape_case cases[] = {
    {"dcgan-like k4 s2 crop1 NHWC", 2, 64, 48, 1, 12, 10, 4, 2, 1, TCONV_NHWC, TCONV_ACT_NONE},
    {"k4 s2 NCHW tanh", 3, 32, 21, 1, 9, 13, 4, 2, 1, TCONV_NCHW, TCONV_ACT_TANH},
    {"k2 s2 phases inner", 1, 48, 40, 1, 16, 16, 2, 2, 0, TCONV_NHWC, TCONV_ACT_RELU},
    {"k3 s1 batch 1", 1, 24, 36, 1, 23, 19, 3, 1, 1, TCONV_NCHW, TCONV_ACT_NONE},
    {"few filters k5 s3", 2, 40, 3, 1, 11, 17, 5, 3, 2, TCONV_NCHW, TCONV_ACT_TANH},
    {"groups", 2, 32, 32, 4, 10, 9, 3, 2, 1, TCONV_NHWC, TCONV_ACT_ELU},
    {"big weights (block outer)", 1, 256, 512, 1, 5, 6, 3, 2, 1, TCONV_NHWC, TCONV_ACT_NONE},
    {"1x1 input batch 5", 5, 30, 40, 1, 1, 1, 4, 1, 0, TCONV_NCHW, TCONV_ACT_NONE},
};
#define NCASES (sizeof cases / sizeof cases[0])

static tconv_desc desc_of(const shape_case *sc, tconv_dtype dt)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.dtype = dt;
    d.layout = sc->layout;
    d.batch = sc->n;
    d.channels = sc->c;
    d.filters = sc->f;
    d.groups = sc->g;
    d.in_h = sc->ih;
    d.in_w = sc->iw;
    d.filter_h = d.filter_w = sc->k;
    d.stride_h = d.stride_w = sc->s;
    d.crop_top = d.crop_bottom = d.crop_left = d.crop_right = sc->crop;
    d.activation = sc->act;
    if (sc->act == TCONV_ACT_ELU) d.activation_alpha = 1.0;
    return d;
}

/* Inputs of a case in the desc's dtype, and output buffers. */
typedef struct io {
    tconv_desc d;
    void *x, *w, *bias, *dy;
    size_t x_bytes, y_bytes, w_bytes, bias_bytes;
} io;

static io make_io(const shape_case *sc, tconv_dtype dt, uint64_t seed)
{
    io r;
    r.d = desc_of(sc, dt);
    const tu_shape s = tu_shape_of(&r.d);
    tu_rng rng = {seed};
    const int64_t nx = tu_x_elems(&s), nw = tu_w_elems(&s), ny = tu_y_elems(&s);
    double *buf = malloc((size_t)(nx + nw + sc->f + ny) * sizeof *buf);
    cr_assert(buf);
    tu_fill(&rng, buf, nx + nw + sc->f + ny);
    r.x = tu_to_dtype(dt, buf, nx);
    r.w = tu_to_dtype(dt, buf + nx, nw);
    r.bias = tu_to_dtype(dt, buf + nx + nw, sc->f);
    r.dy = tu_to_dtype(dt, buf + nx + nw + sc->f, ny);
    free(buf);
    const size_t es = dt == TCONV_F64 ? 8 : 4;
    r.x_bytes = (size_t)nx * es;
    r.y_bytes = (size_t)ny * es;
    r.w_bytes = (size_t)nw * es;
    r.bias_bytes = (size_t)sc->f * es;
    return r;
}

static void free_io(io *r)
{
    free(r->x); free(r->w); free(r->bias); free(r->dy);
}

/* Forward and backward-data of r with `threads` threads into y and dx. */
static void run_passes(const io *r, int threads, void *y, void *dx)
{
    cr_assert_eq(tconv_set_num_threads(threads), TCONV_OK);
    cr_assert_eq(tconv_get_num_threads(), threads);
    tconv_plan *p;
    cr_assert_eq(tconv_plan_create(&p, &r->d, 0), TCONV_OK, "%s", tconv_last_error());
    memset(y, 0xA5, r->y_bytes);
    cr_assert_eq(tconv_forward(p, r->x, r->w, r->bias, y), TCONV_OK, "%s", tconv_last_error());
    if (dx) {
        memset(dx, 0xA5, r->x_bytes);
        cr_assert_eq(tconv_backward_data(p, r->dy, r->w, dx), TCONV_OK, "%s", tconv_last_error());
    }
    tconv_plan_destroy(p);
}

/* Every case, with the kernel and mode the plan picks (1 thread's bits
 * against 2, 3 and 7), or with a kernel and mode forced (against 3: each
 * kernel's tiles are split the same way, and there are many kernels). */
static void check_bits(const char *kernel, const char *mode)
{
    static const int all_counts[] = {2, 3, 7}, forced_counts[] = {3};
    const int *counts = kernel || mode ? forced_counts : all_counts;
    const size_t ncounts = kernel || mode ? 1 : 3;
    if (kernel) setenv("TCONV_FWD_KERNEL", kernel, 1); else unsetenv("TCONV_FWD_KERNEL");
    if (mode) setenv("TCONV_FWD_MODE", mode, 1); else unsetenv("TCONV_FWD_MODE");
    for (size_t i = 0; i < NCASES; i++)
        for (int dt = 0; dt < 2; dt++) {
            io r = make_io(&cases[i], dt ? TCONV_F64 : TCONV_F32, 1000 + i);
            void *y1 = malloc(r.y_bytes), *yk = malloc(r.y_bytes);
            void *dx1 = malloc(r.x_bytes), *dxk = malloc(r.x_bytes);
            cr_assert(y1 && yk && dx1 && dxk);
            /* backward-data only once per case: it does not depend on the kernel */
            const int bwd = kernel == NULL && mode == NULL;
            run_passes(&r, 1, y1, bwd ? dx1 : NULL);
            for (size_t k = 0; k < ncounts; k++) {
                run_passes(&r, counts[k], yk, bwd ? dxk : NULL);
                cr_assert(memcmp(y1, yk, r.y_bytes) == 0,
                          "%s %s, kernel %s mode %s: forward with %d threads differs from 1",
                          cases[i].name, dt ? "f64" : "f32", kernel ? kernel : "(chosen)",
                          mode ? mode : "(chosen)", counts[k]);
                if (bwd)
                    cr_assert(memcmp(dx1, dxk, r.x_bytes) == 0,
                              "%s %s: backward-data with %d threads differs from 1",
                              cases[i].name, dt ? "f64" : "f32", counts[k]);
            }
            free(y1); free(yk); free(dx1); free(dxk);
            free_io(&r);
        }
    unsetenv("TCONV_FWD_KERNEL");
    unsetenv("TCONV_FWD_MODE");
}

Test(threads, same_bits_for_every_thread_count, .timeout = 300)
{
    check_bits(NULL, NULL);
}

Test(threads, same_bits_for_every_kernel_and_mode, .timeout = 600)
{
    const tconv_isa isa = tconv_get_isa();
    int kernels = 0;
    for (int k = 0; tconv_kernel_name(isa, k); k++, kernels++) {
        /* backward-weights' GEMM tiles: test_backward.c's same_bits case */
        if (strstr(tconv_kernel_name(isa, k), "_bwdw_")) continue;
        check_bits(tconv_kernel_name(isa, k), "gather");
        check_bits(tconv_kernel_name(isa, k), "scatter");
    }
    cr_assert_gt(kernels, 0, "no kernel listed for %s", tconv_isa_name(isa));
}

/* The threaded result is also the right one (not just a stable one). */
Test(threads, threaded_forward_matches_the_oracle, .timeout = 120)
{
    for (size_t i = 0; i < NCASES; i++) {
        if (cases[i].act != TCONV_ACT_NONE) continue;
        io r = make_io(&cases[i], TCONV_F64, 7 + i);
        const tu_shape s = tu_shape_of(&r.d);
        const int64_t ny = tu_y_elems(&s);
        double *y = malloc(r.y_bytes), *want = malloc((size_t)ny * sizeof *want);
        run_passes(&r, 3, y, NULL);
        tu_forward_scatter(&r.d, r.x, r.w, r.bias, want);
        cr_assert_leq(tu_max_rel_diff(y, want, ny), tu_tolerance(TCONV_F64), "%s",
                      cases[i].name);
        free(y); free(want);
        free_io(&r);
    }
}

/* ---- several application threads ---------------------------------------- */

/* What every pass of a plan must give, computed on one thread. */
typedef struct wants {
    void *y, *dx, *dw, *dbias;
} wants;

typedef struct app_job {
    const tconv_plan *plan; /* shared, or NULL: the thread makes its own */
    const io *r;
    const wants *want;
    int rounds;
    int ok;
} app_job;

/* Runs all three passes of a plan again and again from one application
 * thread, checking every result: the backward drivers' kept scratch blocks
 * (runtime/scratch.h) must serve concurrent calls too. */
static void *app_thread(void *arg)
{
    app_job *j = arg;
    tconv_plan *own = NULL;
    if (!j->plan && tconv_plan_create(&own, &j->r->d, 0) != TCONV_OK) return NULL;
    const tconv_plan *p = j->plan ? j->plan : own;
    const io *r = j->r;
    void *y = malloc(r->y_bytes), *dx = malloc(r->x_bytes), *dw = malloc(r->w_bytes),
         *db = malloc(r->bias_bytes);
    j->ok = y && dx && dw && db;
    for (int k = 0; k < j->rounds && j->ok; k++)
        j->ok = tconv_forward(p, r->x, r->w, r->bias, y) == TCONV_OK &&
                memcmp(y, j->want->y, r->y_bytes) == 0 &&
                tconv_backward_data(p, r->dy, r->w, dx) == TCONV_OK &&
                memcmp(dx, j->want->dx, r->x_bytes) == 0 &&
                tconv_backward_weights(p, r->x, r->dy, dw, db) == TCONV_OK &&
                memcmp(dw, j->want->dw, r->w_bytes) == 0 && memcmp(db, j->want->dbias, r->bias_bytes) == 0;
    free(y); free(dx); free(dw); free(db);
    tconv_plan_destroy(own);
    return NULL;
}

static void concurrent(int shared_plan)
{
    io r = make_io(&cases[0], TCONV_F32, 99);
    wants want = {malloc(r.y_bytes), malloc(r.x_bytes), malloc(r.w_bytes), malloc(r.bias_bytes)};
    cr_assert(want.y && want.dx && want.dw && want.dbias);
    run_passes(&r, 1, want.y, want.dx);
    {
        tconv_plan *one;
        cr_assert_eq(tconv_plan_create(&one, &r.d, 0), TCONV_OK, "%s", tconv_last_error());
        cr_assert_eq(tconv_backward_weights(one, r.x, r.dy, want.dw, want.dbias), TCONV_OK);
        tconv_plan_destroy(one);
    }
    cr_assert_eq(tconv_set_num_threads(2), TCONV_OK);
    tconv_plan *p = NULL;
    if (shared_plan) cr_assert_eq(tconv_plan_create(&p, &r.d, 0), TCONV_OK);
    enum { APPS = 4 };
    pthread_t t[APPS];
    app_job jobs[APPS];
    for (int i = 0; i < APPS; i++) {
        jobs[i] = (app_job){p, &r, &want, 20, 0};
        cr_assert_eq(pthread_create(&t[i], NULL, app_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < APPS; i++) {
        pthread_join(t[i], NULL);
        cr_assert(jobs[i].ok, "application thread %d got a wrong result or an error", i);
    }
    tconv_plan_destroy(p);
    free(want.y); free(want.dx); free(want.dw); free(want.dbias);
    free_io(&r);
}

Test(threads, concurrent_passes_on_one_plan, .timeout = 120) { concurrent(1); }
Test(threads, concurrent_passes_on_many_plans, .timeout = 120) { concurrent(0); }

/* ---- the host's parallel-for ------------------------------------------- */

/* A small host pool: tasks handed out by an atomic counter to three
 * threads of its own, started per call. */
typedef struct host_pool {
    atomic_long calls, tasks;
} host_pool;

typedef struct host_call {
    host_pool *pool;
    tconv_task_fn task;
    void *task_ctx;
    int64_t n;
    atomic_llong next;
} host_call;

static void *host_worker(void *arg)
{
    host_call *c = arg;
    for (int64_t i; (i = atomic_fetch_add(&c->next, 1)) < c->n;) {
        c->task(c->task_ctx, i);
        atomic_fetch_add(&c->pool->tasks, 1);
    }
    return NULL;
}

static void host_parallel_for(void *pool_ctx, int64_t n, tconv_task_fn task, void *task_ctx)
{
    host_pool *hp = pool_ctx;
    atomic_fetch_add(&hp->calls, 1);
    host_call c = {hp, task, task_ctx, n, 0};
    pthread_t t[3];
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, host_worker, &c);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
}

Test(threads, host_parallel_for_runs_the_work, .timeout = 120)
{
    io r = make_io(&cases[1], TCONV_F32, 5);
    void *want = malloc(r.y_bytes), *y = malloc(r.y_bytes);
    run_passes(&r, 1, want, NULL);
    host_pool hp = {0, 0};
    tconv_set_parallel_for(host_parallel_for, &hp);
    run_passes(&r, 3, y, NULL);
    cr_assert_gt(atomic_load(&hp.calls), 0, "the host's parallel-for was never called");
    cr_assert_gt(atomic_load(&hp.tasks), 1);
    cr_assert(memcmp(y, want, r.y_bytes) == 0, "forward through the host's pool differs");
    /* Removed again: tconv's own pool, the host's function untouched. */
    tconv_set_parallel_for(NULL, NULL);
    const long calls = atomic_load(&hp.calls);
    run_passes(&r, 3, y, NULL);
    cr_assert_eq(atomic_load(&hp.calls), calls, "the hook ran after it was removed");
    cr_assert(memcmp(y, want, r.y_bytes) == 0);
    free(want); free(y);
    free_io(&r);
}

/* A host whose parallel-for runs tasks on the caller, and whose first task
 * runs a whole tconv pass (a pass inside the host's parallel region, which
 * calls the host's parallel-for again: it must not deadlock). */
typedef struct nested_host {
    atomic_int depth, max_depth;
    const io *inner;
    void *inner_y;
    int inner_status;
} nested_host;

static void nested_parallel_for(void *pool_ctx, int64_t n, tconv_task_fn task, void *task_ctx)
{
    nested_host *h = pool_ctx;
    const int depth = atomic_fetch_add(&h->depth, 1) + 1;
    if (depth > atomic_load(&h->max_depth)) atomic_store(&h->max_depth, depth);
    for (int64_t i = 0; i < n; i++) {
        if (i == 0 && depth == 1 && h->inner) {
            tconv_plan *p;
            h->inner_status = tconv_plan_create(&p, &h->inner->d, 0);
            if (h->inner_status == TCONV_OK)
                h->inner_status = tconv_forward(p, h->inner->x, h->inner->w, h->inner->bias,
                                                h->inner_y);
            tconv_plan_destroy(p);
        }
        task(task_ctx, i);
    }
    atomic_fetch_sub(&h->depth, 1);
}

Test(threads, pass_inside_the_hosts_parallel_region, .timeout = 60)
{
    io outer = make_io(&cases[0], TCONV_F32, 11), inner = make_io(&cases[3], TCONV_F32, 12);
    void *want_outer = malloc(outer.y_bytes), *want_inner = malloc(inner.y_bytes);
    void *y = malloc(outer.y_bytes), *inner_y = malloc(inner.y_bytes);
    run_passes(&outer, 1, want_outer, NULL);
    run_passes(&inner, 1, want_inner, NULL);
    nested_host h = {0, 0, &inner, inner_y, -1};
    tconv_set_parallel_for(nested_parallel_for, &h);
    run_passes(&outer, 2, y, NULL);
    tconv_set_parallel_for(NULL, NULL);
    cr_assert_eq(h.inner_status, TCONV_OK, "%s", tconv_last_error());
    cr_assert(memcmp(y, want_outer, outer.y_bytes) == 0);
    cr_assert(memcmp(inner_y, want_inner, inner.y_bytes) == 0);
    free(want_outer); free(want_inner); free(y); free(inner_y);
    free_io(&outer);
    free_io(&inner);
}

/* ---- fork --------------------------------------------------------------- */

Test(threads, child_after_fork_runs_passes, .timeout = 60)
{
    io r = make_io(&cases[0], TCONV_F32, 21);
    void *want = malloc(r.y_bytes), *y = malloc(r.y_bytes);
    run_passes(&r, 1, want, NULL);
    run_passes(&r, 2, y, NULL); /* the pool's workers exist now */
    const pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        alarm(20); /* a hang in the child ends it with SIGALRM */
        tconv_plan *p;
        int ok = tconv_plan_create(&p, &r.d, 0) == TCONV_OK;
        for (int k = 0; k < 5 && ok; k++)
            ok = tconv_forward(p, r.x, r.w, r.bias, y) == TCONV_OK &&
                 memcmp(y, want, r.y_bytes) == 0;
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "the child did not exit normally (signal %d)",
              WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    cr_assert_eq(WEXITSTATUS(status), 0, "the child's passes failed or differed");
    /* and the parent's pool still works */
    run_passes(&r, 2, y, NULL);
    cr_assert(memcmp(y, want, r.y_bytes) == 0);
    free(want); free(y);
    free_io(&r);
}

/* ---- controls ----------------------------------------------------------- */

Test(threads, thread_count_controls)
{
    unsetenv("TCONV_NUM_THREADS"); /* the default below is the cores' */
    cr_assert_eq(tconv_set_num_threads(0), TCONV_OK);
    const int def = tconv_get_num_threads();
    cr_assert_geq(def, 1);
    cr_assert_leq(def, sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1024);
    cr_assert_eq(tconv_set_num_threads(5), TCONV_OK);
    cr_assert_eq(tconv_get_num_threads(), 5);
    cr_assert_eq(tconv_set_num_threads(-1), TCONV_EINVAL);
    cr_assert(strstr(tconv_last_error(), "n (-1)"), "%s", tconv_last_error());
    cr_assert_eq(tconv_set_num_threads(1025), TCONV_EINVAL);
    cr_assert(strstr(tconv_last_error(), "n (1025)"), "%s", tconv_last_error());
    cr_assert_eq(tconv_get_num_threads(), 5, "a refused count changed the setting");
}

/* TCONV_NUM_THREADS sets the default. Each Criterion test runs in a process
 * of its own that has made no tconv call before the body, so the default
 * (read once per process) is read after setenv. */
Test(threads, environment_sets_the_default)
{
    setenv("TCONV_NUM_THREADS", "3", 1);
    cr_assert_eq(tconv_get_num_threads(), 3);
}

Test(threads, bad_environment_value_is_ignored)
{
    setenv("TCONV_NUM_THREADS", "three", 1);
    const int n = tconv_get_num_threads();
    cr_assert_geq(n, 1);
    cr_assert_leq(n, sysconf(_SC_NPROCESSORS_ONLN) > 0 ? sysconf(_SC_NPROCESSORS_ONLN) : 1024);
}
