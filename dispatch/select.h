/*
 * What runs a problem: the only place that decides. Kernels never dispatch.
 */
#ifndef TCONV_DISPATCH_SELECT_H
#define TCONV_DISPATCH_SELECT_H

#include "kernels/fwd_driver.h"
#include "kernels/impl.h"
#include "kernels/ukernel.h"

/* The scalar reference passes for p's dtype; never NULL. */
const tconv_impl *tconv_select_ref(const tconv_problem *p);

/* The kernel table built for isa, or NULL when this build has none. */
const tconv_fwd_ukernel_table *tconv_select_table(tconv_isa isa);

/* How the forward pass of a problem runs: a microkernel and a driver mode. */
typedef struct tconv_fwd_choice {
    const tconv_fwd_ukernel *uk; /* NULL: no kernel (the reference runs) */
    tconv_fwd_mode mode;
} tconv_fwd_choice;

/* The forward kernel and mode for p on isa: among the entries of p's dtype
 * of isa's table (and, on AVX-512, the AVX2 table after it) and the modes
 * each supports, the highest estimated share of the FMA peak (tile fill
 * times the family's measured efficiency); a later entry must beat an
 * earlier (preferred) one clearly. TCONV_FWD_KERNEL and TCONV_FWD_MODE
 * (gather|scatter) force the kernel and the mode. */
tconv_fwd_choice tconv_select_fwd(const tconv_problem *p, tconv_isa isa);

#endif /* TCONV_DISPATCH_SELECT_H */
