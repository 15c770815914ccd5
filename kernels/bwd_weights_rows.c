/*
 * Backward-weights with the filters as tile rows (bwd_weights_internal.h), for
 * layers with few filters per group, where a tile of NR filters as vector
 * lanes (bwd_weights_packed.c) would be mostly empty: DCGAN's and pix2pix's RGB
 * output layers (3 filters), FSRCNN's (1).
 *
 * A CHANNELS tile holds MR (filter, kw tap) pairs of one kh x NR input
 * channels: for a fixed kh, dw[c][m][kh][kw] = sum over n, ih, iw of
 *   dyg[n][m][ih*s_h + kh*d_h][iw*s_w + kw*d_w] * x[n][c][ih][iw],
 * which is the microkernel's contract with row i = (m, kw) reading dy from
 * its own plane (broadcast), the vector operand x packed as rows of NR
 * channels per pixel, and one microkernel "tap" per input row (n, ih), its
 * reduction along the row's pixels. dy is packed once per call into planes
 * per (image, filter, column phase), so that the pixels a tap reads along
 * an input row are consecutive; x into blocks of NR channels. The chunks of
 * the reduction, their order and the threads' split are the driver's.
 *
 * Buffers of one call:
 *   dybuf dy on the uncropped grid the taps reach, [g][n][m][rw][u][q]: grid
 *         row u, grid column v = q*s_w + rw, zero where the crop removed
 *         positions. Row i = (m, kw) of a tile reads plane (m, rw = kw*d_w
 *         mod s_w) from q0 = kw*d_w div s_w on: consecutive pixels iw are
 *         consecutive q.
 *   xbuf  x in blocks of NR channels, [g][cb][n][ih][iw][NR], zero past Cg:
 *         the tiles' vector operand, one row of NR per pixel.
 *   acc   [g][kh][m*k_w + kw][cgp]: dw with the channels innermost.
 */
#include <stdio.h>
#include <string.h>

#include "kernels/bwd_weights_internal.h"
#include "kernels/fwd_driver.h"
#include "kernels/transpose.h"
#include "runtime/checked.h"

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

static tconv_status plan(tconv_bwd_weights_driver *d)
{
    const tconv_problem *p = &d->p;
    bwd_weights_rows_plan *k = &d->s.rows;
    k->rows_n = p->fg * p->k_w;
    k->rblocks = (k->rows_n + d->mr - 1) / d->mr;
    k->cblocks = (p->cg + d->nr - 1) / d->nr;
    k->cgp = k->cblocks * d->nr;
    d->tiles = p->groups * k->cblocks * p->k_h * k->rblocks;
    /* dybuf, xbuf and acc must be indexable. */
    int64_t dy_bytes, x_bytes, acc_bytes;
    if (!tconv_mul_ok(d->gh, d->qw, &k->plane) ||
        !tconv_mul_ok(k->plane, p->fg * p->stride_w, &k->img) ||
        !tconv_mul_ok(k->img, p->groups * p->batch * d->es, &dy_bytes) ||
        !tconv_mul_ok(p->groups * k->cgp, d->rows * p->in_w * d->es, &x_bytes) ||
        !tconv_mul_ok(p->groups * p->k_h * k->rows_n, k->cgp * d->es, &acc_bytes))
        return TCONV_EOVERFLOW;
    d->dy_bytes = (size_t)dy_bytes;
    d->x_bytes = (size_t)x_bytes;
    d->acc_bytes = (size_t)acc_bytes;
    /* Chunk: per input row, its x panel (NR channels per pixel) and the dy
     * runs of the tile's rows. */
    tconv_bwd_weights_plan_chunks(d, p->in_w * (d->nr + k->rows_n) * d->es,
                                  TCONV_BWD_CHUNK_MIN_PIXELS);
    d->thread_bytes = (size_t)d->chunk_rows * sizeof(tconv_uk_tap); /* the chunk's tap list */
    return TCONV_OK;
}

static void describe(const tconv_bwd_weights_driver *d, char *buf, size_t n)
{
    snprintf(buf, n, "%s filter rows=%lld chunks=%lldx%lld rows", d->uk->name,
             (long long)d->s.rows.rows_n, (long long)d->nchunks, (long long)d->chunk_rows);
}

/*
 * Packs image n of group g into dybuf and sums each of its filters' dy along
 * each row (bias-only rows and positions of negative crops too) into
 * bias_rows, in the driver's order (bwd_weights_internal.h). A channel-innermost dy
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
    static void NAME(const bwd_weights_run *r, int64_t g, int64_t n)                          \
    {                                                                                         \
        const tconv_bwd_weights_driver *d = r->d;                                             \
        const bwd_weights_rows_plan *k = &d->s.rows;                                          \
        const tconv_problem *p = &d->p;                                                       \
        const int64_t sw = p->stride_w, fg = p->fg;                                           \
        T *img = (T *)r->dybuf + (g * p->batch + n) * k->img;                                 \
        memset(img, 0, (size_t)k->img * sizeof(T));                                           \
        /* the grid column of ow = 0; its phase and position */                               \
        const int64_t v0 = p->crop_left;                                                      \
        const int64_t rw0 = v0 > 0 ? v0 % sw : 0, q0 = v0 > 0 ? v0 / sw : 0;                  \
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
                        if (on_grid) img[(m * sw + rw) * k->plane + u * d->qw + q] = src[m];  \
                    }                                                                         \
                    if (v >= 0 && ++rw == sw) {                                               \
                        rw = 0;                                                               \
                        q++;                                                                  \
                    }                                                                         \
                }                                                                             \
                continue;                                                                     \
            }                                                                                 \
            /* Phase plane rw takes the grid columns v = q * s_w + rw in    */                \
            /* [vb, ve), i.e. dy columns ow = v - crop_left: one strided  */                  \
            /* read and one contiguous write per phase, no test an element. */                \
            for (int64_t m = 0; in_rows && m < fg; m++) {                                     \
                const T *src = row + m * p->y.c;                                              \
                for (int64_t rw = 0; rw < sw; rw++) {                                         \
                    T *dst = img + (m * sw + rw) * k->plane + u * d->qw;                      \
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

/* Tasks [begin, end) of the flat (group, image) range: dy into dybuf, and
 * the same images of x into xbuf. */
static void pack_images(void *arg, int64_t begin, int64_t end)
{
    const bwd_weights_run *r = arg;
    const tconv_bwd_weights_driver *d = r->d;
    const bwd_weights_rows_plan *k = &d->s.rows;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, nr = d->nr, W = p->in_w;
    for (int64_t t = begin; t < end; t++) {
        const int64_t g = t / p->batch, n = t % p->batch;
        if (es == 8) pack_dy_f64(r, g, n);
        else pack_dy_f32(r, g, n);
        for (int64_t cb = 0; cb < k->cblocks; cb++) {
            const int64_t cols = p->cg - cb * nr < nr ? p->cg - cb * nr : nr;
            for (int64_t ih = 0; ih < p->in_h; ih++) {
                char *row = r->xbuf + ((((g * k->cblocks + cb) * p->batch + n) * p->in_h + ih) * W) * nr * es;
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
                tconv_copy_runs(d->uk->transposes, es, row, 1, nr, src, p->x.c, p->x.w, W, cols);
                for (int64_t iw = 0; cols < nr && iw < W; iw++)
                    memset(row + (iw * nr + cols) * es, 0, (size_t)((nr - cols) * es));
            }
        }
    }
}

/* The tiles [begin, end) of the flat (group, channel block, kh, row block)
 * range, for the rows of chunk r->chunk. */
static void run_tasks(void *arg, int64_t begin, int64_t end)
{
    const bwd_weights_run *r = arg;
    const tconv_bwd_weights_driver *d = r->d;
    const bwd_weights_rows_plan *k = &d->s.rows;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, mr = d->mr, nr = d->nr;
    const int first = r->chunk == 0;
    const int64_t row0 = r->row0, nrows = r->nrows;
    tconv_uk_tap *list = tconv_bwd_weights_thread_scratch((bwd_weights_run *)r);
    if (!list) return;
    char dummy[TCONV_BWD_MAX_TILE * 8] __attribute__((aligned(64))) = {0}; /* rows past the block: read back by later chunks */
    const void *xrow[TCONV_BWD_MAX_TILE];
    void *yrow[TCONV_BWD_MAX_TILE];
    int64_t prev = -1;
    for (int64_t item = begin; item < end; item++) {
        const int64_t rb = item % k->rblocks, gck = item / k->rblocks;
        const int64_t kh = gck % p->k_h, gc = gck / p->k_h;
        const int64_t g = gc / k->cblocks, cb = gc % k->cblocks;
        if (gck != prev) { /* the chunk's rows for this (group, channel block, kh) */
            for (int64_t j = 0; j < nrows; j++) {
                const int64_t n = (row0 + j) / p->in_h, ih = (row0 + j) % p->in_h;
                const int64_t u = ih * p->stride_h + kh * p->dil_h;
                list[j].x_off = n * k->img + u * d->qw;
                list[j].w = r->xbuf + ((((g * k->cblocks + cb) * p->batch + n) * p->in_h + ih) *
                                     p->in_w) * nr * es;
            }
            prev = gck;
        }
        const char *planes = r->dybuf + g * p->batch * k->img * es;
        char *acc = r->acc + (((g * p->k_h + kh) * k->rows_n + rb * mr) * k->cgp + cb * nr) * es;
        const int64_t m_rows = k->rows_n - rb * mr < mr ? k->rows_n - rb * mr : mr;
        for (int64_t i = 0; i < mr; i++) {
            const int64_t row = rb * mr + (i < m_rows ? i : m_rows - 1);
            const int64_t m = row / p->k_w, kw = row % p->k_w;
            const int64_t rw = kw * p->dil_w % p->stride_w, q0 = kw * p->dil_w / p->stride_w;
            xrow[i] = planes + ((m * p->stride_w + rw) * k->plane + q0) * es;
            yrow[i] = i >= m_rows ? dummy : acc + i * k->cgp * es;
        }
        /* a later chunk starts from the accumulator (as in bwd_weights_packed.c) */
        d->uk->channels(nr, nrows, list, p->in_w, xrow, first ? tconv_bwd_zero_bias : NULL, yrow);
    }
}

/* Accumulator rows [begin, end) of the flat (group, kh, m, kw) range into
 * dw's layout. */
static void unpack_dw(void *arg, int64_t begin, int64_t end)
{
    const bwd_weights_run *r = arg;
    const tconv_bwd_weights_driver *d = r->d;
    const bwd_weights_rows_plan *k = &d->s.rows;
    const tconv_problem *p = &d->p;
    for (int64_t row = begin; row < end; row++) {
        const int64_t mk = row % k->rows_n, gk = row / k->rows_n;
        const int64_t kh = gk % p->k_h, g = gk / p->k_h;
        const int64_t m = mk / p->k_w, kw = mk % p->k_w;
        tconv_copy_run(d->es, r->dw + tconv_w_index(p, g * p->cg, m, kh, kw) * d->es, p->w.cg,
                       r->acc + row * k->cgp * d->es, 1, p->cg);
    }
}

static void prepare(bwd_weights_run *r)
{
    tconv_parallel_ranges(r->d->p.groups * r->d->p.batch, 1, pack_images, r);
}

static void unpack(bwd_weights_run *r)
{
    const tconv_problem *p = &r->d->p;
    tconv_parallel_ranges(p->groups * p->k_h * r->d->s.rows.rows_n, 4, unpack_dw, r);
}

const bwd_weights_strategy tconv_bwd_weights_rows = {
    .plan = plan,
    .describe = describe,
    .prepare = prepare,
    .run_tasks = run_tasks,
    .unpack = unpack,
};
