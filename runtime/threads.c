/*
 * The thread pool and the parallel-for of runtime/threads.h, and the public
 * thread controls (tconv_set_num_threads, tconv_get_num_threads,
 * tconv_set_parallel_for).
 *
 * The pool is created on first use with (threads - 1) workers: the calling
 * thread is the last worker of every job. Worker i is bound to physical core
 * i (hwloc, runtime/topology.c); the caller is the application's thread and
 * is left where the OS put it. A job hands out task indices from an atomic
 * counter, so a worker that finishes early takes more, and a worker that
 * comes late finds nothing left (results do not depend on who runs what,
 * see threads.h). Workers sleep on a condition variable between jobs.
 *
 * One job runs at a time. An application thread that finds the pool busy
 * runs its tasks itself instead of waiting: several application threads
 * running passes at once then keep every core busy, and a pass called from
 * inside another's task (nested) can never deadlock.
 *
 * fork: the child has none of the parent's workers, so pthread_atfork
 * resets the pool there (the next pass creates a new one); the prepare
 * handler holds the job lock so the child never inherits a job half-run.
 * Exit and dlclose: a destructor stops and joins the workers, so nothing
 * is left running or leaked, and only then releases the hwloc topology
 * they bound themselves with.
 */
#include "runtime/threads.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/error.h"
#include "runtime/scratch.h" /* tconv_alloc_aligned */
#include "runtime/topology.h"
#include "tconv.h"

#define MAX_THREADS 1024

typedef struct pool {
    pthread_mutex_t job_lock; /* held by the thread running a job on the pool */
    pthread_mutex_t lock;     /* guards everything below */
    pthread_cond_t wake, done;
    pthread_t *workers;
    int nworkers;      /* started (threads - 1 unless a start failed) */
    int created;
    int stop;
    atomic_ullong generation; /* bumped per job (under lock); a worker runs each once */
    uint64_t start_generation; /* the generation when the workers were started */
    int closed;          /* the current job takes no more workers */
    int active;          /* workers in the current job */
    tconv_task task;
    void *ctx;
    int64_t n;
    atomic_llong next; /* the next task index to hand out */
} pool;

static pool the_pool = {
    .job_lock = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .done = PTHREAD_COND_INITIALIZER,
};

/* The thread count setting: 0 until first read (then the default). */
static atomic_int num_threads;
/* The host's parallel-for (NULL: the built-in pool) and its context, set
 * together under host_lock and read together. */
static pthread_mutex_t host_lock = PTHREAD_MUTEX_INITIALIZER;
static tconv_parallel_for_fn host_for;
static void *host_ctx;

static _Thread_local int in_task; /* this thread is running a task */

/* ---- settings ---------------------------------------------------------- */

/* TCONV_NUM_THREADS if set and valid, else the physical cores this process
 * may use. */
static int default_threads(void)
{
    const char *env = getenv("TCONV_NUM_THREADS");
    if (env && *env) {
        char *end;
        errno = 0;
        const long v = strtol(env, &end, 10);
        if (*end == '\0' && errno == 0 && v >= 1 && v <= MAX_THREADS) return (int)v;
        fprintf(stderr,
                "tconv: warning: TCONV_NUM_THREADS=%s is not a count from 1 to %d; ignored\n",
                env, MAX_THREADS);
    }
    return tconv_topology_get()->cores;
}

static pthread_once_t default_once = PTHREAD_ONCE_INIT;
static int default_count;
static void read_default(void) { default_count = default_threads(); }

int tconv_get_num_threads(void)
{
    const int n = atomic_load(&num_threads);
    if (n > 0) return n;
    pthread_once(&default_once, read_default);
    int expected = 0;
    atomic_compare_exchange_strong(&num_threads, &expected, default_count);
    return atomic_load(&num_threads);
}

int tconv_parallel_width(void)
{
    return in_task ? 1 : tconv_get_num_threads();
}

/* ---- the pool ---------------------------------------------------------- */

static void run_tasks(pool *p)
{
    for (;;) {
        const int64_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n) return;
        p->task(p->ctx, i);
    }
}

/* How long a worker that finished a job watches for the next before it
 * sleeps. A pass posts several jobs in a row (padding, tiles, the output
 * edge) and inference runs layer after layer; waking a sleeping thread costs
 * tens of microseconds, which on a 0.1 ms layer is the whole gain. */
#define SPIN_SECONDS 100e-6

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Spins until the generation moves past seen or SPIN_SECONDS pass. */
static void spin_for_job(pool *p, uint64_t seen)
{
    const double until = seconds_now() + SPIN_SECONDS;
    for (unsigned i = 1; atomic_load_explicit(&p->generation, memory_order_relaxed) == seen; i++) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        if (i % 64 == 0 && seconds_now() > until) return;
    }
}

static void *worker_main(void *arg)
{
    pool *p = &the_pool;
    const int index = (int)(intptr_t)arg;
    (void)tconv_topology_bind_core(index); /* unbound is slower, not wrong */
    in_task = 1;
    pthread_mutex_lock(&p->lock);
    /* Not the generation now: a job may have been posted already, before
     * this thread got here, and it is this worker's to join. */
    uint64_t seen = p->start_generation;
    for (;;) {
        if (!p->stop && atomic_load(&p->generation) == seen) {
            pthread_mutex_unlock(&p->lock);
            spin_for_job(p, seen);
            pthread_mutex_lock(&p->lock);
        }
        while (!p->stop && atomic_load(&p->generation) == seen)
            pthread_cond_wait(&p->wake, &p->lock);
        if (p->stop) break;
        seen = atomic_load(&p->generation);
        if (p->closed) continue; /* woke too late: the job is done */
        p->active++;
        pthread_mutex_unlock(&p->lock);
        run_tasks(p);
        pthread_mutex_lock(&p->lock);
        if (--p->active == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Starts threads - 1 workers (called with job_lock held). A worker that
 * cannot be started is done without: fewer threads, same results. */
static void pool_start(pool *p, int threads)
{
    p->created = 1;
    p->nworkers = 0;
    p->stop = 0;
    p->start_generation = atomic_load(&p->generation); /* no job runs now: job_lock is held */
    if (threads <= 1) return;
    p->workers = malloc((size_t)(threads - 1) * sizeof *p->workers);
    if (!p->workers) return;
    for (int i = 0; i < threads - 1; i++) {
        if (pthread_create(&p->workers[i], NULL, worker_main, (void *)(intptr_t)(i + 1)) != 0)
            break;
        p->nworkers++;
    }
}

/* Stops and joins the workers (called with job_lock held). */
static void pool_stop(pool *p)
{
    if (!p->created) return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nworkers; i++) pthread_join(p->workers[i], NULL);
    free(p->workers);
    p->workers = NULL;
    p->nworkers = 0;
    p->created = 0;
}

/* Runs one job on the pool; job_lock is held. Workers join while it is
 * open; once the caller has found no task left to take, it closes the job
 * and waits only for the workers that joined (a worker the OS has not
 * scheduled yet never holds the job up: on a busy machine that matters). */
static void pool_run(pool *p, int64_t n, tconv_task task, void *ctx)
{
    pthread_mutex_lock(&p->lock);
    p->task = task;
    p->ctx = ctx;
    p->n = n;
    atomic_store(&p->next, 0);
    p->closed = 0;
    atomic_fetch_add(&p->generation, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);

    in_task = 1;
    run_tasks(p);
    in_task = 0;

    pthread_mutex_lock(&p->lock);
    p->closed = 1;
    while (p->active > 0) pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

/* The host's parallel-for runs this for each task: it marks the thread as
 * inside a task so that nothing it calls splits again. */
typedef struct host_job {
    tconv_task task;
    void *ctx;
} host_job;

static void host_task(void *arg, int64_t i)
{
    const host_job *j = arg;
    const int outer = in_task;
    in_task = 1;
    j->task(j->ctx, i);
    in_task = outer;
}

void tconv_parallel_for(int64_t n, tconv_task task, void *ctx)
{
    const int threads = tconv_parallel_width();
    if (n > 1 && threads > 1) {
        pthread_mutex_lock(&host_lock);
        const tconv_parallel_for_fn hf = host_for;
        void *hc = host_ctx;
        pthread_mutex_unlock(&host_lock);
        if (hf) {
            host_job j = {task, ctx};
            hf(hc, n, host_task, &j);
            return;
        }
        pool *p = &the_pool;
        if (pthread_mutex_trylock(&p->job_lock) == 0) {
            if (!p->created) pool_start(p, threads);
            pool_run(p, n, task, ctx);
            pthread_mutex_unlock(&p->job_lock);
            return;
        }
    }
    const int outer = in_task;
    in_task = 1;
    for (int64_t i = 0; i < n; i++) task(ctx, i);
    in_task = outer;
}

typedef struct range_job {
    int64_t count, chunk;
    tconv_range_task fn;
    void *ctx;
} range_job;

static void range_task(void *arg, int64_t i)
{
    const range_job *j = arg;
    const int64_t begin = i * j->chunk;
    const int64_t end = begin + j->chunk < j->count ? begin + j->chunk : j->count;
    j->fn(j->ctx, begin, end);
}

void tconv_parallel_ranges(int64_t count, int64_t min_chunk, tconv_range_task fn, void *ctx)
{
    if (count <= 0) return;
    const int64_t want = 4 * (int64_t)tconv_parallel_width();
    int64_t chunk = (count + want - 1) / want;
    if (chunk < min_chunk) chunk = min_chunk < 1 ? 1 : min_chunk;
    range_job j = {count, chunk, fn, ctx};
    tconv_parallel_for((count + chunk - 1) / chunk, range_task, &j);
}

/* ---- public controls --------------------------------------------------- */

tconv_status tconv_set_num_threads(int n)
{
    if (n < 0 || n > MAX_THREADS)
        return tconv_fail(TCONV_EINVAL, "n (%d) is not a thread count from 1 to %d, or 0",
                          n, MAX_THREADS);
    if (n == 0) {
        pthread_once(&default_once, read_default);
        n = default_count;
    }
    pool *p = &the_pool;
    /* Waits for a running job; the pool restarts at its new size on the
     * next pass. */
    pthread_mutex_lock(&p->job_lock);
    if (n != atomic_load(&num_threads)) pool_stop(p);
    atomic_store(&num_threads, n);
    pthread_mutex_unlock(&p->job_lock);
    return TCONV_OK;
}

void tconv_set_parallel_for(tconv_parallel_for_fn fn, void *pool_ctx)
{
    pthread_mutex_lock(&host_lock);
    host_for = fn;
    host_ctx = fn ? pool_ctx : NULL;
    pthread_mutex_unlock(&host_lock);
}

/* ---- per-thread scratch ------------------------------------------------ */

typedef struct scratch {
    void *buf;
    size_t bytes;
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;

static void scratch_free(void *s_)
{
    scratch *s = s_;
    free(s->buf);
    free(s);
}

static void scratch_key_create(void)
{
    scratch_key_ok = pthread_key_create(&scratch_key, scratch_free) == 0;
}

void *tconv_thread_scratch(size_t bytes)
{
    pthread_once(&scratch_once, scratch_key_create);
    if (!scratch_key_ok) return NULL;
    scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (s->bytes < bytes) {
        void *b = tconv_alloc_aligned(bytes);
        if (!b) return NULL;
        free(s->buf);
        s->buf = b;
        s->bytes = bytes;
    }
    return s->buf;
}

/* ---- fork and exit ----------------------------------------------------- */

static void fork_prepare(void) { pthread_mutex_lock(&the_pool.job_lock); }
static void fork_parent(void) { pthread_mutex_unlock(&the_pool.job_lock); }

/* The child has only the forking thread: forget the parent's workers and
 * start clean. */
static void fork_child(void)
{
    pool *p = &the_pool;
    free(p->workers);
    p->workers = NULL;
    p->nworkers = 0;
    p->created = 0;
    p->stop = 0;
    p->active = 0;
    p->closed = 1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    pthread_mutex_unlock(&p->job_lock);
}

__attribute__((constructor)) static void threads_init(void)
{
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

__attribute__((destructor)) static void threads_fini(void)
{
    pool *p = &the_pool;
    /* A job still running in another thread at exit keeps its workers. */
    if (pthread_mutex_trylock(&p->job_lock) != 0) return;
    pool_stop(p);
    pthread_mutex_unlock(&p->job_lock);
    tconv_topology_release(); /* no worker is left to bind itself with it */
    if (scratch_key_ok) { /* the exiting thread's own scratch */
        scratch *s = pthread_getspecific(scratch_key);
        if (s) {
            pthread_setspecific(scratch_key, NULL);
            scratch_free(s);
        }
    }
}
