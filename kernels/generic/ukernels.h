/*
 * The portable C microkernels: forward CHANNELS and PIXELS tiles
 * (kernels/generic/fwd_f32.c, fwd_f64.c) and backward-weights GEMM tiles
 * (bwdw_f32.c, bwdw_f64.c), registered in tconv_ukernels_scalar (table.c).
 */
#ifndef TCONV_KERNELS_GENERIC_UKERNELS_H
#define TCONV_KERNELS_GENERIC_UKERNELS_H

#include "kernels/template/ukernel_common.h"

TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_4x8_scalar);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_2x4_scalar);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f32_fwd_1x8_scalar);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px8x4_scalar);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f32_fwd_px8x1_scalar);

TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_4x8_scalar);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_2x4_scalar);
TCONV_UK_FWD_CHANNELS_PROTO(tconv_f64_fwd_1x8_scalar);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f64_fwd_px8x4_scalar);
TCONV_UK_FWD_PIXELS_PROTO(tconv_f64_fwd_px8x1_scalar);

TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_4x8_scalar);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_4x4_scalar);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_2x2_scalar);
TCONV_UK_GEMM_PROTO(tconv_f32_bwdw_1x1_scalar);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_4x8_scalar);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_4x4_scalar);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_2x2_scalar);
TCONV_UK_GEMM_PROTO(tconv_f64_bwdw_1x1_scalar);

#endif
