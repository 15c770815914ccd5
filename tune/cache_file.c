/*
 * The tuning cache's file operations (see cache_file.h): POSIX calls only,
 * each failure turned into a sentence that names the path.
 */
#define _DEFAULT_SOURCE /* flock, mkstemp, gethostname, fsync under -std=c11 */

#include "tune/cache_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/error.h" /* TCONV_PRINTF */

static int failf(char *why, size_t n, const char *fmt, ...) TCONV_PRINTF(3, 4);

static int failf(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return -1;
}

/* failf, for memory that ran out. */
static int nomem(char *why, size_t n, const char *what, const char *path)
{
    failf(why, n, "out of memory %s%s", what, path);
    return TCONV_CACHE_FILE_NOMEM;
}

static char *join(const char *a, const char *b)
{
    const size_t an = strlen(a), bn = strlen(b);
    char *s = malloc(an + bn + 1);
    if (!s) return NULL;
    memcpy(s, a, an);
    memcpy(s + an, b, bn + 1);
    return s;
}

/* The file is named after the host because a home directory is often shared
 * between machines (NFS on a cluster, a dotfile sync): with one file name,
 * two different machines would keep replacing each other's file, since each
 * discards a file with another host's fingerprint. The name only keeps them
 * apart; whether a file may be used is decided by the fingerprint inside it.
 * Characters other than letters, digits, '.', '-' and '_' become '_'. */
static void host_file_name(char *out, size_t n)
{
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0]) snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    for (char *c = host; *c; c++) {
        const int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                       (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' || *c == '_';
        if (!ok) *c = '_';
    }
    snprintf(out, n, "tuning-%.64s.txt", host);
}

char *tconv_cache_locate(void)
{
    const char *env = getenv("TCONV_CACHE");
    if (env && *env) return join(env, "");
    char name[96];
    host_file_name(name, sizeof name);
    char *dir = NULL;
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/') dir = join(xdg, "/tconv/");
    else if (home && *home) dir = join(home, "/.cache/tconv/");
    if (!dir) return NULL;
    char *path = join(dir, name);
    free(dir);
    return path;
}

int tconv_cache_file_read(const char *path, char **text, size_t *len, char *why, size_t why_size)
{
    *text = NULL;
    *len = 0;
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        /* ENOTDIR: a file where a directory of the path should be; the
         * cache file cannot exist there either. */
        if (errno == ENOENT || errno == ENOTDIR) return 1;
        return failf(why, why_size, "cannot open %s: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return failf(why, why_size, "%s is not a regular file", path);
    }
    if (st.st_size > TCONV_CACHE_FILE_MAX_BYTES) {
        close(fd);
        return failf(why, why_size, "%s is larger than %d bytes", path,
                     TCONV_CACHE_FILE_MAX_BYTES);
    }
    /* The size may change while reading (a writer of another tconv build
     * that appends); read until end of file, within the bound. */
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return nomem(why, why_size, "reading ", path);
    }
    for (;;) {
        if (n == cap) {
            if (cap > TCONV_CACHE_FILE_MAX_BYTES) {
                free(buf);
                close(fd);
                return failf(why, why_size, "%s is larger than %d bytes", path,
                             TCONV_CACHE_FILE_MAX_BYTES);
            }
            char *grown = realloc(buf, 2 * cap + 1);
            if (!grown) {
                free(buf);
                close(fd);
                return nomem(why, why_size, "reading ", path);
            }
            buf = grown;
            cap *= 2;
        }
        const ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            const int e = errno;
            free(buf);
            close(fd);
            return failf(why, why_size, "cannot read %s: %s", path, strerror(e));
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

/* mkdir -p of the directory part of path. */
static int make_parent(const char *path, char *why, size_t why_size)
{
    char *dir = join(path, "");
    if (!dir) return nomem(why, why_size, "creating the directory of ", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) {
        free(dir);
        return 0; /* the current directory, or "/" */
    }
    *slash = '\0';
    for (char *p = dir + 1;; p++) {
        if (*p != '/' && *p != '\0') continue;
        const char saved = *p;
        *p = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            const int e = errno;
            failf(why, why_size, "cannot create directory %s: %s", dir, strerror(e));
            free(dir);
            return -1;
        }
        *p = saved;
        if (!saved) break;
    }
    free(dir);
    return 0;
}

int tconv_cache_file_lock(const char *path, char *why, size_t why_size)
{
    const int made = make_parent(path, why, why_size);
    if (made != 0) return made;
    char *lock_path = join(path, ".lock");
    if (!lock_path) return nomem(why, why_size, "locking ", path);
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    /* A lock file another user created (a cache shared through a group-
     * writable directory) opens read-only, which flock accepts as well. */
    if (fd < 0 && errno == EACCES) fd = open(lock_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        failf(why, why_size, "cannot open lock file %s: %s", lock_path, strerror(errno));
        free(lock_path);
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        failf(why, why_size, "cannot lock %s: %s", lock_path, strerror(errno));
        free(lock_path);
        close(fd);
        return -1;
    }
    free(lock_path);
    return fd;
}

void tconv_cache_file_unlock(int lock_fd)
{
    if (lock_fd < 0) return;
    flock(lock_fd, LOCK_UN);
    close(lock_fd);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        const ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w == 0) errno = EIO;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int tconv_cache_file_replace(const char *path, const char *text, size_t len, char *why,
                             size_t why_size)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return failf(why, why_size, "%s exists and is not a regular file", path);
    const int made = make_parent(path, why, why_size);
    if (made != 0) return made;
    char *tmp = join(path, ".tmp.XXXXXX");
    if (!tmp) return nomem(why, why_size, "writing ", path);
    const int fd = mkstemp(tmp);
    if (fd < 0) {
        failf(why, why_size, "cannot create a temporary file beside %s: %s", path,
              strerror(errno));
        free(tmp);
        return -1;
    }
    int e = 0;
    if (fchmod(fd, 0644) != 0 || write_all(fd, text, len) != 0 || fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) {
        unlink(tmp);
        failf(why, why_size, "cannot write %s: %s", path, strerror(e));
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int tconv_cache_file_remove(const char *path, char *why, size_t why_size)
{
    if (unlink(path) != 0 && errno != ENOENT)
        return failf(why, why_size, "cannot remove %s: %s", path, strerror(errno));
    return 0;
}
