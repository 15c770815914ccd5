/*
 * The scatter (input-stationary) forward mode; see kernels/fwd_driver.h.
 *
 * Per group, the columns are the (tap, filter) pairs in raster order,
 * j = (kh * k_w + kw) * Fg + m. A CHANNELS kernel computes an MR x NR tile of
 * x * w (MR input pixels, NR columns, K = Cg channels) into a small buffer,
 * and every element of the tile is added to the one output position its
 * input pixel reaches through its tap, if that position is inside the
 * (cropped) output. y starts from the bias, so bias-only positions are right
 * too. Each output's terms are added in a fixed order: results are
 * reproducible.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels/fwd_internal.h"
#include "runtime/threads.h"

/*
 * Consecutive columns whose output positions step evenly: the filters of one
 * tap (step y.c, same position) or, with one filter per group, the taps
 * kw, kw+1, ... of one row (step dilation_w along the row). A run is bounds-
 * checked once per pixel and added as a strided loop the compiler vectorises
 * (contiguous for NHWC filters, and for NCHW/NHWC rows of a single filter).
 */
typedef struct scatter_run {
    int64_t j, len;       /* columns j .. j + len - 1 of the block */
    int64_t dh, dw;       /* the first column's kh * dilation_h, kw * dilation_w */
    int64_t dw_step;      /* 0 (filters of one tap) or dilation_w (taps along a row) */
    int64_t y_off, y_step; /* the first column's offset in y (group 0) and the step */
} scatter_run;

/* Column j of a group: its tap and filter. */
static void column(const tconv_problem *p, int64_t j, int64_t *kh, int64_t *kw, int64_t *m)
{
    const int64_t tap = j / p->fg;
    *m = j - tap * p->fg;
    *kh = tap / p->k_w;
    *kw = tap - *kh * p->k_w;
}

/* The runs of block b (columns b*NR ..); returns how many (at most NR). */
static int64_t block_runs(const tconv_fwd_driver *d, int64_t b, scatter_run *runs)
{
    const tconv_problem *p = &d->p;
    const int64_t j0 = b * d->nr, nvalid = min64(d->nr, p->k_h * p->k_w * p->fg - j0);
    int64_t n = 0;
    for (int64_t j = 0; j < nvalid; j++) {
        int64_t kh, kw, m;
        column(p, j0 + j, &kh, &kw, &m);
        const int64_t dh = kh * p->dil_h, dw = kw * p->dil_w;
        const int64_t y_off = m * p->y.c + dh * p->y.h + dw * p->y.w;
        scatter_run *r = n ? &runs[n - 1] : NULL;
        if (r && r->dh == dh) {
            const int64_t k = r->len;
            if (k == 1) { /* the second column sets the run's step */
                const int64_t step_w = dw - r->dw;
                if (step_w == 0 || (step_w == p->dil_w && p->fg == 1)) {
                    r->dw_step = step_w;
                    r->y_step = y_off - r->y_off;
                    r->len = 2;
                    continue;
                }
            } else if (dw == r->dw + k * r->dw_step && y_off == r->y_off + k * r->y_step) {
                r->len++;
                continue;
            }
        }
        runs[n++] = (scatter_run){j, 1, dh, dw, 0, y_off, 0};
    }
    return n;
}

void tconv_fwd_scatter_pack(const tconv_fwd_driver *d, const void *w, const void *bias,
                            void *packed_w, void *packed_bias)
{
    const tconv_problem *p = &d->p;
    const int64_t ncols = p->k_h * p->k_w * p->fg;
    for (int64_t g = 0; g < p->groups; g++)
        for (int64_t b = 0; b < d->nblocks; b++)
            for (int64_t c = 0; c < p->cg; c++)
                for (int64_t jj = 0; jj < d->nr; jj++) {
                    const int64_t j = b * d->nr + jj;
                    const int64_t dst = ((g * d->nblocks + b) * p->cg + c) * d->nr + jj;
                    double v = 0.0;
                    if (j < ncols) {
                        int64_t kh, kw, m;
                        column(p, j, &kh, &kw, &m);
                        v = tconv_elem_load(d->p.dtype, w, tconv_w_index(p, g * p->cg + c, m, kh, kw));
                    }
                    tconv_elem_store(d->p.dtype, packed_w, dst, v);
                }
    /* NR zeros first (the kernel's bias argument must be vector-aligned),
     * then the F biases that y starts from. */
    for (int64_t j = 0; j < d->nr; j++) tconv_elem_store(d->p.dtype, packed_bias, j, 0.0);
    for (int64_t f = 0; f < p->filters; f++)
        tconv_elem_store(d->p.dtype, packed_bias, d->nr + f, bias ? tconv_elem_load(d->p.dtype, bias, f) : 0.0);
}

/* y[n][f][h][w] = bias[f] for the flat output rows (n, h) in [row0, row1),
 * in y's layout. */
static void fill_bias_rows(const tconv_fwd_driver *d, const void *packed_bias, char *y,
                           int64_t row0, int64_t row1)
{
    const tconv_problem *p = &d->p;
    for (int64_t row = row0; row < row1; row++) {
        const int64_t n = row / p->out_h, h = row % p->out_h;
        for (int64_t f = 0; f < p->filters; f++) {
            const double v = tconv_elem_load(d->p.dtype, packed_bias, d->nr + f);
            for (int64_t w = 0; w < p->out_w; w++)
                tconv_elem_store(d->p.dtype, y, tconv_y_index(p, n, f, h, w), v);
        }
    }
}

size_t tconv_fwd_scatter_work_bytes(const tconv_fwd_driver *d)
{
    return (size_t)(d->nblocks * d->nr) * sizeof(scatter_run) + (size_t)d->nblocks * sizeof(int64_t);
}

/* First k >= 0 with lo <= v0 + k * step (step > 0), as ceil((lo - v0) / step). */
static int64_t first_at_least(int64_t lo, int64_t v0, int64_t step)
{
    const int64_t num = lo - v0;
    return num <= 0 ? 0 : (num + step - 1) / step;
}

/* Adds the m rows of a tile (rows of NR results) to y, run by run. base_h,
 * base_w: each pixel's output position before its tap's offset; y_base: its
 * offset in y (filter 0 of group g is added through g_off); [lo_h, hi_h):
 * the output rows of its image this band owns (the rest is left alone). */
#define TCONV_SCATTER_TILE(T)                                                                   \
    for (int64_t i = 0; i < m; i++) {                                                           \
        const T *row = (const T *)tile + i * d->nr;                                             \
        for (int64_t r = 0; r < nruns; r++) {                                                   \
            const scatter_run *run = &runs[r];                                                  \
            const int64_t oh = base_h[i] + run->dh;                                             \
            if (oh < lo_h[i] || oh >= hi_h[i]) continue;                                        \
            const int64_t w0 = base_w[i] + run->dw;                                             \
            int64_t k0 = 0, k1 = run->len;                                                      \
            if (run->dw_step == 0) {                                                            \
                if ((uint64_t)w0 >= (uint64_t)p->out_w) continue;                               \
            } else {                                                                            \
                k0 = first_at_least(0, w0, run->dw_step);                                       \
                k1 = min64(k1, first_at_least(p->out_w, w0, run->dw_step));                     \
            }                                                                                   \
            T *yp = (T *)y + y_base[i] + g_off + run->y_off;                                    \
            const T *src = row + run->j;                                                        \
            const int64_t step = run->y_step;                                                   \
            for (int64_t k = k0; k < k1; k++) yp[k * step] += src[k];                           \
        }                                                                                       \
    }

static void scatter_tile(const tconv_fwd_driver *d, const scatter_run *runs, int64_t nruns,
                         int64_t m, const int64_t *base_h, const int64_t *base_w,
                         const int64_t *lo_h, const int64_t *hi_h, const int64_t *y_base,
                         int64_t g_off, const void *tile, void *y)
{
    const tconv_problem *p = &d->p;
    if (d->esize == 8) {
        TCONV_SCATTER_TILE(double)
    } else {
        TCONV_SCATTER_TILE(float)
    }
}

/*
 * Threads share the output by bands of flat output rows (image, row): a band
 * starts from the bias, then runs every tile whose input pixels reach it and
 * adds only what lands inside it. So each output's terms arrive from the
 * same tiles in the same order for every split (results do not change with
 * the thread count), at the price of computing the tiles that reach two
 * bands twice; bands are made tall enough to keep that small.
 */
typedef struct scatter_pass {
    const tconv_fwd_driver *d;
    const char *x;
    const void *packed_w, *packed_bias;
    void *y;
    const scatter_run *runs; /* NR slots per block */
    const int64_t *nruns;
    int64_t rows_per_band;
    atomic_int out_of_memory;
} scatter_pass;

/* Whether input row r (flat: image, row) reaches an output row in [lo, hi). */
static int reaches_band(const tconv_problem *p, int64_t r, int64_t lo, int64_t hi)
{
    const int64_t n = r / p->in_h, ih = r % p->in_h;
    const int64_t first = max64(0, ih * p->stride_h - p->crop_top);
    const int64_t last = min64(p->out_h - 1, ih * p->stride_h - p->crop_top + (p->k_h - 1) * p->dil_h);
    return first <= last && n * p->out_h + last >= lo && n * p->out_h + first < hi;
}

static void run_band(void *arg, int64_t band)
{
    scatter_pass *sp = arg;
    const tconv_fwd_driver *d = sp->d;
    const tconv_problem *p = &d->p;
    const int64_t mr = d->mr, nr = d->nr, es = d->esize;
    const int64_t nblk = p->groups * d->nblocks;
    const int64_t lo = band * sp->rows_per_band;
    const int64_t hi = min64(p->batch * p->out_h, lo + sp->rows_per_band);
    const void *zero_bias = sp->packed_bias; /* NR zeros, vector-aligned */
    const void *xs[TCONV_FWD_MAX_TILE];
    void *ys[TCONV_FWD_MAX_TILE];
    const char *x0[TCONV_FWD_MAX_TILE];
    int64_t base_h[TCONV_FWD_MAX_TILE], base_w[TCONV_FWD_MAX_TILE], y_base[TCONV_FWD_MAX_TILE];
    int64_t lo_h[TCONV_FWD_MAX_TILE], hi_h[TCONV_FWD_MAX_TILE];

    fill_bias_rows(d, sp->packed_bias, sp->y, lo, hi);
    /* The input rows from the first to the last that reaches the band (both
     * ends of a row's reach grow with the row; rows between that reach no
     * output at all, cropped away, add nothing). */
    const int64_t rows = p->batch * p->in_h;
    int64_t r0 = 0, r1 = rows;
    while (r0 < rows && !reaches_band(p, r0, lo, hi)) r0++;
    while (r1 > r0 && !reaches_band(p, r1 - 1, lo, hi)) r1--;
    if (r0 == r1) return;
    void *tile = tconv_thread_scratch((size_t)(mr * nr * es)); /* the MR x NR results */
    if (!tile) {
        atomic_store(&sp->out_of_memory, 1);
        return;
    }
    for (int64_t i = 0; i < mr; i++) ys[i] = (char *)tile + i * nr * es;

    /* The tiles holding those rows' pixels (tiles of MR pixels in input
     * order, fixed whatever the bands), each running every column block
     * while its pixels are in L1 (blocks hold K = Cg rows of NR weights). */
    const int64_t npix = p->batch * p->in_h * p->in_w;
    const int64_t first = r0 * p->in_w / mr * mr, last = min64(npix, r1 * p->in_w);
    for (int64_t t0 = first; t0 < last; t0 += mr) {
        const int64_t m = min64(mr, npix - t0);
        for (int64_t i = 0; i < m; i++) {
            const int64_t pix = t0 + i, n = pix / (p->in_h * p->in_w);
            const int64_t ih = pix / p->in_w % p->in_h, iw = pix % p->in_w;
            x0[i] = sp->x + pix * p->channels * es;
            base_h[i] = ih * p->stride_h - p->crop_top;
            base_w[i] = iw * p->stride_w - p->crop_left;
            y_base[i] = n * p->y.n + base_h[i] * p->y.h + base_w[i] * p->y.w;
            lo_h[i] = max64(0, lo - n * p->out_h);
            hi_h[i] = min64(p->out_h, hi - n * p->out_h);
        }
        for (int64_t blk = 0; blk < nblk; blk++) {
            const int64_t g = blk / d->nblocks, b = blk % d->nblocks;
            const int64_t nvalid = min64(nr, p->k_h * p->k_w * p->fg - b * nr);
            for (int64_t i = 0; i < mr; i++) xs[i] = x0[i < m ? i : m - 1] + g * p->cg * es;
            const tconv_uk_tap tap = {0, (const char *)sp->packed_w + blk * p->cg * nr * es};
            d->uk->channels(nvalid, 1, &tap, p->cg, xs, zero_bias, ys);
            scatter_tile(d, sp->runs + b * nr, sp->nruns[b], m, base_h, base_w, lo_h, hi_h,
                         y_base, g * p->fg * p->y.c, tile, sp->y);
        }
    }
}

tconv_status tconv_fwd_scatter_run(const tconv_fwd_driver *d, const char *x,
                                   const void *packed_w, const void *packed_bias, void *y,
                                   void *work)
{
    const tconv_problem *p = &d->p;
    /* Column runs of every block (the same for every group). */
    scatter_run *runs = work;
    int64_t *nruns = (int64_t *)(runs + d->nblocks * d->nr);
    for (int64_t b = 0; b < d->nblocks; b++) nruns[b] = block_runs(d, b, runs + b * d->nr);

    /* Bands: about four per thread, each at least four times as tall as the
     * rows one input row reaches (so at most about a quarter of the tiles
     * run twice). One thread: one band, no tile twice. */
    const int64_t out_rows = p->batch * p->out_h;
    const int64_t threads = tconv_parallel_width();
    const int64_t reach = (p->k_h - 1) * p->dil_h + 1; /* output rows of one input row */
    int64_t rows_per_band = out_rows;
    if (threads > 1)
        rows_per_band = max64((out_rows + 4 * threads - 1) / (4 * threads), 4 * reach);
    scatter_pass sp = {d, x, packed_w, packed_bias, y, runs, nruns, rows_per_band, 0};
    tconv_parallel_for((out_rows + rows_per_band - 1) / rows_per_band, run_band, &sp);
    return atomic_load(&sp.out_of_memory) ? TCONV_ENOMEM : TCONV_OK;
}
