/*
 * The same layer on oneDNN, for the demo's comparison (dcgan_layer): built
 * only when meson finds Debian's libdnnl-dev (oneDNN 2.x, its C API) and
 * OpenMP, the runtime Debian builds oneDNN with.
 *
 * It runs as bench/bench_fwd runs oneDNN: forward_inference, every format
 * left to oneDNN (format "any": its own blocked layouts), the user's data
 * reordered into them once at creation, so that a timed run is the
 * primitive alone, as tconv's warm runs are its pass alone.
 */
#ifndef TCONV_EXAMPLES_ONEDNN_DECONV_H
#define TCONV_EXAMPLES_ONEDNN_DECONV_H

#include <stddef.h>

#include <tconv.h>

typedef struct onednn_deconv onednn_deconv;

/* The layer of d (f32, NCHW, weights [C][F][kh][kw], one group, no
 * dilation, no activation, crops >= 0) with input x, weights w and bias
 * (may be NULL), on threads threads. NULL on failure, with why[why_size]
 * saying what oneDNN refused. */
onednn_deconv *onednn_deconv_create(const tconv_desc *d, const float *x, const float *w,
                                    const float *bias, int threads, char *why, size_t why_size);

/* One forward pass; 0, or -1 when oneDNN failed. */
int onednn_deconv_run(onednn_deconv *o);

/* The output of the last run in NCHW into y; 0 or -1. */
int onednn_deconv_output(onednn_deconv *o, float *y);

/* "oneDNN 2.6.3 jit:avx512_core": the version and the implementation
 * oneDNN chose for this layer. */
const char *onednn_deconv_name(const onednn_deconv *o);

void onednn_deconv_destroy(onednn_deconv *o);

#endif /* TCONV_EXAMPLES_ONEDNN_DECONV_H */
