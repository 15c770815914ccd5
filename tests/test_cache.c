/*
 * The tuning cache (tune/cache.h and the tconv_cache_* API): round trip,
 * persistence across processes, files from another host, version or format,
 * damaged and truncated files, concurrent writers in several processes and
 * threads, unusable locations, import/export/clear, bad keys and values.
 *
 * The cache's state is per process (the location is decided on first use,
 * the file is read once), and Criterion runs each test in its own process.
 * Tests that need a fresh process inside a test fork: a child reports
 * through its exit status (it never calls cr_assert, which belongs to the
 * test's own process). Every test points TCONV_CACHE into its own temporary
 * directory, so the user's real cache is never touched.
 */
#define _DEFAULT_SOURCE /* mkdtemp, setenv, fork, dup under -std=c11 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "tconv.h"
#include "tempdir.h"
#include "tune/cache.h"
#include "tune/fingerprint.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static char tmp_dir[256];

static void make_tmp_dir(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmp_dir, sizeof tmp_dir, "%s/tconv-cache-test-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(tmp_dir), "mkdtemp(%s): %s", tmp_dir, strerror(errno));
}

static void remove_tmp_dir(void)
{
    if (tmp_dir[0]) tu_remove_tree(tmp_dir);
}

TestSuite(cache, .init = make_tmp_dir, .fini = remove_tmp_dir);

/* tmp_dir/name, in a static buffer per call site's choice. */
static void in_tmp(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmp_dir, name);
}

static void use_cache_file(const char *path)
{
    cr_assert_eq(setenv("TCONV_CACHE", path, 1), 0);
}

static void write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "fopen(%s): %s", path, strerror(errno));
    cr_assert_eq(fwrite(text, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
}

/* The whole file, NUL-terminated; NULL if it does not exist. */
static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

/* The header this host writes: the format's three header lines. */
static void header_text(char *out, size_t n, const char *format, const char *version,
                        const char *host)
{
    snprintf(out, n, "# a hand-written tconv tuning cache\nformat %s\ntconv %s\nhost %s\n", format,
             version, host);
}

static int count_occurrences(const char *text, const char *needle)
{
    int count = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle)) count++;
    return count;
}

/* Sends stderr to a file until stderr_end(), which returns what was written
 * (from malloc). */
static int saved_stderr = -1;
static char stderr_path[512];

static void stderr_begin(void)
{
    in_tmp(stderr_path, sizeof stderr_path, "stderr.txt");
    fflush(stderr);
    saved_stderr = dup(2);
    const int fd = open(stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert(fd >= 0 && saved_stderr >= 0);
    dup2(fd, 2);
    close(fd);
}

static char *stderr_end(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    char *text = read_text(stderr_path, NULL);
    cr_assert_not_null(text);
    unlink(stderr_path);
    return text;
}

/* Runs fn(arg) in a forked child (a fresh process as far as the cache is
 * concerned, provided this process has not used the cache yet) and returns
 * its exit status, or -1 if it did not exit normally. */
static int in_child(int (*fn)(void *), void *arg)
{
    fflush(NULL);
    const pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) _exit(fn(arg));
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void assert_found(const char *key, const char *value, double gflops)
{
    char got[TCONV_CACHE_VALUE_SIZE];
    double g = -1;
    cr_assert_eq(tconv_cache_lookup(key, got, sizeof got, &g), 1, "key \"%s\" not found", key);
    cr_assert_str_eq(got, value, "key \"%s\": value \"%s\", expected \"%s\"", key, got, value);
    cr_assert(fabs(g - gflops) <= 0.0005, "key \"%s\": %.4f GFLOP/s, expected %.4f", key, g,
              gflops);
}

static void assert_missing(const char *key)
{
    char got[TCONV_CACHE_VALUE_SIZE];
    cr_assert_eq(tconv_cache_lookup(key, got, sizeof got, NULL), 0,
                 "key \"%s\" found (\"%s\"), expected none", key, got);
}

/* Every non-header, non-comment line of the file at path is "k | v | g"
 * with g a plain decimal: the writer's own form. Returns the entry count. */
static int assert_clean_file(const char *path)
{
    char *text = read_text(path, NULL);
    cr_assert_not_null(text, "%s does not exist", path);
    int entries = 0, header = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        if (header < 3) {
            static const char *const words[3] = {"format ", "tconv ", "host "};
            cr_assert(!strncmp(line, words[header], strlen(words[header])),
                      "header line %d is \"%s\"", header + 1, line);
            header++;
            continue;
        }
        const char *a = strstr(line, " | "), *b = a ? strstr(a + 3, " | ") : NULL;
        cr_assert(a && b && !strchr(b + 3, '|'), "line \"%s\" is not key | value | gflops", line);
        char *end;
        const double g = strtod(b + 3, &end);
        cr_assert(*end == '\0' && g >= 0, "line \"%s\": bad GFLOP/s", line);
        entries++;
    }
    cr_assert_eq(header, 3, "%s: incomplete header", path);
    free(text);
    return entries;
}

/* ------------------------------------------------------------------------ */
/* Round trip and persistence                                                */
/* ------------------------------------------------------------------------ */

Test(cache, round_trip_in_one_process)
{
    char path[512];
    in_tmp(path, sizeof path, "a/missing/dir/cache.txt"); /* directories created on store */
    use_cache_file(path);
    cr_assert_str_eq(tconv_cache_path(), path);

    assert_missing("f32 fwd c=512 f=256");
    cr_assert_eq(tconv_cache_store("f32 fwd c=512 f=256", "f32_fwd_14x32_avx512 kc=256", 141.25),
                 TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(tconv_cache_store("f64 fwd c=3 f=64", "f64_fwd_8x8_avx2", 12.5), TCONV_OK);
    cr_assert_eq(tconv_cache_store("k", "v", 0), TCONV_OK);
    assert_found("f32 fwd c=512 f=256", "f32_fwd_14x32_avx512 kc=256", 141.25);
    assert_found("f64 fwd c=3 f=64", "f64_fwd_8x8_avx2", 12.5);
    assert_found("k", "v", 0);
    assert_missing("f32 fwd c=512 f=255");

    /* A later store of the same key replaces it. */
    cr_assert_eq(tconv_cache_store("k", "v2", 7.0), TCONV_OK);
    assert_found("k", "v2", 7.0);
    cr_assert_eq(tconv_cache_write_failed(NULL, 0), 0);

    /* The file says what the format promises: this host's header and one
     * readable line per key. */
    char *text = read_text(path, NULL);
    cr_assert_not_null(text);
    char want[512];
    snprintf(want, sizeof want, "\nformat 1\ntconv %s\nhost %s\n", tconv_version(),
             tconv_host_fingerprint());
    cr_assert_not_null(strstr(text, want), "header missing in:\n%s", text);
    cr_assert_not_null(strstr(text, "\nf32 fwd c=512 f=256 | f32_fwd_14x32_avx512 kc=256 | 141.250\n"),
                       "entry line missing in:\n%s", text);
    cr_assert_eq(count_occurrences(text, "\nk | "), 1, "key k twice in:\n%s", text);
    free(text);
    cr_assert_eq(assert_clean_file(path), 3);
}

Test(cache, lookup_value_buffer_too_small_or_null)
{
    char path[512];
    in_tmp(path, sizeof path, "cache.txt");
    use_cache_file(path);
    cr_assert_eq(tconv_cache_store("key", "0123456789", 1.5), TCONV_OK);
    char small[10]; /* 10 characters need 11 bytes */
    cr_assert_eq(tconv_cache_lookup("key", small, sizeof small, NULL), 0);
    char exact[11];
    cr_assert_eq(tconv_cache_lookup("key", exact, sizeof exact, NULL), 1);
    cr_assert_str_eq(exact, "0123456789");
    double g = 0;
    cr_assert_eq(tconv_cache_lookup("key", NULL, 0, &g), 1);
    cr_assert_float_eq(g, 1.5, 1e-9);
    cr_assert_eq(tconv_cache_lookup("bad|key", NULL, 0, NULL), 0);
    cr_assert_eq(tconv_cache_lookup(NULL, NULL, 0, NULL), 0);
}

static int child_store_two(void *arg)
{
    (void)arg;
    if (tconv_cache_store("from child 1", "value one", 10.0) != TCONV_OK) return 10;
    if (tconv_cache_store("from child 2", "value two", 20.0) != TCONV_OK) return 11;
    return 0;
}

/* Exit status: 0 if the parent's entry is visible, 1 if not. */
static int child_sees_parent(void *arg)
{
    (void)arg;
    char v[TCONV_CACHE_VALUE_SIZE];
    double g;
    return tconv_cache_lookup("from parent", v, sizeof v, &g) == 1 && !strcmp(v, "parent value") &&
                   fabs(g - 30.0) < 1e-9
               ? 0
               : 1;
}

Test(cache, entries_survive_across_processes)
{
    char path[512];
    in_tmp(path, sizeof path, "cache.txt");
    use_cache_file(path);
    /* This process has not read the file yet: the child writes it, then
     * this process's first lookup reads it. */
    cr_assert_eq(in_child(child_store_two, NULL), 0);
    assert_found("from child 1", "value one", 10.0);
    assert_found("from child 2", "value two", 20.0);
    /* And back: what this process stores, a new process finds. */
    cr_assert_eq(tconv_cache_store("from parent", "parent value", 30.0), TCONV_OK);
    cr_assert_eq(in_child(child_sees_parent, NULL), 0, "a new process misses the parent's entry");
}

/* ------------------------------------------------------------------------ */
/* Files that must not be used                                               */
/* ------------------------------------------------------------------------ */

/* Writes a file with the given header and one entry, checks the entry is not
 * used, then that a store replaces the file with this host's header. */
static void assert_foreign_ignored(const char *format, const char *version, const char *host)
{
    char path[512], text[1024];
    in_tmp(path, sizeof path, "cache.txt");
    use_cache_file(path);
    header_text(text, sizeof text, format, version, host);
    strcat(text, "foreign key | foreign value | 99.000\n");
    write_text(path, text, strlen(text));

    stderr_begin();
    assert_missing("foreign key");
    cr_assert_eq(tconv_cache_store("local key", "local value", 5.0), TCONV_OK);
    char *err = stderr_end();
    /* Another host or version is normal (an upgrade), not damage: no warning. */
    cr_assert_eq(count_occurrences(err, "tconv: warning:"), 0, "unexpected warning: %s", err);
    free(err);

    assert_missing("foreign key");
    assert_found("local key", "local value", 5.0);
    char *now = read_text(path, NULL);
    cr_assert_null(strstr(now, "foreign key"), "the foreign entry survived:\n%s", now);
    char host_line[256];
    snprintf(host_line, sizeof host_line, "\nhost %s\n", tconv_host_fingerprint());
    cr_assert_not_null(strstr(now, host_line), "not rewritten for this host:\n%s", now);
    free(now);
}

Test(cache, other_host_is_ignored_and_replaced)
{
    char host[256];
    /* This host's fingerprint with one field changed: another core count. */
    snprintf(host, sizeof host, "%s", tconv_host_fingerprint());
    char *cores = strstr(host, "cores=");
    cr_assert_not_null(cores, "fingerprint \"%s\" has no core count", host);
    snprintf(cores, sizeof host - (size_t)(cores - host), "cores=%d", 100000);
    cr_assert_str_neq(host, tconv_host_fingerprint());
    assert_foreign_ignored("1", tconv_version(), host);
}

Test(cache, other_tconv_version_is_ignored_and_replaced)
{
    char version[64];
    snprintf(version, sizeof version, "%s.1", tconv_version());
    assert_foreign_ignored("1", version, tconv_host_fingerprint());
}

Test(cache, other_format_is_ignored_and_replaced)
{
    assert_foreign_ignored("2", tconv_version(), tconv_host_fingerprint());
}

Test(cache, import_rejects_other_host_and_version)
{
    char path[512], other[512], text[1024];
    in_tmp(path, sizeof path, "cache.txt");
    in_tmp(other, sizeof other, "other.txt");
    use_cache_file(path);

    header_text(text, sizeof text, "1", tconv_version(), "SomeOtherCPU 1-2-3 avx2 l1d=1K l2=2K l3=3K cores=4");
    strcat(text, "k | v | 1.000\n");
    write_text(other, text, strlen(text));
    cr_assert_eq(tconv_cache_import(other), TCONV_EINVAL);
    cr_assert_not_null(strstr(tconv_last_error(), "another host"), "message: %s", tconv_last_error());
    cr_assert_not_null(strstr(tconv_last_error(), "SomeOtherCPU"), "message: %s", tconv_last_error());
    cr_assert_not_null(strstr(tconv_last_error(), other), "message: %s", tconv_last_error());

    header_text(text, sizeof text, "1", "0.0.0-old", tconv_host_fingerprint());
    strcat(text, "k | v | 1.000\n");
    write_text(other, text, strlen(text));
    cr_assert_eq(tconv_cache_import(other), TCONV_EINVAL);
    cr_assert_not_null(strstr(tconv_last_error(), "0.0.0-old"), "message: %s", tconv_last_error());

    write_text(other, "just some text\n", 15);
    cr_assert_eq(tconv_cache_import(other), TCONV_EINVAL);
    cr_assert_not_null(strstr(tconv_last_error(), "not a tconv tuning cache"), "message: %s",
                       tconv_last_error());
    assert_missing("k");
    cr_assert_eq(access(path, F_OK), -1, "a rejected import wrote the cache file");
}

/* tconv-tune --import --force: a file of another host, of another tconv
 * version, or of both, is taken, its entries under this host's header; one
 * of another format or without a header is still refused. */
Test(cache, forced_import_takes_other_host_and_version)
{
    char path[512], other[512], text[1024];
    in_tmp(path, sizeof path, "cache.txt");
    in_tmp(other, sizeof other, "other.txt");
    use_cache_file(path);
    const char *foreign = "SomeOtherCPU 1-2-3 avx2 l1d=1K l2=2K l3=3K cores=4";

    header_text(text, sizeof text, "1", tconv_version(), foreign);
    strcat(text, "host key | host value | 1.000\n");
    write_text(other, text, strlen(text));
    cr_assert_eq(tconv_cache_import_forced(other), TCONV_OK, "%s", tconv_last_error());
    assert_found("host key", "host value", 1.0);

    header_text(text, sizeof text, "1", "0.0.0-old", foreign);
    strcat(text, "both key | both value | 2.000\nnot an entry\n");
    write_text(other, text, strlen(text));
    cr_assert_eq(tconv_cache_import_forced(other), TCONV_OK, "%s", tconv_last_error());
    assert_found("both key", "both value", 2.0);
    assert_found("host key", "host value", 1.0);

    char *now = read_text(path, NULL);
    char host_line[256];
    snprintf(host_line, sizeof host_line, "\nhost %s\n", tconv_host_fingerprint());
    cr_assert_not_null(strstr(now, host_line), "not under this host's header:\n%s", now);
    cr_assert_null(strstr(now, foreign), "the foreign header was kept:\n%s", now);
    cr_assert_null(strstr(now, "not an entry"), "a damaged line was imported:\n%s", now);
    free(now);

    header_text(text, sizeof text, "2", tconv_version(), foreign);
    strcat(text, "format key | v | 1.000\n");
    write_text(other, text, strlen(text));
    cr_assert_eq(tconv_cache_import_forced(other), TCONV_EINVAL);
    cr_assert_not_null(strstr(tconv_last_error(), "format"), "message: %s", tconv_last_error());
    write_text(other, "just some text\n", 15);
    cr_assert_eq(tconv_cache_import_forced(other), TCONV_EINVAL);
    assert_missing("format key");
}

/* ------------------------------------------------------------------------ */
/* Damaged files                                                             */
/* ------------------------------------------------------------------------ */

Test(cache, damaged_lines_are_skipped_once_warned_and_repaired)
{
    char path[512], text[4096];
    in_tmp(path, sizeof path, "cache.txt");
    use_cache_file(path);
    header_text(text, sizeof text, "1", tconv_version(), tconv_host_fingerprint());
    strcat(text,
           "good one | value 1 | 1.5\n"
           "no separators at all\n"
           "only | one separator\n"
           "too | many | bars | 1.0\n"
           "bad number | v | 1.2.3\n"
           "negative | v | -4\n"
           "exponent | v | 1e5\n"
           "rounds to the limit | v | 999999999.9999\n"
           "empty value |  | 3.0\n"
           " | empty key | 3.0\n"
           "#key | is a comment | 1.0\n"
           "control\x01" "char | v | 1.0\n"
           "non ascii \xc3\xa9 | v | 1.0\n"
           "good two   |   value 2   |   2.25  \r\n"
           "# a comment between entries\n"
           "\n"
           "good three | value 3 | 3\n"
           "cut short | value | 4.1"); /* no newline: a truncated write */
    write_text(path, text, strlen(text));

    stderr_begin();
    assert_found("good one", "value 1", 1.5);
    assert_found("good two", "value 2", 2.25);
    assert_found("good three", "value 3", 3.0);
    assert_missing("cut short");
    assert_missing("bad number");
    assert_missing("negative");
    assert_missing("exponent");
    assert_missing("rounds to the limit");
    assert_missing("too");
    assert_missing("only");
    /* The store rereads the damaged file under the lock: still one warning. */
    cr_assert_eq(tconv_cache_store("new", "entry", 9.0), TCONV_OK);
    char *err = stderr_end();
    cr_assert_eq(count_occurrences(err, "tconv: warning:"), 1, "stderr: %s", err);
    cr_assert_not_null(strstr(err, path), "the warning does not name the file: %s", err);
    free(err);

    /* Repaired: only the good lines and the new one remain, in the writer's form. */
    cr_assert_eq(assert_clean_file(path), 4);
    char *now = read_text(path, NULL);
    cr_assert_not_null(strstr(now, "\ngood two | value 2 | 2.250\n"), "%s", now);
    cr_assert_null(strstr(now, "cut short"), "%s", now);
    cr_assert_null(strstr(now, "separator"), "%s", now);
    free(now);
}

Test(cache, damaged_header_is_ignored_warned_and_repaired)
{
    char path[512];
    in_tmp(path, sizeof path, "cache.txt");
    use_cache_file(path);
    const char text[] = "format 1\ntconv\nhost x\nk | v | 1.0\n"; /* "tconv" without a version */
    write_text(path, text, sizeof text - 1);
    stderr_begin();
    assert_missing("k");
    cr_assert_eq(tconv_cache_store("k2", "v2", 2.0), TCONV_OK);
    char *err = stderr_end();
    cr_assert_eq(count_occurrences(err, "tconv: warning:"), 1, "stderr: %s", err);
    free(err);
    cr_assert_eq(assert_clean_file(path), 1);
    assert_found("k2", "v2", 2.0);
}

/* Builds the file in a child so this process stays fresh for the next child. */
static int child_write_reference(void *arg)
{
    (void)arg;
    static const char *const keys[] = {"alpha", "bravo", "charlie", "delta", "echo"};
    for (int i = 0; i < 5; i++)
        if (tconv_cache_store(keys[i], "some chosen parameters", 10.0 * (i + 1)) != TCONV_OK)
            return 1;
    return 0;
}

typedef struct cut_case {
    const char *dir;
    const char *text;
    size_t cut;
} cut_case;

/* Writes the first cut bytes of the file to its own path, looks up the five
 * keys, and returns a bit per key found. */
static int child_lookup_prefix(void *arg)
{
    const cut_case *c = arg;
    char path[512];
    snprintf(path, sizeof path, "%s/cut-%zu.txt", c->dir, c->cut);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(c->text, 1, c->cut, f) != c->cut || fclose(f) != 0) return 255;
    setenv("TCONV_CACHE", path, 1);
    /* Most prefixes end inside a line: the warning is expected, and
     * damaged_lines_are_skipped_once_warned_and_repaired checks it. */
    const int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, 2);
    static const char *const keys[] = {"alpha", "bravo", "charlie", "delta", "echo"};
    int found = 0;
    for (int i = 0; i < 5; i++) {
        char v[TCONV_CACHE_VALUE_SIZE];
        double g;
        if (tconv_cache_lookup(keys[i], v, sizeof v, &g) == 1) {
            /* A found entry is never a mangled one. */
            if (strcmp(v, "some chosen parameters") != 0 || fabs(g - 10.0 * (i + 1)) > 1e-9)
                return 254;
            found |= 1 << i;
        }
    }
    unlink(path);
    return found;
}

Test(cache, truncated_at_every_byte)
{
    char path[512];
    in_tmp(path, sizeof path, "reference.txt");
    use_cache_file(path);
    cr_assert_eq(in_child(child_write_reference, NULL), 0);
    size_t len;
    char *text = read_text(path, &len);
    cr_assert_not_null(text);

    /* Where each line ends: a key is usable exactly when the header's three
     * lines and the key's own line, newline included, are in the prefix. */
    static const char *const keys[] = {"alpha", "bravo", "charlie", "delta", "echo"};
    size_t key_end[5], header_end = 0;
    const char *host = strstr(text, "\nhost ");
    cr_assert_not_null(host);
    header_end = (size_t)(strchr(host + 1, '\n') - text) + 1;
    for (int i = 0; i < 5; i++) {
        char needle[64];
        snprintf(needle, sizeof needle, "\n%s | ", keys[i]);
        const char *at = strstr(text, needle);
        cr_assert_not_null(at, "%s missing from the reference file", keys[i]);
        key_end[i] = (size_t)(strchr(at + 1, '\n') - text) + 1;
    }
    /* Computed here once and inherited: each child would otherwise load
     * the hwloc topology again (slow under qemu). */
    tconv_host_fingerprint();
    for (size_t cut = 0; cut <= len; cut++) {
        int want = 0;
        for (int i = 0; i < 5; i++)
            if (cut >= header_end && cut >= key_end[i]) want |= 1 << i;
        cut_case c = {tmp_dir, text, cut};
        const int got = in_child(child_lookup_prefix, &c);
        cr_assert_eq(got, want, "prefix of %zu bytes: found mask %d, expected %d", cut, got, want);
    }
    free(text);
}

/* ------------------------------------------------------------------------ */
/* Concurrent writers                                                        */
/* ------------------------------------------------------------------------ */

#define WRITERS 8
#define KEYS_PER_WRITER 40

Test(cache, concurrent_writer_processes_lose_nothing)
{
    char path[512];
    in_tmp(path, sizeof path, "shared/cache.txt");
    use_cache_file(path);
    tconv_host_fingerprint(); /* once, inherited by the writers */
    /* All writers start together: each blocks on the pipe until it closes. */
    int gate[2];
    cr_assert_eq(pipe(gate), 0);
    pid_t pids[WRITERS];
    fflush(NULL);
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        cr_assert(pids[w] >= 0);
        if (pids[w] == 0) {
            close(gate[1]);
            char c;
            while (read(gate[0], &c, 1) > 0) {}
            int bad = 0;
            for (int k = 0; k < KEYS_PER_WRITER; k++) {
                char key[64], value[64];
                snprintf(key, sizeof key, "writer %d key %d", w, k);
                snprintf(value, sizeof value, "value %d.%d", w, k);
                if (tconv_cache_store(key, value, w + k / 1000.0) != TCONV_OK) bad = 1;
            }
            _exit(bad || tconv_cache_write_failed(NULL, 0));
        }
    }
    close(gate[0]);
    close(gate[1]);
    for (int w = 0; w < WRITERS; w++) {
        int status;
        cr_assert_eq(waitpid(pids[w], &status, 0), pids[w]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed", w);
    }
    /* This process has not read the file before: it sees the final one. */
    for (int w = 0; w < WRITERS; w++)
        for (int k = 0; k < KEYS_PER_WRITER; k++) {
            char key[64], value[64];
            snprintf(key, sizeof key, "writer %d key %d", w, k);
            snprintf(value, sizeof value, "value %d.%d", w, k);
            assert_found(key, value, w + k / 1000.0);
        }
    cr_assert_eq(assert_clean_file(path), WRITERS * KEYS_PER_WRITER);
    /* No temporary file left behind. */
    char dir[512];
    in_tmp(dir, sizeof dir, "shared");
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        cr_assert_null(strstr(e->d_name, ".tmp."), "temporary file %s left in %s", e->d_name, dir);
    closedir(d);
}

#define THREADS 4

static void *thread_store(void *arg)
{
    const int t = (int)(size_t)arg;
    for (int k = 0; k < 25; k++) {
        char key[64];
        snprintf(key, sizeof key, "thread %d key %d", t, k);
        if (tconv_cache_store(key, "v", k) != TCONV_OK) return (void *)1;
        if (tconv_cache_lookup(key, NULL, 0, NULL) != 1) return (void *)2;
    }
    return NULL;
}

Test(cache, concurrent_threads_lose_nothing)
{
    char path[512];
    in_tmp(path, sizeof path, "cache.txt");
    use_cache_file(path);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        cr_assert_eq(pthread_create(&th[t], NULL, thread_store, (void *)(size_t)t), 0);
    for (int t = 0; t < THREADS; t++) {
        void *r;
        pthread_join(th[t], &r);
        cr_assert_null(r, "thread %d: a store failed or its lookup missed", t);
    }
    cr_assert_eq(assert_clean_file(path), THREADS * 25);
}

/* ------------------------------------------------------------------------ */
/* Unusable locations                                                        */
/* ------------------------------------------------------------------------ */

/* With the cache at path (which cannot be written): stores succeed, keep the
 * entries for this process, warn once, and write nothing. */
static void assert_degrades(const char *path)
{
    use_cache_file(path);
    stderr_begin();
    for (int i = 0; i < 5; i++) {
        char key[32];
        snprintf(key, sizeof key, "key %d", i);
        cr_assert_eq(tconv_cache_store(key, "value", i), TCONV_OK, "%s", tconv_last_error());
    }
    char *err = stderr_end();
    cr_assert_eq(count_occurrences(err, "tconv: warning:"), 1, "stderr: %s", err);
    free(err);
    for (int i = 0; i < 5; i++) {
        char key[32];
        snprintf(key, sizeof key, "key %d", i);
        assert_found(key, "value", i);
    }
    char why[512];
    cr_assert_eq(tconv_cache_write_failed(why, sizeof why), 1);
    cr_log_info("degraded as expected: %s", why);
    struct stat st;
    cr_assert_neq(stat(path, &st), 0, "%s was written", path);
    /* Explicit requests do report it. */
    char exported[512];
    in_tmp(exported, sizeof exported, "exported.txt");
    cr_assert_eq(tconv_cache_export(exported), TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(tconv_cache_import(exported), TCONV_EIO);
    cr_assert_not_null(strstr(tconv_last_error(), "kept for this process"), "%s",
                       tconv_last_error());
}

Test(cache, read_only_directory_degrades)
{
    char dir[512], path[600], probe[600];
    in_tmp(dir, sizeof dir, "readonly");
    cr_assert_eq(mkdir(dir, 0555), 0);
    chmod(dir, 0555); /* whatever the umask */
    snprintf(path, sizeof path, "%s/cache.txt", dir);
    /* Root (tests in containers often run as root) writes through mode 0555.
     * Then a read-only location is made another way that binds root too: a
     * regular file where the cache's directory should be (mkdir and open
     * then fail with ENOTDIR). */
    snprintf(probe, sizeof probe, "%s/probe", dir);
    const int fd = open(probe, O_WRONLY | O_CREAT, 0644);
    if (fd >= 0) {
        close(fd);
        unlink(probe);
        char blocker[512];
        in_tmp(blocker, sizeof blocker, "not-a-directory");
        write_text(blocker, "x", 1);
        snprintf(path, sizeof path, "%s/cache.txt", blocker);
        cr_log_info("mode 0555 does not stop this user (root?): using %s instead", path);
    }
    assert_degrades(path);
}

Test(cache, file_in_place_of_directory_degrades)
{
    char blocker[512], path[600];
    in_tmp(blocker, sizeof blocker, "plain-file");
    write_text(blocker, "x", 1);
    snprintf(path, sizeof path, "%s/sub/cache.txt", blocker);
    assert_degrades(path);
}

Test(cache, directory_in_place_of_file_degrades)
{
    char path[512];
    in_tmp(path, sizeof path, "a-directory");
    cr_assert_eq(mkdir(path, 0755), 0);
    use_cache_file(path);
    stderr_begin();
    assert_missing("k");
    cr_assert_eq(tconv_cache_store("k", "v", 1.0), TCONV_OK);
    cr_assert_eq(tconv_cache_store("k2", "v", 1.0), TCONV_OK);
    char *err = stderr_end();
    cr_assert_eq(count_occurrences(err, "tconv: warning:"), 1, "stderr: %s", err);
    free(err);
    assert_found("k", "v", 1.0);
    struct stat st;
    cr_assert(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "the directory was replaced");
}

Test(cache, no_location_degrades)
{
    cr_assert_eq(unsetenv("TCONV_CACHE"), 0);
    cr_assert_eq(unsetenv("XDG_CACHE_HOME"), 0);
    cr_assert_eq(unsetenv("HOME"), 0);
    cr_assert_str_eq(tconv_cache_path(), "");
    stderr_begin();
    cr_assert_eq(tconv_cache_store("k", "v", 1.0), TCONV_OK);
    char *err = stderr_end();
    cr_assert_eq(count_occurrences(err, "tconv: warning:"), 1, "stderr: %s", err);
    free(err);
    assert_found("k", "v", 1.0);
    cr_assert_eq(tconv_cache_write_failed(NULL, 0), 1);
}

Test(cache, default_location_follows_xdg_then_home)
{
    cr_assert_eq(unsetenv("TCONV_CACHE"), 0);
    char xdg[512];
    in_tmp(xdg, sizeof xdg, "xdg");
    cr_assert_eq(setenv("XDG_CACHE_HOME", xdg, 1), 0);
    cr_assert_eq(setenv("HOME", "/nonexistent-home", 1), 0);
    const char *p = tconv_cache_path();
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s/tconv/tuning-", xdg);
    cr_assert(!strncmp(p, prefix, strlen(prefix)), "path %s does not start with %s", p, prefix);
    cr_assert(strlen(p) > strlen(prefix) + 4 && !strcmp(p + strlen(p) - 4, ".txt"), "path %s", p);
    cr_assert_eq(tconv_cache_store("k", "v", 1.0), TCONV_OK);
    cr_assert_eq(access(p, F_OK), 0, "%s not written", p);
}

static int child_home_path(void *arg)
{
    const char *home = arg;
    unsetenv("TCONV_CACHE");
    setenv("XDG_CACHE_HOME", "relative/is/ignored", 1);
    setenv("HOME", home, 1);
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s/.cache/tconv/tuning-", home);
    return strncmp(tconv_cache_path(), prefix, strlen(prefix)) == 0 ? 0 : 1;
}

Test(cache, default_location_falls_back_to_home)
{
    cr_assert_eq(in_child(child_home_path, tmp_dir), 0, "not under $HOME/.cache/tconv");
}

/* ------------------------------------------------------------------------ */
/* Import, export, clear                                                     */
/* ------------------------------------------------------------------------ */

static int child_lookup_exported(void *arg)
{
    setenv("TCONV_CACHE", (const char *)arg, 1);
    char v[TCONV_CACHE_VALUE_SIZE];
    double g;
    if (tconv_cache_lookup("a", v, sizeof v, &g) != 1 || strcmp(v, "va") || fabs(g - 1.0) > 1e-9)
        return 1;
    if (tconv_cache_lookup("b", v, sizeof v, &g) != 1 || strcmp(v, "vb") || fabs(g - 2.0) > 1e-9)
        return 2;
    return 0;
}

Test(cache, export_clear_import)
{
    char path[512], exported[512];
    in_tmp(path, sizeof path, "cache.txt");
    in_tmp(exported, sizeof exported, "out/exported.txt");
    use_cache_file(path);
    cr_assert_eq(tconv_cache_store("a", "va", 1.0), TCONV_OK);
    cr_assert_eq(tconv_cache_store("b", "vb", 2.0), TCONV_OK);

    cr_assert_eq(tconv_cache_export(exported), TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(assert_clean_file(exported), 2);
    cr_assert_eq(in_child(child_lookup_exported, exported), 0, "the exported file is not usable");

    cr_assert_eq(tconv_cache_clear(), TCONV_OK, "%s", tconv_last_error());
    assert_missing("a");
    assert_missing("b");
    cr_assert_eq(access(path, F_OK), -1, "clear left the file");
    cr_assert_eq(tconv_cache_clear(), TCONV_OK, "clearing an absent cache");

    /* Import merges: this host's own entries stay, an imported one replaces
     * the entry of the same key. */
    cr_assert_eq(tconv_cache_store("b", "local b", 5.0), TCONV_OK);
    cr_assert_eq(tconv_cache_store("c", "vc", 3.0), TCONV_OK);
    cr_assert_eq(tconv_cache_import(exported), TCONV_OK, "%s", tconv_last_error());
    assert_found("a", "va", 1.0);
    assert_found("b", "vb", 2.0);
    assert_found("c", "vc", 3.0);
    cr_assert_eq(assert_clean_file(path), 3);

    /* An empty cache exports a header-only file, which imports as nothing. */
    cr_assert_eq(tconv_cache_clear(), TCONV_OK);
    cr_assert_eq(tconv_cache_export(exported), TCONV_OK);
    cr_assert_eq(assert_clean_file(exported), 0);
    cr_assert_eq(tconv_cache_import(exported), TCONV_OK, "%s", tconv_last_error());
    assert_missing("a");
}

Test(cache, import_export_bad_arguments)
{
    char path[512], missing[512];
    in_tmp(path, sizeof path, "cache.txt");
    in_tmp(missing, sizeof missing, "no-such-file.txt");
    use_cache_file(path);
    cr_assert_eq(tconv_cache_import(NULL), TCONV_EINVAL);
    cr_assert_not_null(strstr(tconv_last_error(), "path"), "%s", tconv_last_error());
    cr_assert_eq(tconv_cache_import(""), TCONV_EINVAL);
    cr_assert_eq(tconv_cache_export(NULL), TCONV_EINVAL);
    cr_assert_not_null(strstr(tconv_last_error(), "path"), "%s", tconv_last_error());
    cr_assert_eq(tconv_cache_import(missing), TCONV_EIO);
    cr_assert_not_null(strstr(tconv_last_error(), missing), "%s", tconv_last_error());
    cr_assert_eq(tconv_cache_import(tmp_dir), TCONV_EIO, "importing a directory");
    char blocker[512], under[600];
    in_tmp(blocker, sizeof blocker, "plain");
    write_text(blocker, "x", 1);
    snprintf(under, sizeof under, "%s/exported.txt", blocker);
    cr_assert_eq(tconv_cache_export(under), TCONV_EIO);
    cr_assert_not_null(strstr(tconv_last_error(), under), "%s", tconv_last_error());
}

/* ------------------------------------------------------------------------ */
/* Bad keys and values                                                       */
/* ------------------------------------------------------------------------ */

static void assert_rejected(const char *key, const char *value, double gflops, const char *field)
{
    cr_assert_eq(tconv_cache_store(key, value, gflops), TCONV_EINVAL,
                 "store(\"%s\", \"%s\", %g) accepted", key ? key : "(null)",
                 value ? value : "(null)", gflops);
    char want[32];
    snprintf(want, sizeof want, "%s (", field);
    cr_assert(!strncmp(tconv_last_error(), want, strlen(want)),
              "message \"%s\" does not start with \"%s\"", tconv_last_error(), want);
}

Test(cache, bad_keys_values_and_gflops_are_rejected)
{
    char path[512];
    in_tmp(path, sizeof path, "cache.txt");
    use_cache_file(path);
    char long_text[TCONV_CACHE_TEXT_MAX + 2];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0'; /* TCONV_CACHE_TEXT_MAX + 1 characters */

    static const char *const bad[] = {"", "a|b", "a\nb", " lead", "trail ", "tab\there",
                                      "\x7f", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_rejected(bad[i], "v", 1.0, "key");
        assert_rejected("k", bad[i], 1.0, "value");
    }
    assert_rejected(NULL, "v", 1.0, "key");
    assert_rejected("k", NULL, 1.0, "value");
    assert_rejected("#comment", "v", 1.0, "key");
    assert_rejected(long_text, "v", 1.0, "key");
    assert_rejected("k", long_text, 1.0, "value");
    cr_assert_not_null(strstr(tconv_last_error(), "longer than 240"), "%s", tconv_last_error());
    assert_rejected("a|b", "v", 1.0, "key");
    cr_assert_not_null(strstr(tconv_last_error(), "\"a|b\""), "the value is not named: %s",
                       tconv_last_error());
    assert_rejected("k", "v", NAN, "gflops");
    assert_rejected("k", "v", INFINITY, "gflops");
    assert_rejected("k", "v", -1.0, "gflops");
    assert_rejected("k", "v", 1e9, "gflops");
    assert_rejected("k", "v", 999999999.9996, "gflops"); /* 1e9 once rounded to 0.001 */
    cr_assert_eq(access(path, F_OK), -1, "a rejected store wrote the file");

    /* The limits themselves are accepted: 240 characters, '#' inside a key,
     * '#' at the start of a value. */
    long_text[TCONV_CACHE_TEXT_MAX] = '\0';
    cr_assert_eq(tconv_cache_store(long_text, long_text, 999999999.0), TCONV_OK, "%s",
                 tconv_last_error());
    cr_assert_eq(tconv_cache_store("a#b", "#v", 0.0), TCONV_OK, "%s", tconv_last_error());
    assert_found(long_text, long_text, 999999999.0);
    assert_found("a#b", "#v", 0.0);
}

/* ------------------------------------------------------------------------ */
/* Fingerprint                                                               */
/* ------------------------------------------------------------------------ */

Test(cache, fingerprint_is_one_printable_line_naming_isa_and_caches)
{
    const char *fp = tconv_host_fingerprint();
    cr_log_info("host fingerprint: %s", fp);
    cr_assert(strlen(fp) > 0 && strlen(fp) <= TCONV_FINGERPRINT_MAX);
    for (const char *c = fp; *c; c++)
        cr_assert(*c >= 0x20 && *c <= 0x7e && *c != '|', "byte 0x%02x in \"%s\"",
                  (unsigned char)*c, fp);
    char isa[32];
    snprintf(isa, sizeof isa, " %s ", tconv_isa_name(tconv_cpu_isa()));
    cr_assert_not_null(strstr(fp, isa), "\"%s\" lacks the ISA%s", fp, isa);
    cr_assert_not_null(strstr(fp, " l1d="), "%s", fp);
    cr_assert_not_null(strstr(fp, " l2="), "%s", fp);
    cr_assert_not_null(strstr(fp, " l3="), "%s", fp);
    cr_assert_not_null(strstr(fp, " cores="), "%s", fp);
    cr_assert_eq(tconv_host_fingerprint(), fp, "computed twice");
}

/* The public view of the same host (tconv_host_query, what benchmarks
 * record) agrees with the fingerprint line field by field. */
Test(cache, host_query_agrees_with_fingerprint)
{
    tconv_host_info h;
    cr_assert_eq(tconv_host_query(&h), TCONV_OK, "%s", tconv_last_error());
    cr_assert_eq(h.fingerprint, tconv_host_fingerprint());
    cr_assert_eq(h.isa, tconv_cpu_isa());
    cr_assert(h.cores >= 1 && h.machine_cores >= h.cores && h.pus >= h.cores, "cores %d/%d, pus %d",
              h.cores, h.machine_cores, h.pus);
    cr_assert(h.l1d_bytes > 0 && h.l2_bytes >= h.l1d_bytes && h.l3_bytes >= 0, "caches %lld %lld %lld",
              (long long)h.l1d_bytes, (long long)h.l2_bytes, (long long)h.l3_bytes);
    char want[TCONV_FINGERPRINT_MAX + 1];
    snprintf(want, sizeof want, "%s %s l1d=%lldK l2=%lldK l3=%lldK cores=%d", h.cpu, tconv_isa_name(h.isa),
             (long long)(h.l1d_bytes >> 10), (long long)(h.l2_bytes >> 10), (long long)(h.l3_bytes >> 10),
             h.machine_cores);
    cr_assert_str_eq(h.fingerprint, want);
}

Test(cache, host_query_rejects_null)
{
    cr_assert_eq(tconv_host_query(NULL), TCONV_EINVAL);
    cr_assert_not_null(strstr(tconv_last_error(), "info"), "%s", tconv_last_error());
}
