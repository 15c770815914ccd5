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
 *
 * A PIXELS kernel (few filters, hence few columns) turns the tile round:
 * MR consecutive pixels of an input row as a vector x NR columns. Each
 * input row's channels are first copied, a chunk of columns at a time, into
 * rows of their own (from any layout of x), and the kernel's results for
 * the whole chunk go into a column buffer, one row per column, whose rows
 * are then added along the output rows they reach, stride_w apart. The
 * chunk's channels stay in L1 for all the column blocks of a tile, and each
 * loaded input vector feeds NR FMAs. (The gather mode's PIXELS tiles load
 * each input vector once per phase and tap, and the phases mode's tile,
 * which loads it once for all phases, broadcasts a weight for every FMA:
 * on an AVX2 AMD EPYC this ran pix2pix 128->3 in NCHW ~1.3x faster than
 * the phases mode, DCGAN 64->3 at batch 16 1.5-1.9x faster than gather.)
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/fwd_internal.h"
#include "runtime/checked.h"
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
 * in y's layout: a strided run per filter and row. */
#define TCONV_FILL_BIAS_ROWS(T)                                                                 \
    for (int64_t row = row0; row < row1; row++) {                                               \
        const int64_t n = row / p->out_h, h = row % p->out_h;                                   \
        for (int64_t f = 0; f < p->filters; f++) {                                              \
            const T v = ((const T *)packed_bias)[d->nr + f];                                    \
            T *yr = (T *)y + tconv_y_index(p, n, f, h, 0);                                      \
            for (int64_t w = 0; w < p->out_w; w++) yr[w * p->y.w] = v;                          \
        }                                                                                       \
    }

static void fill_bias_rows(const tconv_fwd_driver *d, const void *packed_bias, char *y,
                           int64_t row0, int64_t row1)
{
    const tconv_problem *p = &d->p;
    if (d->esize == 8) {
        TCONV_FILL_BIAS_ROWS(double)
    } else {
        TCONV_FILL_BIAS_ROWS(float)
    }
}
#undef TCONV_FILL_BIAS_ROWS

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

/* Bytes of a thread's chunk buffers (the chunk's channel rows or its
 * column rows, whichever are more), by which the chunk's columns are
 * chosen: a whole row of pix2pix 128->3 (128 pixels of 128 channels, 72
 * KiB with the slack) is one chunk, and the buffers stay in L2. A tile
 * reads only its MR columns of them, one line per channel. */
#define SCATTER_CHUNK_BYTES (INT64_C(128) << 10)

/* Elements of a thread's buffers for the PIXELS tiles: the chunk's
 * channel rows, its column rows and the phase rows of add_columns; -1 when
 * that overflows. */
static int64_t scatter_scratch_elems(const tconv_fwd_driver *d)
{
    const tconv_problem *p = &d->p;
    int64_t rows, phase_elems, elems, bytes;
    if (!tconv_mul_ok(d->nblocks * d->nr + p->cg, d->sc_stride, &rows) ||
        !tconv_mul_ok(p->stride_w, d->sc_cols + d->sc_qspan, &phase_elems) ||
        !tconv_add_ok(rows, phase_elems, &elems) || !tconv_mul_ok(elems, d->esize, &bytes))
        return -1;
    return elems;
}

tconv_status tconv_fwd_scatter_plan(tconv_fwd_driver *d)
{
    d->sc_cols = d->sc_stride = d->sc_rows = d->sc_qspan = 0;
    if (d->uk->family != TCONV_UK_PIXELS) return TCONV_OK;
    const tconv_problem *p = &d->p;
    const int64_t mr = d->mr;
    const int64_t rows = max64(p->cg, d->nblocks * d->nr); /* channel or column rows */
    /* Columns a chunk: as many whole tiles as the budget holds (one tile at
     * least), no more than the row has; or, where that holds two rows or
     * more, whole rows (DCGAN 64->3's rows of 32 pixels: one copy a channel
     * for several rows, where a copy a row was a third of the pass). */
    const int64_t budget = max64(SCATTER_CHUNK_BYTES / (rows * d->esize) / mr * mr - mr, mr);
    d->sc_rows = budget >= 2 * p->in_w ? budget / p->in_w : 1;
    d->sc_cols = d->sc_rows > 1 ? p->in_w : min64(budget, (p->in_w + mr - 1) / mr * mr);
    /* The chunk's pixels and room for a tile's reads past the last. */
    d->sc_stride = tconv_odd_lines_stride(d->sc_rows * d->sc_cols + mr, d->esize);
    /* The phase rows of add_columns: s_w rows of a row's columns and the
     * span of the taps' phase offsets. */
    const int64_t e_max = (p->k_w - 1) * p->dil_w - p->crop_left;
    d->sc_qspan = floor_div64(e_max, p->stride_w) - floor_div64(-p->crop_left, p->stride_w);
    if (scatter_scratch_elems(d) < 0) return TCONV_EOVERFLOW;
    return TCONV_OK;
}

/* Adds the column buffer of a chunk (the rows of columns j = (kh * k_w +
 * kw) * Fg + m of the group, `count` results each, stride apart) to y.
 * Column j of input row ih and chunk column k lands on output row ih * s_h
 * - crop_top + kh * dil_h, column (j0 + k) * s_w + e with e = kw * dil_w -
 * crop_left = q * s_w + rw: on position u = j0 + k + q of the row's output
 * phase rw. So per filter, tap row and phase, the columns are first summed
 * into the phase's row (adds along contiguous rows, which vectorise), and
 * the phase rows added into y once (two phases interleaved with stride 2,
 * in NCHW: vectorised too). Adding each column into y element by element,
 * s_w apart, took longer than the GEMM on DCGAN 64->3 (64 channels).
 * Only the band's rows [lo_h, hi_h) of the image are touched. */
#define TCONV_ADD_COLUMNS(T)                                                                    \
    const int64_t s = p->stride_w, len = count + d->sc_qspan;                                  \
    const int64_t qmin = floor_div64(-p->crop_left, s), u0 = j0 + qmin;                        \
    T *acc = (T *)phase_rows;                                                                   \
    for (int64_t m = 0; m < p->fg; m++)                                                         \
        for (int64_t kh = 0; kh < p->k_h; kh++) {                                               \
            const int64_t oh = ih * p->stride_h - p->crop_top + kh * p->dil_h;                 \
            if (oh < lo_h || oh >= hi_h) continue;                                              \
            for (int64_t i = 0; i < s * len; i++) acc[i] = 0;                                   \
            for (int64_t kw = 0; kw < p->k_w; kw++) {                                           \
                const int64_t e = kw * p->dil_w - p->crop_left, q = floor_div64(e, s);          \
                T *dst = acc + (e - q * s) * len + (q - qmin);                                  \
                const T *src = (const T *)cols + ((kh * p->k_w + kw) * p->fg + m) * stride;     \
                for (int64_t k = 0; k < count; k++) dst[k] += src[k];                           \
            }                                                                                   \
            /* Phase rw's position u is output column u * s + rw: inside   \
             * the output for 0 <= u <= (out_w - 1 - rw) / s. */                                \
            T *yr = (T *)y + tconv_y_index(p, n, f0 + m, oh, 0);                                \
            const int64_t i0 = max64(0, -u0);                                                   \
            int64_t rw = 0;                                                                     \
            if (s == 2 && p->y.w == 1) {                                                        \
                const int64_t i1 = min64(len, floor_div64(p->out_w - 2, 2) + 1 - u0);                     \
                T *y2 = yr + 2 * (u0 + i0); /* output column of position i0 */                  \
                for (int64_t i = i0; i < i1; i++) {                                             \
                    y2[2 * (i - i0)] += acc[i];                                                 \
                    y2[2 * (i - i0) + 1] += acc[len + i];                                       \
                }                                                                               \
                for (int64_t i = max64(i0, i1); i < min64(len, (p->out_w - 1) / 2 + 1 - u0); i++)   \
                    y2[2 * (i - i0)] += acc[i];                                                 \
                rw = 2;                                                                         \
            }                                                                                   \
            for (; rw < s; rw++) {                                                              \
                const int64_t i1 = min64(len, floor_div64(p->out_w - 1 - rw, s) + 1 - u0);               \
                for (int64_t i = i0; i < i1; i++)                                               \
                    yr[((u0 + i) * s + rw) * p->y.w] += acc[rw * len + i];                      \
            }                                                                                   \
        }

static void add_columns(const tconv_fwd_driver *d, const void *cols, int64_t stride,
                        int64_t count, int64_t n, int64_t f0, int64_t ih, int64_t j0,
                        int64_t lo_h, int64_t hi_h, void *phase_rows, void *y)
{
    const tconv_problem *p = &d->p;
    if (d->esize == 8) {
        TCONV_ADD_COLUMNS(double)
    } else {
        TCONV_ADD_COLUMNS(float)
    }
}
#undef TCONV_ADD_COLUMNS

/* The GEMM of a chunk: `count` pixels of the copied channel rows (whole
 * tiles; a last, partial one reads zeros past the chunk) x every column
 * block of group g, into the column rows. */
static void chunk_columns(const scatter_pass *sp, int64_t g, char *xrows, int64_t count,
                          char *cols)
{
    const tconv_fwd_driver *d = sp->d;
    const tconv_problem *p = &d->p;
    const int64_t mr = d->mr, nr = d->nr, es = d->esize, stride = d->sc_stride;
    const int64_t ncols = p->k_h * p->k_w * p->fg, tiles = (count + mr - 1) / mr;
    for (int64_t c = 0; c < p->cg; c++)
        memset(xrows + (c * stride + count) * es, 0, (size_t)((tiles * mr - count) * es));
    for (int64_t t = 0; t < tiles; t++) {
        const int64_t m = min64(mr, count - t * mr);
        for (int64_t b = 0; b < d->nblocks; b++) {
            const tconv_uk_tap tap = {
                0, (const char *)sp->packed_w + (g * d->nblocks + b) * p->cg * nr * es};
            d->uk->pixels(m, min64(nr, ncols - b * nr), 1, &tap, p->cg, stride,
                          xrows + t * mr * es, sp->packed_bias,
                          cols + (b * nr * stride + t * mr) * es, 1, stride);
        }
    }
}

/* A chunk: input row r (flat: image, row) and the sc_rows - 1 after it in
 * its image (or fewer: the band's or the image's last rows), group g,
 * columns from j0. */
typedef struct chunk {
    int64_t r, g, j0, nrows, count;
} chunk;

static void chunk_size(const tconv_fwd_driver *d, chunk *c, int64_t r1)
{
    const tconv_problem *p = &d->p;
    c->nrows = min64(d->sc_rows, min64(r1 - c->r, p->in_h - c->r % p->in_h));
    c->count = min64(d->sc_cols, p->in_w - c->j0);
}

/* The chunk after c (columns, then groups, then rows); 0 past row r1. */
static int next_chunk(const tconv_fwd_driver *d, chunk *c, int64_t r1)
{
    const tconv_problem *p = &d->p;
    if ((c->j0 += d->sc_cols) >= p->in_w) {
        c->j0 = 0;
        if (++c->g == p->groups) {
            c->g = 0;
            c->r += c->nrows;
        }
    }
    if (c->r >= r1) return 0;
    chunk_size(d, c, r1);
    return 1;
}

static const char *chunk_source(const scatter_pass *sp, const chunk *c)
{
    const tconv_problem *p = &sp->d->p;
    return sp->x + tconv_x_index(p, c->r / p->in_h, c->g * p->cg, c->r % p->in_h, c->j0) *
                       sp->d->esize;
}

/* run_band with a PIXELS tile: the input rows [r0, r1) (flat: image, row)
 * that reach the band, a chunk at a time (sc_rows whole rows of an image,
 * or sc_cols columns of one row), group by group. */
static void run_band_pixels(scatter_pass *sp, int64_t lo, int64_t hi, int64_t r0, int64_t r1)
{
    const tconv_fwd_driver *d = sp->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->esize, stride = d->sc_stride;
    char *xrows = tconv_thread_scratch((size_t)(scatter_scratch_elems(d) * es));
    if (!xrows) {
        atomic_store(&sp->out_of_memory, 1);
        return;
    }
    char *cols = xrows + p->cg * stride * es;
    char *phase_rows = cols + d->nblocks * d->nr * stride * es;
    /* Rows of a planar x follow each other: one run a channel per chunk. */
    const int rows_adjacent = p->x.w == 1 && p->x.h == p->in_w;
    chunk c = {r0, 0, 0, 0, 0};
    chunk_size(d, &c, r1);
    for (int more = 1; more;) {
        const int64_t n = c.r / p->in_h, ih = c.r % p->in_h;
        const char *src = chunk_source(sp, &c);
        if (rows_adjacent || c.nrows == 1)
            tconv_copy_runs(d->uk->transposes, es, xrows, stride, 1, src, p->x.c, p->x.w, c.nrows * c.count, p->cg);
        else
            for (int64_t i = 0; i < c.nrows; i++)
                tconv_copy_runs(d->uk->transposes, es, xrows + i * c.count * es, stride, 1, src + i * p->x.h * es,
                                p->x.c, p->x.w, c.count, p->cg);
        const chunk now = c;
        more = next_chunk(d, &c, r1);
        chunk_columns(sp, now.g, xrows, now.nrows * now.count, cols);
        const int64_t lo_h = max64(0, lo - n * p->out_h), hi_h = min64(p->out_h, hi - n * p->out_h);
        for (int64_t i = 0; i < now.nrows; i++)
            add_columns(d, cols + i * now.count * es, stride, now.count, n, now.g * p->fg, ih + i,
                        now.j0, lo_h, hi_h, phase_rows, sp->y);
    }
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
    if (d->uk->family == TCONV_UK_PIXELS) {
        run_band_pixels(sp, lo, hi, r0, r1);
        return;
    }
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
