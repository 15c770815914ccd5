/*
 * AVX-512F f32 GEMM microkernels of backward-weights (kernels/bwd_weights_gemm.c),
 * instantiated from kernels/template/bwdw_gemm.inc; the first is the default.
 *
 * Register budget, 32 zmm: MR * NR/VLEN accumulators + NR/VLEN vectors of b + 1 broadcast <= 32.
 * Tiles of several heights, because a tile needs both sides of the product
 * at least as wide as itself: 9 rows fit FSRCNN's 9 (tap, filter) pairs,
 * 12 DCGAN's and pix2pix's 3 filters x 4 taps.
 */
#include "kernels/x86/avx512/ukernels.h"
#include "kernels/x86/avx512/vec_f32.h"

#define MR 12
#define NR 32
#define UK_FN tconv_f32_bwdw_12x32_avx512
#include "kernels/template/bwdw_gemm.inc"

#define MR 6
#define NR 64
#define UK_FN tconv_f32_bwdw_6x64_avx512
#include "kernels/template/bwdw_gemm.inc"

#define MR 8
#define NR 48
#define UK_FN tconv_f32_bwdw_8x48_avx512
#include "kernels/template/bwdw_gemm.inc"

#define MR 8
#define NR 32
#define UK_FN tconv_f32_bwdw_8x32_avx512
#include "kernels/template/bwdw_gemm.inc"

#define MR 9
#define NR 32
#define UK_FN tconv_f32_bwdw_9x32_avx512
#include "kernels/template/bwdw_gemm.inc"

#define MR 28
#define NR 16
#define UK_FN tconv_f32_bwdw_28x16_avx512
#include "kernels/template/bwdw_gemm.inc"

#define MR 16
#define NR 16
#define UK_FN tconv_f32_bwdw_16x16_avx512
#include "kernels/template/bwdw_gemm.inc"

#define MR 12
#define NR 16
#define UK_FN tconv_f32_bwdw_12x16_avx512
#include "kernels/template/bwdw_gemm.inc"
