/*
 * The host fingerprint: what a tuning result depends on, as one short
 * printable line. A cache file records the fingerprint of the host that
 * measured it; a file with another fingerprint is never used (tune/cache.c).
 *
 * It names the CPU model (x86: vendor and family-model-stepping from CPUID;
 * Arm: the MIDR_EL1 register), the best instruction set tconv finds on it
 * (tconv_cpu_isa(), not the cap: a run with TCONV_ISA=avx2 must not
 * invalidate the host's whole file; the tuner puts the ISA in use in each
 * key instead), the L1d, L2 and L3 sizes and the physical core count
 * (runtime/topology.h). Identical machines of a fleet share it, which is
 * what lets tconv_cache_import() move a tuned file between them. The host
 * name is deliberately not part of it.
 *
 * Example: "GenuineIntel 6-85-7 avx512 l1d=32K l2=1024K l3=32768K cores=2".
 * Printable ASCII, no '|' and no newline, at most TCONV_FINGERPRINT_MAX
 * characters.
 */
#ifndef TCONV_TUNE_FINGERPRINT_H
#define TCONV_TUNE_FINGERPRINT_H

#define TCONV_FINGERPRINT_MAX 160

/* This host's fingerprint, computed once per process (thread-safe); never
 * NULL. */
const char *tconv_host_fingerprint(void);

#endif /* TCONV_TUNE_FINGERPRINT_H */
