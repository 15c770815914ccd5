/*
 * Backward-weights on the GEMM microkernels (kernels/ukernel.h,
 * TCONV_UK_GEMM), reading x and dy where they lie: nothing is packed.
 *
 * For each group g and filter row kh, with x and dy channel-innermost,
 *   dw[c][m][kh][kw] = sum over n, ih, iw of
 *       x[n][ih][iw][g*Cg + c] * dy[n][ih*s_h + kh*d_h - crop_top][iw*s_w + kw*d_w - crop_left][g*Fg + m]
 * is, per tap column kw, a product of two operands that both step along the
 * input row's pixels iw: x by its pixel stride, dy by s_w pixels. Where
 * there is one group and no dilation along w, the k_w taps of a pixel read
 * k_w consecutive dy pixels, k_w * Fg contiguous values: the tap columns
 * fold into one operand row ("fold"), which fills vectors on few-filter
 * layers (3 filters x 4 taps = 12 lanes instead of 3). Input pixels whose
 * folded taps leave dy's columns (the crop's edges) read a zero-padded copy
 * of their few dy values instead.
 *
 * Either operand can be the tile's broadcast side (a, MR rows) and the
 * other its vector side (b, NR columns): the plan takes the orientation and
 * folding that fill the chosen tile best. The reduction over input rows is
 * cut into chunks whose x and dy fit in half of L2; for each chunk the
 * threads split the output tiles, the first chunk storing into the
 * accumulator and later ones adding to it, so each output sums its chunks
 * in the same order whatever the thread count. The bias gradient is summed
 * per dy row in the same chunk loop (while the rows are in cache) and the
 * row sums are added in (image, row) order at the end.
 *
 * x or dy in a channel-planar layout (NCHW, SSCB) is first copied
 * channel-innermost.
 */
#ifndef TCONV_KERNELS_BWD_WEIGHTS_GEMM_H
#define TCONV_KERNELS_BWD_WEIGHTS_GEMM_H

#include <stddef.h>

#include "kernels/problem.h"
#include "kernels/ukernel.h"

typedef struct tconv_bwd_weights_gemm tconv_bwd_weights_gemm;

/* The estimated share of the FMA peak of GEMM kernel uk (lanes per vector)
 * on backward-weights of p with its best orientation and folding; 0 when it
 * cannot run p (both sides of the product narrower than the tile). */
double tconv_bwd_weights_gemm_score(const tconv_problem *p, const tconv_ukernel *uk, int64_t lanes);

/* As tconv_bwd_weights_driver_create/run/describe (kernels/bwd_driver.h),
 * for a GEMM kernel: TCONV_EUNSUPPORTED when it cannot run p. */
tconv_status tconv_bwd_weights_gemm_create(const tconv_problem *p, const tconv_ukernel *uk,
                                    tconv_bwd_weights_gemm **out);
void tconv_bwd_weights_gemm_destroy(tconv_bwd_weights_gemm *d);
tconv_status tconv_bwd_weights_gemm_run(const tconv_bwd_weights_gemm *d, const void *x, const void *dy, void *dw,
                                 void *dbias);
void tconv_bwd_weights_gemm_describe(const tconv_bwd_weights_gemm *d, char *buf, size_t n);

#endif /* TCONV_KERNELS_BWD_WEIGHTS_GEMM_H */
