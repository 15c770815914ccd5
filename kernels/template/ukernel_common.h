/*
 * Shared by the microkernel templates (fwd_channels.inc, fwd_pixels.inc, bwdw_gemm.inc) and
 * the per-ISA declaration headers (kernels/<isa>/ukernels.h).
 */
#ifndef TCONV_KERNELS_TEMPLATE_UKERNEL_COMMON_H
#define TCONV_KERNELS_TEMPLATE_UKERNEL_COMMON_H

#include <stdint.h>

#include "kernels/ukernel.h"

/* Prototypes of the two families (tconv_uk_fwd_channels_fn and
 * tconv_uk_fwd_pixels_fn); each ISA header declares its kernels with these,
 * spelling out the full name so that grep finds it. */
#define TCONV_UK_FWD_CHANNELS_PROTO(fn)                                                      \
    void fn(int64_t n, int64_t ntaps, const tconv_uk_tap *taps, int64_t kc,                \
            const void *const *x, const void *bias, void *const *y)
#define TCONV_UK_FWD_PIXELS_PROTO(fn)                                                        \
    void fn(int64_t m, int64_t n, int64_t ntaps, const tconv_uk_tap *taps, int64_t kc,     \
            int64_t x_chan_stride, const void *x, const void *bias, void *y,               \
            int64_t y_pix_stride, int64_t y_chan_stride)

#define TCONV_UK_FWD_PHASES_PROTO(fn)                                                        \
    void fn(int64_t kc, int64_t th, int64_t tw, int64_t x_chan_stride, int64_t x_row_stride, \
            const void *x, const void *w, const void *bias, void *tile)

#define TCONV_UK_GEMM_PROTO(fn)                                                              \
    void fn(int64_t nruns, const tconv_uk_run *runs, int64_t a_stride, int64_t b_stride,    \
            void *c, int64_t ldc, int accumulate)

/* Loops over the register tile have constant bounds and must be unrolled
 * completely, or the accumulator arrays live in memory instead of registers.
 * GCC's and Clang's own heuristics give up on the larger tiles (14x2 zmm
 * FMAs), so ask explicitly; other compilers ignore it. */
#if defined(__GNUC__)
#define UK_UNROLL _Pragma("GCC unroll 64")
#else
#define UK_UNROLL
#endif


/* A hint to fetch the cache line at p (never faults, whatever p is). */
#if defined(__GNUC__)
#define UK_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#else
#define UK_PREFETCH(p) ((void)(p))
#endif

/*
 * Each ISA declares its kernels once, as the rows of one list in its
 * ukernels.h (TCONV_UKERNELS_<ISA>(X, X_NT)), in order of preference:
 *   X(FAMILY, DTYPE, MR, NR, fn)              a kernel
 *   X_NT(FAMILY, DTYPE, MR, NR, fn, fn_nt)    a CHANNELS kernel and its
 *                                             streaming-store twin
 * (FAMILY: CHANNELS, PIXELS or GEMM; DTYPE: F32 or F64). The prototypes
 * (TCONV_UK_DECLARE) and the table rows (TCONV_UK_ENTRY) come from it; the
 * instantiation (the ISA's fwd_<dtype>.c and bwdw_<dtype>.c: MR, NR and
 * UK_FN before a template)
 * defines each name. The kernel checker (tests/test_ukernels.c) runs every
 * row at its MR and NR with guard regions, so a row whose tile disagrees
 * with its instantiation fails there.
 */
#define TCONV_UK_PROTO_CHANNELS TCONV_UK_FWD_CHANNELS_PROTO
#define TCONV_UK_PROTO_PIXELS TCONV_UK_FWD_PIXELS_PROTO
#define TCONV_UK_PROTO_GEMM TCONV_UK_GEMM_PROTO
#define TCONV_UK_DECLARE(fam_, dt_, mr_, nr_, fn) TCONV_UK_PROTO_##fam_(fn);
#define TCONV_UK_DECLARE_NT(fam_, dt_, mr_, nr_, fn, fn_nt)                                     \
    TCONV_UK_PROTO_##fam_(fn);                                                                  \
    TCONV_UK_PROTO_##fam_(fn_nt);

/* The field of tconv_ukernel that holds a family's function. */
#define TCONV_UK_SLOT_CHANNELS channels
#define TCONV_UK_SLOT_PIXELS pixels
#define TCONV_UK_SLOT_GEMM gemm
/* A table row; its name is the function's without "tconv_". The table's
 * source defines TCONV_UK_TRANSPOSES, its ISA's tconv_uk_transposes, before
 * expanding the list. */
#define TCONV_UK_ENTRY(fam_, dt_, mr_, nr_, fn)                                                 \
    {.name = #fn + 6, .dtype = TCONV_##dt_, .family = TCONV_UK_##fam_, .mr = (mr_),            \
     .nr = (nr_), .TCONV_UK_SLOT_##fam_ = (fn), .transposes = &TCONV_UK_TRANSPOSES},
#define TCONV_UK_ENTRY_NT(fam_, dt_, mr_, nr_, fn, fn_nt)                                       \
    {.name = #fn + 6, .dtype = TCONV_##dt_, .family = TCONV_UK_##fam_, .mr = (mr_),            \
     .nr = (nr_), .TCONV_UK_SLOT_##fam_ = (fn), .channels_nt = (fn_nt),                         \
     .transposes = &TCONV_UK_TRANSPOSES},

/* Each ISA's transpositions (kernels/generic/transpose.c: SSE2's 4 x 4
 * blocks on x86-64, element by element elsewhere; kernels/template/
 * transpose_x86.inc: 8 x 8 ymm blocks for AVX2 and AVX-512). */
extern const tconv_uk_transposes tconv_transposes_portable;
extern const tconv_uk_transposes tconv_transposes_avx2;
extern const tconv_uk_transposes tconv_transposes_avx512;

/* PHASES kernels are listed apart (TCONV_PHASES_<ISA>(X): X(DTYPE, S, MR,
 * NR, fn)), as they are not a family of the table's entries. */
#define TCONV_UK_PHASES_DECLARE(dt_, s_, mr_, nr_, fn_) TCONV_UK_FWD_PHASES_PROTO(fn_);
#define TCONV_UK_PHASES_ENTRY(dt_, s_, mr_, nr_, fn_)                                           \
    {.name = #fn_ + 6, .dtype = TCONV_##dt_, .s = (s_), .mr = (mr_), .nr = (nr_), .fn = (fn_)},

#endif /* TCONV_KERNELS_TEMPLATE_UKERNEL_COMMON_H */
