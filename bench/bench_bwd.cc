// bench_bwd: the backward passes of transposed convolution on the model
// layers (layers.c) at training batch sizes, tconv beside oneDNN's
// deconvolution backward primitives in one process, on one thread each (or
// --threads=N each). bench/run.sh runs it; bench/README.md describes the
// JSON it writes.
//
// Benchmarks, for each layer and each batch of --batches (the suite's
// batch-16 copies of DCGAN layers are left out: they are the same layers):
//   bwd_data/<layer>_b<N>/tconv      tconv_backward_data: dx from dy and w, f32
//   bwd_data/<layer>_b<N>/tconv_f64  the same in f64 (no peer has f64)
//   bwd_data/<layer>_b<N>/onednn     deconvolution_backward_data
//   bwd_weights/<layer>_b<N>/tconv   tconv_backward_weights: dw and dbias (when
//                                    the layer has a bias) from x and dy
//   bwd_weights/<layer>_b<N>/tconv_f64
//   bwd_weights/<layer>_b<N>/onednn  deconvolution_backward_weights (with
//                                    diff_bias when the layer has a bias)
//   peak/..., peak_end/...           the machine's peaks, as bench_fwd's
// (onednn is onednn_pypi in a -Donednn_prefix build.) tconv runs its
// analytic plan (TCONV_TUNE_NONE) in NHWC with W_OHWI weights and packs the
// weights inside every backward-data call (in training they change every
// step). oneDNN gets its best case: format_tag::any everywhere (its own
// blocked layouts), the inputs reordered into them once, outside timing, as
// a training framework that keeps oneDNN's layouts does; forward_training
// as the hint.
// Counters as bench_fwd's: GFLOP/s (2*N*C*F*H*W*kh*kw/groups per pass: the
// same multiply-adds as the forward pass), peak_frac, bytes (backward-data:
// dy, w and dx once; backward-weights: x, dy, dw and dbias), cpu_util.
//
// Before the first timing of a (pass, layer, implementation), its output is
// checked against tconv's reference plan (TCONV_PLAN_REFERENCE) at batch 1;
// a disagreement (max relative error > 1e-3) aborts the program. A (layer,
// batch) whose tensors would need more than --max_gib is skipped with that
// reason in its benchmark's error, and so in the report.
//
// Own flags (the rest goes to Google Benchmark):
//   --batches=16,64     batch sizes (default 16,64)
//   --max_gib=G         skip a (layer, batch, dtype) whose x, dy, dx and the
//                       implementation's copies need more than G GiB (default 4)
//   --passes=bwd_data,bwd_weights   the passes to time (default both)
//   --threads=N, --time=cpu|real, --dtypes=f32,f64, --run_label=NAME,
//   --list_layers                   as bench_fwd
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <set>
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

namespace {

using namespace bench;

constexpr double kTolerance = 1e-3;  // max relative error, f32
// The check batch: the reference runs well under 1 GFLOP/s, so one image
// (tests/test_backward.c covers the reduction over a batch).
constexpr int64_t kCheckBatch = 1;
constexpr uint64_t kCheckSeed = 0x7c0a5eedull;
constexpr uint64_t kTimeSeed = 0xbe4c0a5eull;

enum class Pass { Data, Weights };

const char *pass_name(Pass p) { return p == Pass::Data ? "bwd_data" : "bwd_weights"; }

// What a backward pass computes, in canonical layouts: dx NCHW for
// backward-data; dw IOHW and then dbias (when the layer has a bias) for
// backward-weights.
class Impl {
public:
    virtual ~Impl() = default;
    virtual void run() = 0;
    virtual std::vector<float> output() = 0;
    std::string info;
};

// tconv in f32 or f64 (T); f64 takes the same inputs (doubles hold them
// exactly) and is checked against the same f32 reference.
template <typename T>
class TconvImpl final : public Impl {
public:
    TconvImpl(const Problem &p, const Inputs &in, Pass pass, unsigned flags) : p_(p), pass_(pass)
    {
        const bench_layer &l = *p.l;
        const tconv_desc d = layer_desc(l, p.n, TCONV_NHWC, TCONV_W_OHWI, sizeof(T) == 8 ? TCONV_F64 : TCONV_F32);
        if (tconv_plan_create(&plan_, &d, flags) != TCONV_OK)
            throw Refused(std::string("tconv_plan_create: ") + tconv_last_error());
        int64_t oh = 0, ow = 0;
        tconv_desc_output(&d, &oh, &ow);
        if (oh != p.oh || ow != p.ow) die(std::string("tconv output size differs from the layer's (") + l.name + ")");
        const T nan = std::numeric_limits<T>::quiet_NaN();
        dy_ = as<T>(nchw_to_nhwc(in.dy, p.n, l.filters, p.oh, p.ow));
        if (pass == Pass::Data) {
            w_ = as<T>(iohw_to_ohwi(in.w, l));
            dx_.assign((size_t)p.x_elems(), nan);
        } else {
            x_ = as<T>(nchw_to_nhwc(in.x, p.n, l.channels, l.in_h, l.in_w));
            dw_.assign((size_t)p.w_elems(), nan);
            if (l.bias) dbias_.assign((size_t)l.filters, nan);
        }
        info = tconv_plan_info(plan_);
    }
    ~TconvImpl() override { tconv_plan_destroy(plan_); }
    TconvImpl(const TconvImpl &) = delete;
    TconvImpl &operator=(const TconvImpl &) = delete;

    void run() override
    {
        const tconv_status s =
            pass_ == Pass::Data
                ? tconv_backward_data(plan_, dy_.data(), w_.data(), dx_.data())
                : tconv_backward_weights(plan_, x_.data(), dy_.data(), dw_.data(),
                                         dbias_.empty() ? nullptr : dbias_.data());
        if (s != TCONV_OK) die(std::string(pass_name(pass_)) + ": " + tconv_last_error());
    }
    std::vector<float> output() override
    {
        const bench_layer &l = *p_.l;
        if (pass_ == Pass::Data) return nhwc_to_nchw(as_float(dx_).data(), p_.n, l.channels, l.in_h, l.in_w);
        std::vector<float> out = ohwi_to_iohw(as_float(dw_), l);
        out.insert(out.end(), dbias_.begin(), dbias_.end());
        return out;
    }

private:
    Problem p_;
    Pass pass_;
    tconv_plan *plan_ = nullptr;
    aligned_vector<T> x_, w_, dy_, dx_, dw_, dbias_;
};

// The reference at the check batch, in canonical layouts (NCHW, IOHW).
std::vector<float> reference_output(const Problem &p, const Inputs &in, Pass pass)
{
    const bench_layer &l = *p.l;
    const tconv_desc d = layer_desc(l, p.n, TCONV_NCHW, TCONV_W_IOHW);
    tconv_plan *plan = nullptr;
    if (tconv_plan_create(&plan, &d, TCONV_PLAN_REFERENCE) != TCONV_OK)
        throw Refused(std::string("no reference to check against: ") + tconv_last_error());
    std::vector<float> out;
    tconv_status s;
    if (pass == Pass::Data) {
        out.resize((size_t)p.x_elems());
        s = tconv_backward_data(plan, in.dy.data(), in.w.data(), out.data());
    } else {
        out.resize((size_t)p.w_elems() + (l.bias ? (size_t)l.filters : 0));
        s = tconv_backward_weights(plan, in.x.data(), in.dy.data(), out.data(),
                                   l.bias ? out.data() + p.w_elems() : nullptr);
    }
    tconv_plan_destroy(plan);
    if (s != TCONV_OK) die(std::string("reference ") + pass_name(pass) + ": " + tconv_last_error());
    return out;
}

#ifdef BENCH_HAVE_ONEDNN
// oneDNN deconvolution (see bench_fwd.cc for the mapping of PyTorch's
// padding and output_padding): the backward primitive of the pass, created
// with the forward_training primitive as its hint.
class OnednnImpl final : public Impl {
public:
    OnednnImpl(const Problem &p, const Inputs &in, Pass pass) : p_(p), pass_(pass)
    {
        using namespace dnnl;
        using tag = memory::format_tag;
        using dt = memory::data_type;
        const bench_layer &l = *p.l;
        const OnednnLayer ol = onednn_layer(p);
        wei_dims_ = ol.wei_dims;
        wei_tag_ = ol.wei_user_tag;
        try {
            const deconvolution_forward::primitive_desc hint = onednn_forward_pd(eng_, prop_kind::forward_training, ol.any);
            // User data: NHWC activations, (g)ohwi weights, reordered once
            // into the primitive's formats here, outside any timing.
            std::vector<float> dy = nchw_to_nhwc(in.dy, p.n, l.filters, p.oh, p.ow);
            memory dy_user(memory::desc(ol.dst_dims, dt::f32, tag::nhwc), eng_, dy.data());
            if (pass == Pass::Data) {
                const deconvolution_backward_data::primitive_desc pd = onednn_backward_data_pd(eng_, ol.any, hint);
                prim_ = deconvolution_backward_data(pd);
                std::vector<float> w = iohw_to_ohwi(in.w, l);
                memory wei_user(memory::desc(wei_dims_, dt::f32, wei_tag_), eng_, w.data());
                diff_dst_ = to(dy_user, pd.diff_dst_desc());
                wei_ = to(wei_user, pd.weights_desc());
                out_ = memory(pd.diff_src_desc(), eng_);
                args_ = {{DNNL_ARG_DIFF_DST, diff_dst_}, {DNNL_ARG_WEIGHTS, wei_}, {DNNL_ARG_DIFF_SRC, out_}};
                info = "onednn " + std::string(pd.impl_info_str());
            } else {
                const deconvolution_backward_weights::primitive_desc pd =
                    onednn_backward_weights_pd(eng_, ol.any, hint);
                prim_ = deconvolution_backward_weights(pd);
                std::vector<float> x = nchw_to_nhwc(in.x, p.n, l.channels, l.in_h, l.in_w);
                memory src_user(memory::desc(ol.src_dims, dt::f32, tag::nhwc), eng_, x.data());
                src_ = to(src_user, pd.src_desc());
                diff_dst_ = to(dy_user, pd.diff_dst_desc());
                out_ = memory(pd.diff_weights_desc(), eng_);
                args_ = {{DNNL_ARG_SRC, src_}, {DNNL_ARG_DIFF_DST, diff_dst_}, {DNNL_ARG_DIFF_WEIGHTS, out_}};
                if (l.bias) {
                    diff_bias_ = memory(pd.diff_bias_desc(), eng_);
                    args_[DNNL_ARG_DIFF_BIAS] = diff_bias_;
                }
                info = "onednn " + std::string(pd.impl_info_str());
            }
            std::memset(out_.get_data_handle(), 0xff, out_.get_desc().get_size());  // NaN
        } catch (const dnnl::error &e) {
            throw Refused(std::string("oneDNN: ") + e.what() + " (status " + std::to_string((int)e.status) + ")");
        }
    }
    void run() override
    {
        prim_.execute(strm_, args_);
        strm_.wait();
    }
    std::vector<float> output() override
    {
        using namespace dnnl;
        using tag = memory::format_tag;
        const bench_layer &l = *p_.l;
        if (pass_ == Pass::Data) {
            std::vector<float> dx((size_t)p_.x_elems());
            memory user(memory::desc({p_.n, l.channels, l.in_h, l.in_w}, memory::data_type::f32, tag::nchw), eng_,
                        dx.data());
            reorder(out_, user).execute(strm_, out_, user);
            strm_.wait();
            return dx;
        }
        std::vector<float> dw((size_t)p_.w_elems());
        memory user(memory::desc(wei_dims_, memory::data_type::f32, wei_tag_), eng_, dw.data());
        reorder(out_, user).execute(strm_, out_, user);
        strm_.wait();
        std::vector<float> out = ohwi_to_iohw(dw, l);
        if (l.bias) {
            const float *b = static_cast<const float *>(diff_bias_.get_data_handle());
            out.insert(out.end(), b, b + l.filters);
        }
        return out;
    }

private:
    // A copy of user in the primitive's format md.
    dnnl::memory to(dnnl::memory &user, const dnnl::memory::desc &md)
    {
        dnnl::memory m(md, eng_);
        dnnl::reorder(user, m).execute(strm_, user, m);
        strm_.wait();
        return m;
    }

    Problem p_;
    Pass pass_;
    dnnl::memory::dims wei_dims_;
    dnnl::memory::format_tag wei_tag_;
    dnnl::engine eng_{dnnl::engine::kind::cpu, 0};
    dnnl::stream strm_{eng_};
    dnnl::primitive prim_;
    dnnl::memory src_, wei_, diff_dst_, out_, diff_bias_;
    std::unordered_map<int, dnnl::memory> args_;
};
#endif

struct Entry {
    std::string name;  // "tconv", "tconv_f64", "onednn"
    std::unique_ptr<Impl> (*make)(const Problem &, const Inputs &, Pass);
    tconv_dtype dtype;
};

template <typename T>
std::unique_ptr<Impl> make_tconv(const Problem &p, const Inputs &in, Pass pass)
{
    return std::make_unique<TconvImpl<T>>(p, in, pass, TCONV_TUNE_NONE);
}
#ifdef BENCH_HAVE_ONEDNN
std::unique_ptr<Impl> make_onednn(const Problem &p, const Inputs &in, Pass pass)
{
    return std::make_unique<OnednnImpl>(p, in, pass);
}
#endif

// One timed configuration.
struct Case {
    const bench_layer *l;
    int64_t batch;
    Pass pass;
    const Entry *e;
    std::string name;       // bwd_data/<layer>_b<N>/<impl>
    std::string too_large;  // non-empty: the reason it is skipped
};

// The reference's output of the pass and layer of c at the check batch,
// computed once for all the batches and implementations of that layer
// (benchmarks run pass by pass, layer by layer).
struct Reference {
    const bench_layer *l = nullptr;
    Pass pass = Pass::Data;
    Inputs in;
    std::vector<float> out;
};

const Reference &reference(const Case &c)
{
    static Reference ref;
    if (ref.l != c.l || ref.pass != c.pass) {
        ref = Reference{};
        const Problem p = make_problem(*c.l, kCheckBatch);
        ref.in = make_inputs(p, kCheckSeed, true);
        ref.out = reference_output(p, ref.in, c.pass);
        ref.l = c.l;
        ref.pass = c.pass;
    }
    return ref;
}

void check(const Case &c)
{
    static std::set<std::string> checked;  // (pass, layer, implementation)
    const std::string key = std::string(pass_name(c.pass)) + "/" + c.l->name + "/" + c.e->name;
    if (checked.count(key)) return;
    const Problem p = make_problem(*c.l, kCheckBatch);
    const Reference &ref = reference(c);
    const std::vector<float> &want = ref.out;
    const Inputs &in = ref.in;
    std::unique_ptr<Impl> impl = c.e->make(p, in, c.pass);  // Refused propagates
    impl->run();
    size_t at = 0;
    const double worst = max_rel_error(impl->output(), want, &at);
    if (!(worst <= kTolerance)) {
        char buf[512];
        std::snprintf(buf, sizeof buf,
                      "%s DISAGREES with tconv's reference at batch %lld: max relative error %.3g > %.0e at "
                      "element %zu; the layer mapping or the implementation is wrong [%s]",
                      c.name.c_str(), (long long)kCheckBatch, worst, kTolerance, at, impl->info.c_str());
        die(buf);
    }
    std::fprintf(stderr, "bench_bwd: check %-48s ok (batch %lld, max rel err %.2e)\n", key.c_str(),
                 (long long)kCheckBatch, worst);
    checked.insert(key);
}

void bm_case(benchmark::State &state, const Case *c)
{
    if (!c->too_large.empty()) {
        skip_refused(state, c->name, c->too_large.c_str());
        return;
    }
    static std::string cached_name;  // kept across repetitions of one benchmark
    static std::unique_ptr<Impl> cached;
    try {
        check(*c);
        if (cached_name != c->name || !cached) {
            cached.reset();
            cached_name.clear();
            const Problem p = make_problem(*c->l, c->batch);
            cached = c->e->make(p, make_inputs(p, kTimeSeed, true), c->pass);
            cached_name = c->name;
        }
    } catch (const Refused &r) {
        skip_refused(state, c->name, r.what());
        return;
    }
    Impl *impl = cached.get();
    // Each tensor the pass reads or writes, once.
    const Problem p = make_problem(*c->l, c->batch);
    const int64_t bias = c->l->bias ? c->l->filters : 0;
    const double elems = c->pass == Pass::Data ? (double)(p.y_elems() + p.w_elems() + p.x_elems())
                                               : (double)(p.x_elems() + p.y_elems() + p.w_elems() + bias);
    const Work work{bench_layer_flops(c->l, c->batch) * 1e-9, elems * (double)dtype_size(c->e->dtype), c->e->dtype};
    timed_loop(state, work, c->name, [impl] { impl->run(); });
    state.SetLabel(impl->info);
}

// Whether layer l is another layer of the suite at a larger batch
// ("dcgan_512_256_b16"): --batches sets the batch here, so it would repeat.
bool is_batch_variant(const bench_layer &l)
{
    const std::string name = l.name;
    const size_t at = name.rfind("_b");
    if (at == std::string::npos || at + 2 >= name.size() ||
        name.find_first_not_of("0123456789", at + 2) != std::string::npos)
        return false;
    for (size_t i = 0; i < bench_layer_count; ++i)
        if (name.compare(0, at, bench_layers[i].name) == 0 && std::strlen(bench_layers[i].name) == at) return true;
    return false;
}

}  // namespace

int main(int argc, char **argv)
{
    g_program = "bench_bwd";
    CommonFlags common;
    std::vector<int64_t> batches{16, 64};
    std::vector<Pass> passes{Pass::Data, Pass::Weights};
    double max_gib = 4.0;
    {
        int out = 1;
        const char *bflag = "--batches=", *mflag = "--max_gib=", *pflag = "--passes=";
        for (int i = 1; i < argc; ++i) {
            const char *a = argv[i];
            if (std::strncmp(a, bflag, std::strlen(bflag)) == 0) {
                batches.clear();
                for (const std::string &t : split_list(a + std::strlen(bflag))) {
                    char *end = nullptr;
                    const long long n = std::strtoll(t.c_str(), &end, 10);
                    if (t.empty() || *end || n < 1 || n > 4096) die("--batches: counts from 1 to 4096, not '" + t + "'");
                    batches.push_back(n);
                }
            } else if (std::strncmp(a, pflag, std::strlen(pflag)) == 0) {
                passes.clear();
                for (const std::string &t : split_list(a + std::strlen(pflag))) {
                    if (t == "bwd_data") passes.push_back(Pass::Data);
                    else if (t == "bwd_weights") passes.push_back(Pass::Weights);
                    else die("--passes: bwd_data or bwd_weights, not '" + t + "'");
                }
            } else if (std::strncmp(a, mflag, std::strlen(mflag)) == 0) {
                char *end = nullptr;
                max_gib = std::strtod(a + std::strlen(mflag), &end);
                if (*end || !(max_gib > 0)) die(std::string("--max_gib: a positive size, not '") + (a + std::strlen(mflag)) + "'");
            } else if (!parse_common_flag(a, &common)) {
                argv[out++] = argv[i];
            }
        }
        argc = out;
        argv[argc] = nullptr;
    }
    const bool real_time = common.real_time || common.threads > 1;
    g_threads = common.threads;
    if (tconv_set_num_threads(g_threads) != TCONV_OK) die(std::string("tconv_set_num_threads: ") + tconv_last_error());
    benchmark::AddCustomContext("threads", std::to_string(g_threads));

#ifdef BENCH_HAVE_ONEDNN
    peer_ran(BENCH_ONEDNN_IMPL,
             onednn_setup() +
                 ": deconvolution_backward_data and deconvolution_backward_weights (with diff_bias when the layer "
                 "has a bias), forward_training hint, format_tag::any everywhere; inputs reordered into its formats "
                 "once, outside timing");
#else
    peer_skipped("oneDNN", "libdnnl-dev not found at configure time");
#endif
    add_host_context(std::string("tconv ") + tconv_version() + " (isa " + tconv_isa_name(tconv_get_isa()) +
                         ", layout nhwc, weights W_OHWI packed inside every backward-data call)",
                     "analytic plans (TCONV_TUNE_NONE)");
    finish_peers();
    benchmark::AddCustomContext("time_base", real_time ? "real (wall clock)" : "cpu (thread CPU time)");
    setup_peak(real_time);

    static std::vector<Entry> entries;
    for (tconv_dtype dt : common.dtypes)
        entries.push_back(dt == TCONV_F64 ? Entry{"tconv_f64", make_tconv<double>, dt}
                                          : Entry{"tconv", make_tconv<float>, dt});
#ifdef BENCH_HAVE_ONEDNN
    entries.push_back({BENCH_ONEDNN_IMPL, make_onednn, TCONV_F32});
#endif
    static std::vector<Case> cases;  // stable addresses once filled
    for (Pass pass : passes)
        for (size_t li = 0; li < bench_layer_count; ++li)
            for (int64_t n : batches) {
                const bench_layer *l = &bench_layers[li];
                if (is_batch_variant(*l)) continue;
                const Problem p = make_problem(*l, n);
                for (const Entry &e : entries) {
                    // x, dy, the result and the implementation's copies of them.
                    const double gib = 3.0 * (double)dtype_size(e.dtype) *
                                       (double)(p.x_elems() + p.y_elems() + (pass == Pass::Data ? p.x_elems() : 0)) /
                                       (1024.0 * 1024.0 * 1024.0);
                    char why[160] = "";
                    if (gib > max_gib)
                        std::snprintf(why, sizeof why, "working set %.1f GiB > --max_gib=%g", gib, max_gib);
                    cases.push_back({l, n, pass, &e,
                                     std::string(pass_name(pass)) + "/" + l->name + "_b" + std::to_string(n) + "/" +
                                         e.name,
                                     why});
                }
            }
    for (const Case &c : cases) {
        benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(c.name.c_str(), bm_case, &c);
        b->Unit(benchmark::kMillisecond);
        if (real_time) b->UseRealTime();
    }
    register_peak_end(real_time);

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
