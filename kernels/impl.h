/*
 * An implementation of the three passes, as the dispatcher selects it. The
 * reference fills one per dtype; SIMD kernels add their own per ISA. The
 * pointers hold elements of the problem's dtype.
 */
#ifndef TCONV_KERNELS_IMPL_H
#define TCONV_KERNELS_IMPL_H

#include "kernels/problem.h"

typedef void (*tconv_fwd_fn)(const tconv_problem *p, const void *x, const void *w,
                             const void *bias, void *y);
typedef void (*tconv_bwd_data_fn)(const tconv_problem *p, const void *dy, const void *w,
                                  void *dx);
typedef void (*tconv_bwd_weights_fn)(const tconv_problem *p, const void *x, const void *dy,
                                     void *dw, void *dbias);

typedef struct tconv_impl {
    const char *name; /* shown by tconv_plan_info, e.g. "ref" */
    tconv_fwd_fn fwd;
    tconv_bwd_data_fn bwd_data;
    tconv_bwd_weights_fn bwd_weights;
} tconv_impl;

#endif /* TCONV_KERNELS_IMPL_H */
