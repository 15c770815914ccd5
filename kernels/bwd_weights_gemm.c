/*
 * Backward-weights in place (bwd_weights_internal.h), on the GEMM
 * microkernels (kernels/ukernel.h, TCONV_UK_GEMM), reading x and dy where
 * they lie: nothing is packed.
 *
 * For each group g and filter row kh, with x and dy channel-innermost,
 *   dw[c][m][kh][kw] = sum over n, ih, iw of
 *       x[n][ih][iw][g*Cg + c] * dy[n][ih*s_h + kh*d_h - crop_top][iw*s_w + kw*d_w - crop_left][g*Fg + m]
 * is, per tap column kw, a product of two operands that both step along the
 * input row's pixels iw: x by its pixel stride, dy by s_w pixels. Where
 * there is one group and no dilation along w, the k_w taps of a pixel read
 * k_w consecutive dy pixels, k_w * Fg contiguous values: the tap columns
 * fold into one operand row ("fold"), which fills vectors on few-filter
 * layers (3 filters x 4 taps = 12 lanes instead of 3). Input pixels whose
 * folded taps leave dy's columns (the crop's edges) read a zero-padded copy
 * of their few dy values instead.
 *
 * Either operand can be the tile's broadcast side (a, MR rows) and the
 * other its vector side (b, NR columns): the plan takes the orientation and
 * folding that fill the chosen tile best. The bias gradient's row sums are
 * taken in the driver's chunk loop (bias_in_chunks), while the rows are in
 * cache.
 *
 * x or dy in a channel-planar layout (NCHW, SSCB) is first copied
 * channel-innermost.
 *
 * Buffers of one call (one scratch block, kept between calls):
 *   acc    [g][kh][kw block][M][N]: dw in the tile's orientation, M rows of
 *          the broadcast side (channels, or (kw, filter) pairs) x N columns
 *          of the vector side;
 *   xbuf, dybuf  x and dy channel-innermost when the caller's layout is not.
 * Per thread (tconv_thread_scratch): the runs of the current (g, kh, kw
 * block), the same shifted to one tile, the padded dy of the edge pixels,
 * and a tile for blocks that overlap the previous one.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/bwd_weights_internal.h"
#include "kernels/transpose.h"
#include "runtime/checked.h"
#include "runtime/intmath.h"
#include "runtime/topology.h"

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

/* For each filter row kh, every tile of a chunk walks the chunk's rows of
 * x and the dy row each of them reaches through kh, a line of each operand
 * per reduction step: from L2 when they fit in it, else from L3 for every
 * tile. The chunk is what plan() below cuts: the rows half of L2 holds (x
 * and all s_h dy rows of each), but at least 256 pixels. The share of the
 * speed left, fitted to alternating runs of this driver against the
 * packing one on an AMD EPYC (512 KiB L2, AVX2, NHWC, one thread): U-Net
 * 512->256 (1.0 MB per kh, 2.1 L2s) took 1.44-1.58x the packing driver's
 * time, where on a Xeon with 2 MiB of L2 (it fits) it took 0.8x; U-Net
 * 256->128 (1.2 L2s) 1.07x; YOLOv8n's 64->64 layer (0.5 L2) 0.74x. */
static double chunk_in_l2(const tconv_problem *p)
{
    const double l2 = (double)tconv_topology_get()->l2_bytes, es = (double)tconv_dtype_size(p->dtype);
    const double x_row = es * (double)p->in_w * (double)p->channels;
    const double dy_row = es * (double)p->out_w * (double)p->filters;
    const double rows = (double)tconv_bwd_weights_chunk_rows(
        p, x_row + (double)p->stride_h * dy_row, TCONV_BWD_CHUNK_MIN_PIXELS);
    const double over = rows * (x_row + dy_row) / l2;
    return over <= 1.0 ? 1.0 : 1.0 / (1.0 + 0.2 * (over - 1.0));
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
    /* (Folded taps read a tile's few columns of each dy row, not the row:
     * FCN-32s's k64 s32 layer, whose rows are 1.5 MB a chunk, ran 1.29x
     * slower on the PIXELS tiles this factor would have chosen.) */
    const double cached = s.fold > 1 ? 1.0 : chunk_in_l2(p);
    return 0.95 * s.fill * bound * copies * pages * runs * cached;
}

static void release(tconv_bwd_weights_driver *d) { free(d->s.gemm.edge_iw); }

static tconv_status plan(tconv_bwd_weights_driver *d)
{
    const tconv_problem *p = &d->p;
    bwd_weights_gemm_plan *k = &d->s.gemm;
    const shape_choice s = choose_shape(p, d->uk);
    if (s.fill <= 0.0) return TCONV_EUNSUPPORTED;
    k->x_rows = s.x_rows;
    k->fold = s.fold;
    k->kwb = p->k_w / s.fold;
    k->ld = s.fold * p->fg;
    k->m = s.x_rows ? p->cg : k->ld;
    k->n = s.x_rows ? k->ld : p->cg;
    k->mblocks = (k->m + d->mr - 1) / d->mr;
    k->nblocks = (k->n + d->nr - 1) / d->nr;
    k->x_copy = p->x.c != 1;
    k->dy_copy = p->y.c != 1 || (k->fold > 1 && p->y.w != p->filters);
    d->bias_in_chunks = 1;
    /* acc must be indexable (x and dy, and so their copies, are: dispatch/
     * checked their sizes). */
    int64_t acc_bytes;
    if (!tconv_mul_ok(p->groups * p->k_h * k->kwb, k->m * k->n, &acc_bytes) ||
        !tconv_mul_ok(acc_bytes, d->es, &acc_bytes) ||
        !tconv_mul_ok(p->groups * p->k_h * k->kwb, k->mblocks * k->nblocks, &d->tiles))
        return TCONV_EOVERFLOW;
    d->acc_bytes = (size_t)acc_bytes;
    d->x_bytes = k->x_copy ? (size_t)(p->x_elems * d->es) : 0;
    d->dy_bytes = k->dy_copy ? (size_t)(p->y_elems * d->es) : 0;
    if (k->fold > 1) {
        k->nedges = fold_edges(p, &k->iwa, &k->iwb, NULL);
        k->edge_iw = malloc((size_t)(k->nedges + 1) * sizeof *k->edge_iw);
        if (!k->edge_iw) return TCONV_ENOMEM;
        fold_edges(p, &k->iwa, &k->iwb, k->edge_iw);
    }
    /* Chunk: per input row, its x (C channels) and the s_h dy rows below it. */
    tconv_bwd_weights_plan_chunks(
        d, (p->in_w * p->channels + p->stride_h * p->out_w * p->filters) * d->es,
        TCONV_BWD_CHUNK_MIN_PIXELS);
    k->max_runs = d->chunk_rows * (1 + k->nedges);
    const size_t runs = (size_t)k->max_runs * sizeof(tconv_uk_run);
    d->thread_bytes = 2 * runs + (size_t)(k->max_runs * k->ld * d->es) + (size_t)(d->mr * d->nr * d->es);
    return TCONV_OK;
}

static void describe(const tconv_bwd_weights_driver *d, char *buf, size_t n)
{
    const bwd_weights_gemm_plan *k = &d->s.gemm;
    snprintf(buf, n, "%s %s rows, %lldx%lld per tap%s%s%s chunks=%lldx%lld rows", d->uk->name,
             k->x_rows ? "channels" : "filters", (long long)k->m, (long long)k->n,
             k->fold > 1 ? " (kw folded)" : "", k->x_copy ? ", x copied" : "",
             k->dy_copy ? ", dy copied" : "", (long long)d->nchunks, (long long)d->chunk_rows);
}

/* Images [begin, end) of x or dy into the channel-innermost copy. */
static void copy_images(const bwd_weights_run *r, int64_t begin, int64_t end, int dy)
{
    const tconv_problem *p = &r->d->p;
    const int64_t es = r->d->es;
    const int64_t h = dy ? p->out_h : p->in_h, w = dy ? p->out_w : p->in_w;
    const int64_t c = dy ? p->filters : p->channels;
    const tconv_data_strides st = dy ? p->y : p->x;
    const char *src = dy ? r->dy : r->x;
    char *dst = dy ? r->dybuf : r->xbuf;
    for (int64_t n = begin; n < end; n++)
        for (int64_t row = 0; row < h; row++)
            tconv_copy_runs(r->d->uk->transposes, es, dst + ((n * h + row) * w) * c * es, 1, c,
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
static int64_t build_runs(const bwd_weights_run *r, int64_t g, int64_t kh, int64_t kb, int64_t row0,
                          int64_t nrows, tconv_uk_run *runs, char *pad)
{
    const tconv_bwd_weights_driver *d = r->d;
    const bwd_weights_gemm_plan *k = &d->s.gemm;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, sw = p->stride_w, cl = p->crop_left;
    const int64_t kw = kb * k->fold; /* the block's first tap column */
    int64_t count = 0;
    for (int64_t j = 0; j < nrows; j++) {
        const int64_t n = (row0 + j) / p->in_h, ih = (row0 + j) % p->in_h;
        const int64_t oh = ih * p->stride_h + kh * p->dil_h - p->crop_top;
        if (oh < 0 || oh >= p->out_h) continue;
        const char *xrow = r->xs.at + (n * r->xs.n + ih * r->xs.h + g * p->cg) * es;
        const char *yrow = r->ys.at + (n * r->ys.n + oh * r->ys.h + g * p->fg) * es;
        int64_t iw0, iw1; /* the run read in place */
        if (k->fold > 1) {
            iw0 = k->iwa;
            iw1 = k->iwb;
        } else {
            const int64_t off = kw * p->dil_w - cl; /* ow = iw*s_w + off */
            iw0 = clamp64(ceil_div64(-off, sw), 0, p->in_w);
            iw1 = clamp64(floor_div64(p->out_w - 1 - off, sw) + 1, iw0, p->in_w);
        }
        if (iw1 > iw0) {
            const char *xa = xrow + iw0 * r->xs.w * es;
            const char *ya = yrow + (iw0 * sw + kw * p->dil_w - cl) * r->ys.w * es;
            runs[count++] = k->x_rows ? (tconv_uk_run){xa, ya, iw1 - iw0}
                                      : (tconv_uk_run){ya, xa, iw1 - iw0};
        }
        for (int64_t e = 0; e < k->nedges; e++) { /* folded edge pixels, one run each */
            const int64_t iw = k->edge_iw[e];
            char *dst = pad + count * k->ld * es;
            for (int64_t t = 0; t < p->k_w; t++) {
                const int64_t ow = iw * sw - cl + t;
                if (ow >= 0 && ow < p->out_w)
                    memcpy(dst + t * p->fg * es, yrow + ow * r->ys.w * es, (size_t)(p->fg * es));
                else
                    memset(dst + t * p->fg * es, 0, (size_t)(p->fg * es));
            }
            const char *xe = xrow + iw * r->xs.w * es;
            runs[count++] = k->x_rows ? (tconv_uk_run){xe, dst, 1} : (tconv_uk_run){dst, xe, 1};
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
#define BIAS_ROWS(T, NAME)                                                                    \
    static void NAME(const bwd_weights_run *r, int64_t n, int64_t ih)                         \
    {                                                                                         \
        const tconv_problem *p = &r->d->p;                                                    \
        const int64_t sh = p->stride_h, ct = p->crop_top, F = p->filters;                     \
        const int64_t lo = ih == 0 ? 0 : clamp64(ih * sh - ct, 0, p->out_h);                  \
        const int64_t hi = ih == p->in_h - 1 ? p->out_h : clamp64((ih + 1) * sh - ct, lo, p->out_h); \
        for (int64_t oh = lo; oh < hi; oh++) {                                                \
            double *sum = r->bias_rows + (n * p->out_h + oh) * F;                             \
            const T *row = (const T *)r->ys.at + n * r->ys.n + oh * r->ys.h;                  \
            for (int64_t f = 0; f < F; f++) sum[f] = 0.0;                                     \
            for (int64_t ow = 0; ow < p->out_w; ow++) {                                       \
                const T *px = row + ow * r->ys.w;                                             \
                for (int64_t f = 0; f < F; f++) sum[f] += (double)px[f];                      \
            }                                                                                 \
        }                                                                                     \
    }
BIAS_ROWS(float, bias_rows_f32)
BIAS_ROWS(double, bias_rows_f64)
#undef BIAS_ROWS

/* Tasks [begin, end) of chunk r->chunk: the flat (group, kh, kw block,
 * column block, row block) range of tiles, then (with a bias) one task per
 * input row of the chunk for its dy rows' sums. */
static void run_tasks(void *arg, int64_t begin, int64_t end)
{
    bwd_weights_run *r = arg;
    const tconv_bwd_weights_driver *d = r->d;
    const bwd_weights_gemm_plan *k = &d->s.gemm;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, mr = d->mr, nr = d->nr;
    const int first = r->chunk == 0;
    char *mem = tconv_bwd_weights_thread_scratch(r);
    if (!mem) return;
    tconv_uk_run *runs = (tconv_uk_run *)mem, *shifted = runs + k->max_runs;
    char *pad = (char *)(shifted + k->max_runs);
    char *temp = pad + k->max_runs * k->ld * es;
    const int64_t as = k->x_rows ? r->xs.w : p->stride_w * r->ys.w;
    const int64_t bs = k->x_rows ? p->stride_w * r->ys.w : r->xs.w;
    int64_t prev = -1, nruns = 0;
    for (int64_t item = begin; item < end; item++) {
        if (item >= d->tiles) {
            const int64_t row = r->row0 + item - d->tiles;
            if (es == 8) bias_rows_f64(r, row / p->in_h, row % p->in_h);
            else bias_rows_f32(r, row / p->in_h, row % p->in_h);
            continue;
        }
        const int64_t mb = item % k->mblocks, rest = item / k->mblocks;
        const int64_t nb = rest % k->nblocks, gkk = rest / k->nblocks; /* (g, kh, kb) */
        if (gkk != prev) {
            const int64_t kb = gkk % k->kwb, gk = gkk / k->kwb;
            nruns = build_runs(r, gk / p->k_h, gk % p->k_h, kb, r->row0, r->nrows, runs, pad);
            prev = gkk;
        }
        const int64_t ms = block_start(mb, mr, k->m), ns = block_start(nb, nr, k->n);
        for (int64_t i = 0; i < nruns; i++)
            shifted[i] = (tconv_uk_run){(const char *)runs[i].a + ms * es,
                                        (const char *)runs[i].b + ns * es, runs[i].count};
        char *out = r->acc + ((gkk * k->m + ms) * k->n + ns) * es;
        if (ms == mb * mr && ns == nb * nr) {
            d->uk->gemm(nruns, shifted, as, bs, out, k->n, !first);
            continue;
        }
        /* A block shifted back: only its new rows and columns are its own. */
        d->uk->gemm(nruns, shifted, as, bs, temp, nr, 0);
        for (int64_t i = mb * mr - ms; i < mr; i++)
            for (int64_t j = nb * nr - ns; j < nr; j++) {
                char *o = out + (i * k->n + j) * es;
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
    const bwd_weights_run *r = arg;
    const tconv_bwd_weights_driver *d = r->d;
    const bwd_weights_gemm_plan *k = &d->s.gemm;
    const tconv_problem *p = &d->p;
    for (int64_t row = begin; row < end; row++) {
        const int64_t i = row % k->m, gkk = row / k->m;
        const int64_t kb = gkk % k->kwb, gk = gkk / k->kwb, kh = gk % p->k_h, g = gk / p->k_h;
        const char *src = r->acc + row * k->n * d->es;
        if (k->x_rows) { /* row: channel i; columns (kw, m) */
            for (int64_t t = 0; t < k->fold; t++)
                tconv_copy_run(d->es, r->dw + tconv_w_index(p, g * p->cg + i, 0, kh, kb * k->fold + t) * d->es,
                               p->w.m, src + t * p->fg * d->es, 1, p->fg);
        } else { /* row: (kw, m); columns: channels */
            const int64_t t = i / p->fg, m = i % p->fg;
            tconv_copy_run(d->es, r->dw + tconv_w_index(p, g * p->cg, m, kh, kb * k->fold + t) * d->es,
                           p->w.cg, src, 1, p->cg);
        }
    }
}

/* x and dy copied channel-innermost where the caller's layout is not. */
static void prepare(bwd_weights_run *r)
{
    const tconv_bwd_weights_driver *d = r->d;
    const bwd_weights_gemm_plan *k = &d->s.gemm;
    const tconv_problem *p = &d->p;
    if (k->x_copy) {
        tconv_parallel_ranges(p->batch, 1, copy_x, r);
        r->xs = (bwd_weights_view){r->xbuf, p->in_h * p->in_w * p->channels,
                                   p->in_w * p->channels, p->channels, 1};
    }
    if (k->dy_copy) {
        tconv_parallel_ranges(p->batch, 1, copy_dy, r);
        r->ys = (bwd_weights_view){r->dybuf, p->out_h * p->out_w * p->filters,
                                   p->out_w * p->filters, p->filters, 1};
    }
}

static void unpack(bwd_weights_run *r)
{
    const tconv_problem *p = &r->d->p;
    const bwd_weights_gemm_plan *k = &r->d->s.gemm;
    tconv_parallel_ranges(p->groups * p->k_h * k->kwb * k->m, 16, unpack_dw, r);
}

const bwd_weights_strategy tconv_bwd_weights_gemm = {
    .plan = plan,
    .release = release,
    .describe = describe,
    .prepare = prepare,
    .run_tasks = run_tasks,
    .unpack = unpack,
};
