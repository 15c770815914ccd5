/*
 * Small int64_t helpers every layer uses: minimum and maximum, clamping,
 * division rounded down or up for any sign of the dividend, rounding up to
 * a multiple. One copy here instead of one per file.
 */
#ifndef TCONV_RUNTIME_INTMATH_H
#define TCONV_RUNTIME_INTMATH_H

#include <stdint.h>

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static inline int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* floor(a / b) and ceil(a / b) for b > 0 and any a. */
static inline int64_t floor_div64(int64_t a, int64_t b)
{
    const int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}
static inline int64_t ceil_div64(int64_t a, int64_t b) { return -floor_div64(-a, b); }

/* v rounded up to a multiple of m > 0 (v >= 0). */
static inline int64_t round_up64(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

#endif /* TCONV_RUNTIME_INTMATH_H */
