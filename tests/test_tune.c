/*
 * The tuner through plans, on the ISA this run uses: TCONV_TUNE_MEASURE
 * measures and stores an entry that a later plan (no flag) takes from the
 * cache; tuned plans compute the right result; TCONV_TUNE_NONE never touches
 * the cache; an entry naming a kernel this build lacks is ignored, and
 * measuring replaces it; TCONV_TUNE_EXHAUSTIVE replaces an entry; a
 * forced kernel (TCONV_FWD_KERNEL) wins over the cache; bad flags and
 * budgets are refused. The same for the backward passes, which are measured
 * only when the pass bits (TCONV_TUNE_BWD_DATA, TCONV_TUNE_BWD_WEIGHTS) ask
 * for them, have entries of their own without the activation in the key,
 * and are forced by TCONV_BWD_DATA_KERNEL / TCONV_BWD_WEIGHTS_KERNEL.
 *
 * Each Criterion test runs in its own process, and the cache's location is
 * read once per process, so every test points TCONV_CACHE at a file of its
 * own before its first tconv call.
 */
#define _DEFAULT_SOURCE /* mkdtemp, setenv */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tempdir.h"
#include "testutil.h"

static char cache_path[512];

static void use_fresh_cache(void)
{
    char dir[TU_TEMP_DIR_SIZE];
    cr_assert_eq(tu_temp_dir("tconv-test-tune", dir), 0, "mkdtemp");
    snprintf(cache_path, sizeof cache_path, "%s/cache.txt", dir);
    cr_assert_eq(setenv("TCONV_CACHE", cache_path, 1), 0);
    /* keep the tests quick: measuring past the heuristic choice is capped */
    cr_assert_eq(tconv_set_tune_budget(0.2), TCONV_OK);
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* DCGAN-like: several kernels are plausible, so there is something to tune. */
static tconv_desc layer(void)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.layout = TCONV_NHWC;
    d.weight_layout = TCONV_W_OHWI;
    d.batch = 2;
    d.channels = 48;
    d.filters = 40;
    d.in_h = 6;
    d.in_w = 7;
    d.filter_h = d.filter_w = 4;
    d.stride_h = d.stride_w = 2;
    d.crop_top = d.crop_bottom = d.crop_left = d.crop_right = 1;
    return d;
}

/* The plan's result against the independent oracle. */
static void check_result(const tconv_plan *p, const tconv_desc *d)
{
    const tu_shape s = tu_shape_of(d);
    const int64_t nx = tu_x_elems(&s), nw = tu_w_elems(&s), ny = tu_y_elems(&s);
    double *x = malloc((size_t)nx * sizeof *x), *w = malloc((size_t)nw * sizeof *w);
    double *bias = malloc((size_t)d->filters * sizeof *bias);
    double *y = malloc((size_t)ny * sizeof *y), *want = malloc((size_t)ny * sizeof *want);
    tu_rng r = {42};
    tu_fill(&r, x, nx);
    tu_fill(&r, w, nw);
    tu_fill(&r, bias, d->filters);
    cr_assert_eq(tu_run_forward(p, d, x, w, bias, y), TCONV_OK, "%s", tconv_last_error());
    tu_forward_scatter(d, x, w, bias, want);
    cr_assert_leq(tu_max_rel_diff(y, want, ny), tu_tolerance(d->dtype), "%s",
                  tconv_plan_info(p));
    free(x); free(w); free(bias); free(y); free(want);
}

/* The backward passes of the plan against the reference plan's. */
static void check_backward(const tconv_plan *p, const tconv_desc *d)
{
    const tu_shape s = tu_shape_of(d);
    const int64_t nx = tu_x_elems(&s), nw = tu_w_elems(&s), ny = tu_y_elems(&s);
    double *x = malloc((size_t)nx * sizeof *x), *w = malloc((size_t)nw * sizeof *w);
    double *dy = malloc((size_t)ny * sizeof *dy);
    double *dx = malloc((size_t)nx * sizeof *dx), *want_dx = malloc((size_t)nx * sizeof *dx);
    double *dw = malloc((size_t)nw * sizeof *dw), *want_dw = malloc((size_t)nw * sizeof *dw);
    double *db = malloc((size_t)d->filters * sizeof *db);
    double *want_db = malloc((size_t)d->filters * sizeof *db);
    tu_rng r = {43};
    tu_fill(&r, x, nx);
    tu_fill(&r, w, nw);
    tu_fill(&r, dy, ny);
    tconv_plan *ref;
    cr_assert_eq(tconv_plan_create(&ref, d, TCONV_PLAN_REFERENCE | TCONV_TUNE_NONE), TCONV_OK);
    cr_assert_eq(tu_run_backward_data(p, d, dy, w, dx), TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(tu_run_backward_data(ref, d, dy, w, want_dx), TCONV_OK);
    cr_assert_eq(tu_run_backward_weights(p, d, x, dy, dw, db), TCONV_OK, "%s",
                 tconv_last_error());
    cr_assert_eq(tu_run_backward_weights(ref, d, x, dy, want_dw, want_db), TCONV_OK);
    tconv_plan_destroy(ref);
    const double tol = tu_tolerance(d->dtype);
    cr_assert_leq(tu_max_rel_diff(dx, want_dx, nx), tol, "dx: %s", tconv_plan_info(p));
    cr_assert_leq(tu_max_rel_diff(dw, want_dw, nw), tol, "dw: %s", tconv_plan_info(p));
    cr_assert_leq(tu_max_rel_diff(db, want_db, d->filters), tol, "dbias: %s",
                  tconv_plan_info(p));
    free(x); free(w); free(dy); free(dx); free(want_dx); free(dw); free(want_dw);
    free(db); free(want_db);
}

/* How the plan chose the kernel of pass ("fwd", "bwd_data" or
 * "bwd_weights"): the text after "<pass> " in the info's
 * "tune: fwd S; bwd_data S; bwd_weights S", up to the next ';'. */
static const char *tuning_of(const tconv_plan *p, const char *pass)
{
    static char state[64];
    const char *t = strstr(tconv_plan_info(p), "tune: ");
    cr_assert(t, "no tuning state in: %s", tconv_plan_info(p));
    char label[32];
    snprintf(label, sizeof label, "%s ", pass);
    for (t += 6; strncmp(t, label, strlen(label)) != 0; t += 2) {
        t = strchr(t, ';');
        cr_assert(t, "no state of %s in: %s", pass, tconv_plan_info(p));
    }
    t += strlen(label);
    snprintf(state, sizeof state, "%.*s", (int)strcspn(t, ";"), t);
    return state;
}

/* The cache file's text (empty when there is none). */
static void read_cache(char *text, size_t n)
{
    text[0] = '\0';
    FILE *f = fopen(cache_path, "r");
    if (!f) return;
    const size_t len = fread(text, 1, n - 1, f);
    fclose(f);
    text[len] = '\0';
}

Test(tune, measure_stores_and_a_later_plan_uses_the_cache, .timeout = 120)
{
    use_fresh_cache();
    for (int dt = 0; dt < 2; dt++) {
        tconv_desc d = layer();
        d.dtype = dt ? TCONV_F64 : TCONV_F32;
        tconv_plan *p;
        cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK, "%s", tconv_last_error());
        cr_assert_str_eq(tuning_of(p, "fwd"), "heuristic", "an empty cache, no measuring");
        tconv_plan_destroy(p);
        cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_MEASURE), TCONV_OK);
        cr_assert_str_eq(tuning_of(p, "fwd"), "tuned, measured now");
        /* no pass bits: inference pays for measuring the forward pass only */
        cr_assert_str_eq(tuning_of(p, "bwd_data"), "heuristic");
        cr_assert_str_eq(tuning_of(p, "bwd_weights"), "heuristic");
        check_result(p, &d);
        tconv_plan_destroy(p);
        cr_assert(file_exists(cache_path), "measuring wrote no cache file");
        char text[8192];
        read_cache(text, sizeof text);
        cr_assert(!strstr(text, "\nbwd_"), "TCONV_TUNE_MEASURE alone measured a backward "
                                            "pass:\n%s", text);
        cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK);
        cr_assert_str_eq(tuning_of(p, "fwd"), "tuned, from cache");
        check_result(p, &d);
        tconv_plan_destroy(p);
        /* MEASURE with an entry present takes it, no measuring */
        cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_MEASURE), TCONV_OK);
        cr_assert_str_eq(tuning_of(p, "fwd"), "tuned, from cache");
        tconv_plan_destroy(p);
    }
}

Test(tune, none_never_touches_the_cache)
{
    use_fresh_cache();
    tconv_desc d = layer();
    tconv_plan *p;
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_NONE), TCONV_OK);
    cr_assert_str_eq(tuning_of(p, "fwd"), "heuristic");
    check_result(p, &d);
    tconv_plan_destroy(p);
    cr_assert(!file_exists(cache_path), "TCONV_TUNE_NONE created %s", cache_path);
}

/* Replaces the value of the cache's entry for pass by `bogus`: exported,
 * edited as a user might, imported back (imported entries win). */
static void plant_entry(const char *pass, const char *bogus)
{
    char edited[600];
    snprintf(edited, sizeof edited, "%s.edited", cache_path);
    cr_assert_eq(tconv_cache_export(edited), TCONV_OK, "%s", tconv_last_error());
    FILE *f = fopen(edited, "r");
    cr_assert(f);
    char text[8192];
    const size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char line_start[32];
    snprintf(line_start, sizeof line_start, "\n%s ", pass);
    char *line = strstr(text, line_start);
    cr_assert(line, "no %s entry in %s", pass, text);
    char *value = strstr(line, " | ");
    cr_assert(value);
    value += 3;
    char *end = strstr(value, " | ");
    cr_assert(end);
    char out[8192];
    snprintf(out, sizeof out, "%.*s%s%s", (int)(value - text), text, bogus, end);
    f = fopen(edited, "w");
    cr_assert(f);
    fputs(out, f);
    fclose(f);
    cr_assert_eq(tconv_cache_import(edited), TCONV_OK, "%s", tconv_last_error());
}

/* Measures d's forward pass, then replaces its entry by one naming a kernel
 * that does not exist. */
static void plant_bogus_entry(const tconv_desc *d)
{
    tconv_plan *p;
    cr_assert_eq(tconv_plan_create(&p, d, TCONV_TUNE_MEASURE), TCONV_OK);
    tconv_plan_destroy(p);
    plant_entry("fwd", "kernel=f32_fwd_99x99_nosuchisa mode=gather");
}

/* Each measured backward pass costs at least one round of paired samples
 * (~0.15 s) whatever the budget; a small budget keeps it at about that. */
static void use_fresh_cache_for_backward(void)
{
    use_fresh_cache();
    cr_assert_eq(tconv_set_tune_budget(0.05), TCONV_OK);
}

Test(tune, stale_entry_is_ignored_and_replaced_by_measuring, .timeout = 120)
{
    use_fresh_cache();
    tconv_desc d = layer();
    plant_bogus_entry(&d);
    tconv_plan *p;
    cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK);
    cr_assert_str_eq(tuning_of(p, "fwd"), "heuristic", "a kernel this build lacks was taken");
    check_result(p, &d);
    tconv_plan_destroy(p);
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_MEASURE), TCONV_OK);
    cr_assert_str_eq(tuning_of(p, "fwd"), "tuned, measured now");
    tconv_plan_destroy(p);
    cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK);
    cr_assert_str_eq(tuning_of(p, "fwd"), "tuned, from cache");
    tconv_plan_destroy(p);
}

Test(tune, exhaustive_measures_again, .timeout = 300)
{
    use_fresh_cache();
    tconv_desc d = layer();
    tconv_plan *p;
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_MEASURE), TCONV_OK);
    tconv_plan_destroy(p);
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_EXHAUSTIVE), TCONV_OK);
    cr_assert_str_eq(tuning_of(p, "fwd"), "tuned, measured now", "an entry must not stop EXHAUSTIVE");
    check_result(p, &d);
    tconv_plan_destroy(p);
}

Test(tune, forced_kernel_wins_over_the_cache, .timeout = 120)
{
    use_fresh_cache();
    tconv_desc d = layer();
    tconv_plan *p;
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_MEASURE), TCONV_OK);
    tconv_plan_destroy(p);
    const char *k = tconv_kernel_name(tconv_get_isa(), 0);
    cr_assert(k);
    setenv("TCONV_FWD_KERNEL", k, 1);
    cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK);
    cr_assert_str_eq(tuning_of(p, "fwd"), "heuristic");
    tconv_plan_destroy(p);
    unsetenv("TCONV_FWD_KERNEL");
}

Test(tune, bad_flags_and_budgets)
{
    use_fresh_cache();
    tconv_desc d = layer();
    tconv_plan *p = (tconv_plan *)&d;
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_NONE | TCONV_TUNE_MEASURE), TCONV_EINVAL);
    cr_assert_null(p);
    cr_assert(strstr(tconv_last_error(), "flags (0x6)"), "%s", tconv_last_error());
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_MEASURE | TCONV_TUNE_EXHAUSTIVE),
                 TCONV_EINVAL);
    cr_assert_eq(tconv_set_tune_budget(0.0), TCONV_EINVAL);
    cr_assert(strstr(tconv_last_error(), "seconds (0)"), "%s", tconv_last_error());
    cr_assert_eq(tconv_set_tune_budget(-1.0), TCONV_EINVAL);
    cr_assert_eq(tconv_set_tune_budget(1e9), TCONV_EINVAL);
    cr_assert_eq(tconv_set_tune_budget(0.0 / 0.0), TCONV_EINVAL);
}

/* ---- the backward passes ------------------------------------------------ */

/* Measuring both backward passes of d stores an entry for each that the
 * next plans take from the cache. */
static void backward_measure_stores_and_reuses(tconv_dtype dtype)
{
    use_fresh_cache_for_backward();
    tconv_desc d = layer();
    d.dtype = dtype;
    tconv_plan *p;
    const unsigned bwd = TCONV_TUNE_MEASURE | TCONV_TUNE_BWD_DATA | TCONV_TUNE_BWD_WEIGHTS;
    cr_assert_eq(tconv_plan_create(&p, &d, bwd), TCONV_OK, "%s", tconv_last_error());
    cr_assert_str_eq(tuning_of(p, "bwd_data"), "tuned, measured now");
    cr_assert_str_eq(tuning_of(p, "bwd_weights"), "tuned, measured now");
    /* pass bits given: exactly those passes, and fwd has no entry yet */
    cr_assert_str_eq(tuning_of(p, "fwd"), "heuristic");
    check_backward(p, &d);
    tconv_plan_destroy(p);

    char text[8192], want[64];
    read_cache(text, sizeof text);
    for (int pass = 0; pass < 2; pass++) {
        snprintf(want, sizeof want, "\n%s %s ", pass ? "bwd_weights" : "bwd_data",
                 dtype == TCONV_F64 ? "f64" : "f32");
        const char *line = strstr(text, want);
        cr_assert(line, "no %s entry:\n%s", want + 1, text);
        const char *nl = strchr(line + 1, '\n');
        const char *value = strstr(line, " | kernel=");
        cr_assert(value && (!nl || value < nl), "%s entry has no kernel value:\n%s",
                  want + 1, text);
        const char *act = strstr(line, " act");
        cr_assert(!act || (nl && act > nl), "a backward key holds the activation:\n%s", text);
    }
    cr_assert(!strstr(text, "\nfwd "), "the forward pass was measured:\n%s", text);

    cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK);
    cr_assert_str_eq(tuning_of(p, "bwd_data"), "tuned, from cache");
    cr_assert_str_eq(tuning_of(p, "bwd_weights"), "tuned, from cache");
    check_backward(p, &d);
    tconv_plan_destroy(p);
    /* the activation only changes the forward pass: same backward entries */
    d.activation = TCONV_ACT_RELU;
    cr_assert_eq(tconv_plan_create(&p, &d, bwd), TCONV_OK);
    cr_assert_str_eq(tuning_of(p, "bwd_data"), "tuned, from cache");
    cr_assert_str_eq(tuning_of(p, "bwd_weights"), "tuned, from cache");
    tconv_plan_destroy(p);
}

Test(tune, backward_measure_stores_own_entries_f32, .timeout = 120)
{
    backward_measure_stores_and_reuses(TCONV_F32);
}

Test(tune, backward_measure_stores_own_entries_f64, .timeout = 120)
{
    backward_measure_stores_and_reuses(TCONV_F64);
}

Test(tune, all_passes_measured_at_once, .timeout = 120)
{
    use_fresh_cache_for_backward();
    tconv_desc d = layer();
    tconv_plan *p;
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_MEASURE | TCONV_TUNE_ALL_PASSES), TCONV_OK);
    cr_assert_str_eq(tuning_of(p, "fwd"), "tuned, measured now");
    cr_assert_str_eq(tuning_of(p, "bwd_data"), "tuned, measured now");
    cr_assert_str_eq(tuning_of(p, "bwd_weights"), "tuned, measured now");
    check_result(p, &d);
    check_backward(p, &d);
    tconv_plan_destroy(p);
    /* TCONV_TUNE_NONE: heuristic for every pass, whatever the cache holds */
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_NONE), TCONV_OK);
    cr_assert_str_eq(tuning_of(p, "fwd"), "heuristic");
    cr_assert_str_eq(tuning_of(p, "bwd_data"), "heuristic");
    cr_assert_str_eq(tuning_of(p, "bwd_weights"), "heuristic");
    tconv_plan_destroy(p);
}

/* The first PIXELS kernel of the ISA with d's dtype: a real kernel that
 * backward-data cannot run. NULL when the ISA has none. */
/* A GEMM tile of dtype dt (backward-weights only). */
static const char *gemm_kernel(tconv_dtype dt)
{
    for (int i = 0; tconv_kernel_name(tconv_get_isa(), i); i++) {
        const char *k = tconv_kernel_name(tconv_get_isa(), i);
        if (strstr(k, "_bwdw_") && strncmp(k, dt == TCONV_F64 ? "f64" : "f32", 3) == 0) return k;
    }
    return NULL;
}

Test(tune, stale_backward_entry_is_ignored_and_replaced, .timeout = 120)
{
    const tconv_desc d = layer();
    char gemm[96], f64[96], fwd_style[128];
    const char *k = gemm_kernel(d.dtype);
    cr_assert(k, "no GEMM tile on %s", tconv_isa_name(tconv_get_isa()));
    snprintf(gemm, sizeof gemm, "kernel=%s", k);
    /* a real CHANNELS kernel (index 0 of every table is one, f32) */
    const char *channels = tconv_kernel_name(tconv_get_isa(), 0);
    snprintf(fwd_style, sizeof fwd_style, "kernel=%s mode=gather", channels);
    snprintf(f64, sizeof f64, "kernel=f64%s", channels + 3);
    const unsigned bwd = TCONV_TUNE_MEASURE | TCONV_TUNE_BWD_DATA | TCONV_TUNE_BWD_WEIGHTS;
    /* a kernel no build has; a GEMM tile (valid for bwd_weights, not for
     * bwd_data); a kernel of the other dtype (named like one: the check is
     * the name's presence among the candidates); a forward-style value with
     * a real kernel; not a value at all */
    const char *bogus[] = {"kernel=f32_fwd_99x99_nosuchisa", gemm, f64, fwd_style, "garbage"};
    use_fresh_cache_for_backward();
    tconv_plan *p;
    cr_assert_eq(tconv_plan_create(&p, &d, bwd), TCONV_OK);
    tconv_plan_destroy(p);
    for (size_t i = 0; i < sizeof bogus / sizeof bogus[0]; i++) {
        plant_entry("bwd_data", bogus[i]);
        cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK);
        cr_assert_str_eq(tuning_of(p, "bwd_data"), "heuristic", "\"%s\" was taken: %s",
                         bogus[i], tconv_plan_info(p));
        cr_assert_str_eq(tuning_of(p, "bwd_weights"), "tuned, from cache");
        if (i == 0) check_backward(p, &d);
        tconv_plan_destroy(p);
    }
    /* measuring replaces the last of them; bwd_weights keeps its entry */
    cr_assert_eq(tconv_plan_create(&p, &d, bwd), TCONV_OK);
    cr_assert_str_eq(tuning_of(p, "bwd_data"), "tuned, measured now");
    cr_assert_str_eq(tuning_of(p, "bwd_weights"), "tuned, from cache");
    tconv_plan_destroy(p);
    cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK);
    cr_assert_str_eq(tuning_of(p, "bwd_data"), "tuned, from cache");
    tconv_plan_destroy(p);
}

Test(tune, backward_exhaustive_measures_again, .timeout = 300)
{
    use_fresh_cache_for_backward();
    tconv_desc d = layer();
    tconv_plan *p;
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_MEASURE | TCONV_TUNE_ALL_PASSES), TCONV_OK);
    tconv_plan_destroy(p);
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_EXHAUSTIVE | TCONV_TUNE_BWD_DATA |
                                               TCONV_TUNE_BWD_WEIGHTS), TCONV_OK);
    cr_assert_str_eq(tuning_of(p, "bwd_data"), "tuned, measured now",
                     "an entry must not stop EXHAUSTIVE");
    cr_assert_str_eq(tuning_of(p, "bwd_weights"), "tuned, measured now");
    /* a pass EXHAUSTIVE does not select keeps its entry */
    cr_assert_str_eq(tuning_of(p, "fwd"), "tuned, from cache");
    check_backward(p, &d);
    tconv_plan_destroy(p);
}

/* The name a plan's info gives the kernel of a backward pass. */
static void kernel_of(const tconv_plan *p, const char *pass, char *name, size_t n)
{
    char label[32];
    snprintf(label, sizeof label, ", %s ", pass);
    const char *k = strstr(tconv_plan_info(p), label);
    cr_assert(k, "no %s kernel in: %s", pass, tconv_plan_info(p));
    k += strlen(label);
    snprintf(name, n, "%.*s", (int)strcspn(k, " ,|"), k);
}

Test(tune, forced_backward_kernel_wins_over_the_cache, .timeout = 120)
{
    use_fresh_cache_for_backward();
    tconv_desc d = layer();
    tconv_plan *p;
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_MEASURE | TCONV_TUNE_ALL_PASSES), TCONV_OK);
    char tuned[96];
    kernel_of(p, "bwd_data", tuned, sizeof tuned);
    tconv_plan_destroy(p);
    /* force a CHANNELS kernel other than the tuned one where there is one */
    const char *forced = tuned;
    for (int i = 0; tconv_kernel_name(tconv_get_isa(), i); i++) {
        const char *k = tconv_kernel_name(tconv_get_isa(), i);
        if (strncmp(k, "f32_fwd_", 8) == 0 && !strstr(k, "_px") && strcmp(k, tuned) != 0) {
            forced = k;
            break;
        }
    }
    setenv("TCONV_BWD_DATA_KERNEL", forced, 1);
    for (int flags = 0; flags < 2; flags++) {
        cr_assert_eq(tconv_plan_create(&p, &d, flags ? TCONV_TUNE_EXHAUSTIVE | TCONV_TUNE_BWD_DATA
                                                     : 0), TCONV_OK);
        cr_assert_str_eq(tuning_of(p, "bwd_data"), "heuristic", "%s", tconv_plan_info(p));
        char runs[96];
        kernel_of(p, "bwd_data", runs, sizeof runs);
        cr_assert_str_eq(runs, forced, "%s", tconv_plan_info(p));
        /* the other passes keep their tuned choices */
        cr_assert_str_eq(tuning_of(p, "bwd_weights"), "tuned, from cache");
        cr_assert_str_eq(tuning_of(p, "fwd"), "tuned, from cache");
        check_backward(p, &d);
        tconv_plan_destroy(p);
    }
    unsetenv("TCONV_BWD_DATA_KERNEL");
}

Test(tune, pass_bits_need_a_measuring_flag)
{
    use_fresh_cache();
    tconv_desc d = layer();
    const unsigned bad[] = {TCONV_TUNE_FWD, TCONV_TUNE_BWD_DATA, TCONV_TUNE_ALL_PASSES,
                            TCONV_TUNE_NONE | TCONV_TUNE_BWD_WEIGHTS};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tconv_plan *p = (tconv_plan *)&d;
        cr_assert_eq(tconv_plan_create(&p, &d, bad[i]), TCONV_EINVAL, "flags %#x accepted",
                     bad[i]);
        cr_assert_null(p);
        char want[32];
        snprintf(want, sizeof want, "flags (0x%x)", bad[i]);
        cr_assert(strstr(tconv_last_error(), want), "%s", tconv_last_error());
        cr_assert(strstr(tconv_last_error(), "TCONV_TUNE_MEASURE"), "%s", tconv_last_error());
    }
    cr_assert(!file_exists(cache_path), "a refused plan touched the cache");
}
