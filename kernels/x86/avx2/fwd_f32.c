/*
 * AVX2 + FMA f32 forward microkernels, instantiated from kernels/template/.
 *
 * Register budget: 16 ymm. A CHANNELS tile holds MR * NR/8 accumulators,
 * NR/8 weight vectors and one broadcast register (AVX2 has no embedded
 * broadcast, but vbroadcastss takes its operand from memory, so no scalar
 * register is needed): MR * NR/8 + NR/8 + 1 <= 16.
 */
#include "kernels/x86/avx2/ukernels.h"
#include "kernels/x86/avx2/vec_f32.h"

/* CHANNELS 6x16 (default): 12 accumulators + 2 weights + 1 broadcast. */
#define MR 6
#define NR 16
#define UK_FN tconv_f32_fwd_6x16_avx2
#define UK_FN_NT tconv_f32_fwd_6x16_avx2_nt
#include "kernels/template/fwd_channels.inc"

/* CHANNELS 4x24: 12 accumulators + 3 weights + 1 broadcast (all 16). */
#define MR 4
#define NR 24
#define UK_FN tconv_f32_fwd_4x24_avx2
#include "kernels/template/fwd_channels.inc"

/* CHANNELS 12x8: 12 accumulators + 1 weight + 1 broadcast; for <= 8 channels. */
#define MR 12
#define NR 8
#define UK_FN tconv_f32_fwd_12x8_avx2
#include "kernels/template/fwd_channels.inc"

/* PIXELS 16 pixels x 4 channels (default): 8 accumulators + 2 inputs + 1 broadcast. */
#define MR 16
#define NR 4
#define UK_FN tconv_f32_fwd_px16x4_avx2
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 16 pixels x 3 channels: 6 accumulators + 2 inputs + 1 broadcast;
 * for RGB outputs (AMD EPYC under TCONV_ISA=avx2, NCHW, one thread: DCGAN
 * 64->3 59 -> 63 GFLOP/s, pix2pix 128->3 51 -> 57 against px16x4). */
#define MR 16
#define NR 3
#define UK_FN tconv_f32_fwd_px16x3_avx2
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 8 pixels x 8 channels: 8 accumulators + 1 input + 1 broadcast. */
#define MR 8
#define NR 8
#define UK_FN tconv_f32_fwd_px8x8_avx2
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 32 pixels x 2 channels: 8 accumulators + 4 inputs + 1 broadcast;
 * for F <= 2. */
#define MR 32
#define NR 2
#define UK_FN tconv_f32_fwd_px32x2_avx2
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 32 pixels x 1 channel: 4 input vectors, one broadcast weight per channel
 * and tap; for layers with a single output channel (FSRCNN, depth or mask
 * heads), where wider NR would spend FMAs on padding channels. */
#define MR 32
#define NR 1
#define UK_FN tconv_f32_fwd_px32x1_avx2
#include "kernels/template/fwd_pixels.inc"

/* CHANNELS 1x32: 4 accumulators, one pixel. A matrix-vector product bound by
 * streaming weights, for layers with a single pixel per tap position (1x1
 * inputs at batch 1, e.g. DCGAN's first layer), where a taller tile would
 * compute rows that are thrown away. */
#define MR 1
#define NR 32
#define UK_FN tconv_f32_fwd_1x32_avx2
#define UK_FN_NT tconv_f32_fwd_1x32_avx2_nt
#include "kernels/template/fwd_channels.inc"

/* PHASES tiles (kernels/template/fwd_phases.inc): all S x S phases of a
 * stride-S layer for MR grid positions x NR filters, each input vector
 * loaded once for every phase; the driver pairs each with the PIXELS tile
 * of its NR. */

/* PHASES stride 2, 8 positions x 3: 12 accumulators + 1 input + 1 broadcast (k4 s2, 3 filters). */
#define S 2
#define MR 8
#define NR 3
#define UK_FN tconv_f32_fwd_ph2x8x3_avx2
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 2, 8 positions x 2: 8 accumulators. */
#define S 2
#define MR 8
#define NR 2
#define UK_FN tconv_f32_fwd_ph2x8x2_avx2
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 2, 24 positions x 1: 12 accumulators: 3 input vectors. */
#define S 2
#define MR 24
#define NR 1
#define UK_FN tconv_f32_fwd_ph2x24x1_avx2
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 3, 8 positions x 1: 9 accumulators (k9 s3, one filter: FSRCNN). */
#define S 3
#define MR 8
#define NR 1
#define UK_FN tconv_f32_fwd_ph3x8x1_avx2
#include "kernels/template/fwd_phases.inc"
