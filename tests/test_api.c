/*
 * The non-numeric API: desc defaults, version, output sizes, effective crops,
 * tensor sizes, the framework crop helpers, plan queries. Every expected value
 * is computed by hand from the formulas in include/tconv.h and written as a
 * literal with the arithmetic in a comment.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */

#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tconv.h>

#include "testutil.h"

static tconv_desc mk(int64_t in_h, int64_t in_w, int64_t kh, int64_t kw, int64_t sh, int64_t sw)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.batch = 1; d.channels = 2; d.filters = 3;
    d.in_h = in_h; d.in_w = in_w;
    d.filter_h = kh; d.filter_w = kw;
    d.stride_h = sh; d.stride_w = sw;
    return d;
}

static void assert_crops(const tconv_desc *d, int64_t t, int64_t b, int64_t l, int64_t r)
{
    cr_assert_eq(d->crop_top, t, "crop_top %lld, expected %lld", (long long)d->crop_top,
                 (long long)t);
    cr_assert_eq(d->crop_bottom, b, "crop_bottom %lld, expected %lld", (long long)d->crop_bottom,
                 (long long)b);
    cr_assert_eq(d->crop_left, l, "crop_left %lld, expected %lld", (long long)d->crop_left,
                 (long long)l);
    cr_assert_eq(d->crop_right, r, "crop_right %lld, expected %lld", (long long)d->crop_right,
                 (long long)r);
}

static void assert_eff_crops(const tconv_desc *d, int64_t t, int64_t b, int64_t l, int64_t r)
{
    int64_t c[4] = {-99, -99, -99, -99};
    cr_assert_eq(tconv_desc_effective_crops(d, c), TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(c[0], t, "top %lld, expected %lld", (long long)c[0], (long long)t);
    cr_assert_eq(c[1], b, "bottom %lld, expected %lld", (long long)c[1], (long long)b);
    cr_assert_eq(c[2], l, "left %lld, expected %lld", (long long)c[2], (long long)l);
    cr_assert_eq(c[3], r, "right %lld, expected %lld", (long long)c[3], (long long)r);
}

static void assert_output(const tconv_desc *d, int64_t oh, int64_t ow)
{
    int64_t h = -1, w = -1;
    cr_assert_eq(tconv_desc_output(d, &h, &w), TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(h, oh, "out_h %lld, expected %lld", (long long)h, (long long)oh);
    cr_assert_eq(w, ow, "out_w %lld, expected %lld", (long long)w, (long long)ow);
}

static int desc_eq(const tconv_desc *a, const tconv_desc *b)
{
    return a->batch == b->batch && a->channels == b->channels && a->in_h == b->in_h &&
           a->in_w == b->in_w && a->filters == b->filters && a->filter_h == b->filter_h &&
           a->filter_w == b->filter_w && a->stride_h == b->stride_h &&
           a->stride_w == b->stride_w && a->dilation_h == b->dilation_h &&
           a->dilation_w == b->dilation_w && a->groups == b->groups &&
           a->crop_mode == b->crop_mode && a->crop_top == b->crop_top &&
           a->crop_bottom == b->crop_bottom && a->crop_left == b->crop_left &&
           a->crop_right == b->crop_right && a->dtype == b->dtype && a->layout == b->layout &&
           a->weight_layout == b->weight_layout;
}

/* ------------------------------------------------------------------------ */
/* Defaults and version                                                      */
/* ------------------------------------------------------------------------ */

Test(desc_init, defaults)
{
    tconv_desc d;
    memset(&d, 0xAB, sizeof d); /* garbage everywhere */
    tconv_desc_init(&d);
    /* zero sizes: the caller must set them */
    cr_assert_eq(d.channels, 0);
    cr_assert_eq(d.in_h, 0);
    cr_assert_eq(d.in_w, 0);
    cr_assert_eq(d.filters, 0);
    cr_assert_eq(d.filter_h, 0);
    cr_assert_eq(d.filter_w, 0);
    /* batch, stride, dilation, groups 1 */
    cr_assert_eq(d.batch, 1);
    cr_assert_eq(d.stride_h, 1);
    cr_assert_eq(d.stride_w, 1);
    cr_assert_eq(d.dilation_h, 1);
    cr_assert_eq(d.dilation_w, 1);
    cr_assert_eq(d.groups, 1);
    /* zero crops, MANUAL */
    cr_assert_eq(d.crop_mode, TCONV_CROP_MANUAL);
    cr_assert_eq(d.crop_top, 0);
    cr_assert_eq(d.crop_bottom, 0);
    cr_assert_eq(d.crop_left, 0);
    cr_assert_eq(d.crop_right, 0);
    /* F32, NCHW, W_IOHW */
    cr_assert_eq(d.dtype, TCONV_F32);
    cr_assert_eq(d.layout, TCONV_NCHW);
    cr_assert_eq(d.weight_layout, TCONV_W_IOHW);
}

Test(desc_init, null_is_noop)
{
    tconv_desc_init(NULL);
    /* still usable afterwards, and no error was recorded */
    cr_assert_str_eq(tconv_last_error(), "");
    tconv_desc d;
    tconv_desc_init(&d);
    cr_assert_eq(d.batch, 1);
}

Test(desc_init, defaults_plus_sizes_are_valid)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.channels = 1; d.in_h = 1; d.in_w = 1; d.filters = 1; d.filter_h = 1; d.filter_w = 1;
    cr_assert_eq(tconv_desc_check(&d), TCONV_OK, "%s", tconv_last_error());
    /* 1x1 in, 1x1 kernel, stride 1: full = 0*1 + 1 = 1 */
    assert_output(&d, 1, 1);
}

Test(version, matches_macros)
{
    char expect[64];
    snprintf(expect, sizeof expect, "%d.%d.%d", TCONV_VERSION_MAJOR, TCONV_VERSION_MINOR,
             TCONV_VERSION_PATCH);
    cr_assert_not_null(tconv_version());
    cr_assert_str_eq(tconv_version(), expect);
    cr_assert_str_eq(expect, "0.1.0");
}

Test(strings, last_error_empty_before_failure)
{
    cr_assert_not_null(tconv_last_error());
    cr_assert_str_eq(tconv_last_error(), "");
}

/* ------------------------------------------------------------------------ */
/* Output sizes                                                              */
/* ------------------------------------------------------------------------ */

Test(desc_output, dcgan)
{
    /* 4x4 in, k4 s2, crop 1 each edge: full = (4-1)*2 + 4 = 10; 10 - 1 - 1 = 8 */
    tconv_desc d = mk(4, 4, 4, 4, 2, 2);
    d.crop_top = d.crop_bottom = d.crop_left = d.crop_right = 1;
    assert_output(&d, 8, 8);
}

Test(desc_output, uncropped)
{
    /* in 3x5, k 2x3, s 1x2: full_h = 2*1 + 2 = 4, full_w = 4*2 + 3 = 11 */
    tconv_desc d = mk(3, 5, 2, 3, 1, 2);
    assert_output(&d, 4, 11);
}

Test(desc_output, matlab_same)
{
    /* SAME: out = in * stride. s2 k3 in 5: 10 */
    tconv_desc d = mk(5, 5, 3, 3, 2, 2);
    d.crop_mode = TCONV_CROP_SAME;
    assert_output(&d, 10, 10);
    /* s3 k2 in 4 x 7: 12 x 21 (kernel smaller than the stride) */
    d = mk(4, 7, 2, 2, 3, 3);
    d.crop_mode = TCONV_CROP_SAME;
    assert_output(&d, 12, 21);
    /* s2 k4 in 3, s3 k4 in 2: 6 x 6 */
    d = mk(3, 2, 4, 4, 2, 3);
    d.crop_mode = TCONV_CROP_SAME;
    assert_output(&d, 6, 6);
}

Test(desc_output, same_ignores_crop_fields)
{
    /* The crop fields are ignored with SAME, even values that would leave no
     * output in MANUAL mode: s2 k3 in 3 -> 6 */
    tconv_desc d = mk(3, 3, 3, 3, 2, 2);
    d.crop_mode = TCONV_CROP_SAME;
    d.crop_top = 99; d.crop_bottom = -5; d.crop_left = 1000; d.crop_right = 7;
    cr_assert_eq(tconv_desc_check(&d), TCONV_OK, "%s", tconv_last_error());
    assert_output(&d, 6, 6);
    assert_eff_crops(&d, 0, 1, 0, 1);
}

Test(desc_output, dilation)
{
    /* in 3, k3, d2, s1: k_eff = 2*2 + 1 = 5, full = 2*1 + 5 = 7.
     * W: in 4, k 2, d 3, s 2: k_eff = 1*3 + 1 = 4, full = 3*2 + 4 = 10 */
    tconv_desc d = mk(3, 4, 3, 2, 1, 2);
    d.dilation_h = 2; d.dilation_w = 3;
    assert_output(&d, 7, 10);
}

Test(desc_output, negative_crops)
{
    /* in 3, k3, s2: full = 2*2 + 3 = 7. top -1, bottom -2: 7 + 1 + 2 = 10.
     * left 2, right -1: 7 - 2 + 1 = 6 */
    tconv_desc d = mk(3, 3, 3, 3, 2, 2);
    d.crop_top = -1; d.crop_bottom = -2; d.crop_left = 2; d.crop_right = -1;
    assert_output(&d, 10, 6);
}

Test(desc_output, null_pointers_allowed)
{
    /* DCGAN again: 8x8 */
    tconv_desc d = mk(4, 4, 4, 4, 2, 2);
    d.crop_top = d.crop_bottom = d.crop_left = d.crop_right = 1;
    int64_t h = -1, w = -1;
    cr_assert_eq(tconv_desc_output(&d, &h, NULL), TCONV_OK);
    cr_assert_eq(h, 8);
    cr_assert_eq(tconv_desc_output(&d, NULL, &w), TCONV_OK);
    cr_assert_eq(w, 8);
    cr_assert_eq(tconv_desc_output(&d, NULL, NULL), TCONV_OK);
}

/* ------------------------------------------------------------------------ */
/* Effective crops                                                           */
/* ------------------------------------------------------------------------ */

Test(effective_crops, same)
{
    tconv_desc d;
    /* H: s2 k3: total = 3 - 2 = 1 -> 0, 1. W: s2 k4: total 2 -> 1, 1 */
    d = mk(5, 5, 3, 4, 2, 2);
    d.crop_mode = TCONV_CROP_SAME;
    assert_eff_crops(&d, 0, 1, 1, 1);
    /* H: s3 k4: total 1 -> 0, 1. W: s3 k2: total -1 < 0 -> 0, -1 */
    d = mk(5, 5, 4, 2, 3, 3);
    d.crop_mode = TCONV_CROP_SAME;
    assert_eff_crops(&d, 0, 1, 0, -1);
    /* H: k3 d2 s1: k_eff 5, total 4 -> 2, 2. W: k1 s4: total 1 - 4 = -3 -> 0, -3 */
    d = mk(5, 5, 3, 1, 1, 4);
    d.dilation_h = 2;
    d.crop_mode = TCONV_CROP_SAME;
    assert_eff_crops(&d, 2, 2, 0, -3);
    /* H: k5 s2: total 3 -> 1, 2. W: k3 d3 s2: k_eff 7, total 5 -> 2, 3 */
    d = mk(5, 5, 5, 3, 2, 2);
    d.dilation_w = 3;
    d.crop_mode = TCONV_CROP_SAME;
    assert_eff_crops(&d, 1, 2, 2, 3);
}

Test(effective_crops, manual)
{
    tconv_desc d = mk(5, 5, 3, 3, 2, 2);
    d.crop_top = 2; d.crop_bottom = -1; d.crop_left = 0; d.crop_right = 3;
    assert_eff_crops(&d, 2, -1, 0, 3);
}

/* ------------------------------------------------------------------------ */
/* Tensor sizes                                                              */
/* ------------------------------------------------------------------------ */

static void assert_tensor(const tconv_desc *d, tconv_tensor t, int64_t elems)
{
    size_t es = d->dtype == TCONV_F32 ? 4 : 8;
    int64_t e = -1;
    size_t b = 0;
    cr_assert_eq(tconv_desc_tensor_size(d, t, &e, &b), TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(e, elems, "tensor %d: %lld elements, expected %lld", (int)t, (long long)e,
                 (long long)elems);
    cr_assert_eq(b, (size_t)elems * es, "tensor %d: %zu bytes, expected %zu", (int)t, b,
                 (size_t)elems * es);
    /* either pointer may be NULL */
    e = -1;
    cr_assert_eq(tconv_desc_tensor_size(d, t, &e, NULL), TCONV_OK);
    cr_assert_eq(e, elems);
    b = 0;
    cr_assert_eq(tconv_desc_tensor_size(d, t, NULL, &b), TCONV_OK);
    cr_assert_eq(b, (size_t)elems * es);
    cr_assert_eq(tconv_desc_tensor_size(d, t, NULL, NULL), TCONV_OK);
}

Test(tensor_size, all_tensors_both_dtypes)
{
    /* N 2, C 4, 3x5 in, F 6, groups 2, k 2x3, s 2x1, crops t1 b0 l0 r1 */
    tconv_desc d;
    tconv_desc_init(&d);
    d.batch = 2; d.channels = 4; d.in_h = 3; d.in_w = 5;
    d.filters = 6; d.groups = 2; d.filter_h = 2; d.filter_w = 3;
    d.stride_h = 2; d.stride_w = 1;
    d.crop_top = 1; d.crop_right = 1;
    for (int t = 0; t < 2; t++) {
        for (int l = 0; l < 3; l++) {
            d.dtype = (tconv_dtype)t;
            d.layout = (tconv_layout)l;
            d.weight_layout = (tconv_weight_layout)l;
            /* x: 2*4*3*5 = 120 */
            assert_tensor(&d, TCONV_TENSOR_X, 120);
            /* w: C * F/groups * kh * kw = 4*3*2*3 = 72 */
            assert_tensor(&d, TCONV_TENSOR_W, 72);
            /* bias: F = 6 */
            assert_tensor(&d, TCONV_TENSOR_BIAS, 6);
            /* y: out_h = (3-1)*2 + 2 - 1 - 0 = 5, out_w = (5-1)*1 + 3 - 0 - 1 = 6;
             * 2*6*5*6 = 360 */
            assert_tensor(&d, TCONV_TENSOR_Y, 360);
        }
    }
}

Test(tensor_size, same_and_dilation)
{
    /* N 3, C 1, 4x2 in, F 2, k 3x2 d 2x1, s 2x3, SAME: y 3*2*8*6 = 288.
     * w: 1*2*3*2 = 12 */
    tconv_desc d;
    tconv_desc_init(&d);
    d.batch = 3; d.channels = 1; d.in_h = 4; d.in_w = 2;
    d.filters = 2; d.filter_h = 3; d.filter_w = 2; d.dilation_h = 2;
    d.stride_h = 2; d.stride_w = 3;
    d.crop_mode = TCONV_CROP_SAME;
    d.dtype = TCONV_F64;
    assert_tensor(&d, TCONV_TENSOR_X, 24); /* 3*1*4*2 */
    assert_tensor(&d, TCONV_TENSOR_W, 12);
    assert_tensor(&d, TCONV_TENSOR_BIAS, 2);
    assert_tensor(&d, TCONV_TENSOR_Y, 288);
}

/* ------------------------------------------------------------------------ */
/* Crop helpers                                                              */
/* ------------------------------------------------------------------------ */

Test(crop_matlab, forms)
{
    tconv_desc d = mk(4, 4, 4, 4, 2, 2);
    d.crop_mode = TCONV_CROP_SAME; /* the helper sets MANUAL */
    const int64_t one[1] = {2};
    cr_assert_eq(tconv_crop_matlab(&d, one, 1), TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(d.crop_mode, TCONV_CROP_MANUAL);
    assert_crops(&d, 2, 2, 2, 2);

    /* [a b]: a top and bottom, b left and right */
    d.crop_mode = TCONV_CROP_SAME;
    const int64_t two[2] = {1, 3};
    cr_assert_eq(tconv_crop_matlab(&d, two, 2), TCONV_OK);
    cr_assert_eq(d.crop_mode, TCONV_CROP_MANUAL);
    assert_crops(&d, 1, 1, 3, 3);
    /* full 10: out 10 - 2 = 8 x 10 - 6 = 4 */
    assert_output(&d, 8, 4);

    /* [t b l r] */
    d.crop_mode = TCONV_CROP_SAME;
    const int64_t four[4] = {1, 2, 3, 0};
    cr_assert_eq(tconv_crop_matlab(&d, four, 4), TCONV_OK);
    cr_assert_eq(d.crop_mode, TCONV_CROP_MANUAL);
    assert_crops(&d, 1, 2, 3, 0);
    /* 10 - 3 = 7 x 10 - 3 = 7 */
    assert_output(&d, 7, 7);

    /* zeros allowed */
    const int64_t zero[1] = {0};
    cr_assert_eq(tconv_crop_matlab(&d, zero, 1), TCONV_OK);
    assert_crops(&d, 0, 0, 0, 0);
}

Test(crop_matlab, same)
{
    tconv_desc d = mk(5, 3, 3, 2, 2, 3);
    d.crop_top = 4; d.crop_bottom = 5; d.crop_left = 6; d.crop_right = -7;
    cr_assert_eq(tconv_crop_matlab_same(&d), TCONV_OK);
    cr_assert_eq(d.crop_mode, TCONV_CROP_SAME);
    assert_crops(&d, 0, 0, 0, 0);
    /* H: s2 k3 total 1 -> 0,1; W: s3 k2 total -1 -> 0,-1; out 10 x 9 */
    assert_eff_crops(&d, 0, 1, 0, -1);
    assert_output(&d, 10, 9);
}

Test(crop_onnx, pads)
{
    /* in 3x3, k3, s2: full 7 */
    tconv_desc d = mk(3, 3, 3, 3, 2, 2);
    d.crop_mode = TCONV_CROP_SAME;
    /* pads [top, left, bottom, right] = [1, 2, 3, 4] */
    const int64_t pads[4] = {1, 2, 3, 4};
    cr_assert_eq(tconv_crop_onnx_pads(&d, pads, NULL), TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(d.crop_mode, TCONV_CROP_MANUAL);
    assert_crops(&d, 1, 3, 2, 4);
    /* 7 - 1 - 3 = 3, 7 - 2 - 4 = 1 */
    assert_output(&d, 3, 1);

    /* output_padding [1, 0]: bottom 3 - 1 = 2, right 4 - 0 = 4 */
    const int64_t op[2] = {1, 0};
    cr_assert_eq(tconv_crop_onnx_pads(&d, pads, op), TCONV_OK);
    assert_crops(&d, 1, 2, 2, 4);
    /* ONNX: out = 2*(3-1) + 1 + 3 - 1 - 3 = 4; W: 2*2 + 0 + 3 - 2 - 4 = 1 */
    assert_output(&d, 4, 1);

    /* pads 0, output_padding [1, 1]: bottom -1, right -1: 8 x 8 */
    const int64_t zero[4] = {0, 0, 0, 0}, op11[2] = {1, 1};
    cr_assert_eq(tconv_crop_onnx_pads(&d, zero, op11), TCONV_OK);
    assert_crops(&d, 0, -1, 0, -1);
    assert_output(&d, 8, 8);
}

Test(crop_onnx, auto_pad_same)
{
    /* H: in 3, k3, s2: k_eff 3, T = 3 - 2 = 1 (odd).
     * W: in 4, k4, s2: T = 4 - 2 = 2. */
    tconv_desc d = mk(3, 4, 3, 4, 2, 2);
    /* SAME_UPPER: begin floor(T/2), end T - floor(T/2): H 0,1; W 1,1 */
    cr_assert_eq(tconv_crop_onnx_auto_pad(&d, TCONV_ONNX_SAME_UPPER, NULL), TCONV_OK, "%s",
                 tconv_last_error());
    cr_assert_eq(d.crop_mode, TCONV_CROP_MANUAL);
    assert_crops(&d, 0, 1, 1, 1);
    assert_output(&d, 6, 8); /* in * stride */
    /* SAME_LOWER: larger half first: H 1,0; W 1,1 */
    cr_assert_eq(tconv_crop_onnx_auto_pad(&d, TCONV_ONNX_SAME_LOWER, NULL), TCONV_OK);
    assert_crops(&d, 1, 0, 1, 1);
    assert_output(&d, 6, 8);
}

Test(crop_onnx, auto_pad_same_output_padding)
{
    /* H: in 3, k3, s2, op 1: T = 3 - 2 + 1 = 2.
     *   UPPER: begin 1, end 2 - 1 - 1 = 0.  LOWER: begin 2 - 1 = 1, end 1 - 1 = 0.
     * W: in 4, k4, s2, op 1: T = 4 - 2 + 1 = 3 (odd).
     *   UPPER: begin 1, end 3 - 1 - 1 = 1.  LOWER: begin 3 - 1 = 2, end 1 - 1 = 0. */
    tconv_desc d = mk(3, 4, 3, 4, 2, 2);
    const int64_t op[2] = {1, 1};
    cr_assert_eq(tconv_crop_onnx_auto_pad(&d, TCONV_ONNX_SAME_UPPER, op), TCONV_OK, "%s",
                 tconv_last_error());
    assert_crops(&d, 1, 0, 1, 1);
    /* full 7 and 10: 7 - 1 = 6 = 3*2, 10 - 2 = 8 = 4*2 */
    assert_output(&d, 6, 8);
    cr_assert_eq(tconv_crop_onnx_auto_pad(&d, TCONV_ONNX_SAME_LOWER, op), TCONV_OK);
    assert_crops(&d, 1, 0, 2, 0);
    assert_output(&d, 6, 8);
}

Test(crop_onnx, auto_pad_kernel_smaller_than_stride)
{
    /* T < 0: begin 0, end T - output_padding (bias-only positions at the end).
     * H: k1, s3, op 1: T = 1 - 3 + 1 = -1: 0, -1 - 1 = -2.
     * W: k2, s3, op 0: T = 2 - 3 = -1: 0, -1. */
    tconv_desc d = mk(2, 5, 1, 2, 3, 3);
    const int64_t op[2] = {1, 0};
    for (int mode = TCONV_ONNX_SAME_UPPER; mode <= TCONV_ONNX_SAME_LOWER; mode++) {
        cr_assert_eq(tconv_crop_onnx_auto_pad(&d, (tconv_onnx_auto_pad)mode, op), TCONV_OK, "%s",
                     tconv_last_error());
        assert_crops(&d, 0, -2, 0, -1);
        /* H: full (2-1)*3 + 1 = 4, 4 + 2 = 6 = 2*3. W: full 4*3 + 2 = 14, + 1 = 15 = 5*3 */
        assert_output(&d, 6, 15);
    }
}

Test(crop_onnx, auto_pad_valid)
{
    /* VALID: 0 at the beginning, -output_padding at the end */
    tconv_desc d = mk(3, 3, 3, 3, 2, 2);
    d.crop_top = 5;
    cr_assert_eq(tconv_crop_onnx_auto_pad(&d, TCONV_ONNX_VALID, NULL), TCONV_OK);
    assert_crops(&d, 0, 0, 0, 0);
    assert_output(&d, 7, 7);
    const int64_t op[2] = {1, 0};
    cr_assert_eq(tconv_crop_onnx_auto_pad(&d, TCONV_ONNX_VALID, op), TCONV_OK);
    assert_crops(&d, 0, -1, 0, 0);
    assert_output(&d, 8, 7);
}

Test(crop_onnx, output_shape)
{
    /* in 3x3, k3, s2: full 7 x 7 */
    tconv_desc d = mk(3, 3, 3, 3, 2, 2);
    const int64_t O66[2] = {6, 6};
    /* NOTSET: P = max(0, 7 - 6) = 1, begin 1/2 = 0, end 7 - 0 - 6 = 1 */
    cr_assert_eq(tconv_crop_onnx_output_shape(&d, O66, NULL, TCONV_ONNX_NOTSET), TCONV_OK, "%s",
                 tconv_last_error());
    cr_assert_eq(d.crop_mode, TCONV_CROP_MANUAL);
    assert_crops(&d, 0, 1, 0, 1);
    assert_output(&d, 6, 6);
    /* SAME_LOWER and VALID: as NOTSET */
    cr_assert_eq(tconv_crop_onnx_output_shape(&d, O66, NULL, TCONV_ONNX_SAME_LOWER), TCONV_OK);
    assert_crops(&d, 0, 1, 0, 1);
    cr_assert_eq(tconv_crop_onnx_output_shape(&d, O66, NULL, TCONV_ONNX_VALID), TCONV_OK);
    assert_crops(&d, 0, 1, 0, 1);
    /* SAME_UPPER, P = 1 (odd): begin 1 - 1/2 = 1, end 7 - 1 - 6 = 0 */
    cr_assert_eq(tconv_crop_onnx_output_shape(&d, O66, NULL, TCONV_ONNX_SAME_UPPER), TCONV_OK);
    assert_crops(&d, 1, 0, 1, 0);
    assert_output(&d, 6, 6);
}

Test(crop_onnx, output_shape_clamped_and_output_padding)
{
    /* in 3x3, k3, s2: full 7 x 7 */
    tconv_desc d = mk(3, 3, 3, 3, 2, 2);
    /* O = [9, 8]: P = max(0, 7 - 9) = 0 -> begin 0, end 7 - 0 - 9 = -2;
     *             P = max(0, 7 - 8) = 0 -> 0, 7 - 8 = -1 */
    const int64_t O98[2] = {9, 8};
    cr_assert_eq(tconv_crop_onnx_output_shape(&d, O98, NULL, TCONV_ONNX_NOTSET), TCONV_OK, "%s",
                 tconv_last_error());
    assert_crops(&d, 0, -2, 0, -1);
    assert_output(&d, 9, 8);
    cr_assert_eq(tconv_crop_onnx_output_shape(&d, O98, NULL, TCONV_ONNX_SAME_UPPER), TCONV_OK);
    assert_crops(&d, 0, -2, 0, -1);

    /* output_padding [1, 1], O = [6, 5]:
     * H: P = 7 + 1 - 6 = 2: begin 1 (both ways), end 7 - 1 - 6 = 0.
     * W: P = 7 + 1 - 5 = 3: NOTSET begin 3/2 = 1, end 7 - 1 - 5 = 1;
     *                       SAME_UPPER begin 3 - 1 = 2, end 7 - 2 - 5 = 0. */
    const int64_t O65[2] = {6, 5}, op[2] = {1, 1};
    cr_assert_eq(tconv_crop_onnx_output_shape(&d, O65, op, TCONV_ONNX_NOTSET), TCONV_OK);
    assert_crops(&d, 1, 0, 1, 1);
    assert_output(&d, 6, 5);
    cr_assert_eq(tconv_crop_onnx_output_shape(&d, O65, op, TCONV_ONNX_SAME_UPPER), TCONV_OK);
    assert_crops(&d, 1, 0, 2, 0);
    assert_output(&d, 6, 5);
}

Test(crop_pytorch, padding_and_output_padding)
{
    /* stride 2x3, dilation 1: padding [1, 2], output_padding [1, 2]:
     * top 1, bottom 1 - 1 = 0, left 2, right 2 - 2 = 0 */
    tconv_desc d = mk(3, 3, 3, 3, 2, 3);
    d.crop_mode = TCONV_CROP_SAME;
    const int64_t pad[2] = {1, 2}, op[2] = {1, 2};
    cr_assert_eq(tconv_crop_pytorch(&d, pad, op), TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(d.crop_mode, TCONV_CROP_MANUAL);
    assert_crops(&d, 1, 0, 2, 0);
    /* PyTorch: (3-1)*2 - 2*1 + 1*(3-1) + 1 + 1 = 6; (3-1)*3 - 2*2 + 2 + 2 + 1 = 7 */
    assert_output(&d, 6, 7);

    /* output_padding NULL: zeros */
    cr_assert_eq(tconv_crop_pytorch(&d, pad, NULL), TCONV_OK);
    assert_crops(&d, 1, 1, 2, 2);
    /* (3-1)*2 - 2 + 2 + 1 = 5; 6 - 4 + 2 + 1 = 5 */
    assert_output(&d, 5, 5);
}

Test(crop_pytorch, output_padding_below_dilation)
{
    /* stride 1, dilation 2x3: output_padding [1, 2] is >= the stride but
     * smaller than the dilation: allowed. padding 0: bottom -1, right -2 */
    tconv_desc d = mk(3, 3, 3, 3, 1, 1);
    d.dilation_h = 2; d.dilation_w = 3;
    const int64_t pad[2] = {0, 0}, op[2] = {1, 2};
    cr_assert_eq(tconv_crop_pytorch(&d, pad, op), TCONV_OK, "%s", tconv_last_error());
    assert_crops(&d, 0, -1, 0, -2);
    /* H: k_eff 5, full 2 + 5 = 7, + 1 = 8. W: k_eff 7, full 2 + 7 = 9, + 2 = 11 */
    assert_output(&d, 8, 11);
}

/* ------------------------------------------------------------------------ */
/* Plans                                                                     */
/* ------------------------------------------------------------------------ */

Test(plan, info)
{
    cr_assert_not_null(tconv_plan_info(NULL));
    cr_assert_str_eq(tconv_plan_info(NULL), "");
    for (int t = 0; t < 2; t++) {
        tconv_desc d = mk(4, 4, 4, 4, 2, 2);
        d.dtype = (tconv_dtype)t;
        tconv_plan *p = NULL;
        cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK, "%s", tconv_last_error());
        const char *info = tconv_plan_info(p);
        cr_assert_not_null(info);
        cr_assert(info[0] != '\0', "empty plan info");
        cr_assert(strchr(info, '\n') == NULL, "plan info is not one line: \"%s\"", info);
        const char *want = t ? "f64" : "f32", *other = t ? "f32" : "f64";
        cr_assert(strstr(info, want), "info \"%s\" lacks %s", info, want);
        cr_assert(!strstr(info, other), "info \"%s\" mentions %s", info, other);
        /* stable: the same pointer/text on every call */
        cr_assert_str_eq(tconv_plan_info(p), info);
        tconv_plan_destroy(p);
    }
}

/* On an AVX-512 CPU the AVX2 tiles compete at the ymm FMA rate relative to
 * zmm (dispatch/fma_rate.h). FCN-8s's 21 -> 21 layer is where that decides:
 * AVX2's 4x24 tile fills 21 filters to 7/8, zmm tiles to 21/32. At equal
 * rates (an AMD Zen 4) 4x24 wins; where zmm runs twice the lanes per cycle
 * (a Xeon with two 512-bit FMA ports) a zmm tile wins. Each test is its own
 * process (Criterion forks), so TCONV_YMM_RATE is read fresh. Without
 * AVX-512 in use no AVX2 tile is rescaled, whatever the rate. */
static const char *fcn8s_forward_kernel(const char *ymm_rate, char *buf, size_t n)
{
    cr_assert_eq(setenv("TCONV_YMM_RATE", ymm_rate, 1), 0);
    tconv_desc d = mk(16, 16, 4, 4, 2, 2);
    d.channels = d.filters = 21;
    tconv_plan *p = NULL;
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_NONE), TCONV_OK, "%s", tconv_last_error());
    const char *info = tconv_plan_info(p), *k = strstr(info, "f32_fwd_");
    cr_assert_not_null(k, "plan info \"%s\" names no forward kernel", info);
    snprintf(buf, n, "%.*s", (int)strcspn(k, " ,|"), k);
    tconv_plan_destroy(p);
    return buf;
}

Test(plan, avx2_tile_wins_at_equal_ymm_rate)
{
    char k[64];
    fcn8s_forward_kernel("1", k, sizeof k);
    if (tconv_get_isa() == TCONV_ISA_AVX512)
        cr_assert_str_eq(k, "f32_fwd_4x24_avx2");
    else
        cr_assert(!strstr(k, "avx512"), "%s on %s", k, tconv_isa_name(tconv_get_isa()));
}

Test(plan, zmm_tile_wins_at_half_ymm_rate)
{
    char k[64];
    fcn8s_forward_kernel("0.5", k, sizeof k);
    if (tconv_get_isa() == TCONV_ISA_AVX512)
        cr_assert(strstr(k, "_avx512"), "%s: a zmm tile should win at half the ymm rate", k);
    else
        cr_assert(!strstr(k, "avx512"), "%s on %s", k, tconv_isa_name(tconv_get_isa()));
}

Test(plan, desc_roundtrip)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.batch = 2; d.channels = 4; d.in_h = 3; d.in_w = 5;
    d.filters = 6; d.groups = 2; d.filter_h = 2; d.filter_w = 3;
    d.stride_h = 2; d.stride_w = 1; d.dilation_h = 1; d.dilation_w = 2;
    d.crop_top = 1; d.crop_bottom = -1; d.crop_left = 0; d.crop_right = 2;
    d.dtype = TCONV_F64; d.layout = TCONV_NHWC; d.weight_layout = TCONV_W_OHWI;
    tconv_plan *p = NULL;
    cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK, "%s", tconv_last_error());
    tconv_desc out;
    memset(&out, 0x5A, sizeof out);
    cr_assert_eq(tconv_plan_desc(p, &out), TCONV_OK);
    cr_assert(desc_eq(&out, &d), "tconv_plan_desc returned a different desc");
    tconv_plan_destroy(p);

    /* SAME mode is kept as SAME */
    d.crop_mode = TCONV_CROP_SAME;
    d.layout = TCONV_SSCB; d.weight_layout = TCONV_W_MATLAB; d.dtype = TCONV_F32;
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_PLAN_REFERENCE), TCONV_OK, "%s",
                 tconv_last_error());
    cr_assert_eq(tconv_plan_desc(p, &out), TCONV_OK);
    cr_assert(desc_eq(&out, &d), "tconv_plan_desc returned a different desc (SAME)");
    tconv_plan_destroy(p);
}

Test(plan, plan_outlives_desc)
{
    /* The plan copies the desc: changing the caller's desc afterwards does not
     * change the plan. */
    tconv_desc d = mk(4, 4, 4, 4, 2, 2);
    tconv_desc orig = d;
    tconv_plan *p = NULL;
    cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK);
    d.in_h = 100; d.stride_h = 7;
    tconv_desc out;
    cr_assert_eq(tconv_plan_desc(p, &out), TCONV_OK);
    cr_assert(desc_eq(&out, &orig));
    tconv_plan_destroy(p);
}

Test(plan, destroy_null)
{
    tconv_plan_destroy(NULL);
    cr_assert_str_eq(tconv_last_error(), "");
}

Test(plan, reference_flag)
{
    /* N 2, C 4, 3x4 in, F 6, groups 2, k 3x2, s 2x1, d 1x2, crops 1,0,-1,1:
     * the reference plan agrees with the test's own scatter loop */
    for (int t = 0; t < 2; t++) {
        tconv_desc d;
        tconv_desc_init(&d);
        d.batch = 2; d.channels = 4; d.in_h = 3; d.in_w = 4;
        d.filters = 6; d.groups = 2; d.filter_h = 3; d.filter_w = 2;
        d.stride_h = 2; d.stride_w = 1; d.dilation_w = 2;
        d.crop_top = 1; d.crop_bottom = 0; d.crop_left = -1; d.crop_right = 1;
        d.dtype = (tconv_dtype)t;
        tconv_plan *p = NULL;
        cr_assert_eq(tconv_plan_create(&p, &d, TCONV_PLAN_REFERENCE), TCONV_OK, "%s",
                     tconv_last_error());
        cr_assert_not_null(p);
        cr_assert(tconv_plan_info(p)[0] != '\0');
        tu_shape s = tu_shape_of(&d);
        /* H: full (3-1)*2 + 3 = 7, out 7 - 1 = 6. W: k_eff 3, full 3 + 3 = 6, out 6 + 1 - 1 = 6 */
        cr_assert_eq(s.oh, 6);
        cr_assert_eq(s.ow, 6);
        int64_t nx = tu_x_elems(&s), nw = tu_w_elems(&s), ny = tu_y_elems(&s);
        double *x = malloc((size_t)nx * sizeof *x), *w = malloc((size_t)nw * sizeof *w);
        double *b = malloc((size_t)s.f * sizeof *b), *y = calloc((size_t)ny, sizeof *y);
        double *ref = malloc((size_t)ny * sizeof *ref);
        tu_rng rng = {7};
        tu_fill(&rng, x, nx); tu_fill(&rng, w, nw); tu_fill(&rng, b, s.f);
        tu_forward_scatter(&d, x, w, b, ref);
        cr_assert_eq(tu_run_forward(p, &d, x, w, b, y), TCONV_OK, "%s", tconv_last_error());
        double err = tu_max_rel_diff(y, ref, ny);
        cr_assert(err <= tu_tolerance(d.dtype), "dtype %d: error %g", t, err);
        free(x); free(w); free(b); free(y); free(ref);
        tconv_plan_destroy(p);
    }
}
