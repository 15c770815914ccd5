// bench_fwd: f32 forward transposed convolution on real model layers
// (layers.c), tconv beside oneDNN and XNNPACK in one process, on one thread
// each (or --threads=N each).
//
// Benchmarks:
//   fwd/<layer>/tconv           tconv's analytic plan (TCONV_TUNE_NONE: the
//                               tuning cache is not consulted), first layout
//                               of --tconv_layouts
//   fwd/<layer>/tconv_tuned     with --tconv_tuned: TCONV_TUNE_MEASURE (measures
//                               at the first run, the cache's entry after)
//   fwd/<layer>/tconv_<layout>  tconv in each further layout of --tconv_layouts
//   fwd/<layer>/tconv_<act>     with --tconv_activation=<act>: tconv's default
//                               plan in the first layout with that activation
//                               fused into the forward pass (DCGAN's output
//                               layer ends in tanh), beside the plain one
//   fwd/<layer>/onednn          oneDNN deconvolution_forward (forward_inference,
//                               deconvolution_direct, format_tag::any everywhere;
//                               src and weights reordered once, outside timing)
//   fwd/<layer>/xnnpack         XNNPACK deconvolution2d_nhwc_f32, NULL threadpool
//   peak/fma_f32_avx512, peak/fma_f32_avx2   independent FMA chains (machine peak)
// Counters: GFLOP/s (2*N*C*F*H*W*kh*kw/groups per pass), peak_frac (GFLOP/s
// over the best FMA peak measured at startup), cpu_util (process CPU time /
// wall time over the timed loop: ~1 per thread on idle cores, less when other
// processes took them; more than --threads + 0.5 aborts).
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
//   --time=cpu|real               time base of the rates; default cpu
//   --threads=N                   threads for tconv, oneDNN (OpenMP) and XNNPACK
//                                 (pthreadpool); N > 1 implies --time=real
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
#include <ctime>
#include <dirent.h>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BENCH_X86 1
#endif

#include "layers.h"
#include "tconv.h"

#ifdef BENCH_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>
#endif
#ifdef BENCH_HAVE_XNNPACK
#include <xnnpack.h>
#endif

#ifndef BENCH_XNNPACK_VERSION
#define BENCH_XNNPACK_VERSION "unknown"
#endif

namespace {

// --threads: what every implementation is given.
int g_threads = 1;

#ifdef BENCH_HAVE_XNNPACK
// XNNPACK's thread pool for --threads above 1 (NULL: the caller's thread).
pthreadpool_t g_xnn_pool = nullptr;
#endif

constexpr double kTolerance = 1e-3;  // max relative error, f32

[[noreturn]] void die(const std::string &msg)
{
    std::fflush(stdout);
    std::fprintf(stderr, "bench_fwd: error: %s\n", msg.c_str());
    std::exit(2);
}

// A peer (or tconv) that does not accept a layer; the benchmark is skipped.
struct Refused : std::runtime_error {
    using std::runtime_error::runtime_error;
};

double wall_seconds()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double thread_cpu_seconds()
{
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double process_cpu_seconds()
{
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int process_thread_count()
{
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    while (dirent *e = readdir(d))
        if (e->d_name[0] != '.') ++n;
    closedir(d);
    return n;
}

// ---------------------------------------------------------------------------
// Problems and data
// ---------------------------------------------------------------------------

struct Problem {
    const bench_layer *l;
    int64_t n, oh, ow;
    int64_t x_elems() const { return n * l->channels * l->in_h * l->in_w; }
    int64_t w_elems() const { return l->channels * (l->filters / l->groups) * l->kernel * l->kernel; }
    int64_t y_elems() const { return n * l->filters * oh * ow; }
};

Problem make_problem(const bench_layer &l, int64_t n)
{
    return Problem{&l, n, bench_layer_out(l.in_h, &l), bench_layer_out(l.in_w, &l)};
}

// Inputs in canonical layouts: x NCHW, w IOHW ([C][F/groups][kh][kw]), bias [F].
struct Inputs {
    std::vector<float> x, w, bias;
};

Inputs make_inputs(const Problem &p, uint64_t seed)
{
    uint64_t s = seed;
    auto next = [&s]() {  // splitmix64 -> uniform [-1, 1)
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        return (float)((double)(z >> 40) * (2.0 / 16777216.0) - 1.0);
    };
    Inputs in;
    in.x.resize((size_t)p.x_elems());
    in.w.resize((size_t)p.w_elems());
    for (float &v : in.x) v = next();
    for (float &v : in.w) v = next();
    if (p.l->bias) {
        in.bias.resize((size_t)p.l->filters);
        for (float &v : in.bias) v = next();
    }
    return in;
}

std::vector<float> nchw_to_nhwc(const std::vector<float> &a, int64_t n, int64_t c, int64_t h, int64_t w)
{
    std::vector<float> b(a.size());
    for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < c; ++k)
            for (int64_t y = 0; y < h; ++y)
                for (int64_t x = 0; x < w; ++x)
                    b[(size_t)(((i * h + y) * w + x) * c + k)] = a[(size_t)(((i * c + k) * h + y) * w + x)];
    return b;
}

std::vector<float> nhwc_to_nchw(const float *a, int64_t n, int64_t c, int64_t h, int64_t w)
{
    std::vector<float> b((size_t)(n * c * h * w));
    for (int64_t i = 0; i < n; ++i)
        for (int64_t k = 0; k < c; ++k)
            for (int64_t y = 0; y < h; ++y)
                for (int64_t x = 0; x < w; ++x)
                    b[(size_t)(((i * c + k) * h + y) * w + x)] = a[(size_t)(((i * h + y) * w + x) * c + k)];
    return b;
}

// IOHW [C][Fg][k][k] -> OHWI [F][k][k][Cg] (f = g*Fg + m, c = g*Cg + ci): the
// layout of XNNPACK's deconvolution kernel, tconv's W_OHWI and oneDNN's
// (g)ohwi.
std::vector<float> iohw_to_ohwi(const std::vector<float> &w, const bench_layer &l)
{
    const int64_t G = l.groups, Cg = l.channels / G, Fg = l.filters / G, K = l.kernel;
    std::vector<float> o(w.size());
    for (int64_t g = 0; g < G; ++g)
        for (int64_t ci = 0; ci < Cg; ++ci)
            for (int64_t m = 0; m < Fg; ++m)
                for (int64_t kh = 0; kh < K; ++kh)
                    for (int64_t kw = 0; kw < K; ++kw)
                        o[(size_t)((((g * Fg + m) * K + kh) * K + kw) * Cg + ci)] =
                            w[(size_t)((((g * Cg + ci) * Fg + m) * K + kh) * K + kw)];
    return o;
}

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

class TconvImpl final : public Impl {
public:
    TconvImpl(const Problem &p, const Inputs &in, Layout layout, unsigned flags,
              tconv_activation act = TCONV_ACT_NONE)
        : p_(p), layout_(layout)
    {
        const bench_layer &l = *p.l;
        tconv_desc d;
        tconv_desc_init(&d);
        d.batch = p.n;
        d.channels = l.channels;
        d.in_h = l.in_h;
        d.in_w = l.in_w;
        d.filters = l.filters;
        d.filter_h = d.filter_w = l.kernel;
        d.stride_h = d.stride_w = l.stride;
        d.groups = l.groups;
        d.dtype = TCONV_F32;
        d.layout = layout == Layout::NHWC ? TCONV_NHWC : TCONV_NCHW;
        d.weight_layout = layout == Layout::NHWC ? TCONV_W_OHWI : TCONV_W_IOHW;
        d.activation = act;
        const int64_t pad[2] = {l.padding, l.padding}, opad[2] = {l.out_pad, l.out_pad};
        if (tconv_crop_pytorch(&d, pad, opad) != TCONV_OK)
            throw Refused(std::string("tconv_crop_pytorch: ") + tconv_last_error());
        if (tconv_plan_create(&plan_, &d, flags) != TCONV_OK)
            throw Refused(std::string("tconv_plan_create: ") + tconv_last_error());
        int64_t oh = 0, ow = 0, y_elems = 0;
        tconv_desc_output(&d, &oh, &ow);
        tconv_desc_tensor_size(&d, TCONV_TENSOR_Y, &y_elems, nullptr);
        if (oh != p.oh || ow != p.ow || y_elems != p.y_elems())
            die("tconv output size " + std::to_string(oh) + "x" + std::to_string(ow) + " differs from the layer's " +
                std::to_string(p.oh) + "x" + std::to_string(p.ow) + " (" + l.name + ")");
        if (layout == Layout::NHWC) {
            x_ = nchw_to_nhwc(in.x, p.n, l.channels, l.in_h, l.in_w);
            w_ = iohw_to_ohwi(in.w, l);
        } else {
            x_ = in.x;
            w_ = in.w;
        }
        bias_ = in.bias;
        y_.assign((size_t)p.y_elems(), std::numeric_limits<float>::quiet_NaN());
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
        if (layout_ == Layout::NCHW) return y_;
        return nhwc_to_nchw(y_.data(), p_.n, p_.l->filters, p_.oh, p_.ow);
    }

private:
    Problem p_;
    Layout layout_;
    tconv_plan *plan_ = nullptr;
    std::vector<float> x_, w_, bias_, y_;
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
        const memory::dims src_dims{p.n, l.channels, l.in_h, l.in_w};
        const memory::dims dst_dims{p.n, l.filters, p.oh, p.ow};
        const bool grouped = l.groups > 1;
        const memory::dims wei_dims =
            grouped ? memory::dims{l.groups, l.filters / l.groups, l.channels / l.groups, l.kernel, l.kernel}
                    : memory::dims{l.filters, l.channels, l.kernel, l.kernel};
        const memory::desc bias_md = l.bias ? memory::desc({l.filters}, dt::f32, tag::x) : memory::desc();
        try {
            deconvolution_forward::desc d(prop_kind::forward_inference, algorithm::deconvolution_direct,
                                          memory::desc(src_dims, dt::f32, tag::any),
                                          memory::desc(wei_dims, dt::f32, tag::any), bias_md,
                                          memory::desc(dst_dims, dt::f32, tag::any), {l.stride, l.stride}, {0, 0},
                                          {l.padding, l.padding},
                                          {l.padding - l.out_pad, l.padding - l.out_pad});
            const deconvolution_forward::primitive_desc pd(d, eng_);
            prim_ = deconvolution_forward(pd);

            // User data: NHWC src, (g)ohwi weights, reordered once to the
            // primitive's own formats here, outside any timing.
            std::vector<float> x = nchw_to_nhwc(in.x, p.n, l.channels, l.in_h, l.in_w);
            std::vector<float> w = iohw_to_ohwi(in.w, l);
            memory src_user(memory::desc(src_dims, dt::f32, tag::nhwc), eng_, x.data());
            memory wei_user(memory::desc(wei_dims, dt::f32, grouped ? tag::gohwi : tag::ohwi), eng_, w.data());
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
            info = std::string("onednn ") + pd.impl_info_str() + " src " + fmt(pd.src_desc()) + " wei " +
                   fmt(pd.weights_desc()) + " dst " + fmt(pd.dst_desc());
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
    // A short name of a memory format: plain strides or the inner blocking.
    static std::string fmt(const dnnl::memory::desc &md)
    {
        const dnnl_memory_desc_t &d = md.data;
        if (d.format_kind != dnnl_blocked) return "non-blocked";
        std::string s = "strides";
        for (int i = 0; i < d.ndims; ++i) s += (i ? "," : ":") + std::to_string(d.format_desc.blocking.strides[i]);
        const auto &b = d.format_desc.blocking;
        if (b.inner_nblks > 0) {
            s += " blk";
            for (int i = 0; i < b.inner_nblks; ++i)
                s += (i ? "," : ":") + std::to_string(b.inner_idxs[i]) + "x" + std::to_string(b.inner_blks[i]);
        }
        return s;
    }

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
    std::string name;  // "tconv", "tconv_nchw", "tconv_tanh", "onednn", "xnnpack"
    Factory make;
    tconv_activation act = TCONV_ACT_NONE;  // fused into the output (checked with it)
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
            TconvImpl r(p, ref.in, Layout::NCHW, TCONV_PLAN_REFERENCE);
            r.run();
            ref.y = r.output_nchw();
        } catch (const Refused &e) {
            throw Refused(std::string("no reference to check against: ") + e.what());
        }
        ref.l = &l;
    }
    return ref;
}

// Max over elements of |a - r| / (|r| + mean |r|): relative where the value is
// large, absolute against the typical magnitude near zero. NaN fails.
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
    double mean = 0;
    for (float v : want) mean += std::fabs((double)v);
    mean = mean / (double)want.size() + 1e-30;
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < y.size(); ++i) {
        const double err = std::fabs((double)y[i] - (double)want[i]) / (std::fabs((double)want[i]) + mean);
        if (!(err <= worst)) {
            worst = err;
            at = i;
            if (std::isnan(err)) break;
        }
    }
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
// FMA peak
// ---------------------------------------------------------------------------

constexpr int64_t kPeakInner = 1 << 14;

#ifdef BENCH_X86
// 12 independent chains a = a * m + c: enough to cover FMA latency x ports on
// current cores (4 cycles x 2 ports = 8). m < 1 keeps values finite and normal.
#define BENCH_FMA_CHAINS(T, set1, fmadd, add)                                                          \
    T a0 = set1(0.10f), a1 = set1(0.11f), a2 = set1(0.12f), a3 = set1(0.13f), a4 = set1(0.14f),         \
      a5 = set1(0.15f), a6 = set1(0.16f), a7 = set1(0.17f), a8 = set1(0.18f), a9 = set1(0.19f),         \
      a10 = set1(0.20f), a11 = set1(0.21f);                                                             \
    const T m = set1(0.999999f), c = set1(1e-6f);                                                       \
    for (int64_t i = 0; i < n; ++i) {                                                                   \
        a0 = fmadd(a0, m, c);                                                                           \
        a1 = fmadd(a1, m, c);                                                                           \
        a2 = fmadd(a2, m, c);                                                                           \
        a3 = fmadd(a3, m, c);                                                                           \
        a4 = fmadd(a4, m, c);                                                                           \
        a5 = fmadd(a5, m, c);                                                                           \
        a6 = fmadd(a6, m, c);                                                                           \
        a7 = fmadd(a7, m, c);                                                                           \
        a8 = fmadd(a8, m, c);                                                                           \
        a9 = fmadd(a9, m, c);                                                                           \
        a10 = fmadd(a10, m, c);                                                                         \
        a11 = fmadd(a11, m, c);                                                                         \
    }                                                                                                   \
    T s = add(add(add(a0, a1), add(a2, a3)), add(add(a4, a5), add(a6, a7)));                            \
    s = add(s, add(add(a8, a9), add(a10, a11)));

__attribute__((target("avx512f"))) float fma_chains_avx512(int64_t n)
{
    BENCH_FMA_CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps)
    alignas(64) float v[16];  // not _mm512_reduce_add_ps: GCC 12 -Wuninitialized false positive
    _mm512_store_ps(v, s);
    float r = 0;
    for (float x : v) r += x;
    return r;
}
constexpr double kFlopsAvx512 = 12.0 * 16 * 2;

__attribute__((target("avx2,fma"))) float fma_chains_avx2(int64_t n)
{
    BENCH_FMA_CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps)
    alignas(32) float v[8];
    _mm256_store_ps(v, s);
    return v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
}
constexpr double kFlopsAvx2 = 12.0 * 8 * 2;
#endif

struct PeakKernel {
    const char *name;   // "avx512"
    const char *cpu;    // __builtin_cpu_supports feature
    float (*fn)(int64_t);
    double flops_per_iter;
    bool supported;
};

std::vector<PeakKernel> peak_kernels()
{
    std::vector<PeakKernel> k;
#ifdef BENCH_X86
    __builtin_cpu_init();
    k.push_back({"avx512", "avx512f", fma_chains_avx512, kFlopsAvx512, __builtin_cpu_supports("avx512f") != 0});
    k.push_back({"avx2", "avx2+fma", fma_chains_avx2, kFlopsAvx2,
                 __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")});
#endif
    return k;
}

// Best of 5 runs of ~40 ms each, on this thread's CPU time.
double measure_peak_gflops(const PeakKernel &k)
{
    double best = 0;
    for (int rep = 0; rep < 5; ++rep) {
        const int64_t n = 40 * kPeakInner;
        const double t0 = thread_cpu_seconds();
        float r = k.fn(n);
        benchmark::DoNotOptimize(r);
        const double t = thread_cpu_seconds() - t0;
        best = std::max(best, k.flops_per_iter * (double)n / t * 1e-9);
    }
    return best;
}

double g_peak_gflops = 0;  // best measured FMA peak, for peak_frac

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
        static std::set<std::string> told;
        if (told.insert(name).second) std::fprintf(stderr, "bench_fwd: %s REFUSED: %s\n", name.c_str(), r.what());
        state.SkipWithError(r.what());
        for (auto _ : state) {
        }
        return;
    }
    impl->run();  // warm-up: caches, page faults, lazy initialization
    const double cpu0 = process_cpu_seconds(), wall0 = wall_seconds();
    for (auto _ : state) impl->run();
    const double cpu = process_cpu_seconds() - cpu0, wall = wall_seconds() - wall0;
    const double gflop = bench_layer_flops(l, l->batch) * 1e-9;
    const double util = wall > 0 ? cpu / wall : 0;
    if (util > g_threads + 0.5 && wall > 0.05)
        die(name + " used " + std::to_string(util) + " CPUs on average: more than --threads=" +
            std::to_string(g_threads));
    state.counters["GFLOP/s"] = benchmark::Counter(gflop, benchmark::Counter::kIsIterationInvariantRate);
    if (g_peak_gflops > 0)
        state.counters["peak_frac"] =
            benchmark::Counter(gflop / g_peak_gflops, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["cpu_util"] = util;
    state.SetLabel(impl->info);
}

void bm_peak(benchmark::State &state, const PeakKernel *k)
{
    if (!k->supported) {
        state.SkipWithError((std::string("this CPU lacks ") + k->cpu).c_str());
        for (auto _ : state) {
        }
        return;
    }
    for (auto _ : state) {
        float r = k->fn(kPeakInner);
        benchmark::DoNotOptimize(r);
    }
    state.counters["GFLOP/s"] = benchmark::Counter(k->flops_per_iter * (double)kPeakInner * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
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
    size_t pos = 0;
    while (pos <= s.size()) {
        const size_t end = std::min(s.find(',', pos), s.size());
        const std::string t = s.substr(pos, end - pos);
        if (t == "nhwc")
            out.push_back(Layout::NHWC);
        else if (t == "nchw")
            out.push_back(Layout::NCHW);
        else
            die("--tconv_layouts: unknown layout '" + t + "' (nhwc, nchw)");
        pos = end + 1;
    }
    return out;
}

}  // namespace

int main(int argc, char **argv)
{
    // Own flags first; Google Benchmark rejects what it does not know.
    std::vector<Layout> layouts{Layout::NHWC};
    bool real_time = false;
    tconv_activation fused = TCONV_ACT_NONE;
    std::string fused_name;
    int threads = 1;
    bool tuned = false;
    {
        int out = 1;
        const char *lflag = "--tconv_layouts=", *tflag = "--time=", *aflag = "--tconv_activation=",
                   *nflag = "--threads=";
        for (int i = 1; i < argc; ++i) {
            if (std::strncmp(argv[i], lflag, std::strlen(lflag)) == 0) {
                layouts = parse_layouts(argv[i] + std::strlen(lflag));
            } else if (std::strncmp(argv[i], aflag, std::strlen(aflag)) == 0) {
                fused_name = argv[i] + std::strlen(aflag);
                fused = parse_activation(fused_name);
            } else if (std::strcmp(argv[i], "--tconv_tuned") == 0) {
                tuned = true;
            } else if (std::strncmp(argv[i], nflag, std::strlen(nflag)) == 0) {
                char *end = nullptr;
                const long n = std::strtol(argv[i] + std::strlen(nflag), &end, 10);
                if (*end || n < 1 || n > 1024) die(std::string("--threads: a count from 1 to 1024, not '") + (argv[i] + std::strlen(nflag)) + "'");
                threads = (int)n;
            } else if (std::strncmp(argv[i], tflag, std::strlen(tflag)) == 0) {
                const std::string t = argv[i] + std::strlen(tflag);
                if (t != "cpu" && t != "real") die("--time: 'cpu' or 'real', not '" + t + "'");
                real_time = t == "real";
            } else {
                argv[out++] = argv[i];
            }
        }
        argc = out;
        argv[argc] = nullptr;
    }
    // Threads: every implementation gets the same count. More than one
    // needs wall-clock time (a thread's CPU time misses the others' work).
    if (threads > 1) real_time = true;
    g_threads = threads;
    if (tconv_set_num_threads(threads) != TCONV_OK) die(std::string("tconv_set_num_threads: ") + tconv_last_error());
#ifdef BENCH_HAVE_XNNPACK
    if (threads > 1) g_xnn_pool = pthreadpool_create((size_t)threads);
#endif
    benchmark::AddCustomContext("threads", std::to_string(threads));

    std::string peers_in, peers_out;
    auto add = [](std::string &list, const std::string &s) { list += (list.empty() ? "" : "; ") + s; };

#ifdef BENCH_HAVE_ONEDNN
    // Debian's libdnnl is built with the OpenMP CPU runtime (libgomp): the
    // thread count for every primitive created from now on.
    omp_set_num_threads(threads);
    if (omp_get_max_threads() != threads) die("omp_set_num_threads did not take effect");
    {
        const dnnl_version_t *v = dnnl_version();
        const char *rt = v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : v->cpu_runtime == DNNL_RUNTIME_SEQ ? "sequential"
                                                                                                            : "other";
        std::string isa;
        switch (dnnl::get_effective_cpu_isa()) {
        case dnnl::cpu_isa::avx512_core_amx: isa = "avx512_core_amx"; break;
        case dnnl::cpu_isa::avx512_core_bf16: isa = "avx512_core_bf16"; break;
        case dnnl::cpu_isa::avx512_core_vnni: isa = "avx512_core_vnni"; break;
        case dnnl::cpu_isa::avx512_core: isa = "avx512_core"; break;
        case dnnl::cpu_isa::avx2_vnni: isa = "avx2_vnni"; break;
        case dnnl::cpu_isa::avx2: isa = "avx2"; break;
        default: isa = "other"; break;
        }
        char buf[256];
        std::snprintf(buf, sizeof buf, "oneDNN %d.%d.%d (%s runtime, omp_get_max_threads()=%d, isa %s)", v->major,
                      v->minor, v->patch, rt, omp_get_max_threads(), isa.c_str());
        add(peers_in, buf);
        benchmark::AddCustomContext("onednn", buf);
    }
#else
    add(peers_out, "oneDNN (not found at configure time)");
#endif
#ifdef BENCH_HAVE_XNNPACK
    bool have_xnnpack = xnn_initialize(nullptr) == xnn_status_success;
    if (have_xnnpack) {
        const std::string s = std::string("XNNPACK ") + BENCH_XNNPACK_VERSION +
                              (g_xnn_pool ? " (pthreadpool of --threads)" : " (NULL threadpool: caller's thread)");
        add(peers_in, s);
        benchmark::AddCustomContext("xnnpack", s);
    } else {
        add(peers_out, "XNNPACK (xnn_initialize failed: CPU not supported)");
    }
#else
    const bool have_xnnpack = false;
    add(peers_out, "XNNPACK (not found at configure time)");
#endif
    std::string tconv_ctx = std::string("tconv ") + tconv_version() + " (isa " + tconv_isa_name(tconv_get_isa()) +
                            ", layouts";
    for (Layout l : layouts) tconv_ctx += std::string(" ") + layout_name(l);
    tconv_ctx += ")";
    benchmark::AddCustomContext("tconv", tconv_ctx);
    std::fprintf(stderr, "bench_fwd: %s\n", tconv_ctx.c_str());
    std::fprintf(stderr, "bench_fwd: peers in:  %s\n", peers_in.empty() ? "none" : peers_in.c_str());
    std::fprintf(stderr, "bench_fwd: peers out: %s\n", peers_out.empty() ? "none" : peers_out.c_str());

    // The FMA peak, once, for peak_frac.
    static const std::vector<PeakKernel> kernels = peak_kernels();
    std::string peak_ctx;
    for (const PeakKernel &k : kernels) {
        if (!k.supported) continue;
        const double g = measure_peak_gflops(k);
        g_peak_gflops = std::max(g_peak_gflops, g);
        char buf[96];
        std::snprintf(buf, sizeof buf, "%s%s %.1f GFLOP/s", peak_ctx.empty() ? "" : ", ", k.name, g);
        peak_ctx += buf;
    }
    if (peak_ctx.empty()) peak_ctx = "no FMA kernel for this CPU";
    std::fprintf(stderr, "bench_fwd: f32 FMA peak, one thread: %s\n", peak_ctx.c_str());
    benchmark::AddCustomContext("fma_peak", peak_ctx);
    benchmark::AddCustomContext("peak_gflops", std::to_string(g_peak_gflops));
    benchmark::AddCustomContext("threads_in_process", std::to_string(process_thread_count()));

    benchmark::AddCustomContext("time_base", real_time ? "real (wall clock)" : "cpu (thread CPU time)");
    for (const PeakKernel &k : kernels) {
        benchmark::internal::Benchmark *b =
            benchmark::RegisterBenchmark((std::string("peak/fma_f32_") + k.name).c_str(), bm_peak, &k);
        if (real_time) b->UseRealTime();
    }

    static std::vector<Entry> entries;
    for (size_t i = 0; i < layouts.size(); ++i) {
        const Layout lay = layouts[i];
        entries.push_back({i == 0 ? std::string("tconv") : std::string("tconv_") + layout_name(lay),
                           [lay](const Problem &p, const Inputs &in) -> std::unique_ptr<Impl> {
                               return std::make_unique<TconvImpl>(p, in, lay, TCONV_TUNE_NONE);
                           }});
    }
    // Tuned: the plan measures its candidates (or takes the entry a previous
    // run stored in this host's cache); "tconv" beside it is the analytic
    // choice, whatever the cache holds.
    if (tuned) {
        const Layout lay = layouts[0];
        entries.push_back({"tconv_tuned", [lay](const Problem &p, const Inputs &in) -> std::unique_ptr<Impl> {
                               return std::make_unique<TconvImpl>(p, in, lay, TCONV_TUNE_MEASURE);
                           }});
    }
    if (fused != TCONV_ACT_NONE) {
        const Layout lay = layouts[0];
        entries.push_back({"tconv_" + fused_name,
                           [lay, fused](const Problem &p, const Inputs &in) -> std::unique_ptr<Impl> {
                               return std::make_unique<TconvImpl>(p, in, lay, TCONV_TUNE_NONE, fused);
                           },
                           fused});
    }
#ifdef BENCH_HAVE_ONEDNN
    entries.push_back({"onednn", [](const Problem &p, const Inputs &in) -> std::unique_ptr<Impl> {
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

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
