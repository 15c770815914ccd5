/*
 * The forward pass's layout edges: the caller's input re-laid (and padded)
 * for the kernels, and the NHWC scratch output converted to the caller's
 * layout. Each copies whole runs (memcpy where contiguous), never one element
 * at a time through a dtype switch.
 */
#include <string.h>

#include "kernels/fwd_internal.h"
#include "runtime/threads.h"

static void copy_run(const tconv_fwd_driver *d, char *dst, int64_t dst_stride, const char *src,
                     int64_t src_stride, int64_t count)
{
    tconv_copy_run(d->esize, dst, dst_stride, src, src_stride, count);
}

static void zero_run(const tconv_fwd_driver *d, char *dst, int64_t count)
{
    memset(dst, 0, (size_t)(count * d->esize));
}

/* Whether the kernels read x in place: the CHANNELS family when x is
 * already channel-innermost and dense and no tap ever reads outside the
 * image; the scatter mode's PIXELS tiles always (fwd_scatter.c copies each
 * row as it goes). */
int tconv_fwd_input_in_place(const tconv_fwd_driver *d)
{
    const tconv_problem *p = &d->p;
    if (d->mode == TCONV_FWD_SCATTER && d->uk->family == TCONV_UK_PIXELS) return 1;
    return d->uk->family == TCONV_UK_CHANNELS && d->pad_h == 0 && d->pad_w == 0 && p->x.c == 1 &&
           p->x.w == p->channels && p->x.h == p->in_w * p->channels;
}

/* What a range task of the layout edges needs. */
typedef struct layout_job {
    const tconv_fwd_driver *d;
    const char *src;
    char *dst;
} layout_job;

/*
 * The PIXELS family's padded input: its tiles step from one channel to the
 * next at every reduction step. From a planar x (NCHW) it stays planar,
 * [N][C][hp][wp], copied plane by plane. From a channel-innermost x (NHWC)
 * it is row-interleaved, [N][hp][C][wp] (each channel's row in turn), so
 * that a row of x is transposed into one contiguous block instead of being
 * spread over C planes: DCGAN 64->3 at batch 16 in NHWC 3.8 -> 2.9 ms,
 * pix2pix 128->3 8.0 -> 7.0 (AMD EPYC, AVX2). Planar x stays planar:
 * interleaving it changed ENet's 16->16 and 16->19 layers by -8% and +12%.
 */
void tconv_fwd_pixels_strides(tconv_fwd_driver *d)
{
    const int planar = d->p.x.w == 1;
    d->px_chan = planar ? d->hp * d->wp : d->wp;
    d->px_row = planar ? d->wp : d->p.channels * d->wp;
}

/* Planes [begin, end) of the flat (image, channel) range, padded into the
 * channel-planar form. */
static void pad_planes(void *arg, int64_t begin, int64_t end)
{
    const layout_job *j = arg;
    const tconv_fwd_driver *d = j->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->esize, C = p->channels, W = p->in_w;
    const int64_t right = d->wp - W - d->pad_w; /* padding columns right of the image */
    for (int64_t nc = begin; nc < end; nc++) {
        const int64_t n = nc / C, c = nc % C;
        char *plane = j->dst + nc * d->hp * d->wp * es;
        zero_run(d, plane, d->pad_h * d->wp);
        for (int64_t h = 0; h < p->in_h; h++) {
            char *row = plane + (h + d->pad_h) * d->wp * es;
            zero_run(d, row, d->pad_w);
            copy_run(d, row + d->pad_w * es, 1, j->src + tconv_x_index(p, n, c, h, 0) * es,
                     p->x.w, W);
            zero_run(d, row + (d->pad_w + W) * es, right);
        }
        zero_run(d, plane + (d->pad_h + p->in_h) * d->wp * es,
                 (d->hp - d->pad_h - p->in_h) * d->wp);
    }
}

/* Padded rows [begin, end) of the flat (image, padded row) range, into the
 * row-interleaved form: x's row transposed into the channels' rows at once
 * (tconv_copy_runs). */
static void pad_rows_interleaved(void *arg, int64_t begin, int64_t end)
{
    const layout_job *j = arg;
    const tconv_fwd_driver *d = j->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->esize, C = p->channels, W = p->in_w;
    const int64_t right = d->wp - W - d->pad_w; /* padding columns right of the image */
    for (int64_t nu = begin; nu < end; nu++) {
        const int64_t n = nu / d->hp, h = nu % d->hp - d->pad_h;
        char *row = j->dst + nu * C * d->wp * es; /* channel 0's */
        if (h < 0 || h >= p->in_h) {
            zero_run(d, row, C * d->wp);
            continue;
        }
        for (int64_t c = 0; c < C; c++) {
            zero_run(d, row + c * d->wp * es, d->pad_w);
            zero_run(d, row + (c * d->wp + d->pad_w + W) * es, right);
        }
        tconv_copy_runs(d->uk->transposes, es, row + d->pad_w * es, d->wp, 1, j->src + tconv_x_index(p, n, 0, h, 0) * es,
                        p->x.c, p->x.w, W, C);
    }
}

/* Images [begin, end), padded into the NHWC [N][hp][wp][C] form (CHANNELS
 * family). */
static void pad_images(void *arg, int64_t begin, int64_t end)
{
    const layout_job *j = arg;
    const tconv_fwd_driver *d = j->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->esize, C = p->channels, W = p->in_w;
    const int64_t right = d->wp - W - d->pad_w;
    for (int64_t n = begin; n < end; n++) {
        char *image = j->dst + n * d->hp * d->wp * C * es;
        zero_run(d, image, d->pad_h * d->wp * C);
        for (int64_t h = 0; h < p->in_h; h++) {
            char *row = image + (h + d->pad_h) * d->wp * C * es;
            zero_run(d, row, d->pad_w * C);
            char *pixels = row + d->pad_w * C * es;
            if (p->x.c == 1 && p->x.w == C) /* NHWC: the row is one run */
                copy_run(d, pixels, 1, j->src + tconv_x_index(p, n, 0, h, 0) * es, 1, W * C);
            else /* one run per channel, along the row */
                tconv_copy_runs(d->uk->transposes, es, pixels, 1, C, j->src + tconv_x_index(p, n, 0, h, 0) * es,
                                p->x.c, p->x.w, W, C);
            zero_run(d, row + (d->pad_w + W) * C * es, right * C);
        }
        zero_run(d, image + (d->pad_h + p->in_h) * d->wp * C * es,
                 (d->hp - d->pad_h - p->in_h) * d->wp * C);
    }
}

/* The input, zero-padded by pad_h/pad_w, in the kernels' form (see
 * fwd_internal.h); only the border is zeroed, the interior is copied a row
 * at a time. Split by planes, rows or images (a copy is cheap beside the
 * convolution: the point is only that it does not run on one core while
 * the others wait). */
void tconv_fwd_pad_input(const tconv_fwd_driver *d, const void *x, void *xp)
{
    layout_job j = {d, x, xp};
    if (d->uk->family != TCONV_UK_PIXELS)
        tconv_parallel_ranges(d->p.batch, 1, pad_images, &j);
    else if (d->px_row == d->wp) /* planar, as tconv_fwd_pixels_strides chose (with one
                                    channel both forms are the same) */
        tconv_parallel_ranges(d->p.batch * d->p.channels, 1, pad_planes, &j);
    else
        tconv_parallel_ranges(d->p.batch * d->hp, 1, pad_rows_interleaved, &j);
}

/* Rows [begin, end) of the flat (image, output row) range. */
static void unpack_rows(void *arg, int64_t begin, int64_t end)
{
    const layout_job *j = arg;
    const tconv_fwd_driver *d = j->d;
    const tconv_problem *p = &d->p;
    const int64_t es = d->esize, F = p->filters;
    for (int64_t nh = begin; nh < end; nh++) {
        const int64_t n = nh / p->out_h, h = nh % p->out_h;
        const char *row = j->src + nh * p->out_w * F * es;
        tconv_copy_runs(d->uk->transposes, es, j->dst + tconv_y_index(p, n, 0, h, 0) * es, p->y.c, p->y.w, row, 1, F,
                        p->out_w, F);
    }
}

/* NHWC scratch to the caller's layout, one run per channel along each row. */
void tconv_fwd_unpack_output(const tconv_fwd_driver *d, const void *ys, void *y)
{
    layout_job j = {d, ys, y};
    tconv_parallel_ranges(d->p.batch * d->p.out_h, 1, unpack_rows, &j);
}

void tconv_fwd_activate(const tconv_fwd_driver *d, void *p, int64_t n)
{
    const tconv_problem *pr = &d->p;
    if (pr->activation == TCONV_ACT_NONE) return;
    if (d->esize == 8) d->act->fwd_f64(pr->activation, pr->activation_alpha, p, n);
    else d->act->fwd_f32(pr->activation, (float)pr->activation_alpha, p, n);
}

/* The whole-output sweep works in blocks of 64 elements, so that every
 * split leaves the same elements to the vector loops' tails (which may take
 * another path) as one thread does: the last ones. */
#define ACTIVATE_BLOCK 64

typedef struct activate_job {
    const tconv_fwd_driver *d;
    char *p;
    int64_t n;
} activate_job;

static void activate_blocks(void *arg, int64_t begin, int64_t end)
{
    const activate_job *j = arg;
    const int64_t first = begin * ACTIVATE_BLOCK;
    const int64_t last = min64(end * ACTIVATE_BLOCK, j->n);
    tconv_fwd_activate(j->d, j->p + first * j->d->esize, last - first);
}

void tconv_fwd_activate_all(const tconv_fwd_driver *d, void *p, int64_t n)
{
    if (d->p.activation == TCONV_ACT_NONE) return;
    activate_job j = {d, p, n};
    /* 256 blocks (16 Ki elements) per task at least: a tanh of them takes
     * ~20 us, well above the cost of handing out a task. */
    tconv_parallel_ranges((n + ACTIVATE_BLOCK - 1) / ACTIVATE_BLOCK, 256, activate_blocks, &j);
}
