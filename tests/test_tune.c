/*
 * The tuner through plans, on the ISA this run uses: TCONV_TUNE_MEASURE
 * measures and stores an entry that a later plan (no flag) takes from the
 * cache; tuned plans compute the right result; TCONV_TUNE_NONE never touches
 * the cache; an entry naming a kernel this build lacks is ignored, and
 * measuring replaces it; TCONV_TUNE_EXHAUSTIVE replaces an entry; a
 * forced kernel (TCONV_FWD_KERNEL) wins over the cache; bad flags and
 * budgets are refused.
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

#include "testutil.h"

static char cache_path[512];

static void use_fresh_cache(void)
{
    char dir[] = "/tmp/tconv-test-tune-XXXXXX";
    cr_assert(mkdtemp(dir), "mkdtemp");
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

static const char *tuning_of(const tconv_plan *p)
{
    const char *t = strstr(tconv_plan_info(p), "tune: ");
    cr_assert(t, "no tuning state in: %s", tconv_plan_info(p));
    return t + 6;
}

Test(tune, measure_stores_and_a_later_plan_uses_the_cache, .timeout = 120)
{
    use_fresh_cache();
    for (int dt = 0; dt < 2; dt++) {
        tconv_desc d = layer();
        d.dtype = dt ? TCONV_F64 : TCONV_F32;
        tconv_plan *p;
        cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK, "%s", tconv_last_error());
        cr_assert_str_eq(tuning_of(p), "heuristic", "an empty cache, no measuring");
        tconv_plan_destroy(p);
        cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_MEASURE), TCONV_OK);
        cr_assert_str_eq(tuning_of(p), "tuned, measured now");
        check_result(p, &d);
        tconv_plan_destroy(p);
        cr_assert(file_exists(cache_path), "measuring wrote no cache file");
        cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK);
        cr_assert_str_eq(tuning_of(p), "tuned, from cache");
        check_result(p, &d);
        tconv_plan_destroy(p);
        /* MEASURE with an entry present takes it, no measuring */
        cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_MEASURE), TCONV_OK);
        cr_assert_str_eq(tuning_of(p), "tuned, from cache");
        tconv_plan_destroy(p);
    }
}

Test(tune, none_never_touches_the_cache)
{
    use_fresh_cache();
    tconv_desc d = layer();
    tconv_plan *p;
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_NONE), TCONV_OK);
    cr_assert_str_eq(tuning_of(p), "heuristic");
    check_result(p, &d);
    tconv_plan_destroy(p);
    cr_assert(!file_exists(cache_path), "TCONV_TUNE_NONE created %s", cache_path);
}

/* Replaces the cache's entry for d (measured first) by one naming a kernel
 * that does not exist: exported, edited as a user might, imported back
 * (imported entries win). */
static void plant_bogus_entry(const tconv_desc *d)
{
    tconv_plan *p;
    cr_assert_eq(tconv_plan_create(&p, d, TCONV_TUNE_MEASURE), TCONV_OK);
    tconv_plan_destroy(p);
    char edited[600];
    snprintf(edited, sizeof edited, "%s.edited", cache_path);
    cr_assert_eq(tconv_cache_export(edited), TCONV_OK, "%s", tconv_last_error());
    FILE *f = fopen(edited, "r");
    cr_assert(f);
    char text[8192];
    const size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *k = strstr(text, "kernel=");
    cr_assert(k, "no entry in %s", text);
    char *end = strstr(k, " mode=");
    cr_assert(end);
    char out[8192];
    snprintf(out, sizeof out, "%.*skernel=f32_fwd_99x99_nosuchisa%s", (int)(k - text), text, end);
    f = fopen(edited, "w");
    cr_assert(f);
    fputs(out, f);
    fclose(f);
    cr_assert_eq(tconv_cache_import(edited), TCONV_OK, "%s", tconv_last_error());
}

Test(tune, stale_entry_is_ignored_and_replaced_by_measuring, .timeout = 120)
{
    use_fresh_cache();
    tconv_desc d = layer();
    plant_bogus_entry(&d);
    tconv_plan *p;
    cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK);
    cr_assert_str_eq(tuning_of(p), "heuristic", "a kernel this build lacks was taken");
    check_result(p, &d);
    tconv_plan_destroy(p);
    cr_assert_eq(tconv_plan_create(&p, &d, TCONV_TUNE_MEASURE), TCONV_OK);
    cr_assert_str_eq(tuning_of(p), "tuned, measured now");
    tconv_plan_destroy(p);
    cr_assert_eq(tconv_plan_create(&p, &d, 0), TCONV_OK);
    cr_assert_str_eq(tuning_of(p), "tuned, from cache");
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
    cr_assert_str_eq(tuning_of(p), "tuned, measured now", "an entry must not stop EXHAUSTIVE");
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
    cr_assert_str_eq(tuning_of(p), "heuristic");
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
