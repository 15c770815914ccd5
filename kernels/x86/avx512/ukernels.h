/*
 * The AVX-512F microkernels: forward CHANNELS and PIXELS tiles
 * (kernels/x86/avx512/fwd_f32.c, fwd_f64.c) and backward-weights GEMM tiles
 * (bwdw_f32.c, bwdw_f64.c), registered in tconv_ukernels_avx512 (table.c).
 */
#ifndef TCONV_KERNELS_X86_AVX512_UKERNELS_H
#define TCONV_KERNELS_X86_AVX512_UKERNELS_H

#include "kernels/template/ukernel_common.h"

TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_14x32_avx512);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_14x32_avx512_nt); /* its streaming-store twin */
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_6x64_avx512);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_6x64_avx512_nt); /* its streaming-store twin */
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_28x16_avx512);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_28x16_avx512_nt); /* its streaming-store twin */
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_8x32_avx512);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_8x32_avx512_nt); /* its streaming-store twin */
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_1x64_avx512);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_1x64_avx512_nt); /* its streaming-store twin */
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px32x4_avx512);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px64x3_avx512);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px32x3_avx512);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px16x8_avx512);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px64x2_avx512);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px64x1_avx512);

TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_14x16_avx512);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_14x16_avx512_nt); /* its streaming-store twin */
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_6x32_avx512);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_6x32_avx512_nt); /* its streaming-store twin */
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_8x16_avx512);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_8x16_avx512_nt); /* its streaming-store twin */
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_1x32_avx512);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_1x32_avx512_nt); /* its streaming-store twin */
TCONV_UK_FWD_PIXELS_PROTO(tconv_f64_fwd_px16x4_avx512);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f64_fwd_px32x3_avx512);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f64_fwd_px16x3_avx512);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f64_fwd_px8x8_avx512);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f64_fwd_px32x2_avx512);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f64_fwd_px32x1_avx512);

TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_12x32_avx512);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_6x64_avx512);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_8x48_avx512);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_8x32_avx512);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_9x32_avx512);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_28x16_avx512);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_16x16_avx512);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_12x16_avx512);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_12x16_avx512);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_6x32_avx512);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_8x24_avx512);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_8x16_avx512);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_9x16_avx512);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_28x8_avx512);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_16x8_avx512);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_12x8_avx512);

#endif
