/*
 * Cropping from the attributes of MATLAB's transposedConv2dLayer, ONNX
 * ConvTranspose and PyTorch ConvTranspose2d. Each helper computes all four
 * crops first and writes the desc only when every value is valid, so a
 * failure leaves the desc as it was. The policies are documented beside the
 * declarations in include/tconv.h.
 */
#include <stddef.h>

#include "dispatch/desc.h"
#include "runtime/checked.h"
#include "runtime/error.h"

/* Order of the crop fields in the arrays below: top, bottom, left, right. */
static void store_crops(tconv_desc *d, tconv_crop_mode mode, const int64_t c[4])
{
    d->crop_mode = mode;
    d->crop_top = c[0];
    d->crop_bottom = c[1];
    d->crop_left = c[2];
    d->crop_right = c[3];
}

static tconv_status check_nonnegative(const char *array, int index, int64_t v)
{
    if (v < 0)
        return tconv_fail(TCONV_EINVAL, "%s[%d] (%lld) must be >= 0", array, index, (long long)v);
    return TCONV_OK;
}

/* Reads a [h, w] output_padding array (NULL: zeros), each value >= 0. */
static tconv_status read_output_padding(const int64_t *output_padding, int64_t op[2])
{
    op[0] = op[1] = 0;
    if (!output_padding) return TCONV_OK;
    for (int i = 0; i < 2; i++) {
        tconv_status st = check_nonnegative("output_padding", i, output_padding[i]);
        if (st != TCONV_OK) return st;
        op[i] = output_padding[i];
    }
    return TCONV_OK;
}

/* end - output_padding, checked (end may be negative). */
static tconv_status end_minus_padding(int64_t end, int64_t op, int i, int64_t *r)
{
    if (!tconv_sub_ok(end, op, r))
        return tconv_fail(TCONV_EOVERFLOW, "output_padding[%d] (%lld) overflows the crop", i,
                          (long long)op);
    return TCONV_OK;
}

/* Effective kernel extents and uncropped sizes of d, [0] = h, [1] = w. */
static tconv_status full_sizes(const tconv_desc *d, int64_t k_eff[2], int64_t full[2])
{
    tconv_status st = tconv_dim_full_size("h", d->in_h, d->filter_h, d->stride_h, d->dilation_h,
                                          &k_eff[0], &full[0]);
    if (st != TCONV_OK) return st;
    return tconv_dim_full_size("w", d->in_w, d->filter_w, d->stride_w, d->dilation_w, &k_eff[1],
                               &full[1]);
}

/*
 * Call-time check of nonnegative crops c (top, bottom, left, right; from[i]
 * the index into the caller's cropping array of c[i]): when the sizes the
 * uncropped output depends on are set (each >= 1), they must leave at
 * least one output row and column, as tconv_desc_check would say later (a
 * size over its limit is reported now too). Before the sizes are set there
 * is nothing to check against; tconv_desc_check and tconv_plan_create
 * check then.
 */
static tconv_status check_crops_leave_output(const tconv_desc *d, const int64_t c[4],
                                             const int from[4])
{
    const int64_t needed[] = {d->in_h, d->in_w, d->filter_h, d->filter_w,
                              d->stride_h, d->stride_w, d->dilation_h, d->dilation_w};
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        if (needed[i] < 1) return TCONV_OK;
    int64_t k_eff[2], full[2];
    tconv_status st = full_sizes(d, k_eff, full);
    if (st != TCONV_OK) return st;
    static const char *names[4] = {"crop_top", "crop_bottom", "crop_left", "crop_right"};
    for (int i = 0; i < 2; i++) {
        int64_t sum;
        const int a = 2 * i, b = 2 * i + 1;
        if (tconv_add_ok(c[a], c[b], &sum) && sum < full[i]) continue;
        return tconv_fail(TCONV_EINVAL,
                          "cropping[%d] (%lld, %s) and cropping[%d] (%lld, %s) leave no output "
                          "%s of the uncropped %s %lld",
                          from[a], (long long)c[a], names[a], from[b], (long long)c[b], names[b],
                          i == 0 ? "row" : "column", i == 0 ? "height" : "width",
                          (long long)full[i]);
    }
    return TCONV_OK;
}

tconv_status tconv_crop_matlab(tconv_desc *d, const int64_t *cropping, int n)
{
    if (!d) return tconv_fail(TCONV_EINVAL, "desc is NULL");
    if (!cropping) return tconv_fail(TCONV_EINVAL, "cropping is NULL");
    if (n != 1 && n != 2 && n != 4)
        return tconv_fail(TCONV_EINVAL,
                          "n (%d) must be 1, 2 or 4 (MATLAB Cropping p, [a b] or [t b l r])", n);
    for (int i = 0; i < n; i++) {
        tconv_status st = check_nonnegative("cropping", i, cropping[i]);
        if (st != TCONV_OK) return st;
    }
    int64_t c[4];
    int from[4]; /* the index into cropping of each crop, for messages */
    for (int i = 0; i < 4; i++) from[i] = n == 1 ? 0 : n == 2 ? i / 2 : i;
    for (int i = 0; i < 4; i++) c[i] = cropping[from[i]];
    tconv_status st = check_crops_leave_output(d, c, from);
    if (st != TCONV_OK) return st;
    store_crops(d, TCONV_CROP_MANUAL, c);
    return TCONV_OK;
}

tconv_status tconv_crop_matlab_same(tconv_desc *d)
{
    if (!d) return tconv_fail(TCONV_EINVAL, "desc is NULL");
    const int64_t zero[4] = {0, 0, 0, 0};
    store_crops(d, TCONV_CROP_SAME, zero);
    return TCONV_OK;
}

tconv_status tconv_crop_onnx_pads(tconv_desc *d, const int64_t pads[4],
                                  const int64_t output_padding[2])
{
    if (!d) return tconv_fail(TCONV_EINVAL, "desc is NULL");
    if (!pads) return tconv_fail(TCONV_EINVAL, "pads is NULL");
    tconv_status st;
    for (int i = 0; i < 4; i++)
        if ((st = check_nonnegative("pads", i, pads[i])) != TCONV_OK) return st;
    int64_t op[2];
    if ((st = read_output_padding(output_padding, op)) != TCONV_OK) return st;
    /* ONNX order: [x1_begin, x2_begin, x1_end, x2_end] = [top, left, bottom, right]. */
    int64_t c[4] = {pads[0], 0, pads[1], 0};
    if ((st = end_minus_padding(pads[2], op[0], 0, &c[1])) != TCONV_OK ||
        (st = end_minus_padding(pads[3], op[1], 1, &c[3])) != TCONV_OK)
        return st;
    store_crops(d, TCONV_CROP_MANUAL, c);
    return TCONV_OK;
}

static int valid_auto_pad(tconv_onnx_auto_pad m)
{
    return (int)m >= TCONV_ONNX_NOTSET && (int)m <= TCONV_ONNX_VALID;
}

tconv_status tconv_crop_onnx_auto_pad(tconv_desc *d, tconv_onnx_auto_pad mode,
                                      const int64_t output_padding[2])
{
    if (!d) return tconv_fail(TCONV_EINVAL, "desc is NULL");
    if (!valid_auto_pad(mode))
        return tconv_fail(TCONV_EINVAL, "auto_pad (%d) is not a tconv_onnx_auto_pad", (int)mode);
    if (mode == TCONV_ONNX_NOTSET)
        return tconv_fail(TCONV_EINVAL,
                          "auto_pad (%d, NOTSET) implies no cropping; use tconv_crop_onnx_pads",
                          (int)mode);
    tconv_status st;
    int64_t op[2], k_eff[2], full[2], c[4];
    if ((st = read_output_padding(output_padding, op)) != TCONV_OK) return st;
    if ((st = full_sizes(d, k_eff, full)) != TCONV_OK) return st;
    const int64_t stride[2] = {d->stride_h, d->stride_w};
    for (int i = 0; i < 2; i++) {
        int64_t begin = 0, end = 0, t;
        if (mode != TCONV_ONNX_VALID) {
            /* k_eff, stride >= 1: only adding output_padding can overflow. */
            if (!tconv_add_ok(k_eff[i] - stride[i], op[i], &t))
                return tconv_fail(TCONV_EOVERFLOW, "output_padding[%d] (%lld) overflows the crop",
                                  i, (long long)op[i]);
            if (t >= 0) {
                const int64_t small = t / 2, large = t - t / 2;
                begin = mode == TCONV_ONNX_SAME_UPPER ? small : large;
                end = mode == TCONV_ONNX_SAME_UPPER ? large : small;
            } else {
                end = t; /* kernel smaller than the stride: bias-only positions at the end */
            }
        }
        if ((st = end_minus_padding(end, op[i], i, &end)) != TCONV_OK) return st;
        c[2 * i] = begin;
        c[2 * i + 1] = end;
    }
    store_crops(d, TCONV_CROP_MANUAL, c);
    return TCONV_OK;
}

tconv_status tconv_crop_onnx_output_shape(tconv_desc *d, const int64_t output_shape[2],
                                          const int64_t output_padding[2],
                                          tconv_onnx_auto_pad auto_pad)
{
    if (!d) return tconv_fail(TCONV_EINVAL, "desc is NULL");
    if (!output_shape) return tconv_fail(TCONV_EINVAL, "output_shape is NULL");
    if (!valid_auto_pad(auto_pad))
        return tconv_fail(TCONV_EINVAL, "auto_pad (%d) is not a tconv_onnx_auto_pad",
                          (int)auto_pad);
    tconv_status st;
    for (int i = 0; i < 2; i++)
        if (output_shape[i] < 1)
            return tconv_fail(TCONV_EINVAL, "output_shape[%d] (%lld) must be >= 1", i,
                              (long long)output_shape[i]);
    int64_t op[2], k_eff[2], full[2], c[4];
    if ((st = read_output_padding(output_padding, op)) != TCONV_OK) return st;
    if ((st = full_sizes(d, k_eff, full)) != TCONV_OK) return st;
    for (int i = 0; i < 2; i++) {
        int64_t padded, total, begin, end;
        if (!tconv_add_ok(full[i], op[i], &padded))
            return tconv_fail(TCONV_EOVERFLOW, "output_padding[%d] (%lld) overflows the size", i,
                              (long long)op[i]);
        /* output_shape >= 1, so padded - output_shape cannot overflow. */
        total = padded - output_shape[i];
        if (total < 0) total = 0; /* onnxruntime clamps: extra positions go to the end */
        begin = auto_pad == TCONV_ONNX_SAME_UPPER ? total - total / 2 : total / 2;
        end = full[i] - begin - output_shape[i]; /* 0 <= begin <= full: no overflow */
        c[2 * i] = begin;
        c[2 * i + 1] = end;
    }
    store_crops(d, TCONV_CROP_MANUAL, c);
    return TCONV_OK;
}

tconv_status tconv_crop_pytorch(tconv_desc *d, const int64_t padding[2],
                                const int64_t output_padding[2])
{
    if (!d) return tconv_fail(TCONV_EINVAL, "desc is NULL");
    if (!padding) return tconv_fail(TCONV_EINVAL, "padding is NULL");
    tconv_status st;
    for (int i = 0; i < 2; i++)
        if ((st = check_nonnegative("padding", i, padding[i])) != TCONV_OK) return st;
    int64_t op[2];
    if ((st = read_output_padding(output_padding, op)) != TCONV_OK) return st;
    const int64_t stride[2] = {d->stride_h, d->stride_w};
    const int64_t dil[2] = {d->dilation_h, d->dilation_w};
    const char *dim[2] = {"h", "w"};
    int64_t c[4];
    for (int i = 0; i < 2; i++) {
        if (stride[i] < 1 || dil[i] < 1)
            return tconv_fail(TCONV_EINVAL, "%s_%s (%lld) must be >= 1",
                              stride[i] < 1 ? "stride" : "dilation", dim[i],
                              (long long)(stride[i] < 1 ? stride[i] : dil[i]));
        if (op[i] >= stride[i] && op[i] >= dil[i])
            return tconv_fail(TCONV_EINVAL,
                              "output_padding[%d] (%lld) must be smaller than stride_%s (%lld) or "
                              "dilation_%s (%lld), as in PyTorch",
                              i, (long long)op[i], dim[i], (long long)stride[i], dim[i],
                              (long long)dil[i]);
        c[2 * i] = padding[i];
        c[2 * i + 1] = padding[i] - op[i]; /* both >= 0: no overflow */
    }
    store_crops(d, TCONV_CROP_MANUAL, c);
    return TCONV_OK;
}
