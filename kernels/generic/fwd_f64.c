/*
 * Portable C f64 forward microkernels, instantiated from kernels/template/
 * with one-lane "vectors". 32 scalar accumulators suit machines with 32 FP
 * registers and leave the compiler room to vectorize the tile at its
 * baseline (SSE2 on x86-64); 2x4 suits small register files.
 */
#include "kernels/generic/ukernels.h"
#include "kernels/generic/vec_f64.h"

/* CHANNELS 4x8 (default). */
#define MR 4
#define NR 8
#define UK_FN tconv_f64_fwd_4x8_scalar
#include "kernels/template/fwd_channels.inc"

/* CHANNELS 2x4. */
#define MR 2
#define NR 4
#define UK_FN tconv_f64_fwd_2x4_scalar
#include "kernels/template/fwd_channels.inc"

/* PIXELS 8 pixels x 4 channels (default). */
#define MR 8
#define NR 4
#define UK_FN tconv_f64_fwd_px8x4_scalar
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 8 pixels x 1 channel: 8 scalars, one broadcast weight per channel
 * and tap; for layers with a single output channel (FSRCNN, depth or mask
 * heads), where wider NR would spend FMAs on padding channels. */
#define MR 8
#define NR 1
#define UK_FN tconv_f64_fwd_px8x1_scalar
#include "kernels/template/fwd_pixels.inc"

/* CHANNELS 1x8: 8 accumulators, one pixel. A matrix-vector product bound by
 * streaming weights, for layers with a single pixel per tap position (1x1
 * inputs at batch 1, e.g. DCGAN's first layer), where a taller tile would
 * compute rows that are thrown away. */
#define MR 1
#define NR 8
#define UK_FN tconv_f64_fwd_1x8_scalar
#include "kernels/template/fwd_channels.inc"

/* PHASES tiles (kernels/template/fwd_phases.inc): all S x S phases of a
 * stride-S layer for MR grid positions x NR filters, each input vector
 * loaded once for every phase; the driver pairs each with the PIXELS tile
 * of its NR. */

/* PHASES stride 2, 2 positions x 4: 32 scalars. */
#define S 2
#define MR 2
#define NR 4
#define UK_FN tconv_f64_fwd_ph2x2x4_scalar
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 2, 8 positions x 1: 32 scalars. */
#define S 2
#define MR 8
#define NR 1
#define UK_FN tconv_f64_fwd_ph2x8x1_scalar
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 3, 2 positions x 1: 18 scalars. */
#define S 3
#define MR 2
#define NR 1
#define UK_FN tconv_f64_fwd_ph3x2x1_scalar
#include "kernels/template/fwd_phases.inc"
