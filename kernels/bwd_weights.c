/*
 * The backward-weights driver (kernels/bwd_driver.h): dw and dbias from x
 * and dy, by one of three strategies (bwd_weights_internal.h), chosen at
 * creation from the kernel the plan picked:
 *  - in place (bwd_weights_gemm.c) for GEMM kernels;
 *  - filters as rows (bwd_weights_rows.c) for a CHANNELS kernel whose tiles
 *    the few filters per group would leave mostly empty as lanes
 *    (tconv_bwd_weights_rows_fit);
 *  - packed (bwd_weights_packed.c) for the other CHANNELS and PIXELS
 *    kernels.
 * Here: what all three share, from creation to the run's chunk loop.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/bwd_weights_internal.h"
#include "runtime/checked.h"
#include "runtime/topology.h"

tconv_bwd_weights_kind tconv_bwd_weights_kind_of(const tconv_problem *p, const tconv_ukernel *uk)
{
    if (uk->family == TCONV_UK_GEMM) return TCONV_BWD_WEIGHTS_IN_PLACE;
    return tconv_bwd_weights_rows_fit(p, uk) ? TCONV_BWD_WEIGHTS_FILTER_ROWS
                                             : TCONV_BWD_WEIGHTS_PACKED;
}

tconv_status tconv_bwd_weights_driver_create(const tconv_problem *p, const tconv_ukernel *uk,
                                             tconv_bwd_weights_driver **out)
{
    *out = NULL;
    if (uk->dtype != p->dtype || uk->mr < 1 || uk->mr > TCONV_BWD_MAX_TILE || uk->nr < 1 ||
        uk->nr > TCONV_BWD_MAX_TILE)
        return TCONV_EUNSUPPORTED;
    tconv_bwd_weights_driver *d = calloc(1, sizeof *d);
    if (!d) return TCONV_ENOMEM;
    d->p = *p;
    d->uk = uk;
    switch (tconv_bwd_weights_kind_of(p, uk)) {
    case TCONV_BWD_WEIGHTS_IN_PLACE: d->how = &tconv_bwd_weights_gemm; break;
    case TCONV_BWD_WEIGHTS_FILTER_ROWS: d->how = &tconv_bwd_weights_rows; break;
    default: d->how = &tconv_bwd_weights_packed; break;
    }
    d->es = tconv_dtype_size(p->dtype);
    d->mr = uk->mr;
    d->nr = uk->nr;
    d->rows = p->batch * p->in_h;
    /* The grid, and the bias rows' sums (doubles), must be indexable. */
    tconv_status st = TCONV_EOVERFLOW;
    int64_t bias_bytes;
    if (tconv_bwd_grid(p, &d->gh, &d->gw) &&
        tconv_mul_ok(p->batch * p->out_h, p->filters * 8, &bias_bytes)) {
        d->qw = (d->gw + p->stride_w - 1) / p->stride_w;
        st = d->how->plan(d);
    }
    if (st == TCONV_OK) {
        d->scratch = tconv_scratch_new();
        if (!d->scratch) st = TCONV_ENOMEM;
    }
    if (st != TCONV_OK) {
        tconv_bwd_weights_driver_destroy(d);
        return st;
    }
    *out = d;
    return TCONV_OK;
}

void tconv_bwd_weights_driver_destroy(tconv_bwd_weights_driver *d)
{
    if (!d) return;
    if (d->how->release) d->how->release(d);
    tconv_scratch_delete(d->scratch);
    free(d);
}

void tconv_bwd_weights_driver_describe(const tconv_bwd_weights_driver *d, char *buf, size_t n)
{
    d->how->describe(d, buf, n);
}

int64_t tconv_bwd_weights_chunk_rows(const tconv_problem *p, double row_bytes, int64_t min_pixels)
{
    const double half_l2 = (double)(tconv_topology_get()->l2_bytes / 2);
    const int64_t rows = p->batch * p->in_h, min_rows = (min_pixels + p->in_w - 1) / p->in_w;
    /* (exact for whole byte counts: the quotient is far below 2^53) */
    const double fit = floor(half_l2 / fmax(row_bytes, 1.0));
    const int64_t cr = fit < (double)min_rows ? min_rows : (int64_t)fmin(fit, (double)rows);
    return cr > rows ? rows : cr;
}

void tconv_bwd_weights_plan_chunks(tconv_bwd_weights_driver *d, int64_t row_bytes,
                                   int64_t min_pixels)
{
    d->chunk_rows = tconv_bwd_weights_chunk_rows(&d->p, (double)row_bytes, min_pixels);
    d->nchunks = (d->rows + d->chunk_rows - 1) / d->chunk_rows;
}

void *tconv_bwd_weights_thread_scratch(bwd_weights_run *r)
{
    void *mem = tconv_thread_scratch(r->d->thread_bytes);
    if (!mem) atomic_store(&r->failed, 1);
    return mem;
}

/* dbias[f]: the dy rows' sums (bias_rows) added in (image, row) order from
 * the first. */
static void store_bias(const tconv_problem *p, const double *bias_rows, void *dbias)
{
    const int64_t rows = p->batch * p->out_h;
    for (int64_t f = 0; f < p->filters; f++) {
        double sum = bias_rows[f];
        for (int64_t row = 1; row < rows; row++) sum += bias_rows[row * p->filters + f];
        tconv_elem_store(p->dtype, dbias, f, sum);
    }
}

static bwd_weights_view caller_view(const void *at, tconv_data_strides st)
{
    return (bwd_weights_view){at, st.n, st.h, st.w, st.c};
}

tconv_status tconv_bwd_weights_driver_run(const tconv_bwd_weights_driver *d, const void *x,
                                          const void *dy, void *dw, void *dbias)
{
    const tconv_problem *p = &d->p;
    bwd_weights_run r;
    memset(&r, 0, sizeof r);
    atomic_init(&r.failed, 0);
    r.d = d;
    r.x = x;
    r.dy = dy;
    r.dw = dw;
    r.xs = caller_view(x, p->x);
    r.ys = caller_view(dy, p->y);
    const size_t sizes[4] = {d->acc_bytes, d->x_bytes, d->dy_bytes,
                             dbias ? (size_t)(p->batch * p->out_h * p->filters) * sizeof(double) : 0};
    size_t at[4];
    int kept = 0;
    char *block = tconv_scratch_take_parts(d->scratch, sizes, at, 4, &kept);
    if (!block) return TCONV_ENOMEM;
    r.acc = block + at[0];
    r.xbuf = d->x_bytes ? block + at[1] : NULL;
    r.dybuf = d->dy_bytes ? block + at[2] : NULL;
    r.bias_rows = dbias ? (double *)(block + at[3]) : NULL;

    d->how->prepare(&r);
    for (r.chunk = 0; r.chunk < d->nchunks; r.chunk++) {
        r.row0 = r.chunk * d->chunk_rows;
        r.nrows = r.row0 + d->chunk_rows <= d->rows ? d->chunk_rows : d->rows - r.row0;
        const int64_t tasks = d->tiles + (d->bias_in_chunks && dbias ? r.nrows : 0);
        tconv_parallel_ranges(tasks, 1, d->how->run_tasks, &r);
    }
    const int ok = !atomic_load(&r.failed);
    if (ok) d->how->unpack(&r);
    if (ok && dbias) store_bias(p, r.bias_rows, dbias);
    tconv_scratch_give(d->scratch, block, kept);
    return ok ? TCONV_OK : TCONV_ENOMEM;
}
