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
const tconv_ukernel_table *tconv_select_table(tconv_isa isa);

/* How the forward pass of a problem runs: a microkernel and a driver mode. */
typedef struct tconv_fwd_choice {
    const tconv_ukernel *uk; /* NULL: no kernel (the reference runs) */
    tconv_fwd_mode mode;
    const tconv_uk_phases *ph; /* TCONV_FWD_PHASES: the tile that stands in for uk */
} tconv_fwd_choice;

/* The forward kernel and mode for p on isa: among the entries of p's dtype
 * of isa's table (and, on AVX-512, the AVX2 table after it) and the modes
 * each supports, the highest estimated share of the FMA peak (tile fill
 * times the family's measured efficiency); a later entry must beat an
 * earlier (preferred) one clearly. TCONV_FWD_KERNEL and TCONV_FWD_MODE
 * (gather|scatter|phases) force the kernel and the mode. */
tconv_fwd_choice tconv_select_fwd(const tconv_problem *p, tconv_isa isa);

/* Room for every candidate of the largest tables (two ISAs' kernels, two
 * modes each). */
#define TCONV_TUNE_MAX_CANDIDATES 64

/* The candidates the tuner measures for p on isa: the choice
 * tconv_select_fwd makes when nothing is forced first, then the
 * best-scored (kernel, mode) of each other (mode, family), then every
 * other one it weighed by score, highest first; at most max. */
int tconv_select_candidates(const tconv_problem *p, tconv_isa isa, tconv_fwd_choice *out, int max);

/* Whether TCONV_FWD_KERNEL or TCONV_FWD_MODE forces the choice (tuning then
 * stays out of the way). */
int tconv_select_forced(void);

/* The three passes, for the backward selection and tuning keys. */
typedef enum tconv_pass {
    TCONV_PASS_FWD = 0,
    TCONV_PASS_BWD_DATA = 1,
    TCONV_PASS_BWD_WEIGHTS = 2
} tconv_pass;

/* The microkernel a backward pass of p runs on isa (kernels/bwd_driver.h):
 * the highest estimated share of the peak among the entries of p's dtype
 * (CHANNELS only for backward-data); NULL when the ISA has none (the
 * reference runs). TCONV_BWD_DATA_KERNEL and TCONV_BWD_WEIGHTS_KERNEL force
 * a kernel by name (ignored when it is not a candidate). */
const tconv_ukernel *tconv_select_bwd(const tconv_problem *p, tconv_pass pass, tconv_isa isa);

/* The candidates of a backward pass for the tuner: tconv_select_bwd's
 * unforced choice first, then the best-scored of each other driver (in
 * place, filters as rows, packed CHANNELS or PIXELS; for backward-data
 * per family), then the others by score; at most max. */
int tconv_select_bwd_candidates(const tconv_problem *p, tconv_pass pass, tconv_isa isa,
                                const tconv_ukernel **out, int max);

/* Whether the environment forces the kernel of this backward pass. */
int tconv_select_bwd_forced(tconv_pass pass);

/* Whether the passes that get the weights per call run weight streaming
 * (kernels/wstream.h) for p on isa, and with which kernels: uks[0] the
 * forward GEMM tile, uks[1] the backward-data CHANNELS tile, uks[2] the
 * backward-weights GEMM tile. Yes for layers whose weights can be read in
 * place and whose batch holds few pixels, unless a kernel variable forces a
 * kernel; TCONV_WSTREAM=on (whenever the layout allows) or off overrides.
 * *bwd_weights says whether backward-weights streams too (fewer pixels
 * still; always when forced on). */
int tconv_select_wstream(const tconv_problem *p, tconv_isa isa, const tconv_ukernel *uks[3],
                         int *bwd_weights);

#endif /* TCONV_DISPATCH_SELECT_H */
