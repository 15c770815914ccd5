/*
 * AVX-512F f64 forward microkernels, instantiated from kernels/template/.
 * Same register budget as fwd_f32.c with 8 lanes per zmm.
 */
#include "kernels/x86/avx512/ukernels.h"
#include "kernels/x86/avx512/vec_f64.h"

/* CHANNELS 14x16 (default): 28 accumulators + 2 weights. */
#define MR 14
#define NR 16
#define UK_FN tconv_f64_fwd_14x16_avx512
#define UK_FN_NT tconv_f64_fwd_14x16_avx512_nt
#include "kernels/template/fwd_channels.inc"

/* CHANNELS 6x32: 24 accumulators + 4 weights. */
#define MR 6
#define NR 32
#define UK_FN tconv_f64_fwd_6x32_avx512
#define UK_FN_NT tconv_f64_fwd_6x32_avx512_nt
#include "kernels/template/fwd_channels.inc"

/* CHANNELS 8x16: 16 accumulators; for tiles with few pixels. */
#define MR 8
#define NR 16
#define UK_FN tconv_f64_fwd_8x16_avx512
#define UK_FN_NT tconv_f64_fwd_8x16_avx512_nt
#include "kernels/template/fwd_channels.inc"

/* PIXELS 16 pixels x 4 channels (default): 8 accumulators + 2 input vectors. */
#define MR 16
#define NR 4
#define UK_FN tconv_f64_fwd_px16x4_avx512
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 32 and 16 pixels x 3 channels: 12 and 6 accumulators; for RGB
 * outputs (the f32 tiles px64x3 and px32x3 in f64 vectors). */
#define MR 32
#define NR 3
#define UK_FN tconv_f64_fwd_px32x3_avx512
#include "kernels/template/fwd_pixels.inc"

#define MR 16
#define NR 3
#define UK_FN tconv_f64_fwd_px16x3_avx512
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 8 pixels x 8 channels: 8 accumulators + 1 input vector. */
#define MR 8
#define NR 8
#define UK_FN tconv_f64_fwd_px8x8_avx512
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 32 pixels x 2 channels: 8 accumulators + 4 input vectors. */
#define MR 32
#define NR 2
#define UK_FN tconv_f64_fwd_px32x2_avx512
#include "kernels/template/fwd_pixels.inc"

/* PIXELS 32 pixels x 1 channel: 4 input vectors, one broadcast weight per channel
 * and tap; for layers with a single output channel (FSRCNN, depth or mask
 * heads), where wider NR would spend FMAs on padding channels. */
#define MR 32
#define NR 1
#define UK_FN tconv_f64_fwd_px32x1_avx512
#include "kernels/template/fwd_pixels.inc"

/* CHANNELS 1x32: 4 accumulators, one pixel. A matrix-vector product bound by
 * streaming weights, for layers with a single pixel per tap position (1x1
 * inputs at batch 1, e.g. DCGAN's first layer), where a taller tile would
 * compute rows that are thrown away. */
#define MR 1
#define NR 32
#define UK_FN tconv_f64_fwd_1x32_avx512
#define UK_FN_NT tconv_f64_fwd_1x32_avx512_nt
#include "kernels/template/fwd_channels.inc"

/* PHASES tiles (kernels/template/fwd_phases.inc): all S x S phases of a
 * stride-S layer for MR grid positions x NR filters, each input vector
 * loaded once for every phase; the driver pairs each with the PIXELS tile
 * of its NR. */

/* PHASES stride 2, 8 positions x 4: 16 accumulators. */
#define S 2
#define MR 8
#define NR 4
#define UK_FN tconv_f64_fwd_ph2x8x4_avx512
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 2, 16 positions x 3: 24 accumulators. */
#define S 2
#define MR 16
#define NR 3
#define UK_FN tconv_f64_fwd_ph2x16x3_avx512
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 2, 16 positions x 2: 16 accumulators. */
#define S 2
#define MR 16
#define NR 2
#define UK_FN tconv_f64_fwd_ph2x16x2_avx512
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 2, 32 positions x 1: 16 accumulators. */
#define S 2
#define MR 32
#define NR 1
#define UK_FN tconv_f64_fwd_ph2x32x1_avx512
#include "kernels/template/fwd_phases.inc"

/* PHASES stride 3, 16 positions x 1: 18 accumulators. */
#define S 3
#define MR 16
#define NR 1
#define UK_FN tconv_f64_fwd_ph3x16x1_avx512
#include "kernels/template/fwd_phases.inc"
