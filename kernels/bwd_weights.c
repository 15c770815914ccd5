/*
 * Backward-weights (kernels/bwd_driver.h): dw and dbias from x and dy, by
 * one of three strategies, chosen at creation from the kernel the plan
 * picked:
 *  - in place (bwd_weights_gemm.c), for GEMM kernels: x and dy read where
 *    they lie (or copied channel-innermost), nothing packed;
 *  - filters as rows (bwd_weights_rows.c), for a CHANNELS kernel whose
 *    tiles the few filters per group would leave mostly empty as lanes
 *    (tconv_bwd_weights_rows_fit);
 *  - packed (bwd_weights_packed.c), for the other CHANNELS and PIXELS
 *    kernels: dy packed as the forward tiles' weight operand.
 * All three cut the reduction over input rows into the same kind of chunks
 * (bwd_weights_common.h) and sum each output's chunks in one order, so the
 * result is the same bits for every thread count; the bias gradient is
 * summed in one order by all three (tconv_bwd_store_bias).
 */
#include <stdlib.h>

#include "kernels/bwd_driver.h"
#include "kernels/bwd_weights_gemm.h"
#include "kernels/bwd_weights_packed.h"
#include "kernels/bwd_weights_rows.h"

/* Exactly one strategy is set. */
struct tconv_bwd_weights_driver {
    tconv_bwd_weights_gemm *gemm;
    tconv_bwd_weights_rows *rows;
    tconv_bwd_weights_packed *packed;
};

tconv_status tconv_bwd_weights_driver_create(const tconv_problem *p, const tconv_ukernel *uk,
                                             tconv_bwd_weights_driver **out)
{
    *out = NULL;
    if (uk->dtype != p->dtype || uk->mr < 1 || uk->mr > TCONV_BWD_MAX_TILE || uk->nr < 1 ||
        uk->nr > TCONV_BWD_MAX_TILE)
        return TCONV_EUNSUPPORTED;
    tconv_bwd_weights_driver *d = calloc(1, sizeof *d);
    if (!d) return TCONV_ENOMEM;
    tconv_status st;
    if (uk->family == TCONV_UK_GEMM)
        st = tconv_bwd_weights_gemm_create(p, uk, &d->gemm);
    else if (tconv_bwd_weights_rows_fit(p, uk))
        st = tconv_bwd_weights_rows_create(p, uk, &d->rows);
    else
        st = tconv_bwd_weights_packed_create(p, uk, &d->packed);
    if (st != TCONV_OK) {
        free(d);
        return st;
    }
    *out = d;
    return TCONV_OK;
}

void tconv_bwd_weights_driver_destroy(tconv_bwd_weights_driver *d)
{
    if (!d) return;
    tconv_bwd_weights_gemm_destroy(d->gemm);
    tconv_bwd_weights_rows_destroy(d->rows);
    tconv_bwd_weights_packed_destroy(d->packed);
    free(d);
}

void tconv_bwd_weights_driver_describe(const tconv_bwd_weights_driver *d, char *buf, size_t n)
{
    if (d->gemm) tconv_bwd_weights_gemm_describe(d->gemm, buf, n);
    else if (d->rows) tconv_bwd_weights_rows_describe(d->rows, buf, n);
    else tconv_bwd_weights_packed_describe(d->packed, buf, n);
}

tconv_status tconv_bwd_weights_driver_run(const tconv_bwd_weights_driver *d, const void *x,
                                          const void *dy, void *dw, void *dbias)
{
    if (d->gemm) return tconv_bwd_weights_gemm_run(d->gemm, x, dy, dw, dbias);
    if (d->rows) return tconv_bwd_weights_rows_run(d->rows, x, dy, dw, dbias);
    return tconv_bwd_weights_packed_run(d->packed, x, dy, dw, dbias);
}
