/*
 * The AVX2 + FMA microkernels: forward CHANNELS and PIXELS tiles
 * (kernels/x86/avx2/fwd_f32.c, fwd_f64.c) and backward-weights GEMM tiles
 * (bwdw_f32.c, bwdw_f64.c), registered in tconv_ukernels_avx2 (table.c).
 */
#ifndef TCONV_KERNELS_X86_AVX2_UKERNELS_H
#define TCONV_KERNELS_X86_AVX2_UKERNELS_H

#include "kernels/template/ukernel_common.h"

TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_6x16_avx2);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_6x16_avx2_nt); /* its streaming-store twin */
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_4x24_avx2); /* rows not whole lines: no _nt */
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_12x8_avx2); /* rows not whole lines: no _nt */
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_1x32_avx2);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_1x32_avx2_nt); /* its streaming-store twin */
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px16x4_avx2);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px16x3_avx2);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px8x8_avx2);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px32x2_avx2);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px32x1_avx2);

TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_6x8_avx2);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_6x8_avx2_nt); /* its streaming-store twin */
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_4x12_avx2); /* rows not whole lines: no _nt */
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_1x16_avx2);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_1x16_avx2_nt); /* its streaming-store twin */
TCONV_UK_FWD_PIXELS_PROTO(tconv_f64_fwd_px8x4_avx2);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f64_fwd_px16x2_avx2);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f64_fwd_px16x1_avx2);

TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_6x16_avx2);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_4x24_avx2);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_12x8_avx2);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_3x24_avx2);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_4x16_avx2);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_8x8_avx2);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_6x8_avx2);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_4x12_avx2);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_12x4_avx2);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_3x12_avx2);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_4x8_avx2);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_8x4_avx2);

#endif
