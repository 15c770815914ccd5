/*
 * Backward-data's strategy for PIXELS tiles (bwd_data_columns.c): the
 * columns of dy a row of dx reads, gathered a chunk at a time, times the
 * weights. bwd_data.c runs it when the plan's backward-data tile is a
 * PIXELS one.
 */
#ifndef TCONV_KERNELS_BWD_DATA_COLUMNS_H
#define TCONV_KERNELS_BWD_DATA_COLUMNS_H

#include <stddef.h>

#include "kernels/problem.h"
#include "kernels/ukernel.h"

typedef struct tconv_bwd_data_columns tconv_bwd_data_columns;

/* Plans backward-data of p with PIXELS tile uk (p's dtype, tile sizes
 * checked by the caller). TCONV_EOVERFLOW when its buffers could not be
 * indexed, TCONV_ENOMEM. */
tconv_status tconv_bwd_data_columns_create(const tconv_problem *p, const tconv_ukernel *uk,
                                           tconv_bwd_data_columns **out);
void tconv_bwd_data_columns_destroy(tconv_bwd_data_columns *c);
/* dx = backward_data(dy, w); TCONV_ENOMEM when scratch cannot be had. */
tconv_status tconv_bwd_data_columns_run(const tconv_bwd_data_columns *c, const void *dy,
                                        const void *w, void *dx);
/* e.g. "f32_fwd_px16x4_avx2 columns=48, 112 columns a chunk" */
void tconv_bwd_data_columns_describe(const tconv_bwd_data_columns *c, char *buf, size_t n);

#endif /* TCONV_KERNELS_BWD_DATA_COLUMNS_H */
