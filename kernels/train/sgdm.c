/*
 * The SGDM update as plain loops, one per dtype: restrict-qualified pointers
 * (the public entry point rejects overlapping buffers) and no branches in the
 * body, so the compiler vectorizes each loop for the ISA this file is built
 * for (SSE2 / NEON at the baseline, more with -march). No SIMD intrinsics:
 * the update is memory-bound (three streams read, two written), so the
 * baseline vector width already keeps up with memory.
 */
#include "kernels/train/sgdm.h"

void tconv_sgdm_f32(int64_t n, float *restrict theta, const float *restrict grad,
                    float *restrict v, double rate, double momentum, double l2)
{
    const float r = (float)rate, mu = (float)momentum, lambda = (float)l2;
    for (int64_t i = 0; i < n; i++) {
        const float g = grad[i] + lambda * theta[i];
        const float vi = mu * v[i] - r * g;
        v[i] = vi;
        theta[i] = theta[i] + vi;
    }
}

void tconv_sgdm_f64(int64_t n, double *restrict theta, const double *restrict grad,
                    double *restrict v, double rate, double momentum, double l2)
{
    for (int64_t i = 0; i < n; i++) {
        const double g = grad[i] + l2 * theta[i];
        const double vi = momentum * v[i] - rate * g;
        v[i] = vi;
        theta[i] = theta[i] + vi;
    }
}
