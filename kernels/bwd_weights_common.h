/*
 * What the backward-weights strategies (bwd_weights.c: packed, filters as
 * lanes; filters as rows; in place on the GEMM tiles) share: how the
 * reduction over input rows is cut into chunks, how a later chunk's tile is
 * added into the accumulator, and how the images' bias sums become dbias.
 * All cut and add the same way, so all give the same bits for every thread
 * count.
 */
#ifndef TCONV_KERNELS_BWD_WEIGHTS_COMMON_H
#define TCONV_KERNELS_BWD_WEIGHTS_COMMON_H

#include <stdint.h>

#include "kernels/bwd_driver.h"
#include "kernels/elem.h"
#include "kernels/problem.h"
#include "kernels/ukernel.h"
#include "runtime/threads.h"
#include "runtime/topology.h"

/* Input rows per chunk: as many as fill about half of L2 at row_bytes each
 * (the rows' x and the part of dy one tile reads), but at least 256 pixels
 * of reduction per tile call so that the accumulate step stays small, and
 * at most all `rows`. */
static inline int64_t tconv_bwd_chunk_rows(const tconv_problem *p, int64_t row_bytes, int64_t rows)
{
    const int64_t half_l2 = tconv_topology_get()->l2_bytes / 2;
    int64_t cr = half_l2 / (row_bytes > 0 ? row_bytes : 1);
    const int64_t min_rows = (256 + p->in_w - 1) / p->in_w;
    if (cr < min_rows) cr = min_rows;
    return cr > rows ? rows : cr;
}

/* Chunk `chunk`'s input rows [*row0, *row0 + *nrows) of the batch's `rows`,
 * cut into chunks of chunk_rows (the last one may be shorter). */
static inline void tconv_bwd_chunk_range(int64_t chunk, int64_t chunk_rows, int64_t rows,
                                         int64_t *row0, int64_t *nrows)
{
    *row0 = chunk * chunk_rows;
    *nrows = *row0 + chunk_rows <= rows ? chunk_rows : rows - *row0;
}

/* What a task of chunk `chunk` works with: the chunk's input rows [*row0,
 * *row0 + *nrows) of the batch's `rows`, and this thread's scratch, a tap
 * list of chunk_rows entries (returned) followed by one tile (*temp, when
 * temp is not NULL) that a later chunk stores before adding it in. NULL
 * when the thread has no scratch. */
static inline tconv_uk_tap *tconv_bwd_chunk_scratch(int64_t chunk, int64_t chunk_rows, int64_t rows,
                                                    int64_t *row0, int64_t *nrows, char **temp)
{
    tconv_bwd_chunk_range(chunk, chunk_rows, rows, row0, nrows);
    tconv_uk_tap *list = tconv_thread_scratch((size_t)chunk_rows * sizeof *list +
                                              (size_t)(TCONV_BWD_MAX_TILE * TCONV_BWD_MAX_TILE * 8));
    if (list && temp) *temp = (char *)(list + chunk_rows);
    return list;
}

/* acc[i*acc_stride + j] += temp[i*nr + j] for i < m, j < nr: a later
 * chunk's tile into the accumulator, elements of es bytes. */
static inline void tconv_bwd_add_tile(int64_t es, char *acc, int64_t acc_stride, const char *temp,
                                      int64_t nr, int64_t m)
{
    if (es == 8)
        for (int64_t i = 0; i < m; i++) {
            double *a = (double *)acc + i * acc_stride;
            const double *s = (const double *)temp + i * nr;
            for (int64_t j = 0; j < nr; j++) a[j] += s[j];
        }
    else
        for (int64_t i = 0; i < m; i++) {
            float *a = (float *)acc + i * acc_stride;
            const float *s = (const float *)temp + i * nr;
            for (int64_t j = 0; j < nr; j++) a[j] += s[j];
        }
}

/* dbias, in the one order every backward-weights driver and thread count
 * shares, so that it has the same bits whichever runs: each dy row (n, oh)
 * of each filter summed in double from ow = 0 on (the drivers, into
 * bias_rows [n][oh][F], while they read dy), then the rows added in
 * (image, row) order from the first (here). */
static inline void tconv_bwd_store_bias(const tconv_problem *p, const double *bias_rows,
                                        void *dbias)
{
    const int64_t rows = p->batch * p->out_h;
    for (int64_t f = 0; f < p->filters; f++) {
        double sum = bias_rows[f];
        for (int64_t row = 1; row < rows; row++) sum += bias_rows[row * p->filters + f];
        tconv_elem_store(p->dtype, dbias, f, sum);
    }
}

#endif /* TCONV_KERNELS_BWD_WEIGHTS_COMMON_H */
