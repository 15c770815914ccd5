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
#include <thread>

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

namespace {
double g_peak[2];  // one core's best FMA rate, [0] f32, [1] f64
std::string g_peers_ran, g_peers_out;
}  // namespace

double peak_gflops(tconv_dtype dtype) { return g_peak[dtype == TCONV_F64]; }

int peak_threads()
{
    tconv_host_info h;
    const int cores = tconv_host_query(&h) == TCONV_OK ? h.cores : 1;
    return std::min(g_threads, cores);
}

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

tconv_desc layer_desc(const bench_layer &l, int64_t n, tconv_layout layout, tconv_weight_layout weight_layout,
                      tconv_dtype dtype)
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
    d.dtype = dtype;
    d.layout = layout;
    d.weight_layout = weight_layout;
    const int64_t pad[2] = {l.padding, l.padding}, opad[2] = {l.out_pad, l.out_pad};
    if (tconv_crop_pytorch(&d, pad, opad) != TCONV_OK)
        throw Refused(std::string("tconv_crop_pytorch: ") + tconv_last_error());
    return d;
}

size_t dtype_size(tconv_dtype dtype) { return dtype == TCONV_F64 ? 8 : 4; }

std::vector<std::string> split_list(const std::string &s)
{
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= s.size()) {
        const size_t end = std::min(s.find(',', pos), s.size());
        out.push_back(s.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

std::vector<tconv_dtype> parse_dtypes(const std::string &list)
{
    std::vector<tconv_dtype> out;
    for (const std::string &t : split_list(list)) {
        if (t == "f32") out.push_back(TCONV_F32);
        else if (t == "f64") out.push_back(TCONV_F64);
        else die("--dtypes: f32 or f64, not '" + t + "'");
    }
    return out;
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
// Machine peaks: FMA throughput and memory bandwidth
// ---------------------------------------------------------------------------

namespace {

constexpr int64_t kPeakInner = 1 << 14;

#ifdef BENCH_X86
// 12 independent chains a = a * m + c: enough to cover FMA latency x ports on
// current cores (4 cycles x 2 ports = 8). m < 1 keeps values finite and normal.
#define BENCH_FMA_CHAINS(T, E, set1, fmadd, add, store)                                               \
    T a0 = set1(0.10), a1 = set1(0.11), a2 = set1(0.12), a3 = set1(0.13), a4 = set1(0.14),             \
      a5 = set1(0.15), a6 = set1(0.16), a7 = set1(0.17), a8 = set1(0.18), a9 = set1(0.19),             \
      a10 = set1(0.20), a11 = set1(0.21);                                                              \
    const T m = set1(0.999999), c = set1(1e-6);                                                        \
    for (int64_t i = 0; i < n; ++i) {                                                                  \
        a0 = fmadd(a0, m, c);                                                                          \
        a1 = fmadd(a1, m, c);                                                                          \
        a2 = fmadd(a2, m, c);                                                                          \
        a3 = fmadd(a3, m, c);                                                                          \
        a4 = fmadd(a4, m, c);                                                                          \
        a5 = fmadd(a5, m, c);                                                                          \
        a6 = fmadd(a6, m, c);                                                                          \
        a7 = fmadd(a7, m, c);                                                                          \
        a8 = fmadd(a8, m, c);                                                                          \
        a9 = fmadd(a9, m, c);                                                                          \
        a10 = fmadd(a10, m, c);                                                                        \
        a11 = fmadd(a11, m, c);                                                                        \
    }                                                                                                  \
    T s = add(add(add(a0, a1), add(a2, a3)), add(add(a4, a5), add(a6, a7)));                           \
    s = add(s, add(add(a8, a9), add(a10, a11)));                                                       \
    /* not a reduce intrinsic: GCC 12 -Wuninitialized false positive */                               \
    alignas(64) E v[sizeof(T) / sizeof(E)];                                                            \
    store(v, s);                                                                                       \
    double r = 0;                                                                                      \
    for (E x : v) r += (double)x;                                                                      \
    return r;

__attribute__((target("avx512f"))) double fma_f32_avx512(int64_t n)
{
    BENCH_FMA_CHAINS(__m512, float, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_store_ps)
}
__attribute__((target("avx512f"))) double fma_f64_avx512(int64_t n)
{
    BENCH_FMA_CHAINS(__m512d, double, _mm512_set1_pd, _mm512_fmadd_pd, _mm512_add_pd, _mm512_store_pd)
}
__attribute__((target("avx2,fma"))) double fma_f32_avx2(int64_t n)
{
    BENCH_FMA_CHAINS(__m256, float, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_store_ps)
}
__attribute__((target("avx2,fma"))) double fma_f64_avx2(int64_t n)
{
    BENCH_FMA_CHAINS(__m256d, double, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_add_pd, _mm256_store_pd)
}
#endif

struct PeakKernel {
    std::string name;  // "fma_f32_avx512"
    const char *cpu;   // what the CPU needs, for the skip message
    double (*fn)(int64_t);
    double flops_per_iter;
    tconv_dtype dtype;
    bool supported;
};

const std::vector<PeakKernel> &peak_kernels()
{
    static const std::vector<PeakKernel> k = [] {
        std::vector<PeakKernel> v;
#ifdef BENCH_X86
        __builtin_cpu_init();
        const bool avx512 = __builtin_cpu_supports("avx512f") != 0;
        const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        v.push_back({"fma_f32_avx512", "avx512f", fma_f32_avx512, 12.0 * 16 * 2, TCONV_F32, avx512});
        v.push_back({"fma_f32_avx2", "avx2+fma", fma_f32_avx2, 12.0 * 8 * 2, TCONV_F32, avx2});
        v.push_back({"fma_f64_avx512", "avx512f", fma_f64_avx512, 12.0 * 8 * 2, TCONV_F64, avx512});
        v.push_back({"fma_f64_avx2", "avx2+fma", fma_f64_avx2, 12.0 * 4 * 2, TCONV_F64, avx2});
#endif
        return v;
    }();
    return k;
}

// Best of 5 runs of ~40 ms each, on this thread's CPU time.
double measure_peak_gflops(const PeakKernel &k)
{
    double best = 0;
    for (int rep = 0; rep < 5; ++rep) {
        const int64_t n = 40 * kPeakInner;
        const double t0 = thread_cpu_seconds();
        double r = k.fn(n);
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
        double r = k->fn(kPeakInner);
        benchmark::DoNotOptimize(r);
    }
    state.counters["GFLOP/s"] = benchmark::Counter(k->flops_per_iter * (double)kPeakInner * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

// Memory bandwidth: b = 2 * a over two arrays of 8x the L3 (at least
// 64 MiB, at most 512 MiB, each), so every byte comes from and goes to DRAM;
// read + write bytes per sweep.
struct Stream {
    std::vector<double> a, b;
    double bytes_per_sweep = 0;
};

Stream &stream()
{
    static Stream s = [] {
        tconv_host_info h;
        const int64_t l3 = tconv_host_query(&h) == TCONV_OK ? h.l3_bytes : 0;
        const int64_t bytes = std::min<int64_t>(std::max<int64_t>(8 * l3, 64 << 20), 512 << 20);
        Stream st;
        st.a.assign((size_t)bytes / sizeof(double), 1.0);
        st.b.assign(st.a.size(), 0.0);  // both faulted in here, not timed
        st.bytes_per_sweep = 2.0 * (double)bytes;
        return st;
    }();
    return s;
}

void stream_part(double *__restrict b, const double *__restrict a, size_t n)
{
    for (size_t i = 0; i < n; ++i) b[i] = 2.0 * a[i];
}

// One sweep, split among --threads threads (the bandwidth the benchmarks'
// threads share).
void stream_sweep(Stream &s)
{
    const size_t n = s.a.size(), parts = (size_t)peak_threads(), step = (n + parts - 1) / parts;
    std::vector<std::thread> helpers;
    for (size_t t = 1; t < parts; ++t) {
        const size_t lo = std::min(n, t * step), hi = std::min(n, lo + step);
        helpers.emplace_back(stream_part, s.b.data() + lo, s.a.data() + lo, hi - lo);
    }
    stream_part(s.b.data(), s.a.data(), std::min(n, step));
    for (std::thread &h : helpers) h.join();
    benchmark::ClobberMemory();
}

double measure_bandwidth_gbs()
{
    Stream &s = stream();
    double best = 0;
    for (int rep = 0; rep < 3; ++rep) {
        const double t0 = wall_seconds();
        stream_sweep(s);
        best = std::max(best, s.bytes_per_sweep / (wall_seconds() - t0) * 1e-9);
    }
    return best;
}

void bm_bandwidth(benchmark::State &state)
{
    Stream &s = stream();
    for (auto _ : state) stream_sweep(s);
    state.counters["GB/s"] =
        benchmark::Counter(s.bytes_per_sweep * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

void setup_peak(bool real_time)
{
    std::string line[2];
    for (const PeakKernel &k : peak_kernels()) {
        if (!k.supported) continue;
        const double g = measure_peak_gflops(k);
        double &best = g_peak[k.dtype == TCONV_F64];
        best = std::max(best, g);
        char buf[96];
        std::snprintf(buf, sizeof buf, "%s%s %.1f", line[k.dtype == TCONV_F64].empty() ? "" : ", ",
                      k.name.c_str() + 8, g);
        line[k.dtype == TCONV_F64] += buf;
    }
    const double bw = measure_bandwidth_gbs();
    std::fprintf(stderr, "%s: FMA peak, one core, GFLOP/s: f32 %s; f64 %s; memory bandwidth %.1f GB/s\n", g_program,
                 line[0].empty() ? "none" : line[0].c_str(), line[1].empty() ? "none" : line[1].c_str(), bw);
    char num[32];
    std::snprintf(num, sizeof num, "%.2f", g_peak[0]);
    benchmark::AddCustomContext("peak_f32_gflops", num);
    std::snprintf(num, sizeof num, "%.2f", g_peak[1]);
    benchmark::AddCustomContext("peak_f64_gflops", num);
    benchmark::AddCustomContext("peak_threads", std::to_string(peak_threads()));
    std::snprintf(num, sizeof num, "%.2f", bw);
    benchmark::AddCustomContext("bandwidth_gbs", num);
    for (const PeakKernel &k : peak_kernels()) {
        benchmark::internal::Benchmark *b =
            benchmark::RegisterBenchmark(("peak/" + k.name).c_str(), bm_peak, &k);
        if (real_time) b->UseRealTime();
    }
    benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark("peak/bandwidth", bm_bandwidth);
    b->UseRealTime();  // memory stalls count as this thread's CPU time too, but say what is meant
}

void register_peak_end(bool real_time)
{
    for (const PeakKernel &k : peak_kernels()) {
        if (!k.supported || k.dtype != TCONV_F32) continue;
        benchmark::internal::Benchmark *b =
            benchmark::RegisterBenchmark(("peak_end/" + k.name).c_str(), bm_peak, &k);
        if (real_time) b->UseRealTime();
        break;  // the first supported is the widest
    }
}

// ---------------------------------------------------------------------------
// Context: the host, tconv, the peers
// ---------------------------------------------------------------------------

namespace {

// /proc/cpuinfo's "model name" (the first), or "unknown".
std::string cpu_model_name()
{
    FILE *f = std::fopen("/proc/cpuinfo", "r");
    if (!f) return "unknown";
    char line[512];
    std::string model = "unknown";
    while (std::fgets(line, sizeof line, f)) {
        if (std::strncmp(line, "model name", 10) != 0) continue;
        const char *colon = std::strchr(line, ':');
        if (!colon) continue;
        model = colon + 1;
        while (!model.empty() && (model.front() == ' ' || model.front() == '\t')) model.erase(0, 1);
        while (!model.empty() && (model.back() == '\n' || model.back() == ' ')) model.pop_back();
        break;
    }
    std::fclose(f);
    return model;
}

// Entries (lines with a '|' outside the header comment) in the tuning cache.
int cache_entries(const char *path)
{
    FILE *f = path && *path ? std::fopen(path, "r") : nullptr;
    if (!f) return 0;
    char line[1024];
    int n = 0;
    while (std::fgets(line, sizeof line, f))
        if (line[0] != '#' && std::strchr(line, '|')) ++n;
    std::fclose(f);
    return n;
}

}  // namespace

void add_host_context(const std::string &tconv_desc, const std::string &tuning)
{
    tconv_host_info h;
    if (tconv_host_query(&h) != TCONV_OK) die(std::string("tconv_host_query: ") + tconv_last_error());
    const std::string model = cpu_model_name();
    benchmark::AddCustomContext("program", g_program);
    benchmark::AddCustomContext("host_cpu_model", model);
    benchmark::AddCustomContext("host_fingerprint", h.fingerprint);
    benchmark::AddCustomContext("host_isa", tconv_isa_name(h.isa));
    benchmark::AddCustomContext("tconv_isa", tconv_isa_name(tconv_get_isa()));
    benchmark::AddCustomContext("host_l1d_kib", std::to_string(h.l1d_bytes >> 10));
    benchmark::AddCustomContext("host_l2_kib", std::to_string(h.l2_bytes >> 10));
    benchmark::AddCustomContext("host_l3_kib", std::to_string(h.l3_bytes >> 10));
    benchmark::AddCustomContext("host_cores", std::to_string(h.cores));
    benchmark::AddCustomContext("host_pus", std::to_string(h.pus));
    benchmark::AddCustomContext("tconv", tconv_desc);
    const char *path = tconv_cache_path();
    benchmark::AddCustomContext("tconv_tuning", tuning + "; tuning cache " + (*path ? path : "(none)") + ": " +
                                                    std::to_string(cache_entries(path)) + " entries at start");
    std::fprintf(stderr, "%s: host: %s (%s); %s\n", g_program, model.c_str(), h.fingerprint,
                 tconv_desc.c_str());
}

void peer_ran(const std::string &impl, const std::string &what)
{
    benchmark::AddCustomContext("peer_" + impl, what);
    g_peers_ran += (g_peers_ran.empty() ? "" : "; ") + what;
}

void peer_skipped(const std::string &name, const std::string &why)
{
    g_peers_out += (g_peers_out.empty() ? "" : "; ") + name + " (" + why + ")";
}

void finish_peers()
{
    benchmark::AddCustomContext("peers_out", g_peers_out);
    std::fprintf(stderr, "%s: peers in:  %s\n", g_program, g_peers_ran.empty() ? "none" : g_peers_ran.c_str());
    std::fprintf(stderr, "%s: peers out: %s\n", g_program, g_peers_out.empty() ? "none" : g_peers_out.c_str());
}

void print_layers_json(FILE *out)
{
    std::fprintf(out, "[\n");
    for (size_t i = 0; i < bench_layer_count; ++i) {
        const bench_layer &l = bench_layers[i];
        const Problem p = make_problem(l, l.batch);
        std::fprintf(out,
                     "  {\"name\": \"%s\", \"model\": \"%s\", \"batch\": %lld, \"channels\": %lld, "
                     "\"in_h\": %lld, \"in_w\": %lld, \"filters\": %lld, \"kernel\": %lld, \"stride\": %lld, "
                     "\"padding\": %lld, \"out_pad\": %lld, \"groups\": %lld, \"bias\": %s, "
                     "\"out_h\": %lld, \"out_w\": %lld, \"gflop\": %.9g}%s\n",
                     l.name, l.model, (long long)l.batch, (long long)l.channels, (long long)l.in_h,
                     (long long)l.in_w, (long long)l.filters, (long long)l.kernel, (long long)l.stride,
                     (long long)l.padding, (long long)l.out_pad, (long long)l.groups, l.bias ? "true" : "false",
                     (long long)p.oh, (long long)p.ow, bench_layer_flops(&l, l.batch) * 1e-9,
                     i + 1 < bench_layer_count ? "," : "");
    }
    std::fprintf(out, "]\n");
}

int parse_common_flag(const char *arg, CommonFlags *f)
{
    if (std::strcmp(arg, "--list_layers") == 0) {
        print_layers_json(stdout);
        std::exit(0);
    }
    const char *tflag = "--time=", *nflag = "--threads=";
    if (std::strncmp(arg, nflag, std::strlen(nflag)) == 0) {
        char *end = nullptr;
        const long n = std::strtol(arg + std::strlen(nflag), &end, 10);
        if (*end || n < 1 || n > 1024)
            die(std::string("--threads: a count from 1 to 1024, not '") + (arg + std::strlen(nflag)) + "'");
        f->threads = (int)n;
        return 1;
    }
    const char *dflag = "--dtypes=", *lflag = "--run_label=";
    if (std::strncmp(arg, dflag, std::strlen(dflag)) == 0) {
        f->dtypes = parse_dtypes(arg + std::strlen(dflag));
        return 1;
    }
    if (std::strncmp(arg, lflag, std::strlen(lflag)) == 0) {
        benchmark::AddCustomContext("run_label", arg + std::strlen(lflag));
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

void report_counters(benchmark::State &state, const Work &work, double cpu, double wall, const std::string &name)
{
    const double util = wall > 0 ? cpu / wall : 0;
    if (util > g_threads + 0.5 && wall > 0.05)
        die(name + " used " + std::to_string(util) + " CPUs on average: more than --threads=" +
            std::to_string(g_threads));
    using benchmark::Counter;
    state.counters["GFLOP/s"] = Counter(work.gflop, Counter::kIsIterationInvariantRate);
    const double peak = peak_gflops(work.dtype) * peak_threads();
    if (peak > 0) state.counters["peak_frac"] = Counter(work.gflop / peak, Counter::kIsIterationInvariantRate);
    state.counters["bytes"] = work.bytes;
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
