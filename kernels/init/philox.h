/*
 * Philox4x32-10, the counter-based random number generator of Salmon, Moraes,
 * Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3" (SC 2011),
 * written here from the published algorithm.
 *
 * A counter-based generator is a keyed bijection of a 128-bit counter: output
 * block i is a pure function of (key, i), with no state carried from one
 * block to the next. The initializers use the element index as the counter
 * and the seed as the key, so any element can be computed on its own, in any
 * order and on any thread, with the same result.
 *
 * One round: two 32x32->64-bit multiplies of counter words 0 and 2 by the
 * round multipliers; the new counter is (hi(M1*c2) ^ c1 ^ k0, lo(M1*c2),
 * hi(M0*c0) ^ c3 ^ k1, lo(M0*c0)); between rounds the key is bumped by the
 * Weyl constants (golden ratio and sqrt(3) - 1, in 32-bit fixed point).
 */
#ifndef TCONV_KERNELS_INIT_PHILOX_H
#define TCONV_KERNELS_INIT_PHILOX_H

#include <stdint.h>

#define TCONV_PHILOX_M0 UINT32_C(0xD2511F53)
#define TCONV_PHILOX_M1 UINT32_C(0xCD9E8D57)
#define TCONV_PHILOX_W0 UINT32_C(0x9E3779B9)
#define TCONV_PHILOX_W1 UINT32_C(0xBB67AE85)

static inline void tconv_philox4x32_round(uint32_t c[4], const uint32_t k[2])
{
    const uint64_t p0 = (uint64_t)TCONV_PHILOX_M0 * c[0];
    const uint64_t p1 = (uint64_t)TCONV_PHILOX_M1 * c[2];
    const uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    const uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    const uint32_t c1 = c[1], c3 = c[3];
    c[0] = hi1 ^ c1 ^ k[0];
    c[1] = lo1;
    c[2] = hi0 ^ c3 ^ k[1];
    c[3] = lo0;
}

/* out = Philox4x32-10(ctr, key). out may alias ctr. */
static inline void tconv_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2],
                                       uint32_t out[4])
{
    uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
    uint32_t k[2] = {key[0], key[1]};
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            k[0] += TCONV_PHILOX_W0;
            k[1] += TCONV_PHILOX_W1;
        }
        tconv_philox4x32_round(c, k);
    }
    out[0] = c[0];
    out[1] = c[1];
    out[2] = c[2];
    out[3] = c[3];
}

/* The block of element `index` under `seed`: counter (index low, index high,
 * 0, 0), key (seed low, seed high). */
static inline void tconv_philox_block(uint64_t seed, uint64_t index, uint32_t out[4])
{
    const uint32_t ctr[4] = {(uint32_t)index, (uint32_t)(index >> 32), 0, 0};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    tconv_philox4x32_10(ctr, key, out);
}

#endif /* TCONV_KERNELS_INIT_PHILOX_H */
