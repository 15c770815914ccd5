/*
 * Which implementation runs a problem. Only dispatch/ decides; kernels never
 * dispatch.
 */
#ifndef TCONV_DISPATCH_SELECT_H
#define TCONV_DISPATCH_SELECT_H

#include "kernels/impl.h"

/* The implementation for p under the plan flags; never NULL. */
const tconv_impl *tconv_select_impl(const tconv_problem *p, unsigned flags);

#endif /* TCONV_DISPATCH_SELECT_H */
