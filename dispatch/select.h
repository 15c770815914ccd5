/*
 * What runs a problem: the only place that decides. Kernels never dispatch.
 */
#ifndef TCONV_DISPATCH_SELECT_H
#define TCONV_DISPATCH_SELECT_H

#include "kernels/impl.h"
#include "kernels/ukernel.h"

/* The scalar reference passes for p's dtype; never NULL. */
const tconv_impl *tconv_select_ref(const tconv_problem *p);

/* The kernel table built for isa, or NULL when this build has none. */
const tconv_fwd_ukernel_table *tconv_select_table(tconv_isa isa);

/* The forward microkernel for p on isa: among the table's entries of p's
 * dtype, the one whose tile is best filled by p (output channels per block,
 * pixels per tile); ties go to the earlier (preferred) entry. NULL when the
 * ISA has no table or no kernel of that dtype. */
const tconv_fwd_ukernel *tconv_select_fwd_ukernel(const tconv_problem *p, tconv_isa isa);

#endif /* TCONV_DISPATCH_SELECT_H */
