#include "dispatch/select.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ref/ref.h"
#include "tconv.h"

static const tconv_impl ref_f32 = {
    "ref", tconv_ref_fwd_f32, tconv_ref_bwd_data_f32, tconv_ref_bwd_weights_f32};
static const tconv_impl ref_f64 = {
    "ref", tconv_ref_fwd_f64, tconv_ref_bwd_data_f64, tconv_ref_bwd_weights_f64};

const tconv_impl *tconv_select_ref(const tconv_problem *p)
{
    return p->dtype == TCONV_F64 ? &ref_f64 : &ref_f32;
}

const tconv_fwd_ukernel_table *tconv_select_table(tconv_isa isa)
{
    switch (isa) {
#if TCONV_HAVE_SCALAR
    case TCONV_ISA_SCALAR: return &tconv_fwd_ukernels_scalar;
#endif
#if TCONV_HAVE_AVX2
    case TCONV_ISA_AVX2: return &tconv_fwd_ukernels_avx2;
#endif
#if TCONV_HAVE_AVX512
    case TCONV_ISA_AVX512: return &tconv_fwd_ukernels_avx512;
#endif
#if TCONV_HAVE_NEON
    case TCONV_ISA_NEON: return &tconv_fwd_ukernels_neon;
#endif
    default: return NULL;
    }
}

/* The share of a tile's lanes doing useful work: used / (ceil(used/size)*size). */
static double fill(int64_t used, int64_t size)
{
    const int64_t tiles = (used + size - 1) / size;
    return (double)used / (double)(tiles * size);
}

static double score(const tconv_fwd_ukernel *k, const tconv_problem *p)
{
    const double channels = fill(p->fg, k->nr);
    /* CHANNELS tiles run over all pixels of a phase (across images); PIXELS
     * tiles over one row of a phase, about in_w pixels wide. A 1x1 input at
     * batch 1 has one pixel per tap position: every tile is one pixel. */
    const int64_t pixels = k->family == TCONV_UK_PIXELS ? p->in_w
                           : p->in_h * p->in_w == 1 ? p->batch
                                                    : p->batch * p->in_h * p->in_w;
    /* A CHANNELS tile of fewer than 4 pixels does one weight-vector load per
     * few FMAs: bound by loads, worth it only when taller tiles would compute
     * rows that are thrown away. */
    const double intrinsic =
        k->family == TCONV_UK_CHANNELS && k->mr < 4 ? (double)k->mr / 4.0 : 1.0;
    return channels * fill(pixels, k->mr) * intrinsic;
}

const char *tconv_kernel_name(tconv_isa isa, int index)
{
    const tconv_fwd_ukernel_table *t = tconv_select_table(isa);
    return t && index >= 0 && index < t->count ? t->entries[index].name : NULL;
}

const tconv_fwd_ukernel *tconv_select_fwd_ukernel(const tconv_problem *p, tconv_isa isa)
{
    const tconv_fwd_ukernel_table *t = tconv_select_table(isa);
    if (!t) return NULL;
    const char *forced = getenv("TCONV_FWD_KERNEL");
    if (forced && *forced)
        for (int i = 0; i < t->count; i++)
            if (t->entries[i].dtype == p->dtype && strcmp(t->entries[i].name, forced) == 0)
                return &t->entries[i];
    const tconv_fwd_ukernel *best = NULL;
    double best_score = 0.0;
    for (int i = 0; i < t->count; i++) {
        const tconv_fwd_ukernel *k = &t->entries[i];
        if (k->dtype != p->dtype) continue;
        const double s = score(k, p);
        /* a later entry must be clearly better to beat a preferred one */
        if (!best || s > best_score * 1.05) {
            best = k;
            best_score = s;
        }
    }
    return best;
}
