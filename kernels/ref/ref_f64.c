/* The scalar reference passes for double storage (body in ref_passes.inc). */
#include "kernels/ref/ref.h"

#define REF_T double
#define REF_FWD tconv_ref_fwd_f64
#define REF_BWD_DATA tconv_ref_bwd_data_f64
#define REF_BWD_WEIGHTS tconv_ref_bwd_weights_f64
#include "kernels/ref/ref_passes.inc"
