/*
 * One step of MATLAB's SGDM solver over n parameters, element-wise:
 *   g = grad + l2 * theta;  v = momentum * v - rate * g;  theta += v
 * where the caller has already folded the layer's factors into l2 (global
 * L2Regularization times the L2 factor) and rate (LearnRate times the
 * learn-rate factor), and skipped frozen parameters (factor 0). The f32 form
 * computes in float with the coefficients rounded to float once.
 * theta and v are updated in place and must not overlap grad or each other.
 */
#ifndef TCONV_KERNELS_TRAIN_SGDM_H
#define TCONV_KERNELS_TRAIN_SGDM_H

#include <stdint.h>

void tconv_sgdm_f32(int64_t n, float *theta, const float *grad, float *v, double rate,
                    double momentum, double l2);
void tconv_sgdm_f64(int64_t n, double *theta, const double *grad, double *v, double rate,
                    double momentum, double l2);

#endif /* TCONV_KERNELS_TRAIN_SGDM_H */
