/*
 * The microkernel contract. Each ISA folder registers its kernels in one
 * table of tconv_ukernel entries (named for the forward pass, whose two
 * families the backward passes reuse: kernels/bwd_driver.h); the drivers do
 * everything else: phase decomposition, padding, packing, blocking and
 * edges. A microkernel only multiplies and adds a register tile.
 *
 * Three families: CHANNELS and PIXELS (the forward pass, backward-data and
 * the packed backward-weights drivers) and GEMM (backward-weights in place).
 *
 * CHANNELS and PIXELS take the taps to sum over as a list of tconv_uk_tap: an
 * element offset into the input (relative to the pixel's position; may be
 * negative) and a pointer to that tap's packed weights, kc rows of NR values,
 * zero beyond the valid channels. The driver may leave out taps that read
 * only padding for a whole tile, and orders them as it likes. Packed weights
 * and bias are aligned to a whole vector (their buffer is 64-byte aligned and
 * rows are whole vectors); x and y pointers have no alignment.
 *
 * TCONV_UK_CHANNELS: MR output pixels x NR output channels (NR a multiple of
 *   the vector length). Broadcast one input value, FMA against an NR-wide
 *   weight row. For layers with many output channels.
 *
 *     for i < MR, j < n:
 *       y[i][j] = bias[j] + sum_{t < ntaps} sum_{c < kc} x[i][taps[t].x_off + c] * taps[t].w[c*NR + j]
 *
 *   x[i]: pointer to pixel i of the padded, channel-innermost input; every
 *         read above is in bounds for every i < MR (the driver repeats a valid
 *         pointer for rows past the edge of a tile).
 *   y[i]: pointer to the n output channels of pixel i; the kernel stores
 *         exactly y[i][0..n) for every i < MR (rows past the edge of a tile
 *         point to a scratch tile).
 *   bias: NR values, zero beyond n (zeros when the layer has no bias), or
 *         NULL: start from y[i][0..n) instead and add the taps to it, so
 *         that a driver may split the taps over several calls
 *         (backward-data, to keep a block's weights in L2) and get the same
 *         bits as from one call.
 *   ntaps may be 0 (the tile is bias only).
 *
 * TCONV_UK_PIXELS: MR consecutive output pixels (MR a multiple of the vector
 *   length) x up to NR output channels (NR small, e.g. 4). Load a vector of
 *   consecutive input pixels of one channel, FMA against a broadcast weight.
 *   For layers with fewer output channels than a vector holds (1-3 is common).
 *
 *     for i < m, j < n:
 *       y[i*y_pix_stride + j*y_chan_stride] =
 *           bias[j] + sum_{t < ntaps} sum_{c < kc} x[i + taps[t].x_off + c*x_chan_stride] * taps[t].w[c*NR + j]
 *
 *   x:    pixel 0 of channel 0 of a padded input whose pixels along a row
 *         are adjacent (the forward driver lays each channel's row in turn,
 *         x_chan_stride apart); reads for every i < MR are in bounds even
 *         when m < MR.
 *   y:    pixel 0 of channel 0 of the output; exactly the elements i < m,
 *         j < n are stored (strides in elements, any sign).
 *   bias: as above.
 *
 * PHASES (forward only; not a table family, see tconv_uk_phases below): all
 *   S x S phases of a stride-S layer for MR consecutive positions of the
 *   input grid x NR output channels, into a tile the driver scatters:
 *
 *     for p < S*S, j < NR, i < MR:
 *       tile[(p*NR + j)*MR + i] = bias[j] + sum_{c < kc} sum_{a < th} sum_{b < tw}
 *           x[c*x_chan_stride - a*x_row_stride - b + i] * w[((c*th + a)*tw + b)*S*S*NR + p*NR + j]
 *
 *   Phase p = (rh, rw) = (p / S, p % S) holds the taps kh = rh + a*S, kw =
 *   rw + b*S (zero weights past the filter), so input row q - a, column
 *   i - b reaches output row q*S + rh - crop (column likewise): every phase
 *   reads the same th x tw input vectors, loaded once.
 *
 * TCONV_UK_GEMM: backward-weights only (kernels/bwd_weights_gemm.c). An MR x
 *   NR tile (NR a multiple of the vector length) of the product of two
 *   operands that both advance along the reduction with a stride, read where
 *   they lie (channel-innermost x and dy, no packing):
 *
 *     for i < MR, j < NR:
 *       c[i*ldc + j] = (accumulate ? c[i*ldc + j] : 0) +
 *           sum_{r < nruns} sum_{k < runs[r].count}
 *               runs[r].a[k*a_stride + i] * runs[r].b[k*b_stride + j]
 *
 *   Per reduction step: broadcast the MR values of a, FMA them against NR/VLEN
 *   vector loads of b. Every read above is in bounds (the driver shifts a
 *   last, partial block back over the previous one instead of reading past
 *   an edge); nothing is aligned. c is written in full.
 *
 * All families accumulate in the storage type (f32 or f64). Element types
 * are those of the entry's dtype; pointers are void so that one table type
 * serves both.
 */
#ifndef TCONV_KERNELS_UKERNEL_H
#define TCONV_KERNELS_UKERNEL_H

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "tconv.h"

typedef enum tconv_uk_family {
    TCONV_UK_CHANNELS = 0,
    TCONV_UK_PIXELS = 1,
    TCONV_UK_GEMM = 2
} tconv_uk_family;

typedef struct tconv_uk_tap {
    int64_t x_off;  /* element offset into the input */
    const void *w;  /* kc rows of NR packed weights */
} tconv_uk_tap;

/* One run of a GEMM tile's reduction: count steps from a and b on. */
typedef struct tconv_uk_run {
    const void *a, *b;
    int64_t count;
} tconv_uk_run;

typedef void (*tconv_uk_fwd_channels_fn)(int64_t n, int64_t ntaps, const tconv_uk_tap *taps,
                                         int64_t kc, const void *const *x, const void *bias,
                                         void *const *y);

typedef void (*tconv_uk_fwd_pixels_fn)(int64_t m, int64_t n, int64_t ntaps,
                                       const tconv_uk_tap *taps, int64_t kc,
                                       int64_t x_chan_stride, const void *x, const void *bias,
                                       void *y, int64_t y_pix_stride, int64_t y_chan_stride);

typedef void (*tconv_uk_gemm_fn)(int64_t nruns, const tconv_uk_run *runs, int64_t a_stride,
                                 int64_t b_stride, void *c, int64_t ldc, int accumulate);

typedef void (*tconv_uk_fwd_phases_fn)(int64_t kc, int64_t th, int64_t tw,
                                       int64_t x_chan_stride, int64_t x_row_stride,
                                       const void *x, const void *w, const void *bias,
                                       void *tile);

/* A PHASES kernel (the contract above) for stride S, and the PIXELS tiles it
 * stands in for: the forward driver's phases mode runs it in place of a
 * PIXELS entry of the same NR (dispatch/select.c pairs them). */
typedef struct tconv_uk_phases {
    const char *name; /* e.g. "f32_fwd_ph2x8x3_avx2" */
    tconv_dtype dtype;
    int s, mr, nr;
    tconv_uk_fwd_phases_fn fn;
} tconv_uk_phases;

/* A whole tile of the layout edges' transpositions (kernels/transpose.h):
 * b[c * ldb + r] = a[r * lda + c] for r, c < TCONV_TRANSPOSE_TILE_BYTES /
 * element size (16 f32, 8 f64), in register blocks of the ISA's vectors.
 * Each ISA has one pair, which every entry of its table points to. */
#define TCONV_TRANSPOSE_TILE_BYTES 64
typedef void (*tconv_uk_transpose_fn)(void *b, int64_t ldb, const void *a, int64_t lda);
typedef struct tconv_uk_transposes {
    tconv_uk_transpose_fn tile_f32, tile_f64;
} tconv_uk_transposes;

typedef struct tconv_ukernel {
    const char *name;       /* e.g. "f32_fwd_14x32_avx512" (function tconv_f32_fwd_14x32_avx512) */
    tconv_dtype dtype;
    tconv_uk_family family;
    int mr, nr;             /* tile: MR pixels x NR channels (GEMM: MR x NR of the product) */
    tconv_uk_fwd_channels_fn channels; /* set for TCONV_UK_CHANNELS */
    tconv_uk_fwd_pixels_fn pixels;     /* set for TCONV_UK_PIXELS */
    tconv_uk_gemm_fn gemm;             /* set for TCONV_UK_GEMM */
    /* CHANNELS on ISAs with non-temporal stores (x86), else NULL: the same
     * tile, but a whole output row (n == NR) at a 64-byte aligned address
     * is written with streaming stores, which neither read the line first
     * nor keep it in cache. For outputs much larger than the caches; the
     * caller runs tconv_uk_stream_fence() before anyone reads them. */
    tconv_uk_fwd_channels_fn channels_nt;
    /* The ISA's transpositions, for the layout edges of the drivers that
     * run this kernel (the same for every entry of a table). */
    const tconv_uk_transposes *transposes;
} tconv_ukernel;

/* Orders a thread's streaming stores before its later stores (its task's
 * end, which the thread pool publishes). */
static inline void tconv_uk_stream_fence(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_sfence();
#endif
}

/* memcpy(dst, src, bytes) with streaming stores where the ISA has them
 * (x86: SSE2's, baseline on x86-64), for outputs much larger than the
 * caches; the caller fences as for channels_nt. */
static inline void tconv_uk_stream_copy(char *dst, const char *src, size_t bytes)
{
#if defined(__SSE2__)
    size_t head = (size_t)(-(uintptr_t)dst & 15);
    if (head > bytes) head = bytes;
    memcpy(dst, src, head);
    size_t i = head;
    for (; i + 16 <= bytes; i += 16)
        _mm_stream_si128((__m128i *)(dst + i), _mm_loadu_si128((const __m128i *)(src + i)));
    memcpy(dst + i, src + i, bytes - i);
#else
    memcpy(dst, src, bytes);
#endif
}

/* used / (ceil(used/size) * size), the tiles' useful share: one copy for select.c and drivers. */
static inline double tconv_tile_fill(int64_t used, int64_t size)
{
    const int64_t tiles = (used + size - 1) / size;
    return (double)used / (double)(tiles * size);
}

/* A table of one ISA's kernels, in order of preference within each dtype and
 * family (the first entry of a dtype and family is the default choice). */
typedef struct tconv_ukernel_table {
    const char *isa;        /* "scalar", "avx2", "avx512", "neon" */
    const tconv_ukernel *entries;
    int count;
    const tconv_uk_phases *phases; /* the PHASES kernels (none: NULL, 0) */
    int phases_count;
} tconv_ukernel_table;

/* One table per ISA built into this library (kernels/<isa>/table.c). Only
 * the dispatcher references the ones for SIMD ISAs, behind TCONV_HAVE_*. */
extern const tconv_ukernel_table tconv_ukernels_scalar;
extern const tconv_ukernel_table tconv_ukernels_avx2;
extern const tconv_ukernel_table tconv_ukernels_avx512;
extern const tconv_ukernel_table tconv_ukernels_neon;

#endif /* TCONV_KERNELS_UKERNEL_H */
