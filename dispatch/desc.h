/*
 * Validation of a tconv_desc and its translation into the tconv_problem the
 * kernels read. Shared by tconv_desc_* (desc.c), the crop helpers (crop.c)
 * and plan creation (api/plan.c).
 */
#ifndef TCONV_DISPATCH_DESC_H
#define TCONV_DISPATCH_DESC_H

#include "kernels/elem.h"
#include "kernels/problem.h"
#include "tconv.h"

/* Validates everything and fills p. On failure records the message and
 * returns the status; p is then unspecified. */
tconv_status tconv_problem_from_desc(const tconv_desc *d, tconv_problem *p);

/* Checks one spatial dimension's in/filter/stride/dilation (dim is "h" or
 * "w", used in messages as in_h, filter_h, ...) and computes the effective
 * kernel extent and the uncropped output size. */
tconv_status tconv_dim_full_size(const char *dim, int64_t in, int64_t k, int64_t stride,
                                 int64_t dil, int64_t *k_eff, int64_t *full);

/* "NCHW", "NHWC", "SSCB"; "W_IOHW", "W_OHWI", "W_MATLAB" ("?" for other
 * values): the names plan info and tuning-cache keys print. */
const char *tconv_layout_name(tconv_layout l);
const char *tconv_weight_layout_name(tconv_weight_layout l);

#endif /* TCONV_DISPATCH_DESC_H */
