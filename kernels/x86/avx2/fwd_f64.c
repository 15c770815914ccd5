/*
 * AVX2 + FMA f64 forward microkernels, instantiated from kernels/template/.
 * Same register budget as fwd_f32.c with 4 lanes per ymm.
 */
#include "kernels/x86/avx2/ukernels.h"
#include "kernels/x86/avx2/vec_f64.h"

/* CHANNELS 6x8 (default): 12 accumulators + 2 weights + 1 broadcast. */
#define MR 6
#define NR 8
#define UK_FN tconv_f64_fwd_6x8_avx2
#define UK_FN_NT tconv_f64_fwd_6x8_avx2_nt
#include "kernels/template/fwd_channels.inc"

/* CHANNELS 4x12: 12 accumulators + 3 weights + 1 broadcast. */
#define MR 4
#define NR 12
#define UK_FN tconv_f64_fwd_4x12_avx2
#include "kernels/template/fwd_channels.inc"

/* PIXELS 8 pixels x 4 channels (default): 8 accumulators + 2 inputs + 1 broadcast. */
#define MR 8
#define NR 4
#define UK_FN tconv_f64_fwd_px8x4_avx2
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 16 pixels x 2 channels: 8 accumulators + 4 inputs + 1 broadcast. */
#define MR 16
#define NR 2
#define UK_FN tconv_f64_fwd_px16x2_avx2
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 16 pixels x 1 channel: 4 input vectors, one broadcast weight per channel
 * and tap; for layers with a single output channel (FSRCNN, depth or mask
 * heads), where wider NR would spend FMAs on padding channels. */
#define MR 16
#define NR 1
#define UK_FN tconv_f64_fwd_px16x1_avx2
#include "kernels/template/fwd_pixels.inc"

/* CHANNELS 1x16: 4 accumulators, one pixel. A matrix-vector product bound by
 * streaming weights, for layers with a single pixel per tap position (1x1
 * inputs at batch 1, e.g. DCGAN's first layer), where a taller tile would
 * compute rows that are thrown away. */
#define MR 1
#define NR 16
#define UK_FN tconv_f64_fwd_1x16_avx2
#define UK_FN_NT tconv_f64_fwd_1x16_avx2_nt
#include "kernels/template/fwd_channels.inc"

/* PHASES tiles (kernels/template/fwd_phases.inc): all S x S phases of a
 * stride-S layer for MR grid positions x NR filters, each input vector
 * loaded once for every phase; the driver pairs each with the PIXELS tile
 * of its NR. */

/* PHASES stride 2, 4 positions x 2: 8 accumulators. */
#define S 2
#define MR 4
#define NR 2
#define UK_FN tconv_f64_fwd_ph2x4x2_avx2
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 2, 12 positions x 1: 12 accumulators: 3 input vectors. */
#define S 2
#define MR 12
#define NR 1
#define UK_FN tconv_f64_fwd_ph2x12x1_avx2
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 3, 4 positions x 1: 9 accumulators. */
#define S 3
#define MR 4
#define NR 1
#define UK_FN tconv_f64_fwd_ph3x4x1_avx2
#include "kernels/template/fwd_phases.inc"
