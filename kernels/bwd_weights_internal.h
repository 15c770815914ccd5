/*
 * Internals of the one backward-weights driver (bwd_weights.c) and its
 * three strategies, which only its files include:
 *  - packed (bwd_weights_packed.c): dy packed as the forward CHANNELS and
 *    PIXELS tiles' weight operand, the filters as vector lanes;
 *  - filters as rows (bwd_weights_rows.c): for CHANNELS tiles that few
 *    filters per group would leave mostly empty as lanes;
 *  - in place (bwd_weights_gemm.c): the GEMM tiles read x and dy where they
 *    lie (or copied channel-innermost), nothing packed.
 *
 * The driver owns what they share, as the forward driver owns its gather
 * and scatter modes: the problem and tile, the chunks the reduction over
 * input rows is cut into, the scratch block of a call (the accumulator,
 * x's and dy's packed or copied forms, the bias sums), the per-thread
 * scratch of the tile loop, and the run: prepare (pack or copy), then for
 * each chunk the tile tasks split over the threads, then unpack the
 * accumulator into dw and sum the bias. Every output sums its chunks in
 * chunk order, the first storing and later ones adding, and dbias is
 * summed in one order by all three (bias_rows below), so the result is the
 * same bits for every thread count. A strategy supplies only what differs
 * (a table of functions, bwd_weights_strategy): its plan, its operands'
 * layout, its tile loop and its unpacking.
 */
#ifndef TCONV_KERNELS_BWD_WEIGHTS_INTERNAL_H
#define TCONV_KERNELS_BWD_WEIGHTS_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/bwd_driver.h"
#include "kernels/elem.h"
#include "kernels/problem.h"
#include "kernels/ukernel.h"
#include "runtime/scratch.h"
#include "runtime/threads.h"

typedef struct bwd_weights_run bwd_weights_run;

/* What a strategy supplies (one const table per strategy, below). */
typedef struct bwd_weights_strategy {
    /* Fills the driver's part for the strategy (d->s), d->tiles, the
     * buffer sizes, calls tconv_bwd_weights_plan_chunks and sets
     * d->thread_bytes. TCONV_EUNSUPPORTED when it cannot run the problem,
     * TCONV_EOVERFLOW when its buffers could not be indexed, TCONV_ENOMEM. */
    tconv_status (*plan)(tconv_bwd_weights_driver *d);
    /* Frees what plan allocated in d->s (NULL: nothing). */
    void (*release)(tconv_bwd_weights_driver *d);
    void (*describe)(const tconv_bwd_weights_driver *d, char *buf, size_t n);
    /* Before the chunks: packs or copies x and dy (splitting the work over
     * the threads itself) and points r->xs, r->ys where the tiles read. */
    void (*prepare)(bwd_weights_run *r);
    /* Tasks [begin, end) of chunk r->chunk (tconv_parallel_ranges): the
     * d->tiles tile tasks, then, with bias_in_chunks and a bias, one task
     * per input row of the chunk. */
    void (*run_tasks)(void *r, int64_t begin, int64_t end);
    /* After the chunks: the accumulator into dw's layout (split over the
     * threads itself). */
    void (*unpack)(bwd_weights_run *r);
} bwd_weights_strategy;

extern const bwd_weights_strategy tconv_bwd_weights_packed;
extern const bwd_weights_strategy tconv_bwd_weights_rows;
extern const bwd_weights_strategy tconv_bwd_weights_gemm;

/* The packed strategy's plan (bwd_weights_packed.c). */
typedef struct bwd_weights_packed_plan {
    int pixels;      /* PIXELS family: MR channels as a vector, x channel-innermost */
    int x_in_place;  /* the kernels read x where it is */
    int64_t taps;    /* k_h * k_w */
    int64_t fblocks; /* ceil(Fg / NR) */
    int64_t fgp;     /* fblocks * NR: a row of the accumulator */
    int64_t cblocks; /* ceil(Cg / MR) */
} bwd_weights_packed_plan;

/* The filters-as-rows strategy's plan (bwd_weights_rows.c). */
typedef struct bwd_weights_rows_plan {
    int64_t rows_n;  /* Fg * k_w: tile rows (m, kw) per kh */
    int64_t rblocks; /* ceil(rows_n / MR) */
    int64_t cblocks; /* ceil(Cg / NR) */
    int64_t cgp;     /* cblocks * NR: a row of the accumulator */
    int64_t plane;   /* gh * qw: one (image, filter, phase) plane of the packed dy */
    int64_t img;     /* Fg * s_w * plane: one image of one group in the packed dy */
} bwd_weights_rows_plan;

/* The in-place strategy's plan (bwd_weights_gemm.c). */
typedef struct bwd_weights_gemm_plan {
    int x_rows;          /* x is the broadcast side (M = Cg); else dy is (M = ld) */
    int x_copy, dy_copy; /* copied channel-innermost first */
    int64_t fold;        /* tap columns per dy operand row: k_w or 1 */
    int64_t kwb;         /* k_w / fold: tap column blocks per kh */
    int64_t ld;          /* dy values per operand row: fold * Fg */
    int64_t m, n;        /* the product of one (g, kh, kw block) */
    int64_t mblocks, nblocks;
    int64_t iwa, iwb;    /* fold: the input columns all of whose taps lie in dy */
    int64_t nedges;      /* fold: the other columns whose taps reach dy, edge_iw[] */
    int64_t *edge_iw;
    int64_t max_runs;    /* runs of one tile call */
} bwd_weights_gemm_plan;

struct tconv_bwd_weights_driver {
    tconv_problem p;
    const tconv_ukernel *uk;
    const bwd_weights_strategy *how;
    int64_t es, mr, nr;
    int64_t gh, gw;     /* the uncropped grid the taps reach (tconv_bwd_grid) */
    int64_t qw;         /* grid columns per column phase: ceil(gw / s_w) */
    int64_t rows;       /* batch * in_h: the reduction, in input rows */
    int64_t chunk_rows, nchunks;
    int64_t tiles;      /* tile tasks of one chunk */
    int bias_in_chunks; /* dy's rows are summed for the bias in the chunk loop
                           (one more task per input row of a chunk) rather than
                           while dy is packed */
    size_t acc_bytes, x_bytes, dy_bytes; /* a call's buffers (0: not needed) */
    size_t thread_bytes; /* each thread's scratch in the chunk loop */
    tconv_scratch *scratch; /* a call's buffers, kept between calls */
    union {
        bwd_weights_packed_plan packed;
        bwd_weights_rows_plan rows;
        bwd_weights_gemm_plan gemm;
    } s;
};

/* A tensor as the tiles read it: base and element strides of image, row,
 * pixel and channel. */
typedef struct bwd_weights_view {
    const char *at;
    int64_t n, h, w, c;
} bwd_weights_view;

/* One call's state, shared by its tasks. */
struct bwd_weights_run {
    const tconv_bwd_weights_driver *d;
    const char *x, *dy;  /* the caller's */
    char *dw;
    char *acc;           /* dw in the strategy's layout, summed chunk by chunk */
    char *xbuf, *dybuf;  /* x and dy packed or copied by prepare (NULL: not needed) */
    double *bias_rows;   /* [n][oh][F], or NULL without dbias: each dy row's sum per
                            filter, in double from ow = 0 on, which the strategy
                            writes while it reads dy and the driver adds up in
                            (image, row) order: one order for all three */
    bwd_weights_view xs, ys; /* x and dy where the tiles read them */
    int64_t chunk;       /* the chunk being run: input rows [row0, row0 + nrows) */
    int64_t row0, nrows;
    _Atomic int failed;  /* a thread found no scratch: the pass fails with ENOMEM */
};

/* The fewest pixels of reduction a chunk has, unless a strategy asks more. */
#define TCONV_BWD_CHUNK_MIN_PIXELS 256

/* Input rows per chunk of the reduction: as many as fill about half of L2
 * at row_bytes each (the rows' x and the part of dy one tile reads), but at
 * least min_pixels of reduction per tile call so that the accumulate step
 * (a tile's round trip through the accumulator) stays small beside it, and
 * at most all of them (batch * in_h). row_bytes is a double so that the
 * in-place strategy's score can ask for any problem without overflow. */
int64_t tconv_bwd_weights_chunk_rows(const tconv_problem *p, double row_bytes, int64_t min_pixels);

/* Cuts the reduction into chunks of tconv_bwd_weights_chunk_rows rows. Sets
 * d->chunk_rows and d->nchunks. */
void tconv_bwd_weights_plan_chunks(tconv_bwd_weights_driver *d, int64_t row_bytes,
                                   int64_t min_pixels);

/* This thread's d->thread_bytes of scratch for a chunk's tasks; NULL (and
 * the call marked failed) when there is none. */
void *tconv_bwd_weights_thread_scratch(bwd_weights_run *r);

/* acc[i*acc_stride + j] += temp[i*nr + j] for i < m, j < nr: a later
 * chunk's tile into the accumulator, elements of es bytes. */
static inline void tconv_bwd_weights_add_tile(int64_t es, char *acc, int64_t acc_stride,
                                              const char *temp, int64_t nr, int64_t m)
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

#endif /* TCONV_KERNELS_BWD_WEIGHTS_INTERNAL_H */
