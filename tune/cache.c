/*
 * The tuning cache's process state (see cache.h) and the public
 * tconv_cache_* functions of include/tconv.h.
 *
 * Three sets of entries matter: the file (shared by every process of this
 * user on this host), `memory` (what lookups see: the file as last read or
 * written, plus `pending`) and `pending` (entries this process stored or
 * imported that are not in the file yet, because writing failed). Every
 * write goes through update_file(), which merges under the file lock, so a
 * write never drops what another process wrote since this one read.
 */
#include "tune/cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/error.h"
#include "tune/cache_file.h"
#include "tune/fingerprint.h"

#define WHY_SIZE 512

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t locate_once = PTHREAD_ONCE_INIT;
static char *cache_path; /* NULL: no location (no TCONV_CACHE, XDG_CACHE_HOME or HOME) */

/* Guarded by mutex. */
static int loaded;
static tconv_cache_entries memory, pending;
static int write_failed;
static char write_failure[WHY_SIZE];
static int warned_unusable, warned_damaged;

static void locate(void) { cache_path = tconv_cache_locate(); }

static const char *path_or_empty(void)
{
    pthread_once(&locate_once, locate);
    return cache_path ? cache_path : "";
}

static tconv_cache_header this_header(void)
{
    const tconv_cache_header h = {tconv_version(), tconv_host_fingerprint()};
    return h;
}

/* Warnings go to stderr once per process and kind: a tuning run stores
 * hundreds of entries, and one line says all there is to say. */
static void warn_unusable(const char *why)
{
    if (warned_unusable) return;
    warned_unusable = 1;
    fprintf(stderr, "tconv: warning: tuning cache not usable (%s); tuning results are kept "
                    "for this process only\n", why);
}

static void warn_damaged(const char *path, const tconv_cache_parsed *p)
{
    if (warned_damaged) return;
    warned_damaged = 1;
    if (p->origin == TCONV_CACHE_BAD_HEADER)
        fprintf(stderr, "tconv: warning: tuning cache %s has no valid header; its entries are "
                        "ignored and the next store rewrites it\n", path);
    else
        fprintf(stderr, "tconv: warning: tuning cache %s: %zu damaged line%s skipped (the first "
                        "is line %zu); the next store rewrites the file without %s\n",
                path, p->bad_lines, p->bad_lines == 1 ? "" : "s", p->first_bad_line,
                p->bad_lines == 1 ? "it" : "them");
}

/* Reads path and parses it against this host's header. Returns 0 with *out
 * filled, 1 when the file does not exist (*out then empty), or with why set
 * -1 (unreadable) or TCONV_CACHE_FILE_NOMEM (out of memory). */
/* read_parsed, and with foreign 1 a file of another host or tconv version
 * parsed as if it were this host's: its entries are kept, its origin says
 * THIS_HOST and its found says the first header line that differed (an
 * import with --force). Another format or a bad header stays what it is. */
static int read_parsed_as(const char *path, int foreign, tconv_cache_parsed *out, char *why,
                          size_t why_size)
{
    char *text;
    size_t len;
    const int r = tconv_cache_file_read(path, &text, &len, why, why_size);
    if (r < 0) return r;
    const char *body = r == 0 ? text : "";
    const size_t body_len = r == 0 ? len : 0;
    tconv_cache_header h = this_header();
    /* The header lines the file holds instead of this host's: the parser
     * reports one difference at a time (format, then version, then host). */
    char version[TCONV_CACHE_TEXT_MAX + 1] = "", host[TCONV_CACHE_TEXT_MAX + 1] = "";
    char first_found[TCONV_CACHE_TEXT_MAX + 1] = "";
    for (int attempt = 0;; attempt++) {
        if (tconv_cache_parse(body, body_len, &h, out) != 0) {
            free(text);
            snprintf(why, why_size, "out of memory parsing %s", path);
            return TCONV_CACHE_FILE_NOMEM;
        }
        const int other_version = out->origin == TCONV_CACHE_OTHER_VERSION;
        if (!foreign || attempt == 2 || (!other_version && out->origin != TCONV_CACHE_OTHER_HOST))
            break;
        if (!first_found[0]) snprintf(first_found, sizeof first_found, "%s", out->found);
        snprintf(other_version ? version : host, sizeof version, "%s", out->found);
        if (other_version) h.version = version;
        else h.host = host;
        tconv_cache_parsed_free(out);
    }
    if (first_found[0] && out->origin == TCONV_CACHE_THIS_HOST)
        snprintf(out->found, sizeof out->found, "%s", first_found);
    free(text);
    return r;
}

static int read_parsed(const char *path, tconv_cache_parsed *out, char *why, size_t why_size)
{
    return read_parsed_as(path, 0, out, why, why_size);
}

/* read_parsed for this host's own cache file: a missing file is an empty
 * cache, and damage is warned about (the next write repairs it). */
static int read_cache_file(const char *path, tconv_cache_parsed *out, char *why, size_t why_size)
{
    const int r = read_parsed(path, out, why, why_size);
    if (r < 0) return r;
    if (out->origin == TCONV_CACHE_BAD_HEADER ||
        (out->origin == TCONV_CACHE_THIS_HOST && out->bad_lines))
        warn_damaged(path, out);
    return 0;
}

/* Replaces memory by entries + pending (taking entries' storage). */
static void set_memory(tconv_cache_entries *entries)
{
    tconv_cache_entries_free(&memory);
    memory = *entries;
    memset(entries, 0, sizeof *entries);
    if (tconv_cache_merge(&memory, &pending) != 0) {
        /* Out of memory: lookups miss some of this process's entries; a
         * later store still writes them. */
    }
    loaded = 1;
}

/* First use: read the file once. */
static void load_locked(void)
{
    if (loaded) return;
    tconv_cache_entries none = {0};
    pthread_once(&locate_once, locate);
    if (!cache_path) {
        set_memory(&none);
        return;
    }
    tconv_cache_parsed p;
    char why[WHY_SIZE];
    if (read_cache_file(cache_path, &p, why, sizeof why) != 0) {
        warn_unusable(why);
        set_memory(&none);
        return;
    }
    if (p.origin == TCONV_CACHE_THIS_HOST) set_memory(&p.entries);
    else set_memory(&none);
    tconv_cache_parsed_free(&p);
}

/* The one way the file is written: under the writers' lock, read the file,
 * keep its valid entries if it is this host's, then either drop everything
 * (clear) or merge pending in, write the result atomically (or remove the
 * file, for clear), and make it the memory copy. 0, or -1 or
 * TCONV_CACHE_FILE_NOMEM (out of memory) with the reason recorded for
 * tconv_cache_write_failed (pending then stays pending). */
static int update_file(int clear)
{
    pthread_once(&locate_once, locate);
    char why[WHY_SIZE];
    int ok = 0, failure = TCONV_CACHE_FILE_FAILED;
    if (!cache_path) {
        snprintf(why, sizeof why,
                 "no location: TCONV_CACHE, XDG_CACHE_HOME and HOME are all unset");
        goto done;
    }
    const int lock = tconv_cache_file_lock(cache_path, why, sizeof why);
    if (lock < 0) {
        failure = lock;
        goto done;
    }
    tconv_cache_parsed p;
    const int got = read_cache_file(cache_path, &p, why, sizeof why);
    if (got != 0) {
        failure = got;
        tconv_cache_file_unlock(lock);
        goto done;
    }
    tconv_cache_entries result = {0};
    if (clear) {
        if (tconv_cache_file_remove(cache_path, why, sizeof why) == 0) ok = 1;
    } else {
        if (p.origin == TCONV_CACHE_THIS_HOST) {
            result = p.entries;
            memset(&p.entries, 0, sizeof p.entries);
        }
        const tconv_cache_header h = this_header();
        size_t len;
        char *text = NULL;
        int replaced;
        if (tconv_cache_merge(&result, &pending) != 0 ||
            !(text = tconv_cache_format(&h, &result, &len))) {
            snprintf(why, sizeof why, "out of memory writing %s", cache_path);
            failure = TCONV_CACHE_FILE_NOMEM;
        } else if ((replaced = tconv_cache_file_replace(cache_path, text, len, why,
                                                        sizeof why)) == 0) {
            ok = 1;
        } else {
            failure = replaced;
        }
        free(text);
    }
    tconv_cache_file_unlock(lock);
    tconv_cache_parsed_free(&p);
    if (ok) {
        tconv_cache_entries_free(&pending);
        set_memory(&result);
    }
    tconv_cache_entries_free(&result);
done:
    write_failed = !ok;
    if (!ok) snprintf(write_failure, sizeof write_failure, "%s", why);
    return ok ? 0 : failure;
}

/* The status of a failure of the file functions above: TCONV_ENOMEM when
 * memory ran out, else TCONV_EIO. */
static tconv_status file_status(int failure)
{
    return failure == TCONV_CACHE_FILE_NOMEM ? TCONV_ENOMEM : TCONV_EIO;
}

int tconv_cache_lookup(const char *key, char *value, size_t value_size, double *gflops)
{
    if (tconv_cache_text_problem(key, 1)) return 0;
    pthread_mutex_lock(&mutex);
    load_locked();
    const tconv_cache_entry *e = tconv_cache_find(&memory, key);
    int found = 0;
    if (e && (!value || strlen(e->value) < value_size)) {
        if (value) memcpy(value, e->value, strlen(e->value) + 1);
        if (gflops) *gflops = e->gflops;
        found = 1;
    }
    pthread_mutex_unlock(&mutex);
    return found;
}

/* A string for an error message: at most 60 characters, anything
 * unprintable as '?', NULL as "(null)". */
static const char *shown(const char *s, char buf[64])
{
    if (!s) return "(null)";
    size_t i = 0;
    for (; s[i] && i < 60; i++)
        buf[i] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] <= 0x7e ? s[i] : '?';
    if (s[i]) buf[i - 1] = buf[i - 2] = buf[i - 3] = '.';
    buf[i] = '\0';
    return buf;
}

static tconv_status check_text(const char *field, const char *s, int is_key)
{
    const char *problem = tconv_cache_text_problem(s, is_key);
    if (!problem) return TCONV_OK;
    char buf[64];
    return tconv_fail(TCONV_EINVAL, "%s (\"%s\") %s; a cache %s is 1 to %d printable ASCII "
                      "characters without '|'", field, shown(s, buf), problem, field,
                      TCONV_CACHE_TEXT_MAX);
}

tconv_status tconv_cache_store(const char *key, const char *value, double gflops)
{
    tconv_status s = check_text("key", key, 1);
    if (s == TCONV_OK) s = check_text("value", value, 0);
    if (s != TCONV_OK) return s;
    if (!tconv_cache_gflops_ok(gflops))
        return tconv_fail(TCONV_EINVAL, "gflops (%.17g) is not finite, >= 0 and below %g once "
                          "rounded to 0.001", gflops, TCONV_CACHE_GFLOPS_LIMIT);
    pthread_mutex_lock(&mutex);
    load_locked();
    if (tconv_cache_put(&pending, key, value, gflops) != 0 ||
        tconv_cache_put(&memory, key, value, gflops) != 0) {
        pthread_mutex_unlock(&mutex);
        return tconv_fail(TCONV_ENOMEM, "out of memory storing cache key \"%.60s\"", key);
    }
    if (update_file(0) != 0) warn_unusable(write_failure);
    pthread_mutex_unlock(&mutex);
    return TCONV_OK;
}

int tconv_cache_write_failed(char *why, size_t why_size)
{
    pthread_mutex_lock(&mutex);
    const int failed = write_failed;
    if (failed && why && why_size) snprintf(why, why_size, "%s", write_failure);
    pthread_mutex_unlock(&mutex);
    return failed;
}

/* ------------------------------------------------------------------------ */
/* Public API (include/tconv.h)                                              */
/* ------------------------------------------------------------------------ */

const char *tconv_cache_path(void) { return path_or_empty(); }

/* tconv_cache_import, and with force 1 tconv_cache_import_forced. */
static tconv_status import_file(const char *path, int force)
{
    if (!path || !*path) return tconv_fail(TCONV_EINVAL, "path (%s) is not a file name",
                                           path ? "\"\"" : "NULL");
    tconv_cache_parsed p;
    char why[WHY_SIZE];
    pthread_mutex_lock(&mutex);
    const int r = read_parsed_as(path, force, &p, why, sizeof why);
    pthread_mutex_unlock(&mutex);
    if (r < 0) return tconv_fail(file_status(r), "path (%s): %s", path, why);
    if (r == 1) return tconv_fail(TCONV_EIO, "path (%s) does not exist", path);
    const char *host = tconv_host_fingerprint();
    tconv_status s = TCONV_OK;
    switch (p.origin) {
    case TCONV_CACHE_THIS_HOST: break;
    case TCONV_CACHE_EMPTY:
    case TCONV_CACHE_BAD_HEADER:
        s = tconv_fail(TCONV_EINVAL, "path (%s) is not a tconv tuning cache: no valid header",
                       path);
        break;
    case TCONV_CACHE_OTHER_FORMAT:
        s = tconv_fail(TCONV_EINVAL, "path (%s) has cache format %s; this tconv reads format %d",
                       path, p.found, TCONV_CACHE_FORMAT_VERSION);
        break;
    case TCONV_CACHE_OTHER_VERSION:
        s = tconv_fail(TCONV_EINVAL, "path (%s) was tuned with tconv %s; this is tconv %s", path,
                       p.found, tconv_version());
        break;
    case TCONV_CACHE_OTHER_HOST:
        s = tconv_fail(TCONV_EINVAL, "path (%s) was tuned on another host (\"%s\"); this host is "
                       "\"%s\"", path, p.found, host);
        break;
    }
    if (s != TCONV_OK) {
        tconv_cache_parsed_free(&p);
        return s;
    }
    pthread_mutex_lock(&mutex);
    if (p.bad_lines && !warned_damaged) {
        warned_damaged = 1;
        fprintf(stderr, "tconv: warning: importing %s: %zu damaged line%s skipped (the first is "
                        "line %zu)\n", path, p.bad_lines, p.bad_lines == 1 ? "" : "s",
                p.first_bad_line);
    }
    load_locked();
    int updated;
    if (tconv_cache_merge(&pending, &p.entries) != 0 ||
        tconv_cache_merge(&memory, &p.entries) != 0)
        s = tconv_fail(TCONV_ENOMEM, "out of memory importing %s", path);
    else if ((updated = update_file(0)) != 0)
        s = tconv_fail(file_status(updated),
                       "importing %s: %s (the entries are kept for this process only)", path,
                       write_failure);
    pthread_mutex_unlock(&mutex);
    tconv_cache_parsed_free(&p);
    return s;
}

tconv_status tconv_cache_import(const char *path) { return import_file(path, 0); }

tconv_status tconv_cache_import_forced(const char *path) { return import_file(path, 1); }

tconv_status tconv_cache_export(const char *path)
{
    if (!path || !*path) return tconv_fail(TCONV_EINVAL, "path (%s) is not a file name",
                                           path ? "\"\"" : "NULL");
    pthread_mutex_lock(&mutex);
    pthread_once(&locate_once, locate);
    /* The file as it is now (other processes may have added to it since
     * this one read it), plus what this process could not write. */
    tconv_cache_entries entries = {0};
    char why[WHY_SIZE];
    tconv_status s = TCONV_OK;
    if (cache_path) {
        tconv_cache_parsed p;
        const int r = read_cache_file(cache_path, &p, why, sizeof why);
        if (r != 0) {
            s = tconv_fail(file_status(r), "reading this host's cache: %s", why);
        } else if (p.origin == TCONV_CACHE_THIS_HOST) {
            entries = p.entries;
            memset(&p.entries, 0, sizeof p.entries);
        }
        if (s == TCONV_OK) tconv_cache_parsed_free(&p);
    }
    const tconv_cache_header h = this_header();
    size_t len;
    char *text = NULL;
    if (s == TCONV_OK && (tconv_cache_merge(&entries, &pending) != 0 ||
                          !(text = tconv_cache_format(&h, &entries, &len))))
        s = tconv_fail(TCONV_ENOMEM, "out of memory exporting to %s", path);
    pthread_mutex_unlock(&mutex);
    int replaced;
    if (s == TCONV_OK &&
        (replaced = tconv_cache_file_replace(path, text, len, why, sizeof why)) != 0)
        s = tconv_fail(file_status(replaced), "path (%s): %s", path, why);
    free(text);
    tconv_cache_entries_free(&entries);
    return s;
}

tconv_status tconv_cache_clear(void)
{
    pthread_mutex_lock(&mutex);
    tconv_cache_entries none = {0};
    tconv_cache_entries_free(&pending);
    set_memory(&none);
    tconv_status s = TCONV_OK;
    pthread_once(&locate_once, locate);
    int updated;
    if (cache_path && (updated = update_file(1)) != 0)
        s = tconv_fail(file_status(updated), "clearing the tuning cache: %s", write_failure);
    pthread_mutex_unlock(&mutex);
    return s;
}
