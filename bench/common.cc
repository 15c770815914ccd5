// The parts bench_fwd and bench_bwd share (common.h).
#include "common.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <set>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BENCH_X86 1
#endif

#ifdef BENCH_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>
#endif

namespace bench {

const char *g_program = "bench";
int g_threads = 1;
double g_peak_gflops = 0;

void die(const std::string &msg)
{
    std::fflush(stdout);
    std::fprintf(stderr, "%s: error: %s\n", g_program, msg.c_str());
    std::exit(2);
}

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

Problem make_problem(const bench_layer &l, int64_t n)
{
    return Problem{&l, n, bench_layer_out(l.in_h, &l), bench_layer_out(l.in_w, &l)};
}

tconv_desc layer_desc(const bench_layer &l, int64_t n, tconv_layout layout, tconv_weight_layout weight_layout)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.batch = n;
    d.channels = l.channels;
    d.in_h = l.in_h;
    d.in_w = l.in_w;
    d.filters = l.filters;
    d.filter_h = d.filter_w = l.kernel;
    d.stride_h = d.stride_w = l.stride;
    d.groups = l.groups;
    d.dtype = TCONV_F32;
    d.layout = layout;
    d.weight_layout = weight_layout;
    const int64_t pad[2] = {l.padding, l.padding}, opad[2] = {l.out_pad, l.out_pad};
    if (tconv_crop_pytorch(&d, pad, opad) != TCONV_OK)
        throw Refused(std::string("tconv_crop_pytorch: ") + tconv_last_error());
    return d;
}

Inputs make_inputs(const Problem &p, uint64_t seed, bool with_dy)
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
    if (with_dy) {
        in.dy.resize((size_t)p.y_elems());
        for (float &v : in.dy) v = next();
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
// IOHW [C][Fg][K][K] and OHWI [F][K][K][Cg] of the same weights, one way
// or the other.
static std::vector<float> reorder_weights(const std::vector<float> &w, const bench_layer &l, bool to_ohwi)
{
    const int64_t G = l.groups, Cg = l.channels / G, Fg = l.filters / G, K = l.kernel;
    std::vector<float> o(w.size());
    for (int64_t g = 0; g < G; ++g)
        for (int64_t ci = 0; ci < Cg; ++ci)
            for (int64_t m = 0; m < Fg; ++m)
                for (int64_t kh = 0; kh < K; ++kh)
                    for (int64_t kw = 0; kw < K; ++kw) {
                        const size_t iohw = (size_t)((((g * Cg + ci) * Fg + m) * K + kh) * K + kw);
                        const size_t ohwi = (size_t)((((g * Fg + m) * K + kh) * K + kw) * Cg + ci);
                        if (to_ohwi) o[ohwi] = w[iohw];
                        else o[iohw] = w[ohwi];
                    }
    return o;
}

std::vector<float> iohw_to_ohwi(const std::vector<float> &w, const bench_layer &l) { return reorder_weights(w, l, true); }

std::vector<float> ohwi_to_iohw(const std::vector<float> &w, const bench_layer &l) { return reorder_weights(w, l, false); }

double max_rel_error(const std::vector<float> &got, const std::vector<float> &want, size_t *at)
{
    *at = 0;
    if (got.size() != want.size()) return NAN;
    double mean = 0;
    for (float v : want) mean += std::fabs((double)v);
    mean = mean / (double)std::max<size_t>(want.size(), 1) + 1e-30;
    double worst = 0;
    for (size_t i = 0; i < got.size(); ++i) {
        const double err = std::fabs((double)got[i] - (double)want[i]) / (std::fabs((double)want[i]) + mean);
        if (!(err <= worst)) {
            worst = err;
            *at = i;
            if (std::isnan(err)) break;
        }
    }
    return worst;
}

// ---------------------------------------------------------------------------
// FMA peak
// ---------------------------------------------------------------------------

namespace {

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

}  // namespace

void setup_peak(bool real_time)
{
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
    std::fprintf(stderr, "%s: f32 FMA peak, one thread: %s\n", g_program, peak_ctx.c_str());
    benchmark::AddCustomContext("fma_peak", peak_ctx);
    benchmark::AddCustomContext("peak_gflops", std::to_string(g_peak_gflops));
    for (const PeakKernel &k : kernels) {
        benchmark::internal::Benchmark *b =
            benchmark::RegisterBenchmark((std::string("peak/fma_f32_") + k.name).c_str(), bm_peak, &k);
        if (real_time) b->UseRealTime();
    }
}

int parse_common_flag(const char *arg, CommonFlags *f)
{
    const char *tflag = "--time=", *nflag = "--threads=";
    if (std::strncmp(arg, nflag, std::strlen(nflag)) == 0) {
        char *end = nullptr;
        const long n = std::strtol(arg + std::strlen(nflag), &end, 10);
        if (*end || n < 1 || n > 1024)
            die(std::string("--threads: a count from 1 to 1024, not '") + (arg + std::strlen(nflag)) + "'");
        f->threads = (int)n;
        return 1;
    }
    if (std::strncmp(arg, tflag, std::strlen(tflag)) == 0) {
        const std::string t = arg + std::strlen(tflag);
        if (t != "cpu" && t != "real") die("--time: 'cpu' or 'real', not '" + t + "'");
        f->real_time = t == "real";
        return 1;
    }
    return 0;
}

void report_counters(benchmark::State &state, double gflop, double cpu, double wall, const std::string &name)
{
    const double util = wall > 0 ? cpu / wall : 0;
    if (util > g_threads + 0.5 && wall > 0.05)
        die(name + " used " + std::to_string(util) + " CPUs on average: more than --threads=" +
            std::to_string(g_threads));
    state.counters["GFLOP/s"] = benchmark::Counter(gflop, benchmark::Counter::kIsIterationInvariantRate);
    if (g_peak_gflops > 0)
        state.counters["peak_frac"] =
            benchmark::Counter(gflop / g_peak_gflops, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["cpu_util"] = util;
}

void skip_refused(benchmark::State &state, const std::string &name, const char *why)
{
    static std::set<std::string> told;
    if (told.insert(name).second) std::fprintf(stderr, "%s: %s REFUSED: %s\n", g_program, name.c_str(), why);
    state.SkipWithError(why);
    for (auto _ : state) {
    }
}

#ifdef BENCH_HAVE_ONEDNN
std::string onednn_setup()
{
    // Debian's libdnnl is built with the OpenMP CPU runtime (libgomp): the
    // thread count for every primitive created from now on.
    omp_set_num_threads(g_threads);
    if (omp_get_max_threads() != g_threads) die("omp_set_num_threads did not take effect");
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
    return buf;
}
#endif

}  // namespace bench
