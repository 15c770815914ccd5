/*
 * The AArch64 NEON microkernels: forward CHANNELS and PIXELS tiles
 * (kernels/arm/neon/fwd_f32.c, fwd_f64.c) and backward-weights GEMM tiles
 * (bwdw_f32.c, bwdw_f64.c), registered in tconv_ukernels_neon (table.c).
 */
#ifndef TCONV_KERNELS_ARM_NEON_UKERNELS_H
#define TCONV_KERNELS_ARM_NEON_UKERNELS_H

#include "kernels/template/ukernel_common.h"

TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_12x8_neon);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_6x16_neon);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_8x8_neon);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_1x32_neon);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px16x4_neon);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px8x8_neon);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px32x2_neon);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px32x1_neon);

TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_6x8_neon);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_12x4_neon);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_8x4_neon);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_1x16_neon);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f64_fwd_px8x4_neon);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f64_fwd_px16x2_neon);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f64_fwd_px16x1_neon);

TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_6x16_neon);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_12x8_neon);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_8x12_neon);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_24x4_neon);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_9x8_neon);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_8x8_neon);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_16x4_neon);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_6x8_neon);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_12x4_neon);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_8x6_neon);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_24x2_neon);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_9x4_neon);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_8x4_neon);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_16x2_neon);

#endif
