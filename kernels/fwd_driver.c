/*
 * Forward planning: phases and taps, padding, packing, and the entry that
 * re-lays the input and runs a mode. The gather mode is in fwd_gather.c, the
 * scatter mode in fwd_scatter.c, the layout edges in fwd_layout.c.
 */
#include "kernels/fwd_driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/fwd_internal.h"
#include "kernels/transpose.h"
#include "runtime/checked.h"
#include "runtime/scratch.h"
#include "runtime/threads.h"

/* The q range of residue r in one dimension, and its compute region given
 * the phase's smallest and largest tap offsets (no taps: empty region). */
static void phase_range(int64_t r, int64_t stride, int64_t crop_begin, int64_t out, int64_t in,
                        int64_t ntaps, int64_t off_min, int64_t off_max, int64_t *q0, int64_t *q1,
                        int64_t *c0, int64_t *c1)
{
    /* o = q*stride + r - crop_begin in [0, out) */
    *q0 = ceil_div64(crop_begin - r, stride);
    *q1 = floor_div64(crop_begin + out - 1 - r, stride) + 1;
    if (*q1 < *q0) *q1 = *q0;
    if (ntaps == 0) {
        *c0 = *c1 = *q0;
        return;
    }
    /* some tap reads the input: 0 <= q - off < in for some off in [off_min, off_max] */
    *c0 = max64(*q0, off_min);
    *c1 = min64(*q1, in + off_max);
    if (*c1 < *c0) *c1 = *c0;
}

tconv_status tconv_fwd_driver_create(const tconv_problem *p, const tconv_ukernel *uk,
                                     const tconv_uk_phases *phases_uk, tconv_fwd_mode mode,
                                     const tconv_act_impl *act, tconv_fwd_driver **out)
{
    *out = NULL;
    if (uk->mr < 1 || uk->mr > TCONV_FWD_MAX_TILE || uk->nr < 1 || uk->nr > TCONV_FWD_MAX_TILE ||
        (mode == TCONV_FWD_SCATTER && uk->family != TCONV_UK_CHANNELS &&
         uk->family != TCONV_UK_PIXELS))
        return TCONV_EUNSUPPORTED;
    if (mode == TCONV_FWD_PHASES &&
        (uk->family != TCONV_UK_PIXELS || !phases_uk || phases_uk->dtype != p->dtype ||
         phases_uk->nr != uk->nr || phases_uk->s != p->stride_h || phases_uk->s != p->stride_w ||
         p->dil_h != 1 || p->dil_w != 1 ||
         phases_uk->s * phases_uk->s * phases_uk->nr * phases_uk->mr > 9 * 4 * 96))
        return TCONV_EUNSUPPORTED;
    /* Planning builds a table of phases and of taps and loops over both
     * (below and in fwd_gather.c): past these bounds, far beyond any real
     * layer, the reference runs instead, so that planning stays quick and
     * small whatever sizes a desc within tconv's limits holds. */
    if (p->stride_h * p->stride_w > TCONV_FWD_MAX_PHASES || p->k_h * p->k_w > TCONV_FWD_MAX_TAPS)
        return TCONV_EOVERFLOW;
    tconv_fwd_driver *d = calloc(1, sizeof *d);
    if (!d) return TCONV_ENOMEM;
    d->scratch = tconv_scratch_new();
    d->run_scratch = tconv_scratch_new();
    if (!d->scratch || !d->run_scratch) {
        tconv_scratch_delete(d->scratch);
        tconv_scratch_delete(d->run_scratch);
        free(d);
        return TCONV_ENOMEM;
    }
    d->p = *p;
    d->uk = uk;
    d->act = act;
    d->esize = tconv_dtype_size(p->dtype);
    d->nr = uk->nr;
    d->mr = mode == TCONV_FWD_PHASES ? phases_uk->mr : uk->mr;
    d->mode = mode;
    d->ph = mode == TCONV_FWD_PHASES ? phases_uk : NULL;
    d->nblocks = (p->fg + d->nr - 1) / d->nr;
    d->nphases = p->stride_h * p->stride_w;
    d->phases = calloc((size_t)d->nphases, sizeof *d->phases);
    d->taps = calloc((size_t)(p->k_h * p->k_w), sizeof *d->taps);
    d->tap_of_col = calloc((size_t)(p->k_h * p->k_w), sizeof *d->tap_of_col);
    if (!d->phases || !d->taps || !d->tap_of_col) {
        tconv_fwd_driver_destroy(d);
        return TCONV_ENOMEM;
    }

    /* Taps grouped by phase; offsets off = (k*dil - r) / stride. */
    int64_t next = 0;
    for (int64_t rh = 0; rh < p->stride_h; rh++)
        for (int64_t rw = 0; rw < p->stride_w; rw++) {
            fwd_phase *ph = &d->phases[rh * p->stride_w + rw];
            ph->rh = rh;
            ph->rw = rw;
            ph->tap_begin = next;
            int64_t hmin = INT64_MAX, hmax = INT64_MIN, wmin = INT64_MAX, wmax = INT64_MIN;
            for (int64_t kh = 0; kh < p->k_h; kh++) {
                if ((kh * p->dil_h) % p->stride_h != rh) continue;
                for (int64_t kw = 0; kw < p->k_w; kw++) {
                    if ((kw * p->dil_w) % p->stride_w != rw) continue;
                    if (tconv_w_taps_adjacent(p)) d->tap_of_col[kh * p->w.kh + kw * p->w.kw] = next;
                    fwd_tap *t = &d->taps[next++];
                    t->kh = kh;
                    t->kw = kw;
                    t->off_h = (kh * p->dil_h - rh) / p->stride_h;
                    t->off_w = (kw * p->dil_w - rw) / p->stride_w;
                    hmin = min64(hmin, t->off_h); hmax = max64(hmax, t->off_h);
                    wmin = min64(wmin, t->off_w); wmax = max64(wmax, t->off_w);
                    d->pad_h = max64(d->pad_h, t->off_h);
                    d->pad_w = max64(d->pad_w, t->off_w);
                }
            }
            ph->ntaps = next - ph->tap_begin;
            ph->off_h_min = hmin; ph->off_h_max = hmax;
            ph->off_w_min = wmin; ph->off_w_max = wmax;
            d->ntaps_max = max64(d->ntaps_max, ph->ntaps);
            phase_range(rh, p->stride_h, p->crop_top, p->out_h, p->in_h, ph->ntaps, hmin, hmax,
                        &ph->qh0, &ph->qh1, &ph->ch0, &ph->ch1);
            phase_range(rw, p->stride_w, p->crop_left, p->out_w, p->in_w, ph->ntaps, wmin, wmax,
                        &ph->qw0, &ph->qw1, &ph->cw0, &ph->cw1);
        }

    if (mode == TCONV_FWD_SCATTER) {
        /* Input pixels are read as they are: no padding; blocks of columns. */
        d->pad_h = d->pad_w = 0;
        d->nblocks = (p->k_h * p->k_w * p->fg + d->nr - 1) / d->nr;
        if (tconv_fwd_scatter_plan(d) != TCONV_OK) {
            tconv_fwd_driver_destroy(d);
            return TCONV_EOVERFLOW;
        }
    }
    if (mode == TCONV_FWD_PHASES && tconv_fwd_phases_plan(d) != TCONV_OK) {
        tconv_fwd_driver_destroy(d);
        return TCONV_EOVERFLOW;
    }

    /* Padded input: every tap of every compute pixel reads inside it. The
     * PIXELS family reads up to MR - 1 columns past a row's last pixel. */
    int64_t extra_w = uk->family == TCONV_UK_PIXELS ? d->mr : 0, elems;
    if (!tconv_add_ok(p->in_h, 2 * d->pad_h, &d->hp) ||
        !tconv_add_ok(p->in_w, 2 * d->pad_w + extra_w, &d->wp) ||
        !tconv_mul_ok(d->hp, d->wp, &elems) || !tconv_mul_ok(elems, p->channels, &elems) ||
        !tconv_mul_ok(elems, p->batch, &elems) || !tconv_mul_ok(elems, d->esize, &elems) ||
        !tconv_mul_ok(p->groups * d->nblocks * d->nr,
                      (mode == TCONV_FWD_SCATTER ? 1 : p->k_h * p->k_w) * p->cg, &elems) ||
        !tconv_mul_ok(elems, d->esize, &elems)) {
        tconv_fwd_driver_destroy(d);
        return TCONV_EOVERFLOW;
    }
    if (uk->family == TCONV_UK_PIXELS) tconv_fwd_pixels_strides(d);
    if (mode == TCONV_FWD_GATHER && tconv_fwd_gather_plan(d) != TCONV_OK) {
        tconv_fwd_driver_destroy(d);
        return TCONV_ENOMEM;
    }
    *out = d;
    return TCONV_OK;
}

void tconv_fwd_driver_destroy(tconv_fwd_driver *d)
{
    if (!d) return;
    tconv_scratch_delete(d->scratch);
    tconv_scratch_delete(d->run_scratch);
    free(d->phases);
    free(d->taps);
    free(d->tap_of_col);
    free(d->jobs);
    free(d);
}

size_t tconv_fwd_driver_packed_w_elems(const tconv_fwd_driver *d)
{
    if (d->mode == TCONV_FWD_PHASES) return tconv_fwd_phases_packed_w_elems(d);
    /* Scatter blocks already span the taps. */
    const int64_t taps = d->mode == TCONV_FWD_SCATTER ? 1 : d->p.k_h * d->p.k_w;
    return (size_t)(d->p.groups * d->nblocks * taps * d->p.cg * d->nr);
}

size_t tconv_fwd_driver_packed_bias_elems(const tconv_fwd_driver *d)
{
    /* Scatter: NR zeros for the kernel's bias argument, then the F biases. */
    if (d->mode == TCONV_FWD_SCATTER) return (size_t)(d->p.filters + d->nr);
    return (size_t)(d->p.groups * d->nblocks * d->nr);
}

/* What the packing tasks share. */
typedef struct pack_ctx {
    const tconv_fwd_driver *d;
    const char *w;
    char *packed_w;
    int64_t nch, ncol; /* pack_chunks: channels and tap columns its buffer holds at a time */
} pack_ctx;

/* Chunks [begin, end) of the flat (group, chunk of channels) range, for
 * weights with filters before channels (W_IOHW, W_MATLAB, where each
 * (channel, filter) pair's taps are adjacent: tconv_w_taps_adjacent).
 * Block by block, each channel's cols x taps matrix (cols <= NR filters) is
 * transposed into a buffer on the stack, [tap column][channel][NR] (padded
 * with zeros), and each tap column's rows go to its tap's place in one
 * copy. So the weights are read in order, the chunk's channels one stream
 * each, and the packed blocks written along their rows. Block after block
 * over all channels, gathering NR filters k_h * k_w apart into each row one
 * element at a time, took three times as long as copying the weights
 * (pix2pix 1024 -> 256: 16 MB, 6 ms a pass on an EPYC core). */
static void pack_chunks(void *arg, int64_t begin, int64_t end)
{
    const pack_ctx *r = arg;
    const tconv_fwd_driver *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->esize, nr = d->nr, taps = p->k_h * p->k_w, row = nr * es;
    const int64_t nch = r->nch, chunk = r->ncol, chunks = (p->cg + nch - 1) / nch;
    _Alignas(64) char buf[TCONV_PACK_BUFFER_BYTES];
    for (int64_t gk = begin; gk < end; gk++) {
        const int64_t g = gk / chunks, c0 = gk % chunks * nch, n = min64(nch, p->cg - c0);
        for (int64_t b = 0; b < d->nblocks; b++) {
            const int64_t cols = min64(nr, p->fg - b * nr);
            for (int64_t col0 = 0; col0 < taps; col0 += chunk) {
                const int64_t ncol = min64(chunk, taps - col0);
                for (int64_t c = 0; c < n; c++) {
                    const char *src = r->w + tconv_w_index(p, g * p->cg + c0 + c, b * nr, 0, 0) * es;
                    tconv_transpose(d->uk->transposes, es, buf + c * row, nch * nr, src + col0 * es, p->w.m, cols, ncol);
                    if (cols < nr)
                        for (int64_t k = 0; k < ncol; k++)
                            memset(buf + (k * nch + c) * row + cols * es, 0, (size_t)((nr - cols) * es));
                }
                for (int64_t col = 0; col < ncol; col++)
                    memcpy(r->packed_w + (packed_w_offset(d, g, b, d->tap_of_col[col0 + col]) +
                                          c0 * nr) * es,
                           buf + col * nch * row, (size_t)(n * row));
            }
        }
    }
}

/* Blocks [begin, end) of the flat (group, block) range, for weights whose
 * channels are contiguous (W_OHWI): a transpose of each tap's NR x Cg
 * weights into Cg rows of NR, a cache line of channels at a time, so that
 * the rows it stores (NR of them per line read) are whole in L1 before the
 * next line is read. */
static void pack_blocks(void *arg, int64_t begin, int64_t end)
{
    const pack_ctx *r = arg;
    const tconv_fwd_driver *d = r->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->esize, taps = p->k_h * p->k_w, line = 64 / es;
    for (int64_t gb = begin; gb < end; gb++) {
        const int64_t g = gb / d->nblocks, b = gb % d->nblocks, m0 = b * d->nr;
        const int64_t cols = min64(d->nr, p->fg - m0);
        for (int64_t t = 0; t < taps; t++) {
            char *block = r->packed_w + packed_w_offset(d, g, b, t) * es;
            const char *src = r->w + tconv_w_index(p, g * p->cg, m0, d->taps[t].kh,
                                                   d->taps[t].kw) * es;
            for (int64_t c0 = 0; c0 < p->cg; c0 += line) {
                const int64_t n = min64(line, p->cg - c0);
                for (int64_t j = 0; j < cols; j++)
                    tconv_copy_run(es, block + (c0 * d->nr + j) * es, d->nr,
                                   src + (j * p->w.m + c0) * es, 1, n);
                if (cols < d->nr)
                    for (int64_t c = c0; c < c0 + n; c++)
                        memset(block + (c * d->nr + cols) * es, 0, (size_t)((d->nr - cols) * es));
            }
        }
    }
}

void tconv_fwd_driver_pack(const tconv_fwd_driver *d, const void *w, const void *bias,
                           void *packed_w, void *packed_bias)
{
    if (d->mode == TCONV_FWD_SCATTER) {
        tconv_fwd_scatter_pack(d, w, bias, packed_w, packed_bias);
        return;
    }
    const tconv_problem *p = &d->p;
    pack_ctx r = {d, w, packed_w, 0, 0};
    if (d->mode == TCONV_FWD_PHASES) {
        tconv_fwd_phases_pack(d, w, packed_w);
    } else if (p->w.cg == 1) {
        tconv_parallel_ranges(p->groups * d->nblocks, 1, pack_blocks, &r);
    } else {
        const int64_t row = d->nr * d->esize;
        r.nch = max64(1, min64(p->cg, TCONV_PACK_BUFFER_BYTES / (p->k_h * p->k_w * row)));
        r.ncol = TCONV_PACK_BUFFER_BYTES / (r.nch * row);
        tconv_parallel_ranges(p->groups * ((p->cg + r.nch - 1) / r.nch), 1, pack_chunks, &r);
    }
    /* Each block's NR biases (zeros past the group's filters). */
    const int64_t es = d->esize;
    for (int64_t gb = 0; gb < p->groups * d->nblocks; gb++) {
        const int64_t g = gb / d->nblocks, m0 = gb % d->nblocks * d->nr;
        char *bias_row = (char *)packed_bias + gb * d->nr * es;
        memset(bias_row, 0, (size_t)(d->nr * es));
        if (bias)
            memcpy(bias_row, (const char *)bias + (g * p->fg + m0) * es,
                   (size_t)(min64(d->nr, p->fg - m0) * es));
    }
}

tconv_status tconv_fwd_driver_run_packing(const tconv_fwd_driver *d, const void *x, const void *w,
                                          const void *bias, void *y)
{
    const size_t sizes[2] = {tconv_fwd_driver_packed_w_elems(d) * (size_t)d->esize,
                             tconv_fwd_driver_packed_bias_elems(d) * (size_t)d->esize};
    size_t at[2];
    int kept;
    char *block = tconv_scratch_take_parts(d->scratch, sizes, at, 2, &kept);
    if (!block) return TCONV_ENOMEM;
    tconv_fwd_driver_pack(d, w, bias, block + at[0], block + at[1]);
    const tconv_status st = tconv_fwd_driver_run(d, x, block + at[0], block + at[1], y);
    tconv_scratch_give(d->scratch, block, kept);
    return st;
}

tconv_status tconv_fwd_driver_run(const tconv_fwd_driver *d, const void *x, const void *packed_w,
                                  const void *packed_bias, void *y)
{
    const tconv_problem *p = &d->p;
    const int in_place = tconv_fwd_input_in_place(d);
    const int threads = tconv_parallel_width();
    /* The padded input (unless x is read in place) and the mode's work
     * block, in one block kept between calls: a run allocates nothing once
     * the block has grown to its size (the tuner times runs back to back,
     * and a training or inference loop calls the same plan over and over). */
    const size_t sizes[2] = {
        in_place ? 0 : (size_t)(p->batch * p->channels * d->hp * d->wp * d->esize),
        d->mode == TCONV_FWD_SCATTER  ? tconv_fwd_scatter_work_bytes(d)
        : d->mode == TCONV_FWD_PHASES ? 64 /* none: the tiles are on the stack */
                                      : tconv_fwd_gather_work_bytes(d, threads)};
    size_t at[2];
    int kept;
    /* (no work block: its size overflowed) */
    char *block = sizes[1] ? tconv_scratch_take_parts(d->run_scratch, sizes, at, 2, &kept) : NULL;
    if (!block) return TCONV_ENOMEM;
    if (!in_place) tconv_fwd_pad_input(d, x, block + at[0]);
    const char *xin = in_place ? (const char *)x : block + at[0];
    tconv_status st = TCONV_OK;
    if (d->mode == TCONV_FWD_SCATTER)
        st = tconv_fwd_scatter_run(d, xin, packed_w, packed_bias, y, block + at[1]);
    else if (d->mode == TCONV_FWD_PHASES)
        tconv_fwd_phases_run(d, xin, packed_w, packed_bias, y);
    else
        st = tconv_fwd_gather_run(d, xin, packed_w, packed_bias, y, threads, block + at[1]);
    tconv_scratch_give(d->run_scratch, block, kept);
    /* CHANNELS gather tiles apply the activation as they store; PIXELS
     * (and PHASES) outputs are strided and scatter outputs accumulate, so those get
     * one vectorized sweep over y (dense in any layout) instead. */
    if (st == TCONV_OK && (d->mode == TCONV_FWD_SCATTER || d->uk->family == TCONV_UK_PIXELS))
        tconv_fwd_activate_all(d, y, p->y_elems);
    return st;
}

void tconv_fwd_driver_describe(const tconv_fwd_driver *d, char *buf, size_t n)
{
    if (d->mode == TCONV_FWD_SCATTER && d->uk->family == TCONV_UK_PIXELS)
        snprintf(buf, n, "scatter %s columns=%lld, %lld %s a chunk", d->uk->name,
                 (long long)(d->p.k_h * d->p.k_w * d->p.fg),
                 (long long)(d->sc_rows > 1 ? d->sc_rows : d->sc_cols),
                 d->sc_rows > 1 ? "rows" : "columns");
    else if (d->mode == TCONV_FWD_SCATTER)
        snprintf(buf, n, "scatter %s columns=%lld", d->uk->name,
                 (long long)(d->p.k_h * d->p.k_w * d->p.fg));
    else if (d->mode == TCONV_FWD_PHASES)
        snprintf(buf, n, "phases %s for %s taps/phase=%lldx%lld", d->ph->name, d->uk->name,
                 (long long)d->ph_th, (long long)d->ph_tw);
    else {
        const int64_t passes = tconv_fwd_gather_block_passes(d);
        const int64_t run = tconv_fwd_gather_row_run_tiles(d);
        char group[40] = "", more[80] = "";
        if (d->phase_group > 1 && d->phase_group < d->nphases)
            snprintf(group, sizeof group, " (%lld inner)", (long long)d->phase_group);
        else if (d->phase_group > 1)
            snprintf(group, sizeof group, " (inner)");
        if (passes > 1) snprintf(more, sizeof more, " block passes=%lld", (long long)passes);
        if (run)
            snprintf(more + strlen(more), sizeof more - strlen(more), " row runs<=%lld tiles",
                     (long long)run);
        snprintf(buf, n, "gather %s phases=%lld%s taps/phase<=%lld%s", d->uk->name,
                 (long long)d->nphases, group, (long long)d->ntaps_max, more);
    }
}
