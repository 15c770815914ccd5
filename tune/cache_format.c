/*
 * The tuning cache's text format (see cache_format.h). Every input byte is
 * untrusted: the parser reads only inside [text, text + len), bounds every
 * field before copying it, and does its own number parsing (strtod would
 * follow the caller's locale and accept "inf", hex and exponents).
 */
#define _POSIX_C_SOURCE 200809L /* strnlen under -std=c11 */

#include "tune/cache_format.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char header_comment[] =
    "# tconv tuning cache: one line per layer configuration, key | value | GFLOP/s\n";

/* A line longer than this cannot be a valid entry (two texts, a number and
 * the separators, with generous room for spaces around them). */
#define LINE_MAX_BYTES (2 * TCONV_CACHE_TEXT_MAX + 64)

static const char *text_problem_n(const char *s, size_t n, int is_key)
{
    if (n == 0) return "is empty";
    if (n > TCONV_CACHE_TEXT_MAX) return "is longer than 240 characters";
    for (size_t i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (c == '\n') return "contains a newline";
        if (c == '|') return "contains '|'";
        if (c < 0x20 || c > 0x7e) return "contains a byte that is not printable ASCII";
    }
    if (s[0] == ' ' || s[n - 1] == ' ') return "begins or ends with a space";
    if (is_key && s[0] == '#') return "begins with '#' (a comment line)";
    return NULL;
}

const char *tconv_cache_text_problem(const char *s, int is_key)
{
    if (!s) return "is NULL";
    /* Stop counting past the limit, so an unterminated huge string costs
     * nothing more than the check. */
    const size_t n = strnlen(s, TCONV_CACHE_TEXT_MAX + 1);
    return text_problem_n(s, n, is_key);
}

/* Spaces and tabs around a field are not part of it. */
static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

static double round_milli(double g) { return (double)llround(g * 1000.0) / 1000.0; }

int tconv_cache_gflops_ok(double g)
{
    return isfinite(g) && g >= 0 && g < TCONV_CACHE_GFLOPS_LIMIT &&
           round_milli(g) < TCONV_CACHE_GFLOPS_LIMIT;
}

/* "123" or "123.4567": at most 9 digits each side, so the value stays below
 * TCONV_CACHE_GFLOPS_LIMIT and both parts fit uint64_t exactly. */
static int parse_gflops(const char *s, size_t n, double *out)
{
    size_t i = 0;
    uint64_t whole = 0, frac = 0, scale = 1;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (i >= 9) return 0;
        whole = whole * 10 + (uint64_t)(s[i] - '0');
        i++;
    }
    if (i == 0) return 0;
    if (i < n) {
        if (s[i] != '.') return 0;
        size_t j = i + 1, digits = 0;
        for (; j < n; j++, digits++) {
            if (s[j] < '0' || s[j] > '9' || digits >= 9) return 0;
            frac = frac * 10 + (uint64_t)(s[j] - '0');
            scale *= 10;
        }
        if (digits == 0) return 0;
    }
    const double g = round_milli((double)whole + (double)frac / (double)scale);
    /* "999999999.9999" rounds up to the limit, which the writer could not
     * write back in 9 digits. */
    if (!tconv_cache_gflops_ok(g)) return 0;
    *out = g;
    return 1;
}

/* A line in the order it appeared, so the later of two equal keys wins. */
typedef struct line_entry {
    tconv_cache_entry e;
    size_t order;
} line_entry;

static int cmp_line_entry(const void *a, const void *b)
{
    const line_entry *x = a, *y = b;
    const int c = strcmp(x->e.key, y->e.key);
    if (c) return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int make_entry(tconv_cache_entry *e, const char *key, size_t kn, const char *value,
                      size_t vn, double gflops)
{
    char *block = malloc(kn + vn + 2);
    if (!block) return -1;
    memcpy(block, key, kn);
    block[kn] = '\0';
    memcpy(block + kn + 1, value, vn);
    block[kn + 1 + vn] = '\0';
    e->key = block;
    e->value = block + kn + 1;
    e->gflops = gflops;
    return 0;
}

/* Splits "key | value | gflops" and checks each part; 1 if it is an entry. */
static int parse_entry(const char *line, size_t n, const char **key, size_t *kn,
                       const char **value, size_t *vn, double *gflops)
{
    if (n > LINE_MAX_BYTES) return 0;
    const char *bar1 = memchr(line, '|', n);
    if (!bar1) return 0;
    const char *bar2 = memchr(bar1 + 1, '|', (size_t)(line + n - bar1 - 1));
    if (!bar2 || memchr(bar2 + 1, '|', (size_t)(line + n - bar2 - 1))) return 0;
    const char *k = line, *v = bar1 + 1, *g = bar2 + 1;
    size_t kl = (size_t)(bar1 - line), vl = (size_t)(bar2 - v), gl = (size_t)(line + n - g);
    trim(&k, &kl);
    trim(&v, &vl);
    trim(&g, &gl);
    if (text_problem_n(k, kl, 1) || text_problem_n(v, vl, 0)) return 0;
    if (!parse_gflops(g, gl, gflops)) return 0;
    *key = k, *kn = kl, *value = v, *vn = vl;
    return 1;
}

/* The rest of a header line "<word> <rest>", trimmed, or NULL if the line
 * is not of that form or holds anything but printable ASCII. */
static const char *header_field(const char *line, size_t n, const char *word, size_t *rest_n)
{
    const size_t wn = strlen(word);
    if (n <= wn || memcmp(line, word, wn) != 0 || line[wn] != ' ') return NULL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)line[i] < 0x20 || (unsigned char)line[i] > 0x7e) return NULL;
    const char *rest = line + wn;
    size_t rn = n - wn;
    trim(&rest, &rn);
    if (rn == 0 || rn > TCONV_CACHE_TEXT_MAX) return NULL;
    *rest_n = rn;
    return rest;
}

static void set_found(tconv_cache_parsed *out, tconv_cache_origin o, const char *s, size_t n)
{
    out->origin = o;
    if (n > TCONV_CACHE_TEXT_MAX) n = TCONV_CACHE_TEXT_MAX;
    memcpy(out->found, s, n);
    out->found[n] = '\0';
}

/* Checks header line number `field` (0 format, 1 tconv, 2 host); 1 if it
 * matches, else 0 with out->origin set. */
static int check_header(const char *line, size_t n, int field, const tconv_cache_header *want,
                        tconv_cache_parsed *out)
{
    static const char *const words[3] = {"format", "tconv", "host"};
    size_t rn = 0;
    const char *rest = header_field(line, n, words[field], &rn);
    if (!rest) {
        out->origin = TCONV_CACHE_BAD_HEADER;
        return 0;
    }
    if (field == 0) {
        char expect[16];
        snprintf(expect, sizeof expect, "%d", TCONV_CACHE_FORMAT_VERSION);
        for (size_t i = 0; i < rn; i++)
            if (rest[i] < '0' || rest[i] > '9') {
                out->origin = TCONV_CACHE_BAD_HEADER;
                return 0;
            }
        if (rn != strlen(expect) || memcmp(rest, expect, rn) != 0) {
            set_found(out, TCONV_CACHE_OTHER_FORMAT, rest, rn);
            return 0;
        }
        return 1;
    }
    const char *expect = field == 1 ? want->version : want->host;
    if (rn != strlen(expect) || memcmp(rest, expect, rn) != 0) {
        set_found(out, field == 1 ? TCONV_CACHE_OTHER_VERSION : TCONV_CACHE_OTHER_HOST, rest, rn);
        return 0;
    }
    return 1;
}

int tconv_cache_parse(const char *text, size_t len, const tconv_cache_header *want,
                      tconv_cache_parsed *out)
{
    memset(out, 0, sizeof *out);
    out->origin = TCONV_CACHE_EMPTY;
    line_entry *lines = NULL;
    size_t n = 0, cap = 0, line_no = 0, pos = 0;
    int header_seen = 0; /* header lines matched so far, 0..3 */
    int failed = 0;

    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        const int complete = nl != NULL;
        size_t ln = complete ? (size_t)(nl - line) : len - pos;
        pos += ln + complete;
        line_no++;
        if (ln && line[ln - 1] == '\r') ln--;

        const char *t = line;
        size_t tn = ln;
        trim(&t, &tn);
        if (tn == 0 || t[0] == '#') {
            /* A truncated comment is still a comment; a truncated blank is
             * nothing. */
            continue;
        }
        if (header_seen < 3) {
            if (!complete) {
                out->origin = TCONV_CACHE_BAD_HEADER;
                break;
            }
            if (!check_header(t, tn, header_seen, want, out)) break;
            if (++header_seen == 3) out->origin = TCONV_CACHE_THIS_HOST;
            continue;
        }
        const char *k, *v;
        size_t kn, vn;
        double g;
        if (!complete || !parse_entry(line, ln, &k, &kn, &v, &vn, &g)) {
            if (!out->bad_lines++) out->first_bad_line = line_no;
            continue;
        }
        if (n == cap) {
            const size_t ncap = cap ? 2 * cap : 16;
            line_entry *grown = realloc(lines, ncap * sizeof *lines);
            if (!grown) {
                failed = 1;
                break;
            }
            lines = grown;
            cap = ncap;
        }
        if (make_entry(&lines[n].e, k, kn, v, vn, g) != 0) {
            failed = 1;
            break;
        }
        lines[n].order = n;
        n++;
    }
    if (header_seen > 0 && header_seen < 3 && out->origin == TCONV_CACHE_EMPTY)
        out->origin = TCONV_CACHE_BAD_HEADER; /* the file ended inside the header */

    if (!failed && n) {
        qsort(lines, n, sizeof *lines, cmp_line_entry);
        out->entries.v = malloc(n * sizeof *out->entries.v);
        if (!out->entries.v) failed = 1;
    }
    if (failed) {
        for (size_t i = 0; i < n; i++) free(lines[i].e.key);
        free(lines);
        out->entries.v = NULL;
        return -1;
    }
    /* Keep the last line of each key: in sorted order, the last of a run. */
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && strcmp(lines[i].e.key, lines[i + 1].e.key) == 0) {
            free(lines[i].e.key);
            continue;
        }
        out->entries.v[out->entries.n++] = lines[i].e;
    }
    out->entries.cap = n;
    free(lines);
    return 0;
}

void tconv_cache_parsed_free(tconv_cache_parsed *p)
{
    tconv_cache_entries_free(&p->entries);
}

/* "141.250": the value rounded to 1/1000, without printf's locale. */
static int format_gflops(char *buf, size_t n, double g)
{
    const long long m = llround(g * 1000.0);
    return snprintf(buf, n, "%lld.%03lld", m / 1000, m % 1000);
}

char *tconv_cache_format(const tconv_cache_header *h, const tconv_cache_entries *e, size_t *len)
{
    char head[3 * TCONV_CACHE_TEXT_MAX + 64];
    const int hn = snprintf(head, sizeof head, "%sformat %d\ntconv %s\nhost %s\n", header_comment,
                            TCONV_CACHE_FORMAT_VERSION, h->version, h->host);
    if (hn < 0 || (size_t)hn >= sizeof head) return NULL;
    size_t total = (size_t)hn;
    for (size_t i = 0; i < e->n; i++)
        total += strlen(e->v[i].key) + strlen(e->v[i].value) + 32;
    char *out = malloc(total + 1);
    if (!out) return NULL;
    memcpy(out, head, (size_t)hn);
    size_t at = (size_t)hn;
    for (size_t i = 0; i < e->n; i++) {
        char g[32];
        format_gflops(g, sizeof g, e->v[i].gflops);
        const int w = snprintf(out + at, total + 1 - at, "%s | %s | %s\n", e->v[i].key,
                               e->v[i].value, g);
        if (w < 0 || (size_t)w > total - at) {
            free(out);
            return NULL;
        }
        at += (size_t)w;
    }
    out[at] = '\0';
    if (len) *len = at;
    return out;
}

/* Index of key's entry, or where it would go (*found 0). */
static size_t search(const tconv_cache_entries *e, const char *key, int *found)
{
    size_t lo = 0, hi = e->n;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const int c = strcmp(e->v[mid].key, key);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = 0;
    return lo;
}

const tconv_cache_entry *tconv_cache_find(const tconv_cache_entries *e, const char *key)
{
    int found;
    const size_t i = search(e, key, &found);
    return found ? &e->v[i] : NULL;
}

int tconv_cache_put(tconv_cache_entries *e, const char *key, const char *value, double gflops)
{
    tconv_cache_entry fresh;
    if (make_entry(&fresh, key, strlen(key), value, strlen(value), round_milli(gflops)) != 0)
        return -1;
    int found;
    const size_t i = search(e, key, &found);
    if (found) {
        free(e->v[i].key);
        e->v[i] = fresh;
        return 0;
    }
    if (e->n == e->cap) {
        const size_t ncap = e->cap ? 2 * e->cap : 16;
        tconv_cache_entry *grown = realloc(e->v, ncap * sizeof *grown);
        if (!grown) {
            free(fresh.key);
            return -1;
        }
        e->v = grown;
        e->cap = ncap;
    }
    memmove(&e->v[i + 1], &e->v[i], (e->n - i) * sizeof *e->v);
    e->v[i] = fresh;
    e->n++;
    return 0;
}

int tconv_cache_merge(tconv_cache_entries *dst, const tconv_cache_entries *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (tconv_cache_put(dst, src->v[i].key, src->v[i].value, src->v[i].gflops) != 0) return -1;
    return 0;
}

void tconv_cache_entries_free(tconv_cache_entries *e)
{
    for (size_t i = 0; i < e->n; i++) free(e->v[i].key);
    free(e->v);
    e->v = NULL;
    e->n = e->cap = 0;
}
