/*
 * The portable C microkernels, each declared once (kernels/template/
 * ukernel_common.h): forward CHANNELS and PIXELS tiles (kernels/generic/
 * fwd_f32.c, fwd_f64.c) and backward-weights GEMM tiles (bwdw_f32.c,
 * bwdw_f64.c), in order of preference within each dtype and family:
 * dispatch/select.c (best_of) takes the earlier of two tiles whose scores
 * are within 5%, so the first is the default choice. The table
 * tconv_ukernels_scalar (table.c) and the prototypes below come from this list.
 */
#ifndef TCONV_KERNELS_GENERIC_UKERNELS_H
#define TCONV_KERNELS_GENERIC_UKERNELS_H

#include "kernels/template/ukernel_common.h"

#define TCONV_UKERNELS_SCALAR(X, X_NT) \
    X(CHANNELS, F32, 4, 8, tconv_f32_fwd_4x8_scalar) \
    X(CHANNELS, F32, 2, 4, tconv_f32_fwd_2x4_scalar) \
    X(CHANNELS, F32, 1, 8, tconv_f32_fwd_1x8_scalar) \
    X(PIXELS, F32, 8, 4, tconv_f32_fwd_px8x4_scalar) \
    X(PIXELS, F32, 8, 1, tconv_f32_fwd_px8x1_scalar) \
    X(CHANNELS, F64, 4, 8, tconv_f64_fwd_4x8_scalar) \
    X(CHANNELS, F64, 2, 4, tconv_f64_fwd_2x4_scalar) \
    X(CHANNELS, F64, 1, 8, tconv_f64_fwd_1x8_scalar) \
    X(PIXELS, F64, 8, 4, tconv_f64_fwd_px8x4_scalar) \
    X(PIXELS, F64, 8, 1, tconv_f64_fwd_px8x1_scalar) \
    X(GEMM, F32, 4, 8, tconv_f32_bwdw_4x8_scalar)    \
    X(GEMM, F32, 4, 4, tconv_f32_bwdw_4x4_scalar)    \
    X(GEMM, F32, 2, 2, tconv_f32_bwdw_2x2_scalar)    \
    X(GEMM, F32, 1, 1, tconv_f32_bwdw_1x1_scalar)    \
    X(GEMM, F64, 4, 8, tconv_f64_bwdw_4x8_scalar)    \
    X(GEMM, F64, 4, 4, tconv_f64_bwdw_4x4_scalar)    \
    X(GEMM, F64, 2, 2, tconv_f64_bwdw_2x2_scalar)    \
    X(GEMM, F64, 1, 1, tconv_f64_bwdw_1x1_scalar)

TCONV_UKERNELS_SCALAR(TCONV_UK_DECLARE, TCONV_UK_DECLARE_NT)

/* PHASES tiles (kernels/ukernel.h), X(DTYPE, S, MR, NR, fn), paired by
 * dispatch/select.c with the first PIXELS tile of their dtype and NR. */
#define TCONV_PHASES_SCALAR(X) \
    X(F32, 2, 2, 4, tconv_f32_fwd_ph2x2x4_scalar)  \
    X(F32, 2, 8, 1, tconv_f32_fwd_ph2x8x1_scalar)  \
    X(F32, 3, 2, 1, tconv_f32_fwd_ph3x2x1_scalar)  \
    X(F64, 2, 2, 4, tconv_f64_fwd_ph2x2x4_scalar)  \
    X(F64, 2, 8, 1, tconv_f64_fwd_ph2x8x1_scalar)  \
    X(F64, 3, 2, 1, tconv_f64_fwd_ph3x2x1_scalar)

TCONV_PHASES_SCALAR(TCONV_UK_PHASES_DECLARE)

#endif
