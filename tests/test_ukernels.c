/*
 * Kernel checker (in the spirit of dav1d's checkasm): every microkernel
 * (the forward families and backward-weights' GEMM) of every ISA table built into the library and supported by
 * this CPU, against a naive double-precision loop written here, over
 * generated edge cases:
 *
 * - every n in 1..NR (and every m in 1..MR for PIXELS), ntaps in 0..5,
 *   kc in {1, 2, 3, 7, 16, 33}, random negative and positive tap offsets;
 * - inputs inside a big random buffer whose guard regions hold NaN, so a
 *   read outside the contract poisons a result; CHANNELS pixel pointers
 *   repeat at random (as the driver repeats them past a tile's edge);
 * - weight columns and bias entries past n hold NaN (the contract promises
 *   zeros; NaN also catches a lane of padding leaking into a valid output);
 * - GEMM tiles: 0-5 runs of random lengths and positions, strides from 1
 *   (overlapping steps) to 1024, stored and accumulated;
 * - PHASES tiles (the forward phases mode, listed apart from the entries):
 *   every depth of KCS with 1-3 x 1-3 taps per phase, channel strides of
 *   either sign, every element of the S*S x NR x MR tile;
 * - outputs inside a buffer pre-filled with a NaN sentinel: every element
 *   the kernel must not store (past n, between rows, between strided PIXELS
 *   positions, around the tile) must still hold the sentinel's bits.
 *
 * Tolerance: |got - want| <= tol * (|bias| + sum of |terms|), tol = 1e-5 for
 * f32 and 1e-12 for f64.
 *
 * One Criterion case per (ISA table, entry), generated only for the ISAs
 * this CPU runs; isa_coverage logs the tables built but not runnable and
 * asserts that the tested set is exactly what tconv_cpu_isa() implies.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <criterion/parameterized.h>

#include "kernels/ukernel.h"
#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* Tables built into the library                                             */
/* ------------------------------------------------------------------------ */

typedef struct built_table {
    tconv_isa isa;
    const tconv_ukernel_table *table;
} built_table;

static const built_table built[] = {
    {TCONV_ISA_SCALAR, &tconv_ukernels_scalar},
#if TCONV_HAVE_AVX2
    {TCONV_ISA_AVX2, &tconv_ukernels_avx2},
#endif
#if TCONV_HAVE_AVX512
    {TCONV_ISA_AVX512, &tconv_ukernels_avx512},
#endif
#if TCONV_HAVE_NEON
    {TCONV_ISA_NEON, &tconv_ukernels_neon},
#endif
};
#define N_BUILT ((int)(sizeof built / sizeof built[0]))

/* Whether this CPU runs isa's kernels: tconv_cpu_isa() is the best one, and
 * on x86-64 each level includes the ones below it. */
static int cpu_runs(tconv_isa isa)
{
    const tconv_isa cpu = tconv_cpu_isa();
    switch (isa) {
    case TCONV_ISA_SCALAR: return 1;
    case TCONV_ISA_AVX2: return cpu == TCONV_ISA_AVX2 || cpu == TCONV_ISA_AVX512;
    case TCONV_ISA_AVX512: return cpu == TCONV_ISA_AVX512;
    case TCONV_ISA_NEON: return cpu == TCONV_ISA_NEON;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Element access in either dtype                                            */
/* ------------------------------------------------------------------------ */

static size_t esize(tconv_dtype t) { return t == TCONV_F32 ? sizeof(float) : sizeof(double); }

static double get(tconv_dtype t, const void *p, int64_t i)
{
    return t == TCONV_F32 ? (double)((const float *)p)[i] : ((const double *)p)[i];
}

static void set(tconv_dtype t, void *p, int64_t i, double v)
{
    if (t == TCONV_F32)
        ((float *)p)[i] = (float)v;
    else
        ((double *)p)[i] = v;
}

/* The output sentinel: a NaN with a payload no arithmetic produces. */
static const uint32_t SENTINEL32 = 0x7fc0dead;
static const uint64_t SENTINEL64 = 0x7ff8deadbeef0001ull;

static void set_sentinel(tconv_dtype t, void *p, int64_t i)
{
    if (t == TCONV_F32)
        memcpy((float *)p + i, &SENTINEL32, sizeof SENTINEL32);
    else
        memcpy((double *)p + i, &SENTINEL64, sizeof SENTINEL64);
}

static int is_sentinel(tconv_dtype t, const void *p, int64_t i)
{
    if (t == TCONV_F32) {
        uint32_t u;
        memcpy(&u, (const float *)p + i, sizeof u);
        return u == SENTINEL32;
    }
    uint64_t u;
    memcpy(&u, (const double *)p + i, sizeof u);
    return u == SENTINEL64;
}

static void *alloc_aligned(size_t bytes)
{
    bytes = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, bytes ? bytes : 64);
    cr_assert_not_null(p, "out of memory");
    return p;
}

/* ------------------------------------------------------------------------ */
/* Shared input buffer and weights                                           */
/* ------------------------------------------------------------------------ */

#define X_ELEMS (1 << 16) /* valid input elements */
#define X_GUARD 4096      /* NaN elements on each side */
#define MAX_TAPS 5
#define MAX_OFF 300       /* |tap offset| */

static const int64_t KCS[] = {1, 2, 3, 7, 16, 33};
#define N_KCS ((int)(sizeof KCS / sizeof KCS[0]))

typedef struct input {
    tconv_dtype dt;
    void *buf;   /* X_GUARD + X_ELEMS + X_GUARD */
    char *x0;    /* first valid element */
} input;

static input make_input(tconv_dtype dt, tu_rng *r)
{
    input in = {dt, alloc_aligned((X_ELEMS + 2 * X_GUARD) * esize(dt)), NULL};
    for (int64_t i = 0; i < X_ELEMS + 2 * X_GUARD; i++)
        set(dt, in.buf, i, i < X_GUARD || i >= X_GUARD + X_ELEMS ? NAN : tu_uniform(r));
    in.x0 = (char *)in.buf + X_GUARD * esize(dt);
    return in;
}

/* kc rows of NR weights (64-byte aligned): random for j < n, NaN past n. */
static void *make_weights(tconv_dtype dt, int64_t kc, int nr, int64_t n, tu_rng *r)
{
    void *w = alloc_aligned((size_t)(kc * nr) * esize(dt));
    for (int64_t c = 0; c < kc; c++)
        for (int j = 0; j < nr; j++)
            set(dt, w, c * nr + j, j < n ? tu_uniform(r) : NAN);
    return w;
}

/* One case's taps, weights and bias. */
typedef struct taps_case {
    int64_t ntaps, kc, n;
    tconv_uk_tap taps[MAX_TAPS];
    void *w[MAX_TAPS];
    void *bias;
    int64_t min_off, max_off; /* over the taps, and 0 */
} taps_case;

static taps_case make_taps(tconv_dtype dt, int nr, int64_t ntaps, int64_t kc, int64_t n,
                           tu_rng *r)
{
    taps_case tc;
    memset(&tc, 0, sizeof tc);
    tc.ntaps = ntaps;
    tc.kc = kc;
    tc.n = n;
    for (int64_t t = 0; t < ntaps; t++) {
        tc.w[t] = make_weights(dt, kc, nr, n, r);
        tc.taps[t].w = tc.w[t];
        tc.taps[t].x_off = tu_range(r, -MAX_OFF, MAX_OFF);
        if (tc.taps[t].x_off < tc.min_off)
            tc.min_off = tc.taps[t].x_off;
        if (tc.taps[t].x_off > tc.max_off)
            tc.max_off = tc.taps[t].x_off;
    }
    tc.bias = alloc_aligned((size_t)nr * esize(dt));
    for (int j = 0; j < nr; j++)
        set(dt, tc.bias, j, j < n ? tu_uniform(r) : NAN);
    return tc;
}

static void free_taps(taps_case *tc)
{
    for (int64_t t = 0; t < tc->ntaps; t++)
        free(tc->w[t]);
    free(tc->bias);
}

static double tolerance(tconv_dtype dt) { return dt == TCONV_F32 ? 1e-5 : 1e-12; }

/* Checks one output element against bias[j] + sum over taps and channels of
 * x(t, c) * w_t[c][j], where x(t, c) is the element at
 * xbase + x_off_t + c * cstride. */
/* want = base + the taps' sum for output channel j (base: the bias, or what
 * an accumulating call started from). */
static void check_value(const char *kname, const char *what, tconv_dtype dt, const taps_case *tc,
                        int nr, const char *xbase, int64_t cstride, int64_t j, double base,
                        double got)
{
    double want = base, mag = fabs(want);
    for (int64_t t = 0; t < tc->ntaps; t++)
        for (int64_t c = 0; c < tc->kc; c++) {
            const double term =
                get(dt, xbase, tc->taps[t].x_off + c * cstride) * get(dt, tc->w[t], c * nr + j);
            want += term;
            mag += fabs(term);
        }
    cr_assert(fabs(got - want) <= tolerance(dt) * mag,
              "%s: %s: got %.17g, want %.17g (|err| %.3g > %.3g x %.3g)", kname, what, got, want,
              fabs(got - want), tolerance(dt), mag);
}

/* ------------------------------------------------------------------------ */
/* CHANNELS                                                                  */
/* ------------------------------------------------------------------------ */

/* accumulate: bias NULL, y[i][0..n) holding random values to add to;
 * stream: run the entry's channels_nt, with every y row 64-byte aligned */
static void check_channels_case(const tconv_ukernel *k, const input *in, int64_t n,
                                int64_t ntaps, int64_t kc, int accumulate, int stream, tu_rng *r)
{
    const tconv_dtype dt = k->dtype;
    const size_t es = esize(dt);
    const int mr = k->mr, nr = k->nr;
    taps_case tc = make_taps(dt, nr, ntaps, kc, n, r);

    /* Pixel positions: every read x[i][off + c] inside the valid input;
     * about a quarter repeat an earlier pixel's pointer. */
    const void **x = malloc((size_t)mr * sizeof *x);
    int64_t *xpos = malloc((size_t)mr * sizeof *xpos);
    cr_assert(x && xpos);
    for (int i = 0; i < mr; i++) {
        if (i > 0 && tu_range(r, 0, 3) == 0)
            xpos[i] = xpos[tu_range(r, 0, i - 1)];
        else
            xpos[i] = tu_range(r, -tc.min_off, X_ELEMS - kc - tc.max_off);
        x[i] = in->x0 + xpos[i] * (int64_t)es;
    }

    /* Output rows in a random order, with gaps, inside a sentinel buffer. */
    const int64_t line = 64 / (int64_t)es; /* elements per cache line */
    const int64_t row = stream ? (nr + line - 1) / line * line + line * tu_range(r, 0, 1)
                               : nr + tu_range(r, 0, 9);
    const int64_t guard = 64;
    const int64_t ylen = 2 * guard + mr * row;
    void *ybuf = alloc_aligned((size_t)ylen * es);
    int64_t *rowpos = malloc((size_t)mr * sizeof *rowpos);
    void **y = malloc((size_t)mr * sizeof *y);
    cr_assert(rowpos && y);
    for (int i = 0; i < mr; i++)
        rowpos[i] = i;
    for (int i = mr - 1; i > 0; i--) {
        const int64_t s = tu_range(r, 0, i), tmp = rowpos[i];
        rowpos[i] = rowpos[s];
        rowpos[s] = tmp;
    }
    for (int64_t e = 0; e < ylen; e++)
        set_sentinel(dt, ybuf, e);
    double *start = malloc((size_t)(mr * n) * sizeof *start);
    cr_assert(start);
    for (int i = 0; i < mr; i++) {
        rowpos[i] = guard + rowpos[i] * row;
        y[i] = (char *)ybuf + rowpos[i] * (int64_t)es;
        for (int64_t j = 0; j < n; j++) {
            start[i * n + j] = accumulate ? tu_uniform(r) : get(dt, tc.bias, j);
            if (accumulate) {
                set(dt, ybuf, rowpos[i] + j, start[i * n + j]);
                start[i * n + j] = get(dt, ybuf, rowpos[i] + j); /* as stored */
            }
        }
    }

    (stream ? k->channels_nt : k->channels)(n, ntaps, tc.taps, kc, (const void *const *)x,
                                            accumulate ? NULL : tc.bias, (void *const *)y);

    char what[160];
    for (int i = 0; i < mr; i++)
        for (int64_t j = 0; j < n; j++) {
            snprintf(what, sizeof what, "n %lld ntaps %lld kc %lld%s%s: y[%d][%lld]", (long long)n,
                     (long long)ntaps, (long long)kc, accumulate ? " accumulate" : "",
                     stream ? " streaming" : "", i, (long long)j);
            check_value(k->name, what, dt, &tc, nr, (const char *)x[i], 1, j, start[i * n + j],
                        get(dt, ybuf, rowpos[i] + j));
        }
    /* Everything else keeps the sentinel. */
    for (int64_t e = 0; e < ylen; e++) {
        int stored = 0;
        for (int i = 0; i < mr && !stored; i++)
            stored = e >= rowpos[i] && e < rowpos[i] + n;
        cr_assert(stored || is_sentinel(dt, ybuf, e),
                  "%s: n %lld ntaps %lld kc %lld: wrote element %lld of the output buffer, "
                  "outside every y[i][0..n)",
                  k->name, (long long)n, (long long)ntaps, (long long)kc, (long long)e);
    }

    free(start);
    free(y);
    free(rowpos);
    free(ybuf);
    free(xpos);
    free(x);
    free_taps(&tc);
}

static int check_channels(const tconv_ukernel *k, const input *in, tu_rng *r)
{
    int cases = 0;
    /* Every n, with random depth; every third case accumulates (bias NULL). */
    for (int64_t n = 1; n <= k->nr; n++)
        for (int rep = 0; rep < 3; rep++, cases++)
            check_channels_case(k, in, n, tu_range(r, 0, MAX_TAPS), KCS[tu_range(r, 0, N_KCS - 1)],
                                rep == 2, 0, r);
    /* Every depth, with n = NR and a random n. */
    for (int64_t ntaps = 0; ntaps <= MAX_TAPS; ntaps++)
        for (int q = 0; q < N_KCS; q++, cases += 2) {
            check_channels_case(k, in, k->nr, ntaps, KCS[q], 0, 0, r);
            check_channels_case(k, in, tu_range(r, 1, k->nr), ntaps, KCS[q], 0, 0, r);
        }
    /* The streaming twin: whole rows (streamed), partial ones, accumulating. */
    if (k->channels_nt)
        for (int64_t ntaps = 0; ntaps <= MAX_TAPS; ntaps++, cases += 3) {
            const int64_t kc = KCS[tu_range(r, 0, N_KCS - 1)];
            check_channels_case(k, in, k->nr, ntaps, kc, 0, 1, r);
            check_channels_case(k, in, tu_range(r, 1, k->nr), ntaps, kc, 0, 1, r);
            check_channels_case(k, in, k->nr, ntaps, kc, 1, 1, r);
        }
    return cases;
}

/* ------------------------------------------------------------------------ */
/* PIXELS                                                                    */
/* ------------------------------------------------------------------------ */

static void check_pixels_case(const tconv_ukernel *k, const input *in, int64_t m, int64_t n,
                              int64_t ntaps, int64_t kc, tu_rng *r)
{
    const tconv_dtype dt = k->dtype;
    const size_t es = esize(dt);
    const int mr = k->mr, nr = k->nr;
    taps_case tc = make_taps(dt, nr, ntaps, kc, n, r);

    /* Channel stride of either sign (the kernel only adds it); every read
     * x[i + off + c*xcs], i < MR, inside the valid input. */
    const int64_t xcs = tu_range(r, -mr, 3 * mr);
    const int64_t lo = tc.min_off + (xcs < 0 ? (kc - 1) * xcs : 0);
    const int64_t hi = tc.max_off + (xcs > 0 ? (kc - 1) * xcs : 0) + mr - 1;
    const int64_t xpos = tu_range(r, -lo, X_ELEMS - 1 - hi);
    const char *x = in->x0 + xpos * (int64_t)es;

    /* Output strides of random signs, pixel-major or channel-major, with
     * gaps; positions (i, j) for i < MR, j < NR are all distinct. */
    int64_t yps, ycs;
    if (tu_range(r, 0, 1)) {
        ycs = tu_range(r, 1, 3);
        yps = nr * ycs + tu_range(r, 0, 3);
    } else {
        yps = tu_range(r, 1, 3);
        ycs = mr * yps + tu_range(r, 0, 3);
    }
    if (tu_range(r, 0, 1))
        yps = -yps;
    if (tu_range(r, 0, 1))
        ycs = -ycs;
    const int64_t ymin = (yps < 0 ? (mr - 1) * yps : 0) + (ycs < 0 ? (nr - 1) * ycs : 0);
    const int64_t ymax = (yps > 0 ? (mr - 1) * yps : 0) + (ycs > 0 ? (nr - 1) * ycs : 0);
    const int64_t guard = 64, ylen = ymax - ymin + 1 + 2 * guard, y0 = guard - ymin;
    void *ybuf = alloc_aligned((size_t)ylen * es);
    char *stored = calloc((size_t)ylen, 1);
    cr_assert_not_null(stored);
    for (int64_t e = 0; e < ylen; e++)
        set_sentinel(dt, ybuf, e);

    k->pixels(m, n, ntaps, tc.taps, kc, xcs, x, tc.bias, (char *)ybuf + y0 * (int64_t)es, yps,
              ycs);

    char what[200];
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            const int64_t e = y0 + i * yps + j * ycs;
            stored[e] = 1;
            snprintf(what, sizeof what,
                     "m %lld n %lld ntaps %lld kc %lld x_chan_stride %lld strides %lld,%lld: "
                     "pixel %lld channel %lld",
                     (long long)m, (long long)n, (long long)ntaps, (long long)kc, (long long)xcs,
                     (long long)yps, (long long)ycs, (long long)i, (long long)j);
            check_value(k->name, what, dt, &tc, nr, x + i * (int64_t)es, xcs, j, get(dt, tc.bias, j),
                        get(dt, ybuf, e));
        }
    for (int64_t e = 0; e < ylen; e++)
        cr_assert(stored[e] || is_sentinel(dt, ybuf, e),
                  "%s: m %lld n %lld ntaps %lld kc %lld strides %lld,%lld: wrote offset %lld "
                  "from y, which is no pixel i < m, channel j < n",
                  k->name, (long long)m, (long long)n, (long long)ntaps, (long long)kc,
                  (long long)yps, (long long)ycs, (long long)(e - y0));

    free(stored);
    free(ybuf);
    free_taps(&tc);
}

static int check_pixels(const tconv_ukernel *k, const input *in, tu_rng *r)
{
    int cases = 0;
    /* Every m x n, with random depth. */
    for (int64_t m = 1; m <= k->mr; m++)
        for (int64_t n = 1; n <= k->nr; n++, cases++)
            check_pixels_case(k, in, m, n, tu_range(r, 0, MAX_TAPS),
                              KCS[tu_range(r, 0, N_KCS - 1)], r);
    /* Every depth, with a full tile and a random one. */
    for (int64_t ntaps = 0; ntaps <= MAX_TAPS; ntaps++)
        for (int q = 0; q < N_KCS; q++, cases += 2) {
            check_pixels_case(k, in, k->mr, k->nr, ntaps, KCS[q], r);
            check_pixels_case(k, in, tu_range(r, 1, k->mr), tu_range(r, 1, k->nr), ntaps, KCS[q],
                              r);
        }
    return cases;
}

/* ------------------------------------------------------------------------ */
/* GEMM                                                                      */
/* ------------------------------------------------------------------------ */

#define MAX_RUNS 5

/* One call: nruns runs of random lengths and positions, strides a_stride
 * and b_stride (as small as 1: overlapping steps, or far apart), the tile
 * stored or added (accumulate) at a row pitch ldc >= NR inside a sentinel
 * buffer. Every element of the MR x NR tile must be the sum, (+ its prior
 * value), and nothing between or around the rows may change. */
static void check_gemm_case(const tconv_ukernel *k, const input *in, int64_t nruns,
                            int64_t a_stride, int64_t b_stride, int accumulate, tu_rng *r)
{
    const tconv_dtype dt = k->dtype;
    const size_t es = esize(dt);
    const int mr = k->mr, nr = k->nr;
    tconv_uk_run runs[MAX_RUNS];
    int64_t apos[MAX_RUNS], bpos[MAX_RUNS];
    for (int64_t q = 0; q < nruns; q++) {
        const int64_t count = KCS[tu_range(r, 0, N_KCS - 1)];
        /* every read a[k*a_stride + i], b[k*b_stride + j] inside the input */
        apos[q] = tu_range(r, 0, X_ELEMS - (count - 1) * a_stride - mr);
        bpos[q] = tu_range(r, 0, X_ELEMS - (count - 1) * b_stride - nr);
        runs[q] = (tconv_uk_run){in->x0 + apos[q] * (int64_t)es, in->x0 + bpos[q] * (int64_t)es, count};
    }
    const int64_t ldc = nr + tu_range(r, 0, 9), guard = 64;
    const int64_t clen = 2 * guard + mr * ldc;
    void *cbuf = alloc_aligned((size_t)clen * es);
    double *prior = malloc((size_t)(mr * nr) * sizeof *prior);
    cr_assert(prior);
    for (int64_t i = 0; i < clen; i++) set_sentinel(dt, cbuf, i);
    char *c = (char *)cbuf + guard * (int64_t)es;
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) {
            prior[i * nr + j] = accumulate ? tu_uniform(r) : 0.0;
            if (accumulate) set(dt, c, i * ldc + j, prior[i * nr + j]);
        }
    k->gemm(nruns, runs, a_stride, b_stride, c, ldc, accumulate);
    for (int64_t e = 0; e < clen; e++) {
        const int64_t off = e - guard, i = off >= 0 ? off / ldc : -1, j = off >= 0 ? off % ldc : -1;
        const int inside = off >= 0 && i < mr && j < nr;
        if (!inside) {
            cr_assert(is_sentinel(dt, cbuf, e), "%s: element %lld outside the tile written",
                      k->name, (long long)off);
            continue;
        }
        double want = prior[i * nr + j], mag = fabs(want);
        for (int64_t q = 0; q < nruns; q++)
            for (int64_t s = 0; s < runs[q].count; s++) {
                const double term = get(dt, in->x0, apos[q] + s * a_stride + i) *
                                    get(dt, in->x0, bpos[q] + s * b_stride + j);
                want += term;
                mag += fabs(term);
            }
        const double got = get(dt, c, i * ldc + j);
        cr_assert(fabs(got - want) <= tolerance(dt) * mag,
                  "%s: c[%lld][%lld] (%lld runs, strides %lld/%lld%s): got %.17g, want %.17g",
                  k->name, (long long)i, (long long)j, (long long)nruns, (long long)a_stride,
                  (long long)b_stride, accumulate ? ", accumulated" : "", got, want);
    }
    free(prior);
    free(cbuf);
}

static int check_gemm(const tconv_ukernel *k, const input *in, tu_rng *r)
{
    static const int64_t strides[] = {1, 3, 16, 64, 130, 1024};
    const int ns = (int)(sizeof strides / sizeof strides[0]);
    int cases = 0;
    for (int64_t nruns = 0; nruns <= MAX_RUNS; nruns++)
        for (int accumulate = 0; accumulate <= 1; accumulate++)
            for (int q = 0; q < ns; q++, cases++)
                check_gemm_case(k, in, nruns, strides[q], strides[tu_range(r, 0, ns - 1)],
                                accumulate, r);
    return cases;
}

/* ------------------------------------------------------------------------ */
/* PHASES                                                                    */
/* ------------------------------------------------------------------------ */

/* One call: kc channels x th x tw taps of all S*S phases, channel stride of
 * either sign, row stride from 1 up; every tile[(p*NR + j)*MR + i] against
 * the naive sum, nothing written around the tile. */
static void check_phases_case(const tconv_uk_phases *k, const input *in, int64_t kc, int64_t th,
                              int64_t tw, tu_rng *r)
{
    const tconv_dtype dt = k->dtype;
    const size_t es = esize(dt);
    const int64_t P = (int64_t)k->s * k->s, mr = k->mr, nr = k->nr;
    const int64_t xrs = tu_range(r, 1, 4 * mr), xcs = tu_range(r, -3 * mr, 3 * mr);
    /* reads x[c*xcs - a*xrs - b + i]: every one inside the valid input */
    const int64_t lo = -(th - 1) * xrs - (tw - 1) + (xcs < 0 ? (kc - 1) * xcs : 0);
    const int64_t hi = (xcs > 0 ? (kc - 1) * xcs : 0) + mr - 1;
    const int64_t xpos = tu_range(r, -lo, X_ELEMS - 1 - hi);
    const char *x = in->x0 + xpos * (int64_t)es;
    const int64_t nw = kc * th * tw * P * nr;
    void *w = alloc_aligned((size_t)nw * es), *bias = alloc_aligned((size_t)nr * es);
    for (int64_t e = 0; e < nw; e++)
        set(dt, w, e, tu_uniform(r));
    for (int64_t j = 0; j < nr; j++)
        set(dt, bias, j, tu_uniform(r));
    const int64_t guard = 64, ntile = P * nr * mr;
    void *buf = alloc_aligned((size_t)(ntile + 2 * guard) * es);
    for (int64_t e = 0; e < ntile + 2 * guard; e++)
        set_sentinel(dt, buf, e);
    char *tile = (char *)buf + guard * (int64_t)es;

    k->fn(kc, th, tw, xcs, xrs, x, w, bias, tile);

    for (int64_t p = 0; p < P; p++)
        for (int64_t j = 0; j < nr; j++)
            for (int64_t i = 0; i < mr; i++) {
                double want = get(dt, bias, j), mag = fabs(want);
                for (int64_t c = 0; c < kc; c++)
                    for (int64_t a = 0; a < th; a++)
                        for (int64_t b = 0; b < tw; b++) {
                            const double term =
                                get(dt, x, c * xcs - a * xrs - b + i) *
                                get(dt, w, (((c * th + a) * tw + b) * P + p) * nr + j);
                            want += term;
                            mag += fabs(term);
                        }
                const double got = get(dt, tile, (p * nr + j) * mr + i);
                cr_assert(fabs(got - want) <= tolerance(dt) * mag,
                          "%s: kc %lld th %lld tw %lld strides %lld,%lld: phase %lld filter %lld "
                          "position %lld: got %.17g, want %.17g",
                          k->name, (long long)kc, (long long)th, (long long)tw, (long long)xcs,
                          (long long)xrs, (long long)p, (long long)j, (long long)i, got, want);
            }
    for (int64_t e = 0; e < guard; e++)
        cr_assert(is_sentinel(dt, buf, e) && is_sentinel(dt, buf, guard + ntile + e),
                  "%s: wrote outside its %lld-element tile", k->name, (long long)ntile);
    free(buf);
    free(w);
    free(bias);
}

#define MAX_PARAMS 256

typedef struct ph_param {
    int table; /* index into built[] */
    int entry; /* into its phases */
} ph_param;

static size_t runnable_phases(ph_param *out)
{
    size_t n = 0;
    for (int t = 0; t < N_BUILT; t++)
        if (cpu_runs(built[t].isa))
            for (int e = 0; e < built[t].table->phases_count && n < MAX_PARAMS; e++)
                out[n++] = (ph_param){t, e};
    return n;
}

ParameterizedTestParameters(ukernels, phases)
{
    static ph_param params[MAX_PARAMS];
    const size_t n = runnable_phases(params);
    return cr_make_param_array(ph_param, params, n);
}

/* Every PHASES tile of every table this CPU runs: each depth of KCS with
 * every th, tw in 1..3, at random strides. */
ParameterizedTest(ph_param *p, ukernels, phases)
{
    const tconv_uk_phases *k = &built[p->table].table->phases[p->entry];
    uint64_t seed = 0x9a5e;
    for (const char *s = k->name; *s; s++)
        seed = seed * 131 + (unsigned char)*s;
    tu_rng r = {seed};
    input in = make_input(k->dtype, &r);
    int cases = 0;
    for (int q = 0; q < N_KCS; q++)
        for (int64_t th = 1; th <= 3; th++)
            for (int64_t tw = 1; tw <= 3; tw++, cases++)
                check_phases_case(k, &in, KCS[q], th, tw, &r);
    cr_log_info("%s (%s, stride %d, %dx%d): %d cases passed", k->name, built[p->table].table->isa,
                k->s, k->mr, k->nr, cases);
    free(in.buf);
}

/* ------------------------------------------------------------------------ */
/* One Criterion case per (runnable table, entry)                            */
/* ------------------------------------------------------------------------ */

typedef struct uk_param {
    int table; /* index into built[] */
    int entry;
} uk_param;


/* The parameters: every entry of every table this CPU runs. */
static size_t runnable_params(uk_param *out)
{
    size_t n = 0;
    for (int t = 0; t < N_BUILT; t++)
        if (cpu_runs(built[t].isa))
            for (int e = 0; e < built[t].table->count && n < MAX_PARAMS; e++)
                out[n++] = (uk_param){t, e};
    return n;
}

ParameterizedTestParameters(ukernels, fwd)
{
    static uk_param params[MAX_PARAMS];
    const size_t n = runnable_params(params);
    return cr_make_param_array(uk_param, params, n);
}

ParameterizedTest(uk_param *p, ukernels, fwd)
{
    const tconv_ukernel *k = &built[p->table].table->entries[p->entry];
    /* A fixed seed per kernel name: failures reproduce exactly. */
    uint64_t seed = 0x5eed;
    for (const char *s = k->name; *s; s++)
        seed = seed * 131 + (unsigned char)*s;
    tu_rng r = {seed};
    input in = make_input(k->dtype, &r);
    const int cases = k->family == TCONV_UK_CHANNELS ? check_channels(k, &in, &r)
                      : k->family == TCONV_UK_PIXELS ? check_pixels(k, &in, &r)
                                                     : check_gemm(k, &in, &r);
    static const char *const families[] = {"CHANNELS", "PIXELS", "GEMM"};
    cr_log_info("%s (%s, %s %dx%d): %d cases passed", k->name, built[p->table].table->isa,
                families[k->family], k->mr, k->nr, cases);
    free(in.buf);
}

/* The ISAs tested are exactly those tconv_cpu_isa() implies; tables built
 * but not runnable here are reported, never counted as passes. */
Test(ukernels, isa_coverage)
{
    const tconv_isa cpu = tconv_cpu_isa();
    uk_param params[MAX_PARAMS];
    const size_t n = runnable_params(params);
    cr_assert(n < MAX_PARAMS, "raise MAX_PARAMS");

    int tested[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++)
        tested[built[params[i].table].isa] = 1;
    /* Said on stderr (the test log), not with cr_log_warn: Criterion 2.4
     * exits with status 1 after any warning, which would fail every run on a
     * CPU without AVX-512 although nothing failed. */
    for (int t = 0; t < N_BUILT; t++)
        if (!tested[built[t].isa])
            fprintf(stderr,
                    "test_ukernels: %s kernels are built but this CPU (best: %s) lacks the ISA: "
                    "their %d kernels are NOT tested here\n",
                    built[t].table->isa, tconv_isa_name(cpu), built[t].table->count);

    const int expect[4] = {
        [TCONV_ISA_SCALAR] = 1,
        [TCONV_ISA_AVX2] = cpu == TCONV_ISA_AVX2 || cpu == TCONV_ISA_AVX512,
        [TCONV_ISA_AVX512] = cpu == TCONV_ISA_AVX512,
        [TCONV_ISA_NEON] = cpu == TCONV_ISA_NEON,
    };
    for (int isa = 0; isa < 4; isa++)
        cr_expect_eq(tested[isa], expect[isa], "%s: tested %d, expected %d (CPU best: %s)",
                     tconv_isa_name((tconv_isa)isa), tested[isa], expect[isa],
                     tconv_isa_name(cpu));
    cr_log_info("CPU best ISA %s; kernel tables tested:%s%s%s%s", tconv_isa_name(cpu),
                tested[TCONV_ISA_SCALAR] ? " scalar" : "", tested[TCONV_ISA_AVX2] ? " avx2" : "",
                tested[TCONV_ISA_AVX512] ? " avx512" : "", tested[TCONV_ISA_NEON] ? " neon" : "");
}

/* Every built table is well formed, runnable or not: names say dtype, pass,
 * tile and ISA; the family's function is set; all three families exist per
 * dtype. */
Test(ukernels, tables)
{
    for (int t = 0; t < N_BUILT; t++) {
        const tconv_ukernel_table *tab = built[t].table;
        cr_assert_str_eq(tab->isa, tconv_isa_name(built[t].isa));
        cr_assert_gt(tab->count, 0, "%s: empty table", tab->isa);
        int seen[2][3] = {{0, 0, 0}, {0, 0, 0}};
        static const char *const prefix[] = {"fwd_", "fwd_px", "bwdw_"};
        static const char *const families[] = {"CHANNELS", "PIXELS", "GEMM"};
        for (int e = 0; e < tab->count; e++) {
            const tconv_ukernel *k = &tab->entries[e];
            cr_assert(k->family >= TCONV_UK_CHANNELS && k->family <= TCONV_UK_GEMM,
                      "%s: family %d", k->name, (int)k->family);
            char want[96];
            snprintf(want, sizeof want, "%s_%s%dx%d_%s", k->dtype == TCONV_F32 ? "f32" : "f64",
                     prefix[k->family], k->mr, k->nr, tab->isa);
            cr_assert_str_eq(k->name, want, "%s entry %d: name %s, fields say %s", tab->isa, e,
                             k->name, want);
            const int fns = (k->channels != NULL) + (k->pixels != NULL) + (k->gemm != NULL);
            const int right = k->family == TCONV_UK_CHANNELS ? k->channels != NULL
                              : k->family == TCONV_UK_PIXELS ? k->pixels != NULL
                                                             : k->gemm != NULL;
            cr_assert(fns == 1 && right, "%s: function pointer of the wrong family", k->name);
            cr_assert(k->mr >= 1 && k->nr >= 1, "%s: tile %dx%d", k->name, k->mr, k->nr);
            seen[k->dtype][k->family] = 1;
        }
        for (int d = 0; d < 2; d++)
            for (int f = 0; f < 3; f++)
                cr_expect(seen[d][f], "%s: no %s %s kernel", tab->isa, d ? "f64" : "f32",
                          families[f]);
        /* PHASES tiles: named for their stride and tile, with a function,
         * and each with a PIXELS tile of its dtype and NR to stand in for. */
        for (int e = 0; e < tab->phases_count; e++) {
            const tconv_uk_phases *k = &tab->phases[e];
            char want[96];
            snprintf(want, sizeof want, "%s_fwd_ph%dx%dx%d_%s",
                     k->dtype == TCONV_F32 ? "f32" : "f64", k->s, k->mr, k->nr, tab->isa);
            cr_assert_str_eq(k->name, want, "%s phases entry %d", tab->isa, e);
            cr_assert(k->fn && k->s >= 2 && k->mr >= 1 && k->nr >= 1, "%s", k->name);
            int paired = 0;
            for (int i = 0; i < tab->count; i++)
                paired |= tab->entries[i].family == TCONV_UK_PIXELS &&
                          tab->entries[i].dtype == k->dtype && tab->entries[i].nr == k->nr;
            cr_assert(paired, "%s: no PIXELS tile of NR %d to stand in for", k->name, k->nr);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* The layout edges' transposition (kernels/transpose.h)                     */
/* ------------------------------------------------------------------------ */

#include "kernels/transpose.h"

/* tconv_copy_runs with every table's transpositions this CPU runs (each
 * entry of a table points to the same ones) against an element-by-element
 * copy, in both directions of a transposition (NHWC row -> channel planes,
 * planes -> NHWC row), f32 and f64, sizes that leave every kind of edge
 * (not multiples of the register blocks or of the tiles), plane strides a
 * multiple of 4 KiB and not; and a copy that is no transposition (both
 * sides strided). Every element of dst outside the copy keeps its guard
 * value. */
Test(ukernels, copy_runs_transposes)
{
    static const int64_t counts[] = {1, 3, 4, 7, 8, 9, 16, 17, 33, 64};
    static const int64_t runs[] = {1, 2, 5, 8, 9, 16, 19, 64, 130};
    int tested = 0;
    for (int b = 0; b < N_BUILT; b++) {
        if (!cpu_runs(built[b].isa)) continue;
        const tconv_ukernel_table *tab = built[b].table;
        const tconv_uk_transposes *t = tab->entries[0].transposes;
        cr_assert(t && t->tile_f32 && t->tile_f64, "%s: no transpositions", tab->isa);
        for (int i = 1; i < tab->count; i++)
            cr_assert(tab->entries[i].transposes == t, "%s: %s points to other transpositions",
                      tab->isa, tab->entries[i].name);
        tested++;
        for (int es = 4; es <= 8; es += 4)
            for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++)
                for (size_t ri = 0; ri < sizeof runs / sizeof runs[0]; ri++)
                    for (int dir = 0; dir < 3; dir++)
                        for (int aligned_4k = 0; aligned_4k < 2; aligned_4k++) {
                            const int64_t W = counts[ci], C = runs[ri];
                            /* the planes' stride: a multiple of 4 KiB, or W plus a little */
                            const int64_t P = aligned_4k ? (W * es + 4095) / 4096 * 4096 / es : W + 3;
                            /* dir 0: src NHWC row (runs adjacent), dst planes;
                             * dir 1: src planes, dst NHWC row; dir 2: both strided */
                            const int64_t src_run = dir == 0 ? 1 : P, src_stride = dir == 0 ? C : dir == 1 ? 1 : 2;
                            const int64_t dst_run = dir == 1 ? 1 : P, dst_stride = dir == 1 ? C : dir == 0 ? 1 : 2;
                            const int64_t n = (C + 1) * (P + 2 * W + 2 * C); /* covers every side */
                            unsigned char *src = malloc((size_t)(n * es)), *dst = malloc((size_t)(n * es));
                            unsigned char *want = malloc((size_t)(n * es));
                            cr_assert(src && dst && want);
                            for (int64_t i = 0; i < n * es; i++) src[i] = (unsigned char)(i * 131 + 7);
                            memset(dst, 0xA5, (size_t)(n * es));
                            memset(want, 0xA5, (size_t)(n * es));
                            for (int64_t r = 0; r < C; r++)
                                for (int64_t k = 0; k < W; k++)
                                    memcpy(want + (r * dst_run + k * dst_stride) * es,
                                           src + (r * src_run + k * src_stride) * es, (size_t)es);
                            tconv_copy_runs(t, es, (char *)dst, dst_run, dst_stride,
                                            (const char *)src, src_run, src_stride, W, C);
                            cr_assert(memcmp(dst, want, (size_t)(n * es)) == 0,
                                      "%s, esize %d, direction %d, %lld runs of %lld, plane stride "
                                      "%lld: differs from an element-by-element copy",
                                      tab->isa, es, dir, (long long)C, (long long)W, (long long)P);
                            free(src); free(dst); free(want);
                        }
    }
    cr_assert_gt(tested, 0, "no table this CPU runs");
}
