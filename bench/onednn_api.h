// The oneDNN calls the benchmarks make, written once for both APIs they
// build against: oneDNN 2.x (Debian 12's libdnnl-dev, where a primitive
// descriptor is made from an operation descriptor) and 3.x (the Python
// package index's wheels bench/peers.py builds against, where the operation
// descriptors are gone and the primitive descriptor takes their fields).
#ifndef TCONV_BENCH_ONEDNN_API_H
#define TCONV_BENCH_ONEDNN_API_H

#include <oneapi/dnnl/dnnl.hpp>

#include <string>

#include "common.h"

namespace bench {

// What every deconvolution primitive of one layer shares.
struct OnednnDeconv {
    dnnl::memory::desc src, weights, bias, dst;  // bias: empty desc for none
    dnnl::memory::dims strides, dilates, padding_l, padding_r;
};

// Layer p in oneDNN's terms: its dims, every format left to oneDNN
// (format_tag::any), and the weights' user format the benchmarks hand over
// ((g)ohwi; activations are NHWC). oneDNN's deconvolution has
// out = (in - 1) * S - padding_l - padding_r + K, so PyTorch's padding p
// and output_padding op are padding_l = p, padding_r = p - op.
struct OnednnLayer {
    dnnl::memory::dims src_dims, dst_dims, wei_dims;
    dnnl::memory::format_tag wei_user_tag;
    OnednnDeconv any;
};

inline OnednnLayer onednn_layer(const Problem &p)
{
    using namespace dnnl;
    using tag = memory::format_tag;
    using dt = memory::data_type;
    const bench_layer &l = *p.l;
    OnednnLayer o;
    o.src_dims = {p.n, l.channels, l.in_h, l.in_w};
    o.dst_dims = {p.n, l.filters, p.oh, p.ow};
    const bool grouped = l.groups > 1;
    o.wei_dims = grouped ? memory::dims{l.groups, l.filters / l.groups, l.channels / l.groups, l.kernel, l.kernel}
                         : memory::dims{l.filters, l.channels, l.kernel, l.kernel};
    o.wei_user_tag = grouped ? tag::gohwi : tag::ohwi;
    o.any = {memory::desc(o.src_dims, dt::f32, tag::any),
             memory::desc(o.wei_dims, dt::f32, tag::any),
             l.bias ? memory::desc({l.filters}, dt::f32, tag::x) : memory::desc(),
             memory::desc(o.dst_dims, dt::f32, tag::any),
             {l.stride, l.stride},
             {0, 0},
             {l.padding, l.padding},
             {l.padding - l.out_pad, l.padding - l.out_pad}};
    return o;
}

inline dnnl::deconvolution_forward::primitive_desc onednn_forward_pd(const dnnl::engine &eng, dnnl::prop_kind prop,
                                                                     const OnednnDeconv &d)
{
    using namespace dnnl;
#if DNNL_VERSION_MAJOR >= 3
    return deconvolution_forward::primitive_desc(eng, prop, algorithm::deconvolution_direct, d.src, d.weights, d.bias,
                                                 d.dst, d.strides, d.dilates, d.padding_l, d.padding_r);
#else
    return deconvolution_forward::primitive_desc(
        deconvolution_forward::desc(prop, algorithm::deconvolution_direct, d.src, d.weights, d.bias, d.dst, d.strides,
                                    d.dilates, d.padding_l, d.padding_r),
        eng);
#endif
}

inline dnnl::deconvolution_backward_data::primitive_desc onednn_backward_data_pd(
    const dnnl::engine &eng, const OnednnDeconv &d, const dnnl::deconvolution_forward::primitive_desc &hint)
{
    using namespace dnnl;
#if DNNL_VERSION_MAJOR >= 3
    return deconvolution_backward_data::primitive_desc(eng, algorithm::deconvolution_direct, d.src, d.weights, d.dst,
                                                       d.strides, d.dilates, d.padding_l, d.padding_r, hint);
#else
    return deconvolution_backward_data::primitive_desc(
        deconvolution_backward_data::desc(algorithm::deconvolution_direct, d.src, d.weights, d.dst, d.strides,
                                          d.dilates, d.padding_l, d.padding_r),
        eng, hint);
#endif
}

inline dnnl::deconvolution_backward_weights::primitive_desc onednn_backward_weights_pd(
    const dnnl::engine &eng, const OnednnDeconv &d, const dnnl::deconvolution_forward::primitive_desc &hint)
{
    using namespace dnnl;
#if DNNL_VERSION_MAJOR >= 3
    return deconvolution_backward_weights::primitive_desc(eng, algorithm::deconvolution_direct, d.src, d.weights,
                                                          d.bias, d.dst, d.strides, d.dilates, d.padding_l,
                                                          d.padding_r, hint);
#else
    return deconvolution_backward_weights::primitive_desc(
        deconvolution_backward_weights::desc(algorithm::deconvolution_direct, d.src, d.weights, d.bias, d.dst,
                                             d.strides, d.dilates, d.padding_l, d.padding_r),
        eng, hint);
#endif
}

// A short name of a memory format: plain strides, then the inner blocking
// ("strides:1,32,2048,64 blk:1x16").
inline std::string onednn_format_name(const dnnl::memory::desc &md)
{
    std::string s = "strides";
#if DNNL_VERSION_MAJOR >= 3
    if (md.get_format_kind() != dnnl::memory::format_kind::blocked) return "non-blocked";
    const dnnl::memory::dims strides = md.get_strides(), blks = md.get_inner_blks(), idxs = md.get_inner_idxs();
    for (size_t i = 0; i < strides.size(); ++i) s += (i ? "," : ":") + std::to_string(strides[i]);
    if (!blks.empty()) {
        s += " blk";
        for (size_t i = 0; i < blks.size(); ++i)
            s += (i ? "," : ":") + std::to_string(idxs[i]) + "x" + std::to_string(blks[i]);
    }
#else
    const dnnl_memory_desc_t &d = md.data;
    if (d.format_kind != dnnl_blocked) return "non-blocked";
    const auto &b = d.format_desc.blocking;
    for (int i = 0; i < d.ndims; ++i) s += (i ? "," : ":") + std::to_string(b.strides[i]);
    if (b.inner_nblks > 0) {
        s += " blk";
        for (int i = 0; i < b.inner_nblks; ++i)
            s += (i ? "," : ":") + std::to_string(b.inner_idxs[i]) + "x" + std::to_string(b.inner_blks[i]);
    }
#endif
    return s;
}

}  // namespace bench

#endif  // TCONV_BENCH_ONEDNN_API_H
