/*
 * The problem as every kernel sees it: all sizes derived, crops resolved, and
 * each tensor's memory layout reduced to element strides of its logical
 * indices. dispatch/ builds one per plan (after full validation, so every
 * product below fits in int64_t); kernels only read it.
 *
 * Strides make layouts free for the reference: NCHW, NHWC and MATLAB's SSCB
 * differ only in the four numbers of a tconv_data_strides, and the three
 * weight layouts only in a tconv_weight_strides.
 */
#ifndef TCONV_KERNELS_PROBLEM_H
#define TCONV_KERNELS_PROBLEM_H

#include <stdint.h>

#include "tconv.h"

/* Element strides of x/dx (input side) or y/dy (output side). */
typedef struct tconv_data_strides {
    int64_t n, c, h, w;
} tconv_data_strides;

/* Element strides of w/dw. An input channel c belongs to group g = c / Cg and
 * is cg = c % Cg within it; m is the filter within the group (f = g*Fg + m).
 * Every supported weight layout is linear in (g, cg, m, kh, kw). */
typedef struct tconv_weight_strides {
    int64_t g, cg, m, kh, kw;
} tconv_weight_strides;

typedef struct tconv_problem {
    tconv_dtype dtype;
    int64_t batch;
    int64_t channels, filters, groups;  /* C, F, G */
    int64_t cg, fg;                     /* C/G, F/G */
    int64_t in_h, in_w;
    int64_t k_h, k_w;                   /* filter size */
    int64_t stride_h, stride_w;
    int64_t dil_h, dil_w;
    int64_t crop_top, crop_bottom, crop_left, crop_right; /* effective: SAME resolved */
    int64_t full_h, full_w;             /* uncropped output */
    int64_t out_h, out_w;
    tconv_activation activation;        /* applied to y by the forward pass */
    double activation_alpha;
    tconv_data_strides x, y;            /* x and dx share x's; y and dy share y's */
    tconv_weight_strides w;
    int64_t x_elems, w_elems, y_elems;
} tconv_problem;

static inline int64_t tconv_x_index(const tconv_problem *p, int64_t n, int64_t c, int64_t h,
                                    int64_t w)
{
    return n * p->x.n + c * p->x.c + h * p->x.h + w * p->x.w;
}

static inline int64_t tconv_y_index(const tconv_problem *p, int64_t n, int64_t f, int64_t h,
                                    int64_t w)
{
    return n * p->y.n + f * p->y.c + h * p->y.h + w * p->y.w;
}

/* c: absolute input channel; m: filter within c's group. */
static inline int64_t tconv_w_index(const tconv_problem *p, int64_t c, int64_t m, int64_t kh,
                                    int64_t kw)
{
    const int64_t g = c / p->cg, cg = c - g * p->cg;
    return g * p->w.g + cg * p->w.cg + m * p->w.m + kh * p->w.kh + kw * p->w.kw;
}

/* Whether the taps of one (channel, filter) pair fill k_h * k_w adjacent
 * elements, row by row (W_IOHW) or column by column (W_MATLAB): then the
 * taps of a few filters or channels are a small matrix, and reordering
 * weights is a transposition of it (tap (kh, kw) in its column
 * kh * w.kh + kw * w.kw). */
static inline int tconv_w_taps_adjacent(const tconv_problem *p)
{
    return (p->w.kw == 1 && p->w.kh == p->k_w) || (p->w.kh == 1 && p->w.kw == p->k_h);
}

/* The tap of tap column col, with adjacent taps (tconv_w_taps_adjacent). */
static inline void tconv_w_tap_of_col(const tconv_problem *p, int64_t col, int64_t *kh, int64_t *kw)
{
    if (p->w.kw == 1) {
        *kh = col / p->k_w;
        *kw = col - *kh * p->k_w;
    } else {
        *kw = col / p->k_h;
        *kh = col - *kw * p->k_h;
    }
}

#endif /* TCONV_KERNELS_PROBLEM_H */
