/*
 * Backward-weights, packed strategy (bwd_weights_internal.h): the forward
 * CHANNELS and PIXELS tiles with the filters as vector lanes. For every tap
 * (kh, kw), input channel c and filter m of
 * its group g,
 *   dw[c][m][kh][kw] = sum over n, ih, iw of
 *       x[n][c][ih][iw] * dyg[n][g*Fg + m][ih*s_h + kh*d_h][iw*s_w + kw*d_w]
 * where dyg is dy on the uncropped grid the taps reach (zero where the crop
 * removed positions), and dbias[f] = the sum of dy[n][f][.][.]. Run on the
 * forward microkernels (see bwd_driver.h for the mapping).
 *
 * dy is packed once per call as [g][filter block][n][u][rw][q][NR]: grid
 * row u, grid column v = q*s_w + rw. Tap kw reads, along input row ih,
 * columns v = iw*s_w + kw*d_w: one phase rw = kw*d_w mod s_w and
 * consecutive q = iw + kw*d_w div s_w, so the NR filters of consecutive
 * pixels are consecutive rows of NR, as the microkernels' weight operand
 * wants. One microkernel "tap" is one input row (n, ih); its reduction
 * (kc) runs along the row's in_w pixels. A chunk's tasks are the output
 * tiles (group, filter block, tap, channel block).
 */
#include <stdio.h>
#include <string.h>

#include "kernels/bwd_weights_internal.h"
#include "kernels/transpose.h"
#include "runtime/checked.h"
#include "runtime/topology.h"

static tconv_status plan(tconv_bwd_weights_driver *d)
{
    const tconv_problem *p = &d->p;
    bwd_weights_packed_plan *k = &d->s.packed;
    k->pixels = d->uk->family == TCONV_UK_PIXELS;
    k->taps = p->k_h * p->k_w;
    k->fblocks = (p->fg + d->nr - 1) / d->nr;
    k->fgp = k->fblocks * d->nr;
    k->cblocks = (p->cg + d->mr - 1) / d->mr;
    d->tiles = p->groups * k->fblocks * k->taps * k->cblocks;
    /* PIXELS tiles read MR channels from each pixel, past Cg in the last
     * block: in place only when blocks are whole (no read past x's end). */
    k->x_in_place = k->pixels ? p->x.c == 1 && p->cg % d->mr == 0 : p->x.w == 1;
    /* The packed dy, the accumulator and the copy of x must be indexable. */
    int64_t dy_bytes, acc_bytes, x_bytes;
    if (!tconv_mul_ok(p->groups * k->fgp, p->batch, &dy_bytes) ||
        !tconv_mul_ok(dy_bytes, d->gh * p->stride_w, &dy_bytes) ||
        !tconv_mul_ok(dy_bytes, d->qw * d->es, &dy_bytes) ||
        !tconv_mul_ok(p->groups * k->taps, p->cg * k->fgp * d->es, &acc_bytes) ||
        !tconv_add_ok(p->x_elems, d->mr, &x_bytes) || !tconv_mul_ok(x_bytes, d->es, &x_bytes))
        return TCONV_EOVERFLOW;
    d->dy_bytes = (size_t)dy_bytes;
    d->acc_bytes = (size_t)acc_bytes;
    d->x_bytes = k->x_in_place ? 0 : (size_t)x_bytes;
    /* Chunk: per input row, its x (Cg channels) and packed dy (s_h grid rows
     * of s_w*qw*NR each). A CHANNELS tile's round trip through the
     * accumulator touches MR rows Fgp apart; when the accumulator is well
     * beyond L2 (dw of a wide layer: megabytes), each row is a line or two
     * from memory, and a chunk of at least 1024 pixels of reduction, not
     * 256, pays off even though a chunk's x and dy then outgrow L2: they
     * stream, in runs of in_w pixels. In alternating runs on an AMD EPYC
     * (AVX2, one thread, f32 NCHW unless said), time against 256: U-Net
     * 512->256 (2 MB accumulator, 52-pixel rows) 0.87-0.88x (f64 0.88x),
     * 1024->512 (8 MB, 28) 0.89-0.94x; but DCGAN 256->128 at batch 16 (2 MB,
     * rows of 8: 128 short runs per call) 1.09-1.14x, and Mask R-CNN's mask
     * head (1 MB, 14) 1.03x (NHWC 1.05-1.07x). So only accumulators over
     * twice L2 with rows of 16 pixels or more take 1024; PIXELS tiles keep
     * 256. */
    const int far_acc = !k->pixels && p->in_w >= 16 &&
                        acc_bytes > 2 * tconv_topology_get()->l2_bytes;
    tconv_bwd_weights_plan_chunks(
        d, (p->in_w * p->cg + p->stride_h * p->stride_w * d->qw * d->nr) * d->es,
        far_acc ? 1024 : TCONV_BWD_CHUNK_MIN_PIXELS);
    /* a tap list of the chunk's rows, and a tile a later chunk stores before
     * adding it in */
    d->thread_bytes = (size_t)d->chunk_rows * sizeof(tconv_uk_tap) +
                      (size_t)(TCONV_BWD_MAX_TILE * TCONV_BWD_MAX_TILE * 8);
    return TCONV_OK;
}

static void describe(const tconv_bwd_weights_driver *d, char *buf, size_t n)
{
    snprintf(buf, n, "%s chunks=%lldx%lld rows%s", d->uk->name, (long long)d->nchunks,
             (long long)d->chunk_rows, d->s.packed.x_in_place ? " x in place" : "");
}

static int64_t dyp_index(const tconv_bwd_weights_driver *d, int64_t g, int64_t b, int64_t n,
                         int64_t u, int64_t rw, int64_t q)
{
    return (((((g * d->s.packed.fblocks + b) * d->p.batch + n) * d->gh + u) * d->p.stride_w + rw) * d->qw +
            q) * d->nr;
}

/*
 * Packs the filters of block b of group g for image n, and sums each one's
 * dy along each row (bias-only rows and positions of negative crops too)
 * into bias_rows, in the driver's order (bwd_weights_internal.h). The sweep goes
 * along dy's rows with the block's filters innermost: as they lie for
 * NHWC, transposed a piece of a row at a time otherwise, so no layout
 * makes it walk the image once per filter. Typed per element type: this
 * sweep touches all of dy.
 */
#define PIECE 32 /* pixels of a row at a time */
#define PACK_DY(T, NAME)                                                                      \
    static void NAME(const bwd_weights_run *r, int64_t g, int64_t b, int64_t n)               \
    {                                                                                         \
        const tconv_bwd_weights_driver *d = r->d;                                             \
        const tconv_problem *p = &d->p;                                                       \
        const int64_t nr = d->nr, sw = p->stride_w, yc = p->y.c, yw = p->y.w;                 \
        const int64_t rowlen = sw * d->qw * nr; /* one grid row, every phase */               \
        T *slab = (T *)r->dybuf + dyp_index(d, g, b, n, 0, 0, 0);                             \
        const int64_t f0 = g * p->fg + b * nr;                                                \
        const int64_t cols = b * nr + nr <= p->fg ? nr : p->fg - b * nr;                      \
        /* dy columns [ow0, ow1) lie on the grid (v = ow + crop_left). */                     \
        const int64_t ow0 = p->crop_left < 0 ? -p->crop_left : 0;                             \
        int64_t ow1 = d->gw - p->crop_left;                                                   \
        if (ow1 > p->out_w) ow1 = p->out_w;                                                   \
        const int64_t v0 = ow0 + p->crop_left, v1 = ow1 > ow0 ? ow1 + p->crop_left : v0;      \
        double sum[TCONV_BWD_MAX_TILE] = {0};                                                 \
        T piece[PIECE * TCONV_BWD_MAX_TILE]; /* a transposed piece of a row */                \
        const int bias = r->bias_rows != NULL;                                                \
        /* Zeros only where no dy value goes: grid rows no dy row reaches. */                 \
        for (int64_t u = 0; u < d->gh; u++)                                                   \
            if (u - p->crop_top < 0 || u - p->crop_top >= p->out_h)                           \
                memset(slab + u * rowlen, 0, (size_t)rowlen * sizeof(T));                     \
        for (int64_t oh = 0; oh < p->out_h; oh++) {                                           \
            const T *row = (const T *)r->dy + tconv_y_index(p, n, f0, oh, 0);                 \
            const int64_t u = oh + p->crop_top;                                               \
            double *row_sums = bias ? r->bias_rows + (n * p->out_h + oh) * p->filters + f0 : NULL; \
            for (int64_t j = 0; j < cols; j++) sum[j] = 0.0;                                  \
            if (u < 0 || u >= d->gh) { /* a bias-only row */                                  \
                for (int64_t ow = 0; bias && ow < p->out_w; ow++)                             \
                    for (int64_t j = 0; j < cols; j++) sum[j] += (double)row[ow * yw + j * yc]; \
                for (int64_t j = 0; bias && j < cols; j++) row_sums[j] = sum[j];              \
                continue;                                                                     \
            }                                                                                 \
            T *grow = slab + u * rowlen;                                                      \
            /* and, in a row, the columns outside [v0, v1) (crops, phase padding) */          \
            for (int64_t v = 0; v < sw * d->qw; v++)                                          \
                if (v < v0 || v >= v1) memset(grow + ((v % sw) * d->qw + v / sw) * nr, 0, (size_t)nr * sizeof(T)); \
            /* Grid column v goes to phase v % s_w, position v / s_w; the sum   */            \
            /* runs along the row from ow = 0, as the other drivers' do.         */           \
            int64_t rw = v0 % sw, q = v0 / sw;                                                \
            for (int64_t ow = 0; ow < p->out_w;) {                                            \
                if (ow < ow0 || ow >= ow1) {                                                  \
                    for (int64_t j = 0; bias && j < cols; j++) sum[j] += (double)row[ow * yw + j * yc]; \
                    ow++;                                                                     \
                    continue;                                                                 \
                }                                                                             \
                /* A piece of the row with the filters innermost: dy itself   */              \
                /* (NHWC), or a transposed copy of it (kernels/transpose.h):  */              \
                /* element by element, a pixel's NR filters came from NR      */              \
                /* planes, 64% of ENet 32->32's pass (NCHW, AMD EPYC).        */              \
                const int64_t len = ow1 - ow < PIECE ? ow1 - ow : PIECE;                      \
                const T *px = row + ow * yw;                                                  \
                int64_t px_step = yw;                                                         \
                if (yc != 1) {                                                                \
                    tconv_copy_runs(d->uk->transposes, (int64_t)sizeof(T), (char *)piece, 1, nr, (const char *)px, \
                                    yc, yw, len, cols);                                       \
                    px = piece;                                                               \
                    px_step = nr;                                                             \
                }                                                                             \
                for (int64_t k = 0; k < len; k++, px += px_step) {                            \
                    T *dst = grow + (rw * d->qw + q) * nr;                                    \
                    memcpy(dst, px, (size_t)cols * sizeof(T));                                \
                    for (int64_t j = 0; bias && j < cols; j++) sum[j] += (double)px[j];       \
                    for (int64_t j = cols; j < nr; j++) dst[j] = 0;                           \
                    if (++rw == sw) { rw = 0; q++; }                                          \
                }                                                                             \
                ow += len;                                                                    \
            }                                                                                 \
            for (int64_t j = 0; bias && j < cols; j++) row_sums[j] = sum[j];                  \
        }                                                                                     \
    }
PACK_DY(float, pack_dy_f32)
PACK_DY(double, pack_dy_f64)
#undef PACK_DY
#undef PIECE

/* Tasks [begin, end) of the flat (group, filter block, image) range. */
static void pack_dy(void *arg, int64_t begin, int64_t end)
{
    const bwd_weights_run *r = arg;
    const tconv_bwd_weights_driver *d = r->d;
    const bwd_weights_packed_plan *k = &d->s.packed;
    for (int64_t t = begin; t < end; t++) {
        const int64_t n = t % d->p.batch, gb = t / d->p.batch;
        const int64_t g = gb / k->fblocks, b = gb % k->fblocks;
        if (d->es == 8) pack_dy_f64(r, g, b, n);
        else pack_dy_f32(r, g, b, n);
    }
}

/* Images [begin, end) of x re-laid for the kernels: NCHW for CHANNELS
 * tiles, NHWC for PIXELS tiles. */
static void copy_x(void *arg, int64_t begin, int64_t end)
{
    const bwd_weights_run *r = arg;
    const tconv_problem *p = &r->d->p;
    const int64_t es = r->d->es;
    char *dst = r->xbuf;
    /* Row by row, so that a channel-innermost x is walked once (a row of
     * all channels stays in cache), not once per channel. */
    for (int64_t n = begin; n < end; n++)
        for (int64_t h = 0; h < p->in_h; h++)
            tconv_copy_runs(r->d->uk->transposes, es, dst + (n * r->xs.n + h * r->xs.h) * es, r->xs.c, r->xs.w,
                            r->x + tconv_x_index(p, n, 0, h, 0) * es, p->x.c, p->x.w, p->in_w,
                            p->channels);
}

/* The tiles [begin, end) of the flat (group, filter block, tap, channel
 * block) range, for the rows of chunk r->chunk. */
static void run_tasks(void *arg, int64_t begin, int64_t end)
{
    const bwd_weights_run *r = arg;
    const tconv_bwd_weights_driver *d = r->d;
    const bwd_weights_packed_plan *k = &d->s.packed;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, mr = d->mr, nr = d->nr;
    const int first = r->chunk == 0;
    const int64_t row0 = r->row0, nrows = r->nrows;
    tconv_uk_tap *list = tconv_bwd_weights_thread_scratch((bwd_weights_run *)r);
    if (!list) return;
    char *temp = (char *)(list + d->chunk_rows); /* a later chunk's tile, added in after */
    char dummy[TCONV_BWD_MAX_TILE * 8] __attribute__((aligned(64))) = {0}; /* rows past m: the tile may read them back (a later chunk) */
    const void *xrow[TCONV_BWD_MAX_TILE];
    void *yrow[TCONV_BWD_MAX_TILE];
    int64_t prev = -1;
    for (int64_t item = begin; item < end; item++) {
        const int64_t cb = item % k->cblocks, gbt = item / k->cblocks;
        const int64_t t = gbt % k->taps, gb = gbt / k->taps;
        const int64_t g = gb / k->fblocks, b = gb % k->fblocks;
        if (gbt != prev) { /* this tap's rows of the chunk */
            const int64_t kh = t / p->k_w, kw = t % p->k_w;
            const int64_t rw = kw * p->dil_w % p->stride_w, q0 = kw * p->dil_w / p->stride_w;
            for (int64_t j = 0; j < nrows; j++) {
                const int64_t n = (row0 + j) / p->in_h, ih = (row0 + j) % p->in_h;
                list[j].x_off = n * r->xs.n + ih * r->xs.h;
                list[j].w = r->dybuf +
                            dyp_index(d, g, b, n, ih * p->stride_h + kh * p->dil_h, rw, q0) * es;
            }
            prev = gbt;
        }
        const int64_t c0 = cb * mr, m = p->cg - c0 < mr ? p->cg - c0 : mr;
        /* Accumulator rows of channels c0.. for (g, tap t), columns b*NR.. */
        char *acc = r->acc + (((g * k->taps + t) * p->cg + c0) * k->fgp + b * nr) * es;
        const char *xbase = r->xs.at + (g * p->cg + c0) * r->xs.c * es;
        if (k->pixels) {
            /* PIXELS tiles always start from the bias: a later chunk's
             * tile goes to a temporary, added in after */
            d->uk->pixels(m, nr, nrows, list, p->in_w, r->xs.w, xbase, tconv_bwd_zero_bias,
                          first ? acc : temp, first ? k->fgp : nr, 1);
            if (!first) tconv_bwd_weights_add_tile(es, acc, k->fgp, temp, nr, m);
        } else {
            /* A later chunk's tile starts from what the earlier ones left in
             * the accumulator (no bias: the tile loads it), rather than
             * from zero in a temporary added in after: one pass over the
             * tile fewer (U-Net 1024->512's accumulator is 8 MB, re-read
             * from memory by that add: 13% of the pass). */
            for (int64_t i = 0; i < mr; i++) {
                xrow[i] = xbase + (i < m ? i : m - 1) * r->xs.c * es;
                yrow[i] = i >= m ? dummy : acc + i * k->fgp * es;
            }
            d->uk->channels(nr, nrows, list, p->in_w, xrow, first ? tconv_bwd_zero_bias : NULL, yrow);
        }
    }
}

/* The accumulator rows of (group, channel) pairs [begin, end), all taps,
 * into dw's layout (filters before channels: W_IOHW, W_MATLAB, where each
 * (channel, filter) pair's taps are adjacent: tconv_w_taps_adjacent). A
 * channel's dw is Fg filters of k_h * k_w adjacent taps: per line of taps
 * (a row of the kernel for W_IOHW, a column for W_MATLAB), the taps x Fg
 * rows of the accumulator are transposed into it, so that it is written
 * along its lines while it is in L1. Element by element, one tap of every
 * filter per copy, took a third longer (pix2pix 1024 -> 256: 16 MB of dw,
 * ~5 ms a pass on an EPYC core against ~3.7 ms). */
static void unpack_dw(void *arg, int64_t begin, int64_t end)
{
    const bwd_weights_run *r = arg;
    const tconv_bwd_weights_driver *d = r->d;
    const bwd_weights_packed_plan *k = &d->s.packed;
    const tconv_problem *p = &d->p;
    /* lines of taps: along kw (W_IOHW) or along kh (W_MATLAB) */
    const int along_kw = p->w.kw == 1;
    const int64_t lines = along_kw ? p->k_h : p->k_w, len = along_kw ? p->k_w : p->k_h;
    const int64_t acc_row = p->cg * k->fgp;                   /* from tap t to t + 1 */
    const int64_t acc_step = along_kw ? acc_row : p->k_w * acc_row; /* along a line */
    for (int64_t gc = begin; gc < end; gc++) {
        const int64_t g = gc / p->cg, c = gc % p->cg;
        for (int64_t u = 0; u < lines; u++) {
            const int64_t kh = along_kw ? u : 0, kw = along_kw ? 0 : u;
            const int64_t t = kh * p->k_w + kw; /* the accumulator's taps are kh-major */
            tconv_transpose(d->uk->transposes, d->es, r->dw + tconv_w_index(p, gc, 0, kh, kw) * d->es, p->w.m,
                            r->acc + ((g * k->taps + t) * p->cg + c) * k->fgp * d->es, acc_step,
                            len, p->fg);
        }
    }
}

/* The same for weights whose channels are contiguous (W_OHWI): blocks
 * [begin, end) of the flat (group, tap, block of UNPACK_CHANNELS channels)
 * range, filter by filter, so that dw is written along its rows instead of
 * one element per row Cg*k_h*k_w apart. */
#define UNPACK_CHANNELS 16
static void unpack_dw_channels_inner(void *arg, int64_t begin, int64_t end)
{
    const bwd_weights_run *r = arg;
    const tconv_bwd_weights_driver *d = r->d;
    const bwd_weights_packed_plan *k = &d->s.packed;
    const tconv_problem *p = &d->p;
    const int64_t cblk = (p->cg + UNPACK_CHANNELS - 1) / UNPACK_CHANNELS;
    for (int64_t item = begin; item < end; item++) {
        const int64_t gt = item / cblk, c0 = item % cblk * UNPACK_CHANNELS;
        const int64_t t = gt % k->taps, g = gt / k->taps;
        const int64_t count = p->cg - c0 < UNPACK_CHANNELS ? p->cg - c0 : UNPACK_CHANNELS;
        const char *src = r->acc + (gt * p->cg + c0) * k->fgp * d->es;
        char *dst = r->dw + tconv_w_index(p, g * p->cg + c0, 0, t / p->k_w, t % p->k_w) * d->es;
        for (int64_t m = 0; m < p->fg; m++)
            tconv_copy_run(d->es, dst + m * p->w.m * d->es, 1, src + m * d->es, k->fgp, count);
    }
}

/* dy packed, and x copied where the kernels cannot read it in place:
 * NCHW for CHANNELS tiles, NHWC for PIXELS tiles. */
static void prepare(bwd_weights_run *r)
{
    const tconv_bwd_weights_driver *d = r->d;
    const bwd_weights_packed_plan *k = &d->s.packed;
    const tconv_problem *p = &d->p;
    tconv_parallel_ranges(p->groups * k->fblocks * p->batch, 1, pack_dy, r);
    if (k->x_in_place) return;
    if (k->pixels) /* NHWC */
        r->xs = (bwd_weights_view){r->xbuf, p->in_h * p->in_w * p->channels,
                                   p->in_w * p->channels, p->channels, 1};
    else /* NCHW */
        r->xs = (bwd_weights_view){r->xbuf, p->channels * p->in_h * p->in_w, p->in_w, 1,
                                   p->in_h * p->in_w};
    memset(r->xbuf + p->x_elems * d->es, 0, (size_t)(d->mr * d->es)); /* PIXELS over-read */
    tconv_parallel_ranges(p->batch, 1, copy_x, r);
}

static void unpack(bwd_weights_run *r)
{
    const tconv_problem *p = &r->d->p;
    const int64_t taps = r->d->s.packed.taps;
    if (p->w.cg == 1)
        tconv_parallel_ranges(p->groups * taps * ((p->cg + UNPACK_CHANNELS - 1) / UNPACK_CHANNELS),
                              4, unpack_dw_channels_inner, r);
    else
        tconv_parallel_ranges(p->groups * p->cg, 4, unpack_dw, r);
}

const bwd_weights_strategy tconv_bwd_weights_packed = {
    .plan = plan,
    .describe = describe,
    .prepare = prepare,
    .run_tasks = run_tasks,
    .unpack = unpack,
};
