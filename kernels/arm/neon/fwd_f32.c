/*
 * AArch64 NEON f32 forward microkernels, instantiated from kernels/template/.
 *
 * Register budget: 32 q registers. A CHANNELS tile holds MR * NR/4
 * accumulators, NR/4 weight vectors and the broadcasts (ld1r), which the
 * core can keep a few ahead: MR * NR/4 + NR/4 + 2..4 <= 32.
 */
#include "kernels/arm/neon/ukernels.h"
#include "kernels/arm/neon/vec_f32.h"

/* CHANNELS 12x8 (default): 24 accumulators + 2 weights + broadcasts. */
#define MR 12
#define NR 8
#define UK_FN tconv_f32_fwd_12x8_neon
#include "kernels/template/fwd_channels.inc"

/* CHANNELS 6x16: 24 accumulators + 4 weights + broadcasts; fewer loads per
 * FMA (10 per 24), for wide layers. */
#define MR 6
#define NR 16
#define UK_FN tconv_f32_fwd_6x16_neon
#include "kernels/template/fwd_channels.inc"

/* CHANNELS 8x8: 16 accumulators; for tiles with few pixels. */
#define MR 8
#define NR 8
#define UK_FN tconv_f32_fwd_8x8_neon
#include "kernels/template/fwd_channels.inc"

/* PIXELS 16 pixels x 4 channels (default): 16 accumulators + 4 inputs. */
#define MR 16
#define NR 4
#define UK_FN tconv_f32_fwd_px16x4_neon
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 8 pixels x 8 channels: 16 accumulators + 2 inputs. */
#define MR 8
#define NR 8
#define UK_FN tconv_f32_fwd_px8x8_neon
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 32 pixels x 2 channels: 16 accumulators + 8 inputs; for F <= 2. */
#define MR 32
#define NR 2
#define UK_FN tconv_f32_fwd_px32x2_neon
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 32 pixels x 1 channel: 8 input vectors, one broadcast weight per channel
 * and tap; for layers with a single output channel (FSRCNN, depth or mask
 * heads), where wider NR would spend FMAs on padding channels. */
#define MR 32
#define NR 1
#define UK_FN tconv_f32_fwd_px32x1_neon
#include "kernels/template/fwd_pixels.inc"

/* CHANNELS 1x32: 8 accumulators, one pixel. A matrix-vector product bound by
 * streaming weights, for layers with a single pixel per tap position (1x1
 * inputs at batch 1, e.g. DCGAN's first layer), where a taller tile would
 * compute rows that are thrown away. */
#define MR 1
#define NR 32
#define UK_FN tconv_f32_fwd_1x32_neon
#include "kernels/template/fwd_channels.inc"

/* PHASES tiles (kernels/template/fwd_phases.inc): all S x S phases of a
 * stride-S layer for MR grid positions x NR filters, each input vector
 * loaded once for every phase; the driver pairs each with the PIXELS tile
 * of its NR. */

/* PHASES stride 2, 4 positions x 4: 16 accumulators. */
#define S 2
#define MR 4
#define NR 4
#define UK_FN tconv_f32_fwd_ph2x4x4_neon
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 2, 8 positions x 2: 16 accumulators. */
#define S 2
#define MR 8
#define NR 2
#define UK_FN tconv_f32_fwd_ph2x8x2_neon
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 2, 16 positions x 1: 16 accumulators. */
#define S 2
#define MR 16
#define NR 1
#define UK_FN tconv_f32_fwd_ph2x16x1_neon
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 3, 8 positions x 1: 18 accumulators. */
#define S 3
#define MR 8
#define NR 1
#define UK_FN tconv_f32_fwd_ph3x8x1_neon
#include "kernels/template/fwd_phases.inc"
