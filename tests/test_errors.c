/*
 * Every class of bad input: the documented status, and a tconv_last_error()
 * message that names the offending field (by its C name) and its value.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <tconv.h>

#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static int is_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Does msg contain tok as a whole token? (Not preceded or followed by an
 * identifier character; a number is also not preceded by '-' or a digit, so
 * "3" is not found in "-3" or "13".) */
static int msg_has(const char *msg, const char *tok)
{
    size_t n = strlen(tok);
    if (!msg || n == 0) return 0;
    for (const char *p = strstr(msg, tok); p; p = strstr(p + 1, tok)) {
        char before = p == msg ? ' ' : p[-1];
        char after = p[n];
        if (is_ident_char(before) && is_ident_char(tok[0])) continue;
        if (tok[0] >= '0' && tok[0] <= '9' && before == '-') continue;
        if (is_ident_char(after) && is_ident_char(tok[n - 1])) continue;
        return 1;
    }
    return 0;
}

static const char *last(void)
{
    const char *m = tconv_last_error();
    cr_assert_not_null(m, "tconv_last_error() returned NULL");
    return m;
}

/* The message names `field` and contains `value` as a decimal number. */
#define ASSERT_MSG_NAMES(field, value)                                                        \
    do {                                                                                      \
        const char *m_ = last();                                                              \
        char v_[32];                                                                          \
        snprintf(v_, sizeof v_, "%lld", (long long)(value));                                  \
        cr_assert(msg_has(m_, (field)), "message does not name %s: \"%s\"", (field), m_);     \
        cr_assert(msg_has(m_, v_), "message for %s lacks the value %s: \"%s\"", (field), v_, \
                  m_);                                                                        \
    } while (0)

#define ASSERT_MSG_HAS(tok)                                                                   \
    do {                                                                                      \
        const char *m_ = last();                                                              \
        cr_assert(msg_has(m_, (tok)), "message does not name %s: \"%s\"", (tok), m_);         \
    } while (0)

#define ASSERT_MSG_NONEMPTY()                                                                 \
    do {                                                                                      \
        const char *m_ = last();                                                              \
        cr_assert(m_[0] != '\0', "empty tconv_last_error() after a failure");                 \
    } while (0)

static const char *status_name(tconv_status s)
{
    switch (s) {
    case TCONV_OK: return "OK";
    case TCONV_EINVAL: return "EINVAL";
    case TCONV_EOVERFLOW: return "EOVERFLOW";
    case TCONV_ENOMEM: return "ENOMEM";
    case TCONV_EUNSUPPORTED: return "EUNSUPPORTED";
    case TCONV_EIO: return "EIO";
    }
    return "?";
}

/* A small valid desc: 1x2x3x3 input, 4 filters, 3x3 kernel, stride 2. */
static tconv_desc base_desc(void)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.batch = 1; d.channels = 2; d.in_h = 3; d.in_w = 3;
    d.filters = 4; d.filter_h = 3; d.filter_w = 3;
    d.stride_h = 2; d.stride_w = 2;
    return d;
}

static int dummy_plan_storage;
#define PLAN_SENTINEL ((tconv_plan *)(void *)&dummy_plan_storage)

/* Runs tconv_desc_check and tconv_plan_create on d; both must return
 * `expect`; the plan must be NULL afterwards, and the message after each call
 * must name `field` and `value` (field NULL: only a non-empty message). */
static void expect_bad_desc_impl(const tconv_desc *d, tconv_status expect, const char *field,
                                 long long value, int check_value, const char *what)
{
    tconv_status s = tconv_desc_check(d);
    cr_assert_eq(s, expect, "%s: tconv_desc_check returned %s, expected %s (message \"%s\")", what,
                 status_name(s), status_name(expect), tconv_last_error());
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            tconv_plan *p = PLAN_SENTINEL;
            s = tconv_plan_create(&p, d, 0);
            cr_assert_eq(s, expect, "%s: tconv_plan_create returned %s, expected %s (\"%s\")", what,
                         status_name(s), status_name(expect), tconv_last_error());
            cr_assert_null(p, "%s: tconv_plan_create did not set *plan to NULL on failure", what);
        }
        const char *m = last();
        cr_assert(m[0] != '\0', "%s: empty message", what);
        if (field)
            cr_assert(msg_has(m, field), "%s: message does not name %s: \"%s\"", what, field, m);
        if (check_value) {
            char v[32];
            snprintf(v, sizeof v, "%lld", value);
            cr_assert(msg_has(m, v), "%s: message lacks the value %s: \"%s\"", what, v, m);
        }
    }
}

#define EXPECT_BAD(d, st, field, value) \
    expect_bad_desc_impl(&(d), (st), (field), (long long)(value), 1, #field " = " #value)
#define EXPECT_BAD_NOVALUE(d, st, field, what) expect_bad_desc_impl(&(d), (st), (field), 0, 0, (what))

/* EOVERFLOW from both check and create; the message names at least one of
 * the space-separated fields in `fields` (the operands of the overflowing
 * product or sum). */
static void expect_overflow_impl(const tconv_desc *d, const char *fields, const char *what)
{
    expect_bad_desc_impl(d, TCONV_EOVERFLOW, NULL, 0, 0, what);
    const char *m = last();
    char buf[256];
    snprintf(buf, sizeof buf, "%s", fields);
    int found = 0;
    for (char *tok = strtok(buf, " "); tok && !found; tok = strtok(NULL, " "))
        found = msg_has(m, tok);
    cr_assert(found, "%s: message names none of {%s}: \"%s\"", what, fields, m);
}
#define expect_overflow(d, fields, what) expect_overflow_impl((d), (fields), (what))

/* ... and also contains `value`. */
static void expect_overflow_value(const tconv_desc *d, const char *fields, long long value,
                                  const char *what)
{
    expect_overflow_impl(d, fields, what);
    char v[32];
    snprintf(v, sizeof v, "%lld", value);
    cr_assert(msg_has(last(), v), "%s: message lacks the value %s: \"%s\"", what, v, last());
}

/* ------------------------------------------------------------------------ */
/* NULL pointers                                                             */
/* ------------------------------------------------------------------------ */

Test(null_pointers, desc_check_null)
{
    cr_assert_eq(tconv_desc_check(NULL), TCONV_EINVAL);
    const char *m = last();
    cr_assert(msg_has(m, "d") || strstr(m, "desc"), "message does not name the desc: \"%s\"", m);
}

Test(null_pointers, plan_create_null_desc)
{
    tconv_plan *p = PLAN_SENTINEL;
    cr_assert_eq(tconv_plan_create(&p, NULL, 0), TCONV_EINVAL);
    cr_assert_null(p);
    const char *m = last();
    cr_assert(msg_has(m, "d") || strstr(m, "desc"), "message does not name the desc: \"%s\"", m);
}

Test(null_pointers, plan_create_null_out_pointer)
{
    tconv_desc d = base_desc();
    cr_assert_eq(tconv_plan_create(NULL, &d, 0), TCONV_EINVAL);
    ASSERT_MSG_HAS("plan");
}

Test(null_pointers, desc_queries_null)
{
    tconv_desc d = base_desc();
    int64_t v[4];
    size_t b;
    cr_assert_eq(tconv_desc_output(NULL, &v[0], &v[1]), TCONV_EINVAL);
    ASSERT_MSG_NONEMPTY();
    cr_assert_eq(tconv_desc_effective_crops(NULL, v), TCONV_EINVAL);
    ASSERT_MSG_NONEMPTY();
    cr_assert_eq(tconv_desc_effective_crops(&d, NULL), TCONV_EINVAL);
    ASSERT_MSG_HAS("crops");
    cr_assert_eq(tconv_desc_tensor_size(NULL, TCONV_TENSOR_X, &v[0], &b), TCONV_EINVAL);
    ASSERT_MSG_NONEMPTY();
    cr_assert_eq(tconv_plan_desc(NULL, &d), TCONV_EINVAL);
    ASSERT_MSG_NONEMPTY();
}

Test(null_pointers, plan_desc_null_out)
{
    tconv_desc d = base_desc();
    tconv_plan *p = NULL;
    cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK);
    cr_assert_eq(tconv_plan_desc(p, NULL), TCONV_EINVAL);
    const char *m = last();
    cr_assert(msg_has(m, "d") || strstr(m, "desc"), "message does not name the desc: \"%s\"", m);
    tconv_plan_destroy(p);
}

Test(null_pointers, crop_helpers_null_desc)
{
    const int64_t two[2] = {1, 1}, four[4] = {1, 1, 1, 1};
    cr_assert_eq(tconv_crop_matlab(NULL, four, 4), TCONV_EINVAL);
    cr_assert_eq(tconv_crop_matlab_same(NULL), TCONV_EINVAL);
    cr_assert_eq(tconv_crop_onnx_pads(NULL, four, NULL), TCONV_EINVAL);
    cr_assert_eq(tconv_crop_onnx_auto_pad(NULL, TCONV_ONNX_SAME_UPPER, NULL), TCONV_EINVAL);
    cr_assert_eq(tconv_crop_onnx_output_shape(NULL, two, NULL, TCONV_ONNX_NOTSET), TCONV_EINVAL);
    cr_assert_eq(tconv_crop_pytorch(NULL, two, NULL), TCONV_EINVAL);
    ASSERT_MSG_NONEMPTY();
}

Test(null_pointers, crop_helpers_null_arrays)
{
    tconv_desc d = base_desc(), before;
    memcpy(&before, &d, sizeof d);
    cr_assert_eq(tconv_crop_matlab(&d, NULL, 1), TCONV_EINVAL);
    ASSERT_MSG_HAS("cropping");
    cr_assert_eq(tconv_crop_onnx_pads(&d, NULL, NULL), TCONV_EINVAL);
    ASSERT_MSG_HAS("pads");
    cr_assert_eq(tconv_crop_onnx_output_shape(&d, NULL, NULL, TCONV_ONNX_NOTSET), TCONV_EINVAL);
    ASSERT_MSG_HAS("output_shape");
    cr_assert_eq(tconv_crop_pytorch(&d, NULL, NULL), TCONV_EINVAL);
    ASSERT_MSG_HAS("padding");
    cr_assert(memcmp(&before, &d, sizeof d) == 0, "a failing crop helper changed the desc");
}

/* Buffers for base_desc, f32, all zero. */
typedef struct bufs {
    tconv_plan *p;
    void *x, *w, *b, *y;
} bufs;

static void *alloc_tensor(const tconv_desc *d, tconv_tensor t)
{
    size_t bytes = 0;
    cr_assert_eq(tconv_desc_tensor_size(d, t, NULL, &bytes), TCONV_OK);
    void *v = calloc(1, bytes ? bytes : 1);
    cr_assert_not_null(v);
    return v;
}

static bufs make_bufs(const tconv_desc *d)
{
    bufs B;
    cr_assert_eq(tconv_plan_create(&B.p, d, 0), TCONV_OK, "%s", tconv_last_error());
    B.x = alloc_tensor(d, TCONV_TENSOR_X);
    B.w = alloc_tensor(d, TCONV_TENSOR_W);
    B.b = alloc_tensor(d, TCONV_TENSOR_BIAS);
    B.y = alloc_tensor(d, TCONV_TENSOR_Y);
    return B;
}

static void free_bufs(bufs *B)
{
    tconv_plan_destroy(B->p);
    free(B->x); free(B->w); free(B->b); free(B->y);
}

Test(null_pointers, forward)
{
    tconv_desc d = base_desc();
    bufs B = make_bufs(&d);
    cr_assert_eq(tconv_forward(NULL, B.x, B.w, B.b, B.y), TCONV_EINVAL);
    ASSERT_MSG_HAS("plan");
    cr_assert_eq(tconv_forward(B.p, NULL, B.w, B.b, B.y), TCONV_EINVAL);
    ASSERT_MSG_HAS("x");
    cr_assert_eq(tconv_forward(B.p, B.x, NULL, B.b, B.y), TCONV_EINVAL);
    ASSERT_MSG_HAS("w");
    cr_assert_eq(tconv_forward(B.p, B.x, B.w, B.b, NULL), TCONV_EINVAL);
    ASSERT_MSG_HAS("y");
    /* bias may be NULL */
    cr_assert_eq(tconv_forward(B.p, B.x, B.w, NULL, B.y), TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(tconv_forward(B.p, B.x, B.w, B.b, B.y), TCONV_OK, "%s", tconv_last_error());
    free_bufs(&B);
}

Test(null_pointers, backward_data)
{
    tconv_desc d = base_desc();
    bufs B = make_bufs(&d);
    /* dy has y's shape and dx has x's shape */
    cr_assert_eq(tconv_backward_data(NULL, B.y, B.w, B.x), TCONV_EINVAL);
    ASSERT_MSG_HAS("plan");
    cr_assert_eq(tconv_backward_data(B.p, NULL, B.w, B.x), TCONV_EINVAL);
    ASSERT_MSG_HAS("dy");
    cr_assert_eq(tconv_backward_data(B.p, B.y, NULL, B.x), TCONV_EINVAL);
    ASSERT_MSG_HAS("w");
    cr_assert_eq(tconv_backward_data(B.p, B.y, B.w, NULL), TCONV_EINVAL);
    ASSERT_MSG_HAS("dx");
    cr_assert_eq(tconv_backward_data(B.p, B.y, B.w, B.x), TCONV_OK, "%s", tconv_last_error());
    free_bufs(&B);
}

Test(null_pointers, backward_weights)
{
    tconv_desc d = base_desc();
    bufs B = make_bufs(&d);
    /* w buffer used as dw, b buffer as dbias */
    cr_assert_eq(tconv_backward_weights(NULL, B.x, B.y, B.w, B.b), TCONV_EINVAL);
    ASSERT_MSG_HAS("plan");
    cr_assert_eq(tconv_backward_weights(B.p, NULL, B.y, B.w, B.b), TCONV_EINVAL);
    ASSERT_MSG_HAS("x");
    cr_assert_eq(tconv_backward_weights(B.p, B.x, NULL, B.w, B.b), TCONV_EINVAL);
    ASSERT_MSG_HAS("dy");
    cr_assert_eq(tconv_backward_weights(B.p, B.x, B.y, NULL, B.b), TCONV_EINVAL);
    ASSERT_MSG_HAS("dw");
    /* dbias may be NULL */
    cr_assert_eq(tconv_backward_weights(B.p, B.x, B.y, B.w, NULL), TCONV_OK, "%s",
                 tconv_last_error());
    cr_assert_eq(tconv_backward_weights(B.p, B.x, B.y, B.w, B.b), TCONV_OK, "%s",
                 tconv_last_error());
    free_bufs(&B);
}

/* ------------------------------------------------------------------------ */
/* Sizes, strides, dilations, groups                                         */
/* ------------------------------------------------------------------------ */

#define SIZE_FIELD_TEST(fname)                                   \
    Test(sizes, fname##_below_one)                               \
    {                                                            \
        const int64_t bad[] = {0, -1, -7, INT64_MIN};            \
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) { \
            tconv_desc d = base_desc();                          \
            d.fname = bad[i];                                    \
            EXPECT_BAD(d, TCONV_EINVAL, #fname, bad[i]);         \
        }                                                        \
    }

SIZE_FIELD_TEST(batch)
SIZE_FIELD_TEST(channels)
SIZE_FIELD_TEST(in_h)
SIZE_FIELD_TEST(in_w)
SIZE_FIELD_TEST(filters)
SIZE_FIELD_TEST(filter_h)
SIZE_FIELD_TEST(filter_w)
SIZE_FIELD_TEST(stride_h)
SIZE_FIELD_TEST(stride_w)
SIZE_FIELD_TEST(dilation_h)
SIZE_FIELD_TEST(dilation_w)
SIZE_FIELD_TEST(groups)

Test(sizes, untouched_desc_from_init_is_invalid)
{
    /* tconv_desc_init leaves the sizes at 0: the caller must set them. */
    tconv_desc d;
    tconv_desc_init(&d);
    cr_assert_eq(tconv_desc_check(&d), TCONV_EINVAL);
    ASSERT_MSG_NONEMPTY();
}

/* groups must be named with its value, and the field it fails to divide. */
static void expect_bad_groups(const tconv_desc *d, const char *other)
{
    expect_bad_desc_impl(d, TCONV_EINVAL, "groups", (long long)d->groups, 1, "groups");
    cr_assert(msg_has(last(), other), "message does not name %s: \"%s\"", other, last());
}

Test(groups, not_dividing_channels)
{
    tconv_desc d = base_desc();
    d.channels = 3; d.filters = 4; d.groups = 2;
    expect_bad_groups(&d, "channels");
    d.channels = 6; d.filters = 4; d.groups = 4; /* divides filters only */
    expect_bad_groups(&d, "channels");
}

Test(groups, not_dividing_filters)
{
    tconv_desc d = base_desc();
    d.channels = 4; d.filters = 6; d.groups = 4;
    expect_bad_groups(&d, "filters");
    d.channels = 4; d.filters = 5; d.groups = 2;
    expect_bad_groups(&d, "filters");
}

Test(groups, larger_than_channels)
{
    tconv_desc d = base_desc();
    d.channels = 2; d.filters = 4; d.groups = 4;
    expect_bad_groups(&d, "channels");
}

Test(groups, valid_grouping_accepted)
{
    tconv_desc d = base_desc();
    d.channels = 6; d.filters = 9; d.groups = 3;
    cr_assert_eq(tconv_desc_check(&d), TCONV_OK, "%s", tconv_last_error());
}

/* ------------------------------------------------------------------------ */
/* Crops leaving no output                                                   */
/* ------------------------------------------------------------------------ */

static int names_any(const char *m, const char *a, const char *b)
{
    return msg_has(m, a) || msg_has(m, b);
}

static void expect_crop_failure(const tconv_desc *d, const char *a, const char *b)
{
    tconv_status s = tconv_desc_check(d);
    cr_assert_eq(s, TCONV_EINVAL, "check returned %s", status_name(s));
    cr_assert(names_any(last(), a, b), "message names neither %s nor %s: \"%s\"", a, b, last());
    tconv_plan *p = PLAN_SENTINEL;
    s = tconv_plan_create(&p, d, 0);
    cr_assert_eq(s, TCONV_EINVAL, "create returned %s", status_name(s));
    cr_assert_null(p);
    cr_assert(names_any(last(), a, b), "message names neither %s nor %s: \"%s\"", a, b, last());
}

Test(crops, height_zero)
{
    /* in_h 3, k 3, stride 1: full = (3-1)*1 + 3 = 5; 5 - 3 - 2 = 0 rows */
    tconv_desc d = base_desc();
    d.in_h = 3; d.filter_h = 3; d.stride_h = 1;
    d.crop_top = 3; d.crop_bottom = 2;
    expect_crop_failure(&d, "crop_top", "crop_bottom");
    /* 4 + 2 = 6 > 5: negative height */
    d.crop_top = 4;
    expect_crop_failure(&d, "crop_top", "crop_bottom");
    /* one row less crop: 1 row left, valid */
    d.crop_top = 2;
    cr_assert_eq(tconv_desc_check(&d), TCONV_OK, "%s", tconv_last_error());
    int64_t oh = 0;
    cr_assert_eq(tconv_desc_output(&d, &oh, NULL), TCONV_OK);
    cr_assert_eq(oh, 1);
}

Test(crops, width_zero)
{
    /* in_w 3, k 3, stride 1: full = 5; 1 + 4 = 5 -> 0 columns */
    tconv_desc d = base_desc();
    d.in_w = 3; d.filter_w = 3; d.stride_w = 1;
    d.crop_left = 1; d.crop_right = 4;
    expect_crop_failure(&d, "crop_left", "crop_right");
    d.crop_right = 100;
    expect_crop_failure(&d, "crop_left", "crop_right");
    d.crop_right = 3;
    cr_assert_eq(tconv_desc_check(&d), TCONV_OK, "%s", tconv_last_error());
}

Test(crops, height_zero_through_negative_other_edge)
{
    /* full 5 (in 3, k 3, s 1); crop_top 7, crop_bottom -2: 5 - 7 + 2 = 0 */
    tconv_desc d = base_desc();
    d.in_h = 3; d.filter_h = 3; d.stride_h = 1;
    d.crop_top = 7; d.crop_bottom = -2;
    expect_crop_failure(&d, "crop_top", "crop_bottom");
}

/* ------------------------------------------------------------------------ */
/* Enums and flags                                                           */
/* ------------------------------------------------------------------------ */

Test(enums, dtype)
{
    tconv_desc d = base_desc();
    d.dtype = (tconv_dtype)7;
    EXPECT_BAD(d, TCONV_EINVAL, "dtype", 7);
}

Test(enums, layout)
{
    tconv_desc d = base_desc();
    d.layout = (tconv_layout)9;
    EXPECT_BAD(d, TCONV_EINVAL, "layout", 9);
}

Test(enums, weight_layout)
{
    tconv_desc d = base_desc();
    d.weight_layout = (tconv_weight_layout)5;
    EXPECT_BAD(d, TCONV_EINVAL, "weight_layout", 5);
}

Test(enums, crop_mode)
{
    tconv_desc d = base_desc();
    d.crop_mode = (tconv_crop_mode)3;
    EXPECT_BAD(d, TCONV_EINVAL, "crop_mode", 3);
}

Test(enums, tensor_kind)
{
    tconv_desc d = base_desc();
    int64_t e = -1;
    cr_assert_eq(tconv_desc_tensor_size(&d, (tconv_tensor)9, &e, NULL), TCONV_EINVAL);
    ASSERT_MSG_NONEMPTY();
}

Test(enums, queries_on_invalid_desc)
{
    tconv_desc d = base_desc();
    d.stride_h = 0;
    int64_t v[4];
    size_t b;
    cr_assert_eq(tconv_desc_output(&d, &v[0], &v[1]), TCONV_EINVAL);
    ASSERT_MSG_NAMES("stride_h", 0);
    cr_assert_eq(tconv_desc_effective_crops(&d, v), TCONV_EINVAL);
    ASSERT_MSG_NAMES("stride_h", 0);
    cr_assert_eq(tconv_desc_tensor_size(&d, TCONV_TENSOR_Y, &v[0], &b), TCONV_EINVAL);
    ASSERT_MSG_NAMES("stride_h", 0);
}

Test(flags, unknown_bits)
{
    tconv_desc d = base_desc();
    const unsigned bad[] = {1u << 31, 1u << 7, TCONV_PLAN_REFERENCE | (1u << 8)};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tconv_plan *p = PLAN_SENTINEL;
        cr_assert_eq(tconv_plan_create(&p, &d, bad[i]), TCONV_EINVAL, "flags %#x accepted", bad[i]);
        cr_assert_null(p);
        ASSERT_MSG_HAS("flags");
    }
    tconv_plan *p = NULL;
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_PLAN_REFERENCE), TCONV_OK, "%s",
                 tconv_last_error());
    cr_assert_not_null(p);
    tconv_plan_destroy(p);
}

/* ------------------------------------------------------------------------ */
/* Overflow                                                                  */
/* ------------------------------------------------------------------------ */

Test(overflow, input_elements)
{
    /* x has 2^20^4 = 2^80 elements */
    tconv_desc d = base_desc();
    d.batch = d.channels = d.in_h = d.in_w = INT64_C(1) << 20;
    d.filters = 1; d.filter_h = d.filter_w = 1; d.stride_h = d.stride_w = 1;
    expect_overflow_value(&d, "batch channels in_h in_w", INT64_C(1) << 20, "x with 2^80 elements");
    int64_t e = 0;
    cr_assert_eq(tconv_desc_tensor_size(&d, TCONV_TENSOR_X, &e, NULL), TCONV_EOVERFLOW);
}

Test(overflow, weight_elements)
{
    /* w: channels * filters/groups * kh * kw = 2^20 * 2^20 * 2^12 * 2^12 = 2^64,
     * while every output size fits: full = (1-1)*1 + 2^12 */
    tconv_desc d = base_desc();
    d.batch = 1; d.in_h = d.in_w = 1;
    d.channels = d.filters = INT64_C(1) << 20;
    d.filter_h = d.filter_w = INT64_C(1) << 12;
    d.stride_h = d.stride_w = 1;
    expect_overflow_value(&d, "filter_h filter_w", 4096, "w with 2^64 elements");
}

Test(overflow, huge_filter_effective_size)
{
    /* k_eff = (INT64_MAX - 1) * 2 + 1 overflows */
    tconv_desc d = base_desc();
    d.channels = d.filters = 1; d.in_h = d.in_w = 1;
    d.filter_h = INT64_MAX; d.filter_w = 1;
    d.dilation_h = 2;
    expect_overflow_value(&d, "filter_h", INT64_MAX, "filter_h INT64_MAX, dilation_h 2");
    /* filter and dilation both huge */
    d.filter_h = INT64_C(1) << 40; d.dilation_h = INT64_C(1) << 40;
    expect_overflow_value(&d, "filter_h dilation_h", INT64_C(1) << 40, "filter_h 2^40, dilation_h 2^40");
    /* filter_h INT64_MAX, dilation 1: k_eff fits, full = 0*s + INT64_MAX fits,
     * but y has INT64_MAX rows times 4 filters */
    d.filter_h = INT64_MAX; d.dilation_h = 1; d.filters = 4;
    expect_overflow(&d, "filter_h out_h y w", "filter_h INT64_MAX: y or w elements");
}

Test(overflow, huge_stride)
{
    /* full = (4 - 1) * (INT64_MAX/2) + 3 overflows */
    tconv_desc d = base_desc();
    d.in_h = 4;
    d.stride_h = INT64_MAX / 2;
    expect_overflow_value(&d, "stride_h", INT64_MAX / 2, "stride_h INT64_MAX/2, in_h 4");
    d = base_desc();
    d.in_w = 4;
    d.stride_w = INT64_MAX / 2;
    expect_overflow_value(&d, "stride_w", INT64_MAX / 2, "stride_w INT64_MAX/2, in_w 4");
    /* full = (INT64_MAX - 1) * 2 + ... */
    d = base_desc();
    d.in_h = INT64_MAX; d.channels = 1; d.filters = 1;
    expect_overflow_value(&d, "in_h", INT64_MAX, "in_h INT64_MAX, stride 2");
}

Test(overflow, extreme_crops)
{
    const int64_t extremes[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1};
    const char *names[] = {"crop_top", "crop_bottom", "crop_left", "crop_right"};
    for (int f = 0; f < 4; f++) {
        for (size_t i = 0; i < 4; i++) {
            tconv_desc d = base_desc();
            int64_t *c = f == 0 ? &d.crop_top : f == 1 ? &d.crop_bottom : f == 2 ? &d.crop_left
                                                                                : &d.crop_right;
            *c = extremes[i];
            tconv_status s = tconv_desc_check(&d);
            cr_assert(s == TCONV_EOVERFLOW || s == TCONV_EINVAL, "%s = %lld: status %s", names[f],
                      (long long)extremes[i], status_name(s));
            ASSERT_MSG_NAMES(names[f], extremes[i]);
            tconv_plan *p = PLAN_SENTINEL;
            tconv_status s2 = tconv_plan_create(&p, &d, 0);
            cr_assert_eq(s2, s, "%s = %lld: create %s, check %s", names[f],
                         (long long)extremes[i], status_name(s2), status_name(s));
            cr_assert_null(p);
            int64_t oh, ow;
            cr_assert_eq(tconv_desc_output(&d, &oh, &ow), s);
        }
    }
    /* both edges at INT64_MIN: -2^64 extra rows */
    tconv_desc d = base_desc();
    d.crop_top = INT64_MIN; d.crop_bottom = INT64_MIN;
    tconv_status s = tconv_desc_check(&d);
    cr_assert(s == TCONV_EOVERFLOW || s == TCONV_EINVAL, "status %s", status_name(s));
    /* a large negative crop whose output height fits int64 but y does not */
    d = base_desc();
    d.crop_bottom = -(INT64_C(1) << 40); d.crop_right = -(INT64_C(1) << 40);
    expect_overflow(&d, "crop_bottom crop_right out_h out_w y", "crop_bottom = crop_right = -2^40: y elements 4 * 2^80");
}

Test(overflow, byte_count_f64)
{
    /* x and y have 2^60 = INT64_MAX/8 + 1 elements: the element count fits
     * int64_t, the f64 byte count 2^63 does not; the f32 byte count 2^62 does. */
    tconv_desc d = base_desc();
    d.batch = 1; d.channels = 1; d.filters = 1;
    d.in_h = d.in_w = INT64_C(1) << 30;
    d.filter_h = d.filter_w = 1; d.stride_h = d.stride_w = 1;
    cr_assert_eq((INT64_C(1) << 60), INT64_MAX / 8 + 1);

    d.dtype = TCONV_F32;
    cr_assert_eq(tconv_desc_check(&d), TCONV_OK, "f32 with 2^60 elements: %s", tconv_last_error());
    int64_t e = 0;
    size_t b = 0;
    cr_assert_eq(tconv_desc_tensor_size(&d, TCONV_TENSOR_X, &e, &b), TCONV_OK);
    cr_assert_eq(e, INT64_C(1) << 60);
    cr_assert_eq(b, (size_t)1 << 62);

    d.dtype = TCONV_F64;
    expect_overflow(&d, "in_h in_w x y", "f64 with 2^60 elements");
    cr_assert_eq(tconv_desc_tensor_size(&d, TCONV_TENSOR_X, &e, &b), TCONV_EOVERFLOW);
}

Test(overflow, byte_count_size_max)
{
    /* 2^62 elements: the element count fits int64_t; the byte count is 2^64
     * (f32) or 2^65 (f64) and fits neither int64_t nor a 64-bit size_t. */
    tconv_desc d = base_desc();
    d.batch = 1; d.channels = 1; d.filters = 1;
    d.in_h = INT64_C(1) << 31; d.in_w = INT64_C(1) << 31;
    d.filter_h = d.filter_w = 1; d.stride_h = d.stride_w = 1;
    for (int t = 0; t < 2; t++) {
        d.dtype = (tconv_dtype)t;
        expect_overflow(&d, "in_h in_w x y", t ? "f64 2^62 elements" : "f32 2^62 elements");
        int64_t e = 0;
        size_t b = 0;
        cr_assert_eq(tconv_desc_tensor_size(&d, TCONV_TENSOR_X, &e, &b), TCONV_EOVERFLOW);
    }
}

/* ------------------------------------------------------------------------ */
/* Overlapping buffers                                                       */
/* ------------------------------------------------------------------------ */

/* 1x1x2x2 input, 1 filter, 1x1 kernel, stride 1: x, y, w, bias, dx, dy sizes
 * 4, 4, 1, 1 elements. */
static tconv_desc same_size_desc(void)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.batch = 1; d.channels = 1; d.in_h = 2; d.in_w = 2;
    d.filters = 1; d.filter_h = 1; d.filter_w = 1;
    return d;
}

Test(overlap, forward_y_is_x)
{
    tconv_desc d = same_size_desc();
    tconv_plan *p = NULL;
    cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK);
    float *buf = calloc(64, sizeof(float));
    float *w = buf + 32, *b = buf + 40;
    cr_assert_eq(tconv_forward(p, buf, w, b, buf), TCONV_EINVAL, "y == x accepted");
    cr_assert(strstr(last(), "overlap"), "message lacks \"overlap\": \"%s\"", last());
    /* partial overlap: y starts at x[2] */
    cr_assert_eq(tconv_forward(p, buf, w, b, buf + 2), TCONV_EINVAL, "y overlapping x accepted");
    cr_assert(strstr(last(), "overlap"), "\"%s\"", last());
    /* y overlapping w, y overlapping bias */
    cr_assert_eq(tconv_forward(p, buf, w, b, w - 3), TCONV_EINVAL, "y overlapping w accepted");
    cr_assert(strstr(last(), "overlap"), "\"%s\"", last());
    cr_assert_eq(tconv_forward(p, buf, w, b, b), TCONV_EINVAL, "y overlapping bias accepted");
    cr_assert(strstr(last(), "overlap"), "\"%s\"", last());
    /* adjacent, not overlapping: fine */
    cr_assert_eq(tconv_forward(p, buf, w, b, buf + 4), TCONV_OK, "%s", tconv_last_error());
    /* x and w may overlap each other: both are inputs */
    cr_assert_eq(tconv_forward(p, buf, buf, NULL, buf + 16), TCONV_OK, "%s", tconv_last_error());
    free(buf);
    tconv_plan_destroy(p);
}

Test(overlap, backward_data_dx_is_dy)
{
    tconv_desc d = same_size_desc();
    d.dtype = TCONV_F64;
    tconv_plan *p = NULL;
    cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK);
    double *buf = calloc(64, sizeof(double));
    double *w = buf + 32;
    cr_assert_eq(tconv_backward_data(p, buf, w, buf), TCONV_EINVAL, "dx == dy accepted");
    cr_assert(strstr(last(), "overlap"), "\"%s\"", last());
    cr_assert_eq(tconv_backward_data(p, buf, w, w), TCONV_EINVAL, "dx == w accepted");
    cr_assert(strstr(last(), "overlap"), "\"%s\"", last());
    cr_assert_eq(tconv_backward_data(p, buf, w, buf + 8), TCONV_OK, "%s", tconv_last_error());
    free(buf);
    tconv_plan_destroy(p);
}

Test(overlap, backward_weights)
{
    tconv_desc d = same_size_desc();
    tconv_plan *p = NULL;
    cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK);
    float *buf = calloc(64, sizeof(float));
    float *x = buf, *dy = buf + 8, *dw = buf + 16, *db = buf + 24;
    cr_assert_eq(tconv_backward_weights(p, x, dy, x + 3, db), TCONV_EINVAL, "dw inside x");
    cr_assert(strstr(last(), "overlap"), "\"%s\"", last());
    cr_assert_eq(tconv_backward_weights(p, x, dy, dw, dy + 1), TCONV_EINVAL, "dbias inside dy");
    cr_assert(strstr(last(), "overlap"), "\"%s\"", last());
    cr_assert_eq(tconv_backward_weights(p, x, dy, dw, db), TCONV_OK, "%s", tconv_last_error());
    free(buf);
    tconv_plan_destroy(p);
}

/* ------------------------------------------------------------------------ */
/* Crop helpers                                                              */
/* ------------------------------------------------------------------------ */

#define ASSERT_UNCHANGED(before, d) \
    cr_assert(memcmp(&(before), &(d), sizeof(d)) == 0, "a failing crop helper changed the desc")

static tconv_desc crop_base(tconv_desc *before)
{
    tconv_desc d;
    memset(&d, 0, sizeof d); /* defined padding bytes for memcmp */
    tconv_desc_init(&d);
    d.batch = 1; d.channels = 2; d.in_h = 5; d.in_w = 5;
    d.filters = 2; d.filter_h = 3; d.filter_w = 3;
    d.stride_h = 2; d.stride_w = 2;
    d.crop_top = 7; d.crop_bottom = 8; d.crop_left = 9; d.crop_right = 10;
    memcpy(before, &d, sizeof d);
    return d;
}

Test(crop_helpers, matlab_bad_n)
{
    tconv_desc before, d = crop_base(&before);
    const int64_t c[4] = {1, 1, 1, 1};
    const int bad[] = {3, 0, -1, 5};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(tconv_crop_matlab(&d, c, bad[i]), TCONV_EINVAL, "n = %d accepted", bad[i]);
        ASSERT_MSG_NAMES("n", bad[i]);
        ASSERT_UNCHANGED(before, d);
    }
}

/* The case: a layer whose output has 9 rows (in 5, k3, s2: 11
 * uncropped) cropped by 100 on every edge fails at the call, as
 * tconv_crop_pytorch does, naming the cropping entries and the height. */
Test(crop_helpers, matlab_crops_leaving_no_output)
{
    tconv_desc before, d = crop_base(&before);
    const int64_t c1[1] = {100};
    cr_assert_eq(tconv_crop_matlab(&d, c1, 1), TCONV_EINVAL);
    ASSERT_MSG_NAMES("cropping", 100);
    ASSERT_MSG_NAMES("height", 11);
    ASSERT_UNCHANGED(before, d);
    /* [a b]: a leaves rows, b leaves no column */
    const int64_t c2[2] = {1, 6};
    cr_assert_eq(tconv_crop_matlab(&d, c2, 2), TCONV_EINVAL);
    ASSERT_MSG_NAMES("cropping", 6);
    ASSERT_MSG_HAS("column");
    ASSERT_UNCHANGED(before, d);
    /* [t b l r]: 5 + 6 = 11 rows of 11 */
    const int64_t c4[4] = {5, 6, 0, 0};
    cr_assert_eq(tconv_crop_matlab(&d, c4, 4), TCONV_EINVAL);
    ASSERT_MSG_NAMES("crop_bottom", 6);
    ASSERT_UNCHANGED(before, d);
    /* one row and one column left: accepted, and the desc agrees */
    const int64_t ok[4] = {5, 5, 4, 6};
    cr_assert_eq(tconv_crop_matlab(&d, ok, 4), TCONV_OK, "%s", tconv_last_error());
    int64_t oh = 0, ow = 0;
    cr_assert_eq(tconv_desc_output(&d, &oh, &ow), TCONV_OK, "%s", tconv_last_error());
    cr_assert(oh == 1 && ow == 1, "output %lld x %lld", (long long)oh, (long long)ow);
    /* sizes not set yet: nothing to check against; tconv_desc_check says it later */
    tconv_desc_init(&d);
    cr_assert_eq(tconv_crop_matlab(&d, c1, 1), TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(d.crop_top, 100);
    d.channels = d.filters = 2; d.in_h = d.in_w = 5; d.filter_h = d.filter_w = 3;
    d.stride_h = d.stride_w = 2;
    cr_assert_eq(tconv_desc_check(&d), TCONV_EINVAL);
    ASSERT_MSG_NAMES("crop_top", 200);
}

Test(crop_helpers, matlab_negative)
{
    tconv_desc before, d = crop_base(&before);
    const int64_t c1[1] = {-1};
    cr_assert_eq(tconv_crop_matlab(&d, c1, 1), TCONV_EINVAL);
    ASSERT_MSG_NAMES("cropping", -1);
    ASSERT_UNCHANGED(before, d);
    const int64_t c2[2] = {1, -2};
    cr_assert_eq(tconv_crop_matlab(&d, c2, 2), TCONV_EINVAL);
    ASSERT_MSG_NAMES("cropping", -2);
    ASSERT_UNCHANGED(before, d);
    const int64_t c4[4] = {0, 1, 2, -3};
    cr_assert_eq(tconv_crop_matlab(&d, c4, 4), TCONV_EINVAL);
    ASSERT_MSG_NAMES("cropping", -3);
    ASSERT_UNCHANGED(before, d);
    cr_assert_eq(tconv_crop_matlab(&d, NULL, 4), TCONV_EINVAL);
    ASSERT_MSG_HAS("cropping");
    ASSERT_UNCHANGED(before, d);
}

Test(crop_helpers, onnx_pads_negative)
{
    tconv_desc before, d = crop_base(&before);
    const int64_t pads[4] = {0, 1, -4, 1};
    cr_assert_eq(tconv_crop_onnx_pads(&d, pads, NULL), TCONV_EINVAL);
    ASSERT_MSG_NAMES("pads", -4);
    ASSERT_UNCHANGED(before, d);
    const int64_t ok_pads[4] = {1, 1, 1, 1}, op[2] = {0, -5};
    cr_assert_eq(tconv_crop_onnx_pads(&d, ok_pads, op), TCONV_EINVAL);
    ASSERT_MSG_NAMES("output_padding", -5);
    ASSERT_UNCHANGED(before, d);
}

Test(crop_helpers, onnx_auto_pad_bad_mode)
{
    tconv_desc before, d = crop_base(&before);
    cr_assert_eq(tconv_crop_onnx_auto_pad(&d, TCONV_ONNX_NOTSET, NULL), TCONV_EINVAL);
    ASSERT_MSG_NONEMPTY();
    ASSERT_UNCHANGED(before, d);
    cr_assert_eq(tconv_crop_onnx_auto_pad(&d, (tconv_onnx_auto_pad)9, NULL), TCONV_EINVAL);
    ASSERT_MSG_NONEMPTY();
    ASSERT_UNCHANGED(before, d);
    cr_assert_eq(tconv_crop_onnx_output_shape(&d, (const int64_t[2]){10, 10}, NULL,
                                              (tconv_onnx_auto_pad)9),
                 TCONV_EINVAL);
    ASSERT_MSG_NONEMPTY();
    ASSERT_UNCHANGED(before, d);
}

Test(crop_helpers, pytorch_output_padding_too_large)
{
    tconv_desc before, d = crop_base(&before);
    /* stride 2, dilation 1: output_padding 2 is >= both */
    const int64_t pad[2] = {1, 1}, op[2] = {2, 0};
    cr_assert_eq(tconv_crop_pytorch(&d, pad, op), TCONV_EINVAL);
    ASSERT_MSG_NAMES("output_padding", 2);
    ASSERT_UNCHANGED(before, d);
    /* width: stride 2 dilation 1, output_padding 3 */
    const int64_t op2[2] = {0, 3};
    cr_assert_eq(tconv_crop_pytorch(&d, pad, op2), TCONV_EINVAL);
    ASSERT_MSG_NAMES("output_padding", 3);
    ASSERT_UNCHANGED(before, d);
    /* stride 1, dilation 1: output_padding 1 is >= both */
    d.stride_h = 1; before.stride_h = 1;
    const int64_t op3[2] = {1, 0};
    cr_assert_eq(tconv_crop_pytorch(&d, pad, op3), TCONV_EINVAL);
    ASSERT_MSG_NAMES("output_padding", 1);
    ASSERT_UNCHANGED(before, d);
}

/* ------------------------------------------------------------------------ */
/* tconv_last_error semantics                                                */
/* ------------------------------------------------------------------------ */

Test(last_error, success_leaves_message)
{
    tconv_desc bad = base_desc();
    bad.stride_w = -3;
    cr_assert_eq(tconv_desc_check(&bad), TCONV_EINVAL);
    char saved[512];
    snprintf(saved, sizeof saved, "%s", last());
    cr_assert(msg_has(saved, "stride_w") && msg_has(saved, "-3"), "\"%s\"", saved);

    tconv_desc d = base_desc();
    cr_assert_eq(tconv_desc_check(&d), TCONV_OK);
    cr_assert_str_eq(last(), saved);
    bufs B = make_bufs(&d);
    cr_assert_str_eq(last(), saved);
    cr_assert_eq(tconv_forward(B.p, B.x, B.w, B.b, B.y), TCONV_OK);
    cr_assert_eq(tconv_backward_data(B.p, B.y, B.w, B.x), TCONV_OK);
    cr_assert_eq(tconv_backward_weights(B.p, B.x, B.y, B.w, B.b), TCONV_OK);
    int64_t v[4];
    cr_assert_eq(tconv_desc_output(&d, &v[0], &v[1]), TCONV_OK);
    cr_assert_eq(tconv_desc_effective_crops(&d, v), TCONV_OK);
    cr_assert_eq(tconv_crop_matlab_same(&d), TCONV_OK);
    (void)tconv_strerror(TCONV_EINVAL);
    (void)tconv_plan_info(B.p);
    cr_assert_str_eq(last(), saved);
    free_bufs(&B);
    cr_assert_str_eq(last(), saved);

    /* a new failure replaces it */
    bad = base_desc();
    bad.filters = 0;
    cr_assert_eq(tconv_desc_check(&bad), TCONV_EINVAL);
    cr_assert(msg_has(last(), "filters"), "\"%s\"", last());
    cr_assert_str_neq(last(), saved);
}

typedef struct thread_result {
    char initial[256];
    char after[256];
    tconv_status status;
} thread_result;

static void *thread_body(void *arg)
{
    thread_result *r = arg;
    snprintf(r->initial, sizeof r->initial, "%s", tconv_last_error());
    tconv_desc d = base_desc();
    d.groups = 0;
    r->status = tconv_desc_check(&d);
    snprintf(r->after, sizeof r->after, "%s", tconv_last_error());
    return NULL;
}

Test(last_error, per_thread)
{
    tconv_desc d = base_desc();
    d.in_h = -9;
    cr_assert_eq(tconv_desc_check(&d), TCONV_EINVAL);
    char saved[512];
    snprintf(saved, sizeof saved, "%s", last());
    cr_assert(msg_has(saved, "in_h") && msg_has(saved, "-9"), "\"%s\"", saved);

    thread_result r;
    memset(&r, 0, sizeof r);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, thread_body, &r), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);

    cr_assert_str_eq(r.initial, "", "a new thread starts with \"%s\", not \"\"", r.initial);
    cr_assert_eq(r.status, TCONV_EINVAL);
    cr_assert(msg_has(r.after, "groups") && msg_has(r.after, "0"), "thread message \"%s\"",
              r.after);
    cr_assert_str_eq(last(), saved, "the main thread's message changed to \"%s\"", last());
}

/* ------------------------------------------------------------------------ */
/* tconv_strerror                                                            */
/* ------------------------------------------------------------------------ */

Test(strerror, distinct_texts)
{
    const tconv_status all[] = {TCONV_OK, TCONV_EINVAL, TCONV_EOVERFLOW,
                                TCONV_ENOMEM, TCONV_EUNSUPPORTED, TCONV_EIO};
    const int n = (int)(sizeof all / sizeof all[0]);
    for (int i = 0; i < n; i++) {
        const char *a = tconv_strerror(all[i]);
        cr_assert_not_null(a, "status %d", (int)all[i]);
        cr_assert(a[0] != '\0', "status %d: empty text", (int)all[i]);
        for (int j = 0; j < i; j++)
            cr_assert_str_neq(a, tconv_strerror(all[j]), "statuses %d and %d share \"%s\"",
                              (int)all[i], (int)all[j], a);
    }
    cr_assert_not_null(tconv_strerror((tconv_status)99));
    cr_assert_not_null(tconv_strerror((tconv_status)-1));
}

/* ------------------------------------------------------------------------ */
/* Random descs: never crash, and the status agrees with an independent check */
/* ------------------------------------------------------------------------ */

/* Validity judged here, from the spec (no overflow is possible for fields in
 * [-5, 5]). */
static int independently_valid(const tconv_desc *d)
{
    if (d->batch < 1 || d->channels < 1 || d->in_h < 1 || d->in_w < 1) return 0;
    if (d->filters < 1 || d->filter_h < 1 || d->filter_w < 1) return 0;
    if (d->stride_h < 1 || d->stride_w < 1 || d->dilation_h < 1 || d->dilation_w < 1) return 0;
    if (d->groups < 1 || d->channels % d->groups || d->filters % d->groups) return 0;
    if ((int)d->dtype < 0 || (int)d->dtype > 1) return 0;
    if ((int)d->layout < 0 || (int)d->layout > 2) return 0;
    if ((int)d->weight_layout < 0 || (int)d->weight_layout > 2) return 0;
    if ((int)d->crop_mode < 0 || (int)d->crop_mode > 1) return 0;
    tu_shape s = tu_shape_of(d);
    return s.oh >= 1 && s.ow >= 1;
}

Test(fuzz, random_descs_never_crash)
{
    tu_rng rng = {0x5eed1234u};
    int n_ok = 0, n_bad = 0;
    for (int it = 0; it < 4000; it++) {
        tconv_desc d;
        tconv_desc_init(&d);
        int64_t *fields[] = {&d.batch, &d.channels, &d.in_h, &d.in_w, &d.filters,
                             &d.filter_h, &d.filter_w, &d.stride_h, &d.stride_w,
                             &d.dilation_h, &d.dilation_w, &d.groups, &d.crop_top,
                             &d.crop_bottom, &d.crop_left, &d.crop_right};
        /* Mostly valid sizes so that enough descs reach the passes. */
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            int is_crop = i >= 12;
            if (!is_crop && tu_range(&rng, 0, 3) != 0)
                *fields[i] = tu_range(&rng, 1, i < 2 ? 3 : 5);
            else
                *fields[i] = tu_range(&rng, -5, 5);
        }
        if (tu_range(&rng, 0, 1)) d.groups = 1;
        d.dtype = (tconv_dtype)(tu_range(&rng, 0, 3) ? tu_range(&rng, 0, 1) : tu_range(&rng, -1, 4));
        d.layout = (tconv_layout)(tu_range(&rng, 0, 3) ? tu_range(&rng, 0, 2) : tu_range(&rng, -1, 4));
        d.weight_layout = (tconv_weight_layout)(tu_range(&rng, 0, 3) ? tu_range(&rng, 0, 2)
                                                                      : tu_range(&rng, -1, 4));
        d.crop_mode = (tconv_crop_mode)(tu_range(&rng, 0, 3) ? tu_range(&rng, 0, 1)
                                                              : tu_range(&rng, -1, 4));
        unsigned flags = tu_range(&rng, 0, 1) ? TCONV_PLAN_REFERENCE : 0;

        int valid = independently_valid(&d);
        tconv_status sc = tconv_desc_check(&d);
        cr_assert(sc == TCONV_OK || sc == TCONV_EINVAL || sc == TCONV_EOVERFLOW,
                  "iteration %d: status %d", it, (int)sc);
        cr_assert_eq(sc, valid ? TCONV_OK : TCONV_EINVAL,
                     "iteration %d: check %s, expected %s (\"%s\")", it, status_name(sc),
                     valid ? "OK" : "EINVAL", tconv_last_error());
        tconv_plan *p = PLAN_SENTINEL;
        tconv_status sp = tconv_plan_create(&p, &d, flags);
        cr_assert_eq(sp, sc, "iteration %d: create %s, check %s", it, status_name(sp),
                     status_name(sc));
        if (sp != TCONV_OK) {
            cr_assert_null(p);
            cr_assert(tconv_last_error()[0] != '\0', "iteration %d: empty message", it);
            n_bad++;
            tconv_plan_destroy(p);
            continue;
        }
        cr_assert_not_null(p);
        n_ok++;

        tu_shape s = tu_shape_of(&d);
        int64_t oh = 0, ow = 0;
        cr_assert_eq(tconv_desc_output(&d, &oh, &ow), TCONV_OK);
        cr_assert_eq(oh, s.oh, "iteration %d", it);
        cr_assert_eq(ow, s.ow, "iteration %d", it);
        void *x = alloc_tensor(&d, TCONV_TENSOR_X);
        void *w = alloc_tensor(&d, TCONV_TENSOR_W);
        void *b = alloc_tensor(&d, TCONV_TENSOR_BIAS);
        void *y = alloc_tensor(&d, TCONV_TENSOR_Y);
        tconv_status sf = tconv_forward(p, x, w, tu_range(&rng, 0, 1) ? b : NULL, y);
        cr_assert_eq(sf, TCONV_OK, "iteration %d: forward %s (\"%s\")", it, status_name(sf),
                     tconv_last_error());
        sf = tconv_backward_data(p, y, w, x);
        cr_assert_eq(sf, TCONV_OK, "iteration %d: backward_data %s", it, status_name(sf));
        sf = tconv_backward_weights(p, x, y, w, tu_range(&rng, 0, 1) ? b : NULL);
        cr_assert_eq(sf, TCONV_OK, "iteration %d: backward_weights %s", it, status_name(sf));
        free(x); free(w); free(b); free(y);
        tconv_plan_destroy(p);
    }
    /* the generator must exercise both sides */
    cr_assert_gt(n_ok, 200, "only %d valid descs", n_ok);
    cr_assert_gt(n_bad, 200, "only %d invalid descs", n_bad);
}

Test(fuzz, uniform_fields_in_small_range)
{
    /* The plain version: every field uniform in [-5, 5], enums in [-1, 4]. */
    tu_rng rng = {42};
    for (int it = 0; it < 3000; it++) {
        tconv_desc d;
        tconv_desc_init(&d);
        int64_t *fields[] = {&d.batch, &d.channels, &d.in_h, &d.in_w, &d.filters,
                             &d.filter_h, &d.filter_w, &d.stride_h, &d.stride_w,
                             &d.dilation_h, &d.dilation_w, &d.groups, &d.crop_top,
                             &d.crop_bottom, &d.crop_left, &d.crop_right};
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            *fields[i] = tu_range(&rng, -5, 5);
        d.dtype = (tconv_dtype)tu_range(&rng, -1, 4);
        d.layout = (tconv_layout)tu_range(&rng, -1, 4);
        d.weight_layout = (tconv_weight_layout)tu_range(&rng, -1, 4);
        d.crop_mode = (tconv_crop_mode)tu_range(&rng, -1, 4);
        int valid = independently_valid(&d);
        tconv_status sc = tconv_desc_check(&d);
        cr_assert_eq(sc, valid ? TCONV_OK : TCONV_EINVAL, "iteration %d: %s (\"%s\")", it,
                     status_name(sc), tconv_last_error());
        tconv_plan *p = PLAN_SENTINEL;
        tconv_status sp = tconv_plan_create(&p, &d, 0);
        cr_assert_eq(sp, sc);
        if (sp == TCONV_OK) {
            void *x = alloc_tensor(&d, TCONV_TENSOR_X);
            void *w = alloc_tensor(&d, TCONV_TENSOR_W);
            void *y = alloc_tensor(&d, TCONV_TENSOR_Y);
            cr_assert_eq(tconv_forward(p, x, w, NULL, y), TCONV_OK);
            free(x); free(w); free(y);
        } else {
            cr_assert_null(p);
        }
        tconv_plan_destroy(p);
    }
}

/* ------------------------------------------------------------------------ */
/* Size limits and bounded planning (issue 19)                               */
/* ------------------------------------------------------------------------ */

/* Sizes a model file may hold that are huge without overflowing: before
 * the limits, tconv_plan_create on them ran for seconds to minutes and
 * allocated gigabytes (filters 2^28: 5.7 s and 2.3 GB). Now each fails at
 * once, and a desc at the limits plans as fast as a small one. */

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Peak resident memory of this process so far, in KiB (Linux). */
static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* Each test runs in its own process: the first plan there pays for the
 * one-time setup (topology, thread pool, the FMA rate), which is not what
 * these tests time. */
static void warm_up(void)
{
    tconv_desc d = base_desc();
    tconv_plan *p = NULL;
    cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK, "%s", tconv_last_error());
    tconv_plan_destroy(p);
}

/* The bound the tests assert: the plans take well under 10 ms here (their
 * times are printed); 200 ms leaves room for a loaded CI machine. */
#define PLAN_TIME_BOUND_S 0.2
/* Peak memory a plan may add: a few MB (the driver's tables are bounded). */
#define PLAN_MEMORY_BOUND_KIB (16 * 1024)

typedef struct absurd_case {
    const char *field;
    int64_t value;
} absurd_case;

static void set_field(tconv_desc *d, const char *field, int64_t v)
{
    if (strcmp(field, "batch") == 0) d->batch = v;
    else if (strcmp(field, "channels") == 0) d->channels = v;
    else if (strcmp(field, "filters") == 0) d->filters = v;
    else if (strcmp(field, "groups") == 0) {
        /* as many channels and filters as groups, within their own limit */
        d->groups = v;
        d->channels = d->filters = v < TCONV_MAX_CHANNELS ? v : TCONV_MAX_CHANNELS;
    }
    else if (strcmp(field, "in_h") == 0) d->in_h = v;
    else if (strcmp(field, "in_w") == 0) d->in_w = v;
    else if (strcmp(field, "filter_h") == 0) d->filter_h = v;
    else if (strcmp(field, "filter_w") == 0) d->filter_w = v;
    else if (strcmp(field, "stride_h") == 0) d->stride_h = v;
    else if (strcmp(field, "stride_w") == 0) d->stride_w = v;
    else if (strcmp(field, "dilation_h") == 0) d->dilation_h = v;
    else if (strcmp(field, "dilation_w") == 0) d->dilation_w = v;
    else cr_assert_fail("unknown field %s", field);
}

/* The cases and their neighbours: one field absurd, the rest a
 * small valid layer (8 -> 8 channels, 4x4 input, 3x3 kernel, stride 2). */
static tconv_desc absurd_desc(const char *field, int64_t v)
{
    tconv_desc d = base_desc();
    d.channels = 8; d.filters = 8; d.in_h = d.in_w = 4;
    set_field(&d, field, v);
    return d;
}

Test(limits, absurd_sizes_fail_fast_naming_the_field)
{
    warm_up();
    const absurd_case cases[] = {
        {"filters", INT64_C(1) << 40}, {"filters", INT64_C(1) << 28},
        {"batch", INT64_C(1) << 40},   {"in_w", INT64_C(1) << 40},
        {"dilation_w", INT64_C(1) << 40}, {"stride_w", INT64_C(1) << 24},
        {"channels", INT64_C(1) << 30}, {"groups", INT64_C(1) << 30},
        {"in_h", INT64_C(1) << 40},    {"filter_h", INT64_C(1) << 20},
        {"filter_w", INT64_C(1) << 40}, {"stride_h", INT64_C(1) << 24},
        {"dilation_h", INT64_C(1) << 20}, {"batch", INT64_MAX},
    };
    const long rss0 = peak_rss_kib();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tconv_desc d = absurd_desc(cases[i].field, cases[i].value);
        const unsigned flags[] = {0, TCONV_TUNE_MEASURE | TCONV_TUNE_ALL_PASSES};
        for (size_t f = 0; f < 2; f++) {
            tconv_plan *p = PLAN_SENTINEL;
            const double t0 = seconds_now();
            const tconv_status s = tconv_plan_create(&p, &d, flags[f]);
            const double dt = seconds_now() - t0;
            printf("limits: %s = %lld, flags 0x%x: %s in %.3f ms: %s\n", cases[i].field,
                   (long long)cases[i].value, flags[f], status_name(s), dt * 1e3,
                   tconv_last_error());
            cr_assert_eq(s, TCONV_EOVERFLOW, "%s = %lld: %s", cases[i].field,
                         (long long)cases[i].value, status_name(s));
            cr_assert_null(p);
            ASSERT_MSG_NAMES(cases[i].field, cases[i].value);
            cr_assert(dt < PLAN_TIME_BOUND_S, "%s = %lld: %.1f ms", cases[i].field,
                      (long long)cases[i].value, dt * 1e3);
        }
    }
    cr_assert(peak_rss_kib() - rss0 < PLAN_MEMORY_BOUND_KIB, "peak memory grew by %ld KiB",
              peak_rss_kib() - rss0);
}

/* At each limit a desc is valid, one past it is not, and the message gives
 * the limit. */
Test(limits, each_limit_is_inclusive)
{
    const absurd_case limits[] = {
        {"batch", TCONV_MAX_EXTENT},     {"in_h", TCONV_MAX_EXTENT},
        {"in_w", TCONV_MAX_EXTENT},      {"channels", TCONV_MAX_CHANNELS},
        {"filters", TCONV_MAX_CHANNELS}, {"groups", TCONV_MAX_CHANNELS},
        {"filter_h", TCONV_MAX_WINDOW},  {"filter_w", TCONV_MAX_WINDOW},
        {"stride_h", TCONV_MAX_WINDOW},  {"stride_w", TCONV_MAX_WINDOW},
        {"dilation_h", TCONV_MAX_WINDOW}, {"dilation_w", TCONV_MAX_WINDOW},
    };
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        tconv_desc d = absurd_desc(limits[i].field, limits[i].value);
        cr_assert_eq(tconv_desc_check(&d), TCONV_OK, "%s = its limit %lld: %s", limits[i].field,
                     (long long)limits[i].value, tconv_last_error());
        d = absurd_desc(limits[i].field, limits[i].value + 1);
        EXPECT_BAD(d, TCONV_EOVERFLOW, limits[i].field, limits[i].value + 1);
        ASSERT_MSG_NAMES("limit", limits[i].value);
    }
    /* A tensor of exactly 2^62 bytes is accepted, one element more is not
     * (tests overflow/byte_count_* cover the int64_t and size_t edges). */
    tconv_desc d = base_desc();
    d.channels = d.filters = 1; d.filter_h = d.filter_w = 1; d.stride_h = d.stride_w = 1;
    d.in_h = d.in_w = INT64_C(1) << 30;
    cr_assert_eq(tconv_desc_check(&d), TCONV_OK, "x of 2^62 bytes: %s", tconv_last_error());
    d.batch = 2;
    expect_overflow(&d, "batch in_h in_w x y", "x of 2^63 bytes");
    cr_assert(strstr(last(), "2^62") != NULL, "message does not give the limit: \"%s\"", last());
}

/* Valid descs at the limits: planning costs what it costs for a small
 * layer (no loop over filters, pixels, images or phases at plan time), in
 * time and in memory, and the plan is usable and destroyable. */
Test(limits, planning_at_the_limits_is_bounded)
{
    warm_up();
    const absurd_case cases[] = {
        {"filters", TCONV_MAX_CHANNELS},  {"channels", TCONV_MAX_CHANNELS},
        {"groups", TCONV_MAX_CHANNELS},   {"batch", TCONV_MAX_EXTENT},
        {"in_h", TCONV_MAX_EXTENT},       {"in_w", TCONV_MAX_EXTENT},
        {"filter_h", TCONV_MAX_WINDOW},   {"filter_w", TCONV_MAX_WINDOW},
        {"stride_h", TCONV_MAX_WINDOW},   {"stride_w", TCONV_MAX_WINDOW},
        {"dilation_h", TCONV_MAX_WINDOW}, {"dilation_w", TCONV_MAX_WINDOW},
        {"filters", 4096},                {"stride_w", 64},
    };
    /* The first six with measuring asked for too: their data is too large
     * to measure on (tune/measure.h), so they plan as quickly. (The others
     * are small enough to measure, which takes the tuning budget, seconds.)
     * The cache (read once per process) is a file that cannot exist:
     * nothing is kept. */
    cr_assert_eq(setenv("TCONV_CACHE", "/nonexistent-tconv-test-dir/cache", 1), 0);
    const size_t measured = 6;
    const long rss0 = peak_rss_kib();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tconv_desc d = absurd_desc(cases[i].field, cases[i].value);
        tconv_plan *p = NULL;
        const unsigned flags = i < measured ? TCONV_TUNE_MEASURE | TCONV_TUNE_ALL_PASSES : 0;
        const double t0 = seconds_now();
        const tconv_status s = tconv_plan_create(&p, &d, flags);
        const double dt = seconds_now() - t0;
        printf("limits: %s = %lld plans (flags 0x%x) in %.3f ms: %s\n", cases[i].field,
               (long long)cases[i].value, flags, dt * 1e3,
               s == TCONV_OK ? tconv_plan_info(p) : tconv_last_error());
        cr_assert_eq(s, TCONV_OK, "%s = %lld: %s", cases[i].field, (long long)cases[i].value,
                     tconv_last_error());
        cr_assert(dt < PLAN_TIME_BOUND_S, "%s = %lld: %.1f ms", cases[i].field,
                  (long long)cases[i].value, dt * 1e3);
        tconv_plan_destroy(p);
    }
    cr_assert(peak_rss_kib() - rss0 < PLAN_MEMORY_BOUND_KIB, "peak memory grew by %ld KiB",
              peak_rss_kib() - rss0);
}

/* ------------------------------------------------------------------------ */
/* Environment controls naming something unknown (issue 19)                  */
/* ------------------------------------------------------------------------ */

/* Occurrences of needle in haystack. */
static int count_of(const char *haystack, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* What this test process wrote to its redirected stderr so far. */
static void read_stderr(char *buf, size_t size)
{
    fflush(stderr);
    FILE *f = cr_get_redirected_stderr();
    cr_assert_not_null(f);
    const size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
}

/* Three plans (forward and both backward drivers chosen, so every
 * variable is read three times). */
static void plan_three_times(void)
{
    tconv_desc d = base_desc();
    d.channels = d.filters = 8;
    for (int i = 0; i < 3; i++) {
        tconv_plan *p = NULL;
        cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK, "%s", tconv_last_error());
        tconv_plan_destroy(p);
    }
}

Test(environment, unknown_values_warn_once_listing_what_is_accepted, .init = cr_redirect_stderr)
{
    const char *vars[][2] = {
        {"TCONV_FWD_KERNEL", "nonsense"},        {"TCONV_FWD_MODE", "bogus"},
        {"TCONV_BWD_DATA_KERNEL", "no_such_tile"}, {"TCONV_BWD_WEIGHTS_KERNEL", "f99_tile"},
        {"TCONV_STREAM_STORES", "yes"},          {"TCONV_YMM_RATE", "2"},
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        cr_assert_eq(setenv(vars[i][0], vars[i][1], 1), 0);
    plan_three_times();
    static char out[16384];
    read_stderr(out, sizeof out);
    const char *kernel = tconv_kernel_name(tconv_get_isa(), 0);
    cr_assert_not_null(kernel);
    /* TCONV_YMM_RATE is read (and warned about, dispatch/fma_rate.c) only
     * where it matters: choosing between AVX-512 and AVX2 tiles. */
    const size_t nvars = sizeof vars / sizeof vars[0] - (tconv_get_isa() != TCONV_ISA_AVX512);
    for (size_t i = 0; i < nvars; i++) {
        char line[128];
        snprintf(line, sizeof line, "tconv: warning: %s=%s is not ", vars[i][0], vars[i][1]);
        cr_assert_eq(count_of(out, line), 1, "%s: %d warnings in:\n%s", vars[i][0],
                     count_of(out, line), out);
        /* the rest of the line lists what is accepted */
        const char *rest = strstr(out, line) + strlen(line);
        const char *end = strchr(rest, '\n');
        cr_assert_not_null(end);
        const char *want = strcmp(vars[i][0], "TCONV_FWD_MODE") == 0        ? "gather, scatter or phases"
                           : strcmp(vars[i][0], "TCONV_STREAM_STORES") == 0 ? "on or off"
                           : strcmp(vars[i][0], "TCONV_YMM_RATE") == 0      ? "0.5 or 1"
                                                                            : kernel;
        const char *at = strstr(rest, want);
        cr_assert(at && at < end, "%s: the warning does not list %s: %.*s", vars[i][0], want,
                  (int)(end - rest), rest);
    }
    /* A new bad value of the same variable is said too, once. */
    cr_assert_eq(setenv("TCONV_FWD_MODE", "scater", 1), 0);
    plan_three_times();
    read_stderr(out, sizeof out);
    cr_assert_eq(count_of(out, "TCONV_FWD_MODE=scater is not gather, scatter or phases"), 1, "%s", out);
}

Test(environment, accepted_values_say_nothing, .init = cr_redirect_stderr)
{
    const char *kernel = tconv_kernel_name(tconv_get_isa(), 0);
    cr_assert_not_null(kernel);
    cr_assert_eq(setenv("TCONV_FWD_KERNEL", kernel, 1), 0);
    cr_assert_eq(setenv("TCONV_FWD_MODE", "gather", 1), 0);
    cr_assert_eq(setenv("TCONV_BWD_DATA_KERNEL", kernel, 1), 0);
    cr_assert_eq(setenv("TCONV_BWD_WEIGHTS_KERNEL", kernel, 1), 0);
    cr_assert_eq(setenv("TCONV_STREAM_STORES", "off", 1), 0);
    cr_assert_eq(setenv("TCONV_YMM_RATE", "1", 1), 0);
    plan_three_times();
    static char out[16384];
    read_stderr(out, sizeof out);
    cr_assert_eq(count_of(out, "warning"), 0, "unexpected warnings:\n%s", out);
}
