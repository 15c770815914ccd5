/*
 * Test utilities shared by the Criterion programs. They use only the public
 * header, and compute everything they check against on their own: layout
 * offsets, crops, output sizes and a scatter-form transposed convolution are
 * written here independently of the library (which uses a gather form).
 */
#ifndef TCONV_TESTUTIL_H
#define TCONV_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include <tconv.h>

/* Sizes derived independently of the library. */
typedef struct tu_shape {
    int64_t n, c, f, g, cg, fg;
    int64_t ih, iw, kh, kw, sh, sw, dh, dw;
    int64_t ct, cb, cl, cr; /* effective crops (SAME resolved here) */
    int64_t full_h, full_w, oh, ow;
} tu_shape;

tu_shape tu_shape_of(const tconv_desc *d);

/* Offsets of logical elements in the desc's layouts. c, f absolute channel
 * indices; m the filter index within its group. */
int64_t tu_x_offset(const tconv_desc *d, const tu_shape *s, int64_t n, int64_t c, int64_t h, int64_t w);
int64_t tu_y_offset(const tconv_desc *d, const tu_shape *s, int64_t n, int64_t f, int64_t h, int64_t w);
int64_t tu_w_offset(const tconv_desc *d, const tu_shape *s, int64_t c, int64_t m, int64_t kh, int64_t kw);

int64_t tu_x_elems(const tu_shape *s);
int64_t tu_w_elems(const tu_shape *s);
int64_t tu_y_elems(const tu_shape *s);

/* Scatter-form forward in double: every input pixel adds its products to the
 * output positions it reaches. x, w in the desc's layouts; bias may be NULL. */
void tu_forward_scatter(const tconv_desc *d, const double *x, const double *w, const double *bias,
                        double *y);

/* Deterministic generator (splitmix64). */
typedef struct tu_rng { uint64_t state; } tu_rng;
uint64_t tu_next(tu_rng *r);
int64_t tu_range(tu_rng *r, int64_t lo, int64_t hi); /* uniform in [lo, hi] */
double tu_uniform(tu_rng *r);                         /* uniform in [-1, 1) */
void tu_fill(tu_rng *r, double *v, int64_t n);

/* The layouts and dtype of a random configuration. */
typedef struct tu_combo {
    tconv_layout layout;
    tconv_weight_layout weight_layout;
    tconv_dtype dtype;
} tu_combo;

/* A random valid configuration: batch and groups 1-3, 1..max_per_group
 * channels and filters per group, inputs and filters 1-5, strides 1-4,
 * dilations 1-3, and crops from negative (bias-only borders) to nearly the
 * whole uncropped extent, or SAME. */
tconv_desc tu_random_desc(tu_rng *r, const tu_combo *k, int64_t max_per_group);

/* The configuration in one line, for failure messages. */
const char *tu_describe(const tconv_desc *d, char *buf, size_t n);

/* Buffers in the desc's dtype, converted from / to double. */
void *tu_to_dtype(tconv_dtype t, const double *v, int64_t n);
double *tu_from_dtype(tconv_dtype t, const void *v, int64_t n);

/* Largest |a - b| / max(1, |b|-scale) over the arrays, where the scale is the
 * largest |b| element (so near-zero entries of a sum are judged against the
 * magnitude of the whole result). */
double tu_max_rel_diff(const double *a, const double *b, int64_t n);

/* Tolerance for the dtype: 1e-4 for f32, 1e-10 for f64. */
double tu_tolerance(tconv_dtype t);

double tu_dot(const double *a, const double *b, int64_t n);

/* Runs tconv_forward / backward passes on double arrays by converting to the
 * desc's dtype and back. Return the status of the call. */
tconv_status tu_run_forward(const tconv_plan *p, const tconv_desc *d, const double *x,
                            const double *w, const double *bias, double *y);
tconv_status tu_run_backward_data(const tconv_plan *p, const tconv_desc *d, const double *dy,
                                  const double *w, double *dx);
tconv_status tu_run_backward_weights(const tconv_plan *p, const tconv_desc *d, const double *x,
                                     const double *dy, double *dw, double *dbias);

/* The first CHANNELS tile of dtype t in isa's kernel table (what a test
 * forces to reach a driver path), and with nr not NULL its NR read from the
 * name ("f32_fwd_8x32_avx512"); NULL if there is none. */
const char *tu_first_channels_tile(tconv_isa isa, tconv_dtype t, int *nr);

#endif
