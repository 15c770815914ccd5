/*
 * The AVX-512F microkernels, each declared once (kernels/template/
 * ukernel_common.h): forward CHANNELS and PIXELS tiles (kernels/x86/avx512/
 * fwd_f32.c, fwd_f64.c) and backward-weights GEMM tiles (bwdw_f32.c,
 * bwdw_f64.c), in order of preference within each dtype and family:
 * dispatch/select.c (best_of) takes the earlier of two tiles whose scores
 * are within 5%, so the first is the default choice. The table
 * tconv_ukernels_avx512 (table.c) and the prototypes below come from this list.
 */
#ifndef TCONV_KERNELS_X86_AVX512_UKERNELS_H
#define TCONV_KERNELS_X86_AVX512_UKERNELS_H

#include "kernels/template/ukernel_common.h"

#define TCONV_UKERNELS_AVX512(X, X_NT) \
    X_NT(CHANNELS, F32, 8, 32, tconv_f32_fwd_8x32_avx512, tconv_f32_fwd_8x32_avx512_nt)    \
    X_NT(CHANNELS, F32, 6, 64, tconv_f32_fwd_6x64_avx512, tconv_f32_fwd_6x64_avx512_nt)    \
    X_NT(CHANNELS, F32, 14, 32, tconv_f32_fwd_14x32_avx512, tconv_f32_fwd_14x32_avx512_nt) \
    X_NT(CHANNELS, F32, 28, 16, tconv_f32_fwd_28x16_avx512, tconv_f32_fwd_28x16_avx512_nt) \
    X_NT(CHANNELS, F32, 1, 64, tconv_f32_fwd_1x64_avx512, tconv_f32_fwd_1x64_avx512_nt)    \
    X(PIXELS, F32, 32, 4, tconv_f32_fwd_px32x4_avx512)                                     \
    X(PIXELS, F32, 64, 3, tconv_f32_fwd_px64x3_avx512)                                     \
    X(PIXELS, F32, 32, 3, tconv_f32_fwd_px32x3_avx512)                                     \
    X(PIXELS, F32, 16, 8, tconv_f32_fwd_px16x8_avx512)                                     \
    X(PIXELS, F32, 64, 2, tconv_f32_fwd_px64x2_avx512)                                     \
    X(PIXELS, F32, 64, 1, tconv_f32_fwd_px64x1_avx512)                                     \
    X_NT(CHANNELS, F64, 14, 16, tconv_f64_fwd_14x16_avx512, tconv_f64_fwd_14x16_avx512_nt) \
    X_NT(CHANNELS, F64, 6, 32, tconv_f64_fwd_6x32_avx512, tconv_f64_fwd_6x32_avx512_nt)    \
    X_NT(CHANNELS, F64, 8, 16, tconv_f64_fwd_8x16_avx512, tconv_f64_fwd_8x16_avx512_nt)    \
    X_NT(CHANNELS, F64, 1, 32, tconv_f64_fwd_1x32_avx512, tconv_f64_fwd_1x32_avx512_nt)    \
    X(PIXELS, F64, 16, 4, tconv_f64_fwd_px16x4_avx512)                                     \
    X(PIXELS, F64, 32, 3, tconv_f64_fwd_px32x3_avx512)                                     \
    X(PIXELS, F64, 16, 3, tconv_f64_fwd_px16x3_avx512)                                     \
    X(PIXELS, F64, 8, 8, tconv_f64_fwd_px8x8_avx512)                                       \
    X(PIXELS, F64, 32, 2, tconv_f64_fwd_px32x2_avx512)                                     \
    X(PIXELS, F64, 32, 1, tconv_f64_fwd_px32x1_avx512)                                     \
    X(GEMM, F32, 12, 32, tconv_f32_bwdw_12x32_avx512)                                      \
    X(GEMM, F32, 6, 64, tconv_f32_bwdw_6x64_avx512)                                        \
    X(GEMM, F32, 8, 48, tconv_f32_bwdw_8x48_avx512)                                        \
    X(GEMM, F32, 8, 32, tconv_f32_bwdw_8x32_avx512)                                        \
    X(GEMM, F32, 9, 32, tconv_f32_bwdw_9x32_avx512)                                        \
    X(GEMM, F32, 28, 16, tconv_f32_bwdw_28x16_avx512)                                      \
    X(GEMM, F32, 16, 16, tconv_f32_bwdw_16x16_avx512)                                      \
    X(GEMM, F32, 12, 16, tconv_f32_bwdw_12x16_avx512)                                      \
    X(GEMM, F64, 12, 16, tconv_f64_bwdw_12x16_avx512)                                      \
    X(GEMM, F64, 6, 32, tconv_f64_bwdw_6x32_avx512)                                        \
    X(GEMM, F64, 8, 24, tconv_f64_bwdw_8x24_avx512)                                        \
    X(GEMM, F64, 8, 16, tconv_f64_bwdw_8x16_avx512)                                        \
    X(GEMM, F64, 9, 16, tconv_f64_bwdw_9x16_avx512)                                        \
    X(GEMM, F64, 28, 8, tconv_f64_bwdw_28x8_avx512)                                        \
    X(GEMM, F64, 16, 8, tconv_f64_bwdw_16x8_avx512)                                        \
    X(GEMM, F64, 12, 8, tconv_f64_bwdw_12x8_avx512)

TCONV_UKERNELS_AVX512(TCONV_UK_DECLARE, TCONV_UK_DECLARE_NT)

/* PHASES tiles (kernels/ukernel.h), X(DTYPE, S, MR, NR, fn), paired by
 * dispatch/select.c with the first PIXELS tile of their dtype and NR. */
#define TCONV_PHASES_AVX512(X) \
    X(F32, 2, 16, 4, tconv_f32_fwd_ph2x16x4_avx512)  \
    X(F32, 2, 32, 3, tconv_f32_fwd_ph2x32x3_avx512)  \
    X(F32, 2, 32, 2, tconv_f32_fwd_ph2x32x2_avx512)  \
    X(F32, 2, 64, 1, tconv_f32_fwd_ph2x64x1_avx512)  \
    X(F32, 3, 32, 1, tconv_f32_fwd_ph3x32x1_avx512)  \
    X(F64, 2, 8, 4, tconv_f64_fwd_ph2x8x4_avx512)    \
    X(F64, 2, 16, 3, tconv_f64_fwd_ph2x16x3_avx512)  \
    X(F64, 2, 16, 2, tconv_f64_fwd_ph2x16x2_avx512)  \
    X(F64, 2, 32, 1, tconv_f64_fwd_ph2x32x1_avx512)  \
    X(F64, 3, 16, 1, tconv_f64_fwd_ph3x16x1_avx512)

TCONV_PHASES_AVX512(TCONV_UK_PHASES_DECLARE)

#endif
