/*
 * Cache keys: the layer configuration a tuned choice is valid for, one key
 * per pass (tune/tuner.h).
 */
#include <stdio.h>

#include "dispatch/desc.h"
#include "tune/tuner.h"

/* Sizes up to 8 exactly; above, buckets of 2^k and 1.5 * 2^k (lower bound),
 * so 100 and 104 share one and 56 and 64 do not. */
static long long bucket(int64_t v)
{
    if (v <= 8) return (long long)v;
    int64_t b = 8;
    while (b * 2 <= v) b *= 2;
    return (long long)(v >= b + b / 2 ? b + b / 2 : b);
}

static long long mod(int64_t a, int64_t m)
{
    return (long long)(((a % m) + m) % m);
}

static const char *pass_name(tconv_pass pass)
{
    return pass == TCONV_PASS_BWD_DATA ? "bwd_data"
           : pass == TCONV_PASS_BWD_WEIGHTS ? "bwd_weights"
                                            : "fwd";
}

void tconv_tune_key(const tconv_desc *d, const tconv_problem *p, tconv_pass pass, tconv_isa isa,
                    int threads, char *buf, size_t n)
{
    /* The activation is applied by the forward pass only: the backward
     * passes compute the same thing whatever it is, so their keys leave it
     * out and one entry serves every activation. */
    char act[16] = "";
    if (pass == TCONV_PASS_FWD) snprintf(act, sizeof act, " act%d", (int)p->activation);
    snprintf(buf, n,
             "%s %s %s/%s c%lld f%lld g%lld k%lldx%lld s%lldx%lld d%lldx%lld "
             "phase%lld,%lld%s h~%lld w~%lld n~%lld isa=%s threads=%d",
             pass_name(pass), p->dtype == TCONV_F64 ? "f64" : "f32",
             tconv_layout_name(d->layout), tconv_weight_layout_name(d->weight_layout),
             (long long)p->channels, (long long)p->filters, (long long)p->groups,
             (long long)p->k_h, (long long)p->k_w, (long long)p->stride_h, (long long)p->stride_w,
             (long long)p->dil_h, (long long)p->dil_w, mod(p->crop_top, p->stride_h),
             mod(p->crop_left, p->stride_w), act, bucket(p->in_h), bucket(p->in_w),
             bucket(p->batch), tconv_isa_name(isa), threads);
}
