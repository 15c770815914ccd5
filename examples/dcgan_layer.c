/*
 * Runs one real layer through tconv: the DCGAN generator's 512 -> 256
 * channel, 4x4, stride-2 transposed convolution (PyTorch padding 1), which
 * upsamples 4x4 feature maps to 8x8. Prints the output shape, a checksum
 * and the time of the forward pass.
 *
 *   dcgan_layer [batch]      (default batch 8)
 *
 * Written only against include/tconv.h, as a user would.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <tconv.h>

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Deterministic values in [-1, 1), so the checksum is the same on every run. */
static void fill(float *v, int64_t n, uint32_t seed)
{
    uint32_t s = seed;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        v[i] = (float)(s >> 8) * 0x1p-23f - 1.0f;
    }
}

static int fail(const char *what, tconv_status st)
{
    fprintf(stderr, "dcgan_layer: %s failed: %s: %s\n", what, tconv_strerror(st),
            tconv_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    long batch = argc > 1 ? strtol(argv[1], NULL, 10) : 8;

    tconv_desc d;
    tconv_desc_init(&d);
    d.batch = batch;
    d.channels = 512; d.in_h = 4; d.in_w = 4;
    d.filters = 256; d.filter_h = 4; d.filter_w = 4;
    d.stride_h = 2; d.stride_w = 2;
    const int64_t padding[2] = {1, 1};
    tconv_status st = tconv_crop_pytorch(&d, padding, NULL);
    if (st != TCONV_OK) return fail("tconv_crop_pytorch", st);

    tconv_plan *plan;
    if ((st = tconv_plan_create(&plan, &d, 0)) != TCONV_OK) return fail("tconv_plan_create", st);

    int64_t nx, nw, ny, out_h, out_w;
    tconv_desc_tensor_size(&d, TCONV_TENSOR_X, &nx, NULL);
    tconv_desc_tensor_size(&d, TCONV_TENSOR_W, &nw, NULL);
    tconv_desc_tensor_size(&d, TCONV_TENSOR_Y, &ny, NULL);
    tconv_desc_output(&d, &out_h, &out_w);
    float *x = malloc((size_t)nx * sizeof *x), *w = malloc((size_t)nw * sizeof *w);
    float *bias = malloc((size_t)d.filters * sizeof *bias), *y = malloc((size_t)ny * sizeof *y);
    if (!x || !w || !bias || !y) {
        fprintf(stderr, "dcgan_layer: out of memory\n");
        return 1;
    }
    fill(x, nx, 1);
    fill(w, nw, 2);
    fill(bias, d.filters, 3);

    const double t0 = now_seconds();
    st = tconv_forward(plan, x, w, bias, y);
    const double seconds = now_seconds() - t0;
    if (st != TCONV_OK) return fail("tconv_forward", st);

    double sum = 0.0, abs_sum = 0.0;
    for (int64_t i = 0; i < ny; i++) {
        sum += y[i];
        abs_sum += y[i] < 0 ? -y[i] : y[i];
    }
    /* Useful multiply-adds: every input pixel meets every tap once. */
    const double flops = 2.0 * (double)d.batch * (double)d.channels * (double)d.filters *
                         (double)(d.in_h * d.in_w) * (double)(d.filter_h * d.filter_w);
    printf("plan:     %s\n", tconv_plan_info(plan));
    printf("output:   %lld x %lld x %lld x %lld (N x F x H x W, NCHW)\n", (long long)d.batch,
           (long long)d.filters, (long long)out_h, (long long)out_w);
    printf("checksum: sum %.6e  sum|y| %.6e\n", sum, abs_sum);
    printf("time:     %.3f ms forward (%.2f GFLOP/s)\n", seconds * 1e3, flops / seconds * 1e-9);

    free(x); free(w); free(bias); free(y);
    tconv_plan_destroy(plan);
    return 0;
}
