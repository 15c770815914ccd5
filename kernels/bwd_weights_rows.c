/*
 * Backward-weights with the filters as tile rows: see bwd_weights_rows.h.
 *
 * Buffers of one call:
 *   dyp   dy on the uncropped grid the taps reach, [g][n][m][rw][u][q]: grid
 *         row u, grid column v = q*s_w + rw, zero where the crop removed
 *         positions. Row i = (m, kw) of a tile reads plane (m, rw = kw*d_w
 *         mod s_w) from q0 = kw*d_w div s_w on: consecutive pixels iw are
 *         consecutive q.
 *   xp    x in blocks of NR channels, [g][cb][n][ih][iw][NR], zero past Cg:
 *         the tiles' vector operand, one row of NR per pixel.
 *   acc   [g][kh][m*k_w + kw][cgp]: dw with the channels innermost.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/bwd_driver.h"
#include "kernels/bwd_weights_common.h"
#include "kernels/bwd_weights_rows.h"
#include "kernels/elem.h"
#include "kernels/fwd_driver.h"
#include "kernels/transpose.h"
#include "runtime/checked.h"
#include "runtime/scratch.h"
#include "runtime/threads.h"
#include "runtime/topology.h"

struct tconv_bwd_weights_rows {
    tconv_problem p;
    const tconv_ukernel *uk;
    int64_t es, mr, nr;
    int64_t rows_n;     /* Fg * k_w: tile rows (m, kw) per kh */
    int64_t rblocks;    /* ceil(rows_n / MR) */
    int64_t cblocks;    /* ceil(Cg / NR) */
    int64_t cgp;        /* cblocks * NR: a row of the accumulator */
    int64_t gh, gw, qw; /* the grid, and columns per phase: ceil(gw / s_w) */
    int64_t plane;      /* gh * qw: one (image, filter, phase) plane of dyp */
    int64_t img;        /* Fg * s_w * plane: one image of one group in dyp */
    int64_t rows;       /* batch * in_h: the reduction, in input rows */
    int64_t chunk_rows, nchunks;
    tconv_scratch *scratch; /* dyp, xp, acc and the bias sums, kept between calls */
};

double tconv_bwd_weights_rows_fill(const tconv_problem *p, const tconv_ukernel *uk)
{
    return tconv_tile_fill(p->fg * p->k_w, uk->mr) * tconv_tile_fill(p->cg, uk->nr);
}

int tconv_bwd_weights_rows_fit(const tconv_problem *p, const tconv_ukernel *uk)
{
    if (uk->family != TCONV_UK_CHANNELS) return 0;
    /* bwd_weights_packed.c's tiles */
    const double lanes = tconv_tile_fill(p->cg, uk->mr) * tconv_tile_fill(p->fg, uk->nr);
    return tconv_bwd_weights_rows_fill(p, uk) > 1.1 * lanes;
}

tconv_status tconv_bwd_weights_rows_create(const tconv_problem *p, const tconv_ukernel *uk,
                                    tconv_bwd_weights_rows **out)
{
    *out = NULL;
    if (uk->family != TCONV_UK_CHANNELS || uk->dtype != p->dtype || uk->mr < 1 ||
        uk->mr > TCONV_BWD_MAX_TILE || uk->nr < 1 || uk->nr > TCONV_BWD_MAX_TILE)
        return TCONV_EUNSUPPORTED;
    tconv_bwd_weights_rows *d = calloc(1, sizeof *d);
    if (!d) return TCONV_ENOMEM;
    d->p = *p;
    d->uk = uk;
    d->es = tconv_dtype_size(p->dtype);
    d->mr = uk->mr;
    d->nr = uk->nr;
    d->rows_n = p->fg * p->k_w;
    d->rblocks = (d->rows_n + d->mr - 1) / d->mr;
    d->cblocks = (p->cg + d->nr - 1) / d->nr;
    d->cgp = d->cblocks * d->nr;
    d->rows = p->batch * p->in_h;
    int64_t elems;
    if (!tconv_bwd_grid(p, &d->gh, &d->gw)) {
        free(d);
        return TCONV_EOVERFLOW;
    }
    d->qw = (d->gw + p->stride_w - 1) / p->stride_w;
    /* dyp, xp and acc must be indexable. */
    if (!tconv_mul_ok(d->gh, d->qw, &d->plane) ||
        !tconv_mul_ok(d->plane, p->fg * p->stride_w, &d->img) ||
        !tconv_mul_ok(d->img, p->groups * p->batch * d->es, &elems) ||
        !tconv_mul_ok(p->groups * d->cgp, d->rows * p->in_w * d->es, &elems) ||
        !tconv_mul_ok(p->groups * p->k_h * d->rows_n, d->cgp * d->es, &elems)) {
        free(d);
        return TCONV_EOVERFLOW;
    }
    /* Chunk: per input row, its x panel (NR channels per pixel) and the dy
     * runs of the tile's rows. */
    const int64_t cr = tconv_bwd_chunk_rows(p, p->in_w * (d->nr + d->rows_n) * d->es, d->rows);
    d->chunk_rows = cr;
    d->nchunks = (d->rows + cr - 1) / cr;
    d->scratch = tconv_scratch_new();
    if (!d->scratch) {
        free(d);
        return TCONV_ENOMEM;
    }
    *out = d;
    return TCONV_OK;
}

void tconv_bwd_weights_rows_destroy(tconv_bwd_weights_rows *d)
{
    if (d) tconv_scratch_delete(d->scratch);
    free(d);
}

void tconv_bwd_weights_rows_describe(const tconv_bwd_weights_rows *d, char *buf, size_t n)
{
    snprintf(buf, n, "%s filter rows=%lld chunks=%lldx%lld rows", d->uk->name,
             (long long)d->rows_n, (long long)d->nchunks, (long long)d->chunk_rows);
}

typedef struct run_ctx {
    const tconv_bwd_weights_rows *d;
    const char *x, *dy;
    char *dw;
    char *dyp, *xp, *acc;
    double *bias_rows;  /* [n][oh][F]: each dy row's sum (bwd_weights_common.h), or NULL */
    int64_t chunk;      /* the chunk being run */
    _Atomic int failed; /* a thread found no scratch for its tap list */
} run_ctx;

/*
 * Packs image n of group g into dyp and sums each of its filters' dy along
 * each row (bias-only rows and positions of negative crops too) into
 * bias_rows, in the order of bwd_weights_common.h. A channel-innermost dy
 * is read a pixel's filters at a time. Any other is read a row of one
 * filter at a time, split into its s_w phase planes, and then summed for
 * 8 filters side by side: reading it a pixel's filters at a time read Fg
 * planes and wrote Fg * s_w at once, and a single filter's sum waits on
 * each add; packing then took 62% of FCN-8s k16 s8's pass (21 filters,
 * AMD EPYC, NCHW). Each filter's sum is its own, so how the filters
 * interleave does not change its bits.
 */
#define SUM_FILTERS 8
#define PACK_DY(T, NAME)                                                                      \
    static void NAME(const run_ctx *r, int64_t g, int64_t n)                                  \
    {                                                                                         \
        const tconv_bwd_weights_rows *d = r->d;                                                      \
        const tconv_problem *p = &d->p;                                                       \
        const int64_t sw = p->stride_w, fg = p->fg;                                           \
        T *img = (T *)r->dyp + (g * p->batch + n) * d->img;                                   \
        memset(img, 0, (size_t)d->img * sizeof(T));                                           \
        /* the grid column of ow = 0; its phase and position */                              \
        const int64_t v0 = p->crop_left;                                                      \
        const int64_t rw0 = v0 > 0 ? v0 % sw : 0, q0 = v0 > 0 ? v0 / sw : 0;                 \
        /* the grid columns dy covers: [vb, ve) */                                            \
        const int64_t vb = v0 > 0 ? v0 : 0;                                                   \
        const int64_t ve = v0 + p->out_w < d->gw ? v0 + p->out_w : d->gw;                     \
        for (int64_t oh = 0; oh < p->out_h; oh++) {                                           \
            const int64_t u = oh + p->crop_top;                                               \
            const int in_rows = u >= 0 && u < d->gh;                                          \
            const T *row = (const T *)r->dy + tconv_y_index(p, n, g * fg, oh, 0);             \
            double *sum = r->bias_rows ? r->bias_rows + (n * p->out_h + oh) * p->filters + g * fg \
                                       : NULL;                                                \
            if (p->y.c == 1) {                                                                \
                for (int64_t m = 0; sum && m < fg; m++) sum[m] = 0.0;                         \
                int64_t v = v0, rw = rw0, q = q0;                                             \
                for (int64_t ow = 0; ow < p->out_w; ow++, v++) {                              \
                    const T *src = row + ow * p->y.w;                                         \
                    const int on_grid = in_rows && v >= 0 && v < d->gw;                       \
                    for (int64_t m = 0; m < fg; m++) {                                        \
                        if (sum) sum[m] += (double)src[m];                                    \
                        if (on_grid) img[(m * sw + rw) * d->plane + u * d->qw + q] = src[m];   \
                    }                                                                         \
                    if (v >= 0 && ++rw == sw) {                                               \
                        rw = 0;                                                               \
                        q++;                                                                  \
                    }                                                                         \
                }                                                                             \
                continue;                                                                     \
            }                                                                                 \
            /* Phase plane rw takes the grid columns v = q * s_w + rw in    */               \
            /* [vb, ve), i.e. dy columns ow = v - crop_left: one strided  */               \
            /* read and one contiguous write per phase, no test an element. */             \
            for (int64_t m = 0; in_rows && m < fg; m++) {                                     \
                const T *src = row + m * p->y.c;                                              \
                for (int64_t rw = 0; rw < sw; rw++) {                                         \
                    T *dst = img + (m * sw + rw) * d->plane + u * d->qw;                      \
                    const int64_t qb = vb > rw ? (vb - rw + sw - 1) / sw : 0;                 \
                    const int64_t qe = ve > rw ? (ve - rw + sw - 1) / sw : 0;                 \
                    const T *s = src + (qb * sw + rw - p->crop_left) * p->y.w;                \
                    const int64_t step = sw * p->y.w;                                         \
                    for (int64_t q = qb; q < qe; q++, s += step) dst[q] = *s;                 \
                }                                                                             \
            }                                                                                 \
            for (int64_t m0 = 0; sum && m0 < fg; m0 += SUM_FILTERS) {                         \
                const int64_t nf = fg - m0 < SUM_FILTERS ? fg - m0 : SUM_FILTERS;             \
                double s[SUM_FILTERS] = {0};                                                  \
                for (int64_t ow = 0; ow < p->out_w; ow++)                                     \
                    for (int64_t j = 0; j < nf; j++)                                          \
                        s[j] += (double)row[(m0 + j) * p->y.c + ow * p->y.w];                 \
                for (int64_t j = 0; j < nf; j++) sum[m0 + j] = s[j];                          \
            }                                                                                 \
        }                                                                                     \
    }
PACK_DY(float, pack_dy_f32)
PACK_DY(double, pack_dy_f64)
#undef PACK_DY
#undef SUM_FILTERS

/* Tasks [begin, end) of the flat (group, image) range: dy into dyp, and the
 * same images of x into xp. */
static void pack(void *arg, int64_t begin, int64_t end)
{
    const run_ctx *r = arg;
    const tconv_bwd_weights_rows *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, nr = d->nr, W = p->in_w;
    for (int64_t t = begin; t < end; t++) {
        const int64_t g = t / p->batch, n = t % p->batch;
        if (es == 8) pack_dy_f64(r, g, n);
        else pack_dy_f32(r, g, n);
        for (int64_t cb = 0; cb < d->cblocks; cb++) {
            const int64_t cols = p->cg - cb * nr < nr ? p->cg - cb * nr : nr;
            for (int64_t ih = 0; ih < p->in_h; ih++) {
                char *row = r->xp + ((((g * d->cblocks + cb) * p->batch + n) * p->in_h + ih) * W) * nr * es;
                const char *src = r->x + tconv_x_index(p, n, g * p->cg + cb * nr, ih, 0) * es;
                if (p->x.c == 1) { /* channel-innermost: a run of channels per pixel */
                    for (int64_t iw = 0; iw < W; iw++) {
                        memcpy(row + iw * nr * es, src + iw * p->x.w * es, (size_t)(cols * es));
                        memset(row + (iw * nr + cols) * es, 0, (size_t)((nr - cols) * es));
                    }
                    continue;
                }
                /* channel-planar: transposed, a tile of channels x pixels
                 * at a time (a run of pixels per channel touched a new line
                 * of the row per element: 56% of pix2pix 128->3's pass) */
                tconv_copy_runs(es, row, 1, nr, src, p->x.c, p->x.w, W, cols);
                for (int64_t iw = 0; cols < nr && iw < W; iw++)
                    memset(row + (iw * nr + cols) * es, 0, (size_t)((nr - cols) * es));
            }
        }
    }
}

/* The tiles [begin, end) of the flat (group, channel block, kh, row block)
 * range, for the rows of chunk r->chunk. */
static void run_tiles(void *arg, int64_t begin, int64_t end)
{
    const run_ctx *r = arg;
    const tconv_bwd_weights_rows *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, mr = d->mr, nr = d->nr;
    const int first = r->chunk == 0;
    int64_t row0, nrows;
    /* (no temporary tile: a later chunk's tile adds into the accumulator) */
    tconv_uk_tap *list = tconv_bwd_chunk_scratch(r->chunk, d->chunk_rows, d->rows, &row0, &nrows, NULL);
    if (!list) { /* no scratch on this thread: the pass fails with ENOMEM */
        atomic_store(&((run_ctx *)r)->failed, 1);
        return;
    }
    char dummy[TCONV_BWD_MAX_TILE * 8] __attribute__((aligned(64))) = {0}; /* rows past the block: read back by later chunks */
    const void *xrow[TCONV_BWD_MAX_TILE];
    void *yrow[TCONV_BWD_MAX_TILE];
    int64_t prev = -1;
    for (int64_t item = begin; item < end; item++) {
        const int64_t rb = item % d->rblocks, gck = item / d->rblocks;
        const int64_t kh = gck % p->k_h, gc = gck / p->k_h;
        const int64_t g = gc / d->cblocks, cb = gc % d->cblocks;
        if (gck != prev) { /* the chunk's rows for this (group, channel block, kh) */
            for (int64_t k = 0; k < nrows; k++) {
                const int64_t n = (row0 + k) / p->in_h, ih = (row0 + k) % p->in_h;
                const int64_t u = ih * p->stride_h + kh * p->dil_h;
                list[k].x_off = n * d->img + u * d->qw;
                list[k].w = r->xp + ((((g * d->cblocks + cb) * p->batch + n) * p->in_h + ih) *
                                     p->in_w) * nr * es;
            }
            prev = gck;
        }
        const char *planes = r->dyp + g * p->batch * d->img * es;
        char *acc = r->acc + (((g * p->k_h + kh) * d->rows_n + rb * mr) * d->cgp + cb * nr) * es;
        const int64_t m_rows = d->rows_n - rb * mr < mr ? d->rows_n - rb * mr : mr;
        for (int64_t i = 0; i < mr; i++) {
            const int64_t row = rb * mr + (i < m_rows ? i : m_rows - 1);
            const int64_t m = row / p->k_w, kw = row % p->k_w;
            const int64_t rw = kw * p->dil_w % p->stride_w, q0 = kw * p->dil_w / p->stride_w;
            xrow[i] = planes + ((m * p->stride_w + rw) * d->plane + q0) * es;
            yrow[i] = i >= m_rows ? dummy : acc + i * d->cgp * es;
        }
        /* a later chunk starts from the accumulator (see bwd_weights_packed.c) */
        d->uk->channels(nr, nrows, list, p->in_w, xrow, first ? tconv_bwd_zero_bias : NULL, yrow);
    }
}

/* Accumulator rows [begin, end) of the flat (group, kh, m, kw) range into
 * dw's layout. */
static void unpack_dw(void *arg, int64_t begin, int64_t end)
{
    const run_ctx *r = arg;
    const tconv_bwd_weights_rows *d = r->d;
    const tconv_problem *p = &d->p;
    for (int64_t row = begin; row < end; row++) {
        const int64_t mk = row % d->rows_n, gk = row / d->rows_n;
        const int64_t kh = gk % p->k_h, g = gk / p->k_h;
        const int64_t m = mk / p->k_w, kw = mk % p->k_w;
        tconv_copy_run(d->es, r->dw + tconv_w_index(p, g * p->cg, m, kh, kw) * d->es, p->w.cg,
                       r->acc + row * d->cgp * d->es, 1, p->cg);
    }
}

tconv_status tconv_bwd_weights_rows_run(const tconv_bwd_weights_rows *d, const void *x, const void *dy, void *dw,
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
    const size_t sizes[4] = {(size_t)(p->groups * p->batch * d->img * es),
                             (size_t)(p->groups * d->cgp * d->rows * p->in_w * es),
                             (size_t)(p->groups * p->k_h * d->rows_n * d->cgp * es),
                             dbias ? (size_t)(p->batch * p->out_h * p->filters) * sizeof(double) : 0};
    size_t at[4];
    const size_t total = tconv_scratch_carve(sizes, at, 4);
    int kept = 0;
    char *block = total ? tconv_scratch_take(d->scratch, total, &kept) : NULL;
    int ok = block != NULL;
    if (ok) {
        r.dyp = block + at[0];
        r.xp = block + at[1];
        r.acc = block + at[2];
        r.bias_rows = dbias ? (double *)(block + at[3]) : NULL;
    }
    if (ok) {
        tconv_parallel_ranges(p->groups * p->batch, 1, pack, &r);
        const int64_t items = p->groups * d->cblocks * p->k_h * d->rblocks;
        for (r.chunk = 0; r.chunk < d->nchunks; r.chunk++)
            tconv_parallel_ranges(items, 1, run_tiles, &r);
        ok = !atomic_load(&r.failed);
        if (ok) tconv_parallel_ranges(p->groups * p->k_h * d->rows_n, 4, unpack_dw, &r);
        if (ok && dbias)
            tconv_bwd_store_bias(p, r.bias_rows, dbias);
    }
    tconv_scratch_give(d->scratch, block, kept);
    return ok ? TCONV_OK : TCONV_ENOMEM;
}
