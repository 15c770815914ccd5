/*
 * libFuzzer target for the tuning cache's parser (tune/cache_format.c),
 * built and run by scripts/fuzz-cache.sh with AddressSanitizer and
 * UndefinedBehaviorSanitizer. Beyond "no crash, no hang", it checks the
 * parser's promises on every input, and traps when one breaks:
 *
 * - a foreign or malformed file yields no entry and no counted bad line;
 * - entries come out sorted by key, each key once, every key and value
 *   valid (tconv_cache_text_problem), every GFLOP/s finite, in range and a
 *   multiple of 0.001 as the writer stores them;
 * - writing the entries and parsing the result gives back exactly the same
 *   entries with no bad line (what the next store writes is clean), and
 *   writing those again gives the same bytes (the format is a fixed point);
 * - tconv_cache_find finds each entry.
 *
 * The expected header is fixed here, so the checked-in seeds
 * (tests/fuzz/seeds/) stay valid on every host.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tune/cache_format.h"

static const tconv_cache_header want = {
    "0.1.0", "FuzzVendor 6-85-7 avx512 l1d=32K l2=1024K l3=32768K cores=4"};

#define REQUIRE(cond) \
    do {                  \
        if (!(cond)) __builtin_trap(); \
    } while (0)

static void check_entries(const tconv_cache_entries *e)
{
    for (size_t i = 0; i < e->n; i++) {
        const tconv_cache_entry *x = &e->v[i];
        REQUIRE(tconv_cache_text_problem(x->key, 1) == NULL);
        REQUIRE(tconv_cache_text_problem(x->value, 0) == NULL);
        REQUIRE(tconv_cache_gflops_ok(x->gflops) && x->gflops < TCONV_CACHE_GFLOPS_LIMIT);
        REQUIRE(fabs(x->gflops * 1000.0 - (double)llround(x->gflops * 1000.0)) < 1e-3);
        if (i) REQUIRE(strcmp(e->v[i - 1].key, x->key) < 0);
        REQUIRE(tconv_cache_find(e, x->key) == x);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tconv_cache_parsed p;
    if (tconv_cache_parse((const char *)data, size, &want, &p) != 0) return 0;
    if (p.origin != TCONV_CACHE_THIS_HOST) REQUIRE(p.entries.n == 0 && p.bad_lines == 0);
    REQUIRE((p.bad_lines == 0) == (p.first_bad_line == 0));
    check_entries(&p.entries);

    size_t len1, len2;
    char *text1 = tconv_cache_format(&want, &p.entries, &len1);
    REQUIRE(text1 != NULL);
    tconv_cache_parsed q;
    REQUIRE(tconv_cache_parse(text1, len1, &want, &q) == 0);
    REQUIRE(q.origin == TCONV_CACHE_THIS_HOST && q.bad_lines == 0);
    REQUIRE(q.entries.n == p.entries.n);
    for (size_t i = 0; i < q.entries.n; i++) {
        REQUIRE(strcmp(q.entries.v[i].key, p.entries.v[i].key) == 0);
        REQUIRE(strcmp(q.entries.v[i].value, p.entries.v[i].value) == 0);
        REQUIRE(q.entries.v[i].gflops == p.entries.v[i].gflops);
    }
    char *text2 = tconv_cache_format(&want, &q.entries, &len2);
    REQUIRE(text2 != NULL && len2 == len1 && memcmp(text1, text2, len1) == 0);

    free(text1);
    free(text2);
    tconv_cache_parsed_free(&q);
    tconv_cache_parsed_free(&p);
    return 0;
}
