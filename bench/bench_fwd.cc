// bench_fwd: forward transposed convolution on real model layers
// (layers.c), tconv beside oneDNN and XNNPACK in one process, on one thread
// each (or --threads=N each). bench/run.sh runs it; bench/README.md
// describes the JSON it writes.
//
// Benchmarks:
//   fwd/<layer>/tconv           tconv's analytic plan (TCONV_TUNE_NONE: the
//                               tuning cache is not consulted), f32, first
//                               layout of --tconv_layouts
//   fwd/<layer>/tconv_f64       the same in f64 (with --dtypes holding f64;
//                               no peer has an f64 deconvolution)
//   fwd/<layer>/tconv_tuned     with --tconv_tuned: TCONV_TUNE_MEASURE (measures
//                               at the first run, the cache's entry after)
//   fwd/<layer>/tconv_<layout>  tconv in each further layout of --tconv_layouts
//   fwd/<layer>/tconv_<act>     with --tconv_activation=<act>: tconv's default
//                               plan in the first layout with that activation
//                               fused into the forward pass (DCGAN's output
//                               layer ends in tanh), beside the plain one
//   fwd/<layer>/onednn          oneDNN deconvolution_forward (forward_inference,
//                               deconvolution_direct, format_tag::any everywhere;
//                               src and weights reordered once, outside timing);
//                               onednn_pypi in a -Donednn_prefix build
//   fwd/<layer>/xnnpack         XNNPACK deconvolution2d_nhwc_f32, NULL threadpool
//   peak/fma_<dtype>_<isa>, peak/bandwidth, peak_end/fma_f32_<isa>
//                               the machine's peaks (common.h: setup_peak)
// Counters: GFLOP/s (2*N*C*F*H*W*kh*kw/groups per pass), peak_frac (GFLOP/s
// over the FMA peak of the dtype measured at start-up, times the threads),
// bytes (x, w, bias and y once), cpu_util (process CPU time / wall time over
// the timed loop: ~1 per thread on idle cores, less when other processes
// took them; more than --threads + 0.5 aborts).
// Rates use the thread's CPU time by default (robust on a shared machine);
// --time=real switches every benchmark to wall-clock time.
//
// Before the first timing of a (layer, implementation), its output is checked
// against tconv's reference plan (TCONV_PLAN_REFERENCE) on the same inputs at a
// small batch; a disagreement (max relative error > 1e-3) aborts the program.
// A peer that refuses a layer gets that benchmark skipped with its message.
//
// Own flags (the rest goes to Google Benchmark):
//   --tconv_layouts=nhwc[,nchw]   tconv data layouts to time (nhwc pairs with
//                                 W_OHWI, nchw with W_IOHW); default nhwc
//   --dtypes=f32[,f64]            tconv's dtypes; default f32,f64
//   --time=cpu|real               time base of the rates; default cpu
//   --threads=N                   threads for tconv, oneDNN (OpenMP) and XNNPACK
//                                 (pthreadpool); N > 1 implies --time=real
//   --run_label=NAME              context run_label (files of one run share it)
//   --list_layers                 print the layer suite as JSON and exit
//   --tconv_tuned                 also time tconv's tuned plan (tconv_tuned)
//   --tconv_activation=<act>      also time tconv with a fused activation: relu,
//                                 sigmoid, tanh, gelu, swish (checked against the
//                                 reference followed by tconv_activation_forward)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.h"
#include "layers.h"
#include "tconv.h"

#ifdef BENCH_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>

#include "onednn_api.h"
#endif
#ifdef BENCH_HAVE_XNNPACK
#include <xnnpack.h>
#endif

#ifndef BENCH_XNNPACK_VERSION
#define BENCH_XNNPACK_VERSION "unknown"
#endif

namespace {

using namespace bench;

#ifdef BENCH_HAVE_XNNPACK
// XNNPACK's thread pool for --threads above 1 (NULL: the caller's thread).
pthreadpool_t g_xnn_pool = nullptr;
#endif

constexpr double kTolerance = 1e-3;  // max relative error, f32

// ---------------------------------------------------------------------------
// Implementations
// ---------------------------------------------------------------------------

class Impl {
public:
    virtual ~Impl() = default;
    virtual void run() = 0;
    // The output of the last run, as NCHW.
    virtual std::vector<float> output_nchw() = 0;
    std::string info;
};

enum class Layout { NHWC, NCHW };

const char *layout_name(Layout l) { return l == Layout::NHWC ? "nhwc" : "nchw"; }

// tconv in f32 or f64 (T): the f64 runs take the same inputs, which doubles
// hold exactly, and are checked against the same f32 reference (a mapping
// check; tests/ hold f64 to its own precision).
template <typename T>
class TconvImpl final : public Impl {
public:
    TconvImpl(const Problem &p, const Inputs &in, Layout layout, unsigned flags,
              tconv_activation act = TCONV_ACT_NONE)
        : p_(p), layout_(layout)
    {
        const bench_layer &l = *p.l;
        tconv_desc d = layer_desc(l, p.n, layout == Layout::NHWC ? TCONV_NHWC : TCONV_NCHW,
                                  layout == Layout::NHWC ? TCONV_W_OHWI : TCONV_W_IOHW, kDtype);
        d.activation = act;
        if (tconv_plan_create(&plan_, &d, flags) != TCONV_OK)
            throw Refused(std::string("tconv_plan_create: ") + tconv_last_error());
        int64_t oh = 0, ow = 0, y_elems = 0;
        tconv_desc_output(&d, &oh, &ow);
        tconv_desc_tensor_size(&d, TCONV_TENSOR_Y, &y_elems, nullptr);
        if (oh != p.oh || ow != p.ow || y_elems != p.y_elems())
            die("tconv output size " + std::to_string(oh) + "x" + std::to_string(ow) + " differs from the layer's " +
                std::to_string(p.oh) + "x" + std::to_string(p.ow) + " (" + l.name + ")");
        if (layout == Layout::NHWC) {
            x_ = as<T>(nchw_to_nhwc(in.x, p.n, l.channels, l.in_h, l.in_w));
            w_ = as<T>(iohw_to_ohwi(in.w, l));
        } else {
            x_ = as<T>(in.x);
            w_ = as<T>(in.w);
        }
        bias_ = as<T>(in.bias);
        y_.assign((size_t)p.y_elems(), std::numeric_limits<T>::quiet_NaN());
        // Inference, like the peers: weights are packed once here, outside the
        // timed loop (oneDNN's weight reorder and XNNPACK's packing happen at
        // creation too), and forward runs with w = bias = NULL.
        if (tconv_plan_set_weights(plan_, w_.data(), bias_.empty() ? nullptr : bias_.data()) != TCONV_OK)
            die(std::string("tconv_plan_set_weights: ") + tconv_last_error());
        info = tconv_plan_info(plan_);
    }
    ~TconvImpl() override { tconv_plan_destroy(plan_); }
    TconvImpl(const TconvImpl &) = delete;
    TconvImpl &operator=(const TconvImpl &) = delete;

    void run() override
    {
        const tconv_status s = tconv_forward(plan_, x_.data(), nullptr, nullptr, y_.data());
        if (s != TCONV_OK) die(std::string("tconv_forward: ") + tconv_last_error());
    }
    std::vector<float> output_nchw() override
    {
        const std::vector<float> y = as_float(y_);
        if (layout_ == Layout::NCHW) return y;
        return nhwc_to_nchw(y.data(), p_.n, p_.l->filters, p_.oh, p_.ow);
    }

private:
    static constexpr tconv_dtype kDtype = sizeof(T) == 8 ? TCONV_F64 : TCONV_F32;
    Problem p_;
    Layout layout_;
    tconv_plan *plan_ = nullptr;
    aligned_vector<T> x_, w_, bias_, y_;
};

#ifdef BENCH_HAVE_ONEDNN
// oneDNN deconvolution: dst(oh) = sum src(ih) * wei(oc, ic, kh) with
// oh = ih * SH + kh * (DH + 1) - padding_l, out = (in - 1) * S - pl - pr + K.
// PyTorch (padding p, output_padding op) is padding_l = p, padding_r = p - op.
class OnednnImpl final : public Impl {
public:
    OnednnImpl(const Problem &p, const Inputs &in) : p_(p)
    {
        using namespace dnnl;
        using tag = memory::format_tag;
        using dt = memory::data_type;
        const bench_layer &l = *p.l;
        const OnednnLayer ol = onednn_layer(p);
        try {
            const deconvolution_forward::primitive_desc pd = onednn_forward_pd(eng_, prop_kind::forward_inference, ol.any);
            prim_ = deconvolution_forward(pd);

            // User data: NHWC src, (g)ohwi weights, reordered once to the
            // primitive's own formats here, outside any timing.
            std::vector<float> x = nchw_to_nhwc(in.x, p.n, l.channels, l.in_h, l.in_w);
            std::vector<float> w = iohw_to_ohwi(in.w, l);
            memory src_user(memory::desc(ol.src_dims, dt::f32, tag::nhwc), eng_, x.data());
            memory wei_user(memory::desc(ol.wei_dims, dt::f32, ol.wei_user_tag), eng_, w.data());
            src_ = memory(pd.src_desc(), eng_);
            wei_ = memory(pd.weights_desc(), eng_);
            dst_ = memory(pd.dst_desc(), eng_);
            reorder(src_user, src_).execute(strm_, src_user, src_);
            reorder(wei_user, wei_).execute(strm_, wei_user, wei_);
            strm_.wait();
            std::memset(dst_.get_data_handle(), 0xff, pd.dst_desc().get_size());  // NaN
            args_ = {{DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, wei_}, {DNNL_ARG_DST, dst_}};
            if (l.bias) {
                bias_ = memory(pd.bias_desc(), eng_);
                std::memcpy(bias_.get_data_handle(), in.bias.data(), in.bias.size() * sizeof(float));
                args_[DNNL_ARG_BIAS] = bias_;
            }
            info = std::string("onednn ") + pd.impl_info_str() + " src " + onednn_format_name(pd.src_desc()) +
                   " wei " + onednn_format_name(pd.weights_desc()) + " dst " + onednn_format_name(pd.dst_desc());
        } catch (const dnnl::error &e) {
            throw Refused(std::string("oneDNN: ") + e.what() + " (status " + std::to_string((int)e.status) + ")");
        }
    }
    void run() override
    {
        prim_.execute(strm_, args_);
        strm_.wait();
    }
    std::vector<float> output_nchw() override
    {
        using namespace dnnl;
        const bench_layer &l = *p_.l;
        std::vector<float> y((size_t)p_.y_elems());
        memory user(memory::desc({p_.n, l.filters, p_.oh, p_.ow}, memory::data_type::f32, memory::format_tag::nchw),
                    eng_, y.data());
        reorder(dst_, user).execute(strm_, dst_, user);
        strm_.wait();
        return y;
    }

private:
    Problem p_;
    dnnl::engine eng_{dnnl::engine::kind::cpu, 0};
    dnnl::stream strm_{eng_};
    dnnl::primitive prim_;
    dnnl::memory src_, wei_, dst_, bias_;
    std::unordered_map<int, dnnl::memory> args_;
};
#endif

#ifdef BENCH_HAVE_XNNPACK
// XNNPACK deconvolution (this Debian version: create + setup + run, no
// reshape): out = S * (in - 1) + adjustment + K - padding_top - padding_bottom,
// oy = iy * S + ky - padding_top; the adjustment rows/columns are computed
// like any other (PyTorch output_padding). PyTorch (p, op) is padding
// top/left/bottom/right = p, adjustment = op (XNNPACK requires op < stride).
class XnnpackImpl final : public Impl {
public:
    XnnpackImpl(const Problem &p, const Inputs &in) : p_(p)
    {
        const bench_layer &l = *p.l;
        x_ = nchw_to_nhwc(in.x, p.n, l.channels, l.in_h, l.in_w);
        w_ = iohw_to_ohwi(in.w, l);
        bias_ = in.bias;
        y_.assign((size_t)p.y_elems(), std::numeric_limits<float>::quiet_NaN());
        const uint32_t pad = (uint32_t)l.padding, k = (uint32_t)l.kernel, s = (uint32_t)l.stride;
        xnn_status st = xnn_create_deconvolution2d_nhwc_f32(
            pad, pad, pad, pad, k, k, s, s, 1, 1, (uint32_t)l.groups, (size_t)(l.channels / l.groups),
            (size_t)(l.filters / l.groups), (size_t)l.channels, (size_t)l.filters, w_.data(),
            bias_.empty() ? nullptr : bias_.data(), -std::numeric_limits<float>::infinity(),
            std::numeric_limits<float>::infinity(), 0, &op_);
        if (st != xnn_status_success)
            throw Refused("xnn_create_deconvolution2d_nhwc_f32: status " + std::to_string((int)st));
        st = xnn_setup_deconvolution2d_nhwc_f32(op_, (size_t)p.n, (size_t)l.in_h, (size_t)l.in_w,
                                                (uint32_t)l.out_pad, (uint32_t)l.out_pad, x_.data(), y_.data(),
                                                g_xnn_pool);
        if (st != xnn_status_success)
            throw Refused("xnn_setup_deconvolution2d_nhwc_f32: status " + std::to_string((int)st));
        info = g_xnn_pool ? "xnnpack deconvolution2d_nhwc_f32 (pthreadpool)"
                          : "xnnpack deconvolution2d_nhwc_f32 (no threadpool)";
    }
    ~XnnpackImpl() override
    {
        if (op_) xnn_delete_operator(op_);
    }
    XnnpackImpl(const XnnpackImpl &) = delete;
    XnnpackImpl &operator=(const XnnpackImpl &) = delete;

    void run() override
    {
        const xnn_status st = xnn_run_operator(op_, g_xnn_pool);
        if (st != xnn_status_success) die("xnn_run_operator: status " + std::to_string((int)st));
    }
    std::vector<float> output_nchw() override { return nhwc_to_nchw(y_.data(), p_.n, p_.l->filters, p_.oh, p_.ow); }

private:
    Problem p_;
    xnn_operator_t op_ = nullptr;
    std::vector<float> x_, w_, bias_, y_;
};
#endif

using Factory = std::function<std::unique_ptr<Impl>(const Problem &, const Inputs &)>;

struct Entry {
    std::string name;  // "tconv", "tconv_f64", "tconv_nchw", "tconv_tanh", "onednn", "xnnpack"
    Factory make;
    tconv_activation act = TCONV_ACT_NONE;  // fused into the output (checked with it)
    tconv_dtype dtype = TCONV_F32;
};

// ---------------------------------------------------------------------------
// Checking against tconv's reference
// ---------------------------------------------------------------------------

constexpr uint64_t kCheckSeed = 0x7c0a5eedull;
constexpr uint64_t kTimeSeed = 0xbe4c0a5eull;

int64_t check_batch(const bench_layer &l) { return std::min<int64_t>(l.batch, 2); }

struct Reference {
    const bench_layer *l = nullptr;
    Inputs in;
    std::vector<float> y;  // NCHW
};

const Reference &reference(const bench_layer &l)
{
    static Reference ref;  // one layer at a time (benchmarks run layer by layer)
    if (ref.l != &l) {
        ref = Reference{};
        const Problem p = make_problem(l, check_batch(l));
        ref.in = make_inputs(p, kCheckSeed);
        try {
            TconvImpl<float> r(p, ref.in, Layout::NCHW, TCONV_PLAN_REFERENCE);
            r.run();
            ref.y = r.output_nchw();
        } catch (const Refused &e) {
            throw Refused(std::string("no reference to check against: ") + e.what());
        }
        ref.l = &l;
    }
    return ref;
}

// Checks e's output against the reference (max_rel_error); a disagreement
// aborts the program.
void check(const bench_layer &l, const Entry &e, const std::string &bench_name)
{
    static std::set<std::string> checked;
    if (checked.count(bench_name)) return;
    const Reference &ref = reference(l);
    const Problem p = make_problem(l, check_batch(l));
    std::unique_ptr<Impl> impl = e.make(p, ref.in);  // Refused propagates
    impl->run();
    const std::vector<float> y = impl->output_nchw();
    if (y.size() != ref.y.size()) die(bench_name + ": output size differs from the reference");
    // A fused activation: the reference followed by the same activation alone.
    std::vector<float> want = ref.y;
    if (e.act != TCONV_ACT_NONE &&
        tconv_activation_forward(e.act, 0, TCONV_F32, (int64_t)want.size(), want.data(), want.data()) != TCONV_OK)
        die(std::string("tconv_activation_forward: ") + tconv_last_error());
    size_t at = 0;
    const double worst = max_rel_error(y, want, &at);
    if (!(worst <= kTolerance)) {
        const int64_t ow = p.ow, oh = p.oh, F = l.filters;
        const int64_t x = (int64_t)at % ow, yy = (int64_t)at / ow % oh, f = (int64_t)at / (ow * oh) % F,
                      n = (int64_t)at / (ow * oh * F);
        char buf[512];
        std::snprintf(buf, sizeof buf,
                      "%s DISAGREES with tconv's reference at batch %lld: max relative error %.3g > %.0e at "
                      "n=%lld f=%lld oh=%lld ow=%lld (got %.6g, reference %.6g); the layer mapping or the "
                      "implementation is wrong [%s]",
                      bench_name.c_str(), (long long)p.n, worst, kTolerance, (long long)n, (long long)f,
                      (long long)yy, (long long)x, (double)y[at], (double)want[at], impl->info.c_str());
        die(buf);
    }
    std::fprintf(stderr, "bench_fwd: check %-40s ok (batch %lld, max rel err %.2e)\n", bench_name.c_str(),
                 (long long)p.n, worst);
    checked.insert(bench_name);
}

// ---------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------

// The implementation under timing is kept between calls of the same benchmark
// (Google Benchmark calls it once per repetition and while sizing the
// iteration count) and released when the next benchmark starts.
Impl *timed_impl(const std::string &key, const std::function<std::unique_ptr<Impl>()> &make)
{
    static std::string cached_key;
    static std::unique_ptr<Impl> cached;
    if (cached_key != key || !cached) {
        cached.reset();
        cached_key.clear();
        cached = make();
        cached_key = key;
    }
    return cached.get();
}

void bm_layer(benchmark::State &state, const bench_layer *l, const Entry *e, const std::string &name)
{
    Impl *impl = nullptr;
    try {
        check(*l, *e, name);
        impl = timed_impl(name, [&] {
            const Problem p = make_problem(*l, l->batch);
            const Inputs in = make_inputs(p, kTimeSeed);
            return e->make(p, in);
        });
    } catch (const Refused &r) {
        skip_refused(state, name, r.what());
        return;
    }
    const Problem p = make_problem(*l, l->batch);
    const double elems = (double)(p.x_elems() + p.w_elems() + (l->bias ? l->filters : 0) + p.y_elems());
    const Work work{bench_layer_flops(l, l->batch) * 1e-9, elems * (double)dtype_size(e->dtype), e->dtype};
    timed_loop(state, work, name, [impl] { impl->run(); });
    state.SetLabel(impl->info);
}

// The activations --tconv_activation takes (those without a parameter).
tconv_activation parse_activation(const std::string &s)
{
    if (s == "relu") return TCONV_ACT_RELU;
    if (s == "sigmoid") return TCONV_ACT_SIGMOID;
    if (s == "tanh") return TCONV_ACT_TANH;
    if (s == "gelu") return TCONV_ACT_GELU;
    if (s == "swish") return TCONV_ACT_SWISH;
    die("--tconv_activation: unknown activation '" + s + "' (relu, sigmoid, tanh, gelu, swish)");
}

std::vector<Layout> parse_layouts(const std::string &s)
{
    std::vector<Layout> out;
    for (const std::string &t : split_list(s)) {
        if (t == "nhwc")
            out.push_back(Layout::NHWC);
        else if (t == "nchw")
            out.push_back(Layout::NCHW);
        else
            die("--tconv_layouts: unknown layout '" + t + "' (nhwc, nchw)");
    }
    return out;
}

}  // namespace

int main(int argc, char **argv)
{
    // Own flags first; Google Benchmark rejects what it does not know.
    g_program = "bench_fwd";
    std::vector<Layout> layouts{Layout::NHWC};
    CommonFlags common;
    tconv_activation fused = TCONV_ACT_NONE;
    std::string fused_name;
    bool tuned = false;
    {
        int out = 1;
        const char *lflag = "--tconv_layouts=", *aflag = "--tconv_activation=";
        for (int i = 1; i < argc; ++i) {
            if (std::strncmp(argv[i], lflag, std::strlen(lflag)) == 0) {
                layouts = parse_layouts(argv[i] + std::strlen(lflag));
            } else if (std::strncmp(argv[i], aflag, std::strlen(aflag)) == 0) {
                fused_name = argv[i] + std::strlen(aflag);
                fused = parse_activation(fused_name);
            } else if (std::strcmp(argv[i], "--tconv_tuned") == 0) {
                tuned = true;
            } else if (parse_common_flag(argv[i], &common)) {
            } else {
                argv[out++] = argv[i];
            }
        }
        argc = out;
        argv[argc] = nullptr;
    }
    // Threads: every implementation gets the same count. More than one
    // needs wall-clock time (a thread's CPU time misses the others' work).
    const int threads = common.threads;
    const bool real_time = common.real_time || threads > 1;
    g_threads = threads;
    if (tconv_set_num_threads(threads) != TCONV_OK) die(std::string("tconv_set_num_threads: ") + tconv_last_error());
#ifdef BENCH_HAVE_XNNPACK
    if (threads > 1) g_xnn_pool = pthreadpool_create((size_t)threads);
#endif
    benchmark::AddCustomContext("threads", std::to_string(threads));

#ifdef BENCH_HAVE_ONEDNN
    peer_ran(BENCH_ONEDNN_IMPL, onednn_setup() +
                                    ": deconvolution_forward (forward_inference, deconvolution_direct), format_tag::any "
                                    "for src, weights and dst; src and weights reordered into its formats once, "
                                    "outside timing");
#else
    peer_skipped("oneDNN", "libdnnl-dev not found at configure time");
#endif
#ifdef BENCH_HAVE_XNNPACK
    bool have_xnnpack = xnn_initialize(nullptr) == xnn_status_success;
    if (have_xnnpack)
        peer_ran("xnnpack", std::string("XNNPACK ") + BENCH_XNNPACK_VERSION +
                                (g_xnn_pool ? ", a pthreadpool of --threads" : ", NULL threadpool (caller's thread)") +
                                ": deconvolution2d_nhwc_f32, NHWC, OHWI weights packed at creation, outside timing");
    else
        peer_skipped("XNNPACK", "xnn_initialize failed: CPU not supported");
#elif !defined(BENCH_ONEDNN_ONLY)  // a build for one peer does not list the others
    const bool have_xnnpack = false;
    peer_skipped("XNNPACK", "libxnnpack-dev not found at configure time");
#else
    const bool have_xnnpack = false;
#endif
    std::string tconv_ctx = std::string("tconv ") + tconv_version() + " (isa " + tconv_isa_name(tconv_get_isa()) +
                            ", layouts";
    for (Layout l : layouts) tconv_ctx += std::string(" ") + layout_name(l);
    tconv_ctx += ")";
    add_host_context(tconv_ctx, tuned ? "tconv: analytic plans (TCONV_TUNE_NONE); tconv_tuned: TCONV_TUNE_MEASURE"
                                      : "analytic plans (TCONV_TUNE_NONE)");
    finish_peers();

    benchmark::AddCustomContext("threads_in_process", std::to_string(process_thread_count()));
    benchmark::AddCustomContext("time_base", real_time ? "real (wall clock)" : "cpu (thread CPU time)");
    setup_peak(real_time);  // the machine's peaks, once, for peak_frac

    static std::vector<Entry> entries;
    for (tconv_dtype dt : common.dtypes)
        for (size_t i = 0; i < layouts.size(); ++i) {
            const Layout lay = layouts[i];
            std::string name = i == 0 ? std::string("tconv") : std::string("tconv_") + layout_name(lay);
            if (dt == TCONV_F64) name += "_f64";
            entries.push_back({name,
                               [lay, dt](const Problem &p, const Inputs &in) -> std::unique_ptr<Impl> {
                                   if (dt == TCONV_F64)
                                       return std::make_unique<TconvImpl<double>>(p, in, lay, TCONV_TUNE_NONE);
                                   return std::make_unique<TconvImpl<float>>(p, in, lay, TCONV_TUNE_NONE);
                               },
                               TCONV_ACT_NONE, dt});
        }
    // Tuned: the plan measures its candidates (or takes the entry a previous
    // run stored in this host's cache); "tconv" beside it is the analytic
    // choice, whatever the cache holds.
    if (tuned) {
        const Layout lay = layouts[0];
        entries.push_back({"tconv_tuned", [lay](const Problem &p, const Inputs &in) -> std::unique_ptr<Impl> {
                               return std::make_unique<TconvImpl<float>>(p, in, lay, TCONV_TUNE_MEASURE);
                           }});
    }
    if (fused != TCONV_ACT_NONE) {
        const Layout lay = layouts[0];
        entries.push_back({"tconv_" + fused_name,
                           [lay, fused](const Problem &p, const Inputs &in) -> std::unique_ptr<Impl> {
                               return std::make_unique<TconvImpl<float>>(p, in, lay, TCONV_TUNE_NONE, fused);
                           },
                           fused});
    }
#ifdef BENCH_HAVE_ONEDNN
    entries.push_back({BENCH_ONEDNN_IMPL, [](const Problem &p, const Inputs &in) -> std::unique_ptr<Impl> {
                           return std::make_unique<OnednnImpl>(p, in);
                       }});
#endif
#ifdef BENCH_HAVE_XNNPACK
    if (have_xnnpack)
        entries.push_back({"xnnpack", [](const Problem &p, const Inputs &in) -> std::unique_ptr<Impl> {
                               return std::make_unique<XnnpackImpl>(p, in);
                           }});
#endif
    (void)have_xnnpack;

    for (size_t li = 0; li < bench_layer_count; ++li) {
        const bench_layer *l = &bench_layers[li];
        for (const Entry &e : entries) {
            const std::string name = std::string("fwd/") + l->name + "/" + e.name;
            benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(name.c_str(), bm_layer, l, &e, name);
            b->Unit(benchmark::kMillisecond);
            if (real_time) b->UseRealTime();
        }
    }
    register_peak_end(real_time);

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
