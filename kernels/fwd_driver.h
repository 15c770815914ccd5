/*
 * The forward driver: everything around a microkernel. It splits the output
 * into stride_h x stride_w phases (sub-pixel decomposition: phase (rh, rw)
 * owns the uncropped rows u = q*stride_h + rh and uses only the taps with
 * kh*dilation_h = rh (mod stride_h), so it is a dense stride-1 correlation
 * with no multiply wasted on inserted zeros), pads and re-lays the input once
 * per call, packs weights per phase, walks tiles and leaves out the taps that
 * read only padding for a whole tile, writes bias-only regions, and converts
 * the output layout at the edge when the kernel family needs one.
 *
 * Two kernel families (kernels/ukernel.h):
 *   CHANNELS: input padded as NHWC, output written as NHWC (straight into y
 *             when the layout is NHWC, else into scratch then converted);
 *   PIXELS:   input padded channel-planar (or row-interleaved, each
 *             channel's row in turn, from an NHWC x), output written
 *             straight into y in any layout.
 *
 * That is the gather mode (output-stationary). The phases mode
 * (fwd_phases.c) is a gather whose PHASES tile covers every phase of a
 * stride-S layer at once, for few output channels. The scatter mode
 * (input-stationary, fwd_scatter.c) suits few output channels with many
 * taps: a CHANNELS kernel computes, for MR input pixels, NR of the (tap,
 * filter) columns of x * w (a GEMM with K = C), and each result of that
 * register-sized tile is added into the one output position it reaches; y
 * starts from the bias. No column buffer, no multiply by an inserted zero.
 * With a PIXELS kernel (few columns) it computes a chunk of an input row's
 * pixels x every column into a small column buffer, summed per output
 * phase and added into y a row at a time.
 */
#ifndef TCONV_KERNELS_FWD_DRIVER_H
#define TCONV_KERNELS_FWD_DRIVER_H

#include <stddef.h>

#include "kernels/activation.h"
#include "kernels/problem.h"
#include "kernels/ukernel.h"

typedef struct tconv_fwd_driver tconv_fwd_driver;

typedef enum tconv_fwd_mode {
    TCONV_FWD_GATHER = 0,
    TCONV_FWD_SCATTER = 1,
    TCONV_FWD_PHASES = 2 /* a PHASES tile for all phases at once (fwd_phases.c) */
} tconv_fwd_mode;

/* Plans the forward pass of p with microkernel uk (whose dtype is p's) in
 * mode (SCATTER needs a CHANNELS or PIXELS kernel; PHASES a PIXELS one and ph, a
 * PHASES tile of its NR for p's stride in both dimensions, dilation 1;
 * other modes ignore ph), applying p's activation with act.
 * TCONV_EOVERFLOW when the padded buffers would not fit (the caller then
 * falls back to the reference), TCONV_ENOMEM on allocation failure. */
tconv_status tconv_fwd_driver_create(const tconv_problem *p, const tconv_ukernel *uk,
                                     const tconv_uk_phases *ph, tconv_fwd_mode mode,
                                     const tconv_act_impl *act, tconv_fwd_driver **out);
void tconv_fwd_driver_destroy(tconv_fwd_driver *d);

/* Element counts of the packed weights and bias (64-byte aligned buffers). */
size_t tconv_fwd_driver_packed_w_elems(const tconv_fwd_driver *d);
size_t tconv_fwd_driver_packed_bias_elems(const tconv_fwd_driver *d);

/* Packs w (in the problem's weight layout) and bias (NULL: zeros), split
 * over the threads. */
void tconv_fwd_driver_pack(const tconv_fwd_driver *d, const void *w, const void *bias,
                           void *packed_w, void *packed_bias);

/* y = forward(x) with packed weights. Its scratch (the padded input, the
 * NHWC output when y is not NHWC, the threads' pieces) is one block the
 * driver keeps between calls, so a run allocates nothing once it has grown
 * (runtime/scratch.h: a concurrent call on the same driver allocates a
 * block of its own); TCONV_ENOMEM if it cannot be had. */
tconv_status tconv_fwd_driver_run(const tconv_fwd_driver *d, const void *x, const void *packed_w,
                                  const void *packed_bias, void *y);

/* y = forward(x) with w and bias packed for this call (training, where they
 * change every step), into scratch kept between calls; TCONV_ENOMEM if it
 * cannot be had. */
tconv_status tconv_fwd_driver_run_packing(const tconv_fwd_driver *d, const void *x, const void *w,
                                          const void *bias, void *y);

/* A short description, e.g. "gather f32_fwd_14x32_avx512 phases=4 taps/phase<=4". */
void tconv_fwd_driver_describe(const tconv_fwd_driver *d, char *buf, size_t n);

#endif /* TCONV_KERNELS_FWD_DRIVER_H */
