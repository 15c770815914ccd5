/*
 * The scalar reference of all three passes: the oracle for every test and the
 * fallback path of the dispatcher. Written straight from the formulas in
 * include/tconv.h (gather form: every output element sums the terms that
 * reach it), accumulating in double whatever the storage type, for any data
 * and weight layout (through the strides in tconv_problem).
 *
 * Signatures use void pointers so that the functions fit the dispatcher's
 * pass tables directly; the pointers hold elements of p->dtype.
 */
#ifndef TCONV_KERNELS_REF_H
#define TCONV_KERNELS_REF_H

#include "kernels/activation.h"
#include "kernels/problem.h"

void tconv_ref_fwd_f32(const tconv_problem *p, const void *x, const void *w, const void *bias,
                       void *y);
void tconv_ref_bwd_data_f32(const tconv_problem *p, const void *dy, const void *w, void *dx);
void tconv_ref_bwd_weights_f32(const tconv_problem *p, const void *x, const void *dy, void *dw,
                               void *dbias);

void tconv_ref_fwd_f64(const tconv_problem *p, const void *x, const void *w, const void *bias,
                       void *y);
void tconv_ref_bwd_data_f64(const tconv_problem *p, const void *dy, const void *w, void *dx);
void tconv_ref_bwd_weights_f64(const tconv_problem *p, const void *x, const void *dy, void *dw,
                               void *dbias);

/*
 * The input coordinate that tap k of a filter contributes to output
 * coordinate o (o already shifted by the beginning crop, i.e. an index into
 * the uncropped output): i with i * stride + k * dil == o and 0 <= i < in,
 * or -1 when no input pixel reaches o through this tap.
 */
static inline int64_t tconv_ref_source(int64_t o, int64_t k, int64_t dil, int64_t stride,
                                       int64_t in)
{
    const int64_t t = o - k * dil;
    if (t < 0 || t % stride != 0) return -1;
    const int64_t i = t / stride;
    return i < in ? i : -1;
}

/* The output coordinate (cropped) that input i reaches through tap k, or -1
 * when it falls outside the output. */
static inline int64_t tconv_ref_target(int64_t i, int64_t k, int64_t dil, int64_t stride,
                                       int64_t crop_begin, int64_t out)
{
    const int64_t o = i * stride + k * dil - crop_begin;
    return o >= 0 && o < out ? o : -1;
}

#endif /* TCONV_KERNELS_REF_H */
