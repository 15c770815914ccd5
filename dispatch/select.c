#include "dispatch/select.h"

#include "kernels/ref/ref.h"
#include "tconv.h"

static const tconv_impl ref_f32 = {
    "ref", tconv_ref_fwd_f32, tconv_ref_bwd_data_f32, tconv_ref_bwd_weights_f32};
static const tconv_impl ref_f64 = {
    "ref", tconv_ref_fwd_f64, tconv_ref_bwd_data_f64, tconv_ref_bwd_weights_f64};

const tconv_impl *tconv_select_impl(const tconv_problem *p, unsigned flags)
{
    /* Only the scalar reference exists so far, so TCONV_PLAN_REFERENCE and
     * the default choose the same; SIMD kernels are selected here first. */
    (void)flags;
    return p->dtype == TCONV_F64 ? &ref_f64 : &ref_f32;
}
