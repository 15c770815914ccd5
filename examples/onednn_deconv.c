/* The same layer on oneDNN 2.x's C API (see onednn_deconv.h). */
#include "onednn_deconv.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

struct onednn_deconv {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t deconv;
    dnnl_memory_t src, weights, bias, dst; /* in the primitive's own formats */
    dnnl_memory_desc_t user_dst;           /* NCHW, for onednn_deconv_output */
    char name[160];
};

/* Reorders user memory (format user_tag, data at handle) into the new
 * memory *to of format want: 0, or -1 with *failed naming the step. */
static int reorder_into(onednn_deconv *o, const dnnl_memory_desc_t *user,
                        const dnnl_memory_desc_t *want, const void *handle, dnnl_memory_t *to,
                        const char **failed)
{
    dnnl_memory_t from = NULL;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t r = NULL;
    int rc = -1;
    if (dnnl_memory_create(&from, user, o->engine, (void *)handle) != dnnl_success)
        *failed = "creating a user memory";
    else if (dnnl_memory_create(to, want, o->engine, DNNL_MEMORY_ALLOCATE) != dnnl_success)
        *failed = "allocating a memory in oneDNN's format";
    else if (dnnl_reorder_primitive_desc_create(&rpd, user, o->engine, want, o->engine, NULL) !=
                 dnnl_success ||
             dnnl_primitive_create(&r, rpd) != dnnl_success)
        *failed = "creating a reorder";
    else {
        const dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, *to}};
        if (dnnl_primitive_execute(r, o->stream, 2, args) != dnnl_success ||
            dnnl_stream_wait(o->stream) != dnnl_success)
            *failed = "running a reorder";
        else rc = 0;
    }
    if (r) dnnl_primitive_destroy(r);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (from) dnnl_memory_destroy(from);
    return rc;
}

onednn_deconv *onednn_deconv_create(const tconv_desc *d, const float *x, const float *w,
                                    const float *bias, int threads, char *why, size_t why_size)
{
    int64_t out_h, out_w;
    if (d->dtype != TCONV_F32 || d->layout != TCONV_NCHW ||
        d->weight_layout != TCONV_W_IOHW || d->groups != 1 || d->dilation_h != 1 ||
        d->dilation_w != 1 || d->activation != TCONV_ACT_NONE || d->crop_top < 0 ||
        d->crop_bottom < 0 || d->crop_left < 0 || d->crop_right < 0 ||
        tconv_desc_output(d, &out_h, &out_w) != TCONV_OK) {
        snprintf(why, why_size, "this comparison runs f32 NCHW layers with IOHW weights, "
                                "one group, no dilation, activation or negative crop");
        return NULL;
    }
    onednn_deconv *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    /* Debian builds oneDNN on OpenMP: the same thread count as tconv's. */
    omp_set_num_threads(threads);
    const char *failed = NULL;
    const dnnl_dims_t src_dims = {d->batch, d->channels, d->in_h, d->in_w};
    const dnnl_dims_t dst_dims = {d->batch, d->filters, out_h, out_w};
    /* oneDNN's deconvolution weights are {F, C, kh, kw}; tconv's IOHW
     * [C][F][kh][kw] is oneDNN's iohw tag of them. */
    const dnnl_dims_t wei_dims = {d->filters, d->channels, d->filter_h, d->filter_w};
    const dnnl_dims_t bias_dims = {d->filters};
    const dnnl_dims_t strides = {d->stride_h, d->stride_w};
    /* out = (in - 1) * S - padding_l - padding_r + K: the paddings are
     * tconv's crops. */
    const dnnl_dims_t pad_l = {d->crop_top, d->crop_left}, pad_r = {d->crop_bottom, d->crop_right};
    dnnl_memory_desc_t src_any, wei_any, dst_any, bias_md, user_src, user_wei;
    dnnl_deconvolution_desc_t dd;
    if (dnnl_engine_create(&o->engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&o->stream, o->engine, dnnl_stream_default_flags) != dnnl_success)
        failed = "creating the CPU engine";
    else if (dnnl_memory_desc_init_by_tag(&src_any, 4, src_dims, dnnl_f32, dnnl_format_tag_any) ||
             dnnl_memory_desc_init_by_tag(&wei_any, 4, wei_dims, dnnl_f32, dnnl_format_tag_any) ||
             dnnl_memory_desc_init_by_tag(&dst_any, 4, dst_dims, dnnl_f32, dnnl_format_tag_any) ||
             dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_dims, dnnl_f32, dnnl_x) ||
             dnnl_memory_desc_init_by_tag(&user_src, 4, src_dims, dnnl_f32, dnnl_nchw) ||
             dnnl_memory_desc_init_by_tag(&user_wei, 4, wei_dims, dnnl_f32, dnnl_iohw) ||
             dnnl_memory_desc_init_by_tag(&o->user_dst, 4, dst_dims, dnnl_f32, dnnl_nchw))
        failed = "describing the tensors";
    else if (dnnl_deconvolution_forward_desc_init(&dd, dnnl_forward_inference,
                                                  dnnl_deconvolution_direct, &src_any, &wei_any,
                                                  bias ? &bias_md : NULL, &dst_any, strides,
                                                  pad_l, pad_r) != dnnl_success ||
             dnnl_primitive_desc_create(&o->pd, &dd, NULL, o->engine, NULL) != dnnl_success ||
             dnnl_primitive_create(&o->deconv, o->pd) != dnnl_success)
        failed = "creating the deconvolution primitive (the layer is refused)";
    else if (reorder_into(o, &user_src, dnnl_primitive_desc_query_md(o->pd, dnnl_query_src_md, 0),
                          x, &o->src, &failed) == 0 &&
             reorder_into(o, &user_wei,
                          dnnl_primitive_desc_query_md(o->pd, dnnl_query_weights_md, 0), w,
                          &o->weights, &failed) == 0) {
        if (dnnl_memory_create(&o->dst, dnnl_primitive_desc_query_md(o->pd, dnnl_query_dst_md, 0),
                               o->engine, DNNL_MEMORY_ALLOCATE) != dnnl_success ||
            (bias && dnnl_memory_create(&o->bias, &bias_md, o->engine, (void *)bias) !=
                         dnnl_success))
            failed = "allocating the output";
    }
    if (failed) {
        snprintf(why, why_size, "oneDNN failed %s", failed);
        onednn_deconv_destroy(o);
        return NULL;
    }
    const char *impl = "?";
    dnnl_primitive_desc_query(o->pd, dnnl_query_impl_info_str, 0, &impl);
    const dnnl_version_t *v = dnnl_version();
    snprintf(o->name, sizeof o->name, "oneDNN %d.%d.%d %s", v->major, v->minor, v->patch, impl);
    return o;
}

int onednn_deconv_run(onednn_deconv *o)
{
    const dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, o->src},
                                     {DNNL_ARG_WEIGHTS, o->weights},
                                     {DNNL_ARG_DST, o->dst},
                                     {DNNL_ARG_BIAS, o->bias}};
    if (dnnl_primitive_execute(o->deconv, o->stream, o->bias ? 4 : 3, args) != dnnl_success)
        return -1;
    return dnnl_stream_wait(o->stream) == dnnl_success ? 0 : -1;
}

int onednn_deconv_output(onednn_deconv *o, float *y)
{
    dnnl_memory_t user = NULL;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t r = NULL;
    int rc = -1;
    const dnnl_memory_desc_t *dst_md = dnnl_primitive_desc_query_md(o->pd, dnnl_query_dst_md, 0);
    if (dnnl_memory_create(&user, &o->user_dst, o->engine, y) == dnnl_success &&
        dnnl_reorder_primitive_desc_create(&rpd, dst_md, o->engine, &o->user_dst, o->engine,
                                           NULL) == dnnl_success &&
        dnnl_primitive_create(&r, rpd) == dnnl_success) {
        const dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, o->dst}, {DNNL_ARG_TO, user}};
        if (dnnl_primitive_execute(r, o->stream, 2, args) == dnnl_success &&
            dnnl_stream_wait(o->stream) == dnnl_success)
            rc = 0;
    }
    if (r) dnnl_primitive_destroy(r);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (user) dnnl_memory_destroy(user);
    return rc;
}

const char *onednn_deconv_name(const onednn_deconv *o) { return o->name; }

void onednn_deconv_destroy(onednn_deconv *o)
{
    if (!o) return;
    if (o->deconv) dnnl_primitive_destroy(o->deconv);
    if (o->pd) dnnl_primitive_desc_destroy(o->pd);
    dnnl_memory_t mems[4] = {o->src, o->weights, o->bias, o->dst};
    for (int i = 0; i < 4; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    if (o->stream) dnnl_stream_destroy(o->stream);
    if (o->engine) dnnl_engine_destroy(o->engine);
    free(o);
}
