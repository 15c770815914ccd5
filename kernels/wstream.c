/*
 * Weight streaming (kernels/wstream.h): planning, the copies of the small
 * operands, and the three passes.
 *
 * Column j of a group is (filter m, tap) in the order of the weights' rows:
 * j = m * k_h*k_w + t, with t = kh * k_w + kw (IOHW) or kw * k_h + kh
 * (MATLAB). Pixel q of the batch is (n, ih, iw) in raster order.
 */
#include "kernels/wstream.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/elem.h"
#include "runtime/checked.h"
#include "runtime/intmath.h"
#include "runtime/scratch.h"
#include "runtime/threads.h"

#define WS_MAX_TILE 64

struct tconv_wstream {
    tconv_problem p;
    const tconv_ukernel *gf, *ch, *gw; /* forward, backward-data, backward-weights */
    const tconv_act_impl *act;
    int64_t es;     /* bytes per element */
    int64_t kk;     /* taps, k_h * k_w */
    int64_t j;      /* columns of a group: Fg * kk */
    int64_t q;      /* pixels of the batch: N * in_h * in_w */
    int tap_major;  /* t = kh * k_w + kw (IOHW) rather than kw * k_h + kh (MATLAB) */
    int64_t fpb;    /* forward: whole filters per column block (1 when a filter's taps
                       need several blocks) */
    int64_t fpt;    /* forward: filters per task, a multiple of fpb */
    int64_t blocks; /* forward: most column blocks of a task */
    int64_t kc;     /* forward: channels copied at a time */
    int64_t qf;     /* forward: Q rounded up to the GEMM tile's MR (rows of xs) */
    int64_t qd;     /* backward-data: Q rounded up to the CHANNELS tile's NR */
    int bd_copy;     /* backward-data: weight rows copied (tall tiles) or read in place */
    int64_t bd_span; /* backward-data: columns of a weight row run at a time */
    int64_t cgp, jp; /* backward-weights: Cg and J rounded up to its MR and NR */
    tconv_scratch *scratch;
};

int tconv_wstream_layout_ok(const tconv_problem *p)
{
    const int64_t kk = p->k_h * p->k_w;
    return p->w.m == kk && p->w.cg >= p->fg * kk && tconv_w_taps_adjacent(p);
}

/* The tap t of a column as (kh, kw). */
static inline void tap_of(const tconv_wstream *s, int64_t t, int64_t *kh, int64_t *kw)
{
    const tconv_problem *p = &s->p;
    if (s->tap_major) {
        *kh = t / p->k_w;
        *kw = t - *kh * p->k_w;
    } else {
        *kw = t / p->k_h;
        *kh = t - *kw * p->k_h;
    }
}

/* Steps (kh, kw) to the next tap in the rows' order, without a division. */
static inline void next_tap(const tconv_wstream *s, int64_t *kh, int64_t *kw)
{
    const tconv_problem *p = &s->p;
    if (s->tap_major) {
        if (++*kw == p->k_w) { *kw = 0; ++*kh; }
    } else {
        if (++*kh == p->k_h) { *kh = 0; ++*kw; }
    }
}

/* Where input pixel q's taps start in the output: the uncropped position of
 * tap (0, 0) moved by the crop, and its image's offset in y (filter 0). */
typedef struct pixel_at {
    int64_t h, w, y_off;
    int valid;
} pixel_at;

static pixel_at pixel(const tconv_problem *p, int64_t q, int64_t nq)
{
    pixel_at a = {0, 0, 0, 0};
    if (q >= nq) return a;
    const int64_t plane = p->in_h * p->in_w, n = q / plane, ih = q % plane / p->in_w,
                  iw = q % p->in_w;
    a.h = ih * p->stride_h - p->crop_top;
    a.w = iw * p->stride_w - p->crop_left;
    a.y_off = n * p->y.n + a.h * p->y.h + a.w * p->y.w;
    a.valid = 1;
    return a;
}

tconv_status tconv_wstream_create(const tconv_problem *p, const tconv_ukernel *gemm_fwd,
                                  const tconv_ukernel *channels,
                                  const tconv_ukernel *gemm_bwdw, const tconv_act_impl *act,
                                  tconv_wstream **out)
{
    *out = NULL;
    const tconv_ukernel *uks[3] = {gemm_fwd, channels, gemm_bwdw};
    const tconv_uk_family fam[3] = {TCONV_UK_GEMM, TCONV_UK_CHANNELS, TCONV_UK_GEMM};
    for (int i = 0; i < 3; i++)
        if (!uks[i] || uks[i]->family != fam[i] || uks[i]->dtype != p->dtype ||
            uks[i]->mr < 1 || uks[i]->mr > WS_MAX_TILE || uks[i]->nr < 1 ||
            uks[i]->nr > WS_MAX_TILE)
            return TCONV_EUNSUPPORTED;
    const int64_t kk = p->k_h * p->k_w, j = p->fg * kk;
    /* The forward tile reads NR columns of a weight row where they lie: a
     * row must hold that many (the last block is shifted back into it). */
    if (!tconv_wstream_layout_ok(p) || j < gemm_fwd->nr) return TCONV_EUNSUPPORTED;

    tconv_wstream s = {.p = *p, .gf = gemm_fwd, .ch = channels, .gw = gemm_bwdw, .act = act};
    s.es = tconv_dtype_size(p->dtype);
    s.kk = kk;
    s.j = j;
    s.tap_major = p->w.kw == 1 && p->w.kh == p->k_w;
    s.fpb = kk <= gemm_fwd->nr ? gemm_fwd->nr / kk : 1;
    /* A task's columns of a row: about 1024 (4 KB of f32, read in order),
     * whole chunks of fpb filters, in `blocks` blocks of NR; its rows are
     * copied kc at a time into panels of about 512 KB, half an L2 of the
     * smallest size tconv plans for. */
    const int64_t per_chunk = (s.fpb * kk + gemm_fwd->nr - 1) / gemm_fwd->nr;
    s.fpt = s.fpb * (1024 / (s.fpb * kk) > 1 ? 1024 / (s.fpb * kk) : 1);
    if (s.fpt > p->fg) s.fpt = (p->fg + s.fpb - 1) / s.fpb * s.fpb;
    s.blocks = s.fpt / s.fpb * per_chunk;
    s.kc = (512 << 10) / (s.blocks * gemm_fwd->nr * tconv_dtype_size(p->dtype));
    s.kc = s.kc < 1 ? 1 : s.kc > p->cg ? p->cg : s.kc;
    /* Every scratch buffer's size must be indexable: checked once here. */
    int64_t bytes;
    if (!tconv_mul_ok(p->batch, p->in_h * p->in_w, &s.q) ||
        !tconv_mul_ok(round_up64(s.q, gemm_fwd->mr), p->channels, &bytes) ||
        !tconv_mul_ok(round_up64(s.q, channels->nr), j + p->cg, &bytes) ||
        !tconv_mul_ok(bytes, p->groups * s.es, &bytes) ||
        !tconv_mul_ok(s.q, round_up64(p->cg, gemm_bwdw->mr) + round_up64(j, gemm_bwdw->nr), &bytes) ||
        !tconv_mul_ok(bytes, p->groups * s.es, &bytes))
        return TCONV_EOVERFLOW;
    s.qf = round_up64(s.q, gemm_fwd->mr);
    s.qd = round_up64(s.q, channels->nr);
    s.bd_copy = channels->mr > 16;
    s.bd_span = (256 << 10) / (channels->mr * s.es);
    s.bd_span = s.bd_span < 1 ? 1 : s.bd_span > j ? j : s.bd_span;
    s.cgp = round_up64(p->cg, gemm_bwdw->mr);
    s.jp = round_up64(j, gemm_bwdw->nr);

    tconv_wstream *d = malloc(sizeof *d);
    if (!d) return TCONV_ENOMEM;
    *d = s;
    d->scratch = tconv_scratch_new();
    if (!d->scratch) {
        free(d);
        return TCONV_ENOMEM;
    }
    *out = d;
    return TCONV_OK;
}

void tconv_wstream_destroy(tconv_wstream *s)
{
    if (!s) return;
    tconv_scratch_delete(s->scratch);
    free(s);
}

void tconv_wstream_describe(const tconv_wstream *s, char *buf, size_t n)
{
    /* backward-data's tile, or "dot" where it runs dot products (bd_rows) */
    snprintf(buf, n, "wstream %s / %s / %s pixels=%lld", s->gf->name,
             s->q * 4 <= s->ch->nr ? "dot" : s->ch->name, s->gw->name,
             (long long)s->q);
}

/* ---- forward ---------------------------------------------------------------- */

typedef struct fwd_pass {
    const tconv_wstream *s;
    const char *x, *w, *bias;
    char *xs, *y;
    atomic_int out_of_memory;
} fwd_pass;

/* xs[c][q] = x[n][c][ih][iw] for every channel, zero for q >= Q. */
static void fwd_copy_x(void *arg, int64_t c0, int64_t c1)
{
    const fwd_pass *f = arg;
    const tconv_wstream *s = f->s;
    const tconv_problem *p = &s->p;
    const char *x = f->x;
    char *xs = f->xs;
    for (int64_t c = c0; c < c1; c++) {
        char *row = xs + c * s->qf * s->es;
        for (int64_t n = 0; n < p->batch; n++)
            for (int64_t ih = 0; ih < p->in_h; ih++)
                tconv_copy_run(s->es, row + ((n * p->in_h + ih) * p->in_w) * s->es, 1,
                               x + tconv_x_index(p, n, c, ih, 0) * s->es, p->x.w, p->in_w);
        memset(row + s->q * s->es, 0, (size_t)((s->qf - s->q) * s->es));
    }
}

/* y = bias (or 0) at every position of filters [f0, f1). */
static void fill_filters(const tconv_wstream *s, const char *bias, char *y, int64_t f0, int64_t f1)
{
    const tconv_problem *p = &s->p;
    for (int64_t f = f0; f < f1; f++) {
        const double v = bias ? tconv_elem_load(p->dtype, bias, f) : 0.0;
        for (int64_t n = 0; n < p->batch; n++)
            for (int64_t h = 0; h < p->out_h; h++) {
                const int64_t at = tconv_y_index(p, n, f, h, 0);
                if (s->es == 8) {
                    double *r = (double *)y + at;
                    for (int64_t w = 0; w < p->out_w; w++) r[w * p->y.w] = v;
                } else {
                    float *r = (float *)y + at;
                    for (int64_t w = 0; w < p->out_w; w++) r[w * p->y.w] = (float)v;
                }
            }
    }
}

/* Adds rows [0, m) of a tile (NR results per row, columns from jr) for the
 * pixels from q0 to y, columns [j0, j1) of group g, each where it lands. */
#define WS_SCATTER(T)                                                                          \
    for (int64_t i = 0; i < m; i++) {                                                          \
        const pixel_at a = pixel(p, q0 + i, s->q);                                             \
        const T *row = (const T *)tile + i * nr + (j0 - jr);                                   \
        T *yp = (T *)y + a.y_off;                                                              \
        for (int64_t k = 0; k < j1 - j0; k++) {                                                \
            const int64_t oh = a.h + dh[k], ow = a.w + dw[k];                                  \
            if ((uint64_t)oh < (uint64_t)p->out_h && (uint64_t)ow < (uint64_t)p->out_w)        \
                yp[y_off[k]] += row[k];                                                        \
        }                                                                                      \
    }

static void fwd_scatter(const tconv_wstream *s, const void *tile, int64_t q0, int64_t m,
                        int64_t j0, int64_t j1, int64_t jr, const int64_t *dh, const int64_t *dw,
                        const int64_t *y_off, char *y)
{
    const tconv_problem *p = &s->p;
    const int64_t nr = s->gf->nr;
    if (s->es == 8) {
        WS_SCATTER(double)
    } else {
        WS_SCATTER(float)
    }
}

/* The columns of block b of task filters [m0, m1): [*j0, *j1), computed
 * from the row's columns [*jr, *jr + NR) (the last block of a row shifted
 * back into it). */
static int block_columns(const tconv_wstream *s, int64_t m0, int64_t m1, int64_t b, int64_t *j0,
                         int64_t *j1, int64_t *jr)
{
    /* Blocks never straddle two chunks of fpb filters: blocks of one chunk
     * hold whole filters, or (fpb = 1) the taps of one filter. */
    const int64_t nr = s->gf->nr, per_chunk = (s->fpb * s->kk + nr - 1) / nr;
    const int64_t chunk_m = m0 + b / per_chunk * s->fpb;
    if (chunk_m >= m1) return 0;
    const int64_t chunk_end = min64(m1, chunk_m + s->fpb) * s->kk;
    *j0 = chunk_m * s->kk + b % per_chunk * nr;
    if (*j0 >= chunk_end) return 0;
    *j1 = min64(*j0 + nr, chunk_end);
    *jr = min64(*j0, s->j - nr);
    return 1;
}

/* Output offsets of columns [j0, j1) of group g: each column's tap offsets
 * and its position in y relative to a pixel's. */
static void column_offsets(const tconv_wstream *s, int64_t g, int64_t j0, int64_t j1, int64_t *dh,
                           int64_t *dw, int64_t *y_off)
{
    const tconv_problem *p = &s->p;
    int64_t kh, kw;
    tap_of(s, j0 % s->kk, &kh, &kw);
    for (int64_t j = j0; j < j1; j++) {
        const int64_t k = j - j0;
        dh[k] = kh * p->dil_h;
        dw[k] = kw * p->dil_w;
        y_off[k] = (g * p->fg + j / s->kk) * p->y.c + dh[k] * p->y.h + dw[k] * p->y.w;
        next_tap(s, &kh, &kw);
        if (kh == p->k_h || kw == p->k_w) kh = kw = 0; /* the next filter's first tap */
    }
}

/* The NR columns from cols[b] of kc weight rows (a row every w.cg) into
 * panel b of buf, [b][c][NR], for b < nblocks: each row read in order,
 * and the same columns PREFETCH_ROWS rows on prefetched. The weights come
 * from memory (a training step reads them once), and each row's few KB
 * are too short a stream for the hardware prefetchers to get going:
 * prefetching made the forward pass 1.2-1.3x faster with the caches
 * flushed before each call (DCGAN 512->256 2.8 -> 2.2 ms, pix2pix
 * 1024->512 10.2 -> 8.5; AMD EPYC, AVX2; 2, 8 or 16 rows alike). */
#define PREFETCH_ROWS 8
static void pack_panels(const tconv_wstream *s, const char *rows, int64_t kc, int64_t nblocks,
                        const int64_t *cols, char *buf)
{
    const int64_t nr = s->gf->nr, ld = s->p.w.cg;
    for (int64_t c = 0; c < kc; c++)
        for (int64_t b = 0; b < nblocks; b++) {
            const int64_t from = c * ld + cols[b], to = (b * kc + c) * nr;
            if (c + PREFETCH_ROWS < kc)
                for (int64_t k = 0; k < nr * s->es; k += 64)
                    __builtin_prefetch(rows + (from + PREFETCH_ROWS * ld) * s->es + k);
            /* (A memcpy: an element loop here was not vectorised, but
             * the time goes to fetching the rows from memory either way.) */
            tconv_copy_run(s->es, buf + to * s->es, 1, rows + from * s->es, 1, nr);
        }
}

/*
 * Tasks [t0, t1): task t is the filters [m0, m1) of one group (fpt of them,
 * whole chunks of fpb). It sets their outputs to the bias, then runs their
 * columns in blocks of NR over every tile of pixels. The weights' rows are
 * read kc channels at a time, in order (a few KB of a row, which the
 * prefetchers follow), into a panel per block that stays in L2 while
 * every tile of pixels reads it; the tiles accumulate over the channel
 * chunks in a buffer of their own, then are added to y.
 */
static void fwd_filters(void *arg, int64_t t0, int64_t t1)
{
    fwd_pass *f = arg;
    const tconv_wstream *s = f->s;
    const tconv_problem *p = &s->p;
    const int64_t mr = s->gf->mr, nr = s->gf->nr, es = s->es;
    const int64_t tasks_per_group = (p->fg + s->fpt - 1) / s->fpt;
    /* Each block's first column (jr), then the panels, then the tiles'
     * accumulators: the int64_t first, where the scratch is aligned. */
    const size_t cols_bytes = ((size_t)s->blocks * sizeof(int64_t) + 63) / 64 * 64;
    char *scratch = tconv_thread_scratch(cols_bytes + (size_t)((s->kc * s->blocks * nr +
                                                                s->blocks * s->qf * nr) * es));
    if (!scratch) {
        atomic_store(&f->out_of_memory, 1);
        return;
    }
    int64_t *first_col = (int64_t *)scratch;
    char *buf = scratch + cols_bytes;                 /* [block][kc][NR] */
    char *acc = buf + s->kc * s->blocks * nr * es; /* [block][qf][NR] */
    int64_t dh[WS_MAX_TILE], dw[WS_MAX_TILE], y_off[WS_MAX_TILE];
    for (int64_t t = t0; t < t1; t++) {
        const int64_t g = t / tasks_per_group, m0 = t % tasks_per_group * s->fpt;
        const int64_t m1 = min64(p->fg, m0 + s->fpt);
        fill_filters(s, f->bias, f->y, g * p->fg + m0, g * p->fg + m1);
        int64_t nblocks = 0;
        for (int64_t j0, j1; block_columns(s, m0, m1, nblocks, &j0, &j1, &first_col[nblocks]);)
            nblocks++;
        for (int64_t c0 = 0; c0 < p->cg; c0 += s->kc) {
            const int64_t kc = min64(s->kc, p->cg - c0);
            const char *rows = f->w + (g * p->w.g + c0 * p->w.cg) * es;
            /* One tile of pixels reads each weight once: then in place
             * (block b's columns at rows + jr, a row every w.cg). Else
             * each block's columns of the kc rows go into a panel of
             * their own, [b][c][NR], read in order: where the tiles read
             * the copied rows in place, each step of a tile went a row
             * (a page) on, and the tiles ran at ~30% of the peak
             * (pix2pix 1024->512, AVX2, AMD EPYC). */
            const int packed = s->qf > mr;
            if (packed) pack_panels(s, rows, kc, nblocks, first_col, buf);
            for (int64_t b = 0; b < nblocks; b++)
                for (int64_t q0 = 0; q0 < s->q; q0 += mr) {
                    const tconv_uk_run run = {f->xs + ((g * p->cg + c0) * s->qf + q0) * es,
                                              packed ? buf + b * kc * nr * es
                                                     : rows + first_col[b] * es,
                                              kc};
                    s->gf->gemm(1, &run, s->qf, packed ? nr : p->w.cg,
                                acc + (b * s->qf + q0) * nr * es, nr, c0 > 0);
                }
        }
        int64_t j0, j1, jr;
        for (int64_t b = 0; block_columns(s, m0, m1, b, &j0, &j1, &jr); b++) {
            column_offsets(s, g, j0, j1, dh, dw, y_off);
            for (int64_t q0 = 0; q0 < s->q; q0 += mr)
                fwd_scatter(s, acc + (b * s->qf + q0) * nr * es, q0, min64(mr, s->q - q0), j0,
                            j1, jr, dh, dw, y_off, f->y);
        }
    }
}

typedef struct act_pass {
    const tconv_wstream *s;
    char *y;
} act_pass;

static void activate(void *arg, int64_t i0, int64_t i1)
{
    const act_pass *a = arg;
    const tconv_problem *p = &a->s->p;
    if (p->dtype == TCONV_F64)
        a->s->act->fwd_f64(p->activation, p->activation_alpha, (double *)a->y + i0, i1 - i0);
    else
        a->s->act->fwd_f32(p->activation, (float)p->activation_alpha, (float *)a->y + i0, i1 - i0);
}

tconv_status tconv_wstream_forward(const tconv_wstream *s, const void *x, const void *w,
                                   const void *bias, void *y)
{
    const tconv_problem *p = &s->p;
    const size_t sizes[1] = {(size_t)(p->channels * s->qf * s->es)};
    size_t at[1];
    int kept;
    char *block = tconv_scratch_take_parts(s->scratch, sizes, at, 1, &kept);
    if (!block) return TCONV_ENOMEM;
    fwd_pass f = {s, x, w, bias, block + at[0], y, 0};
    tconv_parallel_ranges(p->channels, 16, fwd_copy_x, &f);
    tconv_parallel_ranges(p->groups * ((p->fg + s->fpt - 1) / s->fpt), 1, fwd_filters, &f);
    tconv_scratch_give(s->scratch, block, kept);
    if (atomic_load(&f.out_of_memory)) return TCONV_ENOMEM;
    if (p->activation != TCONV_ACT_NONE) {
        act_pass a = {s, y};
        tconv_parallel_ranges(p->y_elems, 16384, activate, &a);
    }
    return TCONV_OK;
}

/* ---- the gathered dy, shared by both backward passes -------------------------- */

/* Column values of pixel q for columns [0, J) of group g: out[j * stride] =
 * dy at the position (q's filter-tap target) if it lies in the output,
 * else 0. */
#define WS_GATHER(T)                                                                           \
    do {                                                                                       \
        const T *src = (const T *)dy + a.y_off;                                                \
        T *o = (T *)out;                                                                       \
        int64_t j = 0;                                                                         \
        for (int64_t m = 0; m < p->fg; m++) {                                                  \
            const T *plane = src + (g * p->fg + m) * p->y.c;                                   \
            int64_t kh = 0, kw = 0;                                                            \
            for (int64_t t = 0; t < s->kk; t++, j++) {                                         \
                const int64_t oh = a.h + kh * p->dil_h, ow = a.w + kw * p->dil_w;              \
                o[j * stride] = a.valid && (uint64_t)oh < (uint64_t)p->out_h &&                \
                                        (uint64_t)ow < (uint64_t)p->out_w                      \
                                    ? plane[kh * p->dil_h * p->y.h + kw * p->dil_w * p->y.w]   \
                                    : (T)0;                                                    \
                next_tap(s, &kh, &kw);                                                         \
            }                                                                                  \
        }                                                                                      \
    } while (0)

static void gather_columns(const tconv_wstream *s, const char *dy, int64_t g, int64_t q,
                           char *out, int64_t stride)
{
    const tconv_problem *p = &s->p;
    const pixel_at a = pixel(p, q, s->q);
    if (s->es == 8)
        WS_GATHER(double);
    else
        WS_GATHER(float);
}

/* ---- backward-data ------------------------------------------------------------ */

typedef struct bwd_data_pass {
    const tconv_wstream *s;
    const char *dy, *w;
    char *ct;        /* [group][pixel block][J][NR] */
    char *dxs;       /* [C][qd] */
    const char *zeros; /* NR zeros: the kernel's bias */
    char *dx;
    atomic_int out_of_memory;
} bwd_data_pass;

/* Blocks [b0, b1) of (group, pixel block): J rows of NR pixels. */
static void bd_gather(void *arg, int64_t b0, int64_t b1)
{
    const bwd_data_pass *b = arg;
    const tconv_wstream *s = b->s;
    const int64_t nr = s->ch->nr, nblk = s->qd / nr;
    for (int64_t blk = b0; blk < b1; blk++) {
        const int64_t g = blk / nblk, q0 = blk % nblk * nr;
        char *block = b->ct + blk * s->j * nr * s->es;
        for (int64_t i = 0; i < nr; i++)
            gather_columns(s, b->dy, g, q0 + i, block + i * s->es, nr);
    }
}

/*
 * Tiles [t0, t1) of (group, MR channels): every pixel block. A tile of more
 * rows than the prefetchers follow streams at a time (28x16 tiles: 28 rows
 * read at once stream from memory at about 45% of the speed of one row
 * after another; 8-row tiles do not gain) copies its rows a span of
 * columns at a time, row after row, into a buffer of about 256 KB that
 * stays in L2 while the pixel blocks read it; spans after the first add to
 * what the ones before left in dxs. (pix2pix 1024->512: 5.5 -> 3.9 ms;
 * DCGAN 256->128 with 8x32 tiles: 0.67 ms in place, 0.75 copying.)
 */
static void bd_tiles(void *arg, int64_t t0, int64_t t1)
{
    bwd_data_pass *b = arg;
    const tconv_wstream *s = b->s;
    const tconv_problem *p = &s->p;
    const int64_t mr = s->ch->mr, nr = s->ch->nr, es = s->es, nblk = s->qd / nr;
    const int64_t tiles = (p->cg + mr - 1) / mr, span = s->bd_span;
    /* The rows' spans, then one row of NR for rows past a tile's edge. */
    char *buf = tconv_thread_scratch((size_t)((mr * span + nr) * es));
    if (!buf) {
        atomic_store(&b->out_of_memory, 1);
        return;
    }
    char *spare = buf + mr * span * es;
    memset(spare, 0, (size_t)(nr * es));
    const void *rows[WS_MAX_TILE];
    void *outs[WS_MAX_TILE];
    for (int64_t t = t0; t < t1; t++) {
        const int64_t g = t / tiles, c0 = t % tiles * mr, valid = min64(mr, p->cg - c0);
        const char *w0 = b->w + (g * p->w.g + c0 * p->w.cg) * es; /* the tile's first row */
        for (int64_t j0 = 0; j0 < s->j; j0 += span) {
            const int64_t len = min64(span, s->j - j0);
            for (int64_t i = 0; i < mr; i++) {
                const int64_t row = min64(i, valid - 1);
                rows[i] = s->bd_copy ? buf + row * span * es : w0 + (row * p->w.cg + j0) * es;
            }
            for (int64_t i = 0; s->bd_copy && i < valid; i++)
                memcpy(buf + i * span * es, w0 + (i * p->w.cg + j0) * es, (size_t)(len * es));
            for (int64_t blk = 0; blk < nblk; blk++) {
                for (int64_t i = 0; i < mr; i++)
                    outs[i] = i < valid ? b->dxs + ((g * p->cg + c0 + i) * s->qd + blk * nr) * es
                                        : spare;
                const tconv_uk_tap tap = {0, b->ct + (((g * nblk + blk) * s->j + j0) * nr) * es};
                s->ch->channels(nr, 1, &tap, len, rows, j0 == 0 ? b->zeros : NULL, outs);
            }
        }
    }
}

/*
 * Few pixels (Q * 4 <= NR): a tile's NR pixel columns would be mostly empty
 * (DCGAN's 1x1 input at batch 1 fills 1 of 16, and 16 times the FMAs were
 * most of its backward-data: 0.42 ms for 1.6 MFLOP). Then each channel's
 * weight row meets the Q gathered columns in dot products instead, a
 * matrix-vector product bound by reading the weights once. Sixteen partial
 * sums (eight in f64) per dot product, one per lane of the compiler's
 * vectors, added in a fixed order: the same bits for any thread count.
 */
#define WS_DOT(T, NAME, LANES)                                                                 \
    static T NAME(const T *a, const T *b, int64_t n)                                           \
    {                                                                                          \
        T part[LANES] = {0};                                                                   \
        int64_t j = 0;                                                                         \
        for (; j + (LANES) <= n; j += (LANES))                                                 \
            for (int l = 0; l < (LANES); l++) part[l] += a[j + l] * b[j + l];                  \
        for (int l = 0; j < n; j++, l++) part[l] += a[j] * b[j];                               \
        T sum = 0;                                                                             \
        for (int l = 0; l < (LANES); l++) sum += part[l];                                      \
        return sum;                                                                            \
    }
WS_DOT(float, dot_f32, 16)
WS_DOT(double, dot_f64, 8)
#undef WS_DOT

/* Groups [g0, g1): pixel q's J columns into ct + (g * Q + q) * J. */
static void bd_gather_dense(void *arg, int64_t g0, int64_t g1)
{
    const bwd_data_pass *b = arg;
    const tconv_wstream *s = b->s;
    for (int64_t g = g0; g < g1; g++)
        for (int64_t q = 0; q < s->q; q++)
            gather_columns(s, b->dy, g, q, b->ct + (g * s->q + q) * s->j * s->es, 1);
}

/* Channels [r0, r1) of the flat (group, channel) range: dxs[c][q] for every
 * pixel q, each a dot product of the channel's weight row and q's columns. */
static void bd_rows(void *arg, int64_t r0, int64_t r1)
{
    const bwd_data_pass *b = arg;
    const tconv_wstream *s = b->s;
    const tconv_problem *p = &s->p;
    const int64_t es = s->es;
    for (int64_t r = r0; r < r1; r++) {
        const int64_t g = r / p->cg, c = r % p->cg;
        const char *row = b->w + (g * p->w.g + c * p->w.cg) * es;
        for (int64_t q = 0; q < s->q; q++) {
            const char *col = b->ct + (g * s->q + q) * s->j * es;
            char *out = b->dxs + (r * s->qd + q) * es;
            if (es == 8)
                *(double *)out = dot_f64((const double *)row, (const double *)col, s->j);
            else
                *(float *)out = dot_f32((const float *)row, (const float *)col, s->j);
        }
    }
}

/* dx[n][c][ih][iw] = dxs[c][q] for channels [c0, c1). */
static void bd_copy_out(void *arg, int64_t c0, int64_t c1)
{
    const bwd_data_pass *b = arg;
    const tconv_wstream *s = b->s;
    const tconv_problem *p = &s->p;
    for (int64_t c = c0; c < c1; c++)
        for (int64_t n = 0; n < p->batch; n++)
            for (int64_t ih = 0; ih < p->in_h; ih++)
                tconv_copy_run(s->es, b->dx + tconv_x_index(p, n, c, ih, 0) * s->es, p->x.w,
                               b->dxs + (c * s->qd + (n * p->in_h + ih) * p->in_w) * s->es, 1,
                               p->in_w);
}

tconv_status tconv_wstream_backward_data(const tconv_wstream *s, const void *dy, const void *w,
                                         void *dx)
{
    const tconv_problem *p = &s->p;
    const int64_t nr = s->ch->nr, nblk = s->qd / nr;
    const size_t sizes[3] = {(size_t)(p->groups * nblk * s->j * nr * s->es),
                             (size_t)(p->channels * s->qd * s->es), (size_t)(nr * s->es)};
    size_t at[3];
    int kept;
    char *block = tconv_scratch_take_parts(s->scratch, sizes, at, 3, &kept);
    if (!block) return TCONV_ENOMEM;
    bwd_data_pass b = {s, dy, w, block + at[0], block + at[1], block + at[2], dx, 0};
    memset(block + at[2], 0, sizes[2]);
    if (s->q * 4 <= nr) { /* bd_rows; the columns in dense rows (ct holds Q * J a group) */
        tconv_parallel_ranges(p->groups, 1, bd_gather_dense, &b);
        tconv_parallel_ranges(p->channels, 8, bd_rows, &b);
    } else {
        tconv_parallel_ranges(p->groups * nblk, 1, bd_gather, &b);
        tconv_parallel_ranges(p->groups * ((p->cg + s->ch->mr - 1) / s->ch->mr), 1, bd_tiles, &b);
    }
    if (!atomic_load(&b.out_of_memory)) tconv_parallel_ranges(p->channels, 16, bd_copy_out, &b);
    tconv_scratch_give(s->scratch, block, kept);
    return atomic_load(&b.out_of_memory) ? TCONV_ENOMEM : TCONV_OK;
}

/* ---- backward-weights --------------------------------------------------------- */

typedef struct bwd_weights_pass {
    const tconv_wstream *s;
    const char *x, *dy;
    char *xq;   /* [group][Q][cgp]: each pixel's channels */
    char *cols; /* [group][Q][jp]: each pixel's gathered dy columns */
    char *dw, *dbias;
    atomic_int out_of_memory;
} bwd_weights_pass;

/* Rows [r0, r1) of (group, pixel) of xq and cols. */
static void bw_copy(void *arg, int64_t r0, int64_t r1)
{
    const bwd_weights_pass *b = arg;
    const tconv_wstream *s = b->s;
    const tconv_problem *p = &s->p;
    const int64_t es = s->es, plane = p->in_h * p->in_w;
    for (int64_t r = r0; r < r1; r++) {
        const int64_t g = r / s->q, q = r % s->q;
        const int64_t n = q / plane, ih = q % plane / p->in_w, iw = q % p->in_w;
        char *xrow = b->xq + r * s->cgp * es;
        tconv_copy_run(es, xrow, 1, b->x + tconv_x_index(p, n, g * p->cg, ih, iw) * es, p->x.c,
                       p->cg);
        memset(xrow + p->cg * es, 0, (size_t)((s->cgp - p->cg) * es));
        char *crow = b->cols + r * s->jp * es;
        gather_columns(s, b->dy, g, q, crow, 1);
        memset(crow + s->j * es, 0, (size_t)((s->jp - s->j) * es));
    }
}

/* Tiles [t0, t1) of (group, MR channels, NR columns), columns fastest: each
 * computed over every pixel in one run and stored into dw (through a tile
 * buffer at the edges). */
static void bw_tiles(void *arg, int64_t t0, int64_t t1)
{
    bwd_weights_pass *b = arg;
    const tconv_wstream *s = b->s;
    const tconv_problem *p = &s->p;
    const int64_t mr = s->gw->mr, nr = s->gw->nr, es = s->es;
    const int64_t col_tiles = s->jp / nr, row_tiles = s->cgp / mr;
    char *tile = tconv_thread_scratch((size_t)(mr * nr * es));
    if (!tile) {
        atomic_store(&b->out_of_memory, 1);
        return;
    }
    for (int64_t t = t0; t < t1; t++) {
        const int64_t g = t / (row_tiles * col_tiles), rc = t % (row_tiles * col_tiles);
        const int64_t c0 = rc / col_tiles * mr, j0 = rc % col_tiles * nr;
        const tconv_uk_run run = {b->xq + (g * s->q * s->cgp + c0) * es,
                                  b->cols + (g * s->q * s->jp + j0) * es, s->q};
        char *dst = b->dw + (g * p->w.g + c0 * p->w.cg + j0) * es;
        if (c0 + mr <= p->cg && j0 + nr <= s->j) {
            s->gw->gemm(1, &run, s->cgp, s->jp, dst, p->w.cg, 0);
            continue;
        }
        s->gw->gemm(1, &run, s->cgp, s->jp, tile, nr, 0);
        for (int64_t i = 0; i < min64(mr, p->cg - c0); i++)
            memcpy(dst + i * p->w.cg * es, tile + i * nr * es,
                   (size_t)(min64(nr, s->j - j0) * es));
    }
}

/* dbias[f] = the sum of dy over every position of filter f, in double. */
static void bw_bias(void *arg, int64_t f0, int64_t f1)
{
    const bwd_weights_pass *b = arg;
    const tconv_problem *p = &b->s->p;
    for (int64_t f = f0; f < f1; f++) {
        double sum = 0.0;
        for (int64_t n = 0; n < p->batch; n++)
            for (int64_t h = 0; h < p->out_h; h++)
                for (int64_t w = 0; w < p->out_w; w++)
                    sum += tconv_elem_load(p->dtype, b->dy, tconv_y_index(p, n, f, h, w));
        tconv_elem_store(p->dtype, b->dbias, f, sum);
    }
}

tconv_status tconv_wstream_backward_weights(const tconv_wstream *s, const void *x,
                                            const void *dy, void *dw, void *dbias)
{
    const tconv_problem *p = &s->p;
    const size_t sizes[2] = {(size_t)(p->groups * s->q * s->cgp * s->es),
                             (size_t)(p->groups * s->q * s->jp * s->es)};
    size_t at[2];
    int kept;
    char *block = tconv_scratch_take_parts(s->scratch, sizes, at, 2, &kept);
    if (!block) return TCONV_ENOMEM;
    bwd_weights_pass b = {s, x, dy, block + at[0], block + at[1], dw, dbias, 0};
    tconv_parallel_ranges(p->groups * s->q, 1, bw_copy, &b);
    tconv_parallel_ranges(p->groups * (s->cgp / s->gw->mr) * (s->jp / s->gw->nr), 1, bw_tiles, &b);
    if (dbias) tconv_parallel_ranges(p->filters, 1, bw_bias, &b);
    tconv_scratch_give(s->scratch, block, kept);
    return atomic_load(&b.out_of_memory) ? TCONV_ENOMEM : TCONV_OK;
}
