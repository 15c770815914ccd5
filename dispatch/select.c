#include "dispatch/select.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch/fma_rate.h"
#include "kernels/bwd_driver.h"
#include "kernels/elem.h"
#include "kernels/ref/ref.h"
#include "kernels/wstream.h"
#include "runtime/error.h"
#include "runtime/topology.h"
#include "tconv.h"

static const tconv_impl ref_f32 = {
    "ref", tconv_ref_fwd_f32, tconv_ref_bwd_data_f32, tconv_ref_bwd_weights_f32};
static const tconv_impl ref_f64 = {
    "ref", tconv_ref_fwd_f64, tconv_ref_bwd_data_f64, tconv_ref_bwd_weights_f64};

const tconv_impl *tconv_select_ref(const tconv_problem *p)
{
    return p->dtype == TCONV_F64 ? &ref_f64 : &ref_f32;
}

const tconv_ukernel_table *tconv_select_table(tconv_isa isa)
{
    switch (isa) {
#if TCONV_HAVE_SCALAR
    case TCONV_ISA_SCALAR: return &tconv_ukernels_scalar;
#endif
#if TCONV_HAVE_AVX2
    case TCONV_ISA_AVX2: return &tconv_ukernels_avx2;
#endif
#if TCONV_HAVE_AVX512
    case TCONV_ISA_AVX512: return &tconv_ukernels_avx512;
#endif
#if TCONV_HAVE_NEON
    case TCONV_ISA_NEON: return &tconv_ukernels_neon;
#endif
    default: return NULL;
    }
}

const char *tconv_kernel_name(tconv_isa isa, int index)
{
    const tconv_ukernel_table *t = tconv_select_table(isa);
    if (!t || index < 0) return NULL;
    if (index < t->count) return t->entries[index].name;
    return index - t->count < t->phases_count ? t->phases[index - t->count].name : NULL;
}

/*
 * A CHANNELS tile reads its MR input rows (Cg channels each) as MR streams,
 * one element per row and channel step. Once MR * Cg elements pass ~3/4 of
 * L1 they no longer fit beside the weight rows and the prefetchers fall
 * behind: on U-Net's 1024-channel layer 6x64 runs at 111 GFLOP/s, 8x32 at
 * 109, 14x32 at 87 and 28x16 at 23 (an EPYC with 32 KiB L1d: 24 KiB is the
 * edge, 64 KiB the cliff). L1's size comes from hwloc (runtime/topology.c).
 */
static double l1_fit(const tconv_ukernel *k, const tconv_problem *p)
{
    const double l1 = (double)tconv_topology_get()->l1d_bytes;
    const double bytes = (double)k->mr * (double)p->cg * (double)tconv_dtype_size(p->dtype);
    return bytes <= 0.75 * l1 ? 1.0 : bytes <= 2.0 * l1 ? 0.8 : 0.4;
}

/* Vector lanes of isa for p's dtype. */
static int64_t lanes(tconv_isa isa, tconv_dtype t)
{
    const int64_t f32 = isa == TCONV_ISA_AVX512 ? 16 : isa == TCONV_ISA_AVX2 ? 8
                      : isa == TCONV_ISA_NEON   ? 4
                                                : 1;
    return t == TCONV_F64 && f32 > 1 ? f32 / 2 : f32;
}

/* A CHANNELS tile loads NR/lanes weight vectors and broadcasts MR inputs per
 * MR * NR/lanes FMAs. Past ~0.75 loads per FMA it is bound by loads: 28x16
 * (1.03) and AVX2 12x8 (1.08) run at ~0.7 of 8x32 and 6x16; 1xNR tiles
 * (1.25) only pay off where taller tiles would compute thrown-away rows. */
static double load_bound(const tconv_ukernel *k, int64_t lanes_)
{
    const double nv = (double)(k->nr >= lanes_ ? k->nr / lanes_ : 1);
    const double loads_per_fma = (nv + (double)k->mr) / ((double)k->mr * nv);
    return loads_per_fma <= 0.75 ? 1.0 : 0.75 / loads_per_fma;
}

/*
 * The forward model: the estimated share of the FMA peak of kernel k on p in
 * a mode, as the time of the useful FMAs at the peak over the time the
 * pass takes, both in cycles per input pixel and group:
 *
 *   share = useful / (useful / efficiency + edge)
 *
 * useful:     the layer's FMAs (Fg * taps * Cg per pixel) over the lanes the
 *             core retires per cycle (fma_lanes);
 * efficiency: the kernel's share of the peak while it runs (tile fill, L1
 *             fit, loads per FMA, the family's own factor);
 * edge:       what does not scale with the FMAs: re-laying x for the kernel
 *             family (layout_cycles), converting the gather CHANNELS
 *             tiles' NHWC output to y's layout (unpack_cycles) and, in the
 *             scatter mode, adding each result to y.
 *
 * Calibrated on the 2-vCPU Xeon of bench/README.md (AVX-512, two zmm FMA
 * ports: 32 f32 lanes a cycle, 215 GFLOP/s; 48 KiB L1d, 2 MiB L2), single
 * thread, from the few-filter layers of bench/layers.c (DCGAN 64->3 at
 * batch 1 and 16, pix2pix 128->3, FSRCNN 56->1) in NCHW and NHWC, f32 and
 * f64, and from the same shapes with 16-512 input channels (2026-12-07):
 *   - scatter, NHWC, k4 s2 with 3 filters on 32x32 pixels: 262 + 2.5 * Cg
 *     cycles a pixel in f32 (6x64 and 8x32 alike; 2.0 * Cg of it is FMAs at
 *     the peak), 294 + 3.9 * Cg in f64 (3.0 * Cg), and 250 + 3.8 * Cg
 *     with FSRCNN's one filter and k9 s3 (3.0 * Cg): ~1.5 cycles a result
 *     plus ~12 a run of results added together (fwd_scatter.c), and the
 *     kernel at ~0.8 of the peak with 8x32's 0.63 loads per FMA in f32,
 *     ~0.77 with f64's 14x16 (0.57);
 *   - re-laying x (NCHW -> NHWC for CHANNELS tiles, NHWC -> planar for
 *     PIXELS tiles) was 2-3 cycles an element while x fit in L2 and grew
 *     in proportion beyond (5.5-8 in f32 on pix2pix 128->3, ~20 for
 *     PIXELS tiles): the edges then copied one channel at a time. Since
 *     they transpose in tiles (kernels/transpose.h, 2026-12-06, AMD EPYC)
 *     it is ~0.5 a cycle in L2 and ~1-2 beyond (transpose_cycles), and
 *     the CHANNELS tiles' NHWC output converted to NCHW, which the model
 *     left out, counts too (unpack_cycles); so does scatter's adding into
 *     NCHW planes (~10 cycles more a result). With these, DCGAN 64->3 in
 *     NHWC moved from scatter to PIXELS tiles (0.136 -> 0.085 ms; f64
 *     0.187 -> 0.163), U-Net 128->64 in NCHW from PIXELS to CHANNELS
 *     tiles (48.7 -> 41 ms; under the AVX2 cap 77 -> 41), and f64 ENet
 *     16->16 in NCHW the other way (3.5 -> 1.6 ms);
 *   - PIXELS tiles in NCHW: DCGAN 64->3 runs px32x4 at 64 GFLOP/s (0.30 of
 *     the peak), pix2pix 128->3 at 45, FSRCNN px64x1 at 26: after the copy,
 *     0.43-0.48 of the peak a filled lane with NR = 4, 0.15 with NR = 1.
 * The factors of the gather CHANNELS tiles are older, from an AMD EPYC
 * (2026-11: a well-filled tile reaches ~0.95 of the peak); the few-filter
 * choices here do not depend on them, and no channel-heavy layer of the
 * suite changes its choice with this model on AVX-512 (the AVX2 cap moves
 * pix2pix 1024->256 in f64 from scatter to gather: 26 -> 38 GFLOP/s in
 * NHWC, 18 -> 37 in NCHW). On the few-filter layers the default moved from
 * PIXELS tiles to scatter in NHWC (pix2pix 128->3: 12.6 -> 68 GFLOP/s,
 * DCGAN 64->3 at batch 16: 31 -> 48) and from scatter to PIXELS tiles for
 * f64 in NCHW (pix2pix 128->3: 13 -> 25).
 */

/* FMA lanes one core retires per cycle with isa's kernels of dtype t: two
 * FMA ports, except zmm FMAs on cores that split them into ymm halves
 * (tconv_ymm_zmm_rate() == 1, e.g. AMD Zen 4), which retire one zmm a cycle. */
static double fma_lanes(tconv_isa isa, tconv_dtype t)
{
    const double zmm_split = isa == TCONV_ISA_AVX512 && tconv_ymm_zmm_rate() >= 1.0 ? 0.5 : 1.0;
    return 2.0 * (double)lanes(isa, t) * zmm_split;
}

/* Cycles per element of a tensor of `bytes` transposed between NCHW and a
 * channel-innermost form (kernels/transpose.h): ~0.5 while it fits in L2,
 * growing with the square root of its size beyond, up to 2 (AMD EPYC with
 * 1 MiB of L2, 2026-12-06: DCGAN 64->3's x, 256 KiB, 0.4-0.5 cycles;
 * ENet 16 -> 16's y, 4 MiB, ~1; ENet 16 -> 19's y, 20 MiB, ~2). */
static double transpose_cycles(double bytes)
{
    const double l2 = (double)tconv_topology_get()->l2_bytes;
    const double growth = bytes <= l2 ? 1.0 : sqrt(bytes / l2);
    return 0.5 * (growth < 4.0 ? growth : 4.0);
}

/* Cycles per element of x to bring it into the form kernel family fam
 * reads (fwd_layout.c): none for CHANNELS tiles reading a dense NHWC x in
 * place (scatter mode, or gather with no padding), a padded copy (~0.3 of
 * a transposition) when the layout already matches (channel-innermost for
 * CHANNELS, rows of one channel for PIXELS), else a transposition. */
static double layout_cycles(const tconv_problem *p, tconv_uk_family fam, int in_place)
{
    const double relayout =
        transpose_cycles((double)p->x_elems * (double)tconv_dtype_size(p->dtype));
    const int matches = fam == TCONV_UK_CHANNELS ? p->x.c == 1 : p->x.w == 1;
    if (!matches) return relayout;
    return in_place ? 0.0 : 0.3 * relayout;
}

/* Cycles per input pixel and group of converting the gather CHANNELS
 * tiles' NHWC output to y's layout (fwd_layout.c): none when y is
 * channel-innermost, else Fg x (outputs per input pixel) transposed
 * elements. ENet's 16 -> 19 full conv writes 76 outputs per input pixel of
 * 16 channels: its output conversion, not its input's, is what makes its
 * CHANNELS tiles slower than PIXELS tiles in NCHW. */
static double unpack_cycles(const tconv_problem *p)
{
    if (p->y.c == 1) return 0.0;
    const double per_pixel = (double)p->fg * (double)(p->out_h * p->out_w) /
                             (double)(p->in_h * p->in_w);
    return per_pixel * transpose_cycles((double)p->y_elems * (double)tconv_dtype_size(p->dtype));
}

static double score(const tconv_ukernel *k, const tconv_problem *p, tconv_fwd_mode mode,
                    tconv_isa isa)
{
    const int64_t lanes_ = lanes(isa, p->dtype);
    const double L = fma_lanes(isa, p->dtype);
    const int64_t taps = p->k_h * p->k_w;
    const int64_t images = p->batch * p->in_h * p->in_w;
    if (mode == TCONV_FWD_SCATTER) {
        /* Per input pixel and group: ncols (tap, filter) columns in blocks
         * of NR, K = Cg; each result is added to y in runs (fwd_scatter.c):
         * one filter's taps along a row (Fg = 1), else the filters of one
         * tap, and a block boundary cuts one run more. A CHANNELS tile at
         * 0.63 loads per FMA (8x32) runs at ~0.8 of the peak here, fewer
         * loads per FMA a little faster (f64 6x32 beats 14x16 by ~10% on
         * FSRCNN, where both fill the columns alike), as in backward-data. */
        const int64_t ncols = taps * p->fg;
        const int64_t nblocks = (ncols + k->nr - 1) / k->nr;
        const double runs = (double)(p->fg == 1 ? p->k_h : taps) + (double)(nblocks - 1);
        const double nv = (double)(k->nr >= lanes_ ? k->nr / lanes_ : 1);
        const double loads_per_fma = (nv + (double)k->mr) / ((double)k->mr * nv);
        const double f64 = p->dtype == TCONV_F64 ? 0.94 : 1.0;
        const double eff = f64 * 1.05 / (1.0 + 0.5 * loads_per_fma) *
                           tconv_tile_fill(images, k->mr) * l1_fit(k, p) * load_bound(k, lanes_);
        const double useful = (double)ncols * (double)p->cg / L;
        const double computed = (double)(nblocks * k->nr) * (double)p->cg / L;
        /* Adding into a y that is not channel-innermost (NCHW), the
         * filters of a tap land in different planes: ~10 cycles more a
         * result (pix2pix 128->3, AMD EPYC: scatter 3.4 ms in NHWC, 7.2 in
         * NCHW, f32; 6.5 and 9.4-10.7 in f64). One filter's taps along a
         * row (Fg = 1) stay a run in any layout. */
        const double planes = p->y.c != 1 && p->fg > 1 ? 10.0 * (double)ncols : 0.0;
        const double edge = 1.5 * (double)ncols + 12.0 * runs + planes +
                            (double)p->cg * layout_cycles(p, TCONV_UK_CHANNELS, 1);
        return useful / (computed / eff + edge);
    }
    /* Gather, per input pixel and group: Fg * taps * Cg FMAs. */
    const double useful = (double)(p->fg * taps) * (double)p->cg / L;
    const double channels = tconv_tile_fill(p->fg, k->nr);
    if (k->family == TCONV_UK_PIXELS) {
        /* Tiles along one row of a phase, ~in_w pixels. Each loaded input
         * vector (split across cache lines) feeds NR FMAs. Narrower vectors
         * get nearer their (lower) peak: under TCONV_ISA=avx2 DCGAN 64->3
         * runs px16x4 at 45 GFLOP/s in NCHW, 0.55 of the ymm peak a filled
         * lane. (The portable PIXELS tiles, vectorised by the compiler,
         * run DCGAN 64->3 3.6x faster than the scalar CHANNELS tiles, px8x4
         * at 17 GFLOP/s in f32, but with their factor raised they take
         * every channel-heavy layer too, unmeasured: left at 1 for now.) */
        /* A filled lane's share grows with NR (more FMAs per loaded input
         * vector) up to 4; NR = 3 tiles (px64x3, px32x3) run at 0.89-0.92
         * of an NR = 4 tile's rate a filled lane (AMD EPYC, pix2pix 128->3
         * and DCGAN 64->3 in NCHW, 2026-12-06), where a straight line
         * between NR = 1 and 4 would say 0.78. */
        const double width = isa == TCONV_ISA_AVX512 || isa == TCONV_ISA_SCALAR ? 1.0 : 1.35;
        const double nr_share = k->nr >= 4 ? 1.0 : k->nr == 3 ? 0.9 : (double)k->nr / 4.0;
        const double per_lane = width * (0.06 + 0.39 * nr_share);
        const double eff = per_lane * channels * tconv_tile_fill(p->in_w, k->mr);
        return useful / (useful / eff + (double)p->cg * layout_cycles(p, TCONV_UK_PIXELS, 0));
    }
    /* Gather CHANNELS tiles run over all pixels of a phase (across images);
     * a 1x1 input at batch 1 has one pixel per tap position: every tile is
     * one pixel. x is read in place when no tap reads left of or above its
     * pixel's phase position, i.e. no padding (k2 s2: U-Net). */
    const int64_t pixels = p->in_h * p->in_w == 1 ? p->batch : images;
    const int in_place = (p->k_h - 1) * p->dil_h < p->stride_h && (p->k_w - 1) * p->dil_w < p->stride_w;
    const double eff =
        0.95 * channels * tconv_tile_fill(pixels, k->mr) * load_bound(k, lanes_) * l1_fit(k, p);
    return useful / (useful / eff + (double)p->cg * layout_cycles(p, TCONV_UK_CHANNELS, in_place) +
                     unpack_cycles(p));
}

/* The PHASES tile of table t that stands in for its PIXELS entry i on p:
 * one of the entry's dtype and NR for p's stride (the same in both
 * dimensions, dilation 1), when entry i is the first PIXELS tile of its
 * dtype and NR; else NULL. */
static const tconv_uk_phases *phases_of(const tconv_ukernel_table *t, int i,
                                        const tconv_problem *p)
{
    const tconv_ukernel *k = &t->entries[i];
    if (k->family != TCONV_UK_PIXELS || p->stride_h != p->stride_w || p->dil_h != 1 ||
        p->dil_w != 1)
        return NULL;
    for (int e = 0; e < i; e++)
        if (t->entries[e].family == TCONV_UK_PIXELS && t->entries[e].dtype == k->dtype &&
            t->entries[e].nr == k->nr)
            return NULL;
    for (int j = 0; j < t->phases_count; j++) {
        const tconv_uk_phases *ph = &t->phases[j];
        if (ph->dtype == k->dtype && ph->nr == k->nr && ph->s == p->stride_h) return ph;
    }
    return NULL;
}

/* PHASES tiles (fwd_phases.c) compute S*S * ceil(k_h/S) * ceil(k_w/S) taps
 * per grid position (zeros past the filter) for NR filters, over grid rows
 * of ~in_w positions in tiles of MR, from the PIXELS family's padded input,
 * and scatter each tile's S*S*NR*MR results into y one by one. Measured on
 * an AMD EPYC (AVX2, NCHW, one thread, 2026-12-07): FSRCNN 56->1 (k9 s3)
 * 1.7 ms against 2.5 for scatter and 5.6 for px32x1 gather (best of 40),
 * 2.4 against 3.0 (median of A/B rounds, a busier hour); pix2pix 128->3
 * (k4 s2) 6.9 against 9.9 for px16x3 gather (A/B); but DCGAN 64->3 (32x32
 * inputs, 64 channels) 6.6 ms at batch 16 against 4.9 before the tile
 * prefetched x, ~5% slower after, and every one of them slower in NHWC (its
 * row-interleaved copy) than the scatter mode (1.7-1.9x). So the default
 * takes it only for a planar x whose reduction per tile (Cg x th x tw
 * multiply-adds per result) is long enough to carry the scatter of the
 * tile, as on the first two (504 and 512; DCGAN's is 256), and only with
 * AVX2 tiles, the ones measured: the AVX-512, NEON and portable tiles are
 * checked but not yet timed against their PIXELS tiles. Elsewhere it stays
 * a candidate for the tuner. */
static double score_phases(const tconv_uk_phases *ph, const tconv_problem *p, tconv_isa isa)
{
    const double L = fma_lanes(isa, p->dtype);
    const int64_t th = (p->k_h + ph->s - 1) / ph->s, tw = (p->k_w + ph->s - 1) / ph->s;
    const double useful = (double)(p->fg * p->k_h * p->k_w) * (double)p->cg / L;
    const double taps_used = (double)(p->k_h * p->k_w) / (double)(ph->s * ph->s * th * tw);
    const int suited = isa == TCONV_ISA_AVX2 && p->x.w == 1 && p->cg * th * tw >= 384;
    const double eff = (suited ? 0.65 : 0.3) * tconv_tile_fill(p->fg, ph->nr) * taps_used *
                       tconv_tile_fill(p->in_w, ph->mr);
    return useful / (useful / eff + (double)p->cg * layout_cycles(p, TCONV_UK_PIXELS, 0));
}

/* The scatter mode with a PIXELS tile (fwd_scatter.c): per input pixel and
 * group, the GEMM of the (tap, filter) columns over Cg channels, whose
 * calls cost ~25 channels' worth each beyond their FMAs; summing the
 * columns into output phase rows (~0.27 cycles a column); adding the phase
 * rows into y, ~0.5 cycles a result interleaved (stride 2, NCHW rows) and
 * ~3.5 element by element. Fitted on an AVX2 AMD EPYC, f32 NCHW, one
 * thread (2026-12-07), to its speed beside the default of the time:
 * DCGAN 64->3 at batch 16 4.15 -> 2.08 ms (px16x4), pix2pix 128->3 8.15 ->
 * 4.38 (px32x2), FSRCNN 2.86 -> 2.26, YOLOv8n's 64->64 k2 s2 proto 8.95 ->
 * 6.48, U-Net 128->64 81 -> 73; and slower where the columns are many or
 * the channels few: FCN-8s 21->21 k4 s2 0.12 -> 0.23, ENet 16->16 k3 s2
 * 3.0 -> 3.8, DCGAN 128->64 1.1 -> 2.4, U-Net 1024->512 72 -> 95. Only
 * there (AVX2 tiles, at most 256 columns, 32 channels a group and 4096
 * input pixels) is it scored at that rate; elsewhere at half of it, a
 * candidate for the tuner (the AVX-512, NEON and portable PIXELS tiles
 * are checked in this mode but not timed in it). */
static double score_scatter_pixels(const tconv_ukernel *k, const tconv_problem *p, tconv_isa isa)
{
    const double L = fma_lanes(isa, p->dtype);
    const int64_t ncols = p->k_h * p->k_w * p->fg;
    const int64_t nblocks = (ncols + k->nr - 1) / k->nr;
    const double useful = (double)ncols * (double)p->cg / L;
    const double gemm = 0.75 * (double)(nblocks * k->nr) * (double)p->cg / L *
                        (1.0 + 25.0 / (double)p->cg) / tconv_tile_fill(p->in_w, k->mr);
    const double per_result = p->stride_w == 2 && p->y.w == 1 ? 0.5 : 3.5;
    const double adds = 0.27 * (double)ncols +
                        per_result * (double)(p->fg * p->k_h * p->stride_w);
    const int suited = isa == TCONV_ISA_AVX2 && ncols <= 256 && p->cg >= 32 &&
                       p->batch * p->in_h * p->in_w >= 4096;
    return (suited ? 1.0 : 0.5) * useful / (gemm + adds);
}

/* The FMA peak of isa's kernels relative to those of best, the plan's ISA:
 * scores are shares of their own ISA's peak, and AVX2 tiles on an AVX-512
 * CPU run at the ymm rate, which is the zmm rate on some cores and half of
 * it on others (dispatch/fma_rate.h). */
static double isa_rate(tconv_isa best, tconv_isa isa)
{
    return best == TCONV_ISA_AVX512 && isa == TCONV_ISA_AVX2 ? tconv_ymm_zmm_rate() : 1.0;
}

/* Every (kernel, mode) a plan for p may run, from the tables of ISAs
 * isas[0..n) (in order of preference), with its score, in table order;
 * out may be NULL (count only). */
static int enumerate(const tconv_isa *isas, int n, const tconv_problem *p, tconv_fwd_choice *out,
                     double *scores, int max)
{
    int count = 0;
    for (int a = 0; a < n; a++) {
        const tconv_ukernel_table *t = tconv_select_table(isas[a]);
        for (int i = 0; t && i < t->count; i++) {
            const tconv_ukernel *k = &t->entries[i];
            if (k->dtype != p->dtype || k->family == TCONV_UK_GEMM) continue;
            for (int m = TCONV_FWD_GATHER; m <= TCONV_FWD_PHASES; m++) {
                const tconv_uk_phases *ph = m == TCONV_FWD_PHASES ? phases_of(t, i, p) : NULL;
                if (m == TCONV_FWD_PHASES && !ph) continue;
                /* Lower-ISA kernels compete only for their output-channel
                 * widths: CHANNELS tiles in gather mode (scatter columns are
                 * many, and any NR fills them). */
                if (a > 0 && (m != TCONV_FWD_GATHER || k->family != TCONV_UK_CHANNELS))
                    continue;
                if (count < max) {
                    out[count] = (tconv_fwd_choice){k, (tconv_fwd_mode)m, ph};
                    scores[count] =
                        (ph ? score_phases(ph, p, isas[a])
                         : m == TCONV_FWD_SCATTER && k->family == TCONV_UK_PIXELS
                             ? score_scatter_pixels(k, p, isas[a])
                             : score(k, p, (tconv_fwd_mode)m, isas[a])) *
                        isa_rate(isas[0], isas[a]);
                }
                count++;
            }
        }
    }
    return count < max ? count : max;
}

/* The ISAs whose tables a plan on isa chooses from. An AVX-512 CPU runs
 * AVX2 code too, and some tiles exist only there (4x24 fills 21 output
 * channels to 7/8; every zmm tile to 2/3 or less): its kernels compete,
 * behind the AVX-512 ones, at the ymm rate (isa_rate). */
static int isas_of(tconv_isa isa, tconv_isa isas[2])
{
    isas[0] = isa;
    isas[1] = TCONV_ISA_AVX2;
    return isa == TCONV_ISA_AVX512 ? 2 : 1;
}

/*
 * A kernel variable (TCONV_FWD_KERNEL, TCONV_BWD_*_KERNEL) naming no
 * microkernel of the tables a plan on isa chooses from (forward: no GEMM
 * tile, which only backward-weights runs) gets one warning listing those
 * names. A name that is there but does not fit a layer (another dtype, a
 * tile the pass cannot run) is documented as ignored for that layer and is
 * not warned about.
 */
static void check_kernel_env(const char *var, const char *name, tconv_isa isa, int forward)
{
    if (!name || !*name) return;
    tconv_isa isas[2];
    const int n = isas_of(isa, isas);
    char accepted[4096] = "the name of a microkernel for this ISA:";
    size_t len = strlen(accepted);
    for (int a = 0; a < n; a++) {
        const tconv_ukernel_table *t = tconv_select_table(isas[a]);
        for (int i = 0; t && i < t->count; i++) {
            const tconv_ukernel *k = &t->entries[i];
            if (forward && k->family == TCONV_UK_GEMM) continue;
            if (strcmp(k->name, name) == 0) return;
            if (len + strlen(k->name) + 2 < sizeof accepted)
                len += (size_t)snprintf(accepted + len, sizeof accepted - len, " %s", k->name);
        }
        for (int i = 0; t && forward && i < t->phases_count; i++) {
            if (strcmp(t->phases[i].name, name) == 0) return;
            if (len + strlen(t->phases[i].name) + 2 < sizeof accepted)
                len += (size_t)snprintf(accepted + len, sizeof accepted - len, " %s",
                                        t->phases[i].name);
        }
    }
    tconv_warn_env(var, name, accepted);
}

/* The index of the best-scoring candidate among cand[0..n) whose kernel is
 * named kernel (NULL: any) and whose mode is *mode (NULL: any), or -1. A
 * later candidate must score clearly higher to win. */
/*
 * The default among scored candidates: the one with the best score, where
 * a candidate must beat every one before it by 5% to be preferred. The
 * candidates come in their ISA table's order (kernels/<isa>/table.c), which
 * lists each dtype's and family's tiles in order of preference: within 5%
 * of each other's score, the earlier tile wins, and the first is what a
 * layer gets when the scores cannot tell them apart. Backward passes choose the same way
 * (tconv_select_bwd_candidates).
 */
static int best_of(const tconv_fwd_choice *cand, const double *scores, int n, const char *kernel,
                   const tconv_fwd_mode *mode)
{
    int best = -1;
    for (int i = 0; i < n; i++) {
        if (kernel && strcmp(cand[i].uk->name, kernel) != 0 &&
            !(cand[i].ph && strcmp(cand[i].ph->name, kernel) == 0))
            continue;
        if (mode && cand[i].mode != *mode) continue;
        if (best < 0 || scores[i] > scores[best] * 1.05) best = i;
    }
    return best;
}

/*
 * The order the tuner measures candidates in (it stops when its time
 * budget is spent, after a few comparisons on a large layer): first, the
 * default; then the best-scored candidate of each other strategy (kinds[],
 * a driver or mode with its own memory traffic, which the scores misjudge
 * most); then the rest by score, highest first. Ties keep table order.
 * Ranked by score alone, a strategy's variants could fill the budget
 * before the next strategy ran: on an AMD EPYC (AVX2), U-Net's 512 -> 256
 * layer in NHWC listed three more GEMM tiles before the packing driver's
 * first, and the tuner, stopping after two, kept a GEMM tile that took 84
 * ms for the packing driver's 52. Returns how many were written, at most
 * max.
 */
static int rank_candidates(const double *scores, const int *kinds, int n, int first, int *order,
                           int max)
{
    int by_score[TCONV_TUNE_MAX_CANDIDATES], m = 0;
    for (int i = 0; i < n; i++) { /* an insertion sort: a few dozen at most */
        int j = m++;
        for (; j > 0 && scores[by_score[j - 1]] < scores[i]; j--) by_score[j] = by_score[j - 1];
        by_score[j] = i;
    }
    int taken[TCONV_TUNE_MAX_CANDIDATES] = {0}, count = 0;
    order[count++] = first;
    taken[first] = 1;
    for (int i = 0; i < n; i++) { /* each other kind's best */
        const int c = by_score[i];
        int seen = 0;
        for (int k = 0; k < count && !seen; k++) seen = kinds[order[k]] == kinds[c];
        if (!seen) {
            order[count++] = c;
            taken[c] = 1;
        }
    }
    for (int i = 0; i < n; i++)
        if (!taken[by_score[i]]) order[count++] = by_score[i];
    return count < max ? count : max;
}

int tconv_select_candidates(const tconv_problem *p, tconv_isa isa, tconv_fwd_choice *out, int max)
{
    tconv_isa isas[2];
    double scores[TCONV_TUNE_MAX_CANDIDATES];
    tconv_fwd_choice cand[TCONV_TUNE_MAX_CANDIDATES];
    const int n = enumerate(isas, isas_of(isa, isas), p, cand, scores, TCONV_TUNE_MAX_CANDIDATES);
    const int first = best_of(cand, scores, n, NULL, NULL);
    if (first < 0 || max <= 0) return 0;
    /* The heuristic choice, then the others: strategies are (mode, family) */
    int order[TCONV_TUNE_MAX_CANDIDATES], kinds[TCONV_TUNE_MAX_CANDIDATES];
    for (int i = 0; i < n; i++) kinds[i] = (int)cand[i].mode * 4 + (int)cand[i].uk->family;
    const int count = rank_candidates(scores, kinds, n, first, order, max);
    for (int i = 0; i < count; i++) out[i] = cand[order[i]];
    return count;
}

tconv_fwd_choice tconv_select_fwd(const tconv_problem *p, tconv_isa isa)
{
    tconv_isa isas[2];
    double scores[TCONV_TUNE_MAX_CANDIDATES];
    tconv_fwd_choice cand[TCONV_TUNE_MAX_CANDIDATES];
    const int n = enumerate(isas, isas_of(isa, isas), p, cand, scores, TCONV_TUNE_MAX_CANDIDATES);
    const char *kernel = getenv("TCONV_FWD_KERNEL");
    const char *mode_name = getenv("TCONV_FWD_MODE");
    check_kernel_env("TCONV_FWD_KERNEL", kernel, isa, 1);
    tconv_fwd_mode mode = TCONV_FWD_GATHER;
    int mode_forced = 0;
    if (mode_name && strcmp(mode_name, "gather") == 0) mode_forced = 1;
    if (mode_name && strcmp(mode_name, "scatter") == 0) {
        mode = TCONV_FWD_SCATTER;
        mode_forced = 1;
    }
    if (mode_name && strcmp(mode_name, "phases") == 0) {
        mode = TCONV_FWD_PHASES;
        mode_forced = 1;
    }
    if (mode_name && *mode_name && !mode_forced)
        tconv_warn_env("TCONV_FWD_MODE", mode_name, "gather, scatter or phases");
    int i = best_of(cand, scores, n, kernel && *kernel ? kernel : NULL, mode_forced ? &mode : NULL);
    /* A forced kernel of another ISA or dtype, or a forced mode the kernel
     * cannot run: choose as if nothing were forced. */
    if (i < 0) i = best_of(cand, scores, n, NULL, NULL);
    return i < 0 ? (tconv_fwd_choice){NULL, TCONV_FWD_GATHER, NULL} : cand[i];
}

int tconv_select_forced(void)
{
    const char *kernel = getenv("TCONV_FWD_KERNEL"), *mode = getenv("TCONV_FWD_MODE");
    return (kernel && *kernel) || (mode && *mode);
}

/* ---- the backward passes ------------------------------------------------- */

/*
 * Estimated share of the FMA peak of kernel k on a backward pass of p (see
 * kernels/bwd_driver.h for how each pass uses a tile):
 *   backward-data: CHANNELS tiles of MR pixels of dx's flat order x NR input
 *     channels, reducing Fg per tap (L1 holds MR * Fg inputs, as the forward
 *     pass's MR * Cg);
 *   backward-weights: GEMM tiles reading x and dy in place
 *     (kernels/bwd_weights_gemm.c scores them), or the packing strategies'
 *     CHANNELS tiles of MR input channels x NR filters (or,
 *     for few filters, MR (filter, kw) pairs x NR channels:
 *     kernels/bwd_weights_rows.c), or
 *     PIXELS tiles of MR channels as aligned vector loads (no split lines,
 *     unlike the forward PIXELS tiles) x NR broadcast filters, which fill
 *     few-filter layers that NR >= 16 would leave mostly empty.
 */
/* Backward-data with a PIXELS tile (kernels/bwd_data_columns.c): MR
 * pixels of a dx row x NR input channels over the R = Fg * k_h * k_w
 * column rows gathered from dy. Measured on an AVX2 AMD EPYC (one thread,
 * medians of 8 alternating runs against the CHANNELS tiles): faster with
 * few column rows over many channels into a planar dx, pix2pix 128->3
 * (R = 48, 128 channels, NCHW) 7.3 -> 5.4 ms with px32x2 (6.2 with
 * px16x4; f64 px8x4 19.3 -> 15.3); even on DCGAN 64->3 at batch 16 (64
 * channels: 3.5 against 3.6); slower elsewhere, where the gather (one
 * strided copy per column value), the short calls or (NHWC) element by
 * element stores weigh more: pix2pix 128->3 in NHWC 6.8 -> 8.1, DCGAN
 * 64->3 at batch 16 in NHWC 3.0 -> 5.3, FSRCNN (R = 81, stride 3) 3.0 ->
 * 4.0, the 128->3 layer with 32 channels 2.05 -> 2.4, YOLOv8n's 64->64 k2
 * s2 layer (R = 256) 6.6 -> 9.8, FCN-8s 21->21 0.09 -> 0.33. So it scores
 * above the CHANNELS tiles (~0.7) only where it was faster: AVX2 tiles, a
 * planar dx, R <= 64, at least 128 channels a group and 4096 pixels, the
 * widest tiles first; a tuner candidate elsewhere. */
static double score_bwd_data_columns(const tconv_ukernel *k, const tconv_problem *p,
                                     tconv_isa isa)
{
    const int suited = isa == TCONV_ISA_AVX2 && p->x.w == 1 && p->fg * p->k_h * p->k_w <= 64 &&
                       p->cg >= 128 && p->batch * p->in_h * p->in_w >= 4096;
    const double wide = k->mr >= 4 * lanes(isa, p->dtype) ? 1.0 : 0.9;
    return (suited ? 1.0 : 0.3) * wide * tconv_tile_fill(p->cg, k->nr) *
           tconv_tile_fill(p->in_w, k->mr);
}

static double score_bwd(const tconv_ukernel *k, const tconv_problem *p, tconv_pass pass,
                        tconv_isa isa)
{
    const int64_t lanes_ = lanes(isa, p->dtype);
    if (pass == TCONV_PASS_BWD_DATA && k->family == TCONV_UK_PIXELS)
        return score_bwd_data_columns(k, p, isa);
    if (pass == TCONV_PASS_BWD_DATA) {
        if (k->family != TCONV_UK_CHANNELS) return 0.0;
        const double l1 = (double)tconv_topology_get()->l1d_bytes;
        const double bytes = (double)k->mr * (double)p->fg * (double)tconv_dtype_size(p->dtype);
        const double fit = bytes <= 0.75 * l1 ? 1.0 : bytes <= 2.0 * l1 ? 0.8 : 0.4;
        /* Tiles run along the flat (image, row, column) order of dx. The
         * weight rows stream from L2 here (K = taps * Fg rows), and fewer
         * loads per FMA pay off even below the forward pass's threshold:
         * on a Xeon with two FMA ports 6x64 (0.42 loads per FMA) runs
         * DCGAN 256->128 at 93 GFLOP/s, 8x32 (0.63) at 84, 28x16 (1.04) at
         * 61; CycleGAN 256->128 at 107 and 57. */
        const double nv = (double)(k->nr >= lanes_ ? k->nr / lanes_ : 1);
        const double loads_per_fma = (nv + (double)k->mr) / ((double)k->mr * nv);
        return 0.95 * tconv_tile_fill(p->cg, k->nr) *
               tconv_tile_fill(p->batch * p->in_h * p->in_w, k->mr) * load_bound(k, lanes_) * fit /
               (1.0 + 0.5 * loads_per_fma);
    }
    if (k->family == TCONV_UK_GEMM) return tconv_bwd_weights_gemm_score(p, k, lanes_);
    /* The packing drivers pass over dy once more (and, for CHANNELS tiles
     * of an NHWC x, over x) before their tiles run. */
    const double packing = 0.8;
    if (k->family == TCONV_UK_CHANNELS) {
        if (!tconv_bwd_weights_rows_fit(p, k))
            return packing * 0.95 * tconv_tile_fill(p->fg, k->nr) * tconv_tile_fill(p->cg, k->mr) *
                   load_bound(k, lanes_);
        /* With the filters as rows, each row of a tile reads dy from its
         * own (filter, column phase) plane, Fg * s_w of them, and a
         * chunk's reads scatter over as many: FCN-32s's k64 s32 layer (672
         * planes) ran at 0.55 of the GEMM tiles' speed, FCN-8s's k16 s8
         * (168) at ~1.0, its k4 s2 layers (42) at 1.1-1.3 (AMD EPYC, AVX2,
         * NCHW, batch 16, 2026-12-06). Fitted to those three. */
        const double planes = (double)(p->fg * p->stride_w);
        return packing * 0.95 * tconv_bwd_weights_rows_fill(p, k) * load_bound(k, lanes_) /
               (1.0 + planes / 1000.0);
    }
    const double vecs = (double)(k->mr >= lanes_ ? k->mr / lanes_ : 1);
    const double loads_per_fma = (vecs + (double)k->nr) / (vecs * (double)k->nr);
    const double bound = loads_per_fma <= 0.75 ? 1.0 : 0.75 / loads_per_fma;
    return packing * 0.8 * bound * tconv_tile_fill(p->fg, k->nr) * tconv_tile_fill(p->cg, k->mr);
}

/* Every kernel a backward plan for p may run, with its score (lower-ISA
 * tables compete with their CHANNELS and GEMM tiles, not PIXELS ones, and
 * in backward-data only: on an AMD EPYC, where ymm tiles run at the zmm
 * rate, the AVX2 tiles this model picked for backward-weights were slower,
 * ENet 16->19 16.9 ms against 9.4 for the AVX-512 GEMM tile, FCN-32s 64
 * against 58; the model does not see what costs them there). */
static int enumerate_bwd(const tconv_isa *isas, int n, const tconv_problem *p, tconv_pass pass,
                         const tconv_ukernel **out, double *scores, int max)
{
    int count = 0;
    for (int a = 0; a < n; a++) {
        const tconv_ukernel_table *t = tconv_select_table(isas[a]);
        for (int i = 0; t && i < t->count && count < max; i++) {
            const tconv_ukernel *k = &t->entries[i];
            if (k->dtype != p->dtype || (a > 0 && k->family == TCONV_UK_PIXELS)) continue;
            if (a > 0 && pass == TCONV_PASS_BWD_WEIGHTS) continue;
            const double s = score_bwd(k, p, pass, isas[a]) * isa_rate(isas[0], isas[a]);
            if (s <= 0.0) continue;
            out[count] = k;
            scores[count++] = s;
        }
    }
    return count;
}

static const char *bwd_env(tconv_pass pass)
{
    return getenv(pass == TCONV_PASS_BWD_DATA ? "TCONV_BWD_DATA_KERNEL"
                                              : "TCONV_BWD_WEIGHTS_KERNEL");
}

/* The driver a backward kernel runs in (kernels/bwd_driver.h), as a
 * strategy of rank_candidates: for backward-data, per family; for
 * backward-weights, its kind, and the packed kind per family (CHANNELS,
 * PIXELS). */
static int bwd_strategy(const tconv_problem *p, tconv_pass pass, const tconv_ukernel *k)
{
    if (pass == TCONV_PASS_BWD_DATA) return (int)k->family;
    const tconv_bwd_weights_kind kind = tconv_bwd_weights_kind_of(p, k);
    return kind == TCONV_BWD_WEIGHTS_PACKED ? 8 + (int)k->family : (int)kind;
}

int tconv_select_bwd_candidates(const tconv_problem *p, tconv_pass pass, tconv_isa isa,
                                const tconv_ukernel **out, int max)
{
    tconv_isa isas[2];
    double scores[TCONV_TUNE_MAX_CANDIDATES];
    const tconv_ukernel *cand[TCONV_TUNE_MAX_CANDIDATES];
    const int n = enumerate_bwd(isas, isas_of(isa, isas), p, pass, cand, scores,
                                TCONV_TUNE_MAX_CANDIDATES);
    /* The first clearly best (a later kernel must beat an earlier one by 5%),
     * then the others by score. */
    int first = -1;
    for (int i = 0; i < n; i++)
        if (first < 0 || scores[i] > scores[first] * 1.05) first = i;
    if (first < 0 || max <= 0) return 0;
    int order[TCONV_TUNE_MAX_CANDIDATES], kinds[TCONV_TUNE_MAX_CANDIDATES];
    for (int i = 0; i < n; i++) kinds[i] = bwd_strategy(p, pass, cand[i]);
    const int count = rank_candidates(scores, kinds, n, first, order, max);
    for (int i = 0; i < count; i++) out[i] = cand[order[i]];
    return count;
}

const tconv_ukernel *tconv_select_bwd(const tconv_problem *p, tconv_pass pass, tconv_isa isa)
{
    const tconv_ukernel *cand[TCONV_TUNE_MAX_CANDIDATES];
    const int n = tconv_select_bwd_candidates(p, pass, isa, cand, TCONV_TUNE_MAX_CANDIDATES);
    const char *forced = bwd_env(pass);
    check_kernel_env(pass == TCONV_PASS_BWD_DATA ? "TCONV_BWD_DATA_KERNEL"
                                                 : "TCONV_BWD_WEIGHTS_KERNEL",
                     forced, isa, 0);
    for (int i = 0; forced && *forced && i < n; i++)
        if (strcmp(cand[i]->name, forced) == 0) return cand[i];
    return n > 0 ? cand[0] : NULL;
}

int tconv_select_bwd_forced(tconv_pass pass)
{
    const char *forced = bwd_env(pass);
    return forced && *forced;
}

/*
 * Weight streaming (kernels/wstream.h), for the passes that get the weights
 * per call. Packing the weights costs about three times their bytes of
 * memory traffic per call, against 2 * Q FLOPs per weight of arithmetic (Q:
 * pixels of the batch), so below a few hundred pixels it outweighs the
 * arithmetic it serves: 10 of pix2pix 1024->512's 13 ms forward (Q = 16).
 * Reading the weights in place wins where Q is at most TCONV_WSTREAM_MAX_PIXELS
 * (measured on the suite's batch-1 layers, see kernels/README.md); the kernels are
 * those with the best filled tile per role: pixels x columns (forward),
 * channels x pixels (backward-data), channels x columns (backward-weights).
 */
#define TCONV_WSTREAM_MAX_PIXELS 64

/* Backward-weights streams only up to half of that: its packed path reads
 * dy and x once per chunk and is the faster one from ~36 pixels on (AMD
 * EPYC, AVX2, one thread, 2026-12-07, TCONV_WSTREAM on/off: DCGAN 256->128
 * at 8x8 2.27 -> 1.61-1.71 ms packed, at 6x6 1.36 -> 1.16, a 1024->512
 * layer at 8x8 38.5 -> 33.4-34.3; streaming still 1.2x faster for 512->256
 * at 2 x 4x4 and 2.8x at 4x4), while forward and backward-data keep
 * streaming to 64 (the 1024->512 layer at 8x8: 23 against 36 ms forward,
 * 18 against 45 backward-data). */
#define TCONV_WSTREAM_BWD_WEIGHTS_MAX_PIXELS 32

static const tconv_ukernel *best_tile(const tconv_ukernel_table *t, tconv_dtype dtype,
                                          tconv_uk_family family, int64_t rows, int64_t cols,
                                          int64_t min_nr, int64_t lanes_)
{
    const tconv_ukernel *best = NULL;
    double best_score = 0.0;
    for (int i = 0; t && i < t->count; i++) {
        const tconv_ukernel *k = &t->entries[i];
        if (k->dtype != dtype || k->family != family || k->nr > min_nr) continue;
        const double s = tconv_tile_fill(rows, k->mr) * tconv_tile_fill(cols, k->nr) *
                         load_bound(k, lanes_);
        if (s > best_score * 1.05) {
            best = k;
            best_score = s;
        }
    }
    return best;
}

int tconv_select_wstream(const tconv_problem *p, tconv_isa isa, const tconv_ukernel *uks[3],
                         int *bwd_weights)
{
    *bwd_weights = 0;
    const char *env = getenv("TCONV_WSTREAM");
    const int forced_on = env && strcmp(env, "on") == 0;
    if (env && *env && !forced_on && strcmp(env, "off") != 0 && strcmp(env, "auto") != 0)
        tconv_warn_env("TCONV_WSTREAM", env, "on, off or auto");
    if ((env && strcmp(env, "off") == 0) || !tconv_wstream_layout_ok(p)) return 0;
    /* A forced kernel is under test: leave its passes to it. */
    if (!forced_on && (tconv_select_forced() || tconv_select_bwd_forced(TCONV_PASS_BWD_DATA) ||
                       tconv_select_bwd_forced(TCONV_PASS_BWD_WEIGHTS)))
        return 0;
    const int64_t q = p->batch * p->in_h * p->in_w, cols = p->fg * p->k_h * p->k_w;
    if (!forced_on && q > TCONV_WSTREAM_MAX_PIXELS) return 0;
    const tconv_ukernel_table *t = tconv_select_table(isa);
    const int64_t l = lanes(isa, p->dtype);
    uks[0] = best_tile(t, p->dtype, TCONV_UK_GEMM, q, cols, cols, l);
    uks[1] = best_tile(t, p->dtype, TCONV_UK_CHANNELS, p->cg, q, INT64_MAX, l);
    uks[2] = best_tile(t, p->dtype, TCONV_UK_GEMM, p->cg, cols, INT64_MAX, l);
    *bwd_weights = forced_on || q <= TCONV_WSTREAM_BWD_WEIGHTS_MAX_PIXELS;
    return uks[0] && uks[1] && uks[2];
}
