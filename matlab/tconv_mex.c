/*
 * tconv_mex: the one MEX gateway between MATLAB/Octave and libtconv.
 *
 * Built by Octave's `mkoctfile --mex` (scripts/octave.sh) or MATLAB's `mex`
 * (README, "MATLAB and Octave"); it uses only the public header. The .m
 * files in this folder (transposedConv2dLayer, dltranspconv, ...) validate
 * the user's arguments with MATLAB's identifiers and call it as
 *
 *   Y          = tconv_mex('forward',          cfg, X, W, B)      B may be []
 *   dX         = tconv_mex('backward_data',    cfg, dY, W)
 *   [dW, dB]   = tconv_mex('backward_weights', cfg, X, dY)
 *   W          = tconv_mex('init_weights',     cfg, kind, seed, cls)
 *   B          = tconv_mex('init_bias',        cfg, kind, seed, cls)
 *   [W,vW,B,vB]= tconv_mex('sgdm', cfg, factors, opts, W, dW, vW, B, dB, vB)
 *   sz         = tconv_mex('output_size',      cfg)               [out_h out_w]
 *   v          = tconv_mex('version')
 *                tconv_mex('clear')            destroys the cached plans
 *
 * cfg is a real double vector of CFG_LEN values (see enum cfg_index):
 * sizes, stride, dilation, groups, crop mode and crops, in MATLAB's terms
 * (H is the first dimension of X). Data is SSCB (H x W x C x N, column-major)
 * and weights MATLAB's kh x kw x F/g x C/g x g, which tconv's TCONV_SSCB and
 * TCONV_W_MATLAB layouts read in place: no transpose copy is made.
 *
 * Nothing here trusts its caller: every mxArray's class, realness,
 * sparsity and exact size is checked against the desc before its data is
 * touched, so a bad call is an error (identifier "tconv:mex:...") and never
 * a crash or an out-of-bounds read or write.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mex.h"
#include <tconv.h>

enum cfg_index {
    CFG_BATCH, CFG_CHANNELS, CFG_IN_H, CFG_IN_W, CFG_FILTERS, CFG_FILTER_H, CFG_FILTER_W,
    CFG_STRIDE_H, CFG_STRIDE_W, CFG_DILATION_H, CFG_DILATION_W, CFG_GROUPS, CFG_SAME,
    CFG_CROP_TOP, CFG_CROP_BOTTOM, CFG_CROP_LEFT, CFG_CROP_RIGHT, CFG_LEN
};

static const char *const cfg_names[CFG_LEN] = {
    "batch", "channels", "in_h", "in_w", "filters", "filter_h", "filter_w",
    "stride_h", "stride_w", "dilation_h", "dilation_w", "groups", "same",
    "crop_top", "crop_bottom", "crop_left", "crop_right"
};

/* ------------------------------------------------------------------------ */
/* Plan cache: a few plans keyed by their desc, so that a training loop or   */
/* repeated predict calls plan once. Destroyed at mexAtExit (clear mex,      */
/* exit) or by tconv_mex('clear').                                           */
/* ------------------------------------------------------------------------ */

#define CACHE_SIZE 16

static struct {
    tconv_desc desc;
    tconv_plan *plan;
} cache[CACHE_SIZE];
static int cache_next; /* round-robin victim */
static int at_exit_registered;

static void cache_clear(void)
{
    for (int i = 0; i < CACHE_SIZE; i++) {
        tconv_plan_destroy(cache[i].plan);
        cache[i].plan = NULL;
    }
    cache_next = 0;
}

/* Field by field: the struct's padding bytes are not part of the key. */
static int desc_equal(const tconv_desc *a, const tconv_desc *b)
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
           a->activation_alpha == b->activation_alpha;
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

static void fail(const char *id, const char *fmt, const char *a, const char *b)
{
    char msg[1024];
    snprintf(msg, sizeof msg, fmt, a, b);
    mexErrMsgIdAndTxt(id, "%s", msg);
}

/* Maps a tconv failure to an error naming the call and tconv's own message
 * (which names the field and its value). */
static void check_status(tconv_status st, const char *what)
{
    if (st == TCONV_OK) return;
    const char *id = "tconv:mex:Failed";
    switch (st) {
    case TCONV_EINVAL: id = "tconv:mex:InvalidArgument"; break;
    case TCONV_EOVERFLOW: id = "tconv:mex:Overflow"; break;
    case TCONV_ENOMEM: id = "tconv:mex:OutOfMemory"; break;
    case TCONV_EUNSUPPORTED: id = "tconv:mex:Unsupported"; break;
    default: break;
    }
    char msg[1024];
    snprintf(msg, sizeof msg, "%s: %s: %s", what, tconv_strerror(st), tconv_last_error());
    mexErrMsgIdAndTxt(id, "%s", msg);
}

static tconv_plan *get_plan(const tconv_desc *d)
{
    for (int i = 0; i < CACHE_SIZE; i++)
        if (cache[i].plan && desc_equal(&cache[i].desc, d)) return cache[i].plan;
    tconv_plan *p = NULL;
    check_status(tconv_plan_create(&p, d, 0), "tconv_plan_create");
    int slot = cache_next;
    cache_next = (cache_next + 1) % CACHE_SIZE;
    tconv_plan_destroy(cache[slot].plan);
    cache[slot].desc = *d;
    cache[slot].plan = p;
    return p;
}

/* ------------------------------------------------------------------------ */
/* Argument checks                                                           */
/* ------------------------------------------------------------------------ */

/* A real, full (not sparse) numeric array of the given class. */
static void check_array(const mxArray *a, mxClassID cls, const char *name)
{
    if (!a) fail("tconv:mex:MissingArgument", "%s is missing%s", name, "");
    if (mxGetClassID(a) != cls)
        fail("tconv:mex:InvalidClass", "%s must be %s", name,
             cls == mxSINGLE_CLASS ? "single" : "double");
    if (mxIsComplex(a) || mxIsSparse(a))
        fail("tconv:mex:InvalidClass", "%s must be real and full (not complex, not sparse)%s",
             name, "");
}

/* a's size must be exactly dims[0..n-1]: MATLAB drops trailing singleton
 * dimensions, so missing dimensions count as 1 and extra ones must be 1. */
static void check_dims(const mxArray *a, const int64_t *dims, int n, const char *name)
{
    const mwSize nd = mxGetNumberOfDimensions(a);
    const mwSize *ad = mxGetDimensions(a);
    const int m = (int)nd > n ? (int)nd : n;
    int ok = 1;
    for (int i = 0; i < m; i++) {
        const int64_t want = i < n ? dims[i] : 1;
        const int64_t have = i < (int)nd ? (int64_t)ad[i] : 1;
        if (want != have) ok = 0;
    }
    if (ok) return;
    char want_s[256] = "", have_s[256] = "";
    size_t len = 0;
    for (int i = 0; i < n && len < sizeof want_s - 24; i++)
        len += (size_t)snprintf(want_s + len, sizeof want_s - len, "%s%lld", i ? "x" : "",
                                (long long)dims[i]);
    len = 0;
    for (mwSize i = 0; i < nd && len < sizeof have_s - 24; i++)
        len += (size_t)snprintf(have_s + len, sizeof have_s - len, "%s%llu", i ? "x" : "",
                                (unsigned long long)ad[i]);
    char both[600];
    snprintf(both, sizeof both, "%s, not %s", want_s, have_s);
    fail("tconv:mex:InvalidSize", "%s must be %s", name, both);
}

/* The cfg vector as a desc (SSCB, MATLAB weights, dtype set later). */
static void read_cfg(const mxArray *a, tconv_desc *d)
{
    check_array(a, mxDOUBLE_CLASS, "cfg");
    if (mxGetNumberOfElements(a) != CFG_LEN) {
        char n[32];
        snprintf(n, sizeof n, "%d", CFG_LEN);
        fail("tconv:mex:InvalidSize", "cfg must hold %s values%s", n, "");
    }
    const double *v = mxGetPr(a);
    int64_t c[CFG_LEN];
    for (int i = 0; i < CFG_LEN; i++) {
        /* tconv rejects absurd values with a message; here only what cannot
         * be converted to int64_t safely is refused. */
        if (!(fabs(v[i]) <= 9007199254740992.0) || v[i] != floor(v[i]))
            fail("tconv:mex:InvalidArgument", "cfg's %s must be an integer below 2^53%s",
                 cfg_names[i], "");
        c[i] = (int64_t)v[i];
    }
    memset(d, 0, sizeof *d);
    tconv_desc_init(d);
    d->batch = c[CFG_BATCH];
    d->channels = c[CFG_CHANNELS];
    d->in_h = c[CFG_IN_H];
    d->in_w = c[CFG_IN_W];
    d->filters = c[CFG_FILTERS];
    d->filter_h = c[CFG_FILTER_H];
    d->filter_w = c[CFG_FILTER_W];
    d->stride_h = c[CFG_STRIDE_H];
    d->stride_w = c[CFG_STRIDE_W];
    d->dilation_h = c[CFG_DILATION_H];
    d->dilation_w = c[CFG_DILATION_W];
    d->groups = c[CFG_GROUPS];
    d->layout = TCONV_SSCB;
    d->weight_layout = TCONV_W_MATLAB;
    if (c[CFG_SAME]) {
        d->crop_mode = TCONV_CROP_SAME;
    } else {
        d->crop_mode = TCONV_CROP_MANUAL;
        d->crop_top = c[CFG_CROP_TOP];
        d->crop_bottom = c[CFG_CROP_BOTTOM];
        d->crop_left = c[CFG_CROP_LEFT];
        d->crop_right = c[CFG_CROP_RIGHT];
    }
}

static mxClassID class_of(tconv_dtype t) { return t == TCONV_F64 ? mxDOUBLE_CLASS : mxSINGLE_CLASS; }

/* The dtype is the class of the first data argument, which must be single or
 * double; every other array of the call must then have the same class. */
static tconv_dtype dtype_of(const mxArray *a, const char *name)
{
    if (!a) fail("tconv:mex:MissingArgument", "%s is missing%s", name, "");
    if (mxIsDouble(a)) return TCONV_F64;
    if (mxIsSingle(a)) return TCONV_F32;
    fail("tconv:mex:InvalidClass", "%s must be single or double, not %s", name,
         mxGetClassName(a));
    return TCONV_F32;
}

/* Sizes of MATLAB's arrays for a validated desc. */
static void x_dims(const tconv_desc *d, int64_t dims[4])
{
    dims[0] = d->in_h; dims[1] = d->in_w; dims[2] = d->channels; dims[3] = d->batch;
}

static void y_dims(const tconv_desc *d, int64_t dims[4])
{
    int64_t oh = 0, ow = 0;
    check_status(tconv_desc_output(d, &oh, &ow), "tconv_desc_output");
    dims[0] = oh; dims[1] = ow; dims[2] = d->filters; dims[3] = d->batch;
}

/* kh x kw x F x C, or kh x kw x F/g x C/g x g when grouped. */
static int w_dims(const tconv_desc *d, int64_t dims[5])
{
    dims[0] = d->filter_h; dims[1] = d->filter_w;
    dims[2] = d->filters / d->groups; dims[3] = d->channels / d->groups;
    dims[4] = d->groups;
    return d->groups > 1 ? 5 : 4;
}

static mxArray *create(const int64_t *dims, int n, tconv_dtype t)
{
    mwSize md[5];
    for (int i = 0; i < n; i++) md[i] = (mwSize)dims[i];
    mxArray *a = mxCreateNumericArray((mwSize)n, md, class_of(t), mxREAL);
    if (!a) fail("tconv:mex:OutOfMemory", "cannot allocate the output%s%s", "", "");
    return a;
}

static const mxArray *arg(int nrhs, const mxArray *prhs[], int i)
{
    return i < nrhs ? prhs[i] : NULL;
}

static void check_nargs(int nrhs, int want, int nlhs, int max_out, const char *cmd)
{
    char n[64];
    if (nrhs != want) {
        snprintf(n, sizeof n, "%d inputs (got %d)", want, nrhs);
        fail("tconv:mex:WrongNumberOfArguments", "tconv_mex('%s') takes %s", cmd, n);
    }
    if (nlhs > max_out) {
        snprintf(n, sizeof n, "%d outputs", max_out);
        fail("tconv:mex:WrongNumberOfArguments", "tconv_mex('%s') returns at most %s", cmd, n);
    }
}

/* An initializer name as tconv's enum. */
static tconv_initializer read_kind(const mxArray *a)
{
    static const struct { const char *name; tconv_initializer kind; } kinds[] = {
        {"glorot", TCONV_INIT_GLOROT}, {"he", TCONV_INIT_HE},
        {"narrow-normal", TCONV_INIT_NARROW_NORMAL}, {"zeros", TCONV_INIT_ZEROS},
        {"ones", TCONV_INIT_ONES},
    };
    char buf[32];
    if (!a || !mxIsChar(a) || mxGetNumberOfElements(a) >= sizeof buf ||
        mxGetString(a, buf, sizeof buf) != 0)
        fail("tconv:mex:InvalidArgument",
             "the initializer must be 'glorot', 'he', 'narrow-normal', 'zeros' or 'ones'%s%s", "",
             "");
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(buf, kinds[i].name) == 0) return kinds[i].kind;
    fail("tconv:mex:InvalidArgument", "unknown initializer '%s'%s", buf, "");
    return TCONV_INIT_ZEROS;
}

/* A seed: a real scalar uint64, or a double holding an integer in [0, 2^53]. */
static uint64_t read_seed(const mxArray *a)
{
    if (a && mxGetNumberOfElements(a) == 1 && !mxIsComplex(a) && !mxIsSparse(a)) {
        if (mxGetClassID(a) == mxUINT64_CLASS) return *(const uint64_t *)mxGetData(a);
        if (mxIsDouble(a)) {
            const double v = mxGetScalar(a);
            if (v >= 0 && v <= 9007199254740992.0 && v == floor(v)) return (uint64_t)v;
        }
    }
    fail("tconv:mex:InvalidArgument",
         "the seed must be a uint64 scalar or a double integer in [0, 2^53]%s%s", "", "");
    return 0;
}

static tconv_dtype read_class_name(const mxArray *a)
{
    char buf[16];
    if (a && mxIsChar(a) && mxGetNumberOfElements(a) < sizeof buf &&
        mxGetString(a, buf, sizeof buf) == 0) {
        if (strcmp(buf, "single") == 0) return TCONV_F32;
        if (strcmp(buf, "double") == 0) return TCONV_F64;
    }
    fail("tconv:mex:InvalidArgument", "the class must be 'single' or 'double'%s%s", "", "");
    return TCONV_F32;
}

/* A real double vector of n finite values. */
static void read_doubles(const mxArray *a, double *out, size_t n, const char *name)
{
    check_array(a, mxDOUBLE_CLASS, name);
    if (mxGetNumberOfElements(a) != n) {
        char s[32];
        snprintf(s, sizeof s, "%zu", n);
        fail("tconv:mex:InvalidSize", "%s must hold %s values", name, s);
    }
    memcpy(out, mxGetPr(a), n * sizeof *out);
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                  */
/* ------------------------------------------------------------------------ */

static void cmd_forward(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[])
{
    check_nargs(nrhs, 5, nlhs, 1, "forward");
    tconv_desc d;
    read_cfg(prhs[1], &d);
    d.dtype = dtype_of(prhs[2], "X");
    check_status(tconv_desc_check(&d), "tconv_desc_check");
    const mxClassID cls = class_of(d.dtype);
    int64_t xd[4], wd[5], yd[4];
    x_dims(&d, xd);
    const int wn = w_dims(&d, wd);
    y_dims(&d, yd);
    check_array(prhs[2], cls, "X");
    check_dims(prhs[2], xd, 4, "X");
    check_array(prhs[3], cls, "weights");
    check_dims(prhs[3], wd, wn, "weights");
    const void *bias = NULL; /* an empty bias, of any class, is no bias */
    if (!mxIsEmpty(prhs[4])) {
        const int64_t bd[3] = {1, 1, d.filters};
        check_array(prhs[4], cls, "bias");
        check_dims(prhs[4], bd, 3, "bias");
        bias = mxGetData(prhs[4]);
    }
    tconv_plan *p = get_plan(&d);
    mxArray *y = create(yd, 4, d.dtype);
    check_status(tconv_forward(p, mxGetData(prhs[2]), mxGetData(prhs[3]), bias, mxGetData(y)),
                 "tconv_forward");
    plhs[0] = y;
}

static void cmd_backward_data(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[])
{
    check_nargs(nrhs, 4, nlhs, 1, "backward_data");
    tconv_desc d;
    read_cfg(prhs[1], &d);
    d.dtype = dtype_of(prhs[2], "dLdY");
    check_status(tconv_desc_check(&d), "tconv_desc_check");
    const mxClassID cls = class_of(d.dtype);
    int64_t xd[4], wd[5], yd[4];
    x_dims(&d, xd);
    const int wn = w_dims(&d, wd);
    y_dims(&d, yd);
    check_array(prhs[2], cls, "dLdY");
    check_dims(prhs[2], yd, 4, "dLdY");
    check_array(prhs[3], cls, "weights");
    check_dims(prhs[3], wd, wn, "weights");
    tconv_plan *p = get_plan(&d);
    mxArray *dx = create(xd, 4, d.dtype);
    check_status(tconv_backward_data(p, mxGetData(prhs[2]), mxGetData(prhs[3]), mxGetData(dx)),
                 "tconv_backward_data");
    plhs[0] = dx;
}

static void cmd_backward_weights(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[])
{
    check_nargs(nrhs, 4, nlhs, 2, "backward_weights");
    tconv_desc d;
    read_cfg(prhs[1], &d);
    d.dtype = dtype_of(prhs[2], "X");
    check_status(tconv_desc_check(&d), "tconv_desc_check");
    const mxClassID cls = class_of(d.dtype);
    int64_t xd[4], wd[5], yd[4];
    x_dims(&d, xd);
    const int wn = w_dims(&d, wd);
    y_dims(&d, yd);
    check_array(prhs[2], cls, "X");
    check_dims(prhs[2], xd, 4, "X");
    check_array(prhs[3], cls, "dLdY");
    check_dims(prhs[3], yd, 4, "dLdY");
    tconv_plan *p = get_plan(&d);
    const int64_t bd[3] = {1, 1, d.filters};
    mxArray *dw = create(wd, wn, d.dtype);
    mxArray *db = create(bd, 3, d.dtype);
    check_status(tconv_backward_weights(p, mxGetData(prhs[2]), mxGetData(prhs[3]), mxGetData(dw),
                                        mxGetData(db)),
                 "tconv_backward_weights");
    plhs[0] = dw;
    if (nlhs > 1) plhs[1] = db;
    else mxDestroyArray(db);
}

static void cmd_init(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[], int weights)
{
    check_nargs(nrhs, 5, nlhs, 1, weights ? "init_weights" : "init_bias");
    tconv_desc d;
    read_cfg(prhs[1], &d);
    const tconv_initializer kind = read_kind(prhs[2]);
    const uint64_t seed = read_seed(prhs[3]);
    d.dtype = read_class_name(prhs[4]);
    check_status(tconv_desc_check(&d), "tconv_desc_check");
    if (weights) {
        int64_t wd[5];
        const int wn = w_dims(&d, wd);
        mxArray *w = create(wd, wn, d.dtype);
        check_status(tconv_init_weights(&d, kind, seed, NULL, NULL, mxGetData(w)),
                     "tconv_init_weights");
        plhs[0] = w;
    } else {
        const int64_t bd[3] = {1, 1, d.filters};
        mxArray *b = create(bd, 3, d.dtype);
        check_status(tconv_init_bias(&d, kind, seed, NULL, NULL, mxGetData(b)), "tconv_init_bias");
        plhs[0] = b;
    }
}

/* SGDM on copies of the parameters: MATLAB arrays are values, so the inputs
 * are never changed in place. Empty velocities start at zero. */
static void cmd_sgdm(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[])
{
    check_nargs(nrhs, 10, nlhs, 4, "sgdm");
    tconv_desc d;
    read_cfg(prhs[1], &d);
    double fv[4], ov[3];
    read_doubles(prhs[2], fv, 4, "factors");
    read_doubles(prhs[3], ov, 3, "options");
    d.dtype = dtype_of(prhs[4], "weights");
    check_status(tconv_desc_check(&d), "tconv_desc_check");
    const mxClassID cls = class_of(d.dtype);
    int64_t wd[5];
    const int wn = w_dims(&d, wd);
    const int64_t bd[3] = {1, 1, d.filters};
    const char *names[6] = {"weights", "dLdW", "weight velocity", "bias", "dLdB", "bias velocity"};
    for (int i = 0; i < 6; i++) {
        const mxArray *a = prhs[4 + i];
        if ((i == 2 || i == 5) && mxIsEmpty(a)) continue; /* a velocity not yet started */
        check_array(a, cls, names[i]);
        check_dims(a, i < 3 ? wd : bd, i < 3 ? wn : 3, names[i]);
    }
    tconv_train_factors f = {fv[0], fv[1], fv[2], fv[3]};
    tconv_sgdm o = {ov[0], ov[1], ov[2]};
    mxArray *w = mxDuplicateArray(prhs[4]);
    mxArray *vw = mxIsEmpty(prhs[6]) ? create(wd, wn, d.dtype) : mxDuplicateArray(prhs[6]);
    mxArray *b = mxDuplicateArray(prhs[7]);
    mxArray *vb = mxIsEmpty(prhs[9]) ? create(bd, 3, d.dtype) : mxDuplicateArray(prhs[9]);
    if (!w || !vw || !b || !vb)
        fail("tconv:mex:OutOfMemory", "cannot allocate the updated parameters%s%s", "", "");
    check_status(tconv_sgdm_step(&d, &f, &o, mxGetData(w), mxGetData(prhs[5]), mxGetData(vw),
                                 mxGetData(b), mxGetData(prhs[8]), mxGetData(vb)),
                 "tconv_sgdm_step");
    mxArray *out[4] = {w, vw, b, vb};
    for (int i = 0; i < 4; i++) {
        if (i < nlhs || (i == 0 && nlhs == 0)) plhs[i] = out[i];
        else mxDestroyArray(out[i]);
    }
}

static void cmd_output_size(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[])
{
    check_nargs(nrhs, 2, nlhs, 1, "output_size");
    tconv_desc d;
    read_cfg(prhs[1], &d);
    int64_t oh = 0, ow = 0;
    check_status(tconv_desc_output(&d, &oh, &ow), "tconv_desc_output");
    plhs[0] = mxCreateDoubleMatrix(1, 2, mxREAL);
    mxGetPr(plhs[0])[0] = (double)oh;
    mxGetPr(plhs[0])[1] = (double)ow;
}

void mexFunction(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[])
{
    if (!at_exit_registered) {
        mexAtExit(cache_clear);
        at_exit_registered = 1;
    }
    char cmd[32];
    const mxArray *c = arg(nrhs, prhs, 0);
    if (!c || !mxIsChar(c) || mxGetNumberOfElements(c) >= sizeof cmd ||
        mxGetString(c, cmd, sizeof cmd) != 0)
        fail("tconv:mex:InvalidCommand",
             "tconv_mex's first argument must be a command: 'forward', 'backward_data', "
             "'backward_weights', 'init_weights', 'init_bias', 'sgdm', 'output_size', "
             "'version' or 'clear'%s%s", "", "");
    if (strcmp(cmd, "forward") == 0) cmd_forward(nlhs, plhs, nrhs, prhs);
    else if (strcmp(cmd, "backward_data") == 0) cmd_backward_data(nlhs, plhs, nrhs, prhs);
    else if (strcmp(cmd, "backward_weights") == 0) cmd_backward_weights(nlhs, plhs, nrhs, prhs);
    else if (strcmp(cmd, "init_weights") == 0) cmd_init(nlhs, plhs, nrhs, prhs, 1);
    else if (strcmp(cmd, "init_bias") == 0) cmd_init(nlhs, plhs, nrhs, prhs, 0);
    else if (strcmp(cmd, "sgdm") == 0) cmd_sgdm(nlhs, plhs, nrhs, prhs);
    else if (strcmp(cmd, "output_size") == 0) cmd_output_size(nlhs, plhs, nrhs, prhs);
    else if (strcmp(cmd, "version") == 0) {
        check_nargs(nrhs, 1, nlhs, 1, "version");
        plhs[0] = mxCreateString(tconv_version());
    } else if (strcmp(cmd, "clear") == 0) {
        check_nargs(nrhs, 1, nlhs, 0, "clear");
        cache_clear();
    } else {
        fail("tconv:mex:InvalidCommand", "unknown command '%s'%s", cmd, "");
    }
}
