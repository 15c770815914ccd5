#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * With TCONV_REQUIRE_ISA=1, the ISA named by TCONV_ISA must be the one plans
 * use; otherwise (a CPU without it: tconv then warns and falls back) every
 * test of the program fails here, before any test runs, instead of passing
 * while testing another ISA.
 */
__attribute__((constructor)) static void require_isa(void)
{
    const char *want = getenv("TCONV_ISA"), *require = getenv("TCONV_REQUIRE_ISA");
    if (!want || !require || strcmp(require, "1") != 0) return;
    const char *got = tconv_isa_name(tconv_get_isa());
    if (strcmp(want, got) != 0) {
        fprintf(stderr, "testutil: TCONV_ISA=%s requested but plans use %s (the CPU's best is %s)\n",
                want, got, tconv_isa_name(tconv_cpu_isa()));
        exit(2);
    }
}

static int64_t floor_div2(int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

tu_shape tu_shape_of(const tconv_desc *d)
{
    tu_shape s;
    memset(&s, 0, sizeof s);
    s.n = d->batch; s.c = d->channels; s.f = d->filters; s.g = d->groups;
    s.cg = d->channels / d->groups; s.fg = d->filters / d->groups;
    s.ih = d->in_h; s.iw = d->in_w; s.kh = d->filter_h; s.kw = d->filter_w;
    s.sh = d->stride_h; s.sw = d->stride_w; s.dh = d->dilation_h; s.dw = d->dilation_w;
    int64_t keh = (s.kh - 1) * s.dh + 1, kew = (s.kw - 1) * s.dw + 1;
    s.full_h = (s.ih - 1) * s.sh + keh;
    s.full_w = (s.iw - 1) * s.sw + kew;
    if (d->crop_mode == TCONV_CROP_SAME) {
        int64_t th = keh - s.sh, tw = kew - s.sw;
        s.ct = th >= 0 ? floor_div2(th) : 0; s.cb = th - s.ct;
        s.cl = tw >= 0 ? floor_div2(tw) : 0; s.cr = tw - s.cl;
    } else {
        s.ct = d->crop_top; s.cb = d->crop_bottom; s.cl = d->crop_left; s.cr = d->crop_right;
    }
    s.oh = s.full_h - s.ct - s.cb;
    s.ow = s.full_w - s.cl - s.cr;
    return s;
}

static int64_t data_offset(tconv_layout l, int64_t N, int64_t C, int64_t H, int64_t W,
                           int64_t n, int64_t c, int64_t h, int64_t w)
{
    (void)N;
    switch (l) {
    case TCONV_NCHW: return ((n * C + c) * H + h) * W + w;
    case TCONV_NHWC: return ((n * H + h) * W + w) * C + c;
    case TCONV_SSCB: return h + H * (w + W * (c + C * n)); /* column-major H x W x C x N */
    }
    abort();
}

int64_t tu_x_offset(const tconv_desc *d, const tu_shape *s, int64_t n, int64_t c, int64_t h, int64_t w)
{
    return data_offset(d->layout, s->n, s->c, s->ih, s->iw, n, c, h, w);
}

int64_t tu_y_offset(const tconv_desc *d, const tu_shape *s, int64_t n, int64_t f, int64_t h, int64_t w)
{
    return data_offset(d->layout, s->n, s->f, s->oh, s->ow, n, f, h, w);
}

int64_t tu_w_offset(const tconv_desc *d, const tu_shape *s, int64_t c, int64_t m, int64_t kh, int64_t kw)
{
    int64_t g = c / s->cg, cg = c % s->cg;
    switch (d->weight_layout) {
    case TCONV_W_IOHW: return ((c * s->fg + m) * s->kh + kh) * s->kw + kw;
    case TCONV_W_OHWI: return (((g * s->fg + m) * s->kh + kh) * s->kw + kw) * s->cg + cg;
    case TCONV_W_MATLAB: /* column-major kh x kw x Fg x Cg x G */
        return kh + s->kh * (kw + s->kw * (m + s->fg * (cg + s->cg * g)));
    }
    abort();
}

int64_t tu_x_elems(const tu_shape *s) { return s->n * s->c * s->ih * s->iw; }
int64_t tu_w_elems(const tu_shape *s) { return s->c * s->fg * s->kh * s->kw; }
int64_t tu_y_elems(const tu_shape *s) { return s->n * s->f * s->oh * s->ow; }

void tu_forward_scatter(const tconv_desc *d, const double *x, const double *w, const double *bias,
                        double *y)
{
    tu_shape s = tu_shape_of(d);
    for (int64_t n = 0; n < s.n; n++)
        for (int64_t f = 0; f < s.f; f++)
            for (int64_t oh = 0; oh < s.oh; oh++)
                for (int64_t ow = 0; ow < s.ow; ow++)
                    y[tu_y_offset(d, &s, n, f, oh, ow)] = bias ? bias[f] : 0.0;
    for (int64_t n = 0; n < s.n; n++)
        for (int64_t c = 0; c < s.c; c++)
            for (int64_t ih = 0; ih < s.ih; ih++)
                for (int64_t iw = 0; iw < s.iw; iw++) {
                    double xv = x[tu_x_offset(d, &s, n, c, ih, iw)];
                    int64_t g = c / s.cg;
                    for (int64_t kh = 0; kh < s.kh; kh++) {
                        int64_t oh = ih * s.sh + kh * s.dh - s.ct;
                        if (oh < 0 || oh >= s.oh) continue;
                        for (int64_t kw = 0; kw < s.kw; kw++) {
                            int64_t ow = iw * s.sw + kw * s.dw - s.cl;
                            if (ow < 0 || ow >= s.ow) continue;
                            for (int64_t m = 0; m < s.fg; m++)
                                y[tu_y_offset(d, &s, n, g * s.fg + m, oh, ow)] +=
                                    xv * w[tu_w_offset(d, &s, c, m, kh, kw)];
                        }
                    }
                }
}

uint64_t tu_next(tu_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int64_t tu_range(tu_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(tu_next(r) % (uint64_t)(hi - lo + 1));
}

double tu_uniform(tu_rng *r) { return (double)(tu_next(r) >> 11) * 0x1p-52 - 1.0; }

void tu_fill(tu_rng *r, double *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++) v[i] = tu_uniform(r);
}

void *tu_to_dtype(tconv_dtype t, const double *v, int64_t n)
{
    size_t es = t == TCONV_F32 ? sizeof(float) : sizeof(double);
    void *out = malloc((size_t)(n > 0 ? n : 1) * es);
    if (!out) abort();
    for (int64_t i = 0; i < n; i++) {
        if (t == TCONV_F32) ((float *)out)[i] = (float)v[i];
        else ((double *)out)[i] = v[i];
    }
    return out;
}

double *tu_from_dtype(tconv_dtype t, const void *v, int64_t n)
{
    double *out = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    if (!out) abort();
    for (int64_t i = 0; i < n; i++)
        out[i] = t == TCONV_F32 ? (double)((const float *)v)[i] : ((const double *)v)[i];
    return out;
}

double tu_max_rel_diff(const double *a, const double *b, int64_t n)
{
    double scale = 1e-30, worst = 0.0;
    for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(b[i]));
    for (int64_t i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]) / scale;
        if (!(e <= worst)) worst = e; /* NaN propagates as the worst */
    }
    return worst;
}

double tu_tolerance(tconv_dtype t) { return t == TCONV_F32 ? 1e-4 : 1e-10; }

double tu_dot(const double *a, const double *b, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void copy_back(tconv_dtype t, const void *src, double *dst, int64_t n)
{
    double *v = tu_from_dtype(t, src, n);
    memcpy(dst, v, (size_t)n * sizeof(double));
    free(v);
}

tconv_status tu_run_forward(const tconv_plan *p, const tconv_desc *d, const double *x,
                            const double *w, const double *bias, double *y)
{
    tu_shape s = tu_shape_of(d);
    void *xb = tu_to_dtype(d->dtype, x, tu_x_elems(&s));
    void *wb = tu_to_dtype(d->dtype, w, tu_w_elems(&s));
    void *bb = bias ? tu_to_dtype(d->dtype, bias, s.f) : NULL;
    void *yb = tu_to_dtype(d->dtype, y, tu_y_elems(&s));
    tconv_status st = tconv_forward(p, xb, wb, bb, yb);
    copy_back(d->dtype, yb, y, tu_y_elems(&s));
    free(xb); free(wb); free(bb); free(yb);
    return st;
}

tconv_status tu_run_backward_data(const tconv_plan *p, const tconv_desc *d, const double *dy,
                                  const double *w, double *dx)
{
    tu_shape s = tu_shape_of(d);
    void *dyb = tu_to_dtype(d->dtype, dy, tu_y_elems(&s));
    void *wb = tu_to_dtype(d->dtype, w, tu_w_elems(&s));
    void *dxb = tu_to_dtype(d->dtype, dx, tu_x_elems(&s));
    tconv_status st = tconv_backward_data(p, dyb, wb, dxb);
    copy_back(d->dtype, dxb, dx, tu_x_elems(&s));
    free(dyb); free(wb); free(dxb);
    return st;
}

tconv_status tu_run_backward_weights(const tconv_plan *p, const tconv_desc *d, const double *x,
                                     const double *dy, double *dw, double *dbias)
{
    tu_shape s = tu_shape_of(d);
    void *xb = tu_to_dtype(d->dtype, x, tu_x_elems(&s));
    void *dyb = tu_to_dtype(d->dtype, dy, tu_y_elems(&s));
    void *dwb = tu_to_dtype(d->dtype, dw, tu_w_elems(&s));
    void *dbb = dbias ? tu_to_dtype(d->dtype, dbias, s.f) : NULL;
    tconv_status st = tconv_backward_weights(p, xb, dyb, dwb, dbb);
    copy_back(d->dtype, dwb, dw, tu_w_elems(&s));
    if (dbias) copy_back(d->dtype, dbb, dbias, s.f);
    free(xb); free(dyb); free(dwb); free(dbb);
    return st;
}

const char *tu_describe(const tconv_desc *d, char *buf, size_t n)
{
    snprintf(buf, n,
             "layout %d wlayout %d dtype %d: N%lld C%lld F%lld G%lld in %lldx%lld k %lldx%lld "
             "s %lldx%lld d %lldx%lld crop mode %d %lld,%lld,%lld,%lld",
             (int)d->layout, (int)d->weight_layout, (int)d->dtype, (long long)d->batch,
             (long long)d->channels, (long long)d->filters, (long long)d->groups,
             (long long)d->in_h, (long long)d->in_w, (long long)d->filter_h,
             (long long)d->filter_w, (long long)d->stride_h, (long long)d->stride_w,
             (long long)d->dilation_h, (long long)d->dilation_w, (int)d->crop_mode,
             (long long)d->crop_top, (long long)d->crop_bottom, (long long)d->crop_left,
             (long long)d->crop_right);
    return buf;
}

tconv_desc tu_random_desc(tu_rng *r, const tu_combo *k, int64_t max_per_group)
{
    for (;;) {
        tconv_desc d;
        tconv_desc_init(&d);
        d.layout = k->layout;
        d.weight_layout = k->weight_layout;
        d.dtype = k->dtype;
        d.batch = tu_range(r, 1, 3);
        d.groups = tu_range(r, 1, 3);
        d.channels = d.groups * tu_range(r, 1, max_per_group);
        d.filters = d.groups * tu_range(r, 1, max_per_group);
        d.in_h = tu_range(r, 1, 5);
        d.in_w = tu_range(r, 1, 5);
        d.filter_h = tu_range(r, 1, 5);
        d.filter_w = tu_range(r, 1, 5);
        d.stride_h = tu_range(r, 1, 4);
        d.stride_w = tu_range(r, 1, 4);
        d.dilation_h = tu_range(r, 1, 3);
        d.dilation_w = tu_range(r, 1, 3);
        if (tu_range(r, 0, 4) == 0) {
            d.crop_mode = TCONV_CROP_SAME;
        } else {
            tu_shape s = tu_shape_of(&d); /* full sizes; crops still zero */
            d.crop_top = tu_range(r, -2, s.full_h / 2);
            d.crop_bottom = tu_range(r, -2, s.full_h / 2);
            d.crop_left = tu_range(r, -2, s.full_w / 2);
            d.crop_right = tu_range(r, -2, s.full_w / 2);
        }
        tu_shape s = tu_shape_of(&d);
        if (s.oh >= 1 && s.ow >= 1) return d;
    }
}

const char *tu_first_channels_tile(tconv_isa isa, tconv_dtype t, int *nr)
{
    for (int i = 0; tconv_kernel_name(isa, i); i++) {
        const char *name = tconv_kernel_name(isa, i);
        int mr = 0, n = 0;
        if (strncmp(name, t == TCONV_F64 ? "f64_fwd_" : "f32_fwd_", 8) != 0 || strstr(name, "_px") ||
            sscanf(name, "f%*d_fwd_%dx%d", &mr, &n) != 2)
            continue;
        if (nr) *nr = n;
        return name;
    }
    return NULL;
}
