/*
 * Backward-data with a PIXELS tile, for layers with few filters:
 *
 *   dx[n][c][ih][iw] = sum over r = (m, kh, kw) of w[c][m][kh][kw] * col[r][iw],
 *   col[r][iw] = dy[n][g*Fg + m][ih*s_h + kh*d_h - crop_top][iw*s_w + kw*d_w - crop_left]
 *
 * (zero where that position is outside dy). Per input row, a chunk of
 * columns at a time, the R = Fg * k_h * k_w rows of col are gathered from
 * dy into a buffer (rows an odd number of cache lines apart), and a PIXELS
 * tile computes MR pixels of the chunk x NR input channels over K = R,
 * storing straight into dx. The chunk's columns stay in L1 while every
 * channel block runs on them, and each loaded vector of columns feeds NR
 * FMAs. The CHANNELS tiles of bwd_data.c reduce over k_h taps of k_w * Fg
 * values each instead: 12 for pix2pix's 128->3 layer, a loop too short to
 * run near the peak.
 *
 * Each dx element is written once, by one tile, from the same sums however
 * the rows are shared out: results do not depend on the thread count.
 */
#include "kernels/bwd_data_columns.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/bwd_driver.h"
#include "kernels/elem.h"
#include "runtime/intmath.h"
#include "runtime/scratch.h"
#include "runtime/threads.h"

/* Bytes of a chunk's column rows: pix2pix 128->3's 48 rows of a 128-pixel
 * row (27 KiB with the slack) stay in L1 beside a tile's weights. */
#define COLUMN_CHUNK_BYTES (INT64_C(32) << 10)

struct tconv_bwd_data_columns {
    tconv_problem p;
    const tconv_ukernel *uk;
    int64_t es, mr, nr;
    int64_t cblocks; /* ceil(Cg / NR) */
    int64_t rows;    /* R = Fg * k_h * k_w */
    int64_t cols;    /* input columns per chunk */
    int64_t chunks;  /* chunks per input row */
    int64_t stride;  /* elements between column rows */
    tconv_scratch *scratch; /* the packed weights, kept between calls */
};

tconv_status tconv_bwd_data_columns_create(const tconv_problem *p, const tconv_ukernel *uk,
                                           tconv_bwd_data_columns **out)
{
    *out = NULL;
    tconv_bwd_data_columns *c = calloc(1, sizeof *c);
    if (!c) return TCONV_ENOMEM;
    c->p = *p;
    c->uk = uk;
    c->es = tconv_dtype_size(p->dtype);
    c->mr = uk->mr;
    c->nr = uk->nr;
    c->cblocks = (p->cg + c->nr - 1) / c->nr;
    int64_t bytes;
    if (!tconv_mul_ok(p->fg * p->k_h, p->k_w, &c->rows) ||
        !tconv_mul_ok(p->groups * c->cblocks * c->nr, c->rows, &bytes) ||
        !tconv_mul_ok(bytes, c->es, &bytes)) {
        free(c);
        return TCONV_EOVERFLOW;
    }
    /* Whole tiles, as many as the budget holds (one at least), no more than
     * the row has; then room for a last tile's reads. */
    c->cols = COLUMN_CHUNK_BYTES / (c->rows * c->es) / c->mr * c->mr - c->mr;
    c->cols = min64(max64(c->cols, c->mr), (p->in_w + c->mr - 1) / c->mr * c->mr);
    c->chunks = (p->in_w + c->cols - 1) / c->cols;
    c->stride = tconv_odd_lines_stride(c->cols + c->mr, c->es);
    if (!tconv_mul_ok(c->rows, c->stride * c->es, &bytes) ||
        !tconv_mul_ok(p->batch * p->in_h, c->chunks * p->groups, &bytes)) {
        free(c);
        return TCONV_EOVERFLOW;
    }
    c->scratch = tconv_scratch_new();
    if (!c->scratch) {
        free(c);
        return TCONV_ENOMEM;
    }
    *out = c;
    return TCONV_OK;
}

void tconv_bwd_data_columns_destroy(tconv_bwd_data_columns *c)
{
    if (c) tconv_scratch_delete(c->scratch);
    free(c);
}

void tconv_bwd_data_columns_describe(const tconv_bwd_data_columns *c, char *buf, size_t n)
{
    snprintf(buf, n, "%s columns=%lld, %lld columns a chunk", c->uk->name, (long long)c->rows,
             (long long)c->cols);
}

typedef struct columns_run {
    const tconv_bwd_data_columns *c;
    const char *dy, *w;
    char *packed;
    char *dx;
    _Atomic int failed; /* a thread found no scratch */
} columns_run;

/* (group, channel block) pairs [begin, end): per column row r, the NR
 * channels' weights (zeros past Cg). A few thousand elements on the
 * layers this strategy is for, so element by element. */
static void pack_blocks(void *arg, int64_t begin, int64_t end)
{
    const columns_run *r = arg;
    const tconv_bwd_data_columns *c = r->c;
    const tconv_problem *p = &c->p;
    for (int64_t gb = begin; gb < end; gb++) {
        const int64_t g = gb / c->cblocks, ch0 = gb % c->cblocks * c->nr;
        int64_t at = gb * c->rows * c->nr;
        for (int64_t m = 0; m < p->fg; m++)
            for (int64_t kh = 0; kh < p->k_h; kh++)
                for (int64_t kw = 0; kw < p->k_w; kw++)
                    for (int64_t j = 0; j < c->nr; j++, at++) {
                        const int64_t ch = ch0 + j;
                        const double v =
                            ch < p->cg ? tconv_elem_load(p->dtype, r->w,
                                                         tconv_w_index(p, g * p->cg + ch, m, kh, kw))
                                       : 0.0;
                        tconv_elem_store(p->dtype, r->packed, at, v);
                    }
    }
}

/* The column rows of input row ih of image n, group g, columns [j0, j0 +
 * count), from dy; zeros where a position is outside dy, and in the
 * columns a last, partial tile reads past the chunk. */
static void gather_columns(const tconv_bwd_data_columns *c, const char *dy, int64_t n, int64_t g,
                           int64_t ih, int64_t j0, int64_t count, char *col)
{
    const tconv_problem *p = &c->p;
    const int64_t es = c->es, width = (count + c->mr - 1) / c->mr * c->mr;
    int64_t r = 0;
    for (int64_t m = 0; m < p->fg; m++)
        for (int64_t kh = 0; kh < p->k_h; kh++) {
            const int64_t oh = ih * p->stride_h + kh * p->dil_h - p->crop_top;
            for (int64_t kw = 0; kw < p->k_w; kw++, r++) {
                char *row = col + r * c->stride * es;
                const int64_t w0 = j0 * p->stride_w + kw * p->dil_w - p->crop_left;
                int64_t k0 = 0, k1 = 0;
                if (oh >= 0 && oh < p->out_h) { /* 0 <= w0 + k * s_w < out_w */
                    k0 = min64(count, max64(0, ceil_div64(-w0, p->stride_w)));
                    k1 = max64(k0, min64(count, ceil_div64(p->out_w - w0, p->stride_w)));
                }
                memset(row, 0, (size_t)(k0 * es));
                if (k1 > k0)
                    tconv_copy_run(es, row + k0 * es, 1,
                                   dy + tconv_y_index(p, n, g * p->fg + m, oh,
                                                      w0 + k0 * p->stride_w) * es,
                                   p->stride_w * p->y.w, k1 - k0);
                memset(row + k1 * es, 0, (size_t)((width - k1) * es));
            }
        }
}

/* Units [begin, end) of the flat (image, input row, group, chunk) order. */
static void run_units(void *arg, int64_t begin, int64_t end)
{
    columns_run *r = arg;
    const tconv_bwd_data_columns *c = r->c;
    const tconv_problem *p = &c->p;
    const int64_t es = c->es, mr = c->mr, nr = c->nr;
    char *col = tconv_thread_scratch((size_t)(c->rows * c->stride * es));
    if (!col) {
        atomic_store(&r->failed, 1);
        return;
    }
    for (int64_t u = begin; u < end; u++) {
        const int64_t chunk = u % c->chunks, g = u / c->chunks % p->groups;
        const int64_t row = u / c->chunks / p->groups, n = row / p->in_h, ih = row % p->in_h;
        const int64_t j0 = chunk * c->cols, count = min64(c->cols, p->in_w - j0);
        gather_columns(c, r->dy, n, g, ih, j0, count, col);
        for (int64_t t = 0; t * mr < count; t++) {
            const int64_t m = min64(mr, count - t * mr);
            for (int64_t b = 0; b < c->cblocks; b++) {
                const tconv_uk_tap tap = {0, r->packed + (g * c->cblocks + b) * c->rows * nr * es};
                const int64_t ch0 = g * p->cg + b * nr;
                c->uk->pixels(m, min64(nr, p->cg - b * nr), 1, &tap, c->rows, c->stride,
                              col + t * mr * es, tconv_bwd_zero_bias,
                              r->dx + tconv_x_index(p, n, ch0, ih, j0 + t * mr) * es, p->x.w,
                              p->x.c);
            }
        }
    }
}

tconv_status tconv_bwd_data_columns_run(const tconv_bwd_data_columns *c, const void *dy,
                                        const void *w, void *dx)
{
    const tconv_problem *p = &c->p;
    const size_t packed_bytes = (size_t)(p->groups * c->cblocks * c->rows * c->nr * c->es);
    int kept;
    char *packed = tconv_scratch_take(c->scratch, packed_bytes, &kept);
    if (!packed) return TCONV_ENOMEM;
    columns_run r = {c, dy, w, packed, dx, 0};
    tconv_parallel_ranges(p->groups * c->cblocks, 1, pack_blocks, &r);
    tconv_parallel_ranges(p->batch * p->in_h * p->groups * c->chunks, 1, run_units, &r);
    tconv_scratch_give(c->scratch, packed, kept);
    return atomic_load(&r.failed) ? TCONV_ENOMEM : TCONV_OK;
}
