/*
 * The backward drivers: both backward passes of a transposed convolution run
 * on the forward pass's microkernels (kernels/ukernel.h), whose contracts are
 * correlations general enough to serve them unchanged:
 *
 * backward-data (bwd_data.c): dx = C dy is a strided, dilated, grouped
 *   direct convolution of dy with w, no flip and no inserted zeros. A
 *   CHANNELS tile computes MR input pixels along a row (their dy pixels are
 *   stride_w apart, which per-row pointers allow) x NR input channels,
 *   summing Fg filters over every tap: K = k_h * k_w * Fg. dy is read on the
 *   uncropped output grid the taps reach (in place when it is NHWC and covers
 *   that grid, else copied there once with zeros where the crop removed
 *   positions).
 *
 * backward-weights (bwd_weights.c, with three strategies,
 *   bwd_weights_internal.h): for each tap, dw_tap (Cg x Fg) = x^T dy_tap, a
 *   GEMM whose K is every input pixel of the batch. Packed
 *   (bwd_weights_packed.c): dy is packed once per call into filter blocks
 *   of NR, split by column phase so that the pixels a tap reads along an
 *   input row are consecutive; the bias gradient is summed in the same
 *   sweep. A CHANNELS tile holds MR input channels x NR filters (x read
 *   channel-planar, in place for NCHW); a PIXELS tile holds MR input
 *   channels as a vector x NR (1-8) filters (x read channel-innermost, in
 *   place for NHWC), for layers with few filters. With few filters per
 *   group, the filters are tile rows instead (bwd_weights_rows.c); on the
 *   GEMM tiles, x and dy are read in place (bwd_weights_gemm.c). K is cut
 *   into chunks of input rows that stay in L2; threads split the output
 *   tiles of each chunk, and each tile adds its chunks in order, so the
 *   result is the same bits for every thread count.
 *
 * Both drivers pack per call (training weights change every step) into a
 * scratch block kept between calls (runtime/scratch.h); a call that finds
 * it in use by another allocates its own, so concurrent calls on one driver
 * are safe.
 */
#ifndef TCONV_KERNELS_BWD_DRIVER_H
#define TCONV_KERNELS_BWD_DRIVER_H

#include <stddef.h>

#include "kernels/problem.h"
#include "kernels/ukernel.h"
#include "runtime/checked.h"

/* Largest MR and NR the drivers hold (pointer arrays on the stack). */
#define TCONV_BWD_MAX_TILE 64

/* NR zeros, vector-aligned: the bias argument of a tile that starts its
 * sums from zero (f32 or f64: zero bits either way). */
static const double tconv_bwd_zero_bias[TCONV_BWD_MAX_TILE] __attribute__((aligned(64)));

typedef struct tconv_bwd_data_driver tconv_bwd_data_driver;
typedef struct tconv_bwd_weights_driver tconv_bwd_weights_driver;

/* Plans backward-data of p with CHANNELS or PIXELS microkernel uk (p's
 * dtype; PIXELS: bwd_data_columns.c). TCONV_EUNSUPPORTED for a GEMM tile
 * or a tile the driver cannot hold,
 * TCONV_EOVERFLOW when its buffers could not be indexed (the caller then
 * runs the reference), TCONV_ENOMEM. */
tconv_status tconv_bwd_data_driver_create(const tconv_problem *p, const tconv_ukernel *uk,
                                          tconv_bwd_data_driver **out);
void tconv_bwd_data_driver_destroy(tconv_bwd_data_driver *d);
/* dx = backward_data(dy, w); TCONV_ENOMEM when scratch cannot be allocated. */
tconv_status tconv_bwd_data_driver_run(const tconv_bwd_data_driver *d, const void *dy,
                                       const void *w, void *dx);
/* e.g. "f32_fwd_8x32_avx512 taps=16 dy in place" */
void tconv_bwd_data_driver_describe(const tconv_bwd_data_driver *d, char *buf, size_t n);

/* Backward-weights' strategies (kernels/bwd_weights_internal.h), one per
 * plan: in place on GEMM tiles, the filters as tile rows (CHANNELS tiles
 * they fill better), or packed with the filters as lanes. */
typedef enum tconv_bwd_weights_kind {
    TCONV_BWD_WEIGHTS_IN_PLACE,
    TCONV_BWD_WEIGHTS_FILTER_ROWS,
    TCONV_BWD_WEIGHTS_PACKED
} tconv_bwd_weights_kind;

/* The strategy that backward-weights runs uk in for p (the driver's and
 * the tuner's one rule). */
tconv_bwd_weights_kind tconv_bwd_weights_kind_of(const tconv_problem *p, const tconv_ukernel *uk);

/* Plans backward-weights of p with microkernel uk (either family). */
tconv_status tconv_bwd_weights_driver_create(const tconv_problem *p, const tconv_ukernel *uk,
                                             tconv_bwd_weights_driver **out);
void tconv_bwd_weights_driver_destroy(tconv_bwd_weights_driver *d);
/* dw = backward_weights(x, dy), dbias = sum of dy (dbias may be NULL). */
tconv_status tconv_bwd_weights_driver_run(const tconv_bwd_weights_driver *d, const void *x,
                                          const void *dy, void *dw, void *dbias);
/* e.g. "f32_fwd_8x32_avx512 chunks=12x30 rows" */
void tconv_bwd_weights_driver_describe(const tconv_bwd_weights_driver *d, char *buf, size_t n);

/* What dispatch/select.c scores backward-weights kernels by. Whether the
 * driver runs CHANNELS kernel uk with the filters as tile rows: when they
 * fill its tiles better (by 10%) than as lanes. */
int tconv_bwd_weights_rows_fit(const tconv_problem *p, const tconv_ukernel *uk);
/* The fill of uk's tiles with the filters as rows (0..1). */
double tconv_bwd_weights_rows_fill(const tconv_problem *p, const tconv_ukernel *uk);
/* The estimated share of the FMA peak of GEMM kernel uk (lanes per vector)
 * on backward-weights of p with its best orientation and folding; 0 when it
 * cannot run p (both sides of the product narrower than the tile). */
double tconv_bwd_weights_gemm_score(const tconv_problem *p, const tconv_ukernel *uk, int64_t lanes);

/* The uncropped output grid the taps reach, gh x gw (gh = (in_h - 1)*s_h +
 * (k_h - 1)*d_h + 1, gw alike), which the backward drivers read dy on; 0
 * when it cannot be indexed in int64_t. */
static inline int tconv_bwd_grid(const tconv_problem *p, int64_t *gh, int64_t *gw)
{
    return tconv_mul_ok(p->in_h - 1, p->stride_h, gh) && tconv_mul_ok(p->in_w - 1, p->stride_w, gw) &&
           tconv_add_ok(*gh, (p->k_h - 1) * p->dil_h + 1, gh) &&
           tconv_add_ok(*gw, (p->k_w - 1) * p->dil_w + 1, gw);
}

#endif /* TCONV_KERNELS_BWD_DRIVER_H */
