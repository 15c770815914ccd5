/*
 * tconv_desc: defaults, validation, derived sizes and the per-layout strides
 * of the tconv_problem. Every size product is checked, so that kernels may
 * index with plain int64_t arithmetic.
 */
#include "dispatch/desc.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dispatch/activation.h"
#include "runtime/checked.h"
#include "runtime/error.h"

void tconv_desc_init(tconv_desc *d)
{
    if (!d) return;
    memset(d, 0, sizeof *d);
    d->batch = 1;
    d->stride_h = d->stride_w = 1;
    d->dilation_h = d->dilation_w = 1;
    d->groups = 1;
    d->crop_mode = TCONV_CROP_MANUAL;
    d->dtype = TCONV_F32;
    d->layout = TCONV_NCHW;
    d->weight_layout = TCONV_W_IOHW;
    d->activation = TCONV_ACT_NONE;
}

static tconv_status check_enums(const tconv_desc *d)
{
    /* Enums are compared as ints: a caller may store any value in them. */
    if ((int)d->dtype != TCONV_F32 && (int)d->dtype != TCONV_F64)
        return tconv_fail(TCONV_EINVAL, "dtype (%d) is not a tconv_dtype (TCONV_F32 or TCONV_F64)",
                          (int)d->dtype);
    if ((int)d->layout < TCONV_NCHW || (int)d->layout > TCONV_SSCB)
        return tconv_fail(TCONV_EINVAL,
                          "layout (%d) is not a tconv_layout (TCONV_NCHW, TCONV_NHWC or TCONV_SSCB)",
                          (int)d->layout);
    if ((int)d->weight_layout < TCONV_W_IOHW || (int)d->weight_layout > TCONV_W_MATLAB)
        return tconv_fail(TCONV_EINVAL,
                          "weight_layout (%d) is not a tconv_weight_layout (TCONV_W_IOHW, "
                          "TCONV_W_OHWI or TCONV_W_MATLAB)",
                          (int)d->weight_layout);
    tconv_status st = tconv_check_activation(d->activation, d->activation_alpha);
    if (st != TCONV_OK) return st;
    if ((int)d->crop_mode != TCONV_CROP_MANUAL && (int)d->crop_mode != TCONV_CROP_SAME)
        return tconv_fail(TCONV_EINVAL,
                          "crop_mode (%d) is not a tconv_crop_mode (TCONV_CROP_MANUAL or "
                          "TCONV_CROP_SAME)",
                          (int)d->crop_mode);
    return TCONV_OK;
}

static tconv_status check_positive(const char *field, int64_t v)
{
    if (v < 1) return tconv_fail(TCONV_EINVAL, "%s (%lld) must be >= 1", field, (long long)v);
    return TCONV_OK;
}

/* v >= 1 and v <= limit, one of the TCONV_MAX_* powers of two (tconv.h).
 * Checked before any size is used: sizes that pass bound every loop and
 * table the planner builds. */
static tconv_status check_size(const char *field, int64_t v, int64_t limit)
{
    tconv_status st = check_positive(field, v);
    if (st != TCONV_OK) return st;
    if (v > limit)
        return tconv_fail(TCONV_EOVERFLOW, "%s (%lld) exceeds tconv's limit of %lld (2^%d)",
                          field, (long long)v, (long long)limit, __builtin_ctzll((unsigned long long)limit));
    return TCONV_OK;
}

tconv_status tconv_dim_full_size(const char *dim, int64_t in, int64_t k, int64_t stride,
                                 int64_t dil, int64_t *k_eff, int64_t *full)
{
    char field[16];
    const struct { const char *name; int64_t v, limit; } fields[] = {
        {"in", in, TCONV_MAX_EXTENT}, {"filter", k, TCONV_MAX_WINDOW},
        {"stride", stride, TCONV_MAX_WINDOW}, {"dilation", dil, TCONV_MAX_WINDOW}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i].v < 1 || fields[i].v > fields[i].limit) {
            /* Built here rather than with %s_%s so the message reads as one field name. */
            strcpy(field, fields[i].name);
            strcat(field, "_");
            strcat(field, dim);
            return check_size(field, fields[i].v, fields[i].limit);
        }
    }
    /* Within the limits nothing below overflows; the checks stay as a guard. */
    int64_t span, keff, step, f;
    if (!tconv_mul_ok(k - 1, dil, &span) || !tconv_add_ok(span, 1, &keff))
        return tconv_fail(TCONV_EOVERFLOW,
                          "effective filter extent (filter_%s - 1) * dilation_%s + 1 overflows "
                          "int64_t (filter_%s %lld, dilation_%s %lld)",
                          dim, dim, dim, (long long)k, dim, (long long)dil);
    if (!tconv_mul_ok(in - 1, stride, &step) || !tconv_add_ok(step, keff, &f))
        return tconv_fail(TCONV_EOVERFLOW,
                          "uncropped output size (in_%s - 1) * stride_%s + %lld overflows int64_t "
                          "(in_%s %lld, stride_%s %lld)",
                          dim, dim, (long long)keff, dim, (long long)in, dim, (long long)stride);
    *k_eff = keff;
    *full = f;
    return TCONV_OK;
}

/* MATLAB "same" for one dimension; see tconv_crop_mode in tconv.h. */
static void same_crops(int64_t k_eff, int64_t stride, int64_t *begin, int64_t *end)
{
    const int64_t total = k_eff - stride; /* no overflow: both are >= 1 */
    *begin = total >= 0 ? total / 2 : 0;
    *end = total - *begin;
}

/* The output size of one dimension after cropping, with every intermediate
 * that a kernel may form (full - begin, full - end) checked for overflow. */
static tconv_status cropped_size(const char *dim, const char *begin_name, const char *end_name,
                                 int64_t full, int64_t begin, int64_t end, int64_t *out)
{
    int64_t a, b, o;
    if (!tconv_sub_ok(full, begin, &a) || !tconv_sub_ok(full, end, &b) ||
        !tconv_sub_ok(a, end, &o))
        return tconv_fail(TCONV_EOVERFLOW,
                          "%s (%lld) and %s (%lld) overflow int64_t against the uncropped %s %lld",
                          begin_name, (long long)begin, end_name, (long long)end, dim,
                          (long long)full);
    if (o < 1) {
        int64_t sum;
        if (tconv_add_ok(begin, end, &sum))
            return tconv_fail(TCONV_EINVAL,
                              "%s + %s (%lld) leaves no output %s (uncropped %s %lld)", begin_name,
                              end_name, (long long)sum, dim[0] == 'h' ? "row" : "column",
                              dim[0] == 'h' ? "height" : "width", (long long)full);
        return tconv_fail(TCONV_EINVAL, "%s (%lld) and %s (%lld) leave no output %s", begin_name,
                          (long long)begin, end_name, (long long)end,
                          dim[0] == 'h' ? "row" : "column");
    }
    *out = o;
    return TCONV_OK;
}

/* n0 * n1 * n2 * n3 elements of size esize must fit int64_t and size_t. */
static tconv_status tensor_elems(const char *what, const char *factors, int64_t n0, int64_t n1,
                                 int64_t n2, int64_t n3, int64_t esize, int64_t *elems)
{
    int64_t a, b, e, bytes;
    if (!tconv_mul_ok(n0, n1, &a) || !tconv_mul_ok(a, n2, &b) || !tconv_mul_ok(b, n3, &e) ||
        !tconv_mul_ok(e, esize, &bytes) || bytes > TCONV_MAX_TENSOR_BYTES ||
        (uint64_t)bytes > (uint64_t)SIZE_MAX)
        return tconv_fail(TCONV_EOVERFLOW,
                          "%s's size %s = %lld * %lld * %lld * %lld elements of %lld bytes "
                          "exceeds tconv's limit of 2^62 bytes (or size_t)",
                          what, factors, (long long)n0, (long long)n1, (long long)n2,
                          (long long)n3, (long long)esize);
    *elems = e;
    return TCONV_OK;
}

static void data_strides(tconv_layout l, int64_t c, int64_t h, int64_t w, tconv_data_strides *s)
{
    switch (l) {
    case TCONV_NCHW: /* [N][C][H][W]; with one channel the same memory as NHWC, and
                        described as NHWC, so that the kernels take their
                        channel-innermost paths (no copies: FSRCNN's 1-filter
                        output, single-channel images) */
        s->w = 1; s->h = w; s->c = c == 1 ? 1 : h * w; s->n = c * h * w;
        break;
    case TCONV_NHWC: /* [N][H][W][C] */
        s->c = 1; s->w = c; s->h = w * c; s->n = h * w * c;
        break;
    case TCONV_SSCB: /* column-major H x W x C x N = row-major [N][C][W][H] */
        s->h = 1; s->w = h; s->c = h * w; s->n = c * h * w;
        break;
    }
}

static void weight_strides(tconv_weight_layout l, int64_t cg, int64_t fg, int64_t kh, int64_t kw,
                           tconv_weight_strides *s)
{
    switch (l) {
    case TCONV_W_IOHW: /* [C][Fg][kh][kw] = [G][Cg][Fg][kh][kw] */
        s->kw = 1; s->kh = kw; s->m = kh * kw; s->cg = fg * kh * kw; s->g = cg * fg * kh * kw;
        break;
    case TCONV_W_OHWI: /* [F][kh][kw][Cg] = [G][Fg][kh][kw][Cg] */
        s->cg = 1; s->kw = cg; s->kh = kw * cg; s->m = kh * kw * cg; s->g = fg * kh * kw * cg;
        break;
    case TCONV_W_MATLAB: /* column-major kh x kw x Fg x Cg x G = row-major [G][Cg][Fg][kw][kh] */
        s->kh = 1; s->kw = kh; s->m = kh * kw; s->cg = fg * kh * kw; s->g = cg * fg * kh * kw;
        break;
    }
}

tconv_status tconv_problem_from_desc(const tconv_desc *d, tconv_problem *p)
{
    tconv_status st;
    if (!d) return tconv_fail(TCONV_EINVAL, "desc is NULL");
    if ((st = check_enums(d)) != TCONV_OK) return st;
    if ((st = check_size("batch", d->batch, TCONV_MAX_EXTENT)) != TCONV_OK ||
        (st = check_size("channels", d->channels, TCONV_MAX_CHANNELS)) != TCONV_OK ||
        (st = check_size("filters", d->filters, TCONV_MAX_CHANNELS)) != TCONV_OK ||
        (st = check_size("groups", d->groups, TCONV_MAX_CHANNELS)) != TCONV_OK)
        return st;

    int64_t keff_h, keff_w;
    memset(p, 0, sizeof *p);
    if ((st = tconv_dim_full_size("h", d->in_h, d->filter_h, d->stride_h, d->dilation_h, &keff_h,
                                  &p->full_h)) != TCONV_OK ||
        (st = tconv_dim_full_size("w", d->in_w, d->filter_w, d->stride_w, d->dilation_w, &keff_w,
                                  &p->full_w)) != TCONV_OK)
        return st;
    if (d->channels % d->groups != 0)
        return tconv_fail(TCONV_EINVAL, "groups (%lld) does not divide channels (%lld)",
                          (long long)d->groups, (long long)d->channels);
    if (d->filters % d->groups != 0)
        return tconv_fail(TCONV_EINVAL, "groups (%lld) does not divide filters (%lld)",
                          (long long)d->groups, (long long)d->filters);

    if (d->crop_mode == TCONV_CROP_SAME) {
        same_crops(keff_h, d->stride_h, &p->crop_top, &p->crop_bottom);
        same_crops(keff_w, d->stride_w, &p->crop_left, &p->crop_right);
    } else {
        p->crop_top = d->crop_top; p->crop_bottom = d->crop_bottom;
        p->crop_left = d->crop_left; p->crop_right = d->crop_right;
    }
    if ((st = cropped_size("height", "crop_top", "crop_bottom", p->full_h, p->crop_top,
                           p->crop_bottom, &p->out_h)) != TCONV_OK ||
        (st = cropped_size("width", "crop_left", "crop_right", p->full_w, p->crop_left,
                           p->crop_right, &p->out_w)) != TCONV_OK)
        return st;

    p->dtype = d->dtype;
    p->batch = d->batch;
    p->channels = d->channels; p->filters = d->filters; p->groups = d->groups;
    p->cg = d->channels / d->groups; p->fg = d->filters / d->groups;
    p->in_h = d->in_h; p->in_w = d->in_w;
    p->k_h = d->filter_h; p->k_w = d->filter_w;
    p->stride_h = d->stride_h; p->stride_w = d->stride_w;
    p->dil_h = d->dilation_h; p->dil_w = d->dilation_w;
    p->activation = d->activation;
    p->activation_alpha = d->activation_alpha;

    const int64_t es = tconv_dtype_size(d->dtype);
    if ((st = tensor_elems("x", "batch*channels*in_h*in_w", p->batch, p->channels, p->in_h,
                           p->in_w, es, &p->x_elems)) != TCONV_OK ||
        (st = tensor_elems("w", "channels*(filters/groups)*filter_h*filter_w", p->channels, p->fg,
                           p->k_h, p->k_w, es, &p->w_elems)) != TCONV_OK ||
        (st = tensor_elems("y", "batch*filters*out_h*out_w", p->batch, p->filters, p->out_h,
                           p->out_w, es, &p->y_elems)) != TCONV_OK)
        return st;

    /* Every stride below is a partial product of a count checked above. */
    data_strides(d->layout, p->channels, p->in_h, p->in_w, &p->x);
    data_strides(d->layout, p->filters, p->out_h, p->out_w, &p->y);
    weight_strides(d->weight_layout, p->cg, p->fg, p->k_h, p->k_w, &p->w);
    return TCONV_OK;
}

tconv_status tconv_desc_check(const tconv_desc *d)
{
    tconv_problem p;
    return tconv_problem_from_desc(d, &p);
}

tconv_status tconv_desc_output(const tconv_desc *d, int64_t *out_h, int64_t *out_w)
{
    tconv_problem p;
    tconv_status st = tconv_problem_from_desc(d, &p);
    if (st != TCONV_OK) return st;
    if (out_h) *out_h = p.out_h;
    if (out_w) *out_w = p.out_w;
    return TCONV_OK;
}

tconv_status tconv_desc_effective_crops(const tconv_desc *d, int64_t crops[4])
{
    if (!crops) return tconv_fail(TCONV_EINVAL, "crops is NULL");
    tconv_problem p;
    tconv_status st = tconv_problem_from_desc(d, &p);
    if (st != TCONV_OK) return st;
    crops[0] = p.crop_top; crops[1] = p.crop_bottom;
    crops[2] = p.crop_left; crops[3] = p.crop_right;
    return TCONV_OK;
}

tconv_status tconv_desc_tensor_size(const tconv_desc *d, tconv_tensor t, int64_t *elems,
                                    size_t *bytes)
{
    tconv_problem p;
    tconv_status st = tconv_problem_from_desc(d, &p);
    if (st != TCONV_OK) return st;
    int64_t n;
    switch ((int)t) {
    case TCONV_TENSOR_X: n = p.x_elems; break;
    case TCONV_TENSOR_W: n = p.w_elems; break;
    case TCONV_TENSOR_BIAS: n = p.filters; break;
    case TCONV_TENSOR_Y: n = p.y_elems; break;
    default:
        return tconv_fail(TCONV_EINVAL,
                          "tensor (%d) is not a tconv_tensor (TCONV_TENSOR_X, _W, _BIAS or _Y)",
                          (int)t);
    }
    if (elems) *elems = n;
    if (bytes) *bytes = (size_t)n * (size_t)tconv_dtype_size(p.dtype);
    return TCONV_OK;
}

const char *tconv_layout_name(tconv_layout l)
{
    switch (l) {
    case TCONV_NCHW: return "NCHW";
    case TCONV_NHWC: return "NHWC";
    case TCONV_SSCB: return "SSCB";
    }
    return "?";
}

const char *tconv_weight_layout_name(tconv_weight_layout l)
{
    switch (l) {
    case TCONV_W_IOHW: return "W_IOHW";
    case TCONV_W_OHWI: return "W_OHWI";
    case TCONV_W_MATLAB: return "W_MATLAB";
    }
    return "?";
}
