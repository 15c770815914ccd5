/*
 * The tuning cache's text format: parsing a file held in memory, and writing
 * one. No I/O and no global state here, so the parser can be fuzzed on any
 * buffer (tests/fuzz_cache.c) and unit-tested without files.
 *
 *   # tconv tuning cache: one line per layer configuration, key | value | GFLOP/s
 *   format 1
 *   tconv 0.1.0
 *   host GenuineIntel 6-85-7 avx512 l1d=32K l2=1024K l3=32768K cores=2
 *   f32 fwd c=512 f=256 k=4x4 s=2x2 | f32_fwd_14x32_avx512 kc=256 | 141.250
 *
 * Lines starting with '#' and blank lines are ignored anywhere. The first
 * three other lines are the header, in this order; a file whose header is
 * missing, malformed, or names another format, tconv version or host is
 * foreign: none of its entries is used. Every following line is an entry;
 * a line that is not a valid entry is skipped and counted (the caller warns).
 * Every line ends with '\n': a last line without one is what a truncated
 * write leaves, so it is treated as bad, however plausible it looks
 * ("...| 141.2" cut from "...| 141.250"). A '\r' before the '\n' is allowed
 * (a file edited on Windows). When a key appears twice the later line wins.
 *
 * Keys and values: 1 to TCONV_CACHE_TEXT_MAX printable ASCII characters
 * (0x20-0x7e), no '|', no space at either end (the parser trims the spaces
 * around '|'); a key does not start with '#'. GFLOP/s: decimal digits with
 * an optional fraction ("141.25"; no sign, no exponent, parsed without the C
 * locale's help), below TCONV_CACHE_GFLOPS_LIMIT; written with 3 decimals.
 */
#ifndef TCONV_TUNE_CACHE_FORMAT_H
#define TCONV_TUNE_CACHE_FORMAT_H

#include <stddef.h>

#define TCONV_CACHE_FORMAT_VERSION 1
/* Longest key or value: room for every field of a layer configuration or of
 * a choice of kernel and blocking, short enough to keep lines readable. */
#define TCONV_CACHE_TEXT_MAX 240
/* 1e9 GFLOP/s (an exaflop) is beyond any CPU; the bound keeps parsing exact. */
#define TCONV_CACHE_GFLOPS_LIMIT 1e9

typedef struct tconv_cache_entry {
    char *key, *value; /* one allocation: value points into key's block */
    double gflops;
} tconv_cache_entry;

/* Entries sorted by key (strcmp), each key once. Zero-initialized = empty. */
typedef struct tconv_cache_entries {
    tconv_cache_entry *v;
    size_t n, cap;
} tconv_cache_entries;

/* What a header must say for the file to be used. */
typedef struct tconv_cache_header {
    const char *version; /* tconv_version() */
    const char *host;    /* tconv_host_fingerprint() */
} tconv_cache_header;

typedef enum tconv_cache_origin {
    TCONV_CACHE_THIS_HOST = 0,  /* header matches: entries used */
    TCONV_CACHE_EMPTY = 1,      /* nothing but blanks and comments */
    TCONV_CACHE_BAD_HEADER = 2, /* missing, truncated or malformed header */
    TCONV_CACHE_OTHER_FORMAT = 3,
    TCONV_CACHE_OTHER_VERSION = 4,
    TCONV_CACHE_OTHER_HOST = 5
} tconv_cache_origin;

typedef struct tconv_cache_parsed {
    tconv_cache_origin origin;
    /* For OTHER_*: what the file's header line says (truncated), for messages. */
    char found[TCONV_CACHE_TEXT_MAX + 1];
    size_t bad_lines;      /* entry lines skipped (only when origin is THIS_HOST) */
    size_t first_bad_line; /* 1-based line number of the first one, 0 if none */
    tconv_cache_entries entries;
} tconv_cache_parsed;

/* Whether s is a valid key (is_key 1) or value: NULL if so, else a short
 * reason ("contains '|'", ...) for an error message. */
const char *tconv_cache_text_problem(const char *s, int is_key);

/* Whether g is a GFLOP/s value the format holds: finite, >= 0, and below
 * TCONV_CACHE_GFLOPS_LIMIT once rounded to 0.001 as it is written. */
int tconv_cache_gflops_ok(double g);

/* Parses len bytes of text (not NUL-terminated; may contain NUL bytes, which
 * make their line bad) against the expected header. Fills *out (free it with
 * tconv_cache_parsed_free). Returns 0, or -1 when memory ran out (then *out
 * holds no entries). */
int tconv_cache_parse(const char *text, size_t len, const tconv_cache_header *want,
                      tconv_cache_parsed *out);
void tconv_cache_parsed_free(tconv_cache_parsed *p);

/* The file text for these entries under this header, NUL-terminated, from
 * malloc; *len (if not NULL) gets its length. NULL when memory ran out. */
char *tconv_cache_format(const tconv_cache_header *h, const tconv_cache_entries *e, size_t *len);

/* The entry for key, or NULL. */
const tconv_cache_entry *tconv_cache_find(const tconv_cache_entries *e, const char *key);

/* Inserts or replaces key's entry (key and value must be valid). 0, or -1
 * when memory ran out (e unchanged). */
int tconv_cache_put(tconv_cache_entries *e, const char *key, const char *value, double gflops);

/* Puts every entry of src into dst (src's win). 0 or -1 (out of memory;
 * dst then holds some of them). */
int tconv_cache_merge(tconv_cache_entries *dst, const tconv_cache_entries *src);

void tconv_cache_entries_free(tconv_cache_entries *e);

#endif /* TCONV_TUNE_CACHE_FORMAT_H */
