/*
 * Backward-weights, packed strategy (bwd_weights_packed.c): the forward
 * CHANNELS and PIXELS tiles with the filters as vector lanes. For every tap
 * (kh, kw), input channel c and filter m of
 * its group g,
 *   dw[c][m][kh][kw] = sum over n, ih, iw of
 *       x[n][c][ih][iw] * dyg[n][g*Fg + m][ih*s_h + kh*d_h][iw*s_w + kw*d_w]
 * where dyg is dy on the uncropped grid the taps reach (zero where the crop
 * removed positions), and dbias[f] = the sum of dy[n][f][.][.]. Run on the
 * forward microkernels (see bwd_driver.h for the mapping).
 *
 * dy is packed once per call as [g][filter block][n][u][rw][q][NR]: grid
 * row u, grid column v = q*s_w + rw. Tap kw reads, along input row ih,
 * columns v = iw*s_w + kw*d_w: one phase rw = kw*d_w mod s_w and
 * consecutive q = iw + kw*d_w div s_w, so the NR filters of consecutive
 * pixels are consecutive rows of NR, as the microkernels' weight operand
 * wants. One microkernel "tap" is one input row (n, ih); its reduction
 * (kc) runs along the row's in_w pixels.
 *
 * The reduction over input rows is cut into chunks whose x and dy fit in
 * half of L2 together; for each chunk, the threads split the output tiles
 * (group, filter block, tap, channel block), the first chunk storing into
 * the accumulator and later ones adding to it. Each tile therefore sums its
 * chunks in the same order whatever the thread count.
 */
#ifndef TCONV_KERNELS_BWD_WEIGHTS_PACKED_H
#define TCONV_KERNELS_BWD_WEIGHTS_PACKED_H

#include <stddef.h>

#include "kernels/problem.h"
#include "kernels/ukernel.h"

typedef struct tconv_bwd_weights_packed tconv_bwd_weights_packed;

/* As tconv_bwd_weights_driver_create/run/describe (kernels/bwd_driver.h),
 * for a CHANNELS or PIXELS kernel. */
tconv_status tconv_bwd_weights_packed_create(const tconv_problem *p, const tconv_ukernel *uk,
                                             tconv_bwd_weights_packed **out);
void tconv_bwd_weights_packed_destroy(tconv_bwd_weights_packed *d);
tconv_status tconv_bwd_weights_packed_run(const tconv_bwd_weights_packed *d, const void *x,
                                          const void *dy, void *dw, void *dbias);
void tconv_bwd_weights_packed_describe(const tconv_bwd_weights_packed *d, char *buf, size_t n);

#endif /* TCONV_KERNELS_BWD_WEIGHTS_PACKED_H */
