/*
 * AArch64 NEON f64 forward microkernels, instantiated from kernels/template/.
 * Same register budget as fwd_f32.c with 2 lanes per q register.
 */
#include "kernels/arm/neon/ukernels.h"
#include "kernels/arm/neon/vec_f64.h"

/* CHANNELS 6x8 (default): 24 accumulators + 4 weights + broadcasts. */
#define MR 6
#define NR 8
#define UK_FN tconv_f64_fwd_6x8_neon
#include "kernels/template/fwd_channels.inc"

/* CHANNELS 12x4: 24 accumulators + 2 weights + broadcasts; for <= 4 channels. */
#define MR 12
#define NR 4
#define UK_FN tconv_f64_fwd_12x4_neon
#include "kernels/template/fwd_channels.inc"

/* CHANNELS 8x4: 16 accumulators; for tiles with few pixels. */
#define MR 8
#define NR 4
#define UK_FN tconv_f64_fwd_8x4_neon
#include "kernels/template/fwd_channels.inc"

/* PIXELS 8 pixels x 4 channels (default): 16 accumulators + 4 inputs. */
#define MR 8
#define NR 4
#define UK_FN tconv_f64_fwd_px8x4_neon
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 16 pixels x 2 channels: 16 accumulators + 8 inputs; for F <= 2. */
#define MR 16
#define NR 2
#define UK_FN tconv_f64_fwd_px16x2_neon
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 16 pixels x 1 channel: 8 input vectors, one broadcast weight per channel
 * and tap; for layers with a single output channel (FSRCNN, depth or mask
 * heads), where wider NR would spend FMAs on padding channels. */
#define MR 16
#define NR 1
#define UK_FN tconv_f64_fwd_px16x1_neon
#include "kernels/template/fwd_pixels.inc"

/* CHANNELS 1x16: 8 accumulators, one pixel. A matrix-vector product bound by
 * streaming weights, for layers with a single pixel per tap position (1x1
 * inputs at batch 1, e.g. DCGAN's first layer), where a taller tile would
 * compute rows that are thrown away. */
#define MR 1
#define NR 16
#define UK_FN tconv_f64_fwd_1x16_neon
#include "kernels/template/fwd_channels.inc"

/* PHASES tiles (kernels/template/fwd_phases.inc): all S x S phases of a
 * stride-S layer for MR grid positions x NR filters, each input vector
 * loaded once for every phase; the driver pairs each with the PIXELS tile
 * of its NR. */

/* PHASES stride 2, 2 positions x 4: 16 accumulators. */
#define S 2
#define MR 2
#define NR 4
#define UK_FN tconv_f64_fwd_ph2x2x4_neon
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 2, 4 positions x 2: 16 accumulators. */
#define S 2
#define MR 4
#define NR 2
#define UK_FN tconv_f64_fwd_ph2x4x2_neon
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 2, 8 positions x 1: 16 accumulators. */
#define S 2
#define MR 8
#define NR 1
#define UK_FN tconv_f64_fwd_ph2x8x1_neon
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 3, 4 positions x 1: 18 accumulators. */
#define S 3
#define MR 4
#define NR 1
#define UK_FN tconv_f64_fwd_ph3x4x1_neon
#include "kernels/template/fwd_phases.inc"
