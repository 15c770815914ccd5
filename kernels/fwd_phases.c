/*
 * The forward driver's phases mode: a PHASES tile (kernels/ukernel.h) runs
 * every phase of a stride-S layer at once, for MR positions of the input
 * grid, and this file scatters its S x S x NR x MR results into y.
 *
 * Position q of the grid (a row; columns likewise) collects, for phase rh,
 * the taps kh = rh + a*S (a < th = ceil(k_h / S)) from input rows q - a, and
 * lands on output row q*S + rh - crop_top; kh past the filter has zero
 * weights. So an output row belongs to exactly one (q, rh), the tiles of a
 * grid row write whole output rows q*S .. q*S + S - 1, and results are the
 * same for any split over threads.
 *
 * The input is the PIXELS family's padded copy (fwd_layout.c), padded so
 * that every row q - a and every column of a tile is inside it. (Reading
 * an NCHW x in place, with strips for the edge tiles, was 4-25% slower
 * although it saves the copy, a fifth of the pass on pix2pix 128->3: planes
 * of 2^k elements, 128 x 128 or 32 x 32, put every channel's row in the
 * same L1 sets, which the padded planes' odd sizes do not. Copying each
 * grid row's th input rows into a small per-thread window instead of the
 * whole padded input was 28% slower there: the 8 MB copy stays in the
 * EPYC's 32 MB L3, and the window copies every row th times.)
 *
 * Why: a PIXELS tile of one phase reloads every input vector for each of
 * the S*S phases, and with few filters (NR <= 4) its few FMAs per vector
 * cannot hide reads that walk one plane per channel (NCHW pix2pix 128->3:
 * px16x3 at 20-26 GFLOP/s on an AMD EPYC, 3/4 of its time waiting on x).
 */
#include <string.h>

#include "kernels/fwd_internal.h"
#include "runtime/checked.h"
#include "runtime/threads.h"

/* The grid positions [q0, q1) whose rows reach outputs [0, out) of one
 * dimension: o = q*S + r - crop for some r < S. */
static void grid_range(int64_t s, int64_t crop, int64_t out, int64_t *q0, int64_t *q1)
{
    *q0 = floor_div64(crop, s);
    *q1 = floor_div64(out - 1 + crop, s) + 1;
}

tconv_status tconv_fwd_phases_plan(tconv_fwd_driver *d)
{
    const tconv_problem *p = &d->p;
    const int64_t s = d->ph->s;
    d->ph_th = (p->k_h + s - 1) / s;
    d->ph_tw = (p->k_w + s - 1) / s;
    grid_range(s, p->crop_top, p->out_h, &d->ph_q0h, &d->ph_q1h);
    grid_range(s, p->crop_left, p->out_w, &d->ph_q0w, &d->ph_q1w);
    /* Rows q0 - th + 1 .. q1 - 1 and columns q0 - tw + 1 .. q1 - 1 + MR - 1
     * are read (the PIXELS padding adds MR columns on the right). */
    d->pad_h = max64(0, max64(d->ph_th - 1 - d->ph_q0h, d->ph_q1h - p->in_h));
    d->pad_w = max64(0, max64(d->ph_tw - 1 - d->ph_q0w, d->ph_q1w - p->in_w));
    int64_t elems;
    if (!tconv_mul_ok(p->groups * d->nblocks * d->nr, p->cg, &elems) ||
        !tconv_mul_ok(elems, d->ph_th * d->ph_tw * s * s, &elems) ||
        !tconv_mul_ok(elems, d->esize, &elems))
        return TCONV_EOVERFLOW;
    return TCONV_OK;
}

size_t tconv_fwd_phases_packed_w_elems(const tconv_fwd_driver *d)
{
    const int64_t s = d->ph->s;
    return (size_t)(d->p.groups * d->nblocks * d->p.cg * d->ph_th * d->ph_tw * s * s * d->nr);
}

typedef struct phases_pack {
    const tconv_fwd_driver *d;
    const char *w;
    char *packed_w;
} phases_pack;

/* Blocks [begin, end) of the flat (group, block) range: each channel's
 * th x tw x S x S x NR weights, in the kernel's order, zero past the filter
 * and past the group's filters. A few thousand elements a block on the
 * layers this mode is for, so element by element. */
static void pack_phase_blocks(void *arg, int64_t begin, int64_t end)
{
    const phases_pack *r = arg;
    const tconv_fwd_driver *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t s = d->ph->s, es = d->esize, nr = d->nr;
    const int64_t row = d->ph_th * d->ph_tw * s * s * nr;
    for (int64_t gb = begin; gb < end; gb++) {
        const int64_t g = gb / d->nblocks, b = gb % d->nblocks;
        char *out = r->packed_w + gb * p->cg * row * es;
        for (int64_t c = 0; c < p->cg; c++)
            for (int64_t a = 0; a < d->ph_th; a++)
                for (int64_t bb = 0; bb < d->ph_tw; bb++)
                    for (int64_t rh = 0; rh < s; rh++)
                        for (int64_t rw = 0; rw < s; rw++)
                            for (int64_t j = 0; j < nr; j++, out += es) {
                                const int64_t kh = rh + a * s, kw = rw + bb * s, m = b * nr + j;
                                if (kh < p->k_h && kw < p->k_w && m < p->fg)
                                    memcpy(out, r->w + tconv_w_index(p, g * p->cg + c, m, kh, kw) * es,
                                           (size_t)es);
                                else
                                    memset(out, 0, (size_t)es);
                            }
    }
}

void tconv_fwd_phases_pack(const tconv_fwd_driver *d, const void *w, void *packed_w)
{
    phases_pack r = {d, w, packed_w};
    tconv_parallel_ranges(d->p.groups * d->nblocks, 1, pack_phase_blocks, &r);
}

typedef struct phases_run {
    const tconv_fwd_driver *d;
    const char *xp, *packed_w, *packed_bias;
    char *y;
} phases_run;

/* One tile's results (tile[(rh*S + rw)*NR + j][i]) into y: output row
 * q*S + rh, columns (pq + i)*S + rw, of the n valid filters from f0, those
 * inside the output only. */
#define SCATTER_TILE(T)                                                                           \
    static void scatter_##T(const tconv_fwd_driver *d, const T *tile, T *y, int64_t n, int64_t f0, \
                            int64_t q, int64_t pq, int64_t nvalid)                                \
    {                                                                                             \
        const tconv_problem *p = &d->p;                                                           \
        const int64_t s = d->ph->s, mr = d->mr, nr = d->nr;                                       \
        for (int64_t rh = 0; rh < s; rh++) {                                                      \
            const int64_t oh = q * s + rh - p->crop_top;                                          \
            if (oh < 0 || oh >= p->out_h) continue;                                               \
            for (int64_t rw = 0; rw < s; rw++) {                                                  \
                const int64_t ow0 = pq * s + rw - p->crop_left;                                   \
                /* i with 0 <= ow0 + i*s < out_w, and i < MR */                                   \
                const int64_t i0 = ow0 < 0 ? (-ow0 + s - 1) / s : 0;                              \
                const int64_t i1 = min64(mr, ceil_div64(p->out_w - ow0, s));                      \
                for (int64_t j = 0; j < nvalid; j++) {                                            \
                    const T *src = tile + ((rh * s + rw) * nr + j) * mr;                          \
                    T *dst = y + tconv_y_index(p, n, f0 + j, oh, ow0 + i0 * s);                   \
                    const int64_t step = s * p->y.w;                                              \
                    for (int64_t i = i0; i < i1; i++) dst[(i - i0) * step] = src[i];              \
                }                                                                                 \
            }                                                                                     \
        }                                                                                         \
    }
SCATTER_TILE(float)
SCATTER_TILE(double)
#undef SCATTER_TILE

/* Grid rows [begin, end) of the flat (image, group, block, row) range. */
static void phases_rows(void *arg, int64_t begin, int64_t end)
{
    const phases_run *r = arg;
    const tconv_fwd_driver *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t s = d->ph->s, es = d->esize, nr = d->nr, mr = d->mr;
    const int64_t th = d->ph_th, tw = d->ph_tw;
    const int64_t rows = d->ph_q1h - d->ph_q0h;
    const int64_t wrow = p->cg * th * tw * s * s * nr;
    /* Room for the largest tile of any table (S*S*NR*MR <= 9*4*96). */
    _Alignas(64) char tile[9 * 4 * 96 * sizeof(double)];
    for (int64_t u = begin; u < end; u++) {
        const int64_t q = d->ph_q0h + u % rows, nb = u / rows;
        const int64_t b = nb % d->nblocks, g = nb / d->nblocks % p->groups;
        const int64_t n = nb / d->nblocks / p->groups;
        const int64_t nvalid = min64(nr, p->fg - b * nr), gb = g * d->nblocks + b;
        const char *w = r->packed_w + gb * wrow * es;
        const char *bias = r->packed_bias + gb * nr * es;
        const int64_t xrow = n * p->channels * d->hp * d->wp + g * p->cg * d->px_chan +
                             (q + d->pad_h) * d->px_row + d->pad_w;
        for (int64_t pq = d->ph_q0w; pq < d->ph_q1w; pq += mr) {
            const char *x = r->xp + (xrow + pq) * es;
            d->ph->fn(p->cg, th, tw, d->px_chan, d->px_row, x, w, bias, tile);
            if (es == 4)
                scatter_float(d, (const float *)tile, (float *)r->y, n, g * p->fg + b * nr, q, pq,
                              nvalid);
            else
                scatter_double(d, (const double *)tile, (double *)r->y, n, g * p->fg + b * nr, q,
                               pq, nvalid);
        }
    }
}

void tconv_fwd_phases_run(const tconv_fwd_driver *d, const char *xp, const void *packed_w,
                          const void *packed_bias, void *y)
{
    phases_run r = {d, xp, packed_w, packed_bias, y};
    const int64_t units = d->p.batch * d->p.groups * d->nblocks * (d->ph_q1h - d->ph_q0h);
    tconv_parallel_ranges(units, 1, phases_rows, &r);
}
