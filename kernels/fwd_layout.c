/*
 * The forward pass's layout edges: the caller's input re-laid (and padded)
 * for the kernels, and the NHWC scratch output converted to the caller's
 * layout. Each copies whole runs (memcpy where contiguous), never one element
 * at a time through a dtype switch.
 */
#include <string.h>

#include "kernels/fwd_internal.h"

/* dst[i * dst_stride] = src[i * src_stride] for i < count, in the driver's
 * element type (strides in elements). Contiguous runs become memcpy. */
static void copy_run(const tconv_fwd_driver *d, char *dst, int64_t dst_stride, const char *src,
                     int64_t src_stride, int64_t count)
{
    if (dst_stride == 1 && src_stride == 1) {
        memcpy(dst, src, (size_t)(count * d->esize));
    } else if (d->esize == 8) {
        double *o = (double *)dst;
        const double *i = (const double *)src;
        for (int64_t k = 0; k < count; k++) o[k * dst_stride] = i[k * src_stride];
    } else {
        float *o = (float *)dst;
        const float *i = (const float *)src;
        for (int64_t k = 0; k < count; k++) o[k * dst_stride] = i[k * src_stride];
    }
}

static void zero_run(const tconv_fwd_driver *d, char *dst, int64_t count)
{
    memset(dst, 0, (size_t)(count * d->esize));
}

/* Whether the CHANNELS family can read x in place: already channel-innermost
 * and dense, and no tap ever reads outside the image. */
int tconv_fwd_input_in_place(const tconv_fwd_driver *d)
{
    const tconv_problem *p = &d->p;
    return d->uk->family == TCONV_UK_CHANNELS && d->pad_h == 0 && d->pad_w == 0 && p->x.c == 1 &&
           p->x.w == p->channels && p->x.h == p->in_w * p->channels;
}

/* The input, zero-padded by pad_h/pad_w, as NHWC [N][hp][wp][C] (CHANNELS
 * family) or channel-planar [N][C][hp][wp] (PIXELS family); only the border
 * is zeroed, the interior is copied a row at a time. */
void tconv_fwd_pad_input(const tconv_fwd_driver *d, const void *x, void *xp_)
{
    const tconv_problem *p = &d->p;
    const int64_t es = d->esize, C = p->channels, W = p->in_w;
    const int64_t right = d->wp - W - d->pad_w; /* padding columns right of the image */
    const char *xs = x;
    char *xp = xp_;
    if (d->uk->family == TCONV_UK_PIXELS) {
        for (int64_t n = 0; n < p->batch; n++)
            for (int64_t c = 0; c < C; c++) {
                char *plane = xp + (n * C + c) * d->hp * d->wp * es;
                zero_run(d, plane, d->pad_h * d->wp);
                for (int64_t h = 0; h < p->in_h; h++) {
                    char *row = plane + (h + d->pad_h) * d->wp * es;
                    zero_run(d, row, d->pad_w);
                    copy_run(d, row + d->pad_w * es, 1, xs + tconv_x_index(p, n, c, h, 0) * es,
                             p->x.w, W);
                    zero_run(d, row + (d->pad_w + W) * es, right);
                }
                zero_run(d, plane + (d->pad_h + p->in_h) * d->wp * es,
                         (d->hp - d->pad_h - p->in_h) * d->wp);
            }
        return;
    }
    for (int64_t n = 0; n < p->batch; n++) {
        char *image = xp + n * d->hp * d->wp * C * es;
        zero_run(d, image, d->pad_h * d->wp * C);
        for (int64_t h = 0; h < p->in_h; h++) {
            char *row = image + (h + d->pad_h) * d->wp * C * es;
            zero_run(d, row, d->pad_w * C);
            char *pixels = row + d->pad_w * C * es;
            if (p->x.c == 1 && p->x.w == C) /* NHWC: the row is one run */
                copy_run(d, pixels, 1, xs + tconv_x_index(p, n, 0, h, 0) * es, 1, W * C);
            else /* one run per channel, along the row */
                for (int64_t c = 0; c < C; c++)
                    copy_run(d, pixels + c * es, C, xs + tconv_x_index(p, n, c, h, 0) * es, p->x.w,
                             W);
            zero_run(d, row + (d->pad_w + W) * C * es, right * C);
        }
        zero_run(d, image + (d->pad_h + p->in_h) * d->wp * C * es,
                 (d->hp - d->pad_h - p->in_h) * d->wp * C);
    }
}

/* NHWC scratch to the caller's layout, one run per channel along each row. */
void tconv_fwd_unpack_output(const tconv_fwd_driver *d, const void *ys, void *y)
{
    const tconv_problem *p = &d->p;
    const int64_t es = d->esize, F = p->filters;
    for (int64_t n = 0; n < p->batch; n++)
        for (int64_t h = 0; h < p->out_h; h++) {
            const char *row = (const char *)ys + ((n * p->out_h + h) * p->out_w * F) * es;
            for (int64_t f = 0; f < F; f++)
                copy_run(d, (char *)y + tconv_y_index(p, n, f, h, 0) * es, p->y.w, row + f * es,
                         F, p->out_w);
        }
}

void tconv_fwd_activate(const tconv_fwd_driver *d, void *p, int64_t n)
{
    const tconv_problem *pr = &d->p;
    if (pr->activation == TCONV_ACT_NONE) return;
    if (d->esize == 8) d->act->fwd_f64(pr->activation, pr->activation_alpha, p, n);
    else d->act->fwd_f32(pr->activation, (float)pr->activation_alpha, p, n);
}
