/*
 * The AArch64 NEON microkernels, in order of preference within each
 * dtype and family: dispatch/select.c (best_of) takes the earlier of two
 * tiles whose scores are within 5%, so the first is the default choice.
 */
#include <stddef.h>

#include "kernels/arm/neon/ukernels.h"

static const tconv_ukernel entries[] = {
    {"f32_fwd_12x8_neon", TCONV_F32, TCONV_UK_CHANNELS, 12, 8, tconv_f32_fwd_12x8_neon, NULL, NULL, NULL},
    {"f32_fwd_6x16_neon", TCONV_F32, TCONV_UK_CHANNELS, 6, 16, tconv_f32_fwd_6x16_neon, NULL, NULL, NULL},
    {"f32_fwd_8x8_neon", TCONV_F32, TCONV_UK_CHANNELS, 8, 8, tconv_f32_fwd_8x8_neon, NULL, NULL, NULL},
    {"f32_fwd_1x32_neon", TCONV_F32, TCONV_UK_CHANNELS, 1, 32, tconv_f32_fwd_1x32_neon, NULL, NULL, NULL},
    {"f32_fwd_px16x4_neon", TCONV_F32, TCONV_UK_PIXELS, 16, 4, NULL, tconv_f32_fwd_px16x4_neon, NULL, NULL},
    {"f32_fwd_px8x8_neon", TCONV_F32, TCONV_UK_PIXELS, 8, 8, NULL, tconv_f32_fwd_px8x8_neon, NULL, NULL},
    {"f32_fwd_px32x2_neon", TCONV_F32, TCONV_UK_PIXELS, 32, 2, NULL, tconv_f32_fwd_px32x2_neon, NULL, NULL},
    {"f32_fwd_px32x1_neon", TCONV_F32, TCONV_UK_PIXELS, 32, 1, NULL, tconv_f32_fwd_px32x1_neon, NULL, NULL},

    {"f64_fwd_6x8_neon", TCONV_F64, TCONV_UK_CHANNELS, 6, 8, tconv_f64_fwd_6x8_neon, NULL, NULL, NULL},
    {"f64_fwd_12x4_neon", TCONV_F64, TCONV_UK_CHANNELS, 12, 4, tconv_f64_fwd_12x4_neon, NULL, NULL, NULL},
    {"f64_fwd_8x4_neon", TCONV_F64, TCONV_UK_CHANNELS, 8, 4, tconv_f64_fwd_8x4_neon, NULL, NULL, NULL},
    {"f64_fwd_1x16_neon", TCONV_F64, TCONV_UK_CHANNELS, 1, 16, tconv_f64_fwd_1x16_neon, NULL, NULL, NULL},
    {"f64_fwd_px8x4_neon", TCONV_F64, TCONV_UK_PIXELS, 8, 4, NULL, tconv_f64_fwd_px8x4_neon, NULL, NULL},
    {"f64_fwd_px16x2_neon", TCONV_F64, TCONV_UK_PIXELS, 16, 2, NULL, tconv_f64_fwd_px16x2_neon, NULL, NULL},
    {"f64_fwd_px16x1_neon", TCONV_F64, TCONV_UK_PIXELS, 16, 1, NULL, tconv_f64_fwd_px16x1_neon, NULL, NULL},

    {"f32_bwdw_6x16_neon", TCONV_F32, TCONV_UK_GEMM, 6, 16, NULL, NULL, tconv_f32_bwdw_6x16_neon, NULL},
    {"f32_bwdw_12x8_neon", TCONV_F32, TCONV_UK_GEMM, 12, 8, NULL, NULL, tconv_f32_bwdw_12x8_neon, NULL},
    {"f32_bwdw_8x12_neon", TCONV_F32, TCONV_UK_GEMM, 8, 12, NULL, NULL, tconv_f32_bwdw_8x12_neon, NULL},
    {"f32_bwdw_24x4_neon", TCONV_F32, TCONV_UK_GEMM, 24, 4, NULL, NULL, tconv_f32_bwdw_24x4_neon, NULL},
    {"f32_bwdw_9x8_neon", TCONV_F32, TCONV_UK_GEMM, 9, 8, NULL, NULL, tconv_f32_bwdw_9x8_neon, NULL},
    {"f32_bwdw_8x8_neon", TCONV_F32, TCONV_UK_GEMM, 8, 8, NULL, NULL, tconv_f32_bwdw_8x8_neon, NULL},
    {"f32_bwdw_16x4_neon", TCONV_F32, TCONV_UK_GEMM, 16, 4, NULL, NULL, tconv_f32_bwdw_16x4_neon, NULL},
    {"f64_bwdw_6x8_neon", TCONV_F64, TCONV_UK_GEMM, 6, 8, NULL, NULL, tconv_f64_bwdw_6x8_neon, NULL},
    {"f64_bwdw_12x4_neon", TCONV_F64, TCONV_UK_GEMM, 12, 4, NULL, NULL, tconv_f64_bwdw_12x4_neon, NULL},
    {"f64_bwdw_8x6_neon", TCONV_F64, TCONV_UK_GEMM, 8, 6, NULL, NULL, tconv_f64_bwdw_8x6_neon, NULL},
    {"f64_bwdw_24x2_neon", TCONV_F64, TCONV_UK_GEMM, 24, 2, NULL, NULL, tconv_f64_bwdw_24x2_neon, NULL},
    {"f64_bwdw_9x4_neon", TCONV_F64, TCONV_UK_GEMM, 9, 4, NULL, NULL, tconv_f64_bwdw_9x4_neon, NULL},
    {"f64_bwdw_8x4_neon", TCONV_F64, TCONV_UK_GEMM, 8, 4, NULL, NULL, tconv_f64_bwdw_8x4_neon, NULL},
    {"f64_bwdw_16x2_neon", TCONV_F64, TCONV_UK_GEMM, 16, 2, NULL, NULL, tconv_f64_bwdw_16x2_neon, NULL},
};

const tconv_ukernel_table tconv_ukernels_neon = {
    "neon", entries, (int)(sizeof entries / sizeof entries[0])};
