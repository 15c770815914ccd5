/*
 * The gather (output-stationary) forward mode; see kernels/fwd_driver.h.
 *
 * Phase by phase, tiles of output pixels run the taps their pixels need.
 * Three choices are made at plan time (tconv_fwd_gather_plan): per phase,
 * flat tiles or tiles by tap class (no FMA on padding); whether the phases
 * share one tile loop over their common input window; and, per run, whether
 * a tile runs all output-channel blocks (weights cached) or one block runs
 * over all tiles. The PIXELS family walks rows of a phase instead.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/fwd_internal.h"
#include "runtime/threads.h"
#include "runtime/topology.h"

/* Where the kernels write: a base and element strides per logical index. */
typedef struct out_view {
    char *base;
    tconv_data_strides s;
} out_view;

/* Bias for every output pixel of the phase outside its compute region, in
 * images [n0, n1); bias_f holds the value of each filter (activated when the
 * mode fuses the activation). */
static void fill_bias_region(const tconv_fwd_driver *d, const fwd_phase *ph, const out_view *v,
                             const char *bias_f, int64_t n0, int64_t n1)
{
    const tconv_problem *p = &d->p;
    for (int64_t n = n0; n < n1; n++)
        for (int64_t qh = ph->qh0; qh < ph->qh1; qh++) {
            const int in_rows = qh >= ph->ch0 && qh < ph->ch1;
            for (int64_t qw = ph->qw0; qw < ph->qw1; qw++) {
                if (in_rows && qw >= ph->cw0 && qw < ph->cw1) {
                    qw = ph->cw1 - 1; /* skip the compute columns */
                    continue;
                }
                const int64_t oh = qh * p->stride_h + ph->rh - p->crop_top;
                const int64_t ow = qw * p->stride_w + ph->rw - p->crop_left;
                for (int64_t f = 0; f < p->filters; f++) {
                    const int64_t dst = n * v->s.n + f * v->s.c + oh * v->s.h + ow * v->s.w;
                    memcpy(v->base + dst * d->esize, bias_f + f * d->esize, (size_t)d->esize);
                }
            }
        }
}

/* Whether tap t reads any input for the rows [h0, h1] x columns [w0, w1] of
 * phase coordinates (a bounding box: a tap it keeps may still read padding
 * for some pixels, which is correct, only slower). */
static int tap_reaches(const tconv_problem *p, const fwd_tap *t, int64_t h0, int64_t h1,
                       int64_t w0, int64_t w1)
{
    return h1 - t->off_h >= 0 && h0 - t->off_h < p->in_h && w1 - t->off_w >= 0 &&
           w0 - t->off_w < p->in_w;
}

/* Tap t's element offset into the padded, channel-innermost input, from a
 * pixel's own position (tconv_uk_tap.x_off of the CHANNELS tiles). */
static int64_t tap_x_off(const tconv_fwd_driver *d, const fwd_tap *t)
{
    return -(t->off_h * d->wp + t->off_w) * d->p.channels;
}

/* ---- channels family --------------------------------------------------- */

/* A rectangle of a phase's q grid: rows [h0, h1) x columns [w0, w1). */
typedef struct rect {
    int64_t h0, h1, w0, w1;
} rect;

/* The part of the q grid inside the compute region of every phase of
 * [first, first + count). */
static rect phases_intersection(const tconv_fwd_driver *d, int64_t first, int64_t count)
{
    rect r = {INT64_MIN, INT64_MAX, INT64_MIN, INT64_MAX};
    for (int64_t i = first; i < first + count; i++) {
        const fwd_phase *ph = &d->phases[i];
        r.h0 = max64(r.h0, ph->ch0); r.h1 = min64(r.h1, ph->ch1);
        r.w0 = max64(r.w0, ph->cw0); r.w1 = min64(r.w1, ph->cw1);
    }
    return r;
}

/* The next pixel of a rectangle in tile order: images outer (row-major
 * within an image), or images inner (all images at one position before the
 * next position). Advancing needs no division. */
typedef struct pixel_cursor {
    int64_t n, qh, qw;
} pixel_cursor;

static void cursor_advance(pixel_cursor *c, const rect *r, int64_t batch, int images_inner)
{
    if (images_inner && ++c->n < batch) return;
    if (images_inner) c->n = 0;
    if (++c->qw < r->w1) return;
    c->qw = r->w0;
    if (++c->qh < r->h1 || images_inner) return;
    c->qh = r->h0;
    c->n++;
}

/* The cursor's pixel in the padded input xp, and its output of phase (0,
 * 0) in v. */
static const char *cursor_x(const tconv_fwd_driver *d, const pixel_cursor *c, const char *xp)
{
    return xp + ((c->n * d->hp + c->qh + d->pad_h) * d->wp + c->qw + d->pad_w) * d->p.channels *
                    d->esize;
}

static char *cursor_y(const tconv_fwd_driver *d, const pixel_cursor *c, const out_view *v)
{
    const int64_t oh = c->qh * d->p.stride_h - d->p.crop_top;
    const int64_t ow = c->qw * d->p.stride_w - d->p.crop_left;
    return v->base + (c->n * v->s.n + oh * v->s.h + ow * v->s.w) * d->esize;
}

/* Pixels of rectangle r in all images, and its tiles of MR of them. */
static int64_t rect_pixels(const tconv_fwd_driver *d, const rect *r)
{
    return d->p.batch * (r->h1 - r->h0) * (r->w1 - r->w0);
}

static int64_t rect_tiles(const tconv_fwd_driver *d, const rect *r)
{
    return (rect_pixels(d, r) + d->mr - 1) / d->mr;
}

/* One tile of m pixels through phase f, for output-channel blocks [blk0,
 * blk1) of the flat (group, block) range: the taps its box (phase-grid rows
 * [box->h0, box->h1] and columns [box->w0, box->w1], inclusive) needs, then
 * the kernel per block. x0[i] and y0[i] are pixel i's input and its output
 * of phase (0, 0); with x0 NULL nothing is read or written. Returns how many
 * taps the tile runs. */
static int64_t tile_phase(const tconv_fwd_driver *d, const fwd_phase *f, const rect *box,
                          int64_t m, const char *const *x0, char *const *y0, const out_view *v,
                          const char *packed_w, const char *packed_bias, int64_t blk0,
                          int64_t blk1, tconv_uk_tap *taps, int64_t *sel)
{
    const tconv_problem *p = &d->p;
    const int64_t mr = d->mr, es = d->esize;
    int64_t nt = 0;
    for (int64_t t = 0; t < f->ntaps; t++)
        if (tap_reaches(p, &d->taps[f->tap_begin + t], box->h0, box->h1, box->w0, box->w1)) {
            if (sel) sel[nt] = f->tap_begin + t;
            nt++;
        }
    if (!x0) return nt;

    const void *xs[TCONV_FWD_MAX_TILE];
    void *ys[TCONV_FWD_MAX_TILE];
    char spill[TCONV_FWD_MAX_TILE * 8]; /* rows past the tile's edge store here */
    const int64_t phase_shift = (f->rh * v->s.h + f->rw * v->s.w) * es;
    for (int64_t blk = blk0; blk < blk1; blk++) {
        const int64_t g = blk / d->nblocks, b = blk % d->nblocks;
        const int64_t nvalid = min64(d->nr, p->fg - b * d->nr);
        const int64_t x_shift = g * p->cg * es;
        const int64_t y_shift = (g * p->fg + b * d->nr) * v->s.c * es + phase_shift;
        for (int64_t i = 0; i < mr; i++) {
            xs[i] = x0[i < m ? i : m - 1] + x_shift;
            ys[i] = i < m ? (void *)(y0[i] + y_shift) : (void *)spill;
        }
        for (int64_t t = 0; t < nt; t++) {
            taps[t].x_off = tap_x_off(d, &d->taps[sel[t]]);
            taps[t].w = packed_w + packed_w_offset(d, g, b, sel[t]) * es;
        }
        d->uk->channels(nvalid, nt, taps, p->cg, xs, packed_bias + blk * d->nr * es, ys);
        /* The activation, fused: the tile's rows are still in L1. */
        if (p->activation != TCONV_ACT_NONE)
            for (int64_t i = 0; i < m; i++) tconv_fwd_activate(d, ys[i], nvalid);
    }
    return nt;
}

/* Whether every tap of phase f reaches the input from the box, so that
 * tile_phase would select them all: tap_reaches holds for each tap exactly
 * when it holds for the largest offsets (the box's far edges) and for the
 * smallest (its near edges). */
static int every_tap(const tconv_problem *p, const fwd_phase *f, const rect *box)
{
    const fwd_tap most = {.off_h = f->off_h_max, .off_w = f->off_w_max};
    const fwd_tap least = {.off_h = f->off_h_min, .off_w = f->off_w_min};
    return f->ntaps > 0 && tap_reaches(p, &most, box->h0, box->h1, box->w0, box->w1) &&
           tap_reaches(p, &least, box->h0, box->h1, box->w0, box->w1);
}

/*
 * A row run: k whole tiles in one row of the rectangle, each needing every
 * tap of every phase of [ph, ph + nph), for the layer's one block of
 * output channels; pixel j of the run at x_run + j * x_step and y_run + j
 * * y_step (bytes; y_run the output of phase (0, 0)). The taps and weights
 * are the same for all its tiles, so the loop only moves the pixel
 * pointers, and each tile computes exactly what tile_phase would (the same
 * taps in the same order): the bits do not depend on which tiles ran as
 * runs. For layers with few channels, whose kernel calls are short (ENet's
 * 16: 16 FMA steps per tap), tile_phase's per-tile work cost about as much
 * as the kernel.
 */
static void run_row(const tconv_fwd_driver *d, const fwd_phase *ph, int64_t nph, int64_t k,
                    const char *x_run, int64_t x_step, char *y_run, int64_t y_step,
                    const out_view *v, const char *packed_w, const char *packed_bias,
                    tconv_uk_tap *taps)
{
    const tconv_problem *p = &d->p;
    const int64_t mr = d->mr, es = d->esize, nvalid = p->fg;
    const void *xs[TCONV_FWD_MAX_TILE];
    void *ys[TCONV_FWD_MAX_TILE];
    for (const fwd_phase *f = ph; f < ph + nph; f++) {
        for (int64_t t = 0; t < f->ntaps; t++) {
            taps[t].x_off = tap_x_off(d, &d->taps[f->tap_begin + t]);
            taps[t].w = packed_w + packed_w_offset(d, 0, 0, f->tap_begin + t) * es;
        }
        const char *xt = x_run;
        char *yt = y_run + (f->rh * v->s.h + f->rw * v->s.w) * es;
        for (int64_t j = 0; j < k; j++, xt += mr * x_step, yt += mr * y_step) {
            for (int64_t i = 0; i < mr; i++) {
                xs[i] = xt + i * x_step;
                ys[i] = yt + i * y_step;
            }
            d->uk->channels(nvalid, f->ntaps, taps, p->cg, xs, packed_bias, ys);
            if (p->activation != TCONV_ACT_NONE)
                for (int64_t i = 0; i < mr; i++) tconv_fwd_activate(d, ys[i], nvalid);
        }
    }
}

/* The most tiles of a row run (run_row): as many as keep their input in a
 * quarter of L1 while the phases go over it; none below 2, nor with more
 * than one block of output channels (those tiles do more work per call
 * already, and runs that went over the blocks tile by tile were no faster
 * on YOLOv8's 64->64: 1.01-1.03x, NHWC, AVX2 AMD EPYC). */
int64_t tconv_fwd_gather_row_run_tiles(const tconv_fwd_driver *d)
{
    const int64_t tile_bytes = d->mr * d->p.channels * d->esize;
    const int64_t most = tconv_topology_get()->l1d_bytes / 4 / max64(tile_bytes, 1);
    return d->mode == TCONV_FWD_GATHER && d->uk->family == TCONV_UK_CHANNELS &&
                   d->p.groups * d->nblocks == 1 && most >= 2
               ? most
               : 0;
}

/* How many whole tiles from column w0 of row qh, at most k, need every tap
 * of every phase of [ph, ph + nph). */
static int64_t every_tap_tiles(const tconv_fwd_driver *d, const fwd_phase *ph, int64_t nph,
                               int64_t qh, int64_t w0, int64_t k)
{
    for (int64_t j = 0; j < k; j++) {
        const rect box = {qh, qh, w0 + j * d->mr, w0 + j * d->mr + d->mr - 1};
        for (const fwd_phase *f = ph; f < ph + nph; f++)
            if (!every_tap(&d->p, f, &box)) return j;
    }
    return k;
}

/* Tiles [tile0, tile1) of rectangle r (a tile is MR consecutive pixels in
 * tile order, so a tile's pixels, and with them its taps and results, are
 * the same however the tiles are shared out) for output-channel blocks
 * [blk0, blk1) of the flat (group, block) range, for the nph phases from ph
 * on, which share r (more than one only when they share their compute
 * region, see choose_phase_group): per tile, pixel pointers are worked out
 * once, then each phase runs the taps its pixels need (tile_phase); whole
 * tiles within one row go as row runs where the input allows (run_row).
 * With xp NULL it is a dry run: nothing is read or written, and the return
 * value is the work the tiles would do, in tile rows x taps (MR per tile
 * and tap). */
static int64_t run_channels_tiles(const tconv_fwd_driver *d, const fwd_phase *ph, int64_t nph,
                                  const rect *r, const char *xp, const out_view *v,
                                  const char *packed_w, const char *packed_bias, int64_t blk0,
                                  int64_t blk1, int64_t tile0, int64_t tile1, tconv_uk_tap *taps,
                                  int64_t *sel)
{
    const tconv_problem *p = &d->p;
    const int64_t mr = d->mr, es = d->esize;
    const int64_t npix = rect_pixels(d, r);
    int64_t work = 0;
    /* Tile across images at the same position when an image has fewer
     * pixels than a tile, or when the input is smaller than the phase's
     * sub-kernel (e.g. 1x1 inputs): neighbouring positions then use
     * different taps, and a tile spanning them would compute them all. */
    const int images_inner = p->batch > 1 && (npix / p->batch < mr || p->in_h <= d->pad_h ||
                                              p->in_w <= d->pad_w);
    const int64_t run_max = xp && !images_inner ? tconv_fwd_gather_row_run_tiles(d) : 0;
    /* The cursor at pixel tile0 * MR (one division per call). */
    const int64_t width = r->w1 - r->w0, area = (r->h1 - r->h0) * width;
    const int64_t first = tile0 * mr, last = min64(npix, tile1 * mr);
    const int64_t pos = images_inner ? first / p->batch : first % max64(area, 1);
    pixel_cursor cur = {images_inner ? first % p->batch : first / max64(area, 1),
                        r->h0 + pos / max64(width, 1), r->w0 + pos % max64(width, 1)};
    const char *x0[TCONV_FWD_MAX_TILE];
    char *y0[TCONV_FWD_MAX_TILE]; /* output of phase (0, 0) at the pixel's q */

    for (int64_t t0 = first; t0 < last;) {
        /* Whole tiles left in this row (and in the range) that need every
         * tap: a row run. */
        const int64_t k =
            run_max < 2 ? 0
                        : every_tap_tiles(d, ph, nph, cur.qh, cur.qw,
                                          min64(run_max, min64(r->w1 - cur.qw, last - t0) / mr));
        if (k >= 2) {
            run_row(d, ph, nph, k, cursor_x(d, &cur, xp), p->channels * es, cursor_y(d, &cur, v),
                    p->stride_w * v->s.w * es, v, packed_w, packed_bias, taps);
            t0 += k * mr;
            cur.qw += k * mr;
            if (cur.qw == r->w1) {
                cur.qw = r->w0;
                if (++cur.qh == r->h1) {
                    cur.qh = r->h0;
                    cur.n++;
                }
            }
            continue;
        }
        const int64_t m = min64(mr, npix - t0);
        rect box = {INT64_MAX, INT64_MIN, INT64_MAX, INT64_MIN};
        for (int64_t i = 0; i < m; i++, cursor_advance(&cur, r, p->batch, images_inner)) {
            box.h0 = min64(box.h0, cur.qh); box.h1 = max64(box.h1, cur.qh);
            box.w0 = min64(box.w0, cur.qw); box.w1 = max64(box.w1, cur.qw);
            if (!xp) continue;
            x0[i] = cursor_x(d, &cur, xp);
            y0[i] = cursor_y(d, &cur, v);
        }
        for (const fwd_phase *f = ph; f < ph + nph; f++)
            work += mr * tile_phase(d, f, &box, m, xp ? x0 : NULL, y0, v, packed_w, packed_bias,
                                    blk0, blk1, taps, sel);
        t0 += m;
    }
    return work;
}

/*
 * Pixels of a phase near its edges read padding through some taps. A tile's
 * taps are those any of its pixels needs, so a tile mixing border and
 * interior pixels computes zeros (23% of the work on DCGAN's 4x4 inputs).
 * Cutting the compute region where the set of useful taps changes (at
 * q = off and q = off + in for every tap offset) gives rectangles whose
 * pixels all need the same taps; tiling each separately is exact, at the
 * price of more partly filled tiles. The plan compares the two (a dry run
 * of each) per phase and keeps the cheaper.
 */
static int64_t class_cuts(const tconv_fwd_driver *d, const fwd_phase *ph, int columns,
                          int64_t *cuts)
{
    const int64_t c0 = columns ? ph->cw0 : ph->ch0, c1 = columns ? ph->cw1 : ph->ch1;
    const int64_t in = columns ? d->p.in_w : d->p.in_h;
    int64_t n = 0;
    for (int64_t t = 0; t < ph->ntaps; t++) {
        const fwd_tap *tap = &d->taps[ph->tap_begin + t];
        const int64_t off = columns ? tap->off_w : tap->off_h;
        const int64_t at[2] = {off, off + in};
        for (int k = 0; k < 2; k++) {
            if (at[k] <= c0 || at[k] >= c1) continue;
            int64_t i = n++; /* insertion keeps cuts sorted; duplicates dropped below */
            while (i > 0 && cuts[i - 1] > at[k]) {
                cuts[i] = cuts[i - 1];
                i--;
            }
            cuts[i] = at[k];
        }
    }
    int64_t unique = 0;
    for (int64_t i = 0; i < n; i++)
        if (unique == 0 || cuts[unique - 1] != cuts[i]) cuts[unique++] = cuts[i];
    return unique;
}

/* The rectangles a phase's compute region is tiled by: the whole region, or
 * (by_classes) the grid cut where the set of useful taps changes; cuts_h and
 * cuts_w are scratch of 2 * ntaps_max + 1 each. Returns how many; fills
 * out[] when it is not NULL. */
static int64_t region_rects(const tconv_fwd_driver *d, const fwd_phase *ph, int by_classes,
                            int64_t *cuts_h, int64_t *cuts_w, rect *out)
{
    if (!by_classes) {
        if (out) *out = (rect){ph->ch0, ph->ch1, ph->cw0, ph->cw1};
        return 1;
    }
    const int64_t nh = class_cuts(d, ph, 0, cuts_h), nw = class_cuts(d, ph, 1, cuts_w);
    if (out)
        for (int64_t i = 0; i <= nh; i++)
            for (int64_t j = 0; j <= nw; j++)
                out[i * (nw + 1) + j] =
                    (rect){i ? cuts_h[i - 1] : ph->ch0, i < nh ? cuts_h[i] : ph->ch1,
                           j ? cuts_w[j - 1] : ph->cw0, j < nw ? cuts_w[j] : ph->cw1};
    return (nh + 1) * (nw + 1);
}

/* The most rectangles region_rects gives any phase tiled by classes (the
 * size of its out[]): a phase's taps are th kernel rows times tw columns
 * (kh outer in the packed order), and each distinct offset cuts its
 * dimension at most twice. (2 * ntaps + 1)^2 would be gigabytes for a
 * 64 x 64 kernel at stride 1. */
static int64_t max_class_rects(const tconv_fwd_driver *d)
{
    int64_t most = 1;
    for (int64_t i = 0; i < d->nphases; i++) {
        const fwd_phase *ph = &d->phases[i];
        const fwd_tap *t = &d->taps[ph->tap_begin];
        int64_t th = 0;
        for (int64_t k = 0; k < ph->ntaps; k++) th += k == 0 || t[k].kh != t[k - 1].kh;
        const int64_t tw = th ? ph->ntaps / th : 0;
        most = max64(most, (2 * th + 1) * (2 * tw + 1));
    }
    return most;
}

/* The work (see run_channels_tiles) of tiling a phase flatly or by classes:
 * a dry run over its rectangles. */
static int64_t region_work(const tconv_fwd_driver *d, const fwd_phase *ph, int by_classes,
                           int64_t *cuts_h, int64_t *cuts_w, rect *rects, int64_t *sel)
{
    const int64_t nr = region_rects(d, ph, by_classes, cuts_h, cuts_w, rects);
    int64_t work = 0;
    for (int64_t k = 0; k < nr; k++)
        work += run_channels_tiles(d, ph, 1, &rects[k], NULL, NULL, NULL, NULL, 0, 0, 0,
                                   rect_tiles(d, &rects[k]), NULL, sel);
    return work;
}

/* Loop order: when a phase's packed weights fit in half of L2 (the rest
 * holds the inputs and outputs streaming through), every tile runs all
 * output-channel blocks while its inputs are in L1 (the input is read
 * once); otherwise as many blocks as fit there run over all tiles at a
 * time, so their weights stay cached and each tile's inputs, once in L1,
 * serve all of them. One block at a time read the input once per block:
 * on a 512 KiB-L2 AMD EPYC (AVX2, one thread) U-Net's 1024->512 and
 * 512->256 up-convolutions and DCGAN 256->128 at batch 16 ran 1.08-1.12x
 * longer than with 4 blocks (2, 8 or 16 were no faster than 4). L2's size
 * comes from hwloc (runtime/topology.c). */
static int64_t weights_resident_bytes(void)
{
    return tconv_topology_get()->l2_bytes / 2;
}

/* Packed weight bytes of the phases [first, first + count). */
static int64_t group_weight_bytes(const tconv_fwd_driver *d, int64_t first, int64_t count)
{
    const tconv_problem *p = &d->p;
    int64_t taps = 0;
    for (int64_t i = first; i < first + count; i++) taps += d->phases[i].ntaps;
    return p->groups * d->nblocks * taps * p->cg * d->nr * d->esize;
}

/* Whether every run of `size` consecutive phases can be a group. */
static int can_group(const tconv_fwd_driver *d, int64_t size)
{
    for (int64_t first = 0; first < d->nphases; first += size) {
        if (group_weight_bytes(d, first, size) > weights_resident_bytes()) return 0;
        const rect r = phases_intersection(d, first, size);
        if (r.h1 <= r.h0 || r.w1 <= r.w0) return 0;
    }
    return 1;
}

/* The phases run inside one tile loop over the intersection of their
 * compute regions (each phase's leftover strips run on their own), in
 * groups of consecutive phases (phase order is row-major over (rh, rw)):
 * each input tile of the intersection is then read once for the group
 * instead of once per phase, and its results, which sit next to each other
 * in y, are written together. All phases form one group when all their
 * packed weights fit in half of L2 (k = s, as in U-Net's up-convolutions,
 * shares the regions exactly; k3 s2 differs by a row); else as many whole
 * phase rows as fit. With phases outer, a large y of a large stride is
 * written a stride's worth of times in scattered pieces, each pass
 * evicting the last: FCN-8s's k16 s8 upsampler (64 phases, 516 KiB of
 * weights, 27 MB of y) ran at 37 GFLOP/s so on a 512 KiB-L2 AMD EPYC (Zen
 * 3, AVX2) and at 52 with its phase rows inner (8 phases, 64 KiB). Returns
 * the group size, 1 for none. */
static int64_t choose_phase_group(const tconv_fwd_driver *d)
{
    const tconv_problem *p = &d->p;
    if (d->uk->family != TCONV_UK_CHANNELS || d->mode != TCONV_FWD_GATHER || d->nphases < 2)
        return 1;
    for (int64_t i = 0; i < d->nphases; i++) {
        const fwd_phase *b = &d->phases[i];
        if (b->by_classes || b->ntaps == 0 || b->ch1 == b->ch0 || b->cw1 == b->cw0) return 1;
    }
    if (can_group(d, d->nphases)) return d->nphases;
    /* Whole phase rows, as many as divide stride_h and fit. */
    for (int64_t rows = p->stride_h / 2; rows >= 1; rows--)
        if (p->stride_h % rows == 0 && rows * p->stride_w >= 2 &&
            can_group(d, rows * p->stride_w))
            return rows * p->stride_w;
    return 1;
}

/* Whether phases a and b tile alike: the same compute region and the same
 * tap offsets in the same order (the dry runs read nothing else). */
static int same_tiling_problem(const tconv_fwd_driver *d, const fwd_phase *a, const fwd_phase *b)
{
    if (a->ntaps != b->ntaps || a->ch0 != b->ch0 || a->ch1 != b->ch1 || a->cw0 != b->cw0 ||
        a->cw1 != b->cw1)
        return 0;
    for (int64_t t = 0; t < a->ntaps; t++) {
        const fwd_tap *x = &d->taps[a->tap_begin + t], *y = &d->taps[b->tap_begin + t];
        if (x->off_h != y->off_h || x->off_w != y->off_w) return 0;
    }
    return 1;
}

/* The dry runs' share of plan time, in tile steps (a tile's MR pixels and
 * its taps, 1-3 ns each here): ~3 ms at most, whatever the sizes. */
#define DRY_RUN_BUDGET (INT64_C(1) << 20)

/* Images a dry run of a phase with `area` compute pixels per image tiles:
 * about 2^16 pixels, at least two images (a tile may straddle two; and
 * images-inner tiling needs two), not all of a large batch. Which tiling
 * does less work depends on an image's geometry, which a few images show
 * as well as thousands (images-inner tiles hold the same position of MR
 * images, whose taps do not depend on how many images there are). */
static int64_t dry_run_batch(const tconv_fwd_driver *d, int64_t area)
{
    const int64_t want = max64(2, ((INT64_C(1) << 16) + area - 1) / area);
    return min64(d->p.batch, want);
}

/* Decides per phase whether tiling by tap classes does less work than the
 * flat tiling (dry runs of both; a small margin favours the flat one). A
 * phase that tiles like an earlier one takes its decision: FCN-8s's k16 s8
 * layer has 64 phases but a few distinct ones, and dry-running them all
 * was most of its plan time (1.2 ms). The dry runs tile a few images (see
 * dry_run_batch) and stop at DRY_RUN_BUDGET: a phase too large to dry-run
 * tiles flatly, which on a region that large differs from tiling by
 * classes only in the few tiles on its border. */
static tconv_status choose_tilings(tconv_fwd_driver *d)
{
    if (d->uk->family != TCONV_UK_CHANNELS || d->mode != TCONV_FWD_GATHER) return TCONV_OK;
    const size_t n = (size_t)(2 * d->ntaps_max + 1);
    int64_t *cuts = malloc(2 * n * sizeof *cuts);
    rect *rects = malloc((size_t)max_class_rects(d) * sizeof *rects);
    int64_t *decided = malloc((size_t)d->nphases * sizeof *decided); /* phases dry-run */
    if (!cuts || !rects || !decided) {
        free(cuts); free(rects); free(decided);
        return TCONV_ENOMEM;
    }
    /* The dry runs read the problem's batch from the driver: a copy with
     * fewer images runs them. */
    tconv_fwd_driver dry = *d;
    int64_t budget = DRY_RUN_BUDGET, ndecided = 0;
    for (int64_t i = 0; i < d->nphases; i++) {
        fwd_phase *ph = &d->phases[i];
        if (ph->ntaps < 2 || ph->ch1 == ph->ch0 || ph->cw1 == ph->cw0) continue;
        int64_t j = 0;
        while (j < ndecided && !same_tiling_problem(d, &d->phases[decided[j]], ph)) j++;
        if (j < ndecided) {
            ph->by_classes = d->phases[decided[j]].by_classes;
            continue;
        }
        decided[ndecided++] = i;
        ph->by_classes = 0;
        /* Both the area (up to ~2^62) and the cost are checked before any
         * product can overflow. */
        const int64_t area = (ph->ch1 - ph->ch0) * (ph->cw1 - ph->cw0);
        if (area > budget) continue;
        dry.p.batch = dry_run_batch(d, area);
        const int64_t tiles = (dry.p.batch * area + d->mr - 1) / d->mr;
        const int64_t nrect = region_rects(d, ph, 1, cuts, cuts + n, NULL);
        const int64_t cost = (2 * tiles + nrect) * (d->mr + ph->ntaps);
        if (cost > budget) continue;
        budget -= cost;
        const int64_t flat = region_work(&dry, ph, 0, cuts, cuts + n, rects, NULL);
        const int64_t classes = region_work(&dry, ph, 1, cuts, cuts + n, rects, NULL);
        ph->by_classes = classes * 100 < flat * 97;
    }
    free(cuts); free(rects); free(decided);
    return TCONV_OK;
}

/*
 * The run as a list of jobs (fwd_job), in the order one thread runs them:
 *  - phases inner: per group of phases (choose_phase_group), the
 *    intersection of their compute regions, then each phase's strips around
 *    it;
 *  - else, phase by phase: its rectangles (the whole region or its tap
 *    classes) for all blocks when its weights stay cached, or block by block
 *    over all of them when not (see weights_resident_bytes());
 *  - PIXELS: one job, the rows of all phases.
 * With jobs NULL, only counts them.
 */
static int64_t list_jobs(const tconv_fwd_driver *d, int64_t *cuts_h, int64_t *cuts_w, rect *rects,
                         fwd_job *jobs)
{
    const tconv_problem *p = &d->p;
    const int64_t nblk = p->groups * d->nblocks;
    int64_t n = 0;
#define ADD_JOB(ph_, nph_, r_, b0_, b1_, count_, per_pass_)                                      \
    do {                                                                                         \
        if (jobs)                                                                                \
            jobs[n] = (fwd_job){(ph_), (nph_), (r_).h0, (r_).h1, (r_).w0, (r_).w1, (b0_), (b1_), \
                                (count_), (per_pass_)};                                          \
        n++;                                                                                     \
    } while (0)
    if (d->phase_group > 1) {
        const int64_t size = d->phase_group;
        for (int64_t first = 0; first < d->nphases; first += size) {
            const rect in = phases_intersection(d, first, size);
            ADD_JOB(first, size, in, 0, nblk, rect_tiles(d, &in), 0);
            for (int64_t i = first; i < first + size; i++) {
                const fwd_phase *ph = &d->phases[i];
                const rect strips[4] = {{ph->ch0, in.h0, ph->cw0, ph->cw1},
                                        {in.h1, ph->ch1, ph->cw0, ph->cw1},
                                        {in.h0, in.h1, ph->cw0, in.w0},
                                        {in.h0, in.h1, in.w1, ph->cw1}};
                for (int k = 0; k < 4; k++)
                    if (strips[k].h1 > strips[k].h0 && strips[k].w1 > strips[k].w0)
                        ADD_JOB(i, 1, strips[k], 0, nblk, rect_tiles(d, &strips[k]), 0);
            }
        }
        return n;
    }
    if (d->uk->family == TCONV_UK_PIXELS) {
        /* One job over the rows q of every phase: a task then writes the
         * output rows q * stride + rh of all phases rh, a band of whole
         * rows, where tasks per phase would write interleaved columns of
         * the same rows from different threads (false sharing). */
        rect rows = {INT64_MAX, INT64_MIN, 0, 0};
        for (int64_t i = 0; i < d->nphases; i++) {
            const fwd_phase *ph = &d->phases[i];
            if (ph->ch1 == ph->ch0 || ph->cw1 == ph->cw0) continue;
            rows.h0 = min64(rows.h0, ph->ch0);
            rows.h1 = max64(rows.h1, ph->ch1);
        }
        if (rows.h1 > rows.h0)
            ADD_JOB(0, d->nphases, rows, 0, 0, p->batch * nblk * (rows.h1 - rows.h0), 0);
        return n;
    }
    for (int64_t i = 0; i < d->nphases; i++) {
        const fwd_phase *ph = &d->phases[i];
        if (ph->ch1 == ph->ch0 || ph->cw1 == ph->cw0) continue;
        const int64_t nrect = region_rects(d, ph, ph->by_classes, cuts_h, cuts_w, rects);
        /* Weights too large to stay cached: each rectangle's job runs as
         * many blocks at a time as fit (blocks_per_pass), each such pass
         * over all its tiles; one job per pass would make the list as long
         * as the filters are many. */
        const int64_t block_bytes = ph->ntaps * p->cg * d->nr * d->esize;
        const int64_t per_pass = nblk * block_bytes > weights_resident_bytes()
                                     ? max64(weights_resident_bytes() / max64(block_bytes, 1), 1)
                                     : 0;
        for (int64_t k = 0; k < nrect; k++)
            ADD_JOB(i, 1, rects[k], 0, nblk, rect_tiles(d, &rects[k]), per_pass);
    }
#undef ADD_JOB
    return n;
}

static tconv_status plan_jobs(tconv_fwd_driver *d)
{
    const size_t n = (size_t)(2 * d->ntaps_max + 1);
    int64_t *cuts = malloc(2 * n * sizeof *cuts);
    rect *rects = malloc((size_t)max_class_rects(d) * sizeof *rects);
    tconv_status st = TCONV_ENOMEM;
    if (cuts && rects) {
        d->njobs = list_jobs(d, cuts, cuts + n, rects, NULL);
        d->jobs = malloc((size_t)max64(d->njobs, 1) * sizeof *d->jobs);
        if (d->jobs) {
            list_jobs(d, cuts, cuts + n, rects, d->jobs);
            st = TCONV_OK;
        }
    }
    free(cuts); free(rects);
    return st;
}

/* ---- pixels family ----------------------------------------------------- */

/* Rows [row0, row1) of a PIXELS job, in the flat (image, group, block, q
 * row) order: for each, the row q of every phase whose compute region has it
 * (output rows q * stride_h + rh, next to each other). */
static void run_pixels_rows(const tconv_fwd_driver *d, const fwd_job *job, const char *xp,
                            const out_view *v, const char *packed_w, const char *packed_bias,
                            int64_t row0, int64_t row1, tconv_uk_tap *taps)
{
    const tconv_problem *p = &d->p;
    const int64_t mr = d->mr, es = d->esize;
    const int64_t rows = job->h1 - job->h0;
    for (int64_t row = row0; row < row1; row++) {
        const int64_t qh = job->h0 + row % rows, nb = row / rows;
        const int64_t b = nb % d->nblocks, g = nb / d->nblocks % p->groups;
        const int64_t n = nb / d->nblocks / p->groups;
        const int64_t nvalid = min64(d->nr, p->fg - b * d->nr);
        const char *bias = packed_bias + (g * d->nblocks + b) * d->nr * es;
        for (const fwd_phase *ph = d->phases; ph < d->phases + d->nphases; ph++) {
            if (qh < ph->ch0 || qh >= ph->ch1) continue;
            for (int64_t qw = ph->cw0; qw < ph->cw1; qw += mr) {
                const int64_t m = min64(mr, ph->cw1 - qw);
                int64_t nt = 0;
                for (int64_t t = 0; t < ph->ntaps; t++) {
                    const fwd_tap *tap = &d->taps[ph->tap_begin + t];
                    if (!tap_reaches(p, tap, qh, qh, qw, qw + m - 1)) continue;
                    taps[nt].x_off = -(tap->off_h * d->px_row + tap->off_w);
                    taps[nt].w = packed_w + packed_w_offset(d, g, b, ph->tap_begin + t) * es;
                    nt++;
                }
                const int64_t xi = n * p->channels * d->hp * d->wp + g * p->cg * d->px_chan +
                                   (qh + d->pad_h) * d->px_row + qw + d->pad_w;
                const int64_t oh = qh * p->stride_h + ph->rh - p->crop_top;
                const int64_t ow = qw * p->stride_w + ph->rw - p->crop_left;
                const int64_t yi =
                    n * v->s.n + (g * p->fg + b * d->nr) * v->s.c + oh * v->s.h + ow * v->s.w;
                d->uk->pixels(m, nvalid, nt, taps, p->cg, d->px_chan, xp + xi * es, bias,
                              v->base + yi * es, p->stride_w * v->s.w, v->s.c);
            }
        }
    }
}

tconv_status tconv_fwd_gather_plan(tconv_fwd_driver *d)
{
    tconv_status st = choose_tilings(d);
    if (st != TCONV_OK) return st;
    d->phase_group = choose_phase_group(d);
    return plan_jobs(d);
}

/* ---- the run, shared out ----------------------------------------------- */

/*
 * A run's tasks: every phase's bias-only border for a range of images, then
 * pieces of the jobs, each a range of a job's tiles (or rows). Pieces are
 * sized so that each thread gets about eight (a thread that finishes early
 * takes more); tiles never change with the split, so neither do results.
 */
typedef struct piece {
    int64_t job, begin, end;
} piece;

typedef struct gather_run {
    const tconv_fwd_driver *d;
    const char *xp;
    const char *packed_w, *packed_bias;
    const char *bias_f;
    out_view v;
    int64_t bias_tasks, images_per_bias_task;
    const piece *pieces;
    atomic_int out_of_memory; /* a task could not get its scratch */
} gather_run;

static void gather_task(void *arg, int64_t i)
{
    const gather_run *r = arg;
    const tconv_fwd_driver *d = r->d;
    if (i < r->bias_tasks) {
        const int64_t n0 = i * r->images_per_bias_task;
        const int64_t n1 = min64(d->p.batch, n0 + r->images_per_bias_task);
        for (int64_t k = 0; k < d->nphases; k++)
            fill_bias_region(d, &d->phases[k], &r->v, r->bias_f, n0, n1);
        return;
    }
    const piece *pc = &r->pieces[i - r->bias_tasks];
    const fwd_job *job = &d->jobs[pc->job];
    /* This thread's tap list and selection, kept between runs. */
    const size_t taps_bytes = (size_t)(d->ntaps_max + 1) * sizeof(tconv_uk_tap);
    char *scratch = tconv_thread_scratch(taps_bytes + (size_t)(d->ntaps_max + 1) * sizeof(int64_t));
    if (!scratch) {
        atomic_store(&((gather_run *)arg)->out_of_memory, 1);
        return;
    }
    tconv_uk_tap *taps = (tconv_uk_tap *)scratch;
    int64_t *sel = (int64_t *)(scratch + taps_bytes);
    const fwd_phase *ph = &d->phases[job->phase];
    if (d->uk->family == TCONV_UK_PIXELS) {
        run_pixels_rows(d, job, r->xp, &r->v, r->packed_w, r->packed_bias, pc->begin, pc->end,
                        taps);
        return;
    }
    const rect rc = {job->h0, job->h1, job->w0, job->w1};
    if (!job->blocks_per_pass) {
        run_channels_tiles(d, ph, job->nph, &rc, r->xp, &r->v, r->packed_w, r->packed_bias,
                           job->blk0, job->blk1, pc->begin, pc->end, taps, sel);
        return;
    }
    /* Units pass * ntiles + tile: each pass's blocks over its tiles of the
     * piece. */
    for (int64_t u = pc->begin; u < pc->end;) {
        const int64_t b = job->blk0 + u / job->ntiles * job->blocks_per_pass;
        const int64_t t0 = u % job->ntiles, t1 = min64(job->ntiles, t0 + (pc->end - u));
        run_channels_tiles(d, ph, job->nph, &rc, r->xp, &r->v, r->packed_w, r->packed_bias, b,
                           min64(b + job->blocks_per_pass, job->blk1), t0, t1, taps, sel);
        u += t1 - t0;
    }
}

/* A pass-by-pass job's passes over its tiles (blocks_per_pass > 0). */
static int64_t job_passes(const fwd_job *job)
{
    return (job->blk1 - job->blk0 + job->blocks_per_pass - 1) / job->blocks_per_pass;
}

int64_t tconv_fwd_gather_block_passes(const tconv_fwd_driver *d)
{
    int64_t most = 1;
    for (int64_t j = 0; j < d->njobs; j++)
        if (d->jobs[j].blocks_per_pass) most = max64(most, job_passes(&d->jobs[j]));
    return most;
}

/* A job's units, which pieces are ranges of: its tiles (or rows), or with
 * blocks_per_pass its (pass, tile) pairs, pass-major; and the work of a
 * unit, in tile-blocks (a short last pass counts as a whole one). */
static int64_t job_units(const fwd_job *job)
{
    return job->blocks_per_pass ? job->ntiles * job_passes(job) : job->ntiles;
}

static int64_t unit_work(const fwd_job *job)
{
    return job->blocks_per_pass ? job->blocks_per_pass : max64(job->blk1 - job->blk0, 1);
}

/* Cuts the jobs into pieces for `threads` threads: their number, and with
 * out not NULL the pieces themselves. */
static int64_t cut_pieces(const tconv_fwd_driver *d, int threads, piece *out)
{
    int64_t total = 0;
    for (int64_t j = 0; j < d->njobs; j++)
        total += job_units(&d->jobs[j]) * unit_work(&d->jobs[j]);
    /* One piece per job for one thread; else ~8 pieces per thread. */
    const int64_t target = threads > 1 ? max64(total / (8 * (int64_t)threads), 1) : INT64_MAX;
    int64_t n = 0;
    for (int64_t j = 0; j < d->njobs; j++) {
        const fwd_job *job = &d->jobs[j];
        const int64_t size = max64(target / unit_work(job), 1), units = job_units(job);
        for (int64_t b = 0; b < units; b += size, n++)
            if (out) out[n] = (piece){j, b, min64(units, b + size)};
    }
    return n;
}

/* A run's work block: the NHWC output (when y is not NHWC and the tiles
 * write NHWC: the channels family), each filter's bias, the pieces. */
enum { WORK_Y, WORK_BIAS, WORK_PIECES, WORK_PARTS };

static int direct_output(const tconv_fwd_driver *d)
{
    return d->uk->family != TCONV_UK_CHANNELS || d->p.y.c == 1;
}

static size_t work_layout(const tconv_fwd_driver *d, int threads, size_t at[WORK_PARTS])
{
    const tconv_problem *p = &d->p;
    const size_t sizes[WORK_PARTS] = {
        direct_output(d) ? 0 : (size_t)(p->y_elems * d->esize),
        (size_t)(p->filters * d->esize),
        (size_t)max64(cut_pieces(d, threads, NULL), 1) * sizeof(piece)};
    return tconv_scratch_carve(sizes, at, WORK_PARTS);
}

size_t tconv_fwd_gather_work_bytes(const tconv_fwd_driver *d, int threads)
{
    size_t at[WORK_PARTS];
    return work_layout(d, threads, at);
}

tconv_status tconv_fwd_gather_run(const tconv_fwd_driver *d, const char *xin,
                                  const void *packed_w, const void *packed_bias, void *y,
                                  int threads, void *work)
{
    const tconv_problem *p = &d->p;
    const int channels_family = d->uk->family == TCONV_UK_CHANNELS;
    /* The channels family writes NHWC: straight into y when that is y's
     * layout (channel stride 1), else into scratch converted at the end. */
    const int direct = direct_output(d);
    size_t at[WORK_PARTS];
    work_layout(d, threads, at);
    char *scratch = direct ? NULL : (char *)work + at[WORK_Y];
    /* Each filter's bias, from its packed block; activated here when the
     * tiles fuse the activation (CHANNELS), else left for the final sweep
     * over y (tconv_fwd_driver_run). */
    char *bias_f = (char *)work + at[WORK_BIAS];
    piece *pieces = (piece *)((char *)work + at[WORK_PIECES]);
    const int64_t npieces = cut_pieces(d, threads, pieces);
    for (int64_t f = 0; f < p->filters; f++) {
        const int64_t g = f / p->fg, m = f - g * p->fg;
        const int64_t src = (g * d->nblocks + m / d->nr) * d->nr + m % d->nr;
        memcpy(bias_f + f * d->esize, (const char *)packed_bias + src * d->esize,
               (size_t)d->esize);
    }
    if (channels_family) tconv_fwd_activate(d, bias_f, p->filters);

    gather_run run = {d, xin, packed_w, packed_bias, bias_f,
                      {direct ? (char *)y : (char *)scratch, p->y}, 0, 0, pieces, 0};
    if (!direct) {
        run.v.s.c = 1;
        run.v.s.w = p->filters;
        run.v.s.h = p->out_w * p->filters;
        run.v.s.n = p->out_h * p->out_w * p->filters;
    }
    run.images_per_bias_task = max64((p->batch + threads - 1) / threads, 1);
    run.bias_tasks = (p->batch + run.images_per_bias_task - 1) / run.images_per_bias_task;
    tconv_parallel_for(run.bias_tasks + npieces, gather_task, &run);
    const int failed = atomic_load(&run.out_of_memory);
    if (!direct && !failed) tconv_fwd_unpack_output(d, scratch, y);
    return failed ? TCONV_ENOMEM : TCONV_OK;
}
