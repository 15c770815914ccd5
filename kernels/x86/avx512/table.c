/*
 * The AVX-512F microkernels, in order of preference within each
 * dtype and family: dispatch/select.c (best_of) takes the earlier of two
 * tiles whose scores are within 5%, so the first is the default choice.
 */
#include <stddef.h>

#include "kernels/x86/avx512/ukernels.h"

static const tconv_ukernel entries[] = {
    {"f32_fwd_8x32_avx512", TCONV_F32, TCONV_UK_CHANNELS, 8, 32, tconv_f32_fwd_8x32_avx512, NULL, NULL, tconv_f32_fwd_8x32_avx512_nt},
    {"f32_fwd_6x64_avx512", TCONV_F32, TCONV_UK_CHANNELS, 6, 64, tconv_f32_fwd_6x64_avx512, NULL, NULL, tconv_f32_fwd_6x64_avx512_nt},
    {"f32_fwd_14x32_avx512", TCONV_F32, TCONV_UK_CHANNELS, 14, 32, tconv_f32_fwd_14x32_avx512, NULL, NULL, tconv_f32_fwd_14x32_avx512_nt},
    {"f32_fwd_28x16_avx512", TCONV_F32, TCONV_UK_CHANNELS, 28, 16, tconv_f32_fwd_28x16_avx512, NULL, NULL, tconv_f32_fwd_28x16_avx512_nt},
    {"f32_fwd_1x64_avx512", TCONV_F32, TCONV_UK_CHANNELS, 1, 64, tconv_f32_fwd_1x64_avx512, NULL, NULL, tconv_f32_fwd_1x64_avx512_nt},
    {"f32_fwd_px32x4_avx512", TCONV_F32, TCONV_UK_PIXELS, 32, 4, NULL, tconv_f32_fwd_px32x4_avx512, NULL, NULL},
    {"f32_fwd_px64x3_avx512", TCONV_F32, TCONV_UK_PIXELS, 64, 3, NULL, tconv_f32_fwd_px64x3_avx512, NULL, NULL},
    {"f32_fwd_px32x3_avx512", TCONV_F32, TCONV_UK_PIXELS, 32, 3, NULL, tconv_f32_fwd_px32x3_avx512, NULL, NULL},
    {"f32_fwd_px16x8_avx512", TCONV_F32, TCONV_UK_PIXELS, 16, 8, NULL, tconv_f32_fwd_px16x8_avx512, NULL, NULL},
    {"f32_fwd_px64x2_avx512", TCONV_F32, TCONV_UK_PIXELS, 64, 2, NULL, tconv_f32_fwd_px64x2_avx512, NULL, NULL},
    {"f32_fwd_px64x1_avx512", TCONV_F32, TCONV_UK_PIXELS, 64, 1, NULL, tconv_f32_fwd_px64x1_avx512, NULL, NULL},

    {"f64_fwd_14x16_avx512", TCONV_F64, TCONV_UK_CHANNELS, 14, 16, tconv_f64_fwd_14x16_avx512, NULL, NULL, tconv_f64_fwd_14x16_avx512_nt},
    {"f64_fwd_6x32_avx512", TCONV_F64, TCONV_UK_CHANNELS, 6, 32, tconv_f64_fwd_6x32_avx512, NULL, NULL, tconv_f64_fwd_6x32_avx512_nt},
    {"f64_fwd_8x16_avx512", TCONV_F64, TCONV_UK_CHANNELS, 8, 16, tconv_f64_fwd_8x16_avx512, NULL, NULL, tconv_f64_fwd_8x16_avx512_nt},
    {"f64_fwd_1x32_avx512", TCONV_F64, TCONV_UK_CHANNELS, 1, 32, tconv_f64_fwd_1x32_avx512, NULL, NULL, tconv_f64_fwd_1x32_avx512_nt},
    {"f64_fwd_px16x4_avx512", TCONV_F64, TCONV_UK_PIXELS, 16, 4, NULL, tconv_f64_fwd_px16x4_avx512, NULL, NULL},
    {"f64_fwd_px32x3_avx512", TCONV_F64, TCONV_UK_PIXELS, 32, 3, NULL, tconv_f64_fwd_px32x3_avx512, NULL, NULL},
    {"f64_fwd_px16x3_avx512", TCONV_F64, TCONV_UK_PIXELS, 16, 3, NULL, tconv_f64_fwd_px16x3_avx512, NULL, NULL},
    {"f64_fwd_px8x8_avx512", TCONV_F64, TCONV_UK_PIXELS, 8, 8, NULL, tconv_f64_fwd_px8x8_avx512, NULL, NULL},
    {"f64_fwd_px32x2_avx512", TCONV_F64, TCONV_UK_PIXELS, 32, 2, NULL, tconv_f64_fwd_px32x2_avx512, NULL, NULL},
    {"f64_fwd_px32x1_avx512", TCONV_F64, TCONV_UK_PIXELS, 32, 1, NULL, tconv_f64_fwd_px32x1_avx512, NULL, NULL},

    {"f32_bwdw_12x32_avx512", TCONV_F32, TCONV_UK_GEMM, 12, 32, NULL, NULL, tconv_f32_bwdw_12x32_avx512, NULL},
    {"f32_bwdw_6x64_avx512", TCONV_F32, TCONV_UK_GEMM, 6, 64, NULL, NULL, tconv_f32_bwdw_6x64_avx512, NULL},
    {"f32_bwdw_8x48_avx512", TCONV_F32, TCONV_UK_GEMM, 8, 48, NULL, NULL, tconv_f32_bwdw_8x48_avx512, NULL},
    {"f32_bwdw_8x32_avx512", TCONV_F32, TCONV_UK_GEMM, 8, 32, NULL, NULL, tconv_f32_bwdw_8x32_avx512, NULL},
    {"f32_bwdw_9x32_avx512", TCONV_F32, TCONV_UK_GEMM, 9, 32, NULL, NULL, tconv_f32_bwdw_9x32_avx512, NULL},
    {"f32_bwdw_28x16_avx512", TCONV_F32, TCONV_UK_GEMM, 28, 16, NULL, NULL, tconv_f32_bwdw_28x16_avx512, NULL},
    {"f32_bwdw_16x16_avx512", TCONV_F32, TCONV_UK_GEMM, 16, 16, NULL, NULL, tconv_f32_bwdw_16x16_avx512, NULL},
    {"f32_bwdw_12x16_avx512", TCONV_F32, TCONV_UK_GEMM, 12, 16, NULL, NULL, tconv_f32_bwdw_12x16_avx512, NULL},
    {"f64_bwdw_12x16_avx512", TCONV_F64, TCONV_UK_GEMM, 12, 16, NULL, NULL, tconv_f64_bwdw_12x16_avx512, NULL},
    {"f64_bwdw_6x32_avx512", TCONV_F64, TCONV_UK_GEMM, 6, 32, NULL, NULL, tconv_f64_bwdw_6x32_avx512, NULL},
    {"f64_bwdw_8x24_avx512", TCONV_F64, TCONV_UK_GEMM, 8, 24, NULL, NULL, tconv_f64_bwdw_8x24_avx512, NULL},
    {"f64_bwdw_8x16_avx512", TCONV_F64, TCONV_UK_GEMM, 8, 16, NULL, NULL, tconv_f64_bwdw_8x16_avx512, NULL},
    {"f64_bwdw_9x16_avx512", TCONV_F64, TCONV_UK_GEMM, 9, 16, NULL, NULL, tconv_f64_bwdw_9x16_avx512, NULL},
    {"f64_bwdw_28x8_avx512", TCONV_F64, TCONV_UK_GEMM, 28, 8, NULL, NULL, tconv_f64_bwdw_28x8_avx512, NULL},
    {"f64_bwdw_16x8_avx512", TCONV_F64, TCONV_UK_GEMM, 16, 8, NULL, NULL, tconv_f64_bwdw_16x8_avx512, NULL},
    {"f64_bwdw_12x8_avx512", TCONV_F64, TCONV_UK_GEMM, 12, 8, NULL, NULL, tconv_f64_bwdw_12x8_avx512, NULL},
};

const tconv_ukernel_table tconv_ukernels_avx512 = {
    "avx512", entries, (int)(sizeof entries / sizeof entries[0])};
