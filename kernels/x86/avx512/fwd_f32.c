/*
 * AVX-512F f32 forward microkernels, instantiated from kernels/template/.
 *
 * Register budget: 32 zmm. A CHANNELS tile holds MR * NR/16 accumulators,
 * NR/16 weight vectors of the current channel and one broadcast input
 * (vbroadcastss from memory: a load-port uop, no shuffle):
 * MR * NR/16 + NR/16 + 1 <= 32. At least 8 independent accumulators hide
 * the FMA latency (4 cycles x 2 ports).
 */
#include "kernels/x86/avx512/ukernels.h"
#include "kernels/x86/avx512/vec_f32.h"

/* CHANNELS 14x32: 28 accumulators + 2 weights + 1 broadcast; 28 FMAs per 16
 * loads. Measured behind 8x32 and 6x64 on an AMD EPYC (Zen 4): its 14 row
 * pointers do not fit the free general registers (3 reloads per channel
 * step) and 14 input streams crowd L1; kept for CPUs where that differs. */
#define MR 14
#define NR 32
#define UK_FN tconv_f32_fwd_14x32_avx512
#define UK_FN_NT tconv_f32_fwd_14x32_avx512_nt
#include "kernels/template/fwd_channels.inc"

/* CHANNELS 6x64: 24 accumulators + 4 weights; fewer broadcasts per FMA, for
 * wide layers with few pixels per phase. */
#define MR 6
#define NR 64
#define UK_FN tconv_f32_fwd_6x64_avx512
#define UK_FN_NT tconv_f32_fwd_6x64_avx512_nt
#include "kernels/template/fwd_channels.inc"

/* CHANNELS 28x16: 28 accumulators + 1 weight + 1 broadcast; for <= 16
 * output channels. */
#define MR 28
#define NR 16
#define UK_FN tconv_f32_fwd_28x16_avx512
#define UK_FN_NT tconv_f32_fwd_28x16_avx512_nt
#include "kernels/template/fwd_channels.inc"

/* CHANNELS 8x32 (default): 16 accumulators + 2 weights; 8 input streams.
 * The fastest f32 tile on channel-heavy layers on an AMD EPYC (Zen 4), whose
 * 512-bit FMAs issue one per cycle, so 16 accumulators hide their latency:
 * 117 GFLOP/s (of 117) on DCGAN's 128->64 layer against 110 for 14x32. */
#define MR 8
#define NR 32
#define UK_FN tconv_f32_fwd_8x32_avx512
#define UK_FN_NT tconv_f32_fwd_8x32_avx512_nt
#include "kernels/template/fwd_channels.inc"

/* PIXELS 32 pixels x 4 channels (default): 8 accumulators + 2 input vectors. */
#define MR 32
#define NR 4
#define UK_FN tconv_f32_fwd_px32x4_avx512
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 64 and 32 pixels x 3 channels: 12 and 6 accumulators; for RGB
 * outputs, which NR = 4 fills to three quarters. On an AMD EPYC (Zen 4),
 * NCHW, one thread: pix2pix 128->3 62 -> 74 GFLOP/s with px64x3 (rows of
 * 128 pixels), DCGAN 64->3 63 -> 77 with px32x3 (rows of 32). */
#define MR 64
#define NR 3
#define UK_FN tconv_f32_fwd_px64x3_avx512
#include "kernels/template/fwd_pixels.inc"

#define MR 32
#define NR 3
#define UK_FN tconv_f32_fwd_px32x3_avx512
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 16 pixels x 8 channels: 8 accumulators + 1 input vector. */
#define MR 16
#define NR 8
#define UK_FN tconv_f32_fwd_px16x8_avx512
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 64 pixels x 2 channels: 8 accumulators + 4 input vectors; wastes
 * no FMA on padding channels when F <= 2. */
#define MR 64
#define NR 2
#define UK_FN tconv_f32_fwd_px64x2_avx512
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 64 pixels x 1 channel: 4 input vectors, one broadcast weight per channel
 * and tap; for layers with a single output channel (FSRCNN, depth or mask
 * heads), where wider NR would spend FMAs on padding channels. */
#define MR 64
#define NR 1
#define UK_FN tconv_f32_fwd_px64x1_avx512
#include "kernels/template/fwd_pixels.inc"

/* CHANNELS 1x64: 4 accumulators, one pixel. A matrix-vector product bound by
 * streaming weights, for layers with a single pixel per tap position (1x1
 * inputs at batch 1, e.g. DCGAN's first layer), where a taller tile would
 * compute rows that are thrown away. */
#define MR 1
#define NR 64
#define UK_FN tconv_f32_fwd_1x64_avx512
#define UK_FN_NT tconv_f32_fwd_1x64_avx512_nt
#include "kernels/template/fwd_channels.inc"

/* PHASES tiles (kernels/template/fwd_phases.inc): all S x S phases of a
 * stride-S layer for MR grid positions x NR filters, each input vector
 * loaded once for every phase; the driver pairs each with the PIXELS tile
 * of its NR. */

/* PHASES stride 2, 16 positions x 4: 16 accumulators. */
#define S 2
#define MR 16
#define NR 4
#define UK_FN tconv_f32_fwd_ph2x16x4_avx512
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 2, 32 positions x 3: 24 accumulators + 2 inputs + 1 broadcast. */
#define S 2
#define MR 32
#define NR 3
#define UK_FN tconv_f32_fwd_ph2x32x3_avx512
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 2, 32 positions x 2: 16 accumulators. */
#define S 2
#define MR 32
#define NR 2
#define UK_FN tconv_f32_fwd_ph2x32x2_avx512
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 2, 64 positions x 1: 16 accumulators: 4 input vectors. */
#define S 2
#define MR 64
#define NR 1
#define UK_FN tconv_f32_fwd_ph2x64x1_avx512
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 3, 32 positions x 1: 18 accumulators: 2 input vectors. */
#define S 3
#define MR 32
#define NR 1
#define UK_FN tconv_f32_fwd_ph3x32x1_avx512
#include "kernels/template/fwd_phases.inc"
