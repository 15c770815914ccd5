/*
 * The portable C microkernels, in order of preference within each
 * dtype and family: dispatch/select.c (best_of) takes the earlier of two
 * tiles whose scores are within 5%, so the first is the default choice.
 */
#include <stddef.h>

#include "kernels/generic/ukernels.h"

static const tconv_ukernel entries[] = {
    {"f32_fwd_4x8_scalar", TCONV_F32, TCONV_UK_CHANNELS, 4, 8, tconv_f32_fwd_4x8_scalar, NULL, NULL, NULL},
    {"f32_fwd_2x4_scalar", TCONV_F32, TCONV_UK_CHANNELS, 2, 4, tconv_f32_fwd_2x4_scalar, NULL, NULL, NULL},
    {"f32_fwd_1x8_scalar", TCONV_F32, TCONV_UK_CHANNELS, 1, 8, tconv_f32_fwd_1x8_scalar, NULL, NULL, NULL},
    {"f32_fwd_px8x4_scalar", TCONV_F32, TCONV_UK_PIXELS, 8, 4, NULL, tconv_f32_fwd_px8x4_scalar, NULL, NULL},
    {"f32_fwd_px8x1_scalar", TCONV_F32, TCONV_UK_PIXELS, 8, 1, NULL, tconv_f32_fwd_px8x1_scalar, NULL, NULL},

    {"f64_fwd_4x8_scalar", TCONV_F64, TCONV_UK_CHANNELS, 4, 8, tconv_f64_fwd_4x8_scalar, NULL, NULL, NULL},
    {"f64_fwd_2x4_scalar", TCONV_F64, TCONV_UK_CHANNELS, 2, 4, tconv_f64_fwd_2x4_scalar, NULL, NULL, NULL},
    {"f64_fwd_1x8_scalar", TCONV_F64, TCONV_UK_CHANNELS, 1, 8, tconv_f64_fwd_1x8_scalar, NULL, NULL, NULL},
    {"f64_fwd_px8x4_scalar", TCONV_F64, TCONV_UK_PIXELS, 8, 4, NULL, tconv_f64_fwd_px8x4_scalar, NULL, NULL},
    {"f64_fwd_px8x1_scalar", TCONV_F64, TCONV_UK_PIXELS, 8, 1, NULL, tconv_f64_fwd_px8x1_scalar, NULL, NULL},

    {"f32_bwdw_4x8_scalar", TCONV_F32, TCONV_UK_GEMM, 4, 8, NULL, NULL, tconv_f32_bwdw_4x8_scalar, NULL},
    {"f32_bwdw_4x4_scalar", TCONV_F32, TCONV_UK_GEMM, 4, 4, NULL, NULL, tconv_f32_bwdw_4x4_scalar, NULL},
    {"f32_bwdw_2x2_scalar", TCONV_F32, TCONV_UK_GEMM, 2, 2, NULL, NULL, tconv_f32_bwdw_2x2_scalar, NULL},
    {"f32_bwdw_1x1_scalar", TCONV_F32, TCONV_UK_GEMM, 1, 1, NULL, NULL, tconv_f32_bwdw_1x1_scalar, NULL},
    {"f64_bwdw_4x8_scalar", TCONV_F64, TCONV_UK_GEMM, 4, 8, NULL, NULL, tconv_f64_bwdw_4x8_scalar, NULL},
    {"f64_bwdw_4x4_scalar", TCONV_F64, TCONV_UK_GEMM, 4, 4, NULL, NULL, tconv_f64_bwdw_4x4_scalar, NULL},
    {"f64_bwdw_2x2_scalar", TCONV_F64, TCONV_UK_GEMM, 2, 2, NULL, NULL, tconv_f64_bwdw_2x2_scalar, NULL},
    {"f64_bwdw_1x1_scalar", TCONV_F64, TCONV_UK_GEMM, 1, 1, NULL, NULL, tconv_f64_bwdw_1x1_scalar, NULL},
};

const tconv_ukernel_table tconv_ukernels_scalar = {
    "scalar", entries, (int)(sizeof entries / sizeof entries[0])};
