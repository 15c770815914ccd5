/*
 * Concurrent tuning (issue 19): 4 processes of 8 threads each create plans
 * with TCONV_TUNE_MEASURE into one cache file, every thread for a
 * configuration all of them share and for one of its own. No deadlock (the
 * test's timeout), every plan's forward pass equals the reference's, and
 * afterwards the cache holds exactly one entry per configuration: none lost,
 * none duplicated. Built with Criterion, and under ThreadSanitizer with
 * tests/mini_criterion.h (tests/meson.build), like test_threads.
 */
#define _DEFAULT_SOURCE /* mkdtemp, setenv, fork */
#ifdef TCONV_MINI_CRITERION /* the ThreadSanitizer build (see mini_criterion.h) */
#include "mini_criterion.h"
#else
#include <criterion/criterion.h>
#endif
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tconv.h>

#include "tempdir.h"

#define PROCESSES 4
#define THREADS 8
#define SHARED 3 /* configurations every process and thread tunes */

/* Configuration k: k < SHARED are shared (channels 2-4); the others, one
 * per (process, thread), have channels 10 + k (the key's "c" tells them
 * apart). */
static tconv_desc config(int k)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.batch = 1;
    d.channels = k < SHARED ? 2 + k : 10 + k;
    d.filters = 3;
    d.in_h = d.in_w = 3;
    d.filter_h = d.filter_w = 3;
    d.stride_h = d.stride_w = 2;
    return d;
}

/* Plans k measured (or from the cache), runs its forward pass and compares
 * with a reference plan; 0 when all is well. */
static int tune_and_check(int k)
{
    const tconv_desc d = config(k);
    size_t xb, wb, yb;
    if (tconv_desc_tensor_size(&d, TCONV_TENSOR_X, NULL, &xb) != TCONV_OK ||
        tconv_desc_tensor_size(&d, TCONV_TENSOR_W, NULL, &wb) != TCONV_OK ||
        tconv_desc_tensor_size(&d, TCONV_TENSOR_Y, NULL, &yb) != TCONV_OK)
        return 1;
    float *x = malloc(xb), *w = malloc(wb), *y = malloc(yb), *want = malloc(yb);
    int bad = !x || !w || !y || !want;
    for (size_t i = 0; !bad && i < xb / 4; i++) x[i] = (float)((i * 7 + (size_t)k) % 11) / 11.0f - 0.5f;
    for (size_t i = 0; !bad && i < wb / 4; i++) w[i] = (float)((i * 5 + 3) % 13) / 13.0f - 0.5f;
    tconv_plan *p = NULL, *ref = NULL;
    if (!bad) bad = tconv_plan_create(&p, &d, TCONV_TUNE_MEASURE) != TCONV_OK ||
                    tconv_plan_create(&ref, &d, TCONV_PLAN_REFERENCE) != TCONV_OK;
    if (!bad) bad = tconv_forward(p, x, w, NULL, y) != TCONV_OK ||
                    tconv_forward(ref, x, w, NULL, want) != TCONV_OK;
    for (size_t i = 0; !bad && i < yb / 4; i++) bad = fabsf(y[i] - want[i]) > 1e-5f;
    /* measured now, or from the cache another thread or process filled */
    if (!bad) bad = !strstr(tconv_plan_info(p), "tune: fwd tuned");
    if (bad) fprintf(stderr, "config %d: %s | %s\n", k, tconv_plan_info(p), tconv_last_error());
    tconv_plan_destroy(p);
    tconv_plan_destroy(ref);
    free(x); free(w); free(y); free(want);
    return bad;
}

typedef struct worker {
    int process, thread;
    int failures;
} worker;

static void *thread_main(void *arg)
{
    worker *wk = arg;
    const int own = SHARED + wk->process * THREADS + wk->thread;
    wk->failures = tune_and_check(wk->thread % SHARED) + tune_and_check(own);
    return NULL;
}

/* One process's part: THREADS threads at once; exits 0 when all is well. */
static void process_main(int process)
{
    pthread_t th[THREADS];
    worker wk[THREADS];
    int failures = 0;
    for (int t = 0; t < THREADS; t++) {
        wk[t] = (worker){process, t, 0};
        if (pthread_create(&th[t], NULL, thread_main, &wk[t]) != 0) _exit(2);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        failures += wk[t].failures;
    }
    _exit(failures ? 1 : 0);
}

/* Lines of file that start with "fwd " and contain needle. */
static int count_lines(const char *path, const char *needle, int *fwd_lines)
{
    FILE *f = fopen(path, "r");
    cr_assert(f != NULL, "cannot read %s", path);
    char line[1024];
    int n = 0;
    *fwd_lines = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "fwd ", 4) != 0) continue;
        (*fwd_lines)++;
        if (strstr(line, needle)) n++;
    }
    fclose(f);
    return n;
}

Test(tune_concurrent, processes_and_threads_share_one_cache, .timeout = 600)
{
    char dir[TU_TEMP_DIR_SIZE];
    cr_assert_eq(tu_temp_dir("tconv-test-tune-concurrent", dir), 0, "mkdtemp");
    char cache[256], exported[256];
    snprintf(cache, sizeof cache, "%s/cache.txt", dir);
    snprintf(exported, sizeof exported, "%s/exported.txt", dir);
    cr_assert_eq(setenv("TCONV_CACHE", cache, 1), 0);
    /* Measuring needs no long samples here; the candidates still run. */
    cr_assert_eq(tconv_set_tune_budget(0.001), TCONV_OK);

    /* The processes start before this one makes a thread. */
    pid_t pids[PROCESSES];
    for (int i = 0; i < PROCESSES; i++) {
        pids[i] = fork();
        cr_assert(pids[i] >= 0, "fork: %s", strerror(errno));
        if (pids[i] == 0) process_main(i);
    }
    int failed = 0;
    for (int i = 0; i < PROCESSES; i++) {
        int status = 0;
        cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
    }
    cr_assert_eq(failed, 0, "%d of %d processes had a wrong or untuned plan", failed, PROCESSES);

    /* Every configuration exactly once in the cache, and nothing else. */
    cr_assert_eq(tconv_cache_export(exported), TCONV_OK, "%s", tconv_last_error());
    const int configs = SHARED + PROCESSES * THREADS;
    for (int k = 0; k < configs; k++) {
        const tconv_desc d = config(k);
        char needle[64];
        snprintf(needle, sizeof needle, " c%lld f%lld ", (long long)d.channels,
                 (long long)d.filters);
        int fwd_lines = 0;
        const int n = count_lines(exported, needle, &fwd_lines);
        cr_assert_eq(n, 1, "configuration %d (%s): %d entries", k, needle, n);
        cr_assert_eq(fwd_lines, configs, "%d forward entries for %d configurations", fwd_lines,
                     configs);
    }
    printf("tune_concurrent: %d processes x %d threads, %d configurations, each once in the "
           "cache\n", PROCESSES, THREADS, configs);
}
