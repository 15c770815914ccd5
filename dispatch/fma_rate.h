/*
 * How fast this CPU's ymm FMAs run next to its zmm FMAs. The kernel scores
 * in select.c are shares of one ISA's FMA peak; on an AVX-512 CPU the AVX2
 * tiles compete with the AVX-512 ones, so their scores must be scaled by
 * the ratio of the two peaks. That ratio is a property of the core, not of
 * the ISA: an AMD Zen 4 runs a zmm FMA as two ymm halves (ratio 1), an
 * Intel Xeon with two 512-bit FMA ports runs twice the lanes in zmm
 * (ratio 1/2), and CPUID says neither. So it is measured, once.
 */
#ifndef TCONV_DISPATCH_FMA_RATE_H
#define TCONV_DISPATCH_FMA_RATE_H

/* ymm FMA throughput over zmm FMA throughput in FLOP/s, rounded to 1/2 or
 * 1 (so that a noisy measurement flips no choice); 1 on CPUs (or builds)
 * without AVX-512. Measured on first use (about a millisecond, thread-safe);
 * TCONV_YMM_RATE=0.5|1 sets it instead (reproducing another CPU's choices). */
double tconv_ymm_zmm_rate(void);

#endif /* TCONV_DISPATCH_FMA_RATE_H */
