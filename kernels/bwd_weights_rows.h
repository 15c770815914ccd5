/*
 * Backward-weights with the filters as tile rows (bwd_weights_rows.c), for
 * layers with few filters per group, where a tile of NR filters as vector
 * lanes (bwd_weights_packed.c) would be mostly empty: DCGAN's and pix2pix's RGB
 * output layers (3 filters), FSRCNN's (1).
 *
 * A CHANNELS tile holds MR (filter, kw tap) pairs of one kh x NR input
 * channels: for a fixed kh, dw[c][m][kh][kw] = sum over n, ih, iw of
 *   dyg[n][m][ih*s_h + kh*d_h][iw*s_w + kw*d_w] * x[n][c][ih][iw],
 * which is the microkernel's contract with row i = (m, kw) reading dy from
 * its own plane (broadcast), the vector operand x packed as rows of NR
 * channels per pixel, and one microkernel "tap" per input row (n, ih), its
 * reduction along the row's pixels. dy is packed once per call into planes
 * per (image, filter, column phase), so that the pixels a tap reads along
 * an input row are consecutive; x into blocks of NR channels. Chunks of the
 * reduction, their order and the threads' split are as in bwd_weights_packed.c, so
 * the result is the same bits for every thread count.
 */
#ifndef TCONV_KERNELS_BWD_WEIGHTS_ROWS_H
#define TCONV_KERNELS_BWD_WEIGHTS_ROWS_H

#include <stddef.h>

#include "kernels/problem.h"
#include "kernels/ukernel.h"

typedef struct tconv_bwd_weights_rows tconv_bwd_weights_rows;

/* Whether backward-weights of p with CHANNELS kernel uk fills its tiles
 * better (by 10%) with the filters as rows than with them as lanes: the
 * rule bwd_weights.c chooses by and dispatch/select.c scores by. */
int tconv_bwd_weights_rows_fit(const tconv_problem *p, const tconv_ukernel *uk);
/* The fill of uk's tiles with the filters as rows (0..1). */
double tconv_bwd_weights_rows_fill(const tconv_problem *p, const tconv_ukernel *uk);

/* As tconv_bwd_weights_driver_create/run/describe (kernels/bwd_driver.h),
 * for a CHANNELS kernel. */
tconv_status tconv_bwd_weights_rows_create(const tconv_problem *p, const tconv_ukernel *uk,
                                    tconv_bwd_weights_rows **out);
void tconv_bwd_weights_rows_destroy(tconv_bwd_weights_rows *d);
tconv_status tconv_bwd_weights_rows_run(const tconv_bwd_weights_rows *d, const void *x, const void *dy, void *dw,
                                 void *dbias);
void tconv_bwd_weights_rows_describe(const tconv_bwd_weights_rows *d, char *buf, size_t n);

#endif /* TCONV_KERNELS_BWD_WEIGHTS_ROWS_H */
