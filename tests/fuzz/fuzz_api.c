/*
 * libFuzzer target for the public API (include/tconv.h), built against the
 * whole library with AddressSanitizer and UndefinedBehaviorSanitizer by
 * scripts/fuzz-api.sh. The input's bytes become, in order:
 *
 *   the ISA cap and thread count of the run, then every field of a
 *   tconv_desc (sizes small, extreme, negative or raw 64-bit; every enum
 *   including values outside it; the activation's alpha), then one of the
 *   crop helpers with its arguments (NULL arrays, bad n and modes
 *   included), the plan flags (valid combinations and raw bits), and a seed.
 *
 * Then tconv_desc_check, the queries and tconv_plan_create run, and when
 * the tensors are small every pass runs on the plan and on a
 * TCONV_PLAN_REFERENCE plan of the same desc: forward with and without
 * bias, forward after tconv_plan_set_weights, backward-data,
 * backward-weights with and without dbias, plus calls that must be refused
 * (an output overlapping an input, bias without w). It traps when a promise
 * of tconv.h breaks:
 *
 * - every status is a tconv_status, a failure leaves a message, and
 *   tconv_plan_create fails exactly when tconv_desc_check does (or the flags
 *   are bad), leaving *plan NULL;
 * - a crop helper that fails leaves the desc as it was;
 * - a valid desc's queries agree (sizes, bytes = elements * dtype size);
 * - passes agree with the reference within a rounding bound, write nothing
 *   outside their output buffers (64 guard bytes before and after every
 *   buffer) and change none of their inputs;
 * - refused calls change nothing.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tconv.h>

#define REQUIRE(cond) \
    do {                  \
        if (!(cond)) __builtin_trap(); \
    } while (0)

/* ---- the input as a stream of values ----------------------------------- */

typedef struct reader {
    const uint8_t *p;
    size_t n;
} reader;

/* Past the end every read gives 0 (the fuzzer grows inputs as it needs). */
static uint8_t u8(reader *r)
{
    if (!r->n) return 0;
    r->n--;
    return *r->p++;
}

static uint64_t u64(reader *r)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | u8(r);
    return v;
}

/* Values at and around every limit and overflow edge. */
static const int64_t extremes[] = {
    0, -1, 1, 2, INT64_MAX, INT64_MIN, INT64_MAX / 2, INT64_MIN + 1,
    (INT64_C(1) << 31), (INT64_C(1) << 31) + 1, (INT64_C(1) << 24), (INT64_C(1) << 24) + 1,
    (INT64_C(1) << 16), (INT64_C(1) << 16) + 1, (INT64_C(1) << 62), (INT64_C(1) << 40),
    (INT64_C(1) << 32), (INT64_C(1) << 30), 4096, 4097, 65535, -(INT64_C(1) << 40),
    (INT64_C(1) << 20), 3037000499, 3037000500,
};

/* A size: mostly small (the passes then run), else an extreme, else raw. */
static int64_t size_value(reader *r)
{
    const uint8_t m = u8(r);
    if (m < 192) return (int64_t)(m % 9) - 1; /* -1 .. 7 */
    if (m < 240) return extremes[(m - 192) % (sizeof extremes / sizeof extremes[0])];
    return (int64_t)u64(r);
}

/* A crop or padding: small and possibly negative, else as a size. */
static int64_t crop_value(reader *r)
{
    const uint8_t m = u8(r);
    if (m < 200) return (int64_t)(m % 12) - 4; /* -4 .. 7 */
    return size_value(r);
}

/* An enum: its valid values and a few on either side. */
static int enum_value(reader *r, int last)
{
    const uint8_t m = u8(r);
    if (m == 255) return (int)(int32_t)(uint32_t)u64(r);
    return (int)(m % (unsigned)(last + 3)) - 1; /* -1 .. last + 1 */
}

static double alpha_value(reader *r)
{
    static const double table[] = {0.01, 0.0, 1.0, 0.2, 6.0, -1.0, 1e6, 1e308, -0.0};
    const uint8_t m = u8(r);
    if (m < 240) return table[m % (sizeof table / sizeof table[0])];
    const uint64_t bits = u64(r); /* any double: NaN, inf, subnormal */
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* ---- statuses and messages ---------------------------------------------- */

static void check_status(tconv_status s)
{
    REQUIRE(s >= TCONV_OK && s <= TCONV_EIO);
    REQUIRE(tconv_strerror(s) != NULL);
    if (s != TCONV_OK) {
        const char *m = tconv_last_error();
        REQUIRE(m != NULL && m[0] != '\0');
    }
}

/* ---- the desc and the crop helpers -------------------------------------- */

/* Field by field (a struct copy need not copy padding bytes). */
static int same_desc(const tconv_desc *a, const tconv_desc *b)
{
    return a->batch == b->batch && a->channels == b->channels && a->in_h == b->in_h &&
           a->in_w == b->in_w && a->filters == b->filters && a->filter_h == b->filter_h &&
           a->filter_w == b->filter_w && a->stride_h == b->stride_h &&
           a->stride_w == b->stride_w && a->dilation_h == b->dilation_h &&
           a->dilation_w == b->dilation_w && a->groups == b->groups &&
           a->crop_mode == b->crop_mode && a->crop_top == b->crop_top &&
           a->crop_bottom == b->crop_bottom && a->crop_left == b->crop_left &&
           a->crop_right == b->crop_right && a->dtype == b->dtype && a->layout == b->layout &&
           a->weight_layout == b->weight_layout && a->activation == b->activation &&
           memcmp(&a->activation_alpha, &b->activation_alpha, sizeof(double)) == 0;
}


static void read_desc(reader *r, tconv_desc *d)
{
    tconv_desc_init(d);
    int64_t *sizes[] = {&d->batch,    &d->channels,   &d->in_h,     &d->in_w,
                        &d->filters,  &d->filter_h,   &d->filter_w, &d->stride_h,
                        &d->stride_w, &d->dilation_h, &d->dilation_w, &d->groups};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) *sizes[i] = size_value(r);
    d->crop_mode = (tconv_crop_mode)enum_value(r, TCONV_CROP_SAME);
    d->crop_top = crop_value(r);
    d->crop_bottom = crop_value(r);
    d->crop_left = crop_value(r);
    d->crop_right = crop_value(r);
    d->dtype = (tconv_dtype)enum_value(r, TCONV_F64);
    d->layout = (tconv_layout)enum_value(r, TCONV_SSCB);
    d->weight_layout = (tconv_weight_layout)enum_value(r, TCONV_W_MATLAB);
    d->activation = (tconv_activation)enum_value(r, TCONV_ACT_SWISH);
    d->activation_alpha = alpha_value(r);
}

/* One of the crop helpers on d, with arguments from r (NULL arrays and bad
 * counts and modes among them). A failure must leave d as it was. */
static void apply_crop_helper(reader *r, tconv_desc *d)
{
    const uint8_t which = u8(r) % 8;
    const int null_arrays = u8(r) % 8 == 0; /* sometimes a NULL array */
    int64_t a[4], b[2];
    for (int i = 0; i < 4; i++) a[i] = crop_value(r);
    for (int i = 0; i < 2; i++) b[i] = crop_value(r);
    tconv_desc before = *d;
    tconv_status s = TCONV_OK;
    switch (which) {
    case 0: return; /* the crop fields as read */
    case 1: {
        const int ns[] = {1, 2, 4, 0, 3, -1};
        s = tconv_crop_matlab(d, null_arrays ? NULL : a, ns[u8(r) % 6]);
        break;
    }
    case 2: s = tconv_crop_matlab_same(d); break;
    case 3: s = tconv_crop_onnx_pads(d, null_arrays ? NULL : a, u8(r) & 1 ? b : NULL); break;
    case 4:
        s = tconv_crop_onnx_auto_pad(d, (tconv_onnx_auto_pad)enum_value(r, TCONV_ONNX_VALID),
                                     u8(r) & 1 ? b : NULL);
        break;
    case 5: {
        int64_t shape[2] = {size_value(r), size_value(r)};
        s = tconv_crop_onnx_output_shape(d, null_arrays ? NULL : shape, u8(r) & 1 ? b : NULL,
                                         (tconv_onnx_auto_pad)enum_value(r, TCONV_ONNX_VALID));
        break;
    }
    case 6: s = tconv_crop_pytorch(d, null_arrays ? NULL : a, u8(r) & 1 ? b : NULL); break;
    case 7: /* NULL desc: refused */
        REQUIRE(tconv_crop_matlab_same(NULL) == TCONV_EINVAL);
        REQUIRE(tconv_crop_pytorch(NULL, a, b) == TCONV_EINVAL);
        return;
    }
    check_status(s);
    if (s != TCONV_OK) REQUIRE(same_desc(&before, d));
}

/* Whether tconv_plan_create accepts flags (the rules in tconv.h). */
static int flags_valid(unsigned flags)
{
    const unsigned known = TCONV_PLAN_REFERENCE | TCONV_TUNE_NONE | TCONV_TUNE_MEASURE |
                           TCONV_TUNE_EXHAUSTIVE | TCONV_TUNE_ALL_PASSES;
    const unsigned rigor = flags & (TCONV_TUNE_NONE | TCONV_TUNE_MEASURE | TCONV_TUNE_EXHAUSTIVE);
    if (flags & ~known) return 0;
    if (rigor & (rigor - 1)) return 0;
    if ((flags & TCONV_TUNE_ALL_PASSES) &&
        !(rigor == TCONV_TUNE_MEASURE || rigor == TCONV_TUNE_EXHAUSTIVE))
        return 0;
    return 1;
}

static unsigned read_flags(reader *r)
{
    const uint8_t m = u8(r);
    if (m == 255) return (unsigned)u64(r); /* raw bits */
    /* Mostly the untuned plan (measuring takes milliseconds a plan). */
    static const unsigned common[] = {0, 0, 0, 0, TCONV_PLAN_REFERENCE, TCONV_TUNE_NONE};
    if (m < 224) return common[m % 6];
    const unsigned rigor[] = {0, TCONV_TUNE_NONE, TCONV_TUNE_MEASURE, TCONV_TUNE_EXHAUSTIVE};
    return rigor[m % 4] | (m & 8 ? TCONV_PLAN_REFERENCE : 0) |
           (m & 16 ? TCONV_TUNE_FWD : 0) | (m & 32 ? TCONV_TUNE_BWD_DATA | TCONV_TUNE_BWD_WEIGHTS : 0);
}

/* ---- buffers with guards -------------------------------------------------- */

#define GUARD 64
#define GUARD_BYTE 0xA5

typedef struct buffer {
    unsigned char *base; /* GUARD bytes, size bytes of data, GUARD bytes */
    size_t size;
} buffer;

static void *data(const buffer *b) { return b->base + GUARD; }

static buffer buffer_new(size_t size)
{
    buffer b = {malloc(size + 2 * GUARD), size};
    REQUIRE(b.base != NULL);
    memset(b.base, GUARD_BYTE, size + 2 * GUARD);
    return b;
}

static void guards_intact(const buffer *b)
{
    for (size_t i = 0; i < GUARD; i++) {
        REQUIRE(b->base[i] == GUARD_BYTE);
        REQUIRE(b->base[GUARD + b->size + i] == GUARD_BYTE);
    }
}

/* Values in [-1, 1) from a splitmix64 state. */
static void fill_random(const buffer *b, tconv_dtype t, uint64_t *state)
{
    const size_t es = t == TCONV_F64 ? 8 : 4, n = b->size / es;
    for (size_t i = 0; i < n; i++) {
        uint64_t z = (*state += 0x9E3779B97F4A7C15u);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
        z ^= z >> 31;
        const double v = (double)(z >> 11) * 0x1p-52 - 1.0;
        if (t == TCONV_F64) {
            memcpy((char *)data(b) + i * 8, &v, 8);
        } else {
            const float f = (float)v;
            memcpy((char *)data(b) + i * 4, &f, 4);
        }
    }
}

/* ---- comparing against the reference ---------------------------------- */

static double elem(const buffer *b, tconv_dtype t, size_t i)
{
    if (t == TCONV_F64) {
        double v;
        memcpy(&v, (const char *)data(b) + i * 8, 8);
        return v;
    }
    float f;
    memcpy(&f, (const char *)data(b) + i * 4, 4);
    return f;
}

/* got and want agree within tol (relative to the larger of 1 and |want|);
 * a NaN must meet a NaN, an infinity the same infinity. */
static void same_values(const buffer *got, const buffer *want, tconv_dtype t, double tol)
{
    const size_t n = got->size / (t == TCONV_F64 ? 8 : 4);
    for (size_t i = 0; i < n; i++) {
        const double g = elem(got, t, i), w = elem(want, t, i);
        if (isnan(w) || isnan(g)) {
            REQUIRE(isnan(w) && isnan(g));
        } else if (isinf(w) || isinf(g)) {
            REQUIRE(g == w);
        } else {
            REQUIRE(fabs(g - w) <= tol * fmax(1.0, fabs(w)));
        }
    }
}

static void unchanged(const buffer *b, const void *copy)
{
    guards_intact(b);
    REQUIRE(memcmp(data(b), copy, b->size) == 0);
}

/* Largest tensor the passes run on, largest sum of products per output and
 * largest multiply-add count: enough to reach every code path (several
 * tiles, blocks, phases and chunks), small enough for hundreds of runs a
 * second under the sanitizers. */
#define MAX_TENSOR_BYTES (64 * 1024)
#define MAX_TERMS 4096
#define MAX_WORK (INT64_C(1) << 18)

static size_t tensor_bytes(const tconv_desc *d, tconv_tensor t)
{
    size_t bytes = 0;
    REQUIRE(tconv_desc_tensor_size(d, t, NULL, &bytes) == TCONV_OK);
    return bytes;
}

static void run_passes(reader *r, const tconv_desc *d, tconv_plan *plan)
{
    int64_t x_e, w_e, y_e, b_e;
    size_t x_b, w_b, y_b, b_b;
    REQUIRE(tconv_desc_tensor_size(d, TCONV_TENSOR_X, &x_e, &x_b) == TCONV_OK);
    REQUIRE(tconv_desc_tensor_size(d, TCONV_TENSOR_W, &w_e, &w_b) == TCONV_OK);
    REQUIRE(tconv_desc_tensor_size(d, TCONV_TENSOR_Y, &y_e, &y_b) == TCONV_OK);
    REQUIRE(tconv_desc_tensor_size(d, TCONV_TENSOR_BIAS, &b_e, &b_b) == TCONV_OK);
    const size_t es = d->dtype == TCONV_F64 ? 8 : 4;
    REQUIRE(x_b == (size_t)x_e * es && w_b == (size_t)w_e * es && y_b == (size_t)y_e * es &&
            b_b == (size_t)b_e * es && b_e == d->filters);
    if (x_b > MAX_TENSOR_BYTES || w_b > MAX_TENSOR_BYTES || y_b > MAX_TENSOR_BYTES) return;
    /* Sums per output of each pass: forward Cg * taps, backward-data Fg *
     * taps, backward-weights batch * in_h * in_w (+ the bias). */
    const int64_t taps = d->filter_h * d->filter_w;
    const int64_t cg = d->channels / d->groups, fg = d->filters / d->groups;
    const int64_t pixels = d->batch * d->in_h * d->in_w;
    const int64_t terms = (cg > fg ? cg : fg) * taps + pixels + 2;
    if (terms > MAX_TERMS || x_e * fg * taps > MAX_WORK) return;
    /* Inputs in [-1, 1): two orders of summing a sum of `terms` products
     * differ by ~eps * terms * (its typical size, ~sqrt(terms)); 2x that,
     * relative to max(1, |value|). An activation multiplies it by at most
     * max(1, |alpha|) (the leaky and ELU slopes; GELU's 1.13). */
    const double alpha = d->activation_alpha;
    const int uses_alpha = d->activation == TCONV_ACT_LEAKY_RELU ||
                           d->activation == TCONV_ACT_CLIPPED_RELU ||
                           d->activation == TCONV_ACT_ELU;
    if (uses_alpha && !(fabs(alpha) <= 1e3)) return; /* huge slopes: overflow edges differ */
    const double eps = d->dtype == TCONV_F64 ? 0x1p-52 : 0x1p-23;
    const double tol = (2.0 * eps * (double)terms * sqrt((double)terms) + 16.0 * eps) *
                       (uses_alpha ? fmax(1.2, fabs(alpha)) : 1.2);

    tconv_plan *ref = NULL;
    REQUIRE(tconv_plan_create(&ref, d, TCONV_PLAN_REFERENCE) == TCONV_OK);
    uint64_t seed = u64(r);
    buffer x = buffer_new(x_b), w = buffer_new(w_b), bias = buffer_new(b_b), dy = buffer_new(y_b);
    buffer y = buffer_new(y_b), y_ref = buffer_new(y_b), dx = buffer_new(x_b),
           dx_ref = buffer_new(x_b), dw = buffer_new(w_b), dw_ref = buffer_new(w_b),
           db = buffer_new(b_b), db_ref = buffer_new(b_b);
    fill_random(&x, d->dtype, &seed);
    fill_random(&w, d->dtype, &seed);
    fill_random(&bias, d->dtype, &seed);
    fill_random(&dy, d->dtype, &seed);
    void *cx = malloc(x_b + 1), *cw = malloc(w_b + 1), *cb = malloc(b_b + 1), *cdy = malloc(y_b + 1);
    REQUIRE(cx && cw && cb && cdy);
    memcpy(cx, data(&x), x_b);
    memcpy(cw, data(&w), w_b);
    memcpy(cb, data(&bias), b_b);
    memcpy(cdy, data(&dy), y_b);
#define INPUTS_UNCHANGED()         \
    do {                           \
        unchanged(&x, cx);         \
        unchanged(&w, cw);         \
        unchanged(&bias, cb);      \
        unchanged(&dy, cdy);       \
    } while (0)

    const int with_bias = u8(r) & 1;
    const void *bp = with_bias ? data(&bias) : NULL;
    REQUIRE(tconv_forward(plan, data(&x), data(&w), bp, data(&y)) == TCONV_OK);
    REQUIRE(tconv_forward(ref, data(&x), data(&w), bp, data(&y_ref)) == TCONV_OK);
    guards_intact(&y);
    guards_intact(&y_ref);
    INPUTS_UNCHANGED();
    same_values(&y, &y_ref, d->dtype, tol);

    /* Pre-packed weights (with the other bias choice) give the same as
     * weights passed per call. */
    const void *bp2 = with_bias ? NULL : data(&bias);
    REQUIRE(tconv_plan_set_weights(plan, data(&w), bp2) == TCONV_OK);
    INPUTS_UNCHANGED();
    memset(data(&y), 0x5A, y_b);
    REQUIRE(tconv_forward(plan, data(&x), NULL, NULL, data(&y)) == TCONV_OK);
    REQUIRE(tconv_forward(ref, data(&x), data(&w), bp2, data(&y_ref)) == TCONV_OK);
    guards_intact(&y);
    INPUTS_UNCHANGED();
    same_values(&y, &y_ref, d->dtype, tol);

    REQUIRE(tconv_backward_data(plan, data(&dy), data(&w), data(&dx)) == TCONV_OK);
    REQUIRE(tconv_backward_data(ref, data(&dy), data(&w), data(&dx_ref)) == TCONV_OK);
    guards_intact(&dx);
    guards_intact(&dx_ref);
    INPUTS_UNCHANGED();
    same_values(&dx, &dx_ref, d->dtype, tol);

    void *dbp = with_bias ? data(&db) : NULL, *dbp_ref = with_bias ? data(&db_ref) : NULL;
    REQUIRE(tconv_backward_weights(plan, data(&x), data(&dy), data(&dw), dbp) == TCONV_OK);
    REQUIRE(tconv_backward_weights(ref, data(&x), data(&dy), data(&dw_ref), dbp_ref) == TCONV_OK);
    guards_intact(&dw);
    guards_intact(&db);
    INPUTS_UNCHANGED();
    same_values(&dw, &dw_ref, d->dtype, tol);
    if (with_bias) same_values(&db, &db_ref, d->dtype, tol);

    /* Refused calls write nothing: an output that is an input, a bias
     * without weights. */
    REQUIRE(tconv_forward(plan, data(&x), data(&w), NULL, data(&x)) == TCONV_EINVAL);
    REQUIRE(tconv_backward_data(plan, data(&dy), data(&w), data(&dy)) == TCONV_EINVAL);
    REQUIRE(tconv_forward(plan, data(&x), NULL, data(&bias), data(&y)) == TCONV_EINVAL);
    REQUIRE(tconv_forward(plan, NULL, data(&w), NULL, data(&y)) == TCONV_EINVAL);
    INPUTS_UNCHANGED();
#undef INPUTS_UNCHANGED

    buffer all[] = {x, w, bias, dy, y, y_ref, dx, dx_ref, dw, dw_ref, db, db_ref};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i].base);
    free(cx); free(cw); free(cb); free(cdy);
    tconv_plan_destroy(ref);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    /* Measuring plans time their candidates for milliseconds, not seconds. */
    REQUIRE(tconv_set_tune_budget(0.001) == TCONV_OK);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    reader r = {bytes, size};
    /* The ISA cap (a CPU without it: EUNSUPPORTED and the cap stays) and 1
     * or 2 threads. */
    const uint8_t run = u8(&r);
    const tconv_isa isas[] = {TCONV_ISA_SCALAR, TCONV_ISA_AVX2, TCONV_ISA_AVX512, TCONV_ISA_NEON};
    tconv_set_max_isa(tconv_cpu_isa());
    check_status(tconv_set_max_isa(isas[run % 4]));
    REQUIRE(tconv_set_num_threads(1 + (run >> 2 & 1)) == TCONV_OK);

    tconv_desc d;
    read_desc(&r, &d);
    apply_crop_helper(&r, &d);

    const tconv_status st = tconv_desc_check(&d);
    check_status(st);
    int64_t oh = -7, ow = -7, crops[4];
    const tconv_status so = tconv_desc_output(&d, &oh, &ow);
    REQUIRE(so == st);
    if (st == TCONV_OK) {
        REQUIRE(oh >= 1 && ow >= 1);
        REQUIRE(tconv_desc_effective_crops(&d, crops) == TCONV_OK);
        for (int t = TCONV_TENSOR_X; t <= TCONV_TENSOR_Y; t++) (void)tensor_bytes(&d, (tconv_tensor)t);
    }
    REQUIRE(tconv_desc_tensor_size(&d, (tconv_tensor)7, NULL, NULL) != TCONV_OK);

    unsigned flags = read_flags(&r);
    /* Measuring runs candidates on the layer's own data: on a layer of
     * hundreds of MB (which tconv measures, up to 2 GiB) that takes seconds
     * natively, minutes under the sanitizers. Such layers plan untuned
     * here; tests/test_errors.c (limits) covers measuring past the bound. */
    const unsigned tuned = TCONV_TUNE_MEASURE | TCONV_TUNE_EXHAUSTIVE;
    if (st == TCONV_OK && flags_valid(flags) && (flags & tuned)) {
        double total = 0.0; /* in double: four sizes up to 2^62 bytes */
        for (int t = TCONV_TENSOR_X; t <= TCONV_TENSOR_Y; t++)
            total += (double)tensor_bytes(&d, (tconv_tensor)t);
        if (total > 1048576.0) flags = (flags & TCONV_PLAN_REFERENCE) | TCONV_TUNE_NONE;
    }
    tconv_plan *plan = (tconv_plan *)&r; /* must become NULL on failure */
    const tconv_status sp = tconv_plan_create(&plan, &d, flags);
    check_status(sp);
    if (!flags_valid(flags)) {
        REQUIRE(sp == TCONV_EINVAL);
    } else if (st != TCONV_OK) {
        REQUIRE(sp == st);
    } else {
        REQUIRE(sp == TCONV_OK || sp == TCONV_ENOMEM);
    }
    if (sp != TCONV_OK) {
        REQUIRE(plan == NULL);
        return 0;
    }
    tconv_desc back;
    REQUIRE(tconv_plan_desc(plan, &back) == TCONV_OK);
    REQUIRE(same_desc(&back, &d));
    REQUIRE(tconv_plan_info(plan)[0] != '\0');
    run_passes(&r, &d, plan);
    tconv_plan_destroy(plan);
    return 0;
}
