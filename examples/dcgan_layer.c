/*
 * The demo (scripts/demo.sh): one real layer through tconv, the DCGAN
 * generator's 512 -> 256 channel, 4x4, stride-2 transposed convolution
 * (PyTorch padding 1), which upsamples 4x4 feature maps to 8x8. It prints,
 * on one screen: the plan, a checksum of the output, the cold first call
 * (planning and packing the weights included), the warm median of many
 * runs with its GFLOP/s and its share of this machine's FMA peak (measured
 * here, fma_peak.c), and, when built with oneDNN (Debian's libdnnl-dev),
 * the same layer on oneDNN in the same run, as a ratio. It says when the
 * numbers are not to be trusted: other programs busy on the CPUs before it
 * started (busy:), run times that varied by over 10% (noisy:).
 *
 *   dcgan_layer [--runs N] [--threads N] [--no-onednn] [BATCH]   (default batch 8)
 *
 * Written only against include/tconv.h, as a user would.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tconv.h>

#include "fma_peak.h"
#if DCGAN_LAYER_HAVE_ONEDNN
#include "onednn_deconv.h"
#endif

#define PROG "dcgan_layer"
#define EXIT_USAGE 2
#define MAX_RUNS 100000
/* Without --runs: warm runs until tconv has run this long (at least
 * MIN_AUTO_RUNS runs, at most MAX_AUTO_RUNS). */
#define AUTO_SECONDS 0.5
#define MIN_AUTO_RUNS 10
#define MAX_AUTO_RUNS 1000

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " [options] [BATCH]\n"
            "Runs the DCGAN generator's 512 -> 256 channel, 4x4, stride-2 transposed\n"
            "convolution (4x4 -> 8x8 maps) at batch BATCH (default 8, at most 4096) and prints\n"
            "the plan, a checksum, the cold first call and the warm median with its GFLOP/s\n"
            "and share of this machine's FMA peak%s.\n"
            "\n"
            "  -r, --runs N      warm runs to time, 1-%d (default: as many as fit in %.1f s,\n"
            "                    at least %d)\n"
            "  -t, --threads N   threads per pass, 1-1024 (default: tconv's, the physical cores)\n"
            "      --no-onednn   leave out the comparison with oneDNN\n"
            "  -h, --help        this text\n",
#if DCGAN_LAYER_HAVE_ONEDNN
            ", beside oneDNN's time for the same layer",
#else
            " (this build has no oneDNN to compare with)",
#endif
            MAX_RUNS, AUTO_SECONDS, MIN_AUTO_RUNS);
}

static void die_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, PROG ": ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nusage: " PROG " [options] [BATCH]   (" PROG " --help lists them)\n");
    exit(EXIT_USAGE);
}

/* A whole decimal number in [lo, hi], or exit 2 naming what and s. */
static long parse_count(const char *what, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    const long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
        char fmt[160];
        snprintf(fmt, sizeof fmt, "%s '%%s': expected a whole number from %ld to %ld", what, lo,
                 hi);
        die_usage(fmt, s);
    }
    return v;
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Deterministic values in [-1, 1), so the checksum is the same on every run. */
static void fill(float *v, int64_t n, uint32_t seed)
{
    uint32_t s = seed;
    for (int64_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        v[i] = (float)(s >> 8) * 0x1p-23f - 1.0f;
    }
}

static int fail(const char *what, tconv_status st)
{
    fprintf(stderr, PROG ": %s failed: %s: %s\n", what, tconv_strerror(st), tconv_last_error());
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of v[0..n), which it sorts. */
static double median(double *v, long n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The interquartile range of the sorted v[0..n) over its median: how much
 * the runs varied, robust to a few outliers (0 below 4 runs). */
static double spread(const double *v, long n, double med)
{
    return n < 4 || med <= 0 ? 0.0 : (v[3 * n / 4] - v[n / 4]) / med;
}

/* Runs that vary more than this (interquartile range over the median) were
 * disturbed: bench/report.py marks a coefficient of variation over 10%. */
#define NOISY_SPREAD 0.10
/* Other programs using more than this share of the CPUs slow the runs. */
#define BUSY_SHARE 0.25

/* The CPU's model name from /proc/cpuinfo (Linux), else the identity
 * tconv's fingerprint holds. */
static void cpu_name(char *buf, size_t n)
{
    tconv_host_info host;
    snprintf(buf, n, "%s", tconv_host_query(&host) == TCONV_OK ? host.cpu : "an unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (colon && !strncmp(line, "model name", 10)) {
            colon++;
            while (*colon == ' ') colon++;
            snprintf(buf, n, "%.*s", (int)strcspn(colon, "\n"), colon);
            break;
        }
    }
    fclose(f);
}

/* The CPU time counters of all CPUs (Linux's /proc/stat "cpu" line): 1
 * with the busy and total jiffies, or 0. */
static int cpu_times(unsigned long long *busy, unsigned long long *total)
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return 0;
    const int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                         &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 4) return 0;
    *total = 0;
    for (int i = 0; i < 8; i++) *total += v[i];
    *busy = *total - v[3] - v[4]; /* all but idle and iowait */
    return 1;
}

/* The share of all CPUs other programs kept busy over 0.2 s while this
 * one slept (0 to 1), or -1 where /proc/stat is missing. The load average
 * would not do: right after scripts/demo.sh's build it is high for a
 * minute on an idle machine. */
static double others_busy_share(void)
{
    unsigned long long b0, t0, b1, t1;
    if (!cpu_times(&b0, &t0)) return -1.0;
    const struct timespec nap = {0, 200000000};
    nanosleep(&nap, NULL);
    if (!cpu_times(&b1, &t1) || t1 <= t0) return -1.0;
    return (double)(b1 - b0) / (double)(t1 - t0);
}

int main(int argc, char **argv)
{
    long runs = 0, threads = 0; /* 0: automatic */
    int want_onednn = 1;
    enum { OPT_NO_ONEDNN = 256 };
    static const struct option options[] = {
        {"runs", required_argument, NULL, 'r'},
        {"threads", required_argument, NULL, 't'},
        {"no-onednn", no_argument, NULL, OPT_NO_ONEDNN},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0; /* our own messages, which name the option and its value */
    for (;;) {
        const int c = getopt_long(argc, argv, ":r:t:h", options, NULL);
        if (c == -1) break;
        switch (c) {
        case 'r': runs = parse_count("--runs", optarg, 1, MAX_RUNS); break;
        case 't': threads = parse_count("--threads", optarg, 1, 1024); break;
        case OPT_NO_ONEDNN: want_onednn = 0; break;
        case 'h': usage(stdout); return 0;
        case ':': die_usage("option '%s' needs a value", argv[optind - 1]); break;
        default: { /* '?': an unknown option, or a value given to --no-onednn or --help */
            const char *arg = argv[optind - 1];
            char shown[3] = {'-', (char)optopt, '\0'};
            if (optopt && !strncmp(arg, "--", 2) && strchr(arg, '='))
                die_usage("option '%s' takes no value", arg);
            die_usage("unknown option '%s'", optopt > 0 && optopt < 128 ? shown : arg);
            break;
        }
        }
    }
    if (argc - optind > 1) die_usage("unexpected argument '%s' (one BATCH at most)", argv[optind + 1]);
    const long batch = optind < argc ? parse_count("batch", argv[optind], 1, 4096) : 8;
    if (threads && tconv_set_num_threads((int)threads) != TCONV_OK)
        return fail("tconv_set_num_threads", TCONV_EINVAL);
    /* Before any work of ours: how busy the machine already is. */
    const double busy_before = others_busy_share();

    tconv_desc d;
    tconv_desc_init(&d); /* NCHW, weights [C][F][kh][kw], f32: PyTorch's */
    d.batch = batch;
    d.channels = 512; d.in_h = 4; d.in_w = 4;
    d.filters = 256; d.filter_h = 4; d.filter_w = 4;
    d.stride_h = 2; d.stride_w = 2;
    const int64_t padding[2] = {1, 1};
    tconv_status st = tconv_crop_pytorch(&d, padding, NULL);
    if (st != TCONV_OK) return fail("tconv_crop_pytorch", st);

    int64_t nx, nw, ny, out_h, out_w;
    tconv_desc_tensor_size(&d, TCONV_TENSOR_X, &nx, NULL);
    tconv_desc_tensor_size(&d, TCONV_TENSOR_W, &nw, NULL);
    tconv_desc_tensor_size(&d, TCONV_TENSOR_Y, &ny, NULL);
    tconv_desc_output(&d, &out_h, &out_w);
    float *x = malloc((size_t)nx * sizeof *x), *w = malloc((size_t)nw * sizeof *w);
    float *bias = malloc((size_t)d.filters * sizeof *bias);
    float *y_first = malloc((size_t)ny * sizeof *y_first), *y = malloc((size_t)ny * sizeof *y);
    float *y_warm = malloc((size_t)ny * sizeof *y_warm);
    double *tconv_s = malloc((size_t)(runs ? runs : MAX_AUTO_RUNS) * sizeof *tconv_s);
    double *onednn_s = malloc((size_t)(runs ? runs : MAX_AUTO_RUNS) * sizeof *onednn_s);
    if (!x || !w || !bias || !y_first || !y || !y_warm || !tconv_s || !onednn_s) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    fill(x, nx, 1);
    fill(w, nw, 2);
    fill(bias, d.filters, 3);

    /* The cold first call, as a program's first inference pays it: the plan
     * (kernel choice, phase and tile planning), then a forward pass that
     * takes the weights per call (packing them, or for a layer of few
     * pixels streaming them in place) and touches its buffers for the
     * first time. */
    tconv_plan *plan;
    const double t_plan = now_seconds();
    if ((st = tconv_plan_create(&plan, &d, 0)) != TCONV_OK) return fail("tconv_plan_create", st);
    const double t_first = now_seconds();
    if ((st = tconv_forward(plan, x, w, bias, y_first)) != TCONV_OK)
        return fail("tconv_forward", st);
    const double t_end = now_seconds();
    const double plan_s = t_first - t_plan, first_s = t_end - t_first;

    /* This machine's peak: one core's FMA rate with its best vector ISA,
     * times the cores the pass runs on; measured before any
     * other library's threads start. */
    tconv_host_info host;
    const int host_ok = tconv_host_query(&host) == TCONV_OK;
    const int nthreads = tconv_get_num_threads();
    const int peak_cores = host_ok && host.cores < nthreads ? host.cores : nthreads;
    const tconv_isa peak_isa = tconv_cpu_isa();
    const double core_peak = fma_peak_gflops(peak_isa);

    /* Warm runs, as inference runs: weights packed once, then passes. */
    if ((st = tconv_plan_set_weights(plan, w, bias)) != TCONV_OK)
        return fail("tconv_plan_set_weights", st);
    if ((st = tconv_forward(plan, x, NULL, NULL, y_warm)) != TCONV_OK)
        return fail("tconv_forward", st);

    long done = 0;
    double tconv_total = 0.0;
    for (;;) {
        if (runs ? done == runs
                 : done == MAX_AUTO_RUNS || (done >= MIN_AUTO_RUNS && tconv_total >= AUTO_SECONDS))
            break;
        const double t0 = now_seconds();
        st = tconv_forward(plan, x, NULL, NULL, y);
        tconv_s[done] = now_seconds() - t0;
        if (st != TCONV_OK) return fail("tconv_forward", st);
        tconv_total += tconv_s[done++];
    }

    /* oneDNN after tconv, not run for run in turn: its OpenMP threads spin
     * for milliseconds after each of its runs, which would take the cores
     * from tconv's next run (on a 2-core machine, half its speed). Created
     * here for the same reason: creating it runs reorders. */
#if DCGAN_LAYER_HAVE_ONEDNN
    onednn_deconv *peer = NULL;
#endif
    char peer_note[200] = "";
#if DCGAN_LAYER_HAVE_ONEDNN
    if (want_onednn) {
        peer = onednn_deconv_create(&d, x, w, bias, tconv_get_num_threads(), peer_note,
                                    sizeof peer_note);
        int failed = peer && onednn_deconv_run(peer) != 0; /* its warm-up */
        for (long r = 0; peer && !failed && r < done; r++) {
            const double t0 = now_seconds();
            failed = onednn_deconv_run(peer) != 0;
            onednn_s[r] = now_seconds() - t0;
        }
        if (failed) {
            snprintf(peer_note, sizeof peer_note, "oneDNN failed to run the layer");
            onednn_deconv_destroy(peer);
            peer = NULL;
        }
    } else {
        snprintf(peer_note, sizeof peer_note, "left out (--no-onednn)");
    }
#else
    (void)want_onednn;
    snprintf(peer_note, sizeof peer_note,
             "not in this build (install libdnnl-dev and reconfigure to compare)");
#endif

    /* Every warm run computes the same bits as the first warm run. The cold
     * call took its weights per call, which for a layer of few pixels
     * streams them in place in another order of summation than the packed
     * weights' kernel: it agrees within rounding, and says how closely. */
    double sum = 0.0, abs_sum = 0.0, y_max = 0.0, cold_diff = 0.0;
    int warm_same = 1;
    for (int64_t i = 0; i < ny; i++) {
        sum += y[i];
        abs_sum += fabs((double)y[i]);
        y_max = fmax(y_max, fabs((double)y[i]));
        warm_same &= memcmp(&y[i], &y_warm[i], sizeof y[i]) == 0;
        cold_diff = fmax(cold_diff, fabs((double)y[i] - (double)y_first[i]));
    }
    char cold_note[80];
    if (cold_diff == 0.0)
        snprintf(cold_note, sizeof cold_note, "the cold call's too");
    else
        snprintf(cold_note, sizeof cold_note, "the cold call's agree to %.1e of max |y|",
                 y_max > 0 ? cold_diff / y_max : cold_diff);
    /* Useful multiply-adds: every input pixel meets every tap once. */
    const double gflop = 2.0 * (double)d.batch * (double)d.channels * (double)d.filters *
                         (double)(d.in_h * d.in_w) * (double)(d.filter_h * d.filter_w) * 1e-9;
    const double warm_s = median(tconv_s, done);
    const double warm_min = tconv_s[0], warm_max = tconv_s[done - 1];
    const double warm_spread = spread(tconv_s, done, warm_s);

    char cpu[160];
    cpu_name(cpu, sizeof cpu);
    printf("tconv %s, %s kernels, %d thread%s on %s\n", tconv_version(),
           tconv_isa_name(tconv_get_isa()), nthreads, nthreads == 1 ? "" : "s", cpu);
    printf("layer:    DCGAN generator 512 -> 256, 4x4 kernel, stride 2, padding 1: "
           "%ldx512x4x4 -> %ldx256x%lldx%lld, f32 NCHW, %.3f GFLOP a pass\n",
           batch, batch, (long long)out_h, (long long)out_w, gflop);
    printf("plan:     %s\n", tconv_plan_info(plan));
    printf("checksum: sum %.6e  sum|y| %.6e  (%s; %s)\n", sum, abs_sum,
           warm_same ? "every warm run gave the same bits" : "WARM RUNS DIFFER", cold_note);
    printf("cold:     %8.3f ms  the first call: tconv_plan_create %.3f ms + a tconv_forward that "
           "takes the weights per call %.3f ms\n",
           (plan_s + first_s) * 1e3, plan_s * 1e3, first_s * 1e3);
    printf("warm:     %8.3f ms  median of %ld runs (min %.3f, max %.3f), weights pre-packed: "
           "%.1f GFLOP/s",
           warm_s * 1e3, done, warm_min * 1e3, warm_max * 1e3, gflop / warm_s);
    if (core_peak > 0)
        printf(", %.0f%% of the FMA peak (%d core%s x %.1f GFLOP/s %s, measured now)\n",
               100.0 * gflop / warm_s / (core_peak * peak_cores), peak_cores,
               peak_cores == 1 ? "" : "s", core_peak, tconv_isa_name(peak_isa));
    else
        printf(" (no FMA peak measured: this build cannot run %s)\n", tconv_isa_name(peak_isa));
#if DCGAN_LAYER_HAVE_ONEDNN
    if (peer) {
        const double peer_s = median(onednn_s, done);
        double peer_diff = 0.0;
        if (onednn_deconv_output(peer, y_first) == 0)
            for (int64_t i = 0; i < ny; i++)
                peer_diff = fmax(peer_diff, fabs((double)y[i] - (double)y_first[i]));
        else
            peer_diff = NAN;
        printf("oneDNN:   %8.3f ms  median of as many runs, just after tconv's: %.1f GFLOP/s; "
               "tconv is %.2fx oneDNN's speed\n",
               peer_s * 1e3, gflop / peer_s, peer_s / warm_s);
        printf("          (%s; outputs agree to %.1e of max |y|)\n", onednn_deconv_name(peer),
               y_max > 0 ? peer_diff / y_max : peer_diff);
        const double peer_spread = spread(onednn_s, done, peer_s);
        if (peer_spread > NOISY_SPREAD && peer_spread > warm_spread)
            printf("noisy:    oneDNN's run times varied by %.0f%% (interquartile range over the "
                   "median): another program may be using the cores; the ratio is not reliable\n",
                   100.0 * peer_spread);
        onednn_deconv_destroy(peer);
    } else
#endif
        printf("oneDNN:   %s\n", peer_note);

    /* Other programs on the cores slow both libraries, oneDNN's OpenMP
     * barriers most (a thread waiting for a core another process holds). */
    const int cpus = host_ok && host.pus > 0 ? host.pus : nthreads;
    if (busy_before > BUSY_SHARE)
        printf("busy:     other programs kept %.0f%% of the %d CPU%s busy just before this started: "
               "times are slower and noisier than on a quiet machine, oneDNN's most (its OpenMP "
               "threads wait for cores), so the ratio is not reliable\n",
               100.0 * busy_before, cpus, cpus == 1 ? "" : "s");
    if (warm_spread > NOISY_SPREAD)
        printf("noisy:    tconv's run times varied by %.0f%% (interquartile range over the "
               "median): another program may be using the cores; rerun when the machine is quiet\n",
               100.0 * warm_spread);

    free(x); free(w); free(bias); free(y_first); free(y); free(y_warm); free(tconv_s); free(onednn_s);
    tconv_plan_destroy(plan);
    return 0;
}
