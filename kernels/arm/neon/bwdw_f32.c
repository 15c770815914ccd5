/*
 * AArch64 Advanced SIMD f32 GEMM microkernels of backward-weights (kernels/bwd_weights_gemm.c),
 * instantiated from kernels/template/bwdw_gemm.inc; the first is the default.
 *
 * Register budget, 32 q registers: MR * NR/VLEN accumulators + NR/VLEN vectors of b + 1 broadcast <= 32.
 * Tiles of several heights, because a tile needs both sides of the product
 * at least as wide as itself: 9 rows fit FSRCNN's 9 (tap, filter) pairs,
 * 12 DCGAN's and pix2pix's 3 filters x 4 taps.
 */
#include "kernels/arm/neon/ukernels.h"
#include "kernels/arm/neon/vec_f32.h"

#define MR 6
#define NR 16
#define UK_FN tconv_f32_bwdw_6x16_neon
#include "kernels/template/bwdw_gemm.inc"

#define MR 12
#define NR 8
#define UK_FN tconv_f32_bwdw_12x8_neon
#include "kernels/template/bwdw_gemm.inc"

#define MR 8
#define NR 12
#define UK_FN tconv_f32_bwdw_8x12_neon
#include "kernels/template/bwdw_gemm.inc"

#define MR 24
#define NR 4
#define UK_FN tconv_f32_bwdw_24x4_neon
#include "kernels/template/bwdw_gemm.inc"

#define MR 9
#define NR 8
#define UK_FN tconv_f32_bwdw_9x8_neon
#include "kernels/template/bwdw_gemm.inc"

#define MR 8
#define NR 8
#define UK_FN tconv_f32_bwdw_8x8_neon
#include "kernels/template/bwdw_gemm.inc"

#define MR 16
#define NR 4
#define UK_FN tconv_f32_bwdw_16x4_neon
#include "kernels/template/bwdw_gemm.inc"
