/*
 * The model-layer suite of the forward benchmark: transposed convolutions
 * taken from published generator / decoder / upsampling networks, with the
 * sizes those networks use. Every layer is given in PyTorch ConvTranspose2d
 * terms (padding, output_padding); bench_fwd.cc maps them onto each
 * implementation's conventions and proves the mapping against tconv's
 * reference before timing.
 */
#ifndef TCONV_BENCH_LAYERS_H
#define TCONV_BENCH_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bench_layer {
    const char *name;   /* benchmark name part, e.g. "dcgan_512_256" */
    const char *model;  /* where it comes from (one line) */
    int64_t batch;      /* N */
    int64_t channels;   /* C: input channels */
    int64_t in_h, in_w; /* input spatial size */
    int64_t filters;    /* F: output channels */
    int64_t kernel;     /* square kernel kh = kw */
    int64_t stride;     /* sh = sw */
    int64_t padding;    /* PyTorch padding (both sides, both dimensions) */
    int64_t out_pad;    /* PyTorch output_padding (both dimensions) */
    int64_t groups;
    int bias;           /* the model's layer has a bias term */
} bench_layer;

extern const bench_layer bench_layers[];
extern const size_t bench_layer_count;

/* Output size of a layer in one dimension (PyTorch formula, dilation 1). */
int64_t bench_layer_out(int64_t in, const bench_layer *l);

/* Useful multiply-adds x 2 of the forward pass at batch n:
 * 2 * n * C * F * H * W * kh * kw / groups. */
double bench_layer_flops(const bench_layer *l, int64_t n);

#ifdef __cplusplus
}
#endif

#endif /* TCONV_BENCH_LAYERS_H */
