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
#include <stdlib.h>
#include <string.h>

#include "kernels/fwd_internal.h"

/* Where the kernels write: a base and element strides per logical index. */
typedef struct out_view {
    char *base;
    tconv_data_strides s;
} out_view;

/* Bias for every output pixel of the phase outside its compute region;
 * bias_f holds the value of each filter (activated when the mode fuses the
 * activation). */
static void fill_bias_region(const tconv_fwd_driver *d, const fwd_phase *ph, const out_view *v,
                             const char *bias_f)
{
    const tconv_problem *p = &d->p;
    for (int64_t n = 0; n < p->batch; n++)
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

/* ---- channels family --------------------------------------------------- */

/* A rectangle of a phase's q grid: rows [h0, h1) x columns [w0, w1). */
typedef struct rect {
    int64_t h0, h1, w0, w1;
} rect;

/* The part of the q grid inside every phase's compute region. */
static rect phases_intersection(const tconv_fwd_driver *d)
{
    rect r = {INT64_MIN, INT64_MAX, INT64_MIN, INT64_MAX};
    for (int64_t i = 0; i < d->nphases; i++) {
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

/* Tiles of rectangle r for output-channel blocks [blk0, blk1) of the flat
 * (group, block) range, for the nph phases from ph on, which share r (more
 * than one only when they share their compute region, see phases_inner):
 * per tile, pixel pointers are worked out once, then for each phase the taps
 * its pixels need and the kernel for each block. With xp NULL it is a dry
 * run: nothing is read or written, and the return value is the work the
 * tiles would do, in tile rows x taps (MR per tile and tap). */
static int64_t run_channels_tiles(const tconv_fwd_driver *d, const fwd_phase *ph, int64_t nph,
                                  const rect *r, const char *xp, const out_view *v,
                                  const char *packed_w, const char *packed_bias, int64_t blk0,
                                  int64_t blk1, tconv_uk_tap *taps, int64_t *sel)
{
    const tconv_problem *p = &d->p;
    const int64_t mr = d->mr, es = d->esize;
    const int64_t npix = p->batch * (r->h1 - r->h0) * (r->w1 - r->w0);
    int64_t work = 0;
    /* Tile across images at the same position when an image has fewer
     * pixels than a tile, or when the input is smaller than the phase's
     * sub-kernel (e.g. 1x1 inputs): neighbouring positions then use
     * different taps, and a tile spanning them would compute them all. */
    const int images_inner = p->batch > 1 && (npix / p->batch < mr || p->in_h <= d->pad_h ||
                                              p->in_w <= d->pad_w);
    const char *x0[TCONV_FWD_MAX_TILE];
    char *y0[TCONV_FWD_MAX_TILE]; /* output of phase (0, 0) at the pixel's q */
    const void *xs[TCONV_FWD_MAX_TILE];
    void *ys[TCONV_FWD_MAX_TILE];
    char spill[TCONV_FWD_MAX_TILE * 8]; /* rows past the tile's edge store here */
    pixel_cursor cur = {0, r->h0, r->w0};

    for (int64_t t0 = 0; t0 < npix; t0 += mr) {
        const int64_t m = min64(mr, npix - t0);
        int64_t h0 = INT64_MAX, h1 = INT64_MIN, w0 = INT64_MAX, w1 = INT64_MIN;
        for (int64_t i = 0; i < m; i++, cursor_advance(&cur, r, p->batch, images_inner)) {
            h0 = min64(h0, cur.qh); h1 = max64(h1, cur.qh);
            w0 = min64(w0, cur.qw); w1 = max64(w1, cur.qw);
            if (!xp) continue;
            const int64_t xi =
                ((cur.n * d->hp + cur.qh + d->pad_h) * d->wp + cur.qw + d->pad_w) * p->channels;
            const int64_t oh = cur.qh * p->stride_h - p->crop_top;
            const int64_t ow = cur.qw * p->stride_w - p->crop_left;
            x0[i] = xp + xi * es;
            y0[i] = v->base + (cur.n * v->s.n + oh * v->s.h + ow * v->s.w) * es;
        }
        for (const fwd_phase *f = ph; f < ph + nph; f++) {
            int64_t nt = 0;
            for (int64_t t = 0; t < f->ntaps; t++)
                if (tap_reaches(p, &d->taps[f->tap_begin + t], h0, h1, w0, w1)) {
                    if (sel) sel[nt] = f->tap_begin + t;
                    nt++;
                }
            work += mr * nt;
            if (!xp) continue;

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
                    const fwd_tap *tap = &d->taps[sel[t]];
                    taps[t].x_off = -(tap->off_h * d->wp + tap->off_w) * p->channels;
                    taps[t].w = packed_w + packed_w_offset(d, g, b, sel[t]) * es;
                }
                d->uk->channels(nvalid, nt, taps, p->cg, xs, packed_bias + blk * d->nr * es,
                                ys);
                /* The activation, fused: the tile's rows are still in L1. */
                if (p->activation != TCONV_ACT_NONE)
                    for (int64_t i = 0; i < m; i++) tconv_fwd_activate(d, ys[i], nvalid);
            }
        }
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

/* Scratch of one run: the kernel's tap list, the selected taps of a tile,
 * and the cuts of a phase (each 2 * ntaps_max + 1 long). */
typedef struct run_scratch {
    tconv_uk_tap *taps;
    int64_t *sel, *cuts_h, *cuts_w;
} run_scratch;

/* Runs (or, with xp NULL, measures) a phase's tiles for blocks [blk0, blk1),
 * over its whole compute region or rectangle by rectangle. */
static int64_t run_channels_region(const tconv_fwd_driver *d, const fwd_phase *ph, int by_classes,
                                   const char *xp, const out_view *v, const char *packed_w,
                                   const char *packed_bias, int64_t blk0, int64_t blk1,
                                   const run_scratch *s)
{
    if (!by_classes) {
        const rect whole = {ph->ch0, ph->ch1, ph->cw0, ph->cw1};
        return run_channels_tiles(d, ph, 1, &whole, xp, v, packed_w, packed_bias, blk0, blk1,
                                  s->taps, s->sel);
    }
    const int64_t nh = class_cuts(d, ph, 0, s->cuts_h), nw = class_cuts(d, ph, 1, s->cuts_w);
    int64_t work = 0;
    for (int64_t i = 0; i <= nh; i++)
        for (int64_t j = 0; j <= nw; j++) {
            const rect r = {i ? s->cuts_h[i - 1] : ph->ch0, i < nh ? s->cuts_h[i] : ph->ch1,
                            j ? s->cuts_w[j - 1] : ph->cw0, j < nw ? s->cuts_w[j] : ph->cw1};
            work += run_channels_tiles(d, ph, 1, &r, xp, v, packed_w, packed_bias, blk0, blk1,
                                       s->taps, s->sel);
        }
    return work;
}

/* Loop order: when a phase's packed weights fit in about half of L2, every
 * tile runs all output-channel blocks while its inputs are in L1 (the input
 * is read once); otherwise one block runs over all tiles at a time, so its
 * weights stay cached. */
#define TCONV_FWD_WEIGHTS_RESIDENT_BYTES (512 * 1024)

static void run_channels_phase(const tconv_fwd_driver *d, const fwd_phase *ph, const char *xp,
                               const out_view *v, const char *packed_w, const char *packed_bias,
                               const run_scratch *s)
{
    const tconv_problem *p = &d->p;
    const int64_t nblk = p->groups * d->nblocks;
    const int64_t phase_weight_bytes = nblk * ph->ntaps * p->cg * d->nr * d->esize;
    if (phase_weight_bytes <= TCONV_FWD_WEIGHTS_RESIDENT_BYTES) {
        run_channels_region(d, ph, ph->by_classes, xp, v, packed_w, packed_bias, 0, nblk, s);
        return;
    }
    for (int64_t blk = 0; blk < nblk; blk++)
        run_channels_region(d, ph, ph->by_classes, xp, v, packed_w, packed_bias, blk, blk + 1, s);
}

/* Whether the phases run inside one tile loop over the intersection of their
 * compute regions (each phase's leftover strips run on their own): when
 * their regions overlap (k = s, as in U-Net's up-convolutions, shares them
 * exactly; k3 s2 differs by a row), all tile flatly and all their packed
 * weights stay cached, each input tile of the intersection is then read once
 * for all phases instead of once per phase. */
static int choose_phases_inner(const tconv_fwd_driver *d)
{
    const tconv_problem *p = &d->p;
    if (d->uk->family != TCONV_UK_CHANNELS || d->mode != TCONV_FWD_GATHER || d->nphases < 2)
        return 0;
    const int64_t weight_bytes =
        p->groups * d->nblocks * p->k_h * p->k_w * p->cg * d->nr * d->esize;
    if (weight_bytes > TCONV_FWD_WEIGHTS_RESIDENT_BYTES) return 0;
    for (int64_t i = 0; i < d->nphases; i++) {
        const fwd_phase *b = &d->phases[i];
        if (b->by_classes || b->ntaps == 0 || b->ch1 == b->ch0 || b->cw1 == b->cw0) return 0;
    }
    const rect r = phases_intersection(d);
    return r.h1 > r.h0 && r.w1 > r.w0;
}

/* Decides per phase whether tiling by tap classes does less work than the
 * flat tiling (dry runs of both; a small margin favours the flat one). */
static tconv_status choose_tilings(tconv_fwd_driver *d)
{
    if (d->uk->family != TCONV_UK_CHANNELS || d->mode != TCONV_FWD_GATHER) return TCONV_OK;
    const size_t n = (size_t)(2 * d->ntaps_max + 1);
    run_scratch s = {NULL, NULL, malloc(n * sizeof(int64_t)), malloc(n * sizeof(int64_t))};
    if (!s.cuts_h || !s.cuts_w) {
        free(s.cuts_h); free(s.cuts_w);
        return TCONV_ENOMEM;
    }
    for (int64_t i = 0; i < d->nphases; i++) {
        fwd_phase *ph = &d->phases[i];
        if (ph->ntaps < 2 || ph->ch1 == ph->ch0 || ph->cw1 == ph->cw0) continue;
        const int64_t flat = run_channels_region(d, ph, 0, NULL, NULL, NULL, NULL, 0, 0, &s);
        const int64_t classes = run_channels_region(d, ph, 1, NULL, NULL, NULL, NULL, 0, 0, &s);
        ph->by_classes = classes * 100 < flat * 97;
    }
    free(s.cuts_h); free(s.cuts_w);
    return TCONV_OK;
}

/* ---- pixels family ----------------------------------------------------- */

static void run_pixels_phase(const tconv_fwd_driver *d, const fwd_phase *ph, const char *xp,
                             const out_view *v, const char *packed_w, const char *packed_bias,
                             tconv_uk_tap *taps)
{
    const tconv_problem *p = &d->p;
    const int64_t mr = d->mr, es = d->esize, plane = d->hp * d->wp;
    for (int64_t n = 0; n < p->batch; n++)
        for (int64_t g = 0; g < p->groups; g++)
            for (int64_t b = 0; b < d->nblocks; b++) {
                const int64_t nvalid = min64(d->nr, p->fg - b * d->nr);
                const char *bias = packed_bias + (g * d->nblocks + b) * d->nr * es;
                for (int64_t qh = ph->ch0; qh < ph->ch1; qh++)
                    for (int64_t qw = ph->cw0; qw < ph->cw1; qw += mr) {
                        const int64_t m = min64(mr, ph->cw1 - qw);
                        int64_t nt = 0;
                        for (int64_t t = 0; t < ph->ntaps; t++) {
                            const fwd_tap *tap = &d->taps[ph->tap_begin + t];
                            if (!tap_reaches(p, tap, qh, qh, qw, qw + m - 1)) continue;
                            taps[nt].x_off = -(tap->off_h * d->wp + tap->off_w);
                            taps[nt].w =
                                packed_w + packed_w_offset(d, g, b, ph->tap_begin + t) * es;
                            nt++;
                        }
                        const int64_t xi = ((n * p->channels + g * p->cg) * d->hp + qh +
                                            d->pad_h) * d->wp + qw + d->pad_w;
                        const int64_t oh = qh * p->stride_h + ph->rh - p->crop_top;
                        const int64_t ow = qw * p->stride_w + ph->rw - p->crop_left;
                        const int64_t yi = n * v->s.n + (g * p->fg + b * d->nr) * v->s.c +
                                           oh * v->s.h + ow * v->s.w;
                        d->uk->pixels(m, nvalid, nt, taps, p->cg, plane, xp + xi * es, bias,
                                      v->base + yi * es, p->stride_w * v->s.w, v->s.c);
                    }
            }
}

tconv_status tconv_fwd_gather_plan(tconv_fwd_driver *d)
{
    const tconv_status st = choose_tilings(d);
    if (st == TCONV_OK) d->phases_inner = choose_phases_inner(d);
    return st;
}

tconv_status tconv_fwd_gather_run(const tconv_fwd_driver *d, const char *xin,
                                  const void *packed_w, const void *packed_bias, void *y)
{
    const tconv_problem *p = &d->p;
    const int channels_family = d->uk->family == TCONV_UK_CHANNELS;
    /* The channels family writes NHWC: straight into y when that is y's
     * layout (channel stride 1), else into scratch converted at the end. */
    const int direct = !channels_family || p->y.c == 1;
    void *scratch = direct ? NULL : tconv_alloc_aligned((size_t)(p->y_elems * d->esize));
    const size_t ncuts = (size_t)(2 * d->ntaps_max + 1);
    tconv_uk_tap *taps = malloc((size_t)(d->ntaps_max + 1) * sizeof *taps);
    int64_t *sel = malloc((size_t)(d->ntaps_max + 1) * sizeof *sel);
    int64_t *cuts = malloc(2 * ncuts * sizeof *cuts);
    const run_scratch rs = {taps, sel, cuts, cuts ? cuts + ncuts : NULL};
    if ((!direct && !scratch) || !taps || !sel || !cuts) {
        free(scratch); free(taps); free(sel); free(cuts);
        return TCONV_ENOMEM;
    }

    /* Each filter's bias, from its packed block; activated here when the
     * tiles fuse the activation (CHANNELS), else left for the final sweep
     * over y (tconv_fwd_driver_run). */
    char *bias_f = malloc((size_t)(p->filters * d->esize));
    if (!bias_f) {
        free(scratch); free(taps); free(sel); free(cuts);
        return TCONV_ENOMEM;
    }
    for (int64_t f = 0; f < p->filters; f++) {
        const int64_t g = f / p->fg, m = f - g * p->fg;
        const int64_t src = (g * d->nblocks + m / d->nr) * d->nr + m % d->nr;
        memcpy(bias_f + f * d->esize, (const char *)packed_bias + src * d->esize,
               (size_t)d->esize);
    }
    if (channels_family) tconv_fwd_activate(d, bias_f, p->filters);

    out_view v = {direct ? (char *)y : (char *)scratch, p->y};
    if (!direct) {
        v.s.c = 1;
        v.s.w = p->filters;
        v.s.h = p->out_w * p->filters;
        v.s.n = p->out_h * p->out_w * p->filters;
    }
    if (d->phases_inner) {
        const rect in = phases_intersection(d);
        const int64_t nblk = p->groups * d->nblocks;
        run_channels_tiles(d, d->phases, d->nphases, &in, xin, &v, packed_w, packed_bias, 0, nblk,
                           taps, sel);
        for (int64_t i = 0; i < d->nphases; i++) {
            const fwd_phase *ph = &d->phases[i];
            fill_bias_region(d, ph, &v, bias_f);
            /* the phase's region outside the intersection: at most 4 strips */
            const rect strips[4] = {{ph->ch0, in.h0, ph->cw0, ph->cw1},
                                    {in.h1, ph->ch1, ph->cw0, ph->cw1},
                                    {in.h0, in.h1, ph->cw0, in.w0},
                                    {in.h0, in.h1, in.w1, ph->cw1}};
            for (int k = 0; k < 4; k++)
                if (strips[k].h1 > strips[k].h0 && strips[k].w1 > strips[k].w0)
                    run_channels_tiles(d, ph, 1, &strips[k], xin, &v, packed_w, packed_bias, 0,
                                       nblk, taps, sel);
        }
    }
    for (int64_t i = 0; i < d->nphases && !d->phases_inner; i++) {
        const fwd_phase *ph = &d->phases[i];
        fill_bias_region(d, ph, &v, bias_f);
        if (ph->ch1 == ph->ch0 || ph->cw1 == ph->cw0) continue;
        if (channels_family)
            run_channels_phase(d, ph, xin, &v, packed_w, packed_bias, &rs);
        else
            run_pixels_phase(d, ph, xin, &v, packed_w, packed_bias, taps);
    }
    if (!direct) tconv_fwd_unpack_output(d, scratch, y);
    free(scratch); free(taps); free(sel); free(cuts); free(bias_f);
    return TCONV_OK;
}

