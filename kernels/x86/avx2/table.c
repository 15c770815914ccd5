/*
 * The AVX2 + FMA microkernels, in order of preference within each
 * dtype and family: dispatch/select.c (best_of) takes the earlier of two
 * tiles whose scores are within 5%, so the first is the default choice.
 */
#include <stddef.h>

#include "kernels/x86/avx2/ukernels.h"

static const tconv_ukernel entries[] = {
    {"f32_fwd_6x16_avx2", TCONV_F32, TCONV_UK_CHANNELS, 6, 16, tconv_f32_fwd_6x16_avx2, NULL, NULL, tconv_f32_fwd_6x16_avx2_nt},
    {"f32_fwd_4x24_avx2", TCONV_F32, TCONV_UK_CHANNELS, 4, 24, tconv_f32_fwd_4x24_avx2, NULL, NULL, NULL},
    {"f32_fwd_12x8_avx2", TCONV_F32, TCONV_UK_CHANNELS, 12, 8, tconv_f32_fwd_12x8_avx2, NULL, NULL, NULL},
    {"f32_fwd_1x32_avx2", TCONV_F32, TCONV_UK_CHANNELS, 1, 32, tconv_f32_fwd_1x32_avx2, NULL, NULL, tconv_f32_fwd_1x32_avx2_nt},
    {"f32_fwd_px16x4_avx2", TCONV_F32, TCONV_UK_PIXELS, 16, 4, NULL, tconv_f32_fwd_px16x4_avx2, NULL, NULL},
    {"f32_fwd_px16x3_avx2", TCONV_F32, TCONV_UK_PIXELS, 16, 3, NULL, tconv_f32_fwd_px16x3_avx2, NULL, NULL},
    {"f32_fwd_px8x8_avx2", TCONV_F32, TCONV_UK_PIXELS, 8, 8, NULL, tconv_f32_fwd_px8x8_avx2, NULL, NULL},
    {"f32_fwd_px32x2_avx2", TCONV_F32, TCONV_UK_PIXELS, 32, 2, NULL, tconv_f32_fwd_px32x2_avx2, NULL, NULL},
    {"f32_fwd_px32x1_avx2", TCONV_F32, TCONV_UK_PIXELS, 32, 1, NULL, tconv_f32_fwd_px32x1_avx2, NULL, NULL},

    {"f64_fwd_6x8_avx2", TCONV_F64, TCONV_UK_CHANNELS, 6, 8, tconv_f64_fwd_6x8_avx2, NULL, NULL, tconv_f64_fwd_6x8_avx2_nt},
    {"f64_fwd_4x12_avx2", TCONV_F64, TCONV_UK_CHANNELS, 4, 12, tconv_f64_fwd_4x12_avx2, NULL, NULL, NULL},
    {"f64_fwd_1x16_avx2", TCONV_F64, TCONV_UK_CHANNELS, 1, 16, tconv_f64_fwd_1x16_avx2, NULL, NULL, tconv_f64_fwd_1x16_avx2_nt},
    {"f64_fwd_px8x4_avx2", TCONV_F64, TCONV_UK_PIXELS, 8, 4, NULL, tconv_f64_fwd_px8x4_avx2, NULL, NULL},
    {"f64_fwd_px16x2_avx2", TCONV_F64, TCONV_UK_PIXELS, 16, 2, NULL, tconv_f64_fwd_px16x2_avx2, NULL, NULL},
    {"f64_fwd_px16x1_avx2", TCONV_F64, TCONV_UK_PIXELS, 16, 1, NULL, tconv_f64_fwd_px16x1_avx2, NULL, NULL},

    {"f32_bwdw_6x16_avx2", TCONV_F32, TCONV_UK_GEMM, 6, 16, NULL, NULL, tconv_f32_bwdw_6x16_avx2, NULL},
    {"f32_bwdw_4x24_avx2", TCONV_F32, TCONV_UK_GEMM, 4, 24, NULL, NULL, tconv_f32_bwdw_4x24_avx2, NULL},
    {"f32_bwdw_12x8_avx2", TCONV_F32, TCONV_UK_GEMM, 12, 8, NULL, NULL, tconv_f32_bwdw_12x8_avx2, NULL},
    {"f32_bwdw_3x24_avx2", TCONV_F32, TCONV_UK_GEMM, 3, 24, NULL, NULL, tconv_f32_bwdw_3x24_avx2, NULL},
    {"f32_bwdw_4x16_avx2", TCONV_F32, TCONV_UK_GEMM, 4, 16, NULL, NULL, tconv_f32_bwdw_4x16_avx2, NULL},
    {"f32_bwdw_8x8_avx2", TCONV_F32, TCONV_UK_GEMM, 8, 8, NULL, NULL, tconv_f32_bwdw_8x8_avx2, NULL},
    {"f64_bwdw_6x8_avx2", TCONV_F64, TCONV_UK_GEMM, 6, 8, NULL, NULL, tconv_f64_bwdw_6x8_avx2, NULL},
    {"f64_bwdw_4x12_avx2", TCONV_F64, TCONV_UK_GEMM, 4, 12, NULL, NULL, tconv_f64_bwdw_4x12_avx2, NULL},
    {"f64_bwdw_12x4_avx2", TCONV_F64, TCONV_UK_GEMM, 12, 4, NULL, NULL, tconv_f64_bwdw_12x4_avx2, NULL},
    {"f64_bwdw_3x12_avx2", TCONV_F64, TCONV_UK_GEMM, 3, 12, NULL, NULL, tconv_f64_bwdw_3x12_avx2, NULL},
    {"f64_bwdw_4x8_avx2", TCONV_F64, TCONV_UK_GEMM, 4, 8, NULL, NULL, tconv_f64_bwdw_4x8_avx2, NULL},
    {"f64_bwdw_8x4_avx2", TCONV_F64, TCONV_UK_GEMM, 8, 4, NULL, NULL, tconv_f64_bwdw_8x4_avx2, NULL},
};

const tconv_ukernel_table tconv_ukernels_avx2 = {
    "avx2", entries, (int)(sizeof entries / sizeof entries[0])};
