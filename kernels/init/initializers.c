/*
 * MATLAB initializers: one Philox block per element, uniforms from 53 bits,
 * normals by Box-Muller.
 *
 * Box-Muller uses SLEEF's scalar double functions Sleef_log_u10 and
 * Sleef_sincos_u10, not the vector forms and not the C library's log/cos:
 * SLEEF's scalar functions compute the same bits on every ISA and platform
 * (libm's do not promise that), so a seed gives bit-identical weights on
 * x86-64 and AArch64 whatever kernels the machine runs; initialization is
 * not on a hot path, so vector speed is not worth giving that up. The
 * arithmetic around them is plain multiplies, divisions and sqrt (each
 * correctly rounded, with no sum a compiler could contract into an FMA).
 */
#include "kernels/init/initializers.h"

#include <math.h>
#include <sleef.h>
#include <stdint.h>

#include "kernels/elem.h"
#include "kernels/init/philox.h"

/* 2^-53 */
#define TCONV_INIT_ULP53 (1.0 / 9007199254740992.0)

/* 53 random bits from two 32-bit words. */
static uint64_t bits53(uint32_t lo, uint32_t hi)
{
    return ((((uint64_t)hi) << 32) | lo) >> 11;
}

/* A standard normal from one Philox block: u1 in (0, 1] from words 0-1 (so
 * log(u1) is finite), u2 in [0, 1) from words 2-3; z = sqrt(-2 log u1) *
 * cos(2 pi u2). */
static double normal_of_block(const uint32_t b[4])
{
    const double u1 = (double)(bits53(b[0], b[1]) + 1) * TCONV_INIT_ULP53;
    const double u2 = (double)bits53(b[2], b[3]) * TCONV_INIT_ULP53;
    const double two_pi = 6.283185307179586476925286766559;
    const double r2 = -2.0 * Sleef_log_u10(u1);
    const double r = sqrt(r2);
    const double angle = two_pi * u2;
    const Sleef_double2 sc = Sleef_sincos_u10(angle); /* .x = sin, .y = cos */
    return r * sc.y;
}

double tconv_init_value(tconv_initializer kind, double param, uint64_t seed, uint64_t index)
{
    uint32_t b[4];
    switch (kind) {
    case TCONV_INIT_GLOROT: {
        tconv_philox_block(seed, index, b);
        /* u in [0, 1); 2u - 1 in [-1, 1) exactly; one rounding in the product. */
        const double u = (double)bits53(b[0], b[1]) * TCONV_INIT_ULP53;
        const double s = 2.0 * u - 1.0;
        return param * s;
    }
    case TCONV_INIT_HE:
    case TCONV_INIT_NARROW_NORMAL:
        tconv_philox_block(seed, index, b);
        return param * normal_of_block(b);
    case TCONV_INIT_ONES: return 1.0;
    case TCONV_INIT_ZEROS:
    case TCONV_INIT_CUSTOM: break;
    }
    return 0.0;
}

void tconv_init_write_weights(const tconv_problem *p, tconv_initializer kind, double param,
                              uint64_t seed, const void *matlab, void *w)
{
    /* MATLAB order: kh fastest, then kw, m (filter in group), cg, g; i is the
     * column-major linear index of kh x kw x Fg x Cg x G. */
    int64_t i = 0;
    for (int64_t g = 0; g < p->groups; g++)
        for (int64_t cg = 0; cg < p->cg; cg++)
            for (int64_t m = 0; m < p->fg; m++)
                for (int64_t kw = 0; kw < p->k_w; kw++)
                    for (int64_t kh = 0; kh < p->k_h; kh++, i++) {
                        const double v = kind == TCONV_INIT_CUSTOM
                                             ? tconv_elem_load(p->dtype, matlab, i)
                                             : tconv_init_value(kind, param, seed, (uint64_t)i);
                        tconv_elem_store(p->dtype, w, tconv_w_index(p, g * p->cg + cg, m, kh, kw), v);
                    }
}

void tconv_init_write_bias(const tconv_problem *p, tconv_initializer kind, double param,
                           uint64_t seed, void *bias)
{
    for (int64_t f = 0; f < p->filters; f++)
        tconv_elem_store(p->dtype, bias, f, tconv_init_value(kind, param, seed, (uint64_t)f));
}
