/*
 * Backward-data: dx[n][c][ih][iw] = sum over m, kh, kw of
 *   w[c][m][kh][kw] * dy[n][g*Fg + m][ih*s_h + kh*d_h - crop_top][iw*s_w + kw*d_w - crop_left]
 * (terms outside dy left out), run on the forward CHANNELS microkernels
 * (see bwd_driver.h for the mapping).
 *
 * dy is read on the grid of uncropped output positions the taps reach,
 * gh x gw with gh = (in_h - 1)*s_h + (k_h - 1)*d_h + 1: grid row u is dy row
 * u - crop_top. When dy is channel-innermost and that grid lies inside it
 * (crops <= 0 and dy at least as large, e.g. no crop, or PyTorch's
 * output_padding), the kernels read dy in place; otherwise it is copied into
 * an NHWC grid with zeros where the crop removed rows or columns.
 *
 * A PIXELS tile runs the other strategy, bwd_data_columns.c, for layers
 * with few filters.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/bwd_data_columns.h"
#include "kernels/bwd_driver.h"
#include "kernels/elem.h"
#include "kernels/fwd_driver.h"
#include "kernels/transpose.h"
#include "runtime/checked.h"
#include "runtime/error.h"
#include "runtime/scratch.h"
#include "runtime/threads.h"
#include "runtime/topology.h"

/* The fewest tiles that a channel block's weights serve each time they are
 * brought into L2 (a band, a block of pixel tiles). The first tile reads
 * them from L3, at about NR * sizeof(elem) bytes per MR * NR/VLEN FMAs,
 * more than L3 keeps up with: that tile runs at a fraction of the rate, a
 * cost of about 2/MIN_BLOCK_TILES of the pass for a 6x64 tile whatever
 * the layer (U-Net's 1024 -> 512 layer had blocks of 10 tiles). The rest
 * of a block's dy then comes partly from L3, one value per NR/VLEN FMAs,
 * which it keeps up with. */
#define MIN_BLOCK_TILES 32

struct tconv_bwd_data_driver {
    tconv_problem p;
    const tconv_ukernel *uk;
    int64_t es, mr, nr;
    int64_t cblocks; /* ceil(Cg / NR) */
    int64_t taps;    /* k_h * k_w */
    int64_t ktaps, kc; /* the kernels' taps and channels per tap (k_w folded: k_h, k_w * Fg) */
    int64_t tchunk;    /* kernel taps per pass over a span of tiles (all, or fewer to fit L2) */
    int64_t bpp;       /* channel blocks each tile of a span runs in turn (see create) */
    int64_t gh, gw;  /* the grid the taps reach */
    int dy_in_place; /* read dy where it is (channel-innermost, covers the grid) */
    int dx_direct;   /* tiles store into dx (channel-innermost, dense pixels) */
    int stream;      /* tiles store dx with streaming stores (channels_nt) */
    int64_t band_rows; /* dy copied: input rows per band of grid rows copied at once */
    int64_t band_images; /* dy copied, whole images per band: how many (1 when band_rows < in_h) */
    int64_t chunk_pixels; /* dy copied: pixels per chunk staged in cache (run_staged; 0: none) */
    int64_t tiles;     /* dy in place: pixel tiles, ceil(batch * in_h * in_w / MR) */
    int64_t sb;        /* dy in place: tiles per block that every channel block runs in turn */
    tconv_scratch *scratch; /* packed weights, tap list, NHWC dx when dx is not (and not
                               staged): kept between calls
                               (the bands of dy's grid live in each thread's scratch) */
    tconv_bwd_data_columns *columns; /* a PIXELS tile: that strategy runs instead */
};

/* Whether the tiles should write dx with streaming stores: where the tile
 * has them, the tiles store dx itself in one pass, and dx is over half of
 * L3, so that it leaves the caches before anyone reads it anyway. Plain
 * stores first read every line of dx from memory; on pix2pix's 128 -> 3
 * layer (dx 134 MB at batch 16) streaming took the pass from 93 to 141
 * GFLOP/s. TCONV_STREAM_STORES=on|off overrides the size rule (testing,
 * CPUs where streaming is slow); it cannot make a tile stream that has no
 * streaming twin or a pass that stores dx more than once. */
static int stream_dx(const tconv_problem *p, const tconv_ukernel *uk, int possible)
{
    const char *env = getenv("TCONV_STREAM_STORES");
    const int on = env && strcmp(env, "on") == 0, off = env && strcmp(env, "off") == 0;
    /* Said whether or not this layer could stream, so a typo shows at once. */
    if (env && *env && !on && !off) tconv_warn_env("TCONV_STREAM_STORES", env, "on or off");
    if (!uk->channels_nt || !possible) return 0;
    if (on || off) return on;
    const tconv_topology *t = tconv_topology_get();
    const int64_t l3 = t->l3_bytes > 0 ? t->l3_bytes : 4 * t->l2_bytes * t->cores;
    return p->x_elems * tconv_dtype_size(p->dtype) > l3 / 2;
}

tconv_status tconv_bwd_data_driver_create(const tconv_problem *p, const tconv_ukernel *uk,
                                          tconv_bwd_data_driver **out)
{
    *out = NULL;
    if ((uk->family != TCONV_UK_CHANNELS && uk->family != TCONV_UK_PIXELS) ||
        uk->dtype != p->dtype || uk->mr < 1 || uk->mr > TCONV_BWD_MAX_TILE || uk->nr < 1 ||
        uk->nr > TCONV_BWD_MAX_TILE)
        return TCONV_EUNSUPPORTED;
    tconv_bwd_data_driver *d = calloc(1, sizeof *d);
    if (!d) return TCONV_ENOMEM;
    d->p = *p;
    d->uk = uk;
    if (uk->family == TCONV_UK_PIXELS) {
        const tconv_status st = tconv_bwd_data_columns_create(p, uk, &d->columns);
        if (st != TCONV_OK) {
            free(d);
            return st;
        }
        *out = d;
        return TCONV_OK;
    }
    d->es = tconv_dtype_size(p->dtype);
    d->mr = uk->mr;
    d->nr = uk->nr;
    d->cblocks = (p->cg + d->nr - 1) / d->nr;
    d->taps = p->k_h * p->k_w;
    /* One group and no w-dilation: the k_w taps of a kernel row read
     * k_w * F consecutive grid values (channel-innermost, F apart), and the
     * packed weights hold their rows in the same order, so the kernels run
     * k_h taps of k_w * Fg channels: FSRCNN's F = 1 layer had 81 taps of
     * one channel, mostly loop overhead. */
    const int fold = p->groups == 1 && p->dil_w == 1;
    d->ktaps = fold ? p->k_h : d->taps;
    d->kc = fold ? p->k_w * p->fg : p->fg;
    /* A channel block's weights are read once per tile: when they are more
     * than a quarter of L2 they come from L3 every time (pix2pix's
     * 1024 -> 512 layer: 2 MB a block). Then the tiles of a span run over
     * that many taps at a time, each pass adding to what the last stored. */
    const int64_t quarter_l2 = (int64_t)tconv_topology_get()->l2_bytes / 4;
    const int64_t tap_bytes = d->kc * d->nr * d->es;
    d->tchunk = quarter_l2 / tap_bytes;
    if (d->tchunk < 1) d->tchunk = 1;
    if (d->tchunk > d->ktaps) d->tchunk = d->ktaps;
    /* A span's tiles run as many channel blocks in turn as have a pass's
     * weights in half of L2 together, so that a tile's dy, once read,
     * serves all of them; one block at a time read it from L3 again for
     * every block. */
    d->bpp = (int64_t)tconv_topology_get()->l2_bytes / 2 / (d->tchunk * tap_bytes);
    if (d->bpp < 1) d->bpp = 1;
    if (d->bpp > d->cblocks) d->bpp = d->cblocks;
    int64_t elems, image_grid_bytes;
    /* Sizes of one image's grid (more than any band of one image; bands of
     * several images are checked below) and of the packed weights must be
     * indexable (the problem's own sizes, dx's among them, were checked at
     * validation). */
    if (!tconv_bwd_grid(p, &d->gh, &d->gw) ||
        !tconv_mul_ok(d->gh, d->gw, &elems) || !tconv_mul_ok(elems, p->filters, &elems) ||
        !tconv_mul_ok(elems, d->es, &image_grid_bytes) ||
        !tconv_mul_ok(p->groups * d->cblocks * d->nr, d->taps * p->fg * d->es, &elems)) {
        free(d);
        return TCONV_EOVERFLOW;
    }
    const tconv_data_strides *y = &p->y, *x = &p->x;
    d->dy_in_place = y->c == 1 && y->w == p->filters && p->crop_top <= 0 && p->crop_left <= 0 &&
                     d->gh - p->crop_top <= p->out_h && d->gw - p->crop_left <= p->out_w;
    d->dx_direct = x->c == 1 && x->w == p->channels;
    d->stream = stream_dx(p, uk, d->dx_direct && d->tchunk == d->ktaps);
    /* Bands of the grid copy: as many input rows as keep their grid rows in
     * a quarter of L2 (the packed weights and dx share the rest; but see
     * band_bytes), at least one. Copying a band just before its tiles read
     * it saves writing the whole grid to memory and reading it back: 10-20%
     * of the pass on CycleGAN's 128 -> 64 layer, where dy is 268 MB at
     * batch 16. */
    const int64_t grid_row = d->gw * p->filters * d->es;
    /* With the taps in passes, what must stay in L2 is a pass's weights; a
     * tile reads dy at one value per NR/VLEN FMAs, which L3 keeps up with,
     * so the band may be four times L2, and every pass's weights serve that
     * many more tiles (pix2pix 1024 -> 512: 67 -> 85-91 GFLOP/s at batch
     * 16, interleaved). */
    const int64_t band_bytes = (d->tchunk < d->ktaps ? 16 : 1) * quarter_l2;
    const int64_t band_budget = band_bytes / (grid_row > 0 ? grid_row : 1);
    d->band_rows = (band_budget - (p->k_h - 1) * p->dil_h) / p->stride_h;
    /* and enough rows for MIN_BLOCK_TILES tiles (see there) */
    const int64_t min_rows = (MIN_BLOCK_TILES * d->mr + p->in_w - 1) / p->in_w;
    if (d->band_rows < min_rows) d->band_rows = min_rows;
    if (d->band_rows < 1) d->band_rows = 1;
    /* Small images: a band of several whole images, so that each channel
     * block's weights, streamed from L3 once per band, serve that many more
     * tiles (DCGAN's 512 -> 256 layer: 16 pixels an image, 1 MB of weights
     * a block). */
    d->band_images = 1;
    if (d->band_rows >= p->in_h) {
        d->band_rows = p->in_h;
        d->band_images = band_budget / d->gh;
        const int64_t min_images = (min_rows + p->in_h - 1) / p->in_h;
        if (d->band_images < min_images) d->band_images = min_images;
        if (d->band_images > p->batch) d->band_images = p->batch;
        if (d->band_images < 1) d->band_images = 1;
    }
    if (!tconv_mul_ok(image_grid_bytes, d->band_images, &elems)) {
        free(d);
        return TCONV_EOVERFLOW;
    }
    /* dy in place, several channel blocks: each would sweep all of dy from
     * memory. Instead every channel block runs on a block of pixel tiles
     * whose dy fills a quarter of L2 before the next block starts; the
     * weights, read once per block, come from L2 or L3. U-Net's 512 -> 256
     * layer (8 blocks of 64 channels) reads dy once instead of 8 times. */
    d->tiles = (p->batch * p->in_h * p->in_w + d->mr - 1) / d->mr;
    const int64_t dy_per_tile = d->mr * p->stride_h * p->stride_w * p->filters * d->es;
    d->sb = quarter_l2 / (dy_per_tile > 0 ? dy_per_tile : 1);
    if (d->sb < MIN_BLOCK_TILES) d->sb = MIN_BLOCK_TILES;
    if (d->sb > d->tiles || d->cblocks == 1) d->sb = d->tiles;
    /* Every channel block's weights together in a quarter of L2 (few
     * filters, a short reduction) and dx larger than L2: the tiles store
     * into a staging buffer of an eighth of L2 (run_staged), transposed
     * out of it where dx is not channel-innermost, which then needs no
     * NHWC scratch; NHWC dx only when its tile rows would straddle lines
     * (tconv_bwd_data_driver_run). Only where dy is copied in bands: dy
     * read in place is NHWC, and so is dx then. */
    d->chunk_pixels = 0;
    const int64_t all_weights = p->groups * d->cblocks * d->nr * d->taps * p->fg * d->es;
    const int64_t pixel_bytes = p->channels * d->es;
    if (!d->dy_in_place && all_weights <= quarter_l2 && p->x_elems * d->es > 4 * quarter_l2 &&
        pixel_bytes * d->mr <= quarter_l2 / 2)
        d->chunk_pixels = quarter_l2 / 2 / pixel_bytes / d->mr * d->mr;
    d->scratch = tconv_scratch_new();
    if (!d->scratch) {
        free(d);
        return TCONV_ENOMEM;
    }
    *out = d;
    return TCONV_OK;
}

void tconv_bwd_data_driver_destroy(tconv_bwd_data_driver *d)
{
    if (d) {
        tconv_scratch_delete(d->scratch);
        tconv_bwd_data_columns_destroy(d->columns);
    }
    free(d);
}

/* The passes over a span's channel blocks, d->bpp blocks each, and the end
 * of the pass from block b. */
static int64_t block_passes(const tconv_bwd_data_driver *d)
{
    return (d->cblocks + d->bpp - 1) / d->bpp;
}

static int64_t min_blocks(const tconv_bwd_data_driver *d, int64_t b)
{
    return b + d->bpp < d->cblocks ? b + d->bpp : d->cblocks;
}

void tconv_bwd_data_driver_describe(const tconv_bwd_data_driver *d, char *buf, size_t n)
{
    if (d->columns) {
        tconv_bwd_data_columns_describe(d->columns, buf, n);
        return;
    }
    const int64_t passes = (d->ktaps + d->tchunk - 1) / d->tchunk;
    char more[80] = "";
    if (passes > 1) snprintf(more, sizeof more, " tap passes=%lld", (long long)passes);
    if (block_passes(d) > 1)
        snprintf(more + strlen(more), sizeof more - strlen(more), " block passes=%lld",
                 (long long)block_passes(d));
    snprintf(buf, n, "%s taps=%lld%s%s%s%s", d->uk->name, (long long)d->taps, more,
             d->dy_in_place ? " dy in place" : "", !d->chunk_pixels ? "" : d->dx_direct ? " dx staged if unaligned" : " dx staged",
             d->stream ? " dx streamed" : "");
}

/* Where the kernels read dy: an origin and element strides of the grid. */
typedef struct grid {
    const char *origin;
    int64_t n, h, w; /* strides of image, grid row, grid column */
} grid;

/* Where the tiles store: pixel (n, ih, iw)'s NR channels of a block start
 * at element n * n_ + ih * h + iw * w - shift of base (shift: the first
 * pixel's offset when base is a staging buffer that starts there). */
typedef struct tile_out {
    char *base;
    int64_t n, h, w, shift;
} tile_out;

typedef struct run_ctx {
    const tconv_bwd_data_driver *d;
    const char *dy, *w;
    char *packed;
    int64_t band_rows;  /* this call's band height (d->band_rows or fewer) */
    int64_t band_images; /* this call's images per band (d->band_images or fewer) */
    _Atomic int failed; /* a thread found no scratch for its band */
    tconv_uk_tap *taps; /* per (group, channel block): its taps' offsets and weights */
    grid g;
    tile_out out; /* the tiles' output: dx, or an NHWC scratch of dx's size */
    int staged;   /* the bands store through a staging buffer (run_staged) */
    char *dx;
} run_ctx;

/* Weights of (group, channel block) pairs [begin, end): for each tap (kh
 * major), Fg rows of NR input channels, zero past Cg. */
static void pack_weights(void *arg, int64_t begin, int64_t end)
{
    const run_ctx *r = arg;
    _Alignas(64) char buf[TCONV_PACK_BUFFER_BYTES];
    const tconv_bwd_data_driver *d = r->d;
    const tconv_problem *p = &d->p;
    for (int64_t gb = begin; gb < end; gb++) {
        const int64_t g = gb / d->cblocks, b = gb % d->cblocks;
        const int64_t cols = b * d->nr + d->nr <= p->cg ? d->nr : p->cg - b * d->nr;
        char *slab = r->packed + gb * d->taps * p->fg * d->nr * d->es;
        const size_t row = (size_t)(d->nr * d->es), used = (size_t)(cols * d->es);
        /* Channels contiguous (W_OHWI): a run per filter, and zeros only
         * past a partial block's end (a memset of the whole slab first
         * wrote the weights twice: DCGAN 512 -> 256 packs 8 MB a call). */
        if (p->w.cg == 1) {
            for (int64_t t = 0; t < d->taps; t++) {
                const int64_t kh = t / p->k_w, kw = t % p->k_w;
                for (int64_t m = 0; m < p->fg; m++) {
                    char *dst = slab + (size_t)(t * p->fg + m) * row;
                    memcpy(dst, r->w + tconv_w_index(p, g * p->cg + b * d->nr, m, kh, kw) * d->es,
                           used);
                    if (used < row) memset(dst + used, 0, row - used);
                }
            }
            continue;
        }
        /* Filters before channels (W_IOHW, W_MATLAB, where each (channel,
         * filter) pair's taps are adjacent: tconv_w_taps_adjacent): filter
         * by filter, the block's cols x taps matrix is transposed into a
         * buffer on the stack, a row of NR per tap column, and each row
         * copied to its tap's place, so that the block's channels are read
         * in order, one stream each, and the slab written a row at a time.
         * A cache line of filters at a time, one column of a row per copy,
         * took three times as long as copying the weights (pix2pix
         * 1024 -> 256: 16 MB, ~6.5 ms a pass on an EPYC core; ~5 ms now). */
        if (cols < d->nr) memset(slab, 0, (size_t)d->taps * (size_t)p->fg * row);
        const int64_t chunk = TCONV_PACK_BUFFER_BYTES / (int64_t)row; /* tap columns the buffer holds */
        for (int64_t m = 0; m < p->fg; m++) {
            const char *src = r->w + tconv_w_index(p, g * p->cg + b * d->nr, m, 0, 0) * d->es;
            for (int64_t col0 = 0; col0 < d->taps; col0 += chunk) {
                const int64_t ncol = d->taps - col0 < chunk ? d->taps - col0 : chunk;
                tconv_transpose(d->uk->transposes, d->es, buf, d->nr, src + col0 * d->es, p->w.cg, cols, ncol);
                for (int64_t col = 0; col < ncol; col++) {
                    int64_t kh, kw;
                    tconv_w_tap_of_col(p, col0 + col, &kh, &kw);
                    memcpy(slab + (size_t)((kh * p->k_w + kw) * p->fg + m) * row,
                           buf + (size_t)col * row, used);
                }
            }
        }
    }
}

/* Grid row u of image n from dy into row (gw * F values), with zeros where
 * no dy position corresponds. */
static void fill_grid_row(const run_ctx *r, int64_t n, int64_t u, char *row)
{
    const tconv_bwd_data_driver *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, F = p->filters, oh = u - p->crop_top;
    /* Grid columns v whose dy column v - crop_left is inside dy. */
    const int64_t v0 = p->crop_left > 0 ? p->crop_left : 0;
    int64_t v1 = p->crop_left + p->out_w;
    if (v1 > d->gw) v1 = d->gw;
    if (oh < 0 || oh >= p->out_h || v1 <= v0) {
        memset(row, 0, (size_t)(d->gw * F * es));
        return;
    }
    memset(row, 0, (size_t)(v0 * F * es));
    if (p->y.c == 1 && p->y.w == F)
        memcpy(row + v0 * F * es, r->dy + tconv_y_index(p, n, 0, oh, v0 - p->crop_left) * es,
               (size_t)((v1 - v0) * F * es));
    else
        tconv_copy_runs(d->uk->transposes, es, row + v0 * F * es, 1, F,
                        r->dy + tconv_y_index(p, n, 0, oh, v0 - p->crop_left) * es, p->y.c,
                        p->y.w, v1 - v0, F);
    memset(row + v1 * F * es, 0, (size_t)((d->gw - v1) * F * es));
}

/* A pixel of the flat (image, input row, input column) order and its
 * element offsets into the grid and into the tiles' output. */
typedef struct cursor {
    int64_t n, ih, iw, x, y;
} cursor;

static void cursor_offsets(const tconv_problem *p, const grid *gr, const tile_out *o, int64_t n0,
                           int64_t ih0, cursor *c)
{
    c->x = (c->n - n0) * gr->n + (c->ih - ih0) * p->stride_h * gr->h + c->iw * p->stride_w * gr->w;
    c->y = c->n * o->n + c->ih * o->h + c->iw * o->w - o->shift;
}

/* The next pixel: along the row without a multiply, else a new row. */
static inline void cursor_next(const tconv_problem *p, const grid *gr, const tile_out *o,
                               int64_t n0, int64_t ih0, cursor *c)
{
    if (++c->iw < p->in_w) {
        c->x += p->stride_w * gr->w;
        c->y += o->w;
        return;
    }
    c->iw = 0;
    if (++c->ih == p->in_h) c->ih = 0, c->n++;
    cursor_offsets(p, gr, o, n0, ih0, c);
}

/* The tiles of MR pixels from flat pixel j_begin to j_end (the last one
 * may hold fewer) of input channel blocks [b0, b1) of group g, each tile
 * running the blocks in turn (the bits do not depend on how many), reading dy through
 * grid `gr` whose row 0 is input row ih0's first grid row of image n0 (0,
 * 0 for the whole grid). The pixels' offsets are stepped, not divided: a
 * division per pixel cost as much as the tile's arithmetic on layers with
 * a short reduction (pix2pix 128 -> 3: 48 steps per tile). */
static void run_span(const run_ctx *r, const grid *gr, const tile_out *o, int64_t g, int64_t b0,
                     int64_t b1, int64_t j_begin, int64_t j_end, int64_t n0, int64_t ih0)
{
    const tconv_bwd_data_driver *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, mr = d->mr, hw = p->in_h * p->in_w;
    char dummy[TCONV_BWD_MAX_TILE * 8] __attribute__((aligned(64))) = {0};
    const void *xrow[TCONV_BWD_MAX_TILE];
    void *yrow[TCONV_BWD_MAX_TILE];
    const char *xbase = gr->origin + g * p->fg * es;
    char *ybase = o->base + (g * p->cg + b0 * d->nr) * es;
    /* (a staging buffer stays in cache: stored plainly) */
    const int stream = d->stream && o->base == r->out.base;
    const tconv_uk_fwd_channels_fn tile = stream ? d->uk->channels_nt : d->uk->channels;
    const cursor first = {j_begin / hw, j_begin % hw / p->in_w, j_begin % p->in_w, 0, 0};
    for (int64_t t0 = 0; t0 < d->ktaps; t0 += d->tchunk) {
        const int64_t nt = d->ktaps - t0 < d->tchunk ? d->ktaps - t0 : d->tchunk;
        cursor c = first;
        cursor_offsets(p, gr, o, n0, ih0, &c);
        for (int64_t j0 = j_begin; j0 < j_end; j0 += mr) {
            const int64_t m = j_end - j0 < mr ? j_end - j0 : mr;
            for (int64_t i = 0; i < mr; i++) { /* the last valid pixel repeats past m */
                xrow[i] = xbase + c.x * es;
                yrow[i] = i < m ? ybase + c.y * es : dummy;
                if (i + 1 < m) cursor_next(p, gr, o, n0, ih0, &c);
            }
            for (int64_t b = b0; b < b1; b++) {
                const int64_t cols = b * d->nr + d->nr <= p->cg ? d->nr : p->cg - b * d->nr;
                const tconv_uk_tap *taps = r->taps + (g * d->cblocks + b) * d->ktaps;
                if (b > b0) /* the next block's channels of the same pixels */
                    for (int64_t i = 0; i < m; i++) yrow[i] = (char *)yrow[i] + d->nr * es;
                /* later passes add to the tile (bias NULL) */
                tile(cols, nt, taps + t0, d->kc, xrow, t0 ? NULL : tconv_bwd_zero_bias, yrow);
            }
            if (j0 + m < j_end) cursor_next(p, gr, o, n0, ih0, &c);
        }
    }
    if (stream) tconv_uk_stream_fence();
}

/* Pixels [j, j + len) of the flat (image, input row, input column) order,
 * all in one input row, NHWC at `src`, to dx's layout. */
static void unpack_segment(const run_ctx *r, const char *src, int64_t j, int64_t len)
{
    const tconv_problem *p = &r->d->p;
    const int64_t es = r->d->es, C = p->channels, hw = p->in_h * p->in_w;
    char *dst = r->dx + tconv_x_index(p, j / hw, 0, j % hw / p->in_w, j % p->in_w) * es;
    if (r->d->dx_direct && r->d->stream) /* (the caller fences) */
        tconv_uk_stream_copy(dst, src, (size_t)(len * C * es));
    else if (r->d->dx_direct) /* pixels channel-innermost and dense along the row */
        memcpy(dst, src, (size_t)(len * C * es));
    else
        tconv_copy_runs(r->d->uk->transposes, es, dst, p->x.c, p->x.w, src, 1, C, len, C);
}

/* Rows [begin, end) of the flat (image, input row) range of the NHWC
 * scratch to dx's layout. */
static void unpack_rows(void *arg, int64_t begin, int64_t end)
{
    const run_ctx *r = arg;
    const tconv_problem *p = &r->d->p;
    for (int64_t nh = begin; nh < end; nh++)
        unpack_segment(r, r->out.base + nh * p->in_w * p->channels * r->d->es, nh * p->in_w,
                       p->in_w);
}

/*
 * Pixels [j_begin, j_end) of band `gr` (n0, ih0 as for run_span), for
 * layers whose weights are few (a short reduction): chunk by chunk, every
 * channel block's tiles store into `stage`, an NHWC buffer of
 * d->chunk_pixels pixels that stays in L2, which is then copied or
 * transposed into dx a row segment at a time.
 * Stored straight into lines that are not in cache (dx where its tile rows
 * straddle lines, or an NHWC scratch of dx's size for the other layouts),
 * a tile's few stores wait for those lines with too little arithmetic
 * between them to hide it: pix2pix 128->3 (48 reduction steps a tile) in
 * NCHW, 6.0 -> 4.3 ms at batch 1 and 106 -> 71 at batch 16 (AMD EPYC,
 * AVX2, 2026-12-07). Bits as unstaged: each pixel's sum is the same
 * whichever tiles run it.
 */
static void run_staged(const run_ctx *r, const grid *gr, char *stage, int64_t j_begin,
                       int64_t j_end, int64_t n0, int64_t ih0)
{
    const tconv_bwd_data_driver *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, C = p->channels, hw = p->in_h * p->in_w;
    for (int64_t js = j_begin; js < j_end; js += d->chunk_pixels) {
        const int64_t je = js + d->chunk_pixels < j_end ? js + d->chunk_pixels : j_end;
        /* dense NHWC from pixel js: pixel j at (j - js) * C */
        const tile_out o = {stage, hw * C, p->in_w * C, C, js * C};
        for (int64_t g = 0; g < p->groups; g++)
            for (int64_t b = 0; b < d->cblocks; b += d->bpp)
                run_span(r, gr, &o, g, b, min_blocks(d, b), js, je, n0, ih0);
        for (int64_t j = js; j < je;) {
            const int64_t iw = j % p->in_w, len = je - j < p->in_w - iw ? je - j : p->in_w - iw;
            unpack_segment(r, stage + (j - js) * C * es, j, len);
            j += len;
        }
    }
    if (d->stream) tconv_uk_stream_fence();
}

/* Bands [begin, end) of the flat (image, band of r->band_rows input rows)
 * range, or with whole-image bands of the (band of r->band_images images)
 * range, for dy that has to be copied onto the grid: each task copies the
 * grid rows its band reads into this thread's scratch, where they stay in
 * cache, and runs every channel block's tiles of the band on them (a tile
 * ends at the band's end; the bits do not depend on where tiles start). */
static void run_bands(void *arg, int64_t begin, int64_t end)
{
    run_ctx *r = arg;
    const tconv_bwd_data_driver *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, F = p->filters, row = d->gw * F * es;
    const int64_t bands = (p->in_h + r->band_rows - 1) / r->band_rows;
    for (int64_t t = begin; t < end; t++) {
        /* images [n0, n1), input rows [ih0, ih1) of each */
        const int64_t n0 = t / bands * r->band_images, ih0 = t % bands * r->band_rows;
        const int64_t n1 = n0 + r->band_images < p->batch ? n0 + r->band_images : p->batch;
        const int64_t ih1 = ih0 + r->band_rows < p->in_h ? ih0 + r->band_rows : p->in_h;
        const int64_t u0 = ih0 * p->stride_h;
        const int64_t u1 = (ih1 - 1) * p->stride_h + (p->k_h - 1) * p->dil_h + 1;
        const size_t grid_bytes = (size_t)((n1 - n0) * (u1 - u0) * row + 63) / 64 * 64;
        const size_t stage_bytes = r->staged ? (size_t)(d->chunk_pixels * p->channels * es) : 0;
        char *buf = tconv_thread_scratch(grid_bytes + stage_bytes);
        if (!buf) {
            atomic_store(&r->failed, 1);
            return;
        }
        for (int64_t n = n0; n < n1; n++)
            for (int64_t u = u0; u < u1; u++)
                fill_grid_row(r, n, u, buf + ((n - n0) * (u1 - u0) + u - u0) * row);
        const grid band = {buf, (u1 - u0) * d->gw * F, d->gw * F, F};
        const int64_t j_begin = (n0 * p->in_h + ih0) * p->in_w;
        const int64_t j_end = ((n1 - 1) * p->in_h + ih1) * p->in_w;
        if (r->staged)
            run_staged(r, &band, buf + grid_bytes, j_begin, j_end, n0, ih0);
        else
            for (int64_t g = 0; g < p->groups; g++)
                for (int64_t b = 0; b < d->cblocks; b += d->bpp)
                    run_span(r, &band, &r->out, g, b, min_blocks(d, b), j_begin, j_end, n0, ih0);
        /* The band's rows of the NHWC scratch are complete: into dx's
         * layout now, while they are in cache (a sweep over the whole
         * scratch at the end read it back from memory: 40% of pix2pix
         * 128->3's pass). */
        if (!d->dx_direct && !r->staged)
            for (int64_t n = n0; n < n1; n++)
                unpack_rows(r, n * p->in_h + ih0, n * p->in_h + ih1);
    }
}

/* dy in place: tasks [begin, end) of the flat (group, block of d->sb pixel
 * tiles, pass of d->bpp channel blocks, tile of the block) range. Tile t holds MR
 * consecutive pixels of the flat (image, input row, input column)
 * order, so that a tile may run on past the end of a row and small images
 * fill it as well as large ones (every row of a tile gets the same
 * arithmetic whichever tile holds it: the bits do not depend on the
 * tiling). */
static void run_tiles(void *arg, int64_t begin, int64_t end)
{
    const run_ctx *r = arg;
    const tconv_bwd_data_driver *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t pixels = p->batch * p->in_h * p->in_w;
    const int64_t sbs = (d->tiles + d->sb - 1) / d->sb;
    const int64_t passes = block_passes(d);
    /* consecutive tasks of one (group, block, pass): one span */
    for (int64_t task = begin; task < end;) {
        const int64_t ti = task % d->sb, rest = task / d->sb;
        const int64_t b = rest % passes * d->bpp, gs = rest / passes;
        const int64_t g = gs / sbs, tile = gs % sbs * d->sb + ti;
        const int64_t count = end - task < d->sb - ti ? end - task : d->sb - ti;
        task += count;
        if (tile >= d->tiles) continue; /* past the last block's end */
        const int64_t j_end = (tile + count) * d->mr < pixels ? (tile + count) * d->mr : pixels;
        run_span(r, &r->g, &r->out, g, b, min_blocks(d, b), tile * d->mr, j_end, 0, 0);
    }
}

tconv_status tconv_bwd_data_driver_run(const tconv_bwd_data_driver *d, const void *dy,
                                       const void *w, void *dx)
{
    if (d->columns) return tconv_bwd_data_columns_run(d->columns, dy, w, dx);
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, F = p->filters;
    run_ctx r;
    memset(&r, 0, sizeof r);
    atomic_init(&r.failed, 0);
    r.d = d;
    r.dy = dy;
    r.w = w;
    r.dx = dx;
    /* NHWC dx whose tile rows would each straddle two lines (dx or its
     * pixel stride not 64-byte aligned: numpy's large arrays are 16-byte
     * aligned) goes through the staging buffer too; aligned, it is stored
     * directly (or streamed), which measured as fast or faster. */
    r.staged = d->chunk_pixels &&
               (!d->dx_direct || ((uintptr_t)dx | (uintptr_t)(p->channels * es)) % 64 != 0);
    const int64_t gblocks = p->groups * d->cblocks;
    const size_t sizes[3] = {(size_t)(gblocks * d->taps * p->fg * d->nr * es),
                             (size_t)(gblocks * d->taps) * sizeof *r.taps,
                             d->dx_direct || d->chunk_pixels ? 0 : (size_t)(p->x_elems * es)};
    size_t at[3];
    int kept = 0;
    char *block = tconv_scratch_take_parts(d->scratch, sizes, at, 3, &kept);
    if (!block) return TCONV_ENOMEM;
    r.packed = block + at[0];
    r.taps = (tconv_uk_tap *)(block + at[1]);
    char *scratch = d->dx_direct || d->chunk_pixels ? NULL : block + at[2];
    tconv_parallel_ranges(gblocks, 1, pack_weights, &r);
    /* The grid's strides: dy's own in place, else the NHWC copy's (a band
     * of it at a time: run_bands). */
    if (d->dy_in_place)
        r.g = (grid){(const char *)dy + (-p->crop_top * p->y.h - p->crop_left * p->y.w) * es,
                     p->y.n, p->y.h, p->y.w};
    else
        r.g = (grid){NULL, 0, d->gw * F, F};
    for (int64_t gb = 0; gb < gblocks; gb++)
        for (int64_t t = 0; t < d->ktaps; t++) {
            /* the first of the kernel tap's k_w taps when they are folded */
            const int64_t first = d->ktaps < d->taps ? t * p->k_w : t;
            const int64_t kh = first / p->k_w, kw = first % p->k_w;
            r.taps[gb * d->ktaps + t] = (tconv_uk_tap){
                kh * p->dil_h * r.g.h + kw * p->dil_w * r.g.w,
                r.packed + (gb * d->taps + first) * p->fg * d->nr * es};
        }
    if (d->dx_direct) {
        r.out = (tile_out){dx, p->x.n, p->x.h, p->x.w, 0};
    } else {
        r.out = (tile_out){scratch, p->in_h * p->in_w * p->channels, p->in_w * p->channels,
                           p->channels, 0};
    }
    if (d->dy_in_place) {
        const int64_t sbs = (d->tiles + d->sb - 1) / d->sb;
        tconv_parallel_ranges(p->groups * sbs * block_passes(d) * d->sb, 4, run_tiles, &r);
    } else {
        /* With several threads, at least four bands each (small batches,
         * small images), so that they finish together. */
        const int64_t width = tconv_parallel_width();
        const int64_t most_rows = width > 1 ? p->batch * p->in_h / (4 * width) : d->band_rows;
        const int64_t most_images = width > 1 ? p->batch / (4 * width) : d->band_images;
        r.band_rows = most_rows < 1 ? 1 : most_rows < d->band_rows ? most_rows : d->band_rows;
        r.band_images = r.band_rows < p->in_h || most_images < 1 ? 1
                        : most_images < d->band_images           ? most_images
                                                                 : d->band_images;
        const int64_t bands = (p->in_h + r.band_rows - 1) / r.band_rows;
        const int64_t image_groups = (p->batch + r.band_images - 1) / r.band_images;
        tconv_parallel_ranges(image_groups * bands, 1, run_bands, &r);
    }
    const int ok = !atomic_load(&r.failed);
    /* (the bands unpacked their rows themselves) */
    if (ok && !d->dx_direct && d->dy_in_place)
        tconv_parallel_ranges(p->batch * p->in_h, 1, unpack_rows, &r);
    tconv_scratch_give(d->scratch, block, kept);
    return ok ? TCONV_OK : TCONV_ENOMEM;
}
