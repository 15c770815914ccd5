/*
 * The AVX2 + FMA microkernels, each declared once (kernels/template/
 * ukernel_common.h): forward CHANNELS and PIXELS tiles (kernels/x86/avx2/
 * fwd_f32.c, fwd_f64.c) and backward-weights GEMM tiles (bwdw_f32.c,
 * bwdw_f64.c), in order of preference within each dtype and family:
 * dispatch/select.c (best_of) takes the earlier of two tiles whose scores
 * are within 5%, so the first is the default choice. The table
 * tconv_ukernels_avx2 (table.c) and the prototypes below come from this list.
 */
#ifndef TCONV_KERNELS_X86_AVX2_UKERNELS_H
#define TCONV_KERNELS_X86_AVX2_UKERNELS_H

#include "kernels/template/ukernel_common.h"

#define TCONV_UKERNELS_AVX2(X, X_NT) \
    X_NT(CHANNELS, F32, 6, 16, tconv_f32_fwd_6x16_avx2, tconv_f32_fwd_6x16_avx2_nt) \
    X(CHANNELS, F32, 4, 24, tconv_f32_fwd_4x24_avx2)                                \
    X(CHANNELS, F32, 12, 8, tconv_f32_fwd_12x8_avx2)                                \
    X_NT(CHANNELS, F32, 1, 32, tconv_f32_fwd_1x32_avx2, tconv_f32_fwd_1x32_avx2_nt) \
    X(PIXELS, F32, 16, 4, tconv_f32_fwd_px16x4_avx2)                                \
    X(PIXELS, F32, 16, 3, tconv_f32_fwd_px16x3_avx2)                                \
    X(PIXELS, F32, 8, 8, tconv_f32_fwd_px8x8_avx2)                                  \
    X(PIXELS, F32, 32, 2, tconv_f32_fwd_px32x2_avx2)                                \
    X(PIXELS, F32, 32, 1, tconv_f32_fwd_px32x1_avx2)                                \
    X_NT(CHANNELS, F64, 6, 8, tconv_f64_fwd_6x8_avx2, tconv_f64_fwd_6x8_avx2_nt)    \
    X(CHANNELS, F64, 4, 12, tconv_f64_fwd_4x12_avx2)                                \
    X_NT(CHANNELS, F64, 1, 16, tconv_f64_fwd_1x16_avx2, tconv_f64_fwd_1x16_avx2_nt) \
    X(PIXELS, F64, 8, 4, tconv_f64_fwd_px8x4_avx2)                                  \
    X(PIXELS, F64, 16, 2, tconv_f64_fwd_px16x2_avx2)                                \
    X(PIXELS, F64, 16, 1, tconv_f64_fwd_px16x1_avx2)                                \
    X(GEMM, F32, 6, 16, tconv_f32_bwdw_6x16_avx2)                                   \
    X(GEMM, F32, 4, 24, tconv_f32_bwdw_4x24_avx2)                                   \
    X(GEMM, F32, 12, 8, tconv_f32_bwdw_12x8_avx2)                                   \
    X(GEMM, F32, 3, 24, tconv_f32_bwdw_3x24_avx2)                                   \
    X(GEMM, F32, 4, 16, tconv_f32_bwdw_4x16_avx2)                                   \
    X(GEMM, F32, 8, 8, tconv_f32_bwdw_8x8_avx2)                                     \
    X(GEMM, F64, 6, 8, tconv_f64_bwdw_6x8_avx2)                                     \
    X(GEMM, F64, 4, 12, tconv_f64_bwdw_4x12_avx2)                                   \
    X(GEMM, F64, 12, 4, tconv_f64_bwdw_12x4_avx2)                                   \
    X(GEMM, F64, 3, 12, tconv_f64_bwdw_3x12_avx2)                                   \
    X(GEMM, F64, 4, 8, tconv_f64_bwdw_4x8_avx2)                                     \
    X(GEMM, F64, 8, 4, tconv_f64_bwdw_8x4_avx2)

TCONV_UKERNELS_AVX2(TCONV_UK_DECLARE, TCONV_UK_DECLARE_NT)

/* PHASES tiles (kernels/ukernel.h), X(DTYPE, S, MR, NR, fn), paired by
 * dispatch/select.c with the first PIXELS tile of their dtype and NR. */
#define TCONV_PHASES_AVX2(X) \
    X(F32, 2, 8, 3, tconv_f32_fwd_ph2x8x3_avx2)    \
    X(F32, 2, 8, 2, tconv_f32_fwd_ph2x8x2_avx2)    \
    X(F32, 2, 24, 1, tconv_f32_fwd_ph2x24x1_avx2)  \
    X(F32, 3, 8, 1, tconv_f32_fwd_ph3x8x1_avx2)    \
    X(F64, 2, 4, 2, tconv_f64_fwd_ph2x4x2_avx2)    \
    X(F64, 2, 12, 1, tconv_f64_fwd_ph2x12x1_avx2)  \
    X(F64, 3, 4, 1, tconv_f64_fwd_ph3x4x1_avx2)

TCONV_PHASES_AVX2(TCONV_UK_PHASES_DECLARE)

#endif
