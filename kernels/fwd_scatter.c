/*
 * The scatter (input-stationary) forward mode; see kernels/fwd_driver.h.
 *
 * Per group, the columns are the (tap, filter) pairs, j = tap * Fg + m, tap
 * in the driver's tap order. A CHANNELS kernel computes an MR x NR tile of
 * x * w (MR input pixels, NR columns, K = Cg channels) into a small buffer,
 * and every element of the tile is added to the one output position its
 * input pixel reaches through its tap, if that position is inside the
 * (cropped) output. y starts from the bias, so bias-only positions are right
 * too. Each output's terms are added in a fixed order: results are
 * reproducible.
 */
#include <stdint.h>
#include <stdlib.h>

#include "kernels/fwd_internal.h"

/* Where column j lands relative to its input pixel's base position. */
typedef struct scatter_column {
    int64_t dh, dw;   /* kh * dilation_h, kw * dilation_w */
    int64_t y_off;    /* m * y.c + dh * y.h + dw * y.w, elements */
} scatter_column;

void tconv_fwd_scatter_pack(const tconv_fwd_driver *d, const void *w, const void *bias,
                            void *packed_w, void *packed_bias)
{
    const tconv_problem *p = &d->p;
    const int64_t ncols = p->k_h * p->k_w * p->fg;
    for (int64_t g = 0; g < p->groups; g++)
        for (int64_t b = 0; b < d->nblocks; b++)
            for (int64_t c = 0; c < p->cg; c++)
                for (int64_t jj = 0; jj < d->nr; jj++) {
                    const int64_t j = b * d->nr + jj;
                    const int64_t dst = ((g * d->nblocks + b) * p->cg + c) * d->nr + jj;
                    double v = 0.0;
                    if (j < ncols) {
                        const fwd_tap *t = &d->taps[j / p->fg];
                        v = tconv_fwd_load(d, w,
                                           tconv_w_index(p, g * p->cg + c, j % p->fg, t->kh, t->kw));
                    }
                    tconv_fwd_store(d, packed_w, dst, v);
                }
    /* NR zeros first (the kernel's bias argument must be vector-aligned),
     * then the F biases that y starts from. */
    for (int64_t j = 0; j < d->nr; j++) tconv_fwd_store(d, packed_bias, j, 0.0);
    for (int64_t f = 0; f < p->filters; f++)
        tconv_fwd_store(d, packed_bias, d->nr + f, bias ? tconv_fwd_load(d, bias, f) : 0.0);
}

/* y[n][f][h][w] = bias[f] for every element, in y's layout. */
static void fill_bias(const tconv_fwd_driver *d, const void *packed_bias, char *y)
{
    const tconv_problem *p = &d->p;
    for (int64_t n = 0; n < p->batch; n++)
        for (int64_t f = 0; f < p->filters; f++) {
            const double v = tconv_fwd_load(d, packed_bias, d->nr + f);
            for (int64_t h = 0; h < p->out_h; h++)
                for (int64_t w = 0; w < p->out_w; w++)
                    tconv_fwd_store(d, y, tconv_y_index(p, n, f, h, w), v);
        }
}

/* Adds the m x nvalid results of a tile (rows of NR) to y. base_h/base_w:
 * each pixel's output position before its tap's offset; y_base: its offset
 * in y for filter 0 of the group. One unsigned compare per dimension checks
 * 0 <= o < out. */
#define TCONV_SCATTER_TILE(T)                                                                   \
    for (int64_t i = 0; i < m; i++) {                                                           \
        const T *row = (const T *)tile + i * nr;                                                \
        T *yp = (T *)y + y_base[i];                                                             \
        const int64_t bh = base_h[i], bw = base_w[i];                                           \
        for (int64_t j = 0; j < nvalid; j++)                                                    \
            if ((uint64_t)(bh + cols[j].dh) < (uint64_t)out_h &&                                \
                (uint64_t)(bw + cols[j].dw) < (uint64_t)out_w)                                  \
                yp[cols[j].y_off] += row[j];                                                    \
    }

static void scatter_tile(const tconv_fwd_driver *d, const scatter_column *cols, int64_t m,
                         int64_t nvalid, const int64_t *base_h, const int64_t *base_w,
                         const int64_t *y_base, const void *tile, void *y)
{
    const int64_t nr = d->nr, out_h = d->p.out_h, out_w = d->p.out_w;
    if (d->esize == 8) {
        TCONV_SCATTER_TILE(double)
    } else {
        TCONV_SCATTER_TILE(float)
    }
}

void tconv_fwd_scatter_run(const tconv_fwd_driver *d, const char *x, const void *packed_w,
                           const void *packed_bias, void *y, void *tile)
{
    const tconv_problem *p = &d->p;
    const int64_t mr = d->mr, nr = d->nr, es = d->esize;
    const int64_t npix = p->batch * p->in_h * p->in_w;
    const int64_t nblk = p->groups * d->nblocks;
    const void *zero_bias = packed_bias; /* NR zeros, vector-aligned */
    scatter_column cols[TCONV_FWD_MAX_TILE];
    const void *xs[TCONV_FWD_MAX_TILE];
    void *ys[TCONV_FWD_MAX_TILE];
    const char *x0[TCONV_FWD_MAX_TILE];
    int64_t base_h[TCONV_FWD_MAX_TILE], base_w[TCONV_FWD_MAX_TILE], y_base[TCONV_FWD_MAX_TILE];

    fill_bias(d, packed_bias, y);
    for (int64_t i = 0; i < mr; i++) ys[i] = (char *)tile + i * nr * es;

    /* One pass over the input: each tile of pixels runs every column block
     * while its pixels are in L1 (blocks hold K = Cg rows of NR weights). */
    int64_t n = 0, ih = 0, iw = 0;
    for (int64_t t0 = 0; t0 < npix; t0 += mr) {
        const int64_t m = min64(mr, npix - t0);
        for (int64_t i = 0; i < m; i++) {
            x0[i] = x + ((n * p->in_h + ih) * p->in_w + iw) * p->channels * es;
            base_h[i] = ih * p->stride_h - p->crop_top;
            base_w[i] = iw * p->stride_w - p->crop_left;
            y_base[i] = n * p->y.n + base_h[i] * p->y.h + base_w[i] * p->y.w;
            if (++iw == p->in_w) {
                iw = 0;
                if (++ih == p->in_h) {
                    ih = 0;
                    n++;
                }
            }
        }
        for (int64_t blk = 0; blk < nblk; blk++) {
            const int64_t g = blk / d->nblocks, b = blk % d->nblocks;
            const int64_t j0 = b * nr;
            const int64_t nvalid = min64(nr, p->k_h * p->k_w * p->fg - j0);
            for (int64_t j = 0; j < nvalid; j++) {
                const fwd_tap *t = &d->taps[(j0 + j) / p->fg];
                cols[j].dh = t->kh * p->dil_h;
                cols[j].dw = t->kw * p->dil_w;
                cols[j].y_off = (g * p->fg + (j0 + j) % p->fg) * p->y.c + cols[j].dh * p->y.h +
                                cols[j].dw * p->y.w;
            }
            for (int64_t i = 0; i < mr; i++) xs[i] = x0[i < m ? i : m - 1] + g * p->cg * es;
            const tconv_uk_tap tap = {0, (const char *)packed_w + blk * p->cg * nr * es};
            d->uk->channels(nvalid, 1, &tap, p->cg, xs, zero_bias, ys);
            scatter_tile(d, cols, m, nvalid, base_h, base_w, y_base, tile, y);
        }
    }
}
