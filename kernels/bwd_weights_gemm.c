/*
 * Backward-weights on the GEMM tiles, x and dy read in place: see
 * bwd_weights_gemm.h.
 *
 * Buffers of one call (one scratch block, kept between calls):
 *   acc    [g][kh][kw block][M][N]: dw in the tile's orientation, M rows of
 *          the broadcast side (channels, or (kw, filter) pairs) x N columns
 *          of the vector side;
 *   xs, ys x and dy channel-innermost when the caller's layout is not;
 *   bias   [n][oh][F] sums of each dy row, in double.
 * Per thread (tconv_thread_scratch): the runs of the current (g, kh, kw
 * block), the same shifted to one tile, the padded dy of the edge pixels,
 * and a tile for blocks that overlap the previous one.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/bwd_driver.h"
#include "kernels/bwd_weights_common.h"
#include "kernels/bwd_weights_gemm.h"
#include "kernels/elem.h"
#include "kernels/transpose.h"
#include "runtime/checked.h"
#include "runtime/intmath.h"
#include "runtime/scratch.h"
#include "runtime/threads.h"

struct tconv_bwd_weights_gemm {
    tconv_problem p;
    const tconv_ukernel *uk;
    int64_t es, mr, nr;
    int x_rows;          /* x is the broadcast side (M = Cg); else dy is (M = ld) */
    int64_t fold;        /* tap columns per dy operand row: k_w or 1 */
    int64_t kwb;         /* k_w / fold: tap column blocks per kh */
    int64_t ld;          /* dy values per operand row: fold * Fg */
    int64_t m, n;        /* the product of one (g, kh, kw block) */
    int64_t mblocks, nblocks, tiles; /* tiles of one chunk */
    int64_t iwa, iwb;    /* fold: the input columns all of whose taps lie in dy */
    int64_t nedges;      /* fold: the other columns whose taps reach dy, edge_iw[] */
    int64_t *edge_iw;
    int x_copy, dy_copy; /* copied channel-innermost first */
    int64_t rows, chunk_rows, nchunks;
    int64_t max_runs;    /* runs of one tile call */
    size_t thread_bytes; /* per-thread scratch */
    tconv_scratch *scratch;
};

/* Folding needs the k_w taps of a pixel to be k_w * Fg contiguous dy values
 * (true of dy channel-innermost, as read or as copied). */
static int foldable(const tconv_problem *p) { return p->groups == 1 && p->dil_w == 1 && p->k_w > 1; }

/* With folding: the input columns [*iwa, *iwb) whose k_w taps all land in
 * dy's columns, and how many of the others land there at least once. */
static int64_t fold_edges(const tconv_problem *p, int64_t *iwa, int64_t *iwb, int64_t *edge_iw)
{
    const int64_t sw = p->stride_w, cl = p->crop_left;
    *iwa = clamp64(ceil_div64(cl, sw), 0, p->in_w);
    *iwb = clamp64(floor_div64(p->out_w - p->k_w + cl, sw) + 1, *iwa, p->in_w);
    /* The columns some tap of which lands in dy, 0 < iw*sw - cl + k_w and
     * iw*sw - cl < out_w, are the interval [lo, hi); the edges are those
     * outside [iwa, iwb): at most two intervals, found without a loop over
     * in_w (which the planner's scoring calls this for, for any in_w). */
    const int64_t lo = max64(floor_div64(cl - p->k_w, sw) + 1, 0);
    const int64_t hi = min64(ceil_div64(p->out_w + cl, sw), p->in_w);
    const int64_t part[2][2] = {{lo, min64(hi, *iwa)}, {max64(lo, *iwb), hi}};
    int64_t count = 0;
    for (int k = 0; k < 2; k++)
        for (int64_t iw = part[k][0]; iw < part[k][1]; iw++) {
            if (edge_iw) edge_iw[count] = iw;
            count++;
        }
    return count;
}

typedef struct shape_choice {
    int x_rows;
    int64_t fold;
    double fill; /* 0: the tile does not fit */
} shape_choice;

/* The orientation and folding that fill uk's tiles best. Folding costs a
 * run per edge pixel (a copy of its few dy values, a kernel call of one
 * step: about a pixel's time more), counted in its fill, and must win by 5%;
 * at equal fill x is the broadcast side. */
static shape_choice choose_shape(const tconv_problem *p, const tconv_ukernel *uk)
{
    shape_choice best = {1, 1, 0.0};
    for (int fold = 0; fold <= foldable(p); fold++) {
        const int64_t ld = (fold ? p->k_w : 1) * p->fg;
        double edge_cost = 1.0, margin = 1.0;
        if (fold) {
            int64_t iwa, iwb;
            const int64_t edges = fold_edges(p, &iwa, &iwb, NULL);
            edge_cost = (double)p->in_w / (double)(p->in_w + edges);
            margin = 1.05;
        }
        for (int x_rows = 1; x_rows >= 0; x_rows--) {
            const int64_t m = x_rows ? p->cg : ld, n = x_rows ? ld : p->cg;
            if (m < uk->mr || n < uk->nr) continue;
            const double f = tconv_tile_fill(m, uk->mr) * tconv_tile_fill(n, uk->nr) * edge_cost;
            if (f > best.fill * margin) best = (shape_choice){x_rows, fold ? p->k_w : 1, f};
        }
    }
    return best;
}

double tconv_bwd_weights_gemm_score(const tconv_problem *p, const tconv_ukernel *uk, int64_t lanes)
{
    if (uk->family != TCONV_UK_GEMM || uk->dtype != p->dtype) return 0.0;
    const shape_choice s = choose_shape(p, uk);
    /* Loads per FMA as the forward CHANNELS tiles (dispatch/select.c). */
    const double nv = (double)(uk->nr >= lanes ? uk->nr / lanes : 1);
    const double loads_per_fma = (nv + (double)uk->mr) / ((double)uk->mr * nv);
    const double bound = loads_per_fma <= 0.75 ? 1.0 : 0.75 / loads_per_fma;
    /* A channel-planar x or dy is copied first: one more pass over it. */
    const double copies = (p->x.c != 1 ? 0.9 : 1.0) * (p->y.c != 1 ? 0.85 : 1.0);
    /* Each reduction step moves both operands one pixel on: with many
     * channels or filters a page or more (8 KiB per step on U-Net's
     * 1024 -> 512 layer, f32), and the first-level TLB misses. And every
     * input row is a run of in_w steps that costs a few cycles to start:
     * DCGAN's 512 -> 256 layer (4x4 inputs, 4 KiB per step) runs at 0.8 of
     * the packing drivers' speed, pix2pix's 1024 -> 512 (4x4, 8 KiB) at
     * 0.55, U-Net's 1024 -> 512 (28 wide, 8 KiB) at 0.8, its 512 -> 256 (52
     * wide, 4 KiB) at 1.25 (Xeon 6, 2026-12). */
    const double es = (double)tconv_dtype_size(p->dtype);
    const double step = es * ((double)p->channels + (double)p->stride_w * (double)p->filters);
    const double pages = 1.0 / (1.0 + 0.1 * step / 4096.0);
    const double runs = (double)p->in_w / ((double)p->in_w + 2.0);
    return 0.95 * s.fill * bound * copies * pages * runs;
}

tconv_status tconv_bwd_weights_gemm_create(const tconv_problem *p, const tconv_ukernel *uk,
                                    tconv_bwd_weights_gemm **out)
{
    *out = NULL;
    if (uk->family != TCONV_UK_GEMM || uk->dtype != p->dtype || uk->mr < 1 || uk->nr < 1)
        return TCONV_EUNSUPPORTED;
    const shape_choice s = choose_shape(p, uk);
    if (s.fill <= 0.0) return TCONV_EUNSUPPORTED;
    tconv_bwd_weights_gemm *d = calloc(1, sizeof *d);
    if (!d) return TCONV_ENOMEM;
    d->p = *p;
    d->uk = uk;
    d->es = tconv_dtype_size(p->dtype);
    d->mr = uk->mr;
    d->nr = uk->nr;
    d->x_rows = s.x_rows;
    d->fold = s.fold;
    d->kwb = p->k_w / s.fold;
    d->ld = s.fold * p->fg;
    d->m = s.x_rows ? p->cg : d->ld;
    d->n = s.x_rows ? d->ld : p->cg;
    d->mblocks = (d->m + d->mr - 1) / d->mr;
    d->nblocks = (d->n + d->nr - 1) / d->nr;
    d->x_copy = p->x.c != 1;
    d->dy_copy = p->y.c != 1 || (d->fold > 1 && p->y.w != p->filters);
    d->rows = p->batch * p->in_h;
    int64_t elems;
    /* acc, the copies and the bias rows must be indexable (x and dy are:
     * dispatch/ checked their sizes). */
    if (!tconv_mul_ok(p->groups * p->k_h * d->kwb, d->m * d->n, &elems) ||
        !tconv_mul_ok(elems, d->es, &elems) ||
        !tconv_mul_ok(p->groups * p->k_h * d->kwb, d->mblocks * d->nblocks, &d->tiles) ||
        !tconv_mul_ok(p->batch * p->out_h, p->filters * 8, &elems)) {
        free(d);
        return TCONV_EOVERFLOW;
    }
    if (d->fold > 1) {
        d->nedges = fold_edges(p, &d->iwa, &d->iwb, NULL);
        d->edge_iw = malloc((size_t)(d->nedges + 1) * sizeof *d->edge_iw);
        if (!d->edge_iw) {
            free(d);
            return TCONV_ENOMEM;
        }
        fold_edges(p, &d->iwa, &d->iwb, d->edge_iw);
    }
    /* Chunk: per input row, its x (C channels) and the s_h dy rows below it. */
    const int64_t row_bytes = (p->in_w * p->channels + p->stride_h * p->out_w * p->filters) * d->es;
    d->chunk_rows = tconv_bwd_chunk_rows(p, row_bytes, d->rows);
    d->nchunks = (d->rows + d->chunk_rows - 1) / d->chunk_rows;
    d->max_runs = d->chunk_rows * (1 + d->nedges);
    const size_t runs = (size_t)d->max_runs * sizeof(tconv_uk_run);
    d->thread_bytes = 2 * runs + (size_t)(d->max_runs * d->ld * d->es) + (size_t)(d->mr * d->nr * d->es);
    d->scratch = tconv_scratch_new();
    if (!d->scratch) {
        tconv_bwd_weights_gemm_destroy(d);
        return TCONV_ENOMEM;
    }
    *out = d;
    return TCONV_OK;
}

void tconv_bwd_weights_gemm_destroy(tconv_bwd_weights_gemm *d)
{
    if (!d) return;
    tconv_scratch_delete(d->scratch);
    free(d->edge_iw);
    free(d);
}

void tconv_bwd_weights_gemm_describe(const tconv_bwd_weights_gemm *d, char *buf, size_t n)
{
    snprintf(buf, n, "%s %s rows, %lldx%lld per tap%s%s%s chunks=%lldx%lld rows", d->uk->name,
             d->x_rows ? "channels" : "filters", (long long)d->m, (long long)d->n,
             d->fold > 1 ? " (kw folded)" : "", d->x_copy ? ", x copied" : "",
             d->dy_copy ? ", dy copied" : "", (long long)d->nchunks, (long long)d->chunk_rows);
}

typedef struct run_ctx {
    const tconv_bwd_weights_gemm *d;
    const char *x, *dy; /* the caller's */
    char *dw, *acc, *xcopy, *dycopy;
    double *bias;       /* [n][oh][F], or NULL */
    /* x and dy as the tiles read them, channel-innermost: base and element
     * strides of image, row and pixel. */
    const char *xs, *ys;
    int64_t xn, xh, xw, yn, yh, yw;
    int64_t chunk;      /* the chunk being run */
    _Atomic int failed; /* a thread found no scratch */
} run_ctx;

/* Images [begin, end) of x or dy into the channel-innermost copy. */
static void copy_images(const run_ctx *r, int64_t begin, int64_t end, int dy)
{
    const tconv_problem *p = &r->d->p;
    const int64_t es = r->d->es;
    const int64_t h = dy ? p->out_h : p->in_h, w = dy ? p->out_w : p->in_w;
    const int64_t c = dy ? p->filters : p->channels;
    const tconv_data_strides st = dy ? p->y : p->x;
    const char *src = dy ? r->dy : r->x;
    char *dst = dy ? r->dycopy : r->xcopy;
    for (int64_t n = begin; n < end; n++)
        for (int64_t row = 0; row < h; row++)
            tconv_copy_runs(es, dst + ((n * h + row) * w) * c * es, 1, c,
                            src + (n * st.n + row * st.h) * es, st.c, st.w, w, c);
}
static void copy_x(void *arg, int64_t begin, int64_t end) { copy_images(arg, begin, end, 0); }
static void copy_dy(void *arg, int64_t begin, int64_t end) { copy_images(arg, begin, end, 1); }

/*
 * The runs of (group g, filter row kh, tap column block kb) over the chunk's
 * input rows [row0, row0 + nrows), with x and dy as the tiles' a and b in
 * the plan's orientation, at the product's row and column 0. Edge pixels
 * of a folded plan read their dy from `pad` (ld values each, zero where a
 * tap leaves dy). Returns the number of runs.
 */
static int64_t build_runs(const run_ctx *r, int64_t g, int64_t kh, int64_t kb, int64_t row0,
                          int64_t nrows, tconv_uk_run *runs, char *pad)
{
    const tconv_bwd_weights_gemm *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, sw = p->stride_w, cl = p->crop_left;
    const int64_t kw = kb * d->fold; /* the block's first tap column */
    int64_t count = 0;
    for (int64_t k = 0; k < nrows; k++) {
        const int64_t n = (row0 + k) / p->in_h, ih = (row0 + k) % p->in_h;
        const int64_t oh = ih * p->stride_h + kh * p->dil_h - p->crop_top;
        if (oh < 0 || oh >= p->out_h) continue;
        const char *xrow = r->xs + (n * r->xn + ih * r->xh + g * p->cg) * es;
        const char *yrow = r->ys + (n * r->yn + oh * r->yh + g * p->fg) * es;
        int64_t iw0, iw1; /* the run read in place */
        if (d->fold > 1) {
            iw0 = d->iwa;
            iw1 = d->iwb;
        } else {
            const int64_t off = kw * p->dil_w - cl; /* ow = iw*s_w + off */
            iw0 = clamp64(ceil_div64(-off, sw), 0, p->in_w);
            iw1 = clamp64(floor_div64(p->out_w - 1 - off, sw) + 1, iw0, p->in_w);
        }
        if (iw1 > iw0) {
            const char *xa = xrow + iw0 * r->xw * es;
            const char *ya = yrow + (iw0 * sw + kw * p->dil_w - cl) * r->yw * es;
            runs[count++] = d->x_rows ? (tconv_uk_run){xa, ya, iw1 - iw0}
                                      : (tconv_uk_run){ya, xa, iw1 - iw0};
        }
        for (int64_t e = 0; e < d->nedges; e++) { /* folded edge pixels, one run each */
            const int64_t iw = d->edge_iw[e];
            char *dst = pad + count * d->ld * es;
            for (int64_t t = 0; t < p->k_w; t++) {
                const int64_t ow = iw * sw - cl + t;
                if (ow >= 0 && ow < p->out_w)
                    memcpy(dst + t * p->fg * es, yrow + ow * r->yw * es, (size_t)(p->fg * es));
                else
                    memset(dst + t * p->fg * es, 0, (size_t)(p->fg * es));
            }
            const char *xe = xrow + iw * r->xw * es;
            runs[count++] = d->x_rows ? (tconv_uk_run){xe, dst, 1} : (tconv_uk_run){dst, xe, 1};
        }
    }
    return count;
}

/* The first index of block b of `size` over `total` (>= size): the last
 * block is shifted back to end at total. */
static int64_t block_start(int64_t b, int64_t size, int64_t total)
{
    return b * size + size <= total ? b * size : total - size;
}

/* Sums of the dy rows that input row (n, ih) owns: those whose nearest
 * input row above is ih (the first and last rows also own the rows a
 * negative crop adds), so that every dy row is summed once, while the
 * chunk holding it is in cache. */
#define BIAS_ROWS(T, NAME)                                                                   \
    static void NAME(const run_ctx *r, int64_t n, int64_t ih)                                \
    {                                                                                        \
        const tconv_problem *p = &r->d->p;                                                   \
        const int64_t sh = p->stride_h, ct = p->crop_top, F = p->filters;                    \
        const int64_t lo = ih == 0 ? 0 : clamp64(ih * sh - ct, 0, p->out_h);                   \
        const int64_t hi = ih == p->in_h - 1 ? p->out_h : clamp64((ih + 1) * sh - ct, lo, p->out_h); \
        for (int64_t oh = lo; oh < hi; oh++) {                                               \
            double *sum = r->bias + (n * p->out_h + oh) * F;                                 \
            const T *row = (const T *)r->ys + n * r->yn + oh * r->yh;                        \
            for (int64_t f = 0; f < F; f++) sum[f] = 0.0;                                    \
            for (int64_t ow = 0; ow < p->out_w; ow++) {                                      \
                const T *px = row + ow * r->yw;                                              \
                for (int64_t f = 0; f < F; f++) sum[f] += (double)px[f];                     \
            }                                                                                \
        }                                                                                    \
    }
BIAS_ROWS(float, bias_rows_f32)
BIAS_ROWS(double, bias_rows_f64)
#undef BIAS_ROWS

/* Items [begin, end) of chunk r->chunk: the flat (group, kh, kw block,
 * column block, row block) range of tiles, then (with a bias) one item per
 * input row of the chunk for its dy rows' sums. */
static void run_items(void *arg, int64_t begin, int64_t end)
{
    run_ctx *r = arg;
    const tconv_bwd_weights_gemm *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, mr = d->mr, nr = d->nr;
    const int first = r->chunk == 0;
    int64_t row0, nrows;
    tconv_bwd_chunk_range(r->chunk, d->chunk_rows, d->rows, &row0, &nrows);
    char *mem = tconv_thread_scratch(d->thread_bytes);
    if (!mem) {
        atomic_store(&r->failed, 1);
        return;
    }
    tconv_uk_run *runs = (tconv_uk_run *)mem, *shifted = runs + d->max_runs;
    char *pad = (char *)(shifted + d->max_runs);
    char *temp = pad + d->max_runs * d->ld * es;
    const int64_t as = d->x_rows ? r->xw : p->stride_w * r->yw;
    const int64_t bs = d->x_rows ? p->stride_w * r->yw : r->xw;
    int64_t prev = -1, nruns = 0;
    for (int64_t item = begin; item < end; item++) {
        if (item >= d->tiles) {
            const int64_t k = row0 + item - d->tiles;
            if (es == 8) bias_rows_f64(r, k / p->in_h, k % p->in_h);
            else bias_rows_f32(r, k / p->in_h, k % p->in_h);
            continue;
        }
        const int64_t mb = item % d->mblocks, rest = item / d->mblocks;
        const int64_t nb = rest % d->nblocks, gkk = rest / d->nblocks; /* (g, kh, kb) */
        if (gkk != prev) {
            const int64_t kb = gkk % d->kwb, gk = gkk / d->kwb;
            nruns = build_runs(r, gk / p->k_h, gk % p->k_h, kb, row0, nrows, runs, pad);
            prev = gkk;
        }
        const int64_t ms = block_start(mb, mr, d->m), ns = block_start(nb, nr, d->n);
        for (int64_t i = 0; i < nruns; i++)
            shifted[i] = (tconv_uk_run){(const char *)runs[i].a + ms * es,
                                        (const char *)runs[i].b + ns * es, runs[i].count};
        char *out = r->acc + ((gkk * d->m + ms) * d->n + ns) * es;
        if (ms == mb * mr && ns == nb * nr) {
            d->uk->gemm(nruns, shifted, as, bs, out, d->n, !first);
            continue;
        }
        /* A block shifted back: only its new rows and columns are its own. */
        d->uk->gemm(nruns, shifted, as, bs, temp, nr, 0);
        for (int64_t i = mb * mr - ms; i < mr; i++)
            for (int64_t j = nb * nr - ns; j < nr; j++) {
                char *o = out + (i * d->n + j) * es;
                const char *t = temp + (i * nr + j) * es;
                if (es == 8) *(double *)o = first ? *(const double *)t : *(double *)o + *(const double *)t;
                else *(float *)o = first ? *(const float *)t : *(float *)o + *(const float *)t;
            }
    }
}

/* Rows [begin, end) of the flat (group, kh, kw block, product row) range of
 * acc into dw's layout. */
static void unpack_dw(void *arg, int64_t begin, int64_t end)
{
    const run_ctx *r = arg;
    const tconv_bwd_weights_gemm *d = r->d;
    const tconv_problem *p = &d->p;
    for (int64_t row = begin; row < end; row++) {
        const int64_t i = row % d->m, gkk = row / d->m;
        const int64_t kb = gkk % d->kwb, gk = gkk / d->kwb, kh = gk % p->k_h, g = gk / p->k_h;
        const char *src = r->acc + row * d->n * d->es;
        if (d->x_rows) { /* row: channel i; columns (kw, m) */
            for (int64_t t = 0; t < d->fold; t++)
                tconv_copy_run(d->es, r->dw + tconv_w_index(p, g * p->cg + i, 0, kh, kb * d->fold + t) * d->es,
                               p->w.m, src + t * p->fg * d->es, 1, p->fg);
        } else { /* row: (kw, m); columns: channels */
            const int64_t t = i / p->fg, m = i % p->fg;
            tconv_copy_run(d->es, r->dw + tconv_w_index(p, g * p->cg, m, kh, kb * d->fold + t) * d->es,
                           p->w.cg, src, 1, p->cg);
        }
    }
}

/* Where the tiles read x or dy and its strides of image, row and pixel:
 * the caller's tensor, or its dense channel-innermost copy (h x w x c). */
static void operand(const void *base, int copied, tconv_data_strides st, int64_t h, int64_t w,
                    int64_t c, const char **at, int64_t *sn, int64_t *sh, int64_t *sw)
{
    *at = base;
    *sw = copied ? c : st.w;
    *sh = copied ? w * c : st.h;
    *sn = copied ? h * w * c : st.n;
}

tconv_status tconv_bwd_weights_gemm_run(const tconv_bwd_weights_gemm *d, const void *x, const void *dy, void *dw,
                                 void *dbias)
{
    const tconv_problem *p = &d->p;
    const int64_t es = d->es;
    run_ctx r;
    memset(&r, 0, sizeof r);
    atomic_init(&r.failed, 0);
    r.d = d;
    r.x = x;
    r.dy = dy;
    r.dw = dw;
    const size_t sizes[4] = {(size_t)(p->groups * p->k_h * d->kwb * d->m * d->n * es),
                             d->x_copy ? (size_t)(p->x_elems * es) : 0,
                             d->dy_copy ? (size_t)(p->y_elems * es) : 0,
                             dbias ? (size_t)(p->batch * p->out_h * p->filters) * sizeof(double) : 0};
    size_t at[4];
    const size_t total = tconv_scratch_carve(sizes, at, 4);
    int kept = 0;
    char *block = total ? tconv_scratch_take(d->scratch, total, &kept) : NULL;
    if (!block) return TCONV_ENOMEM;
    r.acc = block + at[0];
    r.bias = dbias ? (double *)(block + at[3]) : NULL;
    if (d->x_copy) {
        r.xcopy = block + at[1];
        tconv_parallel_ranges(p->batch, 1, copy_x, &r);
    }
    if (d->dy_copy) {
        r.dycopy = block + at[2];
        tconv_parallel_ranges(p->batch, 1, copy_dy, &r);
    }
    operand(d->x_copy ? r.xcopy : x, d->x_copy, p->x, p->in_h, p->in_w, p->channels, &r.xs, &r.xn,
            &r.xh, &r.xw);
    operand(d->dy_copy ? r.dycopy : dy, d->dy_copy, p->y, p->out_h, p->out_w, p->filters, &r.ys,
            &r.yn, &r.yh, &r.yw);
    for (r.chunk = 0; r.chunk < d->nchunks; r.chunk++) {
        int64_t row0, nrows;
        tconv_bwd_chunk_range(r.chunk, d->chunk_rows, d->rows, &row0, &nrows);
        tconv_parallel_ranges(d->tiles + (dbias ? nrows : 0), 1, run_items, &r);
    }
    const int ok = !atomic_load(&r.failed);
    if (ok) tconv_parallel_ranges(p->groups * p->k_h * d->kwb * d->m, 16, unpack_dw, &r);
    if (ok && dbias) tconv_bwd_store_bias(p, r.bias, dbias);
    tconv_scratch_give(d->scratch, block, kept);
    return ok ? TCONV_OK : TCONV_ENOMEM;
}
