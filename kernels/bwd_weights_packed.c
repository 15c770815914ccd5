/*
 * Backward-weights, packed strategy (kernels/bwd_weights_packed.h): dy
 * packed as the forward tiles' weight operand, x read in place or copied.
 */
#include "kernels/bwd_weights_packed.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/bwd_driver.h"
#include "kernels/bwd_weights_common.h"
#include "kernels/elem.h"
#include "kernels/transpose.h"
#include "runtime/checked.h"
#include "runtime/scratch.h"
#include "runtime/threads.h"
#include "runtime/topology.h"

struct tconv_bwd_weights_packed {
    tconv_problem p;
    const tconv_ukernel *uk;
    int pixels;         /* PIXELS family: MR channels as a vector, x channel-innermost */
    int64_t es, mr, nr;
    int64_t taps;       /* k_h * k_w */
    int64_t gh, gw, qw; /* grid, and columns per phase: ceil(gw / s_w) */
    int64_t fblocks;    /* ceil(Fg / NR) */
    int64_t fgp;        /* fblocks * NR: a row of the accumulator */
    int64_t cblocks;    /* ceil(Cg / MR) */
    int64_t rows;       /* batch * in_h: the reduction, in input rows */
    int64_t chunk_rows, nchunks;
    int x_in_place;     /* the kernels read x where it is */
    tconv_scratch *scratch; /* packed dy, accumulator, x copy, bias sums: kept between calls */
};

tconv_status tconv_bwd_weights_packed_create(const tconv_problem *p, const tconv_ukernel *uk,
                                             tconv_bwd_weights_packed **out)
{
    *out = NULL;
    tconv_bwd_weights_packed *d = calloc(1, sizeof *d);
    if (!d) return TCONV_ENOMEM;
    d->p = *p;
    d->uk = uk;
    d->pixels = uk->family == TCONV_UK_PIXELS;
    d->es = tconv_dtype_size(p->dtype);
    d->mr = uk->mr;
    d->nr = uk->nr;
    d->taps = p->k_h * p->k_w;
    d->fblocks = (p->fg + d->nr - 1) / d->nr;
    d->fgp = d->fblocks * d->nr;
    d->cblocks = (p->cg + d->mr - 1) / d->mr;
    d->rows = p->batch * p->in_h;
    int64_t elems, acc;
    if (!tconv_bwd_grid(p, &d->gh, &d->gw)) {
        free(d);
        return TCONV_EOVERFLOW;
    }
    d->qw = (d->gw + p->stride_w - 1) / p->stride_w;
    /* The packed dy and the accumulator must be indexable. */
    if (!tconv_mul_ok(p->groups * d->fgp, p->batch, &elems) ||
        !tconv_mul_ok(elems, d->gh * p->stride_w, &elems) ||
        !tconv_mul_ok(elems, d->qw * d->es, &elems) ||
        !tconv_mul_ok(p->groups * d->taps, p->cg * d->fgp * d->es, &acc) ||
        !tconv_add_ok(p->x_elems, d->mr, &elems) || !tconv_mul_ok(elems, d->es, &elems)) {
        free(d);
        return TCONV_EOVERFLOW;
    }
    /* PIXELS tiles read MR channels from each pixel, past Cg in the last
     * block: in place only when blocks are whole (no read past x's end). */
    d->x_in_place = d->pixels ? p->x.c == 1 && p->cg % d->mr == 0 : p->x.w == 1;

    /* Chunk: per input row, its x (Cg channels) and packed dy (s_h grid rows
     * of s_w*qw*NR each). */
    const int64_t row_bytes = (p->in_w * p->cg + p->stride_h * p->stride_w * d->qw * d->nr) * d->es;
    const int64_t cr = tconv_bwd_chunk_rows(p, row_bytes, d->rows);
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

void tconv_bwd_weights_packed_destroy(tconv_bwd_weights_packed *d)
{
    if (d) tconv_scratch_delete(d->scratch);
    free(d);
}

void tconv_bwd_weights_packed_describe(const tconv_bwd_weights_packed *d, char *buf, size_t n)
{
    snprintf(buf, n, "%s chunks=%lldx%lld rows%s", d->uk->name, (long long)d->nchunks,
             (long long)d->chunk_rows, d->x_in_place ? " x in place" : "");
}

typedef struct run_ctx {
    const tconv_bwd_weights_packed *d;
    const char *x, *dy;
    char *dw, *dbias;
    char *dyp;         /* packed dy */
    double *bias_rows; /* [n][oh][F]: each dy row's sum (bwd_weights_common.h) */
    const char *xs;    /* x as the kernels read it */
    int64_t xn, xh, xw, xc; /* its strides (elements) of image, row, pixel, channel */
    char *acc;         /* [g][tap][c][fgp] */
    int64_t chunk;     /* the chunk being run */
    _Atomic int failed; /* a thread found no scratch for its tap list */
} run_ctx;

static int64_t dyp_index(const tconv_bwd_weights_packed *d, int64_t g, int64_t b, int64_t n,
                         int64_t u, int64_t rw, int64_t q)
{
    return (((((g * d->fblocks + b) * d->p.batch + n) * d->gh + u) * d->p.stride_w + rw) * d->qw +
            q) * d->nr;
}

/*
 * Packs the filters of block b of group g for image n, and sums each one's
 * dy along each row (bias-only rows and positions of negative crops too)
 * into bias_rows, in the order of bwd_weights_common.h. The sweep goes
 * along dy's rows with the block's filters innermost: as they lie for
 * NHWC, transposed a piece of a row at a time otherwise, so no layout
 * makes it walk the image once per filter. Typed per element type: this
 * sweep touches all of dy.
 */
#define PIECE 32 /* pixels of a row at a time */
#define PACK_DY(T, NAME)                                                                     \
    static void NAME(const run_ctx *r, int64_t g, int64_t b, int64_t n)                      \
    {                                                                                        \
        const tconv_bwd_weights_packed *d = r->d;                                            \
        const tconv_problem *p = &d->p;                                                      \
        const int64_t nr = d->nr, sw = p->stride_w, yc = p->y.c, yw = p->y.w;                \
        const int64_t rowlen = sw * d->qw * nr; /* one grid row, every phase */             \
        T *slab = (T *)r->dyp + dyp_index(d, g, b, n, 0, 0, 0);                              \
        const int64_t f0 = g * p->fg + b * nr;                                               \
        const int64_t cols = b * nr + nr <= p->fg ? nr : p->fg - b * nr;                     \
        /* dy columns [ow0, ow1) lie on the grid (v = ow + crop_left). */                   \
        const int64_t ow0 = p->crop_left < 0 ? -p->crop_left : 0;                            \
        int64_t ow1 = d->gw - p->crop_left;                                                  \
        if (ow1 > p->out_w) ow1 = p->out_w;                                                  \
        const int64_t v0 = ow0 + p->crop_left, v1 = ow1 > ow0 ? ow1 + p->crop_left : v0;     \
        double sum[TCONV_BWD_MAX_TILE] = {0};                                                \
        T piece[PIECE * TCONV_BWD_MAX_TILE]; /* a transposed piece of a row */              \
        const int bias = r->bias_rows != NULL;                                               \
        /* Zeros only where no dy value goes: grid rows no dy row reaches. */               \
        for (int64_t u = 0; u < d->gh; u++)                                                  \
            if (u - p->crop_top < 0 || u - p->crop_top >= p->out_h)                          \
                memset(slab + u * rowlen, 0, (size_t)rowlen * sizeof(T));                    \
        for (int64_t oh = 0; oh < p->out_h; oh++) {                                          \
            const T *row = (const T *)r->dy + tconv_y_index(p, n, f0, oh, 0);                \
            const int64_t u = oh + p->crop_top;                                              \
            double *row_sums = bias ? r->bias_rows + (n * p->out_h + oh) * p->filters + f0 : NULL; \
            for (int64_t j = 0; j < cols; j++) sum[j] = 0.0;                                 \
            if (u < 0 || u >= d->gh) { /* a bias-only row */                                 \
                for (int64_t ow = 0; bias && ow < p->out_w; ow++)                            \
                    for (int64_t j = 0; j < cols; j++) sum[j] += (double)row[ow * yw + j * yc]; \
                for (int64_t j = 0; bias && j < cols; j++) row_sums[j] = sum[j];             \
                continue;                                                                    \
            }                                                                                \
            T *grow = slab + u * rowlen;                                                     \
            /* and, in a row, the columns outside [v0, v1) (crops, phase padding) */        \
            for (int64_t v = 0; v < sw * d->qw; v++)                                         \
                if (v < v0 || v >= v1) memset(grow + ((v % sw) * d->qw + v / sw) * nr, 0, (size_t)nr * sizeof(T)); \
            /* Grid column v goes to phase v % s_w, position v / s_w; the sum   */          \
            /* runs along the row from ow = 0, as the other drivers' do.         */          \
            int64_t rw = v0 % sw, q = v0 / sw;                                               \
            for (int64_t ow = 0; ow < p->out_w;) {                                           \
                if (ow < ow0 || ow >= ow1) {                                                 \
                    for (int64_t j = 0; bias && j < cols; j++) sum[j] += (double)row[ow * yw + j * yc]; \
                    ow++;                                                                    \
                    continue;                                                                \
                }                                                                            \
                /* A piece of the row with the filters innermost: dy itself   */            \
                /* (NHWC), or a transposed copy of it (kernels/transpose.h):  */            \
                /* element by element, a pixel's NR filters came from NR      */            \
                /* planes, 64% of ENet 32->32's pass (NCHW, AMD EPYC).        */            \
                const int64_t len = ow1 - ow < PIECE ? ow1 - ow : PIECE;                     \
                const T *px = row + ow * yw;                                                 \
                int64_t px_step = yw;                                                        \
                if (yc != 1) {                                                               \
                    tconv_copy_runs((int64_t)sizeof(T), (char *)piece, 1, nr, (const char *)px, \
                                    yc, yw, len, cols);                                      \
                    px = piece;                                                              \
                    px_step = nr;                                                            \
                }                                                                            \
                for (int64_t k = 0; k < len; k++, px += px_step) {                           \
                    T *dst = grow + (rw * d->qw + q) * nr;                                   \
                    memcpy(dst, px, (size_t)cols * sizeof(T));                               \
                    for (int64_t j = 0; bias && j < cols; j++) sum[j] += (double)px[j];      \
                    for (int64_t j = cols; j < nr; j++) dst[j] = 0;                          \
                    if (++rw == sw) { rw = 0; q++; }                                         \
                }                                                                            \
                ow += len;                                                                   \
            }                                                                                \
            for (int64_t j = 0; bias && j < cols; j++) row_sums[j] = sum[j];                 \
        }                                                                                    \
    }
PACK_DY(float, pack_dy_f32)
PACK_DY(double, pack_dy_f64)
#undef PACK_DY
#undef PIECE

/* Tasks [begin, end) of the flat (group, filter block, image) range. */
static void pack_dy(void *arg, int64_t begin, int64_t end)
{
    const run_ctx *r = arg;
    const tconv_bwd_weights_packed *d = r->d;
    for (int64_t t = begin; t < end; t++) {
        const int64_t n = t % d->p.batch, gb = t / d->p.batch;
        const int64_t g = gb / d->fblocks, b = gb % d->fblocks;
        if (d->es == 8) pack_dy_f64(r, g, b, n);
        else pack_dy_f32(r, g, b, n);
    }
}

/* Images [begin, end) of x re-laid for the kernels: NCHW for CHANNELS
 * tiles, NHWC for PIXELS tiles. */
static void copy_x(void *arg, int64_t begin, int64_t end)
{
    const run_ctx *r = arg;
    const tconv_problem *p = &r->d->p;
    const int64_t es = r->d->es;
    char *dst = (char *)r->xs;
    /* Row by row, so that a channel-innermost x is walked once (a row of
     * all channels stays in cache), not once per channel. */
    for (int64_t n = begin; n < end; n++)
        for (int64_t h = 0; h < p->in_h; h++)
            tconv_copy_runs(es, dst + (n * r->xn + h * r->xh) * es, r->xc, r->xw,
                            r->x + tconv_x_index(p, n, 0, h, 0) * es, p->x.c, p->x.w, p->in_w,
                            p->channels);
}

/* The tiles [begin, end) of the flat (group, filter block, tap, channel
 * block) range, for the rows of chunk r->chunk. */
static void run_tiles(void *arg, int64_t begin, int64_t end)
{
    const run_ctx *r = arg;
    const tconv_bwd_weights_packed *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, mr = d->mr, nr = d->nr;
    const int first = r->chunk == 0;
    int64_t row0, nrows;
    char *temp; /* a later chunk's tile, added in after */
    tconv_uk_tap *list = tconv_bwd_chunk_scratch(r->chunk, d->chunk_rows, d->rows, &row0, &nrows, &temp);
    if (!list) { /* no scratch on this thread: the pass fails with ENOMEM */
        atomic_store(&((run_ctx *)r)->failed, 1);
        return;
    }
    char dummy[TCONV_BWD_MAX_TILE * 8] __attribute__((aligned(64))) = {0}; /* rows past m: the tile may read them back (a later chunk) */
    const void *xrow[TCONV_BWD_MAX_TILE];
    void *yrow[TCONV_BWD_MAX_TILE];
    int64_t prev = -1;
    for (int64_t item = begin; item < end; item++) {
        const int64_t cb = item % d->cblocks, gbt = item / d->cblocks;
        const int64_t t = gbt % d->taps, gb = gbt / d->taps;
        const int64_t g = gb / d->fblocks, b = gb % d->fblocks;
        if (gbt != prev) { /* this tap's rows of the chunk */
            const int64_t kh = t / p->k_w, kw = t % p->k_w;
            const int64_t rw = kw * p->dil_w % p->stride_w, q0 = kw * p->dil_w / p->stride_w;
            for (int64_t k = 0; k < nrows; k++) {
                const int64_t n = (row0 + k) / p->in_h, ih = (row0 + k) % p->in_h;
                list[k].x_off = n * r->xn + ih * r->xh;
                list[k].w = r->dyp +
                            dyp_index(d, g, b, n, ih * p->stride_h + kh * p->dil_h, rw, q0) * es;
            }
            prev = gbt;
        }
        const int64_t c0 = cb * mr, m = p->cg - c0 < mr ? p->cg - c0 : mr;
        /* Accumulator rows of channels c0.. for (g, tap t), columns b*NR.. */
        char *acc = r->acc + (((g * d->taps + t) * p->cg + c0) * d->fgp + b * nr) * es;
        const char *xbase = r->xs + (g * p->cg + c0) * r->xc * es;
        if (d->pixels) {
            /* PIXELS tiles always start from the bias: a later chunk's
             * tile goes to a temporary, added in after */
            d->uk->pixels(m, nr, nrows, list, p->in_w, r->xw, xbase, tconv_bwd_zero_bias,
                          first ? acc : temp, first ? d->fgp : nr, 1);
            if (!first) tconv_bwd_add_tile(es, acc, d->fgp, temp, nr, m);
        } else {
            /* A later chunk's tile starts from what the earlier ones left in
             * the accumulator (no bias: the tile loads it), rather than
             * from zero in a temporary added in after: one pass over the
             * tile fewer (U-Net 1024->512's accumulator is 8 MB, re-read
             * from memory by that add: 13% of the pass). */
            for (int64_t i = 0; i < mr; i++) {
                xrow[i] = xbase + (i < m ? i : m - 1) * r->xc * es;
                yrow[i] = i >= m ? dummy : acc + i * d->fgp * es;
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
    const run_ctx *r = arg;
    const tconv_bwd_weights_packed *d = r->d;
    const tconv_problem *p = &d->p;
    /* lines of taps: along kw (W_IOHW) or along kh (W_MATLAB) */
    const int along_kw = p->w.kw == 1;
    const int64_t lines = along_kw ? p->k_h : p->k_w, len = along_kw ? p->k_w : p->k_h;
    const int64_t acc_row = p->cg * d->fgp;                   /* from tap t to t + 1 */
    const int64_t acc_step = along_kw ? acc_row : p->k_w * acc_row; /* along a line */
    for (int64_t gc = begin; gc < end; gc++) {
        const int64_t g = gc / p->cg, c = gc % p->cg;
        for (int64_t u = 0; u < lines; u++) {
            const int64_t kh = along_kw ? u : 0, kw = along_kw ? 0 : u;
            const int64_t t = kh * p->k_w + kw; /* the accumulator's taps are kh-major */
            tconv_transpose(d->es, r->dw + tconv_w_index(p, gc, 0, kh, kw) * d->es, p->w.m,
                            r->acc + ((g * d->taps + t) * p->cg + c) * d->fgp * d->es, acc_step,
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
    const run_ctx *r = arg;
    const tconv_bwd_weights_packed *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t cblk = (p->cg + UNPACK_CHANNELS - 1) / UNPACK_CHANNELS;
    for (int64_t item = begin; item < end; item++) {
        const int64_t gt = item / cblk, c0 = item % cblk * UNPACK_CHANNELS;
        const int64_t t = gt % d->taps, g = gt / d->taps;
        const int64_t count = p->cg - c0 < UNPACK_CHANNELS ? p->cg - c0 : UNPACK_CHANNELS;
        const char *src = r->acc + (gt * p->cg + c0) * d->fgp * d->es;
        char *dst = r->dw + tconv_w_index(p, g * p->cg + c0, 0, t / p->k_w, t % p->k_w) * d->es;
        for (int64_t m = 0; m < p->fg; m++)
            tconv_copy_run(d->es, dst + m * p->w.m * d->es, 1, src + m * d->es, d->fgp, count);
    }
}

tconv_status tconv_bwd_weights_packed_run(const tconv_bwd_weights_packed *d, const void *x,
                                          const void *dy, void *dw, void *dbias)
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
    r.dbias = dbias;
    const int64_t packs = p->groups * d->fblocks * p->batch;
    const size_t sizes[4] = {(size_t)(packs * d->gh * p->stride_w * d->qw * d->nr * es),
                             (size_t)(p->groups * d->taps * p->cg * d->fgp * es),
                             d->x_in_place ? 0 : (size_t)((p->x_elems + d->mr) * es),
                             dbias ? (size_t)(p->batch * p->out_h * p->filters) * sizeof(double) : 0};
    size_t at[4];
    const size_t total = tconv_scratch_carve(sizes, at, 4);
    int kept = 0;
    char *block = total ? tconv_scratch_take(d->scratch, total, &kept) : NULL;
    char *xcopy = NULL;
    if (block) {
        r.dyp = block + at[0];
        r.acc = block + at[1];
        r.bias_rows = dbias ? (double *)(block + at[3]) : NULL;
    }
    if (d->x_in_place) {
        r.xs = x;
        r.xn = p->x.n;
        r.xh = p->x.h;
        r.xw = p->x.w;
        r.xc = p->x.c;
    } else {
        xcopy = block ? block + at[2] : NULL;
        r.xs = xcopy;
        if (d->pixels) { /* NHWC */
            r.xc = 1;
            r.xw = p->channels;
            r.xh = p->in_w * p->channels;
            r.xn = p->in_h * p->in_w * p->channels;
        } else { /* NCHW */
            r.xw = 1;
            r.xh = p->in_w;
            r.xc = p->in_h * p->in_w;
            r.xn = p->channels * p->in_h * p->in_w;
        }
    }
    int ok = block != NULL;
    if (ok) {
        if (xcopy) memset(xcopy + p->x_elems * es, 0, (size_t)(d->mr * es)); /* PIXELS over-read */
        tconv_parallel_ranges(packs, 1, pack_dy, &r);
        if (xcopy) tconv_parallel_ranges(p->batch, 1, copy_x, &r);
        const int64_t items = p->groups * d->fblocks * d->taps * d->cblocks;
        for (r.chunk = 0; r.chunk < d->nchunks; r.chunk++)
            tconv_parallel_ranges(items, 1, run_tiles, &r);
        ok = !atomic_load(&r.failed);
        if (ok && p->w.cg == 1)
            tconv_parallel_ranges(p->groups * d->taps * ((p->cg + UNPACK_CHANNELS - 1) / UNPACK_CHANNELS),
                                  4, unpack_dw_channels_inner, &r);
        else if (ok)
            tconv_parallel_ranges(p->groups * p->cg, 4, unpack_dw, &r);
        if (ok && dbias)
            tconv_bwd_store_bias(p, r.bias_rows, dbias);
    }
    tconv_scratch_give(d->scratch, block, kept);
    return ok ? TCONV_OK : TCONV_ENOMEM;
}
