/*
 * One element of a tconv_dtype buffer: its size, and reading or writing it
 * as double; copies of runs of them; the stride of a buffer's rows. For
 * packing, initialization and edges, not for inner loops.
 */
#ifndef TCONV_KERNELS_ELEM_H
#define TCONV_KERNELS_ELEM_H

#include <stdint.h>
#include <string.h>

#include "tconv.h"

static inline int64_t tconv_dtype_size(tconv_dtype t) { return t == TCONV_F64 ? 8 : 4; }

/* The element stride of rows of at least `elems` elements of esize bytes
 * that a tile reads down a column (one line per row): whole cache lines,
 * an odd number of them, so that the rows do not all fall into the same L1
 * sets as rows of 2^k elements would (pix2pix 128->3's 64 KiB planes, read
 * in place, ran ~1.7x slower on an AMD EPYC). */
static inline int64_t tconv_odd_lines_stride(int64_t elems, int64_t esize)
{
    const int64_t line = 64 / esize;
    int64_t stride = (elems + line - 1) / line * line;
    if (stride / line % 2 == 0) stride += line;
    return stride;
}

static inline double tconv_elem_load(tconv_dtype t, const void *base, int64_t i)
{
    return t == TCONV_F64 ? ((const double *)base)[i] : (double)((const float *)base)[i];
}

static inline void tconv_elem_store(tconv_dtype t, void *base, int64_t i, double v)
{
    if (t == TCONV_F64) ((double *)base)[i] = v;
    else ((float *)base)[i] = (float)v;
}

/* dst[i * dst_stride] = src[i * src_stride] for i < count, elements of
 * esize bytes (strides in elements). Contiguous runs become memcpy: the
 * layout edges copy whole runs this way, never one element at a time
 * through a dtype switch. */
static inline void tconv_copy_run(int64_t esize, char *dst, int64_t dst_stride, const char *src,
                                  int64_t src_stride, int64_t count)
{
    if (dst_stride == 1 && src_stride == 1) {
        memcpy(dst, src, (size_t)(count * esize));
    } else if (esize == 8) {
        double *o = (double *)dst;
        const double *i = (const double *)src;
        for (int64_t k = 0; k < count; k++) o[k * dst_stride] = i[k * src_stride];
    } else {
        float *o = (float *)dst;
        const float *i = (const float *)src;
        for (int64_t k = 0; k < count; k++) o[k * dst_stride] = i[k * src_stride];
    }
}

#endif /* TCONV_KERNELS_ELEM_H */
