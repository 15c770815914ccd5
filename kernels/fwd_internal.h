/*
 * Internals shared by the forward driver's files (fwd_driver.c: planning and
 * the gather mode; fwd_scatter.c: the scatter mode; fwd_layout.c: layout
 * edges). Nothing outside kernels/fwd_*.c includes this.
 */
#ifndef TCONV_KERNELS_FWD_INTERNAL_H
#define TCONV_KERNELS_FWD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/activation.h"
#include "kernels/elem.h"
#include "kernels/fwd_driver.h"
#include "kernels/transpose.h"
#include "runtime/intmath.h"
#include "runtime/scratch.h"

/* Largest MR and NR the driver supports (pointer arrays on the stack). */
#define TCONV_FWD_MAX_TILE 64

/* Most phases (stride_h * stride_w) and taps (k_h * k_w) the driver plans;
 * beyond them the reference runs. FCN-32s's k64 s32 layer has 1024 phases,
 * a 64 x 64 kernel 4096 taps. These bound the driver's plan-time tables and
 * loops (tconv_fwd_driver_create, tconv_fwd_gather_plan). */
#define TCONV_FWD_MAX_PHASES 4096
#define TCONV_FWD_MAX_TAPS 4096

/* One filter tap: its position and the input offset it reads, in phase
 * coordinates: output q reads input row q - off_h (column q - off_w). */
typedef struct fwd_tap {
    int64_t kh, kw, off_h, off_w;
} fwd_tap;

/* One phase (rh, rw). Its output rows are q*stride_h + rh - crop_top for q in
 * [qh0, qh1) (columns likewise); within those, [ch0, ch1) x [cw0, cw1) is the
 * compute region where some tap reads the input; the rest holds only the bias. */
typedef struct fwd_phase {
    int64_t rh, rw;
    int64_t tap_begin, ntaps; /* its taps: d->taps[tap_begin .. tap_begin + ntaps) */
    int64_t qh0, qh1, qw0, qw1;
    int64_t ch0, ch1, cw0, cw1;
    /* The extremes of its taps' offsets (no taps: INT64_MAX, INT64_MIN):
     * with taps, every one reaches the input from some pixel of rows
     * [h0, h1] when h1 - off_h_max >= 0 and h0 - off_h_min < in_h (columns
     * likewise; fwd_gather.c, every_tap). */
    int64_t off_h_min, off_h_max, off_w_min, off_w_max;
    int by_classes; /* tile rectangle by rectangle of equal useful taps (fwd_driver.c) */
} fwd_phase;

/* One piece of a gather run (planned once, see fwd_gather.c): the tiles of
 * rectangle [h0, h1) x [w0, w1) of the phase grid for the nph phases from
 * phase (which share it) and output-channel blocks [blk0, blk1), each tile
 * running all the blocks or, with blocks_per_pass > 0, that many blocks at a
 * time running over all the tiles before the next; for the PIXELS family (blk0 = blk1 = 0), the rows
 * of phase `phase`. Different jobs write different outputs. Their number
 * depends on the phases and taps only, never on the sizes of the tensors. */
typedef struct fwd_job {
    int64_t phase, nph;
    int64_t h0, h1, w0, w1;
    int64_t blk0, blk1;
    int64_t ntiles; /* tiles (CHANNELS) or rows (PIXELS) */
    int64_t blocks_per_pass; /* 0: all of them, per tile */
} fwd_job;

struct tconv_fwd_driver {
    tconv_problem p;
    const tconv_ukernel *uk;
    const tconv_act_impl *act;  /* the activation's table for the plan's ISA */
    int64_t esize;      /* bytes per element */
    int64_t nr, mr;
    tconv_fwd_mode mode;
    /* Gather: ceil(Fg / NR) output-channel blocks per group. Scatter: ceil(
     * ntaps * Fg / NR) blocks of the (tap, filter) columns of a group. */
    int64_t nblocks;
    int64_t pad_h, pad_w;
    int64_t hp, wp;     /* padded input height and width */
    int64_t px_chan, px_row; /* PIXELS: the padded input's channel and row strides
                                (fwd_layout.c: planar or row-interleaved) */
    int64_t ntaps_max;  /* most taps of any phase */
    int64_t nphases;
    int64_t phase_group; /* phases run inside one tile loop, consecutive in phase order
                            (fwd_gather.c): 1 (each phase on its own), a phase row
                            or several, or all nphases */
    fwd_phase *phases;
    fwd_tap *taps;      /* k_h * k_w, grouped by phase (the packed order) */
    int64_t *tap_of_col; /* weights with adjacent taps (tconv_w_taps_adjacent): the
                            packed tap of tap column kh * w.kh + kw * w.kw */
    fwd_job *jobs;      /* gather mode: the run, in its single-thread order */
    int64_t njobs;
    /* Phases mode (fwd_phases.c): the PHASES tile, taps per phase in each
     * dimension (ceil(k / S)), and the grid rows and columns [q0, q1). */
    const tconv_uk_phases *ph;
    int64_t ph_th, ph_tw, ph_q0h, ph_q1h, ph_q0w, ph_q1w;
    /* Scatter mode with a PIXELS tile (fwd_scatter.c): a chunk is sc_rows
     * whole input rows (sc_cols = in_w) or sc_cols columns of one row
     * (sc_rows = 1); sc_stride is the element stride of its channel rows
     * and column rows, sc_qspan the span of the taps' output phase offsets
     * along a row (tconv_fwd_scatter_plan). */
    int64_t sc_rows, sc_cols, sc_stride, sc_qspan;
    tconv_scratch *scratch; /* the weights packed per call (tconv_fwd_driver_run_packing), kept
                               between calls */
    tconv_scratch *run_scratch; /* a run's working memory (the padded input and the mode's
                                   work block), kept between calls */
};


/* Sets px_chan and px_row for the PIXELS family's padded input. */
void tconv_fwd_pixels_strides(tconv_fwd_driver *d);

/* Whether the kernels can read x in place (CHANNELS family, dense
 * channel-innermost input, no padding needed). */
int tconv_fwd_input_in_place(const tconv_fwd_driver *d);

/* x, zero-padded by pad_h/pad_w, as NHWC [N][hp][wp][C] (CHANNELS) or, for
 * PIXELS, channel-planar [N][C][hp][wp] from a planar x and row-interleaved
 * [N][hp][C][wp] from a channel-innermost one (px_chan and px_row say
 * which: tconv_fwd_pixels_strides). Split over the threads. */
void tconv_fwd_pad_input(const tconv_fwd_driver *d, const void *x, void *xp);

/* p[0..n) = act(p[0..n)) with the plan's activation (none: nothing), on
 * this thread. */
void tconv_fwd_activate(const tconv_fwd_driver *d, void *p, int64_t n);

/* The same, split over the threads (for a whole output). */
void tconv_fwd_activate_all(const tconv_fwd_driver *d, void *p, int64_t n);

/* NHWC scratch (y_elems) to the caller's layout. Split over the threads. */
void tconv_fwd_unpack_output(const tconv_fwd_driver *d, const void *ys, void *y);

/* Packed weights: block (g, b) holds, for each tap in phase order, Cg rows
 * of NR filters (b*NR ..), zero past Fg. */
static inline int64_t packed_w_offset(const tconv_fwd_driver *d, int64_t g, int64_t b, int64_t tap)
{
    return ((g * d->nblocks + b) * (d->p.k_h * d->p.k_w) + tap) * d->p.cg * d->nr;
}

/* The gather mode (fwd_gather.c): plan-time choices, and the pass. A run
 * for `threads` threads works in a 64-byte aligned block of
 * tconv_fwd_gather_work_bytes (the NHWC output when y is not NHWC, each
 * filter's bias, the pieces the threads take; 0 when that would overflow
 * size_t), which the caller provides (tconv_fwd_driver_run: kept between
 * calls, so that a run allocates nothing). */
tconv_status tconv_fwd_gather_plan(tconv_fwd_driver *d);
size_t tconv_fwd_gather_work_bytes(const tconv_fwd_driver *d, int threads);
/* The most passes over its tiles that a job of the plan makes, one group
 * of output-channel blocks a pass (1 when every tile runs all blocks). */
int64_t tconv_fwd_gather_block_passes(const tconv_fwd_driver *d);
/* The most whole tiles of one row that the pass runs in a row (CHANNELS
 * tiles: the input they read stays in L1); 0 when it runs none. */
int64_t tconv_fwd_gather_row_run_tiles(const tconv_fwd_driver *d);
tconv_status tconv_fwd_gather_run(const tconv_fwd_driver *d, const char *x, const void *packed_w,
                                  const void *packed_bias, void *y, int threads, void *work);

/* The phases mode (fwd_phases.c): its geometry and padding (once nr, mr and
 * ph are set; TCONV_EOVERFLOW when the packed weights would not fit),
 * packed weights, and the pass over a padded input (tconv_fwd_pad_input). */
tconv_status tconv_fwd_phases_plan(tconv_fwd_driver *d);
size_t tconv_fwd_phases_packed_w_elems(const tconv_fwd_driver *d);
void tconv_fwd_phases_pack(const tconv_fwd_driver *d, const void *w, void *packed_w);
void tconv_fwd_phases_run(const tconv_fwd_driver *d, const char *xp, const void *packed_w,
                          const void *packed_bias, void *y);

/* The scatter mode (fwd_scatter.c); its work block (the column runs of
 * every block) is provided by the caller as the gather mode's is. With a
 * PIXELS tile it reads x as it lies and plans its row chunks first
 * (tconv_fwd_scatter_plan; TCONV_EOVERFLOW when they would not fit). */
tconv_status tconv_fwd_scatter_plan(tconv_fwd_driver *d);
void tconv_fwd_scatter_pack(const tconv_fwd_driver *d, const void *w, const void *bias,
                            void *packed_w, void *packed_bias);
size_t tconv_fwd_scatter_work_bytes(const tconv_fwd_driver *d);
tconv_status tconv_fwd_scatter_run(const tconv_fwd_driver *d, const char *x,
                                   const void *packed_w, const void *packed_bias, void *y,
                                   void *work);

#endif /* TCONV_KERNELS_FWD_INTERNAL_H */
