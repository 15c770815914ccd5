/*
 * The AArch64 NEON microkernels, each declared once (kernels/template/
 * ukernel_common.h): forward CHANNELS and PIXELS tiles (kernels/arm/neon/
 * fwd_f32.c, fwd_f64.c) and backward-weights GEMM tiles (bwdw_f32.c,
 * bwdw_f64.c), in order of preference within each dtype and family:
 * dispatch/select.c (best_of) takes the earlier of two tiles whose scores
 * are within 5%, so the first is the default choice. The table
 * tconv_ukernels_neon (table.c) and the prototypes below come from this list.
 */
#ifndef TCONV_KERNELS_ARM_NEON_UKERNELS_H
#define TCONV_KERNELS_ARM_NEON_UKERNELS_H

#include "kernels/template/ukernel_common.h"

#define TCONV_UKERNELS_NEON(X, X_NT) \
    X(CHANNELS, F32, 12, 8, tconv_f32_fwd_12x8_neon) \
    X(CHANNELS, F32, 6, 16, tconv_f32_fwd_6x16_neon) \
    X(CHANNELS, F32, 8, 8, tconv_f32_fwd_8x8_neon)   \
    X(CHANNELS, F32, 1, 32, tconv_f32_fwd_1x32_neon) \
    X(PIXELS, F32, 16, 4, tconv_f32_fwd_px16x4_neon) \
    X(PIXELS, F32, 8, 8, tconv_f32_fwd_px8x8_neon)   \
    X(PIXELS, F32, 32, 2, tconv_f32_fwd_px32x2_neon) \
    X(PIXELS, F32, 32, 1, tconv_f32_fwd_px32x1_neon) \
    X(CHANNELS, F64, 6, 8, tconv_f64_fwd_6x8_neon)   \
    X(CHANNELS, F64, 12, 4, tconv_f64_fwd_12x4_neon) \
    X(CHANNELS, F64, 8, 4, tconv_f64_fwd_8x4_neon)   \
    X(CHANNELS, F64, 1, 16, tconv_f64_fwd_1x16_neon) \
    X(PIXELS, F64, 8, 4, tconv_f64_fwd_px8x4_neon)   \
    X(PIXELS, F64, 16, 2, tconv_f64_fwd_px16x2_neon) \
    X(PIXELS, F64, 16, 1, tconv_f64_fwd_px16x1_neon) \
    X(GEMM, F32, 6, 16, tconv_f32_bwdw_6x16_neon)    \
    X(GEMM, F32, 12, 8, tconv_f32_bwdw_12x8_neon)    \
    X(GEMM, F32, 8, 12, tconv_f32_bwdw_8x12_neon)    \
    X(GEMM, F32, 24, 4, tconv_f32_bwdw_24x4_neon)    \
    X(GEMM, F32, 9, 8, tconv_f32_bwdw_9x8_neon)      \
    X(GEMM, F32, 8, 8, tconv_f32_bwdw_8x8_neon)      \
    X(GEMM, F32, 16, 4, tconv_f32_bwdw_16x4_neon)    \
    X(GEMM, F64, 6, 8, tconv_f64_bwdw_6x8_neon)      \
    X(GEMM, F64, 12, 4, tconv_f64_bwdw_12x4_neon)    \
    X(GEMM, F64, 8, 6, tconv_f64_bwdw_8x6_neon)      \
    X(GEMM, F64, 24, 2, tconv_f64_bwdw_24x2_neon)    \
    X(GEMM, F64, 9, 4, tconv_f64_bwdw_9x4_neon)      \
    X(GEMM, F64, 8, 4, tconv_f64_bwdw_8x4_neon)      \
    X(GEMM, F64, 16, 2, tconv_f64_bwdw_16x2_neon)

TCONV_UKERNELS_NEON(TCONV_UK_DECLARE, TCONV_UK_DECLARE_NT)

/* PHASES tiles (kernels/ukernel.h), X(DTYPE, S, MR, NR, fn), paired by
 * dispatch/select.c with the first PIXELS tile of their dtype and NR. */
#define TCONV_PHASES_NEON(X) \
    X(F32, 2, 4, 4, tconv_f32_fwd_ph2x4x4_neon)    \
    X(F32, 2, 8, 2, tconv_f32_fwd_ph2x8x2_neon)    \
    X(F32, 2, 16, 1, tconv_f32_fwd_ph2x16x1_neon)  \
    X(F32, 3, 8, 1, tconv_f32_fwd_ph3x8x1_neon)    \
    X(F64, 2, 2, 4, tconv_f64_fwd_ph2x2x4_neon)    \
    X(F64, 2, 4, 2, tconv_f64_fwd_ph2x4x2_neon)    \
    X(F64, 2, 8, 1, tconv_f64_fwd_ph2x8x1_neon)    \
    X(F64, 3, 4, 1, tconv_f64_fwd_ph3x4x1_neon)

TCONV_PHASES_NEON(TCONV_UK_PHASES_DECLARE)

#endif
