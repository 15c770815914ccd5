/*
 * AVX2 + FMA f64 GEMM microkernels of backward-weights (kernels/bwd_weights_gemm.c),
 * instantiated from kernels/template/bwdw_gemm.inc; the first is the default.
 *
 * Register budget, 16 ymm: MR * NR/VLEN accumulators + NR/VLEN vectors of b + 1 broadcast <= 16.
 * Tiles of several heights, because a tile needs both sides of the product
 * at least as wide as itself: 9 rows fit FSRCNN's 9 (tap, filter) pairs,
 * 12 DCGAN's and pix2pix's 3 filters x 4 taps.
 */
#include "kernels/x86/avx2/ukernels.h"
#include "kernels/x86/avx2/vec_f64.h"

#define MR 6
#define NR 8
#define UK_FN tconv_f64_bwdw_6x8_avx2
#include "kernels/template/bwdw_gemm.inc"

#define MR 4
#define NR 12
#define UK_FN tconv_f64_bwdw_4x12_avx2
#include "kernels/template/bwdw_gemm.inc"

#define MR 12
#define NR 4
#define UK_FN tconv_f64_bwdw_12x4_avx2
#include "kernels/template/bwdw_gemm.inc"

#define MR 3
#define NR 12
#define UK_FN tconv_f64_bwdw_3x12_avx2
#include "kernels/template/bwdw_gemm.inc"

#define MR 4
#define NR 8
#define UK_FN tconv_f64_bwdw_4x8_avx2
#include "kernels/template/bwdw_gemm.inc"

#define MR 8
#define NR 4
#define UK_FN tconv_f64_bwdw_8x4_avx2
#include "kernels/template/bwdw_gemm.inc"
