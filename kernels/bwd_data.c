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
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "dispatch/threads.h"
#include "kernels/bwd_driver.h"
#include "kernels/checked.h"
#include "kernels/elem.h"
#include "kernels/fwd_driver.h"
#include "kernels/scratch.h"

/* NR zeros: the kernels' bias argument (whole vectors, 64-byte aligned). */
static const double zero_bias[TCONV_BWD_MAX_TILE] __attribute__((aligned(64)));

struct tconv_bwd_data_driver {
    tconv_problem p;
    const tconv_fwd_ukernel *uk;
    int64_t es, mr, nr;
    int64_t cblocks; /* ceil(Cg / NR) */
    int64_t taps;    /* k_h * k_w */
    int64_t gh, gw;  /* the grid the taps reach */
    int dy_in_place; /* read dy where it is (channel-innermost, covers the grid) */
    int dx_direct;   /* tiles store into dx (channel-innermost, dense pixels) */
    tconv_scratch *scratch; /* packed weights, tap list, dy grid, dx scratch: kept between calls */
};

tconv_status tconv_bwd_data_driver_create(const tconv_problem *p, const tconv_fwd_ukernel *uk,
                                          tconv_bwd_data_driver **out)
{
    *out = NULL;
    if (uk->family != TCONV_UK_CHANNELS || uk->dtype != p->dtype || uk->mr < 1 ||
        uk->mr > TCONV_BWD_MAX_TILE || uk->nr < 1 || uk->nr > TCONV_BWD_MAX_TILE)
        return TCONV_EUNSUPPORTED;
    tconv_bwd_data_driver *d = calloc(1, sizeof *d);
    if (!d) return TCONV_ENOMEM;
    d->p = *p;
    d->uk = uk;
    d->es = tconv_dtype_size(p->dtype);
    d->mr = uk->mr;
    d->nr = uk->nr;
    d->cblocks = (p->cg + d->nr - 1) / d->nr;
    d->taps = p->k_h * p->k_w;
    int64_t elems;
    /* Sizes of the grid, the packed weights and the scratch output must be
     * indexable (the problem's own sizes were checked at validation). */
    if (!tconv_bwd_grid(p, &d->gh, &d->gw) ||
        !tconv_mul_ok(d->gh, d->gw, &elems) || !tconv_mul_ok(elems, p->filters, &elems) ||
        !tconv_mul_ok(elems, p->batch * d->es, &elems) ||
        !tconv_mul_ok(p->groups * d->cblocks * d->nr, d->taps * p->fg * d->es, &elems)) {
        free(d);
        return TCONV_EOVERFLOW;
    }
    const tconv_data_strides *y = &p->y, *x = &p->x;
    d->dy_in_place = y->c == 1 && y->w == p->filters && p->crop_top <= 0 && p->crop_left <= 0 &&
                     d->gh - p->crop_top <= p->out_h && d->gw - p->crop_left <= p->out_w;
    d->dx_direct = x->c == 1 && x->w == p->channels;
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
    if (d) tconv_scratch_delete(d->scratch);
    free(d);
}

void tconv_bwd_data_driver_describe(const tconv_bwd_data_driver *d, char *buf, size_t n)
{
    snprintf(buf, n, "%s taps=%lld%s", d->uk->name, (long long)d->taps,
             d->dy_in_place ? " dy in place" : "");
}

/* Where the kernels read dy: an origin and element strides of the grid. */
typedef struct grid {
    const char *origin;
    int64_t n, h, w; /* strides of image, grid row, grid column */
} grid;

typedef struct run_ctx {
    const tconv_bwd_data_driver *d;
    const char *dy, *w;
    char *packed, *gridbuf, *out;
    tconv_uk_tap *taps; /* per (group, channel block): its taps' offsets and weights */
    grid g;
    int64_t out_n, out_h, out_w; /* strides of the tiles' output (dx or NHWC scratch) */
    char *dx;
} run_ctx;

/* Weights of (group, channel block) pairs [begin, end): for each tap (kh
 * major), Fg rows of NR input channels, zero past Cg. */
static void pack_weights(void *arg, int64_t begin, int64_t end)
{
    const run_ctx *r = arg;
    const tconv_bwd_data_driver *d = r->d;
    const tconv_problem *p = &d->p;
    for (int64_t gb = begin; gb < end; gb++) {
        const int64_t g = gb / d->cblocks, b = gb % d->cblocks;
        const int64_t cols = b * d->nr + d->nr <= p->cg ? d->nr : p->cg - b * d->nr;
        char *slab = r->packed + gb * d->taps * p->fg * d->nr * d->es;
        memset(slab, 0, (size_t)(d->taps * p->fg * d->nr * d->es));
        for (int64_t t = 0; t < d->taps; t++) {
            const int64_t kh = t / p->k_w, kw = t % p->k_w;
            if (p->w.cg == 1) { /* channels contiguous (W_OHWI): a run per filter */
                for (int64_t m = 0; m < p->fg; m++)
                    memcpy(slab + (t * p->fg + m) * d->nr * d->es,
                           r->w + tconv_w_index(p, g * p->cg + b * d->nr, m, kh, kw) * d->es,
                           (size_t)(cols * d->es));
                continue;
            }
            for (int64_t j = 0; j < cols; j++) {
                const int64_t c = g * p->cg + b * d->nr + j;
                /* Fg weights of input channel c at tap t, into column j. */
                tconv_copy_run(d->es, slab + (t * p->fg * d->nr + j) * d->es, d->nr,
                               r->w + tconv_w_index(p, c, 0, kh, kw) * d->es, p->w.m, p->fg);
            }
        }
    }
}

/* Grid rows [begin, end) of the flat (image, grid row) range from dy, with
 * zeros where no dy position corresponds. */
static void fill_grid(void *arg, int64_t begin, int64_t end)
{
    const run_ctx *r = arg;
    const tconv_bwd_data_driver *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, F = p->filters;
    /* Grid columns v whose dy column v - crop_left is inside dy. */
    const int64_t v0 = p->crop_left > 0 ? p->crop_left : 0;
    int64_t v1 = p->crop_left + p->out_w;
    if (v1 > d->gw) v1 = d->gw;
    for (int64_t nu = begin; nu < end; nu++) {
        const int64_t n = nu / d->gh, u = nu % d->gh, oh = u - p->crop_top;
        char *row = r->gridbuf + nu * d->gw * F * es;
        if (oh < 0 || oh >= p->out_h || v1 <= v0) {
            memset(row, 0, (size_t)(d->gw * F * es));
            continue;
        }
        memset(row, 0, (size_t)(v0 * F * es));
        if (p->y.c == 1 && p->y.w == F)
            memcpy(row + v0 * F * es, r->dy + tconv_y_index(p, n, 0, oh, v0 - p->crop_left) * es,
                   (size_t)((v1 - v0) * F * es));
        else
            for (int64_t f = 0; f < F; f++)
                tconv_copy_run(es, row + (v0 * F + f) * es, F,
                               r->dy + tconv_y_index(p, n, f, oh, v0 - p->crop_left) * es,
                               p->y.w, v1 - v0);
        memset(row + v1 * F * es, 0, (size_t)((d->gw - v1) * F * es));
    }
}

/* Tiles [begin, end) of the flat (group, channel block, tile) range: tile t
 * holds MR consecutive pixels of the flat (image, input row, input column)
 * order, so that a tile may run on past the end of a row and small images
 * fill it as well as large ones (every row of a tile gets the same
 * arithmetic whichever tile holds it: the bits do not depend on the
 * tiling). */
static void run_tiles(void *arg, int64_t begin, int64_t end)
{
    const run_ctx *r = arg;
    const tconv_bwd_data_driver *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, mr = d->mr;
    const int64_t hw = p->in_h * p->in_w, pixels = p->batch * hw;
    const int64_t tiles = (pixels + mr - 1) / mr;
    char dummy[TCONV_BWD_MAX_TILE * 8] __attribute__((aligned(64)));
    const void *xrow[TCONV_BWD_MAX_TILE];
    void *yrow[TCONV_BWD_MAX_TILE];
    for (int64_t task = begin; task < end; task++) {
        const int64_t gb = task / tiles, j0 = task % tiles * mr;
        const int64_t g = gb / d->cblocks, b = gb % d->cblocks;
        const int64_t cols = b * d->nr + d->nr <= p->cg ? d->nr : p->cg - b * d->nr;
        const int64_t m = pixels - j0 < mr ? pixels - j0 : mr;
        const tconv_uk_tap *taps = r->taps + gb * d->taps;
        for (int64_t i = 0; i < mr; i++) {
            const int64_t pix = j0 + (i < m ? i : m - 1);
            const int64_t n = pix / hw, ih = pix % hw / p->in_w, iw = pix % p->in_w;
            xrow[i] = r->g.origin +
                      (n * r->g.n + ih * p->stride_h * r->g.h + iw * p->stride_w * r->g.w + g * p->fg) * es;
            yrow[i] = i < m ? r->out + (n * r->out_n + ih * r->out_h + iw * r->out_w + g * p->cg + b * d->nr) * es
                            : dummy;
        }
        d->uk->channels(cols, d->taps, taps, p->fg, xrow, zero_bias, yrow);
    }
}

/* Rows [begin, end) of the flat (image, input row) range of the NHWC
 * scratch to dx's layout. */
static void unpack_rows(void *arg, int64_t begin, int64_t end)
{
    const run_ctx *r = arg;
    const tconv_problem *p = &r->d->p;
    const int64_t es = r->d->es, C = p->channels;
    for (int64_t nh = begin; nh < end; nh++) {
        const int64_t n = nh / p->in_h, h = nh % p->in_h;
        const char *row = r->out + nh * p->in_w * C * es;
        for (int64_t c = 0; c < C; c++)
            tconv_copy_run(es, r->dx + tconv_x_index(p, n, c, h, 0) * es, p->x.w, row + c * es, C,
                           p->in_w);
    }
}

tconv_status tconv_bwd_data_driver_run(const tconv_bwd_data_driver *d, const void *dy,
                                       const void *w, void *dx)
{
    const tconv_problem *p = &d->p;
    const int64_t es = d->es, F = p->filters;
    run_ctx r = {d, dy, w, NULL, NULL, NULL, NULL, {0}, 0, 0, 0, dx};
    const int64_t gblocks = p->groups * d->cblocks;
    const size_t sizes[4] = {(size_t)(gblocks * d->taps * p->fg * d->nr * es),
                             (size_t)(gblocks * d->taps) * sizeof *r.taps,
                             d->dy_in_place ? 0 : (size_t)(p->batch * d->gh * d->gw * F * es),
                             d->dx_direct ? 0 : (size_t)(p->x_elems * es)};
    size_t at[4];
    const size_t total = tconv_scratch_carve(sizes, at, 4);
    int kept = 0;
    char *block = total ? tconv_scratch_take(d->scratch, total, &kept) : NULL;
    char *scratch = NULL;
    const int ok = block != NULL;
    if (ok) {
        r.packed = block + at[0];
        r.taps = (tconv_uk_tap *)(block + at[1]);
        r.gridbuf = d->dy_in_place ? NULL : block + at[2];
        scratch = d->dx_direct ? NULL : block + at[3];
        tconv_parallel_ranges(gblocks, 1, pack_weights, &r);
        if (d->dy_in_place) {
            r.g = (grid){(const char *)dy + (-p->crop_top * p->y.h - p->crop_left * p->y.w) * es,
                         p->y.n, p->y.h, p->y.w};
        } else {
            tconv_parallel_ranges(p->batch * d->gh, 1, fill_grid, &r);
            r.g = (grid){r.gridbuf, d->gh * d->gw * F, d->gw * F, F};
        }
        for (int64_t gb = 0; gb < gblocks; gb++)
            for (int64_t t = 0; t < d->taps; t++) {
                const int64_t kh = t / p->k_w, kw = t % p->k_w;
                r.taps[gb * d->taps + t] = (tconv_uk_tap){
                    kh * p->dil_h * r.g.h + kw * p->dil_w * r.g.w,
                    r.packed + (gb * d->taps + t) * p->fg * d->nr * es};
            }
        if (d->dx_direct) {
            r.out = dx;
            r.out_n = p->x.n;
            r.out_h = p->x.h;
            r.out_w = p->x.w;
        } else {
            r.out = scratch;
            r.out_n = p->in_h * p->in_w * p->channels;
            r.out_h = p->in_w * p->channels;
            r.out_w = p->channels;
        }
        const int64_t tiles = (p->batch * p->in_h * p->in_w + d->mr - 1) / d->mr;
        tconv_parallel_ranges(gblocks * tiles, 4, run_tiles, &r);
        if (!d->dx_direct) tconv_parallel_ranges(p->batch * p->in_h, 1, unpack_rows, &r);
    }
    tconv_scratch_give(d->scratch, block, kept);
    return ok ? TCONV_OK : TCONV_ENOMEM;
}
