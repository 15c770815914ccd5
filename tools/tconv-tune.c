/*
 * tconv-tune: tunes the passes (--pass: forward by default) of a list of
 * layers on this host and stores the winners in the per-host tuning cache
 * (README, "tconv-tune").
 *
 * A layer is a SPEC of key=value fields that set every tconv_desc field a
 * cache key holds (sizes, stride, dilation, groups, crops, data and weight
 * layout, activation, dtype), so that any plan's entry can be tuned here.
 *
 * For every layer and dtype it plans twice: once with TCONV_TUNE_NONE (the
 * analytic choice) and once with TCONV_TUNE_MEASURE (or _EXHAUSTIVE) and
 * the pass bits of --pass, which takes each selected pass's cache entry or
 * measures its candidates now and stores the winner. Each selected pass of
 * both plans is then timed the same way (the forward pass with pre-packed
 * weights; a warm-up, interleaved samples of enough passes, the median,
 * wall-clock time) and a table compares them, one row per pass.
 *
 * --clear, --import FILE (--force), --export FILE and --show act on the
 * cache instead (tconv_cache_clear/import/export of include/tconv.h; a
 * forced import, tconv_cache_import_forced, is internal: tune/cache.h).
 *
 * Exit status: 0 done; 1 a layer could not be planned or run, the cache
 * could not be written, or a cache action failed; 2 bad arguments.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "bench/layers.h"
#include "tconv.h"
#include "tune/cache.h"
#include "tune/cache_file.h"
#include "tune/cache_format.h"
#include "tune/fingerprint.h"

#define EXIT_USAGE 2
#define EXIT_RUN 1

/* A per-plan budget below this leaves no time for any candidate beyond the
 * analytic choice. */
#define MIN_PLAN_BUDGET_S 0.1
/* Timing: samples per plan and the wall time one sample aims at. */
#define SAMPLES 7
#define SAMPLE_TARGET_S 0.02

typedef struct layer {
    char name[256];
    const char *model; /* NULL for layers given on the command line */
    int64_t n, c, h, w, f, kh, kw, sh, sw, dh, dw, g;
    /* Crops: PyTorch padding and output_padding per dimension (crop=, op=),
     * or, with have_pads, ONNX pads [top, left, bottom, right] (pads=) with
     * op as ONNX output_padding. */
    int64_t pad_h, pad_w, op_h, op_w, pads[4];
    int have_pads;
    tconv_layout layout;
    tconv_weight_layout weights;
    tconv_activation act;
    double alpha;
    unsigned dtypes; /* dtype= of the spec: 1 f32, 2 f64; 0: --dtype's */
    int bias;
} layer;

typedef struct layer_list {
    layer *v;
    size_t n, cap;
} layer_list;

static const char *prog = "tconv-tune";

/* The passes, in the order of tconv_plan_info and of the table's rows. */
enum { PASS_FWD, PASS_BWD_DATA, PASS_BWD_WEIGHTS, PASSES };
static const char *const pass_names[PASSES] = {"fwd", "bwd_data", "bwd_weights"};
static const unsigned pass_flags[PASSES] = {TCONV_TUNE_FWD, TCONV_TUNE_BWD_DATA,
                                            TCONV_TUNE_BWD_WEIGHTS};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tconv-tune [options]\n"
            "Tunes tconv's passes on this host and stores the winners in the tuning cache.\n"
            "With no --layer or --file it tunes the built-in suite of model layers.\n"
            "\n"
            "  --layer SPEC      tune one layer, e.g. \"c=512 f=256 k=4 s=2 crop=1 h=4 w=4 n=1\"\n"
            "                    (may be repeated)\n"
            "  --file PATH       tune the layers of a file, one SPEC per line, # comments\n"
            "  --dtype T         f32, f64 or both (default both)\n"
            "  --pass LIST       the passes to tune, a comma list of fwd, bwd_data and\n"
            "                    bwd_weights (default fwd; training runs all three)\n"
            "  --threads N       threads per pass, 1-1024 (default: tconv's default)\n"
            "  --isa ISA         cap the instruction set: scalar, avx2, avx512, neon\n"
            "  --exhaustive      measure every candidate and replace cached entries\n"
            "  --budget SECONDS  total tuning time for the run, split over the passes of the\n"
            "                    layers still to do (at least %.1f s per pass; default %.0f s\n"
            "                    per pass)\n"
            "\n"
            "Acting on the cache instead of tuning (in this order when several are given):\n"
            "  --clear           remove every entry (deletes the cache file)\n"
            "  --import FILE     merge the entries of FILE (one --export wrote on an identical\n"
            "                    host); a file from another host or tconv version is refused,\n"
            "                    naming both fingerprints\n"
            "  --force           with --import: take such a file's entries anyway\n"
            "  --export FILE     write this host's cache to FILE\n"
            "  --show            print the cache file as a table\n"
            "\n"
            "  --version         tconv's version and this host's fingerprint\n"
            "  -h, --help        this text\n"
            "\n"
            "SPEC fields (key=value, separated by spaces): c channels, f filters,\n"
            "k filter size (K or KHxKW), h w input size (required); s stride (S or SHxSW,\n"
            "default 1), crop PyTorch padding (P or PHxPW, default 0), op output_padding\n"
            "(O or OHxOW, default 0), pads ONNX pads T,L,B,R (instead of crop), n batch\n"
            "(default 1), g groups (default 1), d dilation (D or DHxDW, default 1),\n"
            "layout nchw|nhwc|sscb (default nchw), weights iohw|ohwi|matlab (default iohw),\n"
            "act none|relu|leaky_relu|clipped_relu|elu|sigmoid|tanh|gelu|swish (default\n"
            "none), alpha its parameter (leaky_relu 0.01, elu 1; clipped_relu needs it),\n"
            "dtype f32|f64 (this layer only in that dtype, whatever --dtype says).\n"
            "A plan finds the entry when its desc has the same fields: the defaults are\n"
            "tconv_desc_init's. scripts/onnx-to-spec.py writes the lines of an ONNX model.\n"
            "The cache is $TCONV_CACHE, else $XDG_CACHE_HOME/tconv/, else ~/.cache/tconv/.\n"
            "Exit status: 0 done; 1 a layer could not be planned or run, or a cache action\n"
            "failed; 2 a bad argument. See man tconv-tune.\n",
            MIN_PLAN_BUDGET_S, 2.0);
}

static void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s [options]   (%s --help lists them)\n", prog, prog);
    exit(EXIT_USAGE);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- numbers ------------------------------------------------------------ */

/* A whole decimal number in [lo, hi]: 1 and *out, or 0. */
static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    if (!s || !*s) return 0;
    errno = 0;
    char *end;
    const long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) return 0;
    *out = (int64_t)v;
    return 1;
}

/* "4" or "3x5": 1 and both values in [lo, hi], or 0. */
static int parse_pair(const char *s, int64_t lo, int64_t hi, int64_t *a, int64_t *b)
{
    const char *x = strchr(s, 'x');
    if (!x) {
        if (!parse_int(s, lo, hi, a)) return 0;
        *b = *a;
        return 1;
    }
    char first[32];
    const size_t n = (size_t)(x - s);
    if (n == 0 || n >= sizeof first) return 0;
    memcpy(first, s, n);
    first[n] = '\0';
    return parse_int(first, lo, hi, a) && parse_int(x + 1, lo, hi, b);
}

/* ---- layers ------------------------------------------------------------- */

static void list_add(layer_list *l, const layer *x)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        layer *v = realloc(l->v, l->cap * sizeof *v);
        if (!v) {
            fprintf(stderr, "%s: out of memory\n", prog);
            exit(EXIT_RUN);
        }
        l->v = v;
    }
    l->v[l->n++] = *x;
}

static void desc_of(const layer *l, tconv_dtype dt, tconv_desc *d)
{
    tconv_desc_init(d);
    d->batch = l->n;
    d->channels = l->c;
    d->in_h = l->h;
    d->in_w = l->w;
    d->filters = l->f;
    d->filter_h = l->kh;
    d->filter_w = l->kw;
    d->stride_h = l->sh;
    d->stride_w = l->sw;
    d->dilation_h = l->dh;
    d->dilation_w = l->dw;
    d->groups = l->g;
    d->dtype = dt;
    d->layout = l->layout;
    d->weight_layout = l->weights;
    d->activation = l->act;
    d->activation_alpha = l->alpha;
}

/* The full desc of l, crops included: TCONV_OK, or the failing status with
 * tconv_last_error() saying why. */
static tconv_status layer_desc(const layer *l, tconv_dtype dt, tconv_desc *d)
{
    desc_of(l, dt, d);
    const int64_t pad[2] = {l->pad_h, l->pad_w}, op[2] = {l->op_h, l->op_w};
    const tconv_status st =
        l->have_pads ? tconv_crop_onnx_pads(d, l->pads, op) : tconv_crop_pytorch(d, pad, op);
    return st != TCONV_OK ? st : tconv_desc_check(d);
}

/* "1,2,1,2": 1 and the four values in [lo, hi], or 0. */
static int parse_quad(const char *s, int64_t lo, int64_t hi, int64_t out[4])
{
    for (int i = 0; i < 4; i++) {
        const size_t n = strcspn(s, ",");
        char part[32];
        if (n == 0 || n >= sizeof part || (i < 3) != (s[n] == ',')) return 0;
        memcpy(part, s, n);
        part[n] = '\0';
        if (!parse_int(part, lo, hi, &out[i])) return 0;
        s += n + (i < 3);
    }
    return 1;
}

/* The index of s (any case) in names[0..n), or -1. */
static int lookup_name(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcasecmp(s, names[i])) return i;
    return -1;
}

/* The SPEC names of tconv_layout, tconv_weight_layout and tconv_activation,
 * in their enum order. */
static const char *const layout_names[] = {"nchw", "nhwc", "sscb"};
static const char *const weight_names[] = {"iohw", "ohwi", "matlab"};
static const char *const act_names[] = {"none", "relu", "leaky_relu", "clipped_relu", "elu",
                                        "sigmoid", "tanh", "gelu", "swish"};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Parses "c=512 f=256 k=4 ..." into *out. NULL, or a message (static
 * buffer) saying what is wrong. Fields left out take tconv_desc_init's
 * defaults (NCHW, IOHW weights, no activation), as a plan's desc does. */
static const char *parse_spec(const char *spec, layer *out)
{
    static char why[320];
    layer l = {.n = 1, .sh = 1, .sw = 1, .dh = 1, .dw = 1, .g = 1, .bias = 1,
               .layout = TCONV_NCHW, .weights = TCONV_W_IOHW, .act = TCONV_ACT_NONE};
    int have_c = 0, have_f = 0, have_k = 0, have_h = 0, have_w = 0, have_crop = 0,
        have_alpha = 0;
    const int64_t big = (int64_t)1 << 40;
    const char *s = spec;
    char compact[sizeof l.name] = "";
    for (;;) {
        while (*s == ' ' || *s == '\t') s++;
        if (!*s) break;
        const char *e = s;
        while (*e && *e != ' ' && *e != '\t') e++;
        char tok[64];
        const size_t n = (size_t)(e - s);
        if (n >= sizeof tok) {
            snprintf(why, sizeof why, "field '%.*s...' is too long", 20, s);
            return why;
        }
        memcpy(tok, s, n);
        tok[n] = '\0';
        s = e;
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok) {
            snprintf(why, sizeof why, "'%s' is not key=value", tok);
            return why;
        }
        *eq = '\0';
        const char *key = tok, *val = eq + 1;
        int ok, i;
        if (!strcmp(key, "c")) ok = have_c = parse_int(val, 1, big, &l.c);
        else if (!strcmp(key, "f")) ok = have_f = parse_int(val, 1, big, &l.f);
        else if (!strcmp(key, "h")) ok = have_h = parse_int(val, 1, big, &l.h);
        else if (!strcmp(key, "w")) ok = have_w = parse_int(val, 1, big, &l.w);
        else if (!strcmp(key, "n")) ok = parse_int(val, 1, big, &l.n);
        else if (!strcmp(key, "g")) ok = parse_int(val, 1, big, &l.g);
        else if (!strcmp(key, "k")) ok = have_k = parse_pair(val, 1, big, &l.kh, &l.kw);
        else if (!strcmp(key, "s")) ok = parse_pair(val, 1, big, &l.sh, &l.sw);
        else if (!strcmp(key, "d")) ok = parse_pair(val, 1, big, &l.dh, &l.dw);
        else if (!strcmp(key, "crop")) ok = have_crop = parse_pair(val, 0, big, &l.pad_h, &l.pad_w);
        else if (!strcmp(key, "op")) ok = parse_pair(val, 0, big, &l.op_h, &l.op_w);
        else if (!strcmp(key, "pads")) ok = l.have_pads = parse_quad(val, 0, big, l.pads);
        else if (!strcmp(key, "layout")) {
            ok = (i = lookup_name(val, layout_names, COUNT(layout_names))) >= 0;
            if (ok) l.layout = (tconv_layout)i;
        } else if (!strcmp(key, "weights")) {
            ok = (i = lookup_name(val, weight_names, COUNT(weight_names))) >= 0;
            if (ok) l.weights = (tconv_weight_layout)i;
        } else if (!strcmp(key, "act")) {
            ok = (i = lookup_name(val, act_names, COUNT(act_names))) >= 0;
            if (ok) l.act = (tconv_activation)i;
        } else if (!strcmp(key, "alpha")) {
            char *end;
            errno = 0;
            l.alpha = strtod(val, &end);
            ok = have_alpha = *val && !*end && !errno && isfinite(l.alpha);
        } else if (!strcmp(key, "dtype")) {
            ok = !strcmp(val, "f32") || !strcmp(val, "f64");
            if (ok) l.dtypes = !strcmp(val, "f32") ? 1u : 2u;
        } else {
            snprintf(why, sizeof why,
                     "unknown field '%s' (known: c f k s crop op pads h w n g d layout weights act "
                     "alpha dtype)",
                     key);
            return why;
        }
        if (!ok) {
            const char *expected = "";
            if (!strcmp(key, "layout")) expected = " (nchw, nhwc or sscb)";
            else if (!strcmp(key, "weights")) expected = " (iohw, ohwi or matlab)";
            else if (!strcmp(key, "act"))
                expected = " (none, relu, leaky_relu, clipped_relu, elu, sigmoid, tanh, gelu or "
                           "swish)";
            else if (!strcmp(key, "pads")) expected = " (ONNX pads: top,left,bottom,right)";
            else if (!strcmp(key, "dtype")) expected = " (f32 or f64)";
            snprintf(why, sizeof why, "bad value '%s' for field '%s'%s", val, key, expected);
            return why;
        }
        const size_t used = strlen(compact);
        snprintf(compact + used, sizeof compact - used, "%s%s=%s", used ? " " : "", key, val);
    }
    const char *missing = !have_c ? "c" : !have_f ? "f" : !have_k ? "k" : !have_h ? "h"
                          : !have_w ? "w" : NULL;
    if (missing) {
        snprintf(why, sizeof why, "field '%s' is missing (c, f, k, h and w are required)",
                 missing);
        return why;
    }
    if (have_crop && l.have_pads) {
        snprintf(why, sizeof why,
                 "give crop (PyTorch padding) or pads (ONNX pads), not both");
        return why;
    }
    /* alpha: the parameter of leaky_relu (default 0.01), clipped_relu (its
     * ceiling: required) and elu (default 1), as the Python package has it;
     * the cache key leaves it out, so it only makes the run valid. */
    const int has_param = l.act == TCONV_ACT_LEAKY_RELU || l.act == TCONV_ACT_CLIPPED_RELU ||
                          l.act == TCONV_ACT_ELU;
    if (have_alpha && !has_param) {
        snprintf(why, sizeof why, "alpha is for act=leaky_relu, clipped_relu or elu, not act=%s",
                 act_names[l.act]);
        return why;
    }
    if (!have_alpha && l.act == TCONV_ACT_CLIPPED_RELU) {
        snprintf(why, sizeof why, "act=clipped_relu needs alpha (its ceiling, e.g. alpha=6)");
        return why;
    }
    if (!have_alpha)
        l.alpha = l.act == TCONV_ACT_LEAKY_RELU ? 0.01 : l.act == TCONV_ACT_ELU ? 1.0 : 0.0;
    tconv_desc d;
    if (layer_desc(&l, TCONV_F32, &d) != TCONV_OK) {
        snprintf(why, sizeof why, "%s", tconv_last_error());
        return why;
    }
    snprintf(l.name, sizeof l.name, "%s", compact);
    *out = l;
    return NULL;
}

static void add_spec(layer_list *list, const char *spec, const char *where)
{
    layer l;
    const char *why = parse_spec(spec, &l);
    if (why) die_usage("%s: bad layer spec '%s': %s", where, spec, why);
    list_add(list, &l);
}

static void add_file(layer_list *list, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) die_usage("--file %s: cannot read it: %s", path, strerror(errno));
    char line[1024];
    long no = 0;
    size_t before = list->n;
    while (fgets(line, sizeof line, f)) {
        no++;
        const size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            fclose(f);
            die_usage("--file %s:%ld: line too long", path, no);
        }
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        const char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) continue;
        char where[1100];
        snprintf(where, sizeof where, "--file %s:%ld", path, no);
        add_spec(list, line, where);
    }
    const int err = ferror(f);
    fclose(f);
    if (err) die_usage("--file %s: read error", path);
    if (list->n == before) die_usage("--file %s: no layer in it", path);
}

static void add_builtin(layer_list *list)
{
    for (size_t i = 0; i < bench_layer_count; i++) {
        const bench_layer *b = &bench_layers[i];
        layer l = {.n = b->batch, .c = b->channels, .h = b->in_h, .w = b->in_w,
                   .f = b->filters, .kh = b->kernel, .kw = b->kernel, .sh = b->stride,
                   .sw = b->stride, .dh = 1, .dw = 1, .g = b->groups, .pad_h = b->padding,
                   .pad_w = b->padding, .op_h = b->out_pad, .op_w = b->out_pad,
                   .layout = TCONV_NCHW, .weights = TCONV_W_IOHW, .act = TCONV_ACT_NONE,
                   .bias = b->bias, .model = b->model};
        snprintf(l.name, sizeof l.name, "%s", b->name);
        list_add(list, &l);
    }
}

/* ---- --show ------------------------------------------------------------- */

static int show_cache(void)
{
    const char *path = tconv_cache_path();
    if (!path[0]) {
        fprintf(stderr, "%s: no cache location: TCONV_CACHE, XDG_CACHE_HOME and HOME are unset\n",
                prog);
        return EXIT_RUN;
    }
    char *text = NULL, why[512];
    size_t len = 0;
    const int r = tconv_cache_file_read(path, &text, &len, why, sizeof why);
    if (r == 1) {
        printf("cache %s: no file yet (nothing tuned)\n", path);
        return 0;
    }
    if (r < 0) {
        fprintf(stderr, "%s: cannot read the cache: %s\n", prog, why);
        return EXIT_RUN;
    }
    const tconv_cache_header want = {tconv_version(), tconv_host_fingerprint()};
    tconv_cache_parsed parsed;
    if (tconv_cache_parse(text, len, &want, &parsed) != 0) {
        free(text);
        fprintf(stderr, "%s: out of memory reading the cache\n", prog);
        return EXIT_RUN;
    }
    free(text);
    printf("cache %s\n", path);
    int status = 0;
    switch (parsed.origin) {
    case TCONV_CACHE_THIS_HOST:
    case TCONV_CACHE_EMPTY: break;
    case TCONV_CACHE_BAD_HEADER:
        printf("not a tconv tuning cache (no valid header): nothing in it is used\n");
        break;
    case TCONV_CACHE_OTHER_FORMAT:
    case TCONV_CACHE_OTHER_VERSION:
    case TCONV_CACHE_OTHER_HOST:
        printf("written for %s (it says '%s'; this host is '%s' with tconv %s): nothing in it "
               "is used\n",
               parsed.origin == TCONV_CACHE_OTHER_HOST      ? "another host"
               : parsed.origin == TCONV_CACHE_OTHER_VERSION ? "another tconv version"
                                                            : "another format",
               parsed.found, want.host, want.version);
        break;
    }
    const tconv_cache_entries *e = &parsed.entries;
    int kw = 3, vw = 5;
    for (size_t i = 0; i < e->n; i++) {
        if ((int)strlen(e->v[i].key) > kw) kw = (int)strlen(e->v[i].key);
        if ((int)strlen(e->v[i].value) > vw) vw = (int)strlen(e->v[i].value);
    }
    if (parsed.origin == TCONV_CACHE_THIS_HOST || parsed.origin == TCONV_CACHE_EMPTY) {
        printf("host %s, tconv %s: %zu entr%s", want.host, want.version, e->n,
               e->n == 1 ? "y" : "ies");
        if (parsed.bad_lines)
            printf(", %zu damaged line%s skipped (first: line %zu)", parsed.bad_lines,
                   parsed.bad_lines == 1 ? "" : "s", parsed.first_bad_line);
        printf("\n");
        if (e->n) {
            printf("%-*s  %-*s  %10s\n", kw, "key", vw, "value", "GFLOP/s");
            for (size_t i = 0; i < e->n; i++)
                printf("%-*s  %-*s  %10.3f\n", kw, e->v[i].key, vw, e->v[i].value,
                       e->v[i].gflops);
        }
    }
    tconv_cache_parsed_free(&parsed);
    return status;
}

/* ---- --clear, --import, --export ----------------------------------------- */

/* The cache file at path parsed against this host's header into *parsed
 * (free it with tconv_cache_parsed_free): 0; 1 when there is no file (then
 * *parsed is empty); -1 with why[why_size] saying what went wrong. */
static int parse_cache_file(const char *path, tconv_cache_parsed *parsed, char *why,
                            size_t why_size)
{
    char *text = NULL;
    size_t len = 0;
    const int r = tconv_cache_file_read(path, &text, &len, why, why_size);
    if (r < 0) return -1;
    const tconv_cache_header want = {tconv_version(), tconv_host_fingerprint()};
    const int failed = tconv_cache_parse(r == 0 ? text : "", r == 0 ? len : 0, &want, parsed);
    free(text);
    if (failed) {
        snprintf(why, why_size, "out of memory reading %s", path);
        return -1;
    }
    return r;
}

/* The number of entries this host's cache file holds (0 when it has none or
 * cannot be read). */
static size_t cache_entries(void)
{
    tconv_cache_parsed parsed;
    char why[512];
    const char *path = tconv_cache_path();
    if (!path[0] || parse_cache_file(path, &parsed, why, sizeof why) < 0) return 0;
    const size_t n = parsed.origin == TCONV_CACHE_THIS_HOST ? parsed.entries.n : 0;
    tconv_cache_parsed_free(&parsed);
    return n;
}

/* --clear, --import (with --force), --export and --show, in this order: 0,
 * or EXIT_RUN at the first that fails, with a message. */
static int cache_actions(int clear, const char *import_path, int force, const char *export_path,
                         int show)
{
    const char *cache = tconv_cache_path();
    if (!cache[0]) {
        fprintf(stderr, "%s: no cache location: TCONV_CACHE, XDG_CACHE_HOME and HOME are unset\n",
                prog);
        return EXIT_RUN;
    }
    if (clear) {
        if (tconv_cache_clear() != TCONV_OK) {
            fprintf(stderr, "%s: --clear: %s\n", prog, tconv_last_error());
            return EXIT_RUN;
        }
        printf("cleared %s\n", cache);
    }
    if (import_path) {
        /* What the file is, for the messages: whose header it has. */
        tconv_cache_parsed file;
        char why[512];
        const int r = parse_cache_file(import_path, &file, why, sizeof why);
        const tconv_cache_origin origin = r == 0 ? file.origin : TCONV_CACHE_EMPTY;
        char found[sizeof file.found] = "";
        if (r == 0) snprintf(found, sizeof found, "%s", file.found);
        if (r >= 0) tconv_cache_parsed_free(&file);
        const int foreign = origin == TCONV_CACHE_OTHER_HOST || origin == TCONV_CACHE_OTHER_VERSION;
        const tconv_status st =
            force ? tconv_cache_import_forced(import_path) : tconv_cache_import(import_path);
        if (st != TCONV_OK) {
            fprintf(stderr, "%s: --import %s: %s\n", prog, import_path, tconv_last_error());
            if (foreign && !force)
                fprintf(stderr, "%s: --force takes its entries anyway (they were measured there; "
                                "re-tune here to be sure)\n",
                        prog);
            return EXIT_RUN;
        }
        if (foreign)
            printf("imported %s into %s with --force: it was tuned %s \"%s\"; this is tconv %s on "
                   "\"%s\"\n",
                   import_path, cache,
                   origin == TCONV_CACHE_OTHER_HOST ? "on host" : "with tconv", found,
                   tconv_version(), tconv_host_fingerprint());
        else
            printf("imported %s into %s\n", import_path, cache);
        printf("the cache holds %zu entr%s\n", cache_entries(), cache_entries() == 1 ? "y" : "ies");
    }
    if (export_path) {
        if (tconv_cache_export(export_path) != TCONV_OK) {
            fprintf(stderr, "%s: --export %s: %s\n", prog, export_path, tconv_last_error());
            return EXIT_RUN;
        }
        const size_t n = cache_entries();
        printf("exported %zu entr%s of %s to %s\n", n, n == 1 ? "y" : "ies", cache, export_path);
    }
    return show ? show_cache() : 0;
}

/* ---- timing ------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The tensors the passes run on: inputs x, w, bias (forward), dy; outputs
 * y, dx, dw, dbias. */
typedef struct tensors {
    void *x, *w, *bias, *y, *dy, *dx, *dw, *dbias;
} tensors;

/* One run of pass of plan (the forward pass with the weights set on it). */
static tconv_status run_pass(const tconv_plan *plan, int pass, const tensors *t)
{
    switch (pass) {
    case PASS_FWD: return tconv_forward(plan, t->x, NULL, NULL, t->y);
    case PASS_BWD_DATA: return tconv_backward_data(plan, t->dy, t->w, t->dx);
    default: return tconv_backward_weights(plan, t->x, t->dy, t->dw, t->dbias);
    }
}

/* Median seconds per run of pass of each of the np plans (np <= 2), all on
 * the same tensors: a warm-up run each, one timed run to size the samples,
 * then SAMPLES rounds in which every plan runs one sample of reps runs in
 * turn (interleaved, so a slow spell of a shared machine hits both). */
static tconv_status time_plans(tconv_plan *const *plans, int np, int pass, const tensors *t,
                               double *sec)
{
    int64_t reps[2];
    double samples[2][SAMPLES];
    for (int i = 0; i < np; i++) {
        tconv_status st = run_pass(plans[i], pass, t);
        if (st != TCONV_OK) return st;
        const double t0 = now_s();
        st = run_pass(plans[i], pass, t);
        if (st != TCONV_OK) return st;
        const double once = now_s() - t0;
        reps[i] = once >= SAMPLE_TARGET_S ? 1
                                          : (int64_t)(SAMPLE_TARGET_S / (once > 1e-7 ? once : 1e-7)) + 1;
    }
    for (int k = 0; k < SAMPLES; k++)
        for (int i = 0; i < np; i++) {
            const double t0 = now_s();
            for (int64_t r = 0; r < reps[i]; r++) run_pass(plans[i], pass, t);
            samples[i][k] = (now_s() - t0) / (double)reps[i];
        }
    for (int i = 0; i < np; i++) {
        qsort(samples[i], SAMPLES, sizeof samples[i][0], cmp_double);
        sec[i] = samples[i][SAMPLES / 2];
    }
    return TCONV_OK;
}

/* ---- tuning one layer --------------------------------------------------- */

/* One row of the table: a pass of a layer in a dtype. */
typedef struct result {
    const layer *l;
    tconv_dtype dt;
    int pass;
    double heur_gflops, tuned_gflops;
    int same_choice;  /* the tuned plan runs what the heuristic chose */
    char choice[160]; /* the pass's part of tconv_plan_info, e.g. "bwd_data f32_fwd_..." */
    char how[32];     /* "measured now" / "from cache" / "heuristic" */
} result;

static void fill_random(tconv_dtype dt, void *v, int64_t n, uint64_t s)
{
    for (int64_t i = 0; i < n; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        const double r = (double)(s >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0;
        if (dt == TCONV_F32) ((float *)v)[i] = (float)r;
        else ((double *)v)[i] = r;
    }
}

/* What the plan runs for pass: its part of the info before " | ", e.g.
 * "fwd gather f32_fwd_8x32_avx512 phases=4 taps/phase<=4" or
 * "bwd_data f32_fwd_4x24_avx2 taps=16". */
static void choice_of(const tconv_plan *p, int pass, char *buf, size_t n)
{
    const char *info = tconv_plan_info(p);
    const char *bar = strstr(info, " | ");
    const size_t head = bar ? (size_t)(bar - info) : strlen(info);
    const char *start = info;
    if (pass != PASS_FWD) {
        char label[32];
        snprintf(label, sizeof label, ", %s ", pass_names[pass]);
        const char *at = strstr(info, label);
        start = at && (size_t)(at - info) < head ? at + 2 : info + head;
    }
    size_t len = (size_t)(info + head - start);
    const char *comma = pass == PASS_BWD_WEIGHTS ? NULL : strstr(start, ", bwd_");
    if (comma && comma < info + head) len = (size_t)(comma - start);
    snprintf(buf, n, "%.*s", (int)len, start);
}

/* How the plan chose pass's kernel: "measured now", "from cache",
 * "heuristic" or "none (reference)", from the info's
 * "tune: fwd S; bwd_data S; bwd_weights S". */
static void how_of(const tconv_plan *p, int pass, char *buf, size_t n)
{
    const char *info = tconv_plan_info(p);
    char label[32];
    snprintf(label, sizeof label, "%s%s ", pass == PASS_FWD ? "tune: " : "; ",
             pass_names[pass]);
    const char *t = strstr(info, label);
    t = t ? t + strlen(label) : "?";
    if (!strncmp(t, "tuned, ", 7)) t += 7;
    snprintf(buf, n, "%.*s", (int)strcspn(t, ";"), t);
}

static double layer_flops(const layer *l)
{
    return 2.0 * (double)l->n * (double)l->c * (double)(l->f / l->g) * (double)l->h *
           (double)l->w * (double)l->kh * (double)l->kw;
}

/* Plans and tunes l in dt for the passes of `passes` (a mask of 1 << PASS_*)
 * and times each of them: a row for each in r[0..), *rows says how many. 0,
 * or EXIT_RUN with a message printed. */
static int tune_layer(const layer *l, tconv_dtype dt, unsigned tune_flag, unsigned passes,
                      result *r, int *rows)
{
    const char *dname = dt == TCONV_F32 ? "f32" : "f64";
    *rows = 0;
    tconv_desc d;
    tconv_plan *plans[2] = {NULL, NULL};
    tensors t = {0};
    int rc = EXIT_RUN;
    tconv_status st = layer_desc(l, dt, &d);
    size_t xb = 0, yb = 0, wb = 0, bb = 0;
    if (st == TCONV_OK) st = tconv_desc_tensor_size(&d, TCONV_TENSOR_X, NULL, &xb);
    if (st == TCONV_OK) st = tconv_desc_tensor_size(&d, TCONV_TENSOR_Y, NULL, &yb);
    if (st == TCONV_OK) st = tconv_desc_tensor_size(&d, TCONV_TENSOR_W, NULL, &wb);
    if (st == TCONV_OK) st = tconv_desc_tensor_size(&d, TCONV_TENSOR_BIAS, NULL, &bb);
    if (st != TCONV_OK) {
        fprintf(stderr, "%s: %s %s: %s\n", prog, l->name, dname, tconv_last_error());
        return EXIT_RUN;
    }
    const int backward = (passes & ~(1u << PASS_FWD)) != 0;
    t.x = malloc(xb);
    t.y = malloc(yb);
    t.w = malloc(wb);
    t.bias = malloc(bb);
    if (backward) {
        t.dy = malloc(yb);
        t.dx = malloc(xb);
        t.dw = malloc(wb);
        t.dbias = malloc(bb);
    }
    if (!t.x || !t.y || !t.w || !t.bias ||
        (backward && (!t.dy || !t.dx || !t.dw || !t.dbias))) {
        fprintf(stderr, "%s: %s %s: out of memory\n", prog, l->name, dname);
        goto done;
    }
    const size_t es = dt == TCONV_F32 ? 4 : 8;
    fill_random(dt, t.x, (int64_t)(xb / es), 0x9E3779B97F4A7C15u);
    if (backward) fill_random(dt, t.dy, (int64_t)(yb / es), 0xD1B54A32D192ED03u);
    if ((st = tconv_init_weights(&d, TCONV_INIT_GLOROT, 1, NULL, NULL, t.w)) != TCONV_OK ||
        (st = tconv_init_bias(&d, TCONV_INIT_NARROW_NORMAL, 2, NULL, NULL, t.bias)) != TCONV_OK)
        goto fail;
    unsigned pass_bits = 0;
    for (int pass = 0; pass < PASSES; pass++)
        if (passes & (1u << pass)) pass_bits |= pass_flags[pass];
    if ((st = tconv_plan_create(&plans[0], &d, TCONV_TUNE_NONE)) != TCONV_OK) goto fail;
    if ((st = tconv_plan_create(&plans[1], &d, tune_flag | pass_bits)) != TCONV_OK) goto fail;
    char why[512];
    if (tconv_cache_write_failed(why, sizeof why)) {
        fprintf(stderr, "%s: the tuning cache could not be written: %s\n", prog, why);
        goto done;
    }
    for (int i = 0; i < 2; i++)
        if ((st = tconv_plan_set_weights(plans[i], t.w, l->bias ? t.bias : NULL)) != TCONV_OK)
            goto fail;
    for (int pass = 0; pass < PASSES; pass++) {
        if (!(passes & (1u << pass))) continue;
        result *row = &r[*rows];
        row->l = l;
        row->dt = dt;
        row->pass = pass;
        char heur_choice[sizeof row->choice];
        choice_of(plans[0], pass, heur_choice, sizeof heur_choice);
        choice_of(plans[1], pass, row->choice, sizeof row->choice);
        how_of(plans[1], pass, row->how, sizeof row->how);
        row->same_choice = strcmp(heur_choice, row->choice) == 0;
        /* The same choice runs the same code: one measurement serves both,
         * so noise cannot show up as a speedup or a slowdown. */
        double sec[2];
        if ((st = time_plans(plans, row->same_choice ? 1 : 2, pass, &t, sec)) != TCONV_OK)
            goto fail;
        if (row->same_choice) sec[1] = sec[0];
        row->heur_gflops = layer_flops(l) / sec[0] * 1e-9;
        row->tuned_gflops = layer_flops(l) / sec[1] * 1e-9;
        (*rows)++;
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "%s: %s %s: %s (%s)\n", prog, l->name, dname, tconv_strerror(st),
            tconv_last_error());
done:
    tconv_plan_destroy(plans[0]);
    tconv_plan_destroy(plans[1]);
    free(t.x); free(t.y); free(t.w); free(t.bias);
    free(t.dy); free(t.dx); free(t.dw); free(t.dbias);
    return rc;
}

/* ---- progress ----------------------------------------------------------- */

/* Seconds as "42s", "3m05s" or "1h02m". */
static void format_duration(double seconds, char *buf, size_t n)
{
    const long s = seconds > 0 ? (long)(seconds + 0.5) : 0;
    if (s < 60) snprintf(buf, n, "%lds", s);
    else if (s < 3600) snprintf(buf, n, "%ldm%02lds", s / 60, s % 60);
    else snprintf(buf, n, "%ldh%02ldm", s / 3600, s % 3600 / 60);
}

/* "1m05s, about 2m30s left": the time since start and an estimate of what
 * remains, from the mean time of the done jobs so far (none before the
 * first). */
static void elapsed_and_left(double start, size_t done, size_t total, char *buf, size_t n)
{
    const double elapsed = now_s() - start;
    char spent[32], left[32];
    format_duration(elapsed, spent, sizeof spent);
    if (done == 0 || done >= total) {
        snprintf(buf, n, "%s", spent);
        return;
    }
    format_duration(elapsed / (double)done * (double)(total - done), left, sizeof left);
    snprintf(buf, n, "%s, about %s left", spent, left);
}

static void progress(int tty, double start, size_t done, size_t total, const char *what)
{
    if (!tty) return;
    const int width = 30;
    const int fill = total ? (int)(done * (size_t)width / total) : width;
    char times[96];
    elapsed_and_left(start, done, total, times, sizeof times);
    fprintf(stderr, "\r\033[K[");
    for (int i = 0; i < width; i++) fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %zu/%zu %s  %s", done, total, times, what);
    fflush(stderr);
}

/* ---- main --------------------------------------------------------------- */

/* "fwd,bwd_data": 1 and the mask of 1 << PASS_* in *out, or 0 (an empty or
 * unknown element). Repeated names count once. */
static int parse_passes(const char *list, unsigned *out)
{
    unsigned mask = 0;
    const char *s = list;
    for (;;) {
        const size_t n = strcspn(s, ",");
        int found = 0;
        for (int pass = 0; pass < PASSES; pass++)
            if (n == strlen(pass_names[pass]) && !strncmp(s, pass_names[pass], n)) {
                mask |= 1u << pass;
                found = 1;
            }
        if (!found) return 0;
        if (!s[n]) break;
        s += n + 1;
    }
    *out = mask;
    return 1;
}

static int count_bits(unsigned v)
{
    int n = 0;
    for (; v; v &= v - 1) n++;
    return n;
}

/* The long options; an option without a short letter has a value from
 * OPT_FIRST on. */
enum {
    OPT_FIRST = 256,
    OPT_LAYER = OPT_FIRST, OPT_FILE, OPT_DTYPE, OPT_PASS, OPT_THREADS, OPT_ISA, OPT_EXHAUSTIVE,
    OPT_BUDGET, OPT_SHOW, OPT_EXPORT, OPT_IMPORT, OPT_FORCE, OPT_CLEAR, OPT_VERSION
};

static const struct option long_options[] = {
    {"layer", required_argument, NULL, OPT_LAYER},
    {"file", required_argument, NULL, OPT_FILE},
    {"dtype", required_argument, NULL, OPT_DTYPE},
    {"pass", required_argument, NULL, OPT_PASS},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"isa", required_argument, NULL, OPT_ISA},
    {"exhaustive", no_argument, NULL, OPT_EXHAUSTIVE},
    {"budget", required_argument, NULL, OPT_BUDGET},
    {"show", no_argument, NULL, OPT_SHOW},
    {"export", required_argument, NULL, OPT_EXPORT},
    {"import", required_argument, NULL, OPT_IMPORT},
    {"force", no_argument, NULL, OPT_FORCE},
    {"clear", no_argument, NULL, OPT_CLEAR},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The long name of option value v, for messages ("--threads"). */
static const char *option_name(int v)
{
    static char buf[40];
    for (const struct option *o = long_options; o->name; o++)
        if (o->val == v) {
            snprintf(buf, sizeof buf, "--%s", o->name);
            return buf;
        }
    snprintf(buf, sizeof buf, "-%c", v > 0 && v < 128 ? v : '?');
    return buf;
}

int main(int argc, char **argv)
{
    layer_list list = {0};
    int show = 0, exhaustive = 0, want_f32 = 1, want_f64 = 1, threads = -1;
    int clear = 0, force = 0;
    const char *import_path = NULL, *export_path = NULL;
    /* The first option that makes this a tuning run, to refuse it beside a
     * cache action (which does not tune). */
    const char *tuning_option = NULL;
    double budget = -1.0;
    int have_isa = 0;
    tconv_isa isa = TCONV_ISA_SCALAR;
    /* The forward pass by default: what inference runs, and what the
     * built-in suite was tuned for; training adds the backward passes. */
    unsigned passes = 1u << PASS_FWD;

    opterr = 0; /* our own messages: they name the option and its value */
    for (;;) {
        const int opt = getopt_long(argc, argv, ":h", long_options, NULL);
        if (opt == -1) break;
        const char *val = optarg;
        if (opt >= OPT_LAYER && opt <= OPT_BUDGET && !tuning_option) {
            static char named[40];
            snprintf(named, sizeof named, "%s", option_name(opt));
            tuning_option = named;
        }
        switch (opt) {
        case 'h':
            usage(stdout);
            free(list.v);
            return 0;
        case OPT_VERSION:
            printf("tconv-tune (tconv) %s\nhost %s\n", tconv_version(), tconv_host_fingerprint());
            free(list.v);
            return 0;
        case ':': die_usage("option %s needs a value", option_name(optopt)); break;
        case '?': {
            const char *arg = argv[optind - 1];
            const char *eq = strchr(arg, '=');
            if (optopt >= OPT_FIRST && eq)
                die_usage("option %s takes no value (got '%s')", option_name(optopt), eq + 1);
            if (optopt > 0 && optopt < OPT_FIRST) die_usage("unknown option '-%c'", optopt);
            die_usage("unknown option '%s'", arg);
            break;
        }
        case OPT_SHOW: show = 1; break;
        case OPT_CLEAR: clear = 1; break;
        case OPT_FORCE: force = 1; break;
        case OPT_EXPORT: export_path = val; break;
        case OPT_IMPORT: import_path = val; break;
        case OPT_EXHAUSTIVE: exhaustive = 1; break;
        case OPT_LAYER: add_spec(&list, val, "--layer"); break;
        case OPT_FILE: add_file(&list, val); break;
        case OPT_DTYPE:
            if (!strcmp(val, "f32")) want_f32 = 1, want_f64 = 0;
            else if (!strcmp(val, "f64")) want_f32 = 0, want_f64 = 1;
            else if (!strcmp(val, "both")) want_f32 = want_f64 = 1;
            else die_usage("--dtype %s: expected f32, f64 or both", val);
            break;
        case OPT_PASS:
            if (!parse_passes(val, &passes))
                die_usage("--pass %s: expected a comma list of fwd, bwd_data and bwd_weights",
                          val);
            break;
        case OPT_THREADS: {
            int64_t t;
            if (!parse_int(val, 1, 1024, &t))
                die_usage("--threads %s: expected a whole number from 1 to 1024", val);
            threads = (int)t;
            break;
        }
        case OPT_ISA: {
            static const char *names[] = {"scalar", "avx2", "avx512", "neon"};
            have_isa = 0;
            for (int k = 0; k < 4; k++)
                if (!strcmp(val, names[k])) {
                    isa = (tconv_isa)k;
                    have_isa = 1;
                }
            if (!have_isa) die_usage("--isa %s: expected scalar, avx2, avx512 or neon", val);
            break;
        }
        case OPT_BUDGET: {
            char *end;
            errno = 0;
            budget = strtod(val, &end);
            if (!*val || *end || errno || !isfinite(budget) || budget <= 0.0 || budget > 1e6)
                die_usage("--budget %s: expected seconds, a number above 0 (at most 1e6)", val);
            break;
        }
        }
    }
    if (optind < argc) die_usage("unexpected argument '%s'", argv[optind]);
    if (force && !import_path) die_usage("--force is for --import (it takes a foreign file)");
    if (import_path && !*import_path) die_usage("--import '': expected a file name");
    if (export_path && !*export_path) die_usage("--export '': expected a file name");

    /* Cache actions, in this order whatever the command line's: clear,
     * import, export, show; they do not tune. */
    const int actions = clear || import_path || export_path || show;
    if (actions && tuning_option)
        die_usage("%s tunes, and --clear, --import, --export and --show do not: run them "
                  "separately",
                  tuning_option);
    if (actions) {
        free(list.v);
        return cache_actions(clear, import_path, force, export_path, show);
    }
    if (have_isa && tconv_set_max_isa(isa) != TCONV_OK)
        die_usage("--isa %s: this CPU or build does not have it (best here: %s)",
                  tconv_isa_name(isa), tconv_isa_name(tconv_cpu_isa()));
    if (threads > 0 && tconv_set_num_threads(threads) != TCONV_OK)
        die_usage("--threads %d: %s", threads, tconv_last_error());
    if (list.n == 0) add_builtin(&list);

    const unsigned tune_flag = exhaustive ? TCONV_TUNE_EXHAUSTIVE : TCONV_TUNE_MEASURE;
    /* A job is one pass of one layer in one dtype: a row of the table. */
    const size_t npass = (size_t)count_bits(passes);
    /* A layer's dtype= overrides --dtype for it. */
    const unsigned want = (want_f32 ? 1u : 0u) | (want_f64 ? 2u : 0u);
    size_t jobs = 0;
    unsigned any = 0;
    for (size_t i = 0; i < list.n; i++) {
        const unsigned m = list.v[i].dtypes ? list.v[i].dtypes : want;
        jobs += (size_t)count_bits(m) * npass;
        any |= m;
    }
    result *res = calloc(jobs, sizeof *res);
    if (!res) {
        fprintf(stderr, "%s: out of memory\n", prog);
        free(list.v);
        return EXIT_RUN;
    }
    const int tty = isatty(STDERR_FILENO);
    char pass_list[64] = "";
    for (int pass = 0; pass < PASSES; pass++)
        if (passes & (1u << pass))
            snprintf(pass_list + strlen(pass_list), sizeof pass_list - strlen(pass_list), "%s%s",
                     pass_list[0] ? "+" : "", pass_names[pass]);
    fprintf(stderr, "%s: %zu layer%s x %s x %s on %s, %d thread%s, %s; cache %s\n", prog,
            list.n, list.n == 1 ? "" : "s",
            any == 3u ? "f32+f64" : any == 1u ? "f32" : "f64", pass_list,
            tconv_isa_name(tconv_get_isa()), tconv_get_num_threads(),
            tconv_get_num_threads() == 1 ? "" : "s",
            exhaustive ? "exhaustive" : "measure", tconv_cache_path()[0] ? tconv_cache_path() : "(none)");

    const double start = now_s();
    size_t done = 0;
    int rc = 0;
    for (int dti = 0; dti < 2 && rc == 0; dti++) {
        const tconv_dtype dt = dti == 0 ? TCONV_F32 : TCONV_F64;
        for (size_t i = 0; i < list.n && rc == 0; i++) {
            if (!((list.v[i].dtypes ? list.v[i].dtypes : want) & (1u << dti))) continue;
            if (budget > 0.0) {
                /* The library's budget bounds each pass a plan measures. */
                const double left = budget - (now_s() - start);
                double per = left / (double)(jobs - done);
                if (!(per >= MIN_PLAN_BUDGET_S)) per = MIN_PLAN_BUDGET_S;
                tconv_set_tune_budget(per);
            }
            char what[sizeof list.v[i].name + 8];
            snprintf(what, sizeof what, "%s %s", list.v[i].name, dt == TCONV_F32 ? "f32" : "f64");
            progress(tty, start, done, jobs, what);
            result *r = &res[done];
            int rows = 0;
            rc = tune_layer(&list.v[i], dt, tune_flag, passes, r, &rows);
            if (rc) break;
            done += (size_t)rows;
            char times[96];
            elapsed_and_left(start, done, jobs, times, sizeof times);
            for (int k = 0; k < rows && !tty; k++)
                fprintf(stderr, "%s: [%zu/%zu] %s %s: heuristic %.2f, tuned %.2f GFLOP/s (%s) [%s]\n",
                        prog, done - (size_t)rows + (size_t)k + 1, jobs, what,
                        pass_names[r[k].pass], r[k].heur_gflops, r[k].tuned_gflops, r[k].how,
                        times);
        }
    }
    if (tty) {
        progress(tty, start, done, jobs, rc ? "stopped" : "done");
        fputc('\n', stderr);
    }
    const double wall = now_s() - start;

    if (done) {
        int nw = 5;
        for (size_t i = 0; i < done; i++)
            if ((int)strlen(res[i].l->name) > nw) nw = (int)strlen(res[i].l->name);
        printf("%-*s  %-5s  %-11s  %10s  %10s  %7s  %-12s  %s\n", nw, "layer", "dtype", "pass",
               "heur GF/s", "tuned GF/s", "speedup", "tuned", "choice");
        double log_sum = 0.0;
        for (size_t i = 0; i < done; i++) {
            const result *r = &res[i];
            const double sp = r->tuned_gflops / r->heur_gflops;
            log_sum += log(sp);
            printf("%-*s  %-5s  %-11s  %10.2f  %10.2f  %6.2fx  %-12s  %s%s\n", nw, r->l->name,
                   r->dt == TCONV_F32 ? "f32" : "f64", pass_names[r->pass], r->heur_gflops,
                   r->tuned_gflops, sp, r->how, r->choice,
                   r->same_choice ? " (= heuristic)" : "");
        }
        /* rows are layer x dtype x pass; "layers" counts layer x dtype */
        const size_t layers = done / npass;
        char per_pass[32] = "";
        if (npass > 1) snprintf(per_pass, sizeof per_pass, " x %zu passes", npass);
        printf("%zu layer%s%s in %.1f s; geometric mean speedup %.3fx; cache %s\n", layers,
               layers == 1 ? "" : "s", per_pass, wall, exp(log_sum / (double)done),
               tconv_cache_path()[0] ? tconv_cache_path() : "(none)");
    }
    free(res);
    free(list.v);
    return rc;
}
