/*
 * One element of a tconv_dtype buffer: its size, and reading or writing it
 * as double. For packing, initialization and edges, not for inner loops.
 */
#ifndef TCONV_KERNELS_ELEM_H
#define TCONV_KERNELS_ELEM_H

#include <stdint.h>

#include "tconv.h"

static inline int64_t tconv_dtype_size(tconv_dtype t) { return t == TCONV_F64 ? 8 : 4; }

static inline double tconv_elem_load(tconv_dtype t, const void *base, int64_t i)
{
    return t == TCONV_F64 ? ((const double *)base)[i] : (double)((const float *)base)[i];
}

static inline void tconv_elem_store(tconv_dtype t, void *base, int64_t i, double v)
{
    if (t == TCONV_F64) ((double *)base)[i] = v;
    else ((float *)base)[i] = (float)v;
}

#endif /* TCONV_KERNELS_ELEM_H */
