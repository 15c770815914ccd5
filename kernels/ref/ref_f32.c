/* The scalar reference passes for float storage (body in ref_passes.inc). */
#include "kernels/ref/ref.h"

#define REF_T float
#define REF_FWD tconv_ref_fwd_f32
#define REF_BWD_DATA tconv_ref_bwd_data_f32
#define REF_BWD_WEIGHTS tconv_ref_bwd_weights_f32
#include "kernels/ref/ref_passes.inc"
