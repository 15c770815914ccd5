/*
 * Overflow-checked int64_t arithmetic for validation. Each returns 1 and
 * stores the result when it fits, 0 when it overflows (nothing stored).
 */
#ifndef TCONV_RUNTIME_CHECKED_H
#define TCONV_RUNTIME_CHECKED_H

#include <stdint.h>

static inline int tconv_add_ok(int64_t a, int64_t b, int64_t *r)
{
    int64_t v;
    if (__builtin_add_overflow(a, b, &v)) return 0;
    *r = v;
    return 1;
}

static inline int tconv_sub_ok(int64_t a, int64_t b, int64_t *r)
{
    int64_t v;
    if (__builtin_sub_overflow(a, b, &v)) return 0;
    *r = v;
    return 1;
}

static inline int tconv_mul_ok(int64_t a, int64_t b, int64_t *r)
{
    int64_t v;
    if (__builtin_mul_overflow(a, b, &v)) return 0;
    *r = v;
    return 1;
}

#endif /* TCONV_RUNTIME_CHECKED_H */
