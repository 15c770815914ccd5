// What bench_fwd and bench_bwd share: the layer problems and their data in
// canonical layouts, layout conversions, clocks, the comparison against
// tconv's reference, the FMA peak measured at start-up, the flags both take
// (--threads, --time) and the Google Benchmark counters both report.
#ifndef TCONV_BENCH_COMMON_H
#define TCONV_BENCH_COMMON_H

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <new>
#include <vector>

#include "layers.h"
#include "tconv.h"

namespace bench {

// The program's name for messages ("bench_fwd"); set first thing in main.
extern const char *g_program;
// --threads: what every implementation is given.
extern int g_threads;

// The best FMA peak measured at start-up, one core, GFLOP/s of dtype (0 when
// no FMA kernel exists for this CPU); peak_frac divides by it times
// peak_threads() (the threads, at most the cores this process may use).
double peak_gflops(tconv_dtype dtype);
int peak_threads();

[[noreturn]] void die(const std::string &msg);

// An implementation (tconv or a peer) that does not accept a layer; the
// benchmark is skipped with this message.
struct Refused : std::runtime_error {
    using std::runtime_error::runtime_error;
};

double wall_seconds();
double thread_cpu_seconds();
double process_cpu_seconds();
int process_thread_count();  // threads of this process now (/proc/self/task)

// A layer at batch n, with its output size.
struct Problem {
    const bench_layer *l;
    int64_t n, oh, ow;
    int64_t x_elems() const { return n * l->channels * l->in_h * l->in_w; }
    int64_t w_elems() const { return l->channels * (l->filters / l->groups) * l->kernel * l->kernel; }
    int64_t y_elems() const { return n * l->filters * oh * ow; }
};

Problem make_problem(const bench_layer &l, int64_t n);

// The desc of layer l at batch n in the given layouts and dtype, crops from
// its PyTorch padding and output_padding (Refused when tconv rejects them).
tconv_desc layer_desc(const bench_layer &l, int64_t n, tconv_layout layout, tconv_weight_layout weight_layout,
                      tconv_dtype dtype = TCONV_F32);

size_t dtype_size(tconv_dtype dtype);

// "a,b,c" -> {"a", "b", "c"} (the list flags; an empty item stays, for the
// parser to reject with its own message).
std::vector<std::string> split_list(const std::string &s);

// The dtypes of --dtypes=f32,f64 (parse_dtypes dies on anything else).
std::vector<tconv_dtype> parse_dtypes(const std::string &list);

// 64-byte aligned storage for the buffers tconv runs on, as frameworks
// allocate tensors (PyTorch, oneDNN's own memory objects): a plain
// std::vector of megabytes comes from mmap 16 bytes past a page, so every
// zmm load and store of it would straddle two cache lines.
template <typename T>
struct Aligned64 {
    using value_type = T;
    Aligned64() = default;
    template <typename U>
    Aligned64(const Aligned64<U> &) noexcept {}
    T *allocate(size_t n)
    {
        return static_cast<T *>(::operator new(n * sizeof(T), std::align_val_t(64)));
    }
    void deallocate(T *p, size_t) noexcept { ::operator delete(p, std::align_val_t(64)); }
    template <typename U>
    bool operator==(const Aligned64<U> &) const noexcept { return true; }
    template <typename U>
    bool operator!=(const Aligned64<U> &) const noexcept { return false; }
};
template <typename T>
using aligned_vector = std::vector<T, Aligned64<T>>;

// Copies of float data in another element type (f64 runs take the f32
// inputs, which doubles represent exactly), 64-byte aligned.
template <typename T>
aligned_vector<T> as(const std::vector<float> &v)
{
    return aligned_vector<T>(v.begin(), v.end());
}
template <typename T, typename A>
std::vector<float> as_float(const std::vector<T, A> &v)
{
    return std::vector<float>(v.begin(), v.end());
}

// Data in canonical layouts: x NCHW, w IOHW ([C][F/groups][kh][kw]), bias
// [F] (empty when the layer has none), and for the backward passes dy NCHW.
struct Inputs {
    std::vector<float> x, w, bias, dy;
};

// Uniform in [-1, 1) from a seed (splitmix64); dy only when with_dy.
Inputs make_inputs(const Problem &p, uint64_t seed, bool with_dy = false);

std::vector<float> nchw_to_nhwc(const std::vector<float> &a, int64_t n, int64_t c, int64_t h, int64_t w);
std::vector<float> nhwc_to_nchw(const float *a, int64_t n, int64_t c, int64_t h, int64_t w);
// IOHW [C][Fg][k][k] <-> OHWI [F][k][k][Cg] (f = g*Fg + m, c = g*Cg + ci): the
// layout of XNNPACK's deconvolution kernel, tconv's W_OHWI and oneDNN's (g)ohwi.
std::vector<float> iohw_to_ohwi(const std::vector<float> &w, const bench_layer &l);
std::vector<float> ohwi_to_iohw(const std::vector<float> &w, const bench_layer &l);

// Max over elements of |got - want| / (|want| + mean |want|): relative where
// the value is large, absolute against the typical magnitude near zero. NaN
// (or a size mismatch) gives NaN; *at is the worst element's index.
double max_rel_error(const std::vector<float> &got, const std::vector<float> &want, size_t *at);

// Measures the f32 and f64 FMA peak of every vector ISA this CPU has and the
// memory bandwidth, adds them to Google Benchmark's context, and registers
// the peak/fma_<dtype>_<isa> and peak/bandwidth benchmarks (first in the run).
void setup_peak(bool real_time);
// Registers peak_end/fma_f32_<best isa>: the same FMA kernel as the last
// benchmark of the run, so the report can tell when the clock or the load
// changed in between. Call after registering everything else.
void register_peak_end(bool real_time);

// The host (tconv_host_query, /proc/cpuinfo's model name), tconv's version
// and ISA, the tuning state (`tuning`: which plans run; the cache's path and
// entry count) and the run's label, as context keys (bench/README.md).
void add_host_context(const std::string &tconv_desc, const std::string &tuning);

// Peers: peer_ran() records one that runs (context peer_<impl>: its version
// and what it is given); peer_skipped() one that does not, with why
// (context peers_out, set by finish_peers(), which also prints both lists).
void peer_ran(const std::string &impl, const std::string &what);
void peer_skipped(const std::string &name, const std::string &why);
void finish_peers();

// The flags both programs take, removed from argv: --threads=N (N > 1
// implies wall-clock time), --time=cpu|real, --dtypes=f32[,f64] (default
// both) and --run_label=NAME (context run_label: files of one run share it).
struct CommonFlags {
    int threads = 1;
    bool real_time = false;
    std::vector<tconv_dtype> dtypes{TCONV_F32, TCONV_F64};
};
// Returns 1 when argv[i] was one of them (parsed into f). --list_layers
// prints the model-layer suite as a JSON array (print_layers_json) and exits:
// bench/peers.py runs the peers it drives on exactly these layers.
int parse_common_flag(const char *arg, CommonFlags *f);
void print_layers_json(FILE *out);

// What one pass of a benchmark does: its multiply-adds x 2 (GFLOP), the
// bytes it must move at least (each tensor read or written once) and the
// dtype its peak fraction counts against.
struct Work {
    double gflop;
    double bytes;
    tconv_dtype dtype;
};

// Timed loop of fn over state with the counters both programs report:
// GFLOP/s, peak_frac, bytes (per pass) and cpu_util (process CPU time over
// wall time; more than --threads + 0.5 aborts: an implementation that
// ignores the thread count would make the comparison unfair).
void report_counters(benchmark::State &state, const Work &work, double cpu, double wall, const std::string &name);

template <typename Fn>
void timed_loop(benchmark::State &state, const Work &work, const std::string &name, Fn &&fn)
{
    fn();  // warm-up: caches, page faults, lazy initialization
    const double cpu0 = process_cpu_seconds(), wall0 = wall_seconds();
    for (auto _ : state) fn();
    report_counters(state, work, process_cpu_seconds() - cpu0, wall_seconds() - wall0, name);
}

// Skips a benchmark whose implementation refused the layer (the message
// once on stderr, and as the benchmark's error).
void skip_refused(benchmark::State &state, const std::string &name, const char *why);

#ifdef BENCH_HAVE_ONEDNN
// The oneDNN build's benchmark name: "onednn" (Debian's libdnnl) or, when
// bench/peers.py builds these programs against the Python package index's
// oneDNN, "onednn_pypi".
#ifndef BENCH_ONEDNN_IMPL
#define BENCH_ONEDNN_IMPL "onednn"
#endif
// "oneDNN 2.6.3 (OpenMP runtime, omp_get_max_threads()=1, isa avx512_core)",
// after setting OpenMP's thread count to g_threads.
std::string onednn_setup();
#endif

}  // namespace bench

#endif  // TCONV_BENCH_COMMON_H
