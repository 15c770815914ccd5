/*
 * tconv: transposed 2-D convolution ("deconvolution") for CPUs.
 *
 * This is the only public header. Everything a caller needs is declared and
 * documented here; every other header in the source tree is internal.
 *
 * The operation is y = C^T x + b: the backward pass of a standard convolution,
 * as defined by MATLAB's transposedConv2dLayer, ONNX ConvTranspose and PyTorch
 * ConvTranspose2d. Per spatial dimension (H shown; W is the same):
 *
 *   k_eff = (filter_h - 1) * dilation_h + 1
 *   full  = (in_h - 1) * stride_h + k_eff              uncropped output height
 *   out_h = full - crop_top - crop_bottom
 *
 *   y[n][f][oh][ow] = bias[f] + sum over c in f's group, kh, kw of
 *                     x[n][c][ih][iw] * w[c][f mod F/groups][kh][kw]
 *   where oh + crop_top  = ih * stride_h + kh * dilation_h
 *     and ow + crop_left = iw * stride_w + kw * dilation_w.
 *
 * A negative crop adds rows or columns outside the uncropped output; they hold
 * only the bias (this is how ONNX/PyTorch output_padding is expressed).
 *
 * Threading: a plan is immutable after creation; the passes may run on one
 * plan from several threads at once. tconv_last_error() is per thread.
 */
#ifndef TCONV_H
#define TCONV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(TCONV_BUILDING_SHARED)
#define TCONV_API __declspec(dllexport)
#elif defined(__GNUC__)
#define TCONV_API __attribute__((visibility("default")))
#else
#define TCONV_API
#endif

#define TCONV_VERSION_MAJOR 0
#define TCONV_VERSION_MINOR 1
#define TCONV_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" of the library actually linked. */
TCONV_API const char *tconv_version(void);

/* ------------------------------------------------------------------------ */
/* Status and errors                                                         */
/* ------------------------------------------------------------------------ */

typedef enum tconv_status {
    TCONV_OK = 0,
    TCONV_EINVAL = 1,      /* an argument is invalid (NULL, out of range, inconsistent) */
    TCONV_EOVERFLOW = 2,   /* a size over its limit (TCONV_MAX_*), or a count that does not fit */
    TCONV_ENOMEM = 3,      /* memory allocation failed */
    TCONV_EUNSUPPORTED = 4,/* valid, but not supported by this build */
    TCONV_EIO = 5          /* a file could not be read or written */
} tconv_status;

/* A short fixed text for a status ("invalid argument", ...); never NULL. */
TCONV_API const char *tconv_strerror(tconv_status s);

/* The specific message of this thread's most recent failure, naming the field
 * and value, e.g. "crop_top + crop_bottom (9) leaves no output row (uncropped
 * height 8)". A successful call leaves it unchanged; "" before any failure.
 * The text stays valid until this thread's next failing tconv call. */
TCONV_API const char *tconv_last_error(void);

/* ------------------------------------------------------------------------ */
/* Problem description                                                       */
/* ------------------------------------------------------------------------ */

typedef enum tconv_dtype { TCONV_F32 = 0, TCONV_F64 = 1 } tconv_dtype;

/* Layout of x, y and their gradients dx, dy. */
typedef enum tconv_layout {
    TCONV_NCHW = 0, /* row-major [N][C][H][W]: PyTorch, ONNX */
    TCONV_NHWC = 1, /* row-major [N][H][W][C]: TensorFlow, XNNPACK */
    TCONV_SSCB = 2  /* MATLAB column-major H-by-W-by-C-by-N ("SSCB"; N = 1 is "SSC"),
                       i.e. row-major [N][C][W][H] */
} tconv_layout;

/* Layout of the weights w and their gradient dw. Fg = filters/groups,
 * Cg = channels/groups. */
typedef enum tconv_weight_layout {
    TCONV_W_IOHW = 0,  /* row-major [C][Fg][kh][kw]: ONNX ConvTranspose, PyTorch ConvTranspose2d */
    TCONV_W_OHWI = 1,  /* row-major [F][kh][kw][Cg]: TFLite, XNNPACK */
    TCONV_W_MATLAB = 2 /* column-major kh-by-kw-by-F-by-C (MATLAB Weights); with groups
                          kh-by-kw-by-Fg-by-Cg-by-groups (dltranspconv); i.e. row-major
                          [C][Fg][kw][kh] */
} tconv_weight_layout;

typedef enum tconv_crop_mode {
    TCONV_CROP_MANUAL = 0, /* use crop_top/bottom/left/right as given */
    TCONV_CROP_SAME = 1    /* MATLAB Cropping "same": output = in * stride; per dimension
                              total = k_eff - stride; total >= 0: begin = floor(total/2),
                              end = ceil(total/2); total < 0: begin = 0, end = total
                              (bias-only rows/cols at the bottom/right). The crop fields
                              are ignored. */
} tconv_crop_mode;

/* An activation applied to y in the forward pass (MATLAB layers that follow a
 * transposedConv2dLayer; fused into the store where the kernels allow).
 * Within 2 ulp (f32) and 4 ulp (f64) of a long-double reference over the
 * whole range, +-inf and NaN as the limits (gelu(-inf) = swish(-inf) = 0);
 * SIGMOID, GELU and SWISH are computed in f64 for f32 too. */
typedef enum tconv_activation {
    TCONV_ACT_NONE = 0,
    TCONV_ACT_RELU = 1,         /* max(x, 0) */
    TCONV_ACT_LEAKY_RELU = 2,   /* x > 0 ? x : alpha*x; alpha >= 0 (MATLAB scale, 0.01) */
    TCONV_ACT_CLIPPED_RELU = 3, /* min(max(x, 0), alpha); alpha > 0 is the ceiling */
    TCONV_ACT_ELU = 4,          /* x > 0 ? x : alpha*(exp(x) - 1); alpha > 0 (MATLAB 1) */
    TCONV_ACT_SIGMOID = 5,      /* 1 / (1 + exp(-x)) */
    TCONV_ACT_TANH = 6,
    TCONV_ACT_GELU = 7,         /* x/2 * (1 + erf(x / sqrt(2))), the exact (erf) form */
    TCONV_ACT_SWISH = 8         /* x * sigmoid(x) (SiLU) */
} tconv_activation;

typedef struct tconv_desc {
    int64_t batch, channels, in_h, in_w;   /* input N, C (NumChannels), H, W */
    int64_t filters, filter_h, filter_w;   /* NumFilters (output channels, all groups), FilterSize */
    int64_t stride_h, stride_w;            /* Stride, default 1 */
    int64_t dilation_h, dilation_w;        /* default 1 */
    int64_t groups;                        /* default 1; divides channels and filters */
    tconv_crop_mode crop_mode;             /* MANUAL (default) or SAME */
    int64_t crop_top, crop_bottom, crop_left, crop_right; /* MANUAL: rows/cols trimmed from each
                                              edge of the uncropped output; a negative crop adds
                                              rows/cols that receive only the bias */
    tconv_dtype dtype;
    tconv_layout layout;
    tconv_weight_layout weight_layout;
    tconv_activation activation;           /* applied to y by tconv_forward; default NONE */
    double activation_alpha;               /* the parameter of LEAKY_RELU, CLIPPED_RELU, ELU */
} tconv_desc;

/* Size limits. tconv_desc_check and tconv_plan_create refuse a larger value
 * with TCONV_EOVERFLOW and a message naming the field. They lie far above any
 * real layer (the largest have ~2^14 channels, kernels of 64 and strides of
 * 32), so that sizes read from an untrusted model file cannot make planning
 * run long or allocate much: every plan-time loop and table is bounded by
 * them, and any product of them a kernel forms fits int64_t. */
#define TCONV_MAX_EXTENT (INT64_C(1) << 31)       /* batch, in_h, in_w */
#define TCONV_MAX_CHANNELS (INT64_C(1) << 24)     /* channels, filters (so also groups) */
#define TCONV_MAX_WINDOW (INT64_C(1) << 16)       /* filter_h/_w, stride_h/_w, dilation_h/_w */
#define TCONV_MAX_TENSOR_BYTES (INT64_C(1) << 62) /* x, w and y (and so dx, dw, dy) */

/* Defaults: zero sizes (the caller must set them), zero crops, CROP_MANUAL,
 * stride/dilation/groups/batch 1, F32, NCHW, W_IOHW, no activation. NULL is
 * a no-op. */
TCONV_API void tconv_desc_init(tconv_desc *d);

/* Validates d completely (the checks tconv_plan_create makes) without creating
 * a plan. */
TCONV_API tconv_status tconv_desc_check(const tconv_desc *d);

/* Output height and width of a valid desc. Either pointer may be NULL. */
TCONV_API tconv_status tconv_desc_output(const tconv_desc *d, int64_t *out_h, int64_t *out_w);

/* The crops actually applied (CROP_SAME resolved), as {top, bottom, left, right}. */
TCONV_API tconv_status tconv_desc_effective_crops(const tconv_desc *d, int64_t crops[4]);

typedef enum tconv_tensor {
    TCONV_TENSOR_X = 0,    /* x and dx: batch x channels x in_h x in_w */
    TCONV_TENSOR_W = 1,    /* w and dw: channels x filters/groups x filter_h x filter_w */
    TCONV_TENSOR_BIAS = 2, /* bias and dbias: filters */
    TCONV_TENSOR_Y = 3     /* y and dy: batch x filters x out_h x out_w */
} tconv_tensor;

/* Element count and byte count of one tensor of a valid desc; either output
 * pointer may be NULL. Use it to allocate buffers. */
TCONV_API tconv_status tconv_desc_tensor_size(const tconv_desc *d, tconv_tensor t,
                                              int64_t *elems, size_t *bytes);

/* ------------------------------------------------------------------------ */
/* Cropping from MATLAB, ONNX and PyTorch attributes                         */
/*                                                                           */
/* Each helper writes crop_top/bottom/left/right and sets crop_mode (MANUAL  */
/* unless stated). Array arguments are in the framework's own order. An      */
/* output_padding argument may be NULL (zeros). On failure d is unchanged.   */
/* ------------------------------------------------------------------------ */

/* MATLAB Cropping as a numeric vector: n = 1: p (all four edges); n = 2:
 * [a b] (a top and bottom, b left and right); n = 4: [t b l r]. Values >= 0.
 * When d's input, filter, stride and dilation sizes are set (>= 1), the
 * crops must leave an output row and column (TCONV_EINVAL naming the
 * cropping entries otherwise), as tconv_crop_pytorch checks at call time;
 * before they are set, tconv_desc_check checks later. */
TCONV_API tconv_status tconv_crop_matlab(tconv_desc *d, const int64_t *cropping, int n);

/* MATLAB Cropping "same": sets crop_mode = TCONV_CROP_SAME and zeroes the
 * crop fields. */
TCONV_API tconv_status tconv_crop_matlab_same(tconv_desc *d);

/* ONNX pads [top, left, bottom, right] (x1_begin, x2_begin, x1_end, x2_end)
 * and output_padding [h, w]: crop_begin = pads_begin,
 * crop_end = pads_end - output_padding. pads >= 0, output_padding >= 0. */
TCONV_API tconv_status tconv_crop_onnx_pads(tconv_desc *d, const int64_t pads[4],
                                            const int64_t output_padding[2]);

typedef enum tconv_onnx_auto_pad {
    TCONV_ONNX_NOTSET = 0,
    TCONV_ONNX_SAME_UPPER = 1,
    TCONV_ONNX_SAME_LOWER = 2,
    TCONV_ONNX_VALID = 3
} tconv_onnx_auto_pad;

/* ONNX auto_pad. Needs in_*, filter_*, stride_* and dilation_* set in d.
 * SAME_UPPER/SAME_LOWER give out = in * stride. Per dimension
 * T = k_eff - stride + output_padding; T >= 0: SAME_UPPER crops floor(T/2) at
 * the beginning and T - floor(T/2) - output_padding at the end, SAME_LOWER the
 * larger half at the beginning. T < 0 (kernel smaller than the stride, where
 * implementations disagree): tconv crops 0 at the beginning and
 * T - output_padding at the end, so the bias-only positions are at the end, as
 * with MATLAB "same" and onnxruntime's clamped padding.
 * VALID: 0 at the beginning, -output_padding at the end. NOTSET: EINVAL (use
 * tconv_crop_onnx_pads). */
TCONV_API tconv_status tconv_crop_onnx_auto_pad(tconv_desc *d, tconv_onnx_auto_pad mode,
                                                const int64_t output_padding[2]);

/* ONNX output_shape [h, w] (pads are then ignored, as the spec says). Follows
 * onnxruntime: per dimension P = max(0, full + output_padding - O); the
 * beginning is cropped P/2 (P - P/2 with auto_pad SAME_UPPER, which puts the
 * larger half first) and the end full - begin - O, so an output larger than
 * the uncropped one gets bias-only positions at the end. auto_pad may be
 * NOTSET, SAME_UPPER, SAME_LOWER or VALID. Needs in_*, filter_*, stride_* and
 * dilation_* set in d. */
TCONV_API tconv_status tconv_crop_onnx_output_shape(tconv_desc *d, const int64_t output_shape[2],
                                                    const int64_t output_padding[2],
                                                    tconv_onnx_auto_pad auto_pad);

/* PyTorch ConvTranspose2d padding [h, w] and output_padding [h, w]:
 * crop_top = padding_h, crop_bottom = padding_h - output_padding_h (W alike).
 * As in PyTorch, output_padding must be smaller than the stride or the
 * dilation of its dimension; needs stride_* and dilation_* set in d. */
TCONV_API tconv_status tconv_crop_pytorch(tconv_desc *d, const int64_t padding[2],
                                          const int64_t output_padding[2]);

/* ------------------------------------------------------------------------ */
/* Instruction sets                                                          */
/* ------------------------------------------------------------------------ */

/* The instruction sets tconv has kernels for. TCONV_ISA_SCALAR (portable C)
 * always exists; on x86-64 the order is SCALAR < AVX2 < AVX512, on AArch64
 * SCALAR < NEON. AVX2 means AVX2 + FMA; AVX512 means AVX-512F (and the AVX2
 * set); both need the OS to have enabled the ymm/zmm state (XGETBV). */
typedef enum tconv_isa {
    TCONV_ISA_SCALAR = 0,
    TCONV_ISA_AVX2 = 1,
    TCONV_ISA_AVX512 = 2,
    TCONV_ISA_NEON = 3
} tconv_isa;

/* The best instruction set this CPU supports among those built into this
 * library; detected once, thread-safely. */
TCONV_API tconv_isa tconv_cpu_isa(void);

/* Caps the instruction set that plans created from now on may use (plans
 * already created keep theirs). The environment variable
 * TCONV_ISA=scalar|avx2|avx512|neon sets the initial cap (an ISA the CPU
 * lacks gives a one-line warning on stderr and the best available is used).
 * Asking for an ISA the CPU (or build) lacks returns TCONV_EUNSUPPORTED and
 * changes nothing. Not meant to race with tconv_plan_create in other threads. */
TCONV_API tconv_status tconv_set_max_isa(tconv_isa isa);

/* The instruction set new plans use: the CPU's best, lowered by the cap. */
TCONV_API tconv_isa tconv_get_isa(void);

/* "scalar", "avx2", "avx512", "neon"; "unknown" for other values. */
TCONV_API const char *tconv_isa_name(tconv_isa isa);

/* The microkernels built for isa, in order of preference: index 0, 1, ...;
 * NULL past the last one (and for an ISA without kernels in this build).
 * "f32_fwd_14x32_avx512" tiles serve the forward pass and both backward
 * passes, "f32_fwd_px32x4_avx512" ones those three too (backward-data
 * through the columns of dy a row of dx reads),
 * "f32_bwdw_12x32_avx512" ones backward-weights only, and the last ones,
 * "f32_fwd_ph2x32x3_avx512", the forward pass's phases mode (all phases of
 * a stride-2 layer at once, for the PIXELS tile of the same width,
 * TCONV_FWD_MODE=phases). Plans normally choose
 * among them by the shape; the environment variables TCONV_FWD_KERNEL,
 * TCONV_BWD_DATA_KERNEL and TCONV_BWD_WEIGHTS_KERNEL=<name> force new plans
 * to use that kernel for their pass when it belongs to the ISA in use, has
 * the plan's dtype, serves the pass and can run the layer (for testing and
 * tuning; tconv_plan_info shows what a plan runs). */
TCONV_API const char *tconv_kernel_name(tconv_isa isa, int index);

/* This host as tconv sees it: what the tuning cache keys its entries on and
 * what the blocking model and the thread pool size themselves by (CPUID or
 * MIDR_EL1, and the hwloc topology; read once per process). Benchmarks
 * record it so results from several machines can be told apart. The
 * strings live as long as the process. */
typedef struct tconv_host_info {
    const char *fingerprint;  /* the tuning cache's host line, e.g.
                               * "GenuineIntel 6-143-8 avx512 l1d=48K l2=2048K l3=107520K cores=1" */
    const char *cpu;          /* "GenuineIntel 6-143-8" (vendor family-model-stepping),
                               * "ARM midr=0x410fd0c1", or "unknown" */
    tconv_isa isa;            /* the CPU's best instruction set (tconv_cpu_isa) */
    int64_t l1d_bytes;        /* one core's L1 data cache */
    int64_t l2_bytes;         /* the L2 one core sees */
    int64_t l3_bytes;         /* the L3 one core sees (shared with its neighbours) */
    int cores;                /* physical cores this process may run on (its affinity mask) */
    int machine_cores;        /* physical cores of the machine */
    int pus;                  /* hardware threads of those cores, >= cores */
    int from_hwloc;           /* 0: hwloc failed and the sizes are conservative defaults */
} tconv_host_info;

/* Fills *info. TCONV_EINVAL if info is NULL. */
TCONV_API tconv_status tconv_host_query(tconv_host_info *info);

/* ------------------------------------------------------------------------ */
/* Threads                                                                   */
/* ------------------------------------------------------------------------ */

/* Passes split their work over a persistent pool of threads created on first
 * use, one per physical core (workers bound to cores with hwloc; the calling
 * thread does its share). Results are bit for bit the same for every thread
 * count: each output is computed in a fixed order by one task.
 *
 * The default count is the physical cores this process may run on (its
 * affinity mask / cgroup cpuset; hyper-threads count once), or the
 * environment variable TCONV_NUM_THREADS. Several application threads may run
 * passes at once: one that finds the pool busy runs its pass on its own
 * thread instead of waiting. */

/* Sets the thread count for later passes: 1 to 1024, or 0 for the default.
 * Waits for a pass running on the pool to finish. TCONV_EINVAL otherwise. */
TCONV_API tconv_status tconv_set_num_threads(int n);

/* The thread count passes split their work for. */
TCONV_API int tconv_get_num_threads(void);

/* A task of a parallel-for, and a host's parallel-for: it must run
 * task(task_ctx, i) once for every i in [0, n), on any threads in any order,
 * and return when all have finished (the shape of ONNX Runtime's and
 * PyTorch's thread-pool loops). */
typedef void (*tconv_task_fn)(void *task_ctx, int64_t i);
typedef void (*tconv_parallel_for_fn)(void *pool_ctx, int64_t n, tconv_task_fn task,
                                      void *task_ctx);

/* Runs passes on the host's parallel-for instead of tconv's pool, which then
 * starts no threads; NULL restores the built-in pool. tconv splits a pass
 * into about as many tasks as tconv_get_num_threads() says (set it to the
 * host pool's size), and tasks never call back into the host's parallel-for.
 * The host's function may be called from several threads at once and, when a
 * pass runs inside one of the host's own parallel regions, from inside that
 * region: it must then run the tasks (serially is fine) without deadlock.
 * Not meant to race with running passes. */
TCONV_API void tconv_set_parallel_for(tconv_parallel_for_fn fn, void *pool_ctx);

/* ------------------------------------------------------------------------ */
/* Plans and passes                                                          */
/* ------------------------------------------------------------------------ */

typedef struct tconv_plan tconv_plan;

/* Plan flags (bitwise or; 0 = defaults). Unknown bits are rejected. */
#define TCONV_PLAN_REFERENCE (1u << 0) /* always run the scalar reference kernels */

/* Tuning (FFTW's planner rigor, with a per-host cache; see "Tuning cache"
 * below). Each pass (forward, backward-data, backward-weights) has its own
 * cache entry. With none of these flags a plan uses the cache's entry of
 * each pass for its configuration if there is one, else the analytic
 * choice; it never measures. At most one of them may be given.
 * TCONV_FWD_KERNEL / TCONV_FWD_MODE override all of it for the forward
 * pass, TCONV_BWD_DATA_KERNEL / TCONV_BWD_WEIGHTS_KERNEL for the backward
 * passes. */
#define TCONV_TUNE_NONE (1u << 1)       /* the analytic choice; the cache is not touched */
#define TCONV_TUNE_MEASURE (1u << 2)    /* the cache's entry, else measure a pruned space now
                                           (each candidate verified against the reference)
                                           and store the winner */
#define TCONV_TUNE_EXHAUSTIVE (1u << 3) /* measure every candidate now, replace the entry */

/* The passes TCONV_TUNE_MEASURE and TCONV_TUNE_EXHAUSTIVE measure. None of
 * these bits: the forward pass only, so that inference never pays for
 * measuring backward passes it does not run; any of them: exactly the
 * passes given (TCONV_TUNE_MEASURE | TCONV_TUNE_ALL_PASSES for training).
 * A pass not measured still takes the cache's entry, as with no flag.
 * Given without TCONV_TUNE_MEASURE or TCONV_TUNE_EXHAUSTIVE: TCONV_EINVAL. */
#define TCONV_TUNE_FWD (1u << 4)
#define TCONV_TUNE_BWD_DATA (1u << 5)
#define TCONV_TUNE_BWD_WEIGHTS (1u << 6)
#define TCONV_TUNE_ALL_PASSES (TCONV_TUNE_FWD | TCONV_TUNE_BWD_DATA | TCONV_TUNE_BWD_WEIGHTS)

/* tconv_plan_info ends with how each pass's choice was made:
 * "tune: fwd S; bwd_data S; bwd_weights S", each S one of "heuristic" (the
 * analytic or a forced choice), "tuned, from cache", "tuned, measured now"
 * or "none (reference)" (the pass runs the reference kernels). */

/* Seconds one plan may spend measuring the candidates of each pass beyond
 * its analytic choice (which is always measured): default 2. TCONV_EINVAL
 * outside (0, 86400]. */
TCONV_API tconv_status tconv_set_tune_budget(double seconds);

/* Validates d and makes every decision once (sizes, crops, which kernels).
 * On failure *plan is set to NULL. */
TCONV_API tconv_status tconv_plan_create(tconv_plan **plan, const tconv_desc *d, unsigned flags);

/* NULL is a no-op. */
TCONV_API void tconv_plan_destroy(tconv_plan *plan);

/* A copy of the desc the plan was created from. */
TCONV_API tconv_status tconv_plan_desc(const tconv_plan *p, tconv_desc *d);

/* A one-line human-readable description of what the plan runs, e.g.
 * "fwd gather f32_fwd_8x32_avx512 phases=4 taps/phase<=4, bwd_data
 * f32_fwd_4x24_avx2 taps=16, bwd_weights f32_fwd_8x32_avx512 chunks=1x8 rows
 * x in place | f32 NCHW/W_IOHW 2x512x4x4 -> 2x256x8x8 k4x4 s2x2 d1x1 g1 crop
 * 1,1,1,1 | tune: fwd heuristic; bwd_data heuristic; bwd_weights heuristic"
 * (the tune part: see the tuning flags above). Environment
 * variable TCONV_VERBOSE=1 prints it to stderr when a plan is created.
 * Owned by the plan; valid until it is destroyed. "" for NULL. */
TCONV_API const char *tconv_plan_info(const tconv_plan *p);

/* Pre-packs weights (and bias, which may be NULL: no bias) for inference:
 * afterwards tconv_forward(p, x, NULL, NULL, y) uses them with no per-call
 * packing. A later call replaces them. This is the only call that changes a
 * plan: it must not run concurrently with any pass on the same plan.
 * TCONV_ENOMEM if the packed copy cannot be allocated (the plan then keeps
 * the weights it had). */
TCONV_API tconv_status tconv_plan_set_weights(tconv_plan *p, const void *w, const void *bias);

/*
 * The passes. Tensors are dense, in the plan's dtype, data layout (x, y, dx, dy)
 * and weight layout (w, dw); bias/dbias hold `filters` elements. Each output is
 * overwritten (not accumulated into) and must not overlap any input of the same
 * call (EINVAL otherwise).
 *
 * forward:          y = C^T x (+ bias); bias may be NULL (no bias). With w NULL
 *                   (and bias NULL), the weights and bias given to
 *                   tconv_plan_set_weights are used. With w given, the
 *                   weights are packed on the fly (training, where they
 *                   change every step).
 * backward_data:    dx = C dy, the adjoint of forward with respect to x: a
 *                   strided, dilated, grouped correlation of dy with w (no flip).
 * backward_weights: dw[c][m][kh][kw] = sum over n, ih, iw of
 *                   x[n][c][ih][iw] * dy[n][g*Fg+m][ih*s_h+kh*d_h-crop_top][iw*s_w+kw*d_w-crop_left],
 *                   dbias[f] = sum of dy[n][f][.][.] (bias-only positions
 *                   included); dbias may be NULL.
 */
TCONV_API tconv_status tconv_forward(const tconv_plan *p, const void *x, const void *w,
                                     const void *bias, void *y);
TCONV_API tconv_status tconv_backward_data(const tconv_plan *p, const void *dy, const void *w,
                                           void *dx);
TCONV_API tconv_status tconv_backward_weights(const tconv_plan *p, const void *x, const void *dy,
                                              void *dw, void *dbias);

/* ------------------------------------------------------------------------ */
/* Layer parameters (MATLAB transposedConv2dLayer)                           */
/* ------------------------------------------------------------------------ */

/* MATLAB's WeightsInitializer / BiasInitializer. numIn =
 * filter_h*filter_w*channels/groups, numOut = filter_h*filter_w*filters/groups.
 * Random kinds are reproducible from a 64-bit seed: the value of each logical
 * weight (c, m, kh, kw) depends only on (seed, kind, its MATLAB column-major
 * linear index in kh x kw x Fg x Cg x groups), through a counter-based
 * generator (Philox4x32-10: counter = that index, key = seed). So every
 * weight layout holds the same logical weights, f32 holds the f64 values
 * rounded, and the bits are the same on every ISA and machine. Uniforms take
 * 53 random bits; normals come from Box-Muller with SLEEF's scalar log and
 * sincos. The bias uses the same scheme with index f. */
typedef enum tconv_initializer {
    TCONV_INIT_GLOROT = 0,        /* U(-b, b), b = sqrt(6 / (numIn + numOut)); the weights' default */
    TCONV_INIT_HE = 1,            /* N(0, 2 / numIn) */
    TCONV_INIT_NARROW_NORMAL = 2, /* N(0, 0.01^2) */
    TCONV_INIT_ZEROS = 3,         /* the bias's default */
    TCONV_INIT_ONES = 4,
    TCONV_INIT_CUSTOM = 5         /* the callback fills MATLAB's array */
} tconv_initializer;

/* A custom initializer (MATLAB's function handle). size: MATLAB's size vector;
 * out: column-major array of that size in dtype, which the callback must fill
 * completely. Weights: size [kh kw F C] (ndims 4) when groups == 1,
 * [kh kw F/g C/g g] (ndims 5) otherwise; bias: [1 1 F] (ndims 3). ctx is the
 * caller's pointer, passed through. */
typedef void (*tconv_init_fn)(void *ctx, const int64_t *size, int ndims, tconv_dtype dtype, void *out);

/* Fills w (the desc's weight layout and dtype, tconv_desc_tensor_size bytes)
 * with MATLAB's initializer `kind`. seed is used by GLOROT, HE and
 * NARROW_NORMAL and ignored by the others; fn and ctx are used by CUSTOM only
 * (fn NULL with CUSTOM: EINVAL); CUSTOM's array is converted from MATLAB's
 * order into the weight layout (TCONV_ENOMEM if its temporary cannot be
 * allocated). */
TCONV_API tconv_status tconv_init_weights(const tconv_desc *d, tconv_initializer kind, uint64_t seed,
                                          tconv_init_fn fn, void *ctx, void *w);

/* Fills the `filters` bias values: ZEROS (MATLAB's default), NARROW_NORMAL,
 * ONES or CUSTOM (size [1 1 F], written straight into bias); GLOROT and HE
 * are not bias initializers in MATLAB (EINVAL). */
TCONV_API tconv_status tconv_init_bias(const tconv_desc *d, tconv_initializer kind, uint64_t seed,
                                       tconv_init_fn fn, void *ctx, void *bias);

/* MATLAB's per-layer WeightLearnRateFactor, BiasLearnRateFactor,
 * WeightL2Factor and BiasL2Factor; each >= 0 and finite. */
typedef struct tconv_train_factors {
    double weight_learn_rate_factor, bias_learn_rate_factor, weight_l2_factor, bias_l2_factor;
} tconv_train_factors; /* MATLAB defaults 1, 1, 1, 0 */

/* Sets MATLAB's defaults 1, 1, 1, 0. NULL is a no-op. */
TCONV_API void tconv_train_factors_init(tconv_train_factors *f);

/* SGDM options: learn_rate >= 0, 0 <= momentum < 1, l2_regularization >= 0
 * (all finite). */
typedef struct tconv_sgdm {
    double learn_rate, momentum, l2_regularization;
} tconv_sgdm; /* MATLAB trainingOptions defaults 0.01, 0.9, 1e-4 */

/* Sets MATLAB's trainingOptions("sgdm") defaults 0.01, 0.9, 1e-4. NULL is a no-op. */
TCONV_API void tconv_sgdm_init(tconv_sgdm *o);

/* One step of MATLAB's SGDM solver for a layer's weights and bias, in place,
 * element-wise in the desc's dtype (any weight layout: w, dw and w_velocity
 * share it). For the weights, unless weight_learn_rate_factor is 0 (frozen:
 * nothing changes):
 *   g = dw + (l2_regularization * weight_l2_factor) * w
 *   w_velocity = momentum * w_velocity - (learn_rate * weight_learn_rate_factor) * g
 *   w += w_velocity
 * and the same for bias, dbias, bias_velocity (`filters` values each) with
 * the bias factors. w, dw and w_velocity are required; bias, dbias and
 * bias_velocity are given all three or none (no bias). Start with zero
 * velocities. The updated buffers must not overlap any other buffer of the
 * call (EINVAL). */
TCONV_API tconv_status tconv_sgdm_step(const tconv_desc *d, const tconv_train_factors *f,
                                       const tconv_sgdm *o, void *w, const void *dw,
                                       void *w_velocity, void *bias, const void *dbias,
                                       void *bias_velocity);

/* ------------------------------------------------------------------------ */
/* Activations                                                               */
/* ------------------------------------------------------------------------ */

/* y[i] = act(x[i]) for n elements of dtype; y == x is allowed (in place).
 * Computed as the fused forward computes it on the ISA in use (SLEEF's
 * vector functions: exp, expm1 and tanh within 1 ulp, erfc 1.5 ulp; the
 * scalar path uses their scalar forms). alpha as in tconv_activation. */
TCONV_API tconv_status tconv_activation_forward(tconv_activation act, double alpha,
                                                tconv_dtype dtype, int64_t n, const void *x,
                                                void *y);

/* The backward of an activation that followed tconv_forward: dz[i] = dy[i] *
 * act'(z[i]), the dy that tconv_backward_data, tconv_backward_weights and the
 * bias gradient take. saved holds the activation's output y (from_output 1:
 * RELU, LEAKY_RELU, CLIPPED_RELU, ELU, SIGMOID, TANH) or its input z
 * (from_output 0: any activation; GELU and SWISH need it). dz == dy is
 * allowed. At the kinks the derivative is 0 for RELU and CLIPPED_RELU (at
 * x = 0 and x = alpha), alpha for LEAKY_RELU at 0, as MATLAB's; at +-inf
 * the derivative's limit (GELU and SWISH: 1 at +inf, 0 at -inf). */
TCONV_API tconv_status tconv_activation_backward(tconv_activation act, double alpha,
                                                 tconv_dtype dtype, int64_t n, const void *saved,
                                                 int from_output, const void *dy, void *dz);

/* ------------------------------------------------------------------------ */
/* Tuning cache                                                              */
/*                                                                           */
/* Tuned choices (which kernel and blocking won for a layer configuration)   */
/* are remembered per host in one text file, like FFTW's wisdom. Its         */
/* location: $TCONV_CACHE if set (a file path); else                         */
/* $XDG_CACHE_HOME/tconv/tuning-<hostname>.txt; else                         */
/* $HOME/.cache/tconv/tuning-<hostname>.txt; decided once per process, on    */
/* first use. The file's header names its format, the tconv version and the  */
/* host's fingerprint (CPU model, its best ISA, L1d/L2/L3 sizes, physical    */
/* cores); a file with another of any of these is never used, and the next   */
/* write replaces it. Writers in several processes serialize on a lock file  */
/* ("<file>.lock") and merge, so no entry is lost; the file is replaced      */
/* atomically (temporary file and rename). Damaged lines are skipped with    */
/* one warning on stderr and dropped by the next write. A location that      */
/* cannot be written only costs the caching: plans never fail because of it. */
/* These functions are thread-safe.                                          */
/* ------------------------------------------------------------------------ */

/* The cache file's path for this process; "" when none can be determined
 * (TCONV_CACHE, XDG_CACHE_HOME and HOME all unset). The file itself may not
 * exist yet. Valid for the life of the process. */
TCONV_API const char *tconv_cache_path(void);

/* Merges the entries of the cache file at path (for instance one exported
 * on an identical machine) into this host's cache; an imported entry
 * replaces this host's entry of the same key. Damaged lines of the file are
 * skipped with a warning. TCONV_EINVAL if path is NULL or empty, or if the
 * file is not a tconv tuning cache or was written for another host, another
 * tconv version or another format (the message says which, and what it
 * says); TCONV_EIO if it cannot be read, or if this host's cache cannot be
 * written (the entries are then used by this process only); TCONV_ENOMEM
 * if memory runs out doing either. */
TCONV_API tconv_status tconv_cache_import(const char *path);

/* Writes this host's cache, as it is in its file now, to path (replacing
 * path atomically; its directory is created if missing). A cache with no
 * entries gives a file with only the header. TCONV_EINVAL if path is NULL
 * or empty; TCONV_EIO if this host's cache cannot be read or path cannot be
 * written; TCONV_ENOMEM if memory runs out doing either. */
TCONV_API tconv_status tconv_cache_export(const char *path);

/* Removes every entry: deletes the cache file (the lock file stays) and
 * forgets what this process had read. TCONV_EIO if the file exists and
 * cannot be removed, TCONV_ENOMEM if memory runs out doing it (this
 * process's copy is emptied anyway). */
TCONV_API tconv_status tconv_cache_clear(void);

#ifdef __cplusplus
}
#endif

#endif /* TCONV_H */
