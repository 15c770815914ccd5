/*
 * How passes use more than one core: a parallel-for over task indices, run
 * by tconv's own persistent thread pool or by the host framework's
 * parallel-for (tconv_set_parallel_for), and per-thread scratch memory.
 *
 * A pass splits its work into tasks whose results do not depend on which
 * thread runs them or on how many tasks there are beside them (each output
 * is computed, in a fixed order, by one task), so results are bit for bit
 * the same for every thread count.
 */
#ifndef TCONV_RUNTIME_THREADS_H
#define TCONV_RUNTIME_THREADS_H

#include <stddef.h>
#include <stdint.h>

typedef void (*tconv_task)(void *ctx, int64_t i);

/* Runs task(ctx, i) for every i in [0, n) and returns when all are done.
 * Runs them in order on the calling thread when n <= 1, when the thread
 * count is 1, when called from inside a task (nested), or when another
 * application thread is using the built-in pool at that moment. */
void tconv_parallel_for(int64_t n, tconv_task task, void *ctx);

/* Splits [0, count) into ranges of at least min_chunk (>= 1) items, about
 * four per thread, and runs fn(ctx, begin, end) for each through
 * tconv_parallel_for: for work that is the same for every item. */
typedef void (*tconv_range_task)(void *ctx, int64_t begin, int64_t end);
void tconv_parallel_ranges(int64_t count, int64_t min_chunk, tconv_range_task fn, void *ctx);

/* The number of threads a pass should split its work for: the setting
 * (tconv_set_num_threads), or 1 inside a task. */
int tconv_parallel_width(void);

/* This thread's scratch: 64-byte aligned, at least `bytes` long, kept and
 * reused by later calls on the thread (freed when the thread exits). Valid
 * until the thread's next call. NULL if it cannot be allocated. */
void *tconv_thread_scratch(size_t bytes);

#endif /* TCONV_RUNTIME_THREADS_H */
