/*
 * The tconv-tune command, run as a user runs it: each test forks and execs
 * the built program (its path in the environment variable TCONV_TUNE, set
 * by tests/meson.build) with TCONV_CACHE pointing at a file in a fresh
 * temporary directory, and checks its exit status, its output and the cache
 * file. Every bad-argument class must exit 2 with a message naming the
 * argument and its value; an unwritable cache must exit 1; a tuned layer is
 * stored, taken from the cache by the next run, and shown by --show, for
 * the forward pass (the default) and for the backward passes (--pass);
 * --export, --import (refused from another host, taken with --force) and
 * --clear move and remove entries; --version and -h answer and exit 0.
 * A layer given with the layout, weight layout and activation fields is
 * stored under the key a plan of the same desc, created here with the C
 * API, looks up: that plan says "from cache", and one of another layout
 * does not.
 */
#define _DEFAULT_SOURCE /* mkdtemp, setenv */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tconv.h"
#include "tempdir.h"

extern char **environ;

/* Big enough for any output of these runs (a few table lines). */
#define OUT_MAX 16384

static const char *tune_exe(void)
{
    const char *p = getenv("TCONV_TUNE");
    cr_assert(p && *p, "TCONV_TUNE (the path of the built tconv-tune) is not set");
    return p;
}

static char tmpdir[TU_TEMP_DIR_SIZE];

static void make_tmpdir(void)
{
    cr_assert_eq(tu_temp_dir("tconv-test-cli", tmpdir), 0, "mkdtemp: %s", strerror(errno));
}

/* Runs tconv-tune with args (NULL-terminated, without argv[0]) and
 * TCONV_CACHE = cache; stdout and stderr together land in out. Returns the
 * exit status, or 128 + the signal that killed it. */
static int run(const char *cache, const char *const *args, char *out)
{
    const char *argv[32] = {tune_exe()};
    int n = 1;
    while (args[n - 1]) {
        cr_assert_lt(n, 31);
        argv[n] = args[n - 1];
        n++;
    }
    argv[n] = NULL;
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    const pid_t pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], STDOUT_FILENO);
        dup2(fd[1], STDERR_FILENO);
        close(fd[1]);
        setenv("TCONV_CACHE", cache, 1);
        /* execve itself, not execv: glibc's execv calls its internal
         * execve, which the aarch64 cross run's preloaded execve (that
         * starts AArch64 programs under qemu) would not see. */
        execve(argv[0], (char *const *)argv, environ);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0;
    for (;;) {
        const ssize_t r = read(fd[0], out + len, OUT_MAX - 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
        if (len == OUT_MAX - 1) break;
    }
    out[len] = '\0';
    close(fd[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, OUT_MAX);
    cr_assert(buf);
    fread(buf, 1, OUT_MAX - 1, f);
    fclose(f);
    return buf;
}

static void cache_in_tmp(char *path, size_t n)
{
    make_tmpdir();
    snprintf(path, n, "%s/tuning.txt", tmpdir);
}

/* A layer small enough to tune in a fraction of a second, even under qemu. */
#define TINY "c=8 f=8 k=3 s=2 crop=1 op=1 h=6 w=6"

Test(tune_cli, help_prints_usage)
{
    char cache[128], out[OUT_MAX];
    cache_in_tmp(cache, sizeof cache);
    const char *const helps[] = {"--help", "-h"};
    for (int i = 0; i < 2; i++) {
        const char *args[] = {helps[i], NULL};
        cr_assert_eq(run(cache, args, out), 0, "%s: %s", helps[i], out);
        cr_expect(strstr(out, "usage: tconv-tune"), "%s: %s", helps[i], out);
        cr_expect(strstr(out, "--budget") && strstr(out, "--import FILE") &&
                      strstr(out, "--force") && strstr(out, "--clear"),
                  "%s: %s", helps[i], out);
    }
    struct stat st;
    cr_expect_neq(stat(cache, &st), 0, "--help wrote the cache");
}

/* This host's fingerprint, from --version's "host ..." line, into host. */
static void host_line(const char *cache, char *host, size_t n)
{
    char out[OUT_MAX];
    const char *args[] = {"--version", NULL};
    cr_assert_eq(run(cache, args, out), 0, "%s", out);
    const char *h = strstr(out, "\nhost ");
    cr_assert(h, "--version names no host:\n%s", out);
    snprintf(host, n, "%.*s", (int)strcspn(h + 1, "\n"), h + 1);
}

Test(tune_cli, version_names_tconv_and_host)
{
    char cache[128], out[OUT_MAX], host[512];
    cache_in_tmp(cache, sizeof cache);
    const char *args[] = {"--version", NULL};
    cr_assert_eq(run(cache, args, out), 0, "%s", out);
    cr_expect(!strncmp(out, "tconv-tune (tconv) ", 19), "%s", out);
    cr_expect(out[19] >= '0' && out[19] <= '9', "no version number:\n%s", out);
    host_line(cache, host, sizeof host);
    cr_expect_gt(strlen(host), strlen("host "), "%s", host);
}

/* Writes a cache file holding one entry under the header lines given. */
static void write_cache(const char *path, const char *version, const char *host,
                        const char *entry)
{
    FILE *f = fopen(path, "w");
    cr_assert(f, "%s: %s", path, strerror(errno));
    fprintf(f, "# tconv tuning cache: one line per layer configuration, key | value | GFLOP/s\n"
               "format 1\ntconv %s\n%s\n%s\n",
            version, host, entry);
    fclose(f);
}

#define ENTRY_KEY "fwd f32 NCHW/W_IOHW c8 f8 g1 k3x3 s2x2 d1x1 phase1,1 act0 h~6 w~6 n~1 isa=x threads=1"
#define ENTRY ENTRY_KEY " | kernel=f32_fwd_none mode=gather | 1.500"

Test(tune_cli, export_import_force_and_clear)
{
    char cache[128], out[OUT_MAX], host[512], version[64], file[200], other[200];
    cache_in_tmp(cache, sizeof cache);
    host_line(cache, host, sizeof host);
    const char *vargs[] = {"--version", NULL};
    cr_assert_eq(run(cache, vargs, out), 0);
    snprintf(version, sizeof version, "%.*s", (int)strcspn(out + 19, "\n"), out + 19);

    /* --import of a file from this host: its entry lands in the cache. */
    snprintf(file, sizeof file, "%s/exported-elsewhere.txt", tmpdir);
    write_cache(file, version, host, ENTRY);
    const char *import[] = {"--import", file, NULL};
    cr_assert_eq(run(cache, import, out), 0, "%s", out);
    cr_expect(strstr(out, "the cache holds 1 entry"), "%s", out);
    char *text = read_text(cache);
    cr_assert(text, "--import wrote no cache at %s", cache);
    cr_expect(strstr(text, ENTRY), "the entry was not imported:\n%s", text);
    free(text);

    /* --export writes it back out, under this host's header. */
    snprintf(other, sizeof other, "%s/out/exported.txt", tmpdir);
    const char *export[] = {"--export", other, NULL};
    cr_assert_eq(run(cache, export, out), 0, "%s", out);
    cr_expect(strstr(out, "exported 1 entry"), "%s", out);
    text = read_text(other);
    cr_assert(text, "--export wrote no file at %s", other);
    cr_expect(strstr(text, ENTRY) && strstr(text, host), "%s", text);
    free(text);

    /* --clear removes it: the file is gone and --show says so. */
    const char *clear_show[] = {"--clear", "--show", NULL};
    cr_assert_eq(run(cache, clear_show, out), 0, "%s", out);
    cr_expect(strstr(out, "cleared"), "%s", out);
    cr_expect(strstr(out, "no file yet"), "%s", out);

    /* A file from another host is refused, naming both fingerprints, and
     * the cache is not written; --force takes its entry under this host's
     * header. */
    const char *foreign_host = "host AuthenticAMD 99-1-1 avx512 l1d=32K l2=1024K l3=32768K cores=64";
    write_cache(file, version, foreign_host, ENTRY);
    cr_assert_eq(run(cache, import, out), 1, "%s", out);
    cr_expect(strstr(out, foreign_host + 5), "the file's fingerprint is not named:\n%s", out);
    cr_expect(strstr(out, host + 5), "this host's fingerprint is not named:\n%s", out);
    cr_expect(strstr(out, "--force"), "the message does not point to --force:\n%s", out);
    struct stat st;
    cr_expect_neq(stat(cache, &st), 0, "a refused import wrote the cache");

    const char *forced[] = {"--import", file, "--force", NULL};
    cr_assert_eq(run(cache, forced, out), 0, "%s", out);
    cr_expect(strstr(out, "with --force"), "%s", out);
    text = read_text(cache);
    cr_assert(text, "--import --force wrote no cache");
    cr_expect(strstr(text, ENTRY), "the forced entry is missing:\n%s", text);
    cr_expect(strstr(text, host) && !strstr(text, foreign_host),
              "the cache is not under this host's header:\n%s", text);
    free(text);

    /* Another tconv version: refused, then taken with --force too. */
    write_cache(file, "0.0.0-other", host, ENTRY);
    const char *clear[] = {"--clear", NULL};
    cr_assert_eq(run(cache, clear, out), 0, "%s", out);
    cr_assert_eq(run(cache, import, out), 1, "%s", out);
    cr_expect(strstr(out, "0.0.0-other"), "%s", out);
    cr_assert_eq(run(cache, forced, out), 0, "%s", out);

    /* Not a cache at all: refused even with --force; a missing file too. */
    FILE *f = fopen(file, "w");
    cr_assert(f);
    fputs("not a cache\n", f);
    fclose(f);
    cr_expect_eq(run(cache, forced, out), 1, "%s", out);
    cr_expect(strstr(out, "not a tconv tuning cache"), "%s", out);
    const char *missing[] = {"--import", "/nonexistent/tuning.txt", NULL};
    cr_expect_eq(run(cache, missing, out), 1, "%s", out);
    cr_expect(strstr(out, "/nonexistent/tuning.txt"), "%s", out);
    const char *bad_export[] = {"--export", "/dev/null/exported.txt", NULL};
    cr_expect_eq(run(cache, bad_export, out), 1, "%s", out);
    cr_expect(strstr(out, "/dev/null/exported.txt"), "%s", out);
}

/* Each bad argument: exit status 2 and a message holding `want` (the
 * argument and its value), before anything is tuned or written. */
typedef struct bad_case {
    const char *args[4];
    const char *want;
} bad_case;

Test(tune_cli, bad_arguments_exit_2_naming_them)
{
    char cache[128], out[OUT_MAX];
    cache_in_tmp(cache, sizeof cache);
#if defined(__aarch64__)
    const char *absent_isa = "avx2";
#else
    const char *absent_isa = "neon";
#endif
    const bad_case cases[] = {
        {{"--frobnicate", NULL}, "unknown option '--frobnicate'"},
        {{"-x", NULL}, "unknown option '-x'"},
        {{"stray", NULL}, "unexpected argument 'stray'"},
        {{"--threads", NULL}, "--threads needs a value"},
        {{"--layer", NULL}, "--layer needs a value"},
        {{"--threads", "abc", NULL}, "--threads abc"},
        {{"--threads", "0", NULL}, "--threads 0"},
        {{"--threads", "4x", NULL}, "--threads 4x"},
        {{"--threads=2000", NULL}, "--threads 2000"},
        {{"--budget", "-1", NULL}, "--budget -1"},
        {{"--budget", "0", NULL}, "--budget 0"},
        {{"--budget", "soon", NULL}, "--budget soon"},
        {{"--budget", "nan", NULL}, "--budget nan"},
        {{"--dtype", "f16", NULL}, "--dtype f16"},
        {{"--pass", NULL}, "--pass needs a value"},
        {{"--pass", "bwd", NULL}, "--pass bwd"},
        {{"--pass", "fwd,", NULL}, "--pass fwd,"},
        {{"--pass=fwd,,bwd_data", NULL}, "--pass fwd,,bwd_data"},
        {{"--pass", "fwd,bwd_data,BWD_WEIGHTS", NULL}, "--pass fwd,bwd_data,BWD_WEIGHTS"},
        {{"--isa", "mips", NULL}, "--isa mips"},
        {{"--isa", absent_isa, NULL}, absent_isa},
        {{"--show=yes", NULL}, "--show takes no value"},
        {{"--clear=all", NULL}, "--clear takes no value"},
        {{"--export", NULL}, "--export needs a value"},
        {{"--import", NULL}, "--import needs a value"},
        {{"--import", "", NULL}, "--import ''"},
        {{"--force", NULL}, "--force is for --import"},
        {{"--export", "/tmp/x.txt", "--force", NULL}, "--force is for --import"},
        {{"--clear", "--layer", TINY, NULL}, "--layer tunes"},
        {{"--dtype", "f32", "--show", NULL}, "--dtype tunes"},
        {{"--file", "/nonexistent/tconv-layers.txt", NULL}, "/nonexistent/tconv-layers.txt"},
        {{"--layer", "c=8 f=8 k=3 h=6", NULL}, "field 'w' is missing"},
        {{"--layer", "c=8 f=8 k=three h=6 w=6", NULL}, "bad value 'three' for field 'k'"},
        {{"--layer", "c=8 f=8 k=3 h=6 w=6 z=1", NULL}, "unknown field 'z'"},
        {{"--layer", "c=8 f=8 k=3 h=6 w=6 s", NULL}, "'s' is not key=value"},
        {{"--layer", "c=8 f=8 k=3 h=6 w=-6", NULL}, "bad value '-6' for field 'w'"},
        {{"--layer", "c=6 f=8 k=3 h=6 w=6 g=4", NULL}, "groups (4)"},
        {{"--layer", "c=8 f=8 k=3 s=2 op=2 h=6 w=6", NULL}, "output_padding"},
        {{"--layer", "c=8 f=8 k=3 h=2 w=2 crop=5", NULL}, "c=8 f=8 k=3 h=2 w=2 crop=5"},
        {{"--layer", "c=8 f=8 k=3 h=6 w=6 layout=nhcw", NULL}, "bad value 'nhcw' for field 'layout'"},
        {{"--layer", "c=8 f=8 k=3 h=6 w=6 weights=hwio", NULL}, "bad value 'hwio' for field 'weights'"},
        {{"--layer", "c=8 f=8 k=3 h=6 w=6 act=mish", NULL}, "bad value 'mish' for field 'act'"},
        {{"--layer", "c=8 f=8 k=3 h=6 w=6 act=clipped_relu", NULL}, "clipped_relu needs alpha"},
        {{"--layer", "c=8 f=8 k=3 h=6 w=6 act=relu alpha=2", NULL}, "alpha is for"},
        {{"--layer", "c=8 f=8 k=3 h=6 w=6 act=elu alpha=0", NULL}, "activation_alpha (0)"},
        {{"--layer", "c=8 f=8 k=3 h=6 w=6 alpha=x", NULL}, "bad value 'x' for field 'alpha'"},
        {{"--layer", "c=8 f=8 k=3 h=6 w=6 crop=1 pads=1,1,1,1", NULL}, "not both"},
        {{"--layer", "c=8 f=8 k=3 h=6 w=6 pads=1,1,1", NULL}, "bad value '1,1,1' for field 'pads'"},
        {{"--layer", "c=8 f=8 k=3 h=6 w=6 pads=1,,1,1", NULL}, "field 'pads'"},
        {{"--layer", "c=8 f=8 k=3 h=6 w=6 dtype=f16", NULL}, "bad value 'f16' for field 'dtype'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int rc = run(cache, cases[i].args, out);
        cr_expect_eq(rc, 2, "%s %s: exit %d, want 2; output:\n%s", cases[i].args[0],
                     cases[i].args[1] ? cases[i].args[1] : "", rc, out);
        cr_expect(strstr(out, cases[i].want), "%s %s: output lacks \"%s\":\n%s",
                  cases[i].args[0], cases[i].args[1] ? cases[i].args[1] : "", cases[i].want,
                  out);
        cr_expect(strstr(out, "--help"), "the message points to --help:\n%s", out);
    }
    struct stat st;
    cr_expect_neq(stat(cache, &st), 0, "a bad command line wrote the cache");
}

Test(tune_cli, bad_file_line_names_file_and_line)
{
    char cache[128], out[OUT_MAX], file[160];
    cache_in_tmp(cache, sizeof cache);
    snprintf(file, sizeof file, "%s/layers.txt", tmpdir);
    FILE *f = fopen(file, "w");
    cr_assert(f);
    fputs("# two layers\n" TINY "\n\nc=4 f=4 k=2 h=3 w=3 s=2x\n", f);
    fclose(f);
    const char *args[] = {"--file", file, NULL};
    cr_assert_eq(run(cache, args, out), 2, "%s", out);
    char want[200];
    snprintf(want, sizeof want, "%s:4: bad layer spec", file);
    cr_expect(strstr(out, want), "output lacks \"%s\":\n%s", want, out);
    cr_expect(strstr(out, "field 's'"), "%s", out);

    f = fopen(file, "w");
    cr_assert(f);
    fputs("# only comments\n\n   # and blanks\n", f);
    fclose(f);
    cr_assert_eq(run(cache, args, out), 2, "%s", out);
    cr_expect(strstr(out, "no layer in it"), "%s", out);
}

Test(tune_cli, show_without_a_file_says_so)
{
    char cache[128], out[OUT_MAX];
    cache_in_tmp(cache, sizeof cache);
    const char *args[] = {"--show", NULL};
    cr_assert_eq(run(cache, args, out), 0, "%s", out);
    cr_expect(strstr(out, cache), "%s", out);
    cr_expect(strstr(out, "no file yet"), "%s", out);
}

/* The key and value of the cache file's first entry line ("key | value |
 * GFLOP/s"), or 0 when it has none. */
static int first_entry(const char *text, char *key, char *value, size_t n)
{
    for (const char *line = text; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "") {
        const char *bar = strstr(line, " | ");
        const char *nl = strchr(line, '\n');
        if (line[0] == '#' || !bar || (nl && bar > nl)) continue;
        const char *bar2 = strstr(bar + 3, " | ");
        if (!bar2 || (nl && bar2 > nl)) continue;
        snprintf(key, n, "%.*s", (int)(bar - line), line);
        snprintf(value, n, "%.*s", (int)(bar2 - bar - 3), bar + 3);
        return 1;
    }
    return 0;
}

Test(tune_cli, tunes_stores_reuses_and_shows)
{
    char cache[128], out[OUT_MAX];
    cache_in_tmp(cache, sizeof cache);
    const char *args[] = {"--layer", TINY, "--dtype", "f32", "--budget", "0.3", "--threads",
                          "1", NULL};
    cr_assert_eq(run(cache, args, out), 0, "%s", out);
    cr_expect(strstr(out, "measured now"), "%s", out);
    cr_expect(strstr(out, TINY), "the table names the layer:\n%s", out);
    cr_expect(strstr(out, "fwd "), "the table shows the choice:\n%s", out);
    cr_expect(!strstr(out, " f64 "), "--dtype f32 tuned f64:\n%s", out);

    char *text = read_text(cache);
    cr_assert(text, "the run wrote no cache file at %s", cache);
    char key[300], value[300];
    cr_assert(first_entry(text, key, value, sizeof key), "no entry in the cache:\n%s", text);
    cr_expect(strstr(key, "fwd f32 ") && strstr(key, " c8 f8 ") && strstr(key, "threads=1"),
              "the entry is not this layer's: %s", key);
    free(text);

    cr_assert_eq(run(cache, args, out), 0, "%s", out);
    cr_expect(strstr(out, "from cache"), "the second run did not use the cache:\n%s", out);
    cr_expect(!strstr(out, "measured now"), "the second run measured again:\n%s", out);

    const char *show[] = {"--show", NULL};
    cr_assert_eq(run(cache, show, out), 0, "%s", out);
    cr_expect(strstr(out, key), "--show lacks the key \"%s\":\n%s", key, out);
    cr_expect(strstr(out, value), "--show lacks the value \"%s\":\n%s", value, out);
    cr_expect(strstr(out, "GFLOP/s"), "%s", out);
    cr_expect(strstr(out, "1 entry"), "%s", out);

    /* --exhaustive measures again even though the entry exists. */
    const char *exh[] = {"--layer", TINY, "--dtype", "f32", "--budget", "0.3", "--threads",
                         "1", "--exhaustive", NULL};
    cr_assert_eq(run(cache, exh, out), 0, "%s", out);
    cr_expect(strstr(out, "measured now"), "%s", out);
}

Test(tune_cli, file_of_layers_both_dtypes)
{
    char cache[128], out[OUT_MAX], file[160];
    cache_in_tmp(cache, sizeof cache);
    snprintf(file, sizeof file, "%s/layers.txt", tmpdir);
    FILE *f = fopen(file, "w");
    cr_assert(f);
    fputs("# a comment line\n  c=4 f=4 k=2 s=2 h=3 w=3   # a trailing comment\n\n"
          "c=4 f=8 k=3 h=3 w=3 g=2 n=2\n",
          f);
    fclose(f);
    const char *args[] = {"--file", file, "--budget", "0.4", "--threads", "1", NULL};
    cr_assert_eq(run(cache, args, out), 0, "%s", out);
    cr_expect(strstr(out, "c=4 f=4 k=2 s=2 h=3 w=3 "), "%s", out);
    cr_expect(strstr(out, "c=4 f=8 k=3 h=3 w=3 g=2 n=2 "), "%s", out);
    cr_expect(strstr(out, "4 layers in"), "2 layers x f32 and f64 make 4 rows:\n%s", out);
    char *text = read_text(cache);
    cr_assert(text, "no cache file");
    cr_expect(strstr(text, "fwd f32 ") && strstr(text, "fwd f64 "), "%s", text);
    free(text);
}

Test(tune_cli, unwritable_cache_exits_1)
{
    char out[OUT_MAX];
    const char *args[] = {"--layer", TINY, "--dtype", "f32", "--budget", "0.2", NULL};
    /* A path under a regular file can never be created. */
    const int rc = run("/dev/null/tuning.txt", args, out);
    cr_expect_eq(rc, 1, "exit %d, want 1:\n%s", rc, out);
    cr_expect(strstr(out, "tuning cache could not be written"), "%s", out);
    cr_expect(strstr(out, "/dev/null/tuning.txt"), "the message names the path:\n%s", out);
}

/* The cache file's entry line whose key starts with prefix, or NULL. */
static const char *entry_line(const char *text, const char *prefix)
{
    for (const char *line = text; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : "")
        if (!strncmp(line, prefix, strlen(prefix))) return line;
    return NULL;
}

Test(tune_cli, backward_passes_tuned_stored_and_shown)
{
    char cache[128], out[OUT_MAX];
    cache_in_tmp(cache, sizeof cache);
    const char *args[] = {"--layer", TINY, "--dtype", "f32", "--budget", "0.3", "--threads",
                          "1", "--pass", "bwd_data,bwd_weights", NULL};
    cr_assert_eq(run(cache, args, out), 0, "%s", out);
    cr_expect(strstr(out, " pass "), "the table has no pass column:\n%s", out);
    cr_expect(strstr(out, "  bwd_data     "), "no bwd_data row:\n%s", out);
    cr_expect(strstr(out, "  bwd_weights  "), "no bwd_weights row:\n%s", out);
    cr_expect(!strstr(out, "  fwd "), "--pass without fwd tuned the forward pass:\n%s", out);
    cr_expect(strstr(out, "measured now"), "%s", out);
    cr_expect(strstr(out, "1 layer x 2 passes in"), "%s", out);

    char *text = read_text(cache);
    cr_assert(text, "the run wrote no cache file at %s", cache);
    const char *bd = entry_line(text, "bwd_data f32 "), *bw = entry_line(text, "bwd_weights f32 ");
    cr_assert(bd && bw, "no backward entries in the cache:\n%s", text);
    cr_expect(!entry_line(text, "fwd "), "a forward entry was stored:\n%s", text);
    const char *show[] = {"--show", NULL};
    cr_assert_eq(run(cache, show, out), 0, "%s", out);
    cr_expect(strstr(out, "2 entries"), "%s", out);
    char key[300], value[300];
    const char *const lines[] = {bd, bw};
    for (int i = 0; i < 2; i++) {
        cr_assert(first_entry(lines[i], key, value, sizeof key));
        cr_expect(strstr(key, " c8 f8 ") && strstr(key, "threads=1"), "not this layer's: %s",
                  key);
        cr_expect(!strncmp(value, "kernel=", 7) && !strstr(value, "mode="),
                  "a backward value names a kernel only: %s", value);
        cr_expect(strstr(out, key), "--show lacks the key \"%s\":\n%s", key, out);
        cr_expect(strstr(out, value), "--show lacks the value \"%s\":\n%s", value, out);
    }
    free(text);

    cr_assert_eq(run(cache, args, out), 0, "%s", out);
    cr_expect(strstr(out, "from cache"), "the second run did not use the cache:\n%s", out);
    cr_expect(!strstr(out, "measured now"), "the second run measured again:\n%s", out);
}

/* The desc a plan of TINY's layer would have, in the given layouts and
 * activation, with TINY's crops (PyTorch padding 1, output_padding 1). */
static tconv_desc tiny_desc(tconv_layout layout, tconv_weight_layout wl, tconv_activation act)
{
    tconv_desc d;
    tconv_desc_init(&d);
    d.channels = 8;
    d.filters = 8;
    d.filter_h = d.filter_w = 3;
    d.stride_h = d.stride_w = 2;
    d.in_h = d.in_w = 6;
    d.layout = layout;
    d.weight_layout = wl;
    d.activation = act;
    const int64_t pad[2] = {1, 1}, op[2] = {1, 1};
    cr_assert_eq(tconv_crop_pytorch(&d, pad, op), TCONV_OK, "%s", tconv_last_error());
    return d;
}

/* How the plan of d (no tuning flag: the cache's entry, else the analytic
 * choice) chose its forward kernel: the info's "tune: fwd ..." part. */
static void fwd_how(const tconv_desc *d, char *how, size_t n)
{
    tconv_plan *plan = NULL;
    cr_assert_eq(tconv_plan_create(&plan, d, 0), TCONV_OK, "%s", tconv_last_error());
    const char *t = strstr(tconv_plan_info(plan), "tune: fwd ");
    cr_assert(t, "%s", tconv_plan_info(plan));
    snprintf(how, n, "%.*s", (int)strcspn(t + 10, ";"), t + 10);
    tconv_plan_destroy(plan);
}

/* A layer tuned in NHWC with OHWI weights and a fused ReLU, and one in
 * SSCB with MATLAB weights, a leaky ReLU, ONNX pads and dtype=f64: their
 * entries' keys name them, and plans this process creates through the C
 * API with the same descs take them from the cache; plans in another
 * layout, or without the activation, do not (their keys differ). */
Test(tune_cli, layout_weights_act_fields_reach_the_plans_key)
{
    char cache[128], out[OUT_MAX];
    cache_in_tmp(cache, sizeof cache);
    const char *args[] = {"--layer", TINY " layout=nhwc weights=ohwi act=relu", "--dtype", "f32",
                          "--budget", "0.3", "--threads", "1", NULL};
    cr_assert_eq(run(cache, args, out), 0, "%s", out);
    /* alpha is not in the key; dtype=f64 beside --dtype f32: only f64. */
    const char *spec = "c=8 f=8 k=3 s=2 pads=1,0,1,2 op=1x0 h=6 w=7 layout=sscb weights=matlab "
                       "act=leaky_relu alpha=0.2 dtype=f64";
    const char *args2[] = {"--layer", spec, "--dtype", "f32", "--budget", "0.3", "--threads", "1",
                           NULL};
    cr_assert_eq(run(cache, args2, out), 0, "%s", out);
    cr_expect(strstr(out, " f64 ") && !strstr(out, " f32 "), "dtype=f64 was not obeyed:\n%s",
              out);
    char *text = read_text(cache);
    cr_assert(text, "the runs wrote no cache file at %s", cache);
    cr_expect(entry_line(text, "fwd f32 NHWC/W_OHWI c8 f8 g1 k3x3 s2x2 d1x1 phase1,1 act1 "),
              "no NHWC/W_OHWI act1 entry:\n%s", text);
    cr_expect(entry_line(text, "fwd f64 SSCB/W_MATLAB c8 f8 g1 k3x3 s2x2 d1x1 phase1,0 act2 "),
              "no SSCB/W_MATLAB act2 entry:\n%s", text);
    cr_expect(!entry_line(text, "fwd f32 SSCB"), "dtype=f64 tuned f32 too:\n%s", text);
    free(text);

    /* This process's cache is the file the commands wrote (the location is
     * read on first use, here), and the thread count is part of the key. */
    cr_assert_eq(setenv("TCONV_CACHE", cache, 1), 0);
    cr_assert_eq(tconv_set_num_threads(1), TCONV_OK);
    char how[128];
    tconv_desc d = tiny_desc(TCONV_NHWC, TCONV_W_OHWI, TCONV_ACT_RELU);
    fwd_how(&d, how, sizeof how);
    cr_expect_str_eq(how, "tuned, from cache", "the NHWC/OHWI/relu plan missed the entry");
    d = tiny_desc(TCONV_NCHW, TCONV_W_IOHW, TCONV_ACT_RELU);
    fwd_how(&d, how, sizeof how);
    cr_expect_str_eq(how, "heuristic", "an NCHW/IOHW plan took the NHWC/OHWI entry");
    d = tiny_desc(TCONV_NHWC, TCONV_W_OHWI, TCONV_ACT_NONE);
    fwd_how(&d, how, sizeof how);
    cr_expect_str_eq(how, "heuristic", "a plan without the activation took the relu entry");

    tconv_desc e;
    tconv_desc_init(&e);
    e.channels = e.filters = 8;
    e.filter_h = e.filter_w = 3;
    e.stride_h = e.stride_w = 2;
    e.in_h = 6;
    e.in_w = 7;
    e.dtype = TCONV_F64;
    e.layout = TCONV_SSCB;
    e.weight_layout = TCONV_W_MATLAB;
    e.activation = TCONV_ACT_LEAKY_RELU;
    e.activation_alpha = 0.01;
    const int64_t pads[4] = {1, 0, 1, 2}, op[2] = {1, 0};
    cr_assert_eq(tconv_crop_onnx_pads(&e, pads, op), TCONV_OK, "%s", tconv_last_error());
    fwd_how(&e, how, sizeof how);
    cr_expect_str_eq(how, "tuned, from cache", "the SSCB/MATLAB/leaky_relu f64 plan missed the entry");
    e.dtype = TCONV_F32;
    fwd_how(&e, how, sizeof how);
    cr_expect_str_eq(how, "heuristic", "an f32 plan took the f64 entry");
}
