/*
 * portable C f32 GEMM microkernels of backward-weights (kernels/bwd_weights_gemm.c),
 * instantiated from kernels/template/bwdw_gemm.inc; the first is the default.
 *
 * Register budget, portable C: the compiler keeps the tile in whatever registers its target has; 1x1 runs any shape.
 * Tiles of several heights, because a tile needs both sides of the product
 * at least as wide as itself: 9 rows fit FSRCNN's 9 (tap, filter) pairs,
 * 12 DCGAN's and pix2pix's 3 filters x 4 taps.
 */
#include "kernels/generic/ukernels.h"
#include "kernels/generic/vec_f32.h"

#define MR 4
#define NR 8
#define UK_FN tconv_f32_bwdw_4x8_scalar
#include "kernels/template/bwdw_gemm.inc"

#define MR 4
#define NR 4
#define UK_FN tconv_f32_bwdw_4x4_scalar
#include "kernels/template/bwdw_gemm.inc"

#define MR 2
#define NR 2
#define UK_FN tconv_f32_bwdw_2x2_scalar
#include "kernels/template/bwdw_gemm.inc"

#define MR 1
#define NR 1
#define UK_FN tconv_f32_bwdw_1x1_scalar
#include "kernels/template/bwdw_gemm.inc"
