/*
 * The autotuner: measures candidate choices for a problem on this host,
 * verifies each against the reference, and keeps the fastest in the
 * per-host cache (tune/cache.c) under a key that describes the layer
 * configuration and the pass.
 *
 * The forward pass (tune/tuner.c) chooses a (microkernel, driver mode)
 * among those dispatch/select.c scores; each backward pass
 * (tune/tuner_bwd.c) chooses the forward microkernel its driver runs among
 * tconv_select_bwd_candidates. So a tuned plan runs exactly what an untuned
 * plan might have chosen; only the ranking comes from measurements instead
 * of estimates. The timing loop they share is tune/measure.c.
 */
#ifndef TCONV_TUNE_TUNER_H
#define TCONV_TUNE_TUNER_H

#include <stddef.h>

#include "dispatch/select.h"
#include "tconv.h"

/* The cache key of pass `pass` of p (from desc d) on isa with `threads`
 * threads: the pass, dtype, layouts, channels, filters, groups, filter
 * size, stride, dilation, crops as phase offsets, the activation (forward
 * only), and the spatial size and batch in buckets (so near sizes share an
 * entry). */
void tconv_tune_key(const tconv_desc *d, const tconv_problem *p, tconv_pass pass, tconv_isa isa,
                    int threads, char *buf, size_t n);

/* ---- the forward pass (tune/tuner.c) ------------------------------------ */

/* A choice as a cache value ("kernel=f32_fwd_14x32_avx512 mode=gather"),
 * and back: 0 when the value names no kernel of isa's tables for p's dtype
 * or a mode that kernel cannot run (a stale or hand-edited entry). */
void tconv_tune_encode(const tconv_fwd_choice *c, char *buf, size_t n);
int tconv_tune_decode(const char *value, const tconv_problem *p, tconv_isa isa,
                      tconv_fwd_choice *out);

/* Measures the forward candidates for p on isa (tconv_tune_pick) and
 * returns the fastest verified one in *best with its GFLOP/s; *measured
 * counts the candidates tried. TCONV_ENOMEM when buffers cannot be
 * allocated, TCONV_EUNSUPPORTED when no candidate could run. */
tconv_status tconv_tune_measure(const tconv_problem *p, tconv_isa isa, int exhaustive,
                                double budget_s, tconv_fwd_choice *best, double *gflops,
                                int *measured);

/* ---- the backward passes (tune/tuner_bwd.c) ----------------------------- */

/* A backward choice as a cache value ("kernel=f32_fwd_8x32_avx512"), and
 * back: 0 when the value names no candidate of `pass` for p on isa (a
 * kernel of another ISA or dtype, a PIXELS kernel for backward-data, or
 * text that is not such a value). */
void tconv_tune_encode_bwd(const tconv_ukernel *uk, char *buf, size_t n);
int tconv_tune_decode_bwd(const char *value, const tconv_problem *p, tconv_pass pass,
                          tconv_isa isa, const tconv_ukernel **out);

/* Measures the candidates of backward pass `pass` (TCONV_PASS_BWD_DATA or
 * TCONV_PASS_BWD_WEIGHTS) for p on isa, as tconv_tune_measure does. */
tconv_status tconv_tune_measure_bwd(const tconv_problem *p, tconv_pass pass, tconv_isa isa,
                                    int exhaustive, double budget_s,
                                    const tconv_ukernel **best, double *gflops,
                                    int *measured);

/* Seconds one tuned plan may spend measuring each pass beyond its analytic
 * choice (tconv_set_tune_budget). */
double tconv_tune_budget(void);

#endif /* TCONV_TUNE_TUNER_H */
