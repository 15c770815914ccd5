/*
 * The DCGAN generator (Radford, Metz and Chintala 2015, with the sizes of the
 * PyTorch DCGAN tutorial, ngf = 64) built from five tconv layers: a seeded
 * 100-value latent vector z becomes a 3 x 64 x 64 image in [-1, 1], which is
 * saved as an 8-bit RGB PNG.
 *
 *   z 100x1x1 -> 512x4x4    k4 s1 p0  relu
 *             -> 256x8x8    k4 s2 p1  relu
 *             -> 128x16x16  k4 s2 p1  relu
 *             -> 64x32x32   k4 s2 p1  relu
 *             -> 3x64x64    k4 s2 p1  tanh
 *
 * Each activation is fused into its layer's forward pass (desc.activation).
 * The real DCGAN has batch normalization between the layers and is trained;
 * this example has neither: its weights are freshly initialized, so the
 * image is structured noise. The point is the pipeline (sizes, PyTorch
 * padding, initializers, pre-packed weights, fused activations), not the
 * picture.
 *
 *   dcgan_generator [--help] [SEED] [OUT.png]     (defaults 1 and dcgan.png)
 *
 * Written only against include/tconv.h (and the examples' png.h), as a user
 * would.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tconv.h>

#include "png.h"

#define LATENT 100
#define LAYERS 5

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int fail(const char *what, tconv_status st)
{
    fprintf(stderr, "dcgan_generator: %s failed: %s: %s\n", what, tconv_strerror(st),
            tconv_last_error());
    return 1;
}

struct layer_spec {
    int64_t filters, stride, padding;
    tconv_activation act;
};

/* PyTorch tutorial generator, ngf = 64: ngf*8, ngf*4, ngf*2, ngf, 3 channels. */
static const struct layer_spec spec[LAYERS] = {
    {512, 1, 0, TCONV_ACT_RELU},
    {256, 2, 1, TCONV_ACT_RELU},
    {128, 2, 1, TCONV_ACT_RELU},
    {64, 2, 1, TCONV_ACT_RELU},
    {3, 2, 1, TCONV_ACT_TANH},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: dcgan_generator [--help] [SEED] [OUT.png]\n"
                 "Runs the DCGAN generator (five tconv layers, untrained weights from SEED) on a\n"
                 "latent vector drawn from SEED and writes the 3x64x64 image to OUT.png.\n"
                 "SEED: a whole number from 0 to 2^64-1 (default 1); OUT.png: default dcgan.png.\n"
                 "Prints each layer's plan, the output range, a checksum and the time.\n");
}

static void die_usage(const char *what, const char *arg)
{
    fprintf(stderr, "dcgan_generator: %s '%s'\n"
                    "usage: dcgan_generator [--help] [SEED] [OUT.png]   (--help explains them)\n",
            what, arg);
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    opterr = 0; /* our own message, which names the option */
    for (int c; (c = getopt_long(argc, argv, "h", options, NULL)) != -1;) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        die_usage("unknown option", argv[optind - 1]);
    }
    if (argc - optind > 2) die_usage("unexpected argument", argv[optind + 2]);
    uint64_t seed = 1;
    if (optind < argc) {
        const char *s = argv[optind];
        char *end;
        errno = 0;
        const unsigned long long v = strtoull(s, &end, 10);
        /* strtoull accepts "-1" (as 2^64-1): only digits are a seed here */
        if (!*s || *end || errno || s[strspn(s, " \t")] == '-')
            die_usage("seed: expected a whole number from 0 to 18446744073709551615, got", s);
        seed = v;
    }
    const char *out_path = optind + 1 < argc ? argv[optind + 1] : "dcgan.png";
    const double t_start = now_seconds();
    tconv_status st;

    /* The latent vector z ~ N(0, 1), from the library's own seeded generator:
     * tconv_init_bias with NARROW_NORMAL (N(0, 0.01^2)) on a desc with 100
     * filters, scaled by 100. It uses the base seed; layer l (1..5) uses
     * seed + l for its weights. */
    float *x = malloc(LATENT * sizeof *x);
    if (!x) {
        fprintf(stderr, "dcgan_generator: out of memory\n");
        return 1;
    }
    {
        tconv_desc zd;
        tconv_desc_init(&zd);
        zd.channels = 1; zd.in_h = 1; zd.in_w = 1;
        zd.filters = LATENT; zd.filter_h = 1; zd.filter_w = 1;
        if ((st = tconv_init_bias(&zd, TCONV_INIT_NARROW_NORMAL, seed, NULL, NULL, x)) != TCONV_OK)
            return fail("tconv_init_bias (latent)", st);
        for (int i = 0; i < LATENT; i++) x[i] *= 100.0f;
    }

    int64_t channels = LATENT, in_h = 1, in_w = 1;
    double init_seconds = 0.0, forward_seconds = 0.0;
    for (int l = 0; l < LAYERS; l++) {
        tconv_desc d;
        tconv_desc_init(&d); /* batch 1, f32, NCHW, weights [C][F][kh][kw] like PyTorch */
        d.channels = channels; d.in_h = in_h; d.in_w = in_w;
        d.filters = spec[l].filters; d.filter_h = 4; d.filter_w = 4;
        d.stride_h = spec[l].stride; d.stride_w = spec[l].stride;
        d.activation = spec[l].act;
        const int64_t padding[2] = {spec[l].padding, spec[l].padding};
        if ((st = tconv_crop_pytorch(&d, padding, NULL)) != TCONV_OK)
            return fail("tconv_crop_pytorch", st);

        int64_t nw, ny, out_h, out_w;
        if ((st = tconv_desc_tensor_size(&d, TCONV_TENSOR_W, &nw, NULL)) != TCONV_OK ||
            (st = tconv_desc_tensor_size(&d, TCONV_TENSOR_Y, &ny, NULL)) != TCONV_OK ||
            (st = tconv_desc_output(&d, &out_h, &out_w)) != TCONV_OK)
            return fail("tconv_desc_check", st);
        float *w = malloc((size_t)nw * sizeof *w), *bias = malloc((size_t)d.filters * sizeof *bias);
        float *y = malloc((size_t)ny * sizeof *y);
        if (!w || !bias || !y) {
            fprintf(stderr, "dcgan_generator: out of memory\n");
            return 1;
        }

        /* Without batch normalization nothing rescales the activations
         * between layers, so the initializer must keep them from vanishing
         * or exploding on its own. He (N(0, 2/numIn)) is made for layers
         * followed by a ReLU, which zeroes half of its input: it keeps the
         * mean square of the activations constant from layer to layer.
         * Glorot (variance 2/(numIn + numOut)) is used for the tanh layer:
         * its input then has a standard deviation of about 0.7, mostly in
         * tanh's near-linear range, so the image neither fades to grey nor
         * saturates to black and white.
         *
         * MATLAB's numIn (kh*kw*C = 16*C) counts every tap, but a transposed
         * convolution's output pixel meets only the taps whose input pixel
         * exists: (4/stride)^2 per channel (and 1 for layer 1's 1x1 input).
         * He with the nominal numIn therefore shrinks the activations 2x
         * (4x for layer 1) per layer, so the ReLU layers' weights are
         * multiplied by sqrt(numIn / fan-in actually met) to restore He's
         * intent. */
        const int64_t met_h = 4 / d.stride_h < in_h ? 4 / d.stride_h : in_h;
        const int64_t met_w = 4 / d.stride_w < in_w ? 4 / d.stride_w : in_w;
        const int relu = spec[l].act == TCONV_ACT_RELU;
        const float gain = relu ? (float)sqrt(16.0 / (double)(met_h * met_w)) : 1.0f;
        const tconv_initializer wkind = relu ? TCONV_INIT_HE : TCONV_INIT_GLOROT;
        const double t_init = now_seconds();
        if ((st = tconv_init_weights(&d, wkind, seed + (uint64_t)(l + 1), NULL, NULL, w)) !=
            TCONV_OK)
            return fail("tconv_init_weights", st);
        for (int64_t i = 0; i < nw; i++) w[i] *= gain;
        if ((st = tconv_init_bias(&d, TCONV_INIT_ZEROS, 0, NULL, NULL, bias)) != TCONV_OK)
            return fail("tconv_init_bias", st);
        init_seconds += now_seconds() - t_init;

        tconv_plan *plan;
        if ((st = tconv_plan_create(&plan, &d, 0)) != TCONV_OK)
            return fail("tconv_plan_create", st);
        if ((st = tconv_plan_set_weights(plan, w, bias)) != TCONV_OK)
            return fail("tconv_plan_set_weights", st);

        const double t0 = now_seconds();
        st = tconv_forward(plan, x, NULL, NULL, y); /* y = act(C^T x + bias), pre-packed weights */
        forward_seconds += now_seconds() - t0;
        if (st != TCONV_OK) return fail("tconv_forward", st);

        double sq = 0.0;
        for (int64_t i = 0; i < ny; i++) sq += (double)y[i] * y[i];
        printf("layer %d: %s | rms %.4g\n", l + 1, tconv_plan_info(plan), sqrt(sq / (double)ny));

        tconv_plan_destroy(plan);
        free(w);
        free(bias);
        free(x);
        x = y;
        channels = d.filters;
        in_h = out_h;
        in_w = out_w;
    }

    /* x is now the 3 x 64 x 64 tanh output, channel-planar. Map [-1, 1] to
     * [0, 255] (rounded, clamped) and interleave it into RGB pixels. */
    const int64_t plane = in_h * in_w;
    uint8_t *rgb = malloc((size_t)(3 * plane));
    if (!rgb) {
        fprintf(stderr, "dcgan_generator: out of memory\n");
        return 1;
    }
    double lo = x[0], hi = x[0], sum = 0.0, abs_sum = 0.0;
    for (int64_t c = 0; c < 3; c++) {
        for (int64_t i = 0; i < plane; i++) {
            const double v = x[c * plane + i];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            sum += v;
            abs_sum += fabs(v);
            double q = floor((v + 1.0) * 127.5 + 0.5);
            q = q < 0.0 ? 0.0 : q > 255.0 ? 255.0 : q;
            rgb[3 * i + c] = (uint8_t)q;
        }
    }
    if (png_write_rgb(out_path, rgb, (uint32_t)in_w, (uint32_t)in_h) != 0) {
        perror(out_path);
        return 1;
    }
    const double total = now_seconds() - t_start;

    printf("image:    %lld x %lld x %lld (C x H x W), range [%.6f, %.6f]\n", (long long)channels,
           (long long)in_h, (long long)in_w, lo, hi);
    printf("checksum: sum %.6e  sum|y| %.6e\n", sum, abs_sum);
    printf("time:     %.3f ms total: %.3f ms initializing weights, %.3f ms in the 5 forward "
           "passes\n", total * 1e3, init_seconds * 1e3, forward_seconds * 1e3);
    printf("png:      %s\n", out_path);

    free(rgb);
    free(x);
    return 0;
}
