/*
 * Copying many strided runs at once, for the layout edges (NCHW <-> the
 * kernels' channel-innermost forms): tconv_copy_runs. Where the runs of one
 * side are adjacent elements, the copy is a transposition, done in tiles
 * of a cache line by a cache line: whole tiles by the ISA's register
 * transposes (tconv_uk_transposes, kernels/ukernel.h: every kernel entry
 * points to its ISA's; kernels/template/transpose_x86.inc for AVX2 and
 * AVX-512, kernels/generic/transpose.c elsewhere), the partial ones at the
 * edges with 4 x 4 (f32) or 2 x 2 (f64) SSE2 register transposes on
 * x86-64, whose baseline SSE2 every x86-64 CPU has (scalar tiles
 * elsewhere), inline: a partial tile is often small (a few channels), and
 * a call per tile cost up to a quarter of backward-data's time on ENet's
 * 16-channel layers.
 */
#ifndef TCONV_KERNELS_TRANSPOSE_H
#define TCONV_KERNELS_TRANSPOSE_H

#include <stdint.h>

#include "kernels/elem.h"
#include "kernels/ukernel.h"

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#define TCONV_TRANSPOSE_SSE2 1
#else
#define TCONV_TRANSPOSE_SSE2 0
#endif

/* 4 x 4 (f32) and 2 x 2 (f64) register transposes: b[c * ldb + r] =
 * a[r * lda + c] for r, c < 4 (2). */
#if TCONV_TRANSPOSE_SSE2
static inline void tconv_transpose_4x4_f32(float *b, int64_t ldb, const float *a, int64_t lda)
{
    __m128 r0 = _mm_loadu_ps(a), r1 = _mm_loadu_ps(a + lda);
    __m128 r2 = _mm_loadu_ps(a + 2 * lda), r3 = _mm_loadu_ps(a + 3 * lda);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(b, r0);
    _mm_storeu_ps(b + ldb, r1);
    _mm_storeu_ps(b + 2 * ldb, r2);
    _mm_storeu_ps(b + 3 * ldb, r3);
}

static inline void tconv_transpose_2x2_f64(double *b, int64_t ldb, const double *a, int64_t lda)
{
    const __m128d r0 = _mm_loadu_pd(a), r1 = _mm_loadu_pd(a + lda);
    _mm_storeu_pd(b, _mm_unpacklo_pd(r0, r1));
    _mm_storeu_pd(b + ldb, _mm_unpackhi_pd(r0, r1));
}
#endif

/* Defines NAME, one tile of tconv_transpose (rows, cols <= its side) in
 * B x B register blocks `block` (when `blocked`; else element by element).
 * The side whose rows are far apart (channel planes, often a multiple of 4
 * KiB apart: all in one L1 set) is walked one block of B rows at a time,
 * along them, so that few of its lines are open at once; the other side's
 * rows are near each other. Also the whole tiles of the x86 vector
 * transposes (kernels/template/transpose_x86.inc). */
#define TCONV_TRANSPOSE_TILE(NAME, T, B, block, blocked)                                          \
    static inline void NAME(T *b, int64_t ldb, const T *a, int64_t lda, int64_t rows,             \
                            int64_t cols)                                                         \
    {                                                                                             \
        const int64_t r4 = (blocked) ? rows / (B) * (B) : 0;                                      \
        const int64_t c4 = (blocked) ? cols / (B) * (B) : 0;                                      \
        if (ldb >= lda)                                                                           \
            for (int64_t c = 0; c < c4; c += (B))                                                 \
                for (int64_t r = 0; r < r4; r += (B)) block(b + c * ldb + r, ldb, a + r * lda + c, lda); \
        else                                                                                      \
            for (int64_t r = 0; r < r4; r += (B))                                                 \
                for (int64_t c = 0; c < c4; c += (B)) block(b + c * ldb + r, ldb, a + r * lda + c, lda); \
        /* the edges the register blocks leave: columns past c4, rows past r4 */                  \
        for (int64_t r = 0; r < r4; r++)                                                          \
            for (int64_t c = c4; c < cols; c++) b[c * ldb + r] = a[r * lda + c];                  \
        for (int64_t r = r4; r < rows; r++)                                                       \
            for (int64_t c = 0; c < cols; c++) b[c * ldb + r] = a[r * lda + c];                   \
    }

#if TCONV_TRANSPOSE_SSE2
TCONV_TRANSPOSE_TILE(tconv_transpose_tile_float, float, 4, tconv_transpose_4x4_f32, 1)
TCONV_TRANSPOSE_TILE(tconv_transpose_tile_double, double, 2, tconv_transpose_2x2_f64, 1)
#else
/* (never called without SSE2: r4 = c4 = 0) */
static inline void tconv_transpose_no_block(void *b, int64_t ldb, const void *a, int64_t lda)
{
    (void)b; (void)ldb; (void)a; (void)lda;
}
TCONV_TRANSPOSE_TILE(tconv_transpose_tile_float, float, 4, tconv_transpose_no_block, 0)
TCONV_TRANSPOSE_TILE(tconv_transpose_tile_double, double, 2, tconv_transpose_no_block, 0)
#endif

/* b[c * ldb + r] = a[r * lda + c] for r < rows, c < cols, elements of esize
 * bytes, in square tiles of 16 x 16 (f32) or 8 x 8 (f64): a tile's lines of
 * a and of b (one cache line of each row) are all in L1 while it runs.
 * Going row after row of a instead touches a new line of b for every
 * element, and a row of 100-500 pixels of 64-512 channels outgrows L1
 * before the next row comes back to its lines; nor does a tile go element
 * k of 16 rows after another (planes a multiple of 4 KiB apart fall in one
 * L1 set, and the 16 lines in flight evict each other). */
static inline void tconv_transpose(const tconv_uk_transposes *t, int64_t esize, char *b,
                                   int64_t ldb, const char *a, int64_t lda, int64_t rows,
                                   int64_t cols)
{
    const int64_t side = TCONV_TRANSPOSE_TILE_BYTES / esize;
    for (int64_t r = 0; r < rows; r += side)
        for (int64_t c = 0; c < cols; c += side) {
            const int64_t nr = rows - r < side ? rows - r : side;
            const int64_t nc = cols - c < side ? cols - c : side;
            char *bt = b + (c * ldb + r) * esize;
            const char *at = a + (r * lda + c) * esize;
            if (nr == side && nc == side)
                (esize == 8 ? t->tile_f64 : t->tile_f32)(bt, ldb, at, lda);
            else if (esize == 8)
                tconv_transpose_tile_double((double *)bt, ldb, (const double *)at, lda, nr, nc);
            else
                tconv_transpose_tile_float((float *)bt, ldb, (const float *)at, lda, nr, nc);
        }
}

/* nruns runs of count elements: dst[r * dst_run + k * dst_stride] =
 * src[r * src_run + k * src_stride] (element strides). A transposition
 * (adjacent runs on one side, adjacent elements on the other) goes through
 * tconv_transpose; anything else run by run (tconv_copy_run). */
static inline void tconv_copy_runs(const tconv_uk_transposes *t, int64_t esize, char *dst,
                                   int64_t dst_run, int64_t dst_stride, const char *src,
                                   int64_t src_run, int64_t src_stride, int64_t count,
                                   int64_t nruns)
{
    if (src_run == 1 && dst_stride == 1) /* a: count rows of nruns (lda src_stride) */
        tconv_transpose(t, esize, dst, dst_run, src, src_stride, count, nruns);
    else if (dst_run == 1 && src_stride == 1) /* a: nruns rows of count (lda src_run) */
        tconv_transpose(t, esize, dst, dst_stride, src, src_run, nruns, count);
    else
        for (int64_t r = 0; r < nruns; r++)
            tconv_copy_run(esize, dst + r * dst_run * esize, dst_stride, src + r * src_run * esize,
                           src_stride, count);
}

/* The stack buffer a weight-packing task transposes into (the forward and
 * backward-data drivers): half of a 32 KiB L1, so that it stays there
 * beside the lines being read. */
#define TCONV_PACK_BUFFER_BYTES 16384

#endif /* TCONV_KERNELS_TRANSPOSE_H */
