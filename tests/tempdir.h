/*
 * Temporary directories for the tests that write files (tuning caches,
 * exported entries): tu_temp_dir makes /tmp/<prefix>-XXXXXX and removes it,
 * with everything in it, when the process that made it exits, so that a
 * test run leaves nothing behind in /tmp (a CI machine or a developer's
 * box runs the suite many times). Children forked by a test exit without
 * touching it: only the maker removes it.
 *
 * Header-only, for the test programs that are built without testutil.c;
 * include it after defining _DEFAULT_SOURCE (mkdtemp).
 */
#ifndef TCONV_TESTS_TEMPDIR_H
#define TCONV_TESTS_TEMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TU_TEMP_DIRS_MAX 16

#define TU_TEMP_DIR_SIZE 64 /* "/tmp/" + a prefix of up to 50 characters + "-XXXXXX" */

static char tu_temp_dirs[TU_TEMP_DIRS_MAX][TU_TEMP_DIR_SIZE];
static int tu_temp_dir_count;
static pid_t tu_temp_dir_owner;

/* Removes path and, for a directory, everything under it (no links
 * followed; a directory a test made read-only is made writable first). */
static inline void tu_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0755);
        DIR *dir = opendir(path);
        if (dir) {
            struct dirent *e;
            while ((e = readdir(dir))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char child[1024];
                if (snprintf(child, sizeof child, "%s/%s", path, e->d_name) < (int)sizeof child)
                    tu_remove_tree(child);
            }
            closedir(dir);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static inline void tu_remove_temp_dirs(void)
{
    if (getpid() != tu_temp_dir_owner) return;
    for (int i = 0; i < tu_temp_dir_count; i++) tu_remove_tree(tu_temp_dirs[i]);
    tu_temp_dir_count = 0;
}

/* Makes a fresh directory /tmp/<prefix>-XXXXXX and puts its path in dir;
 * returns 0, or -1 with errno set. */
static inline int tu_temp_dir(const char *prefix, char dir[TU_TEMP_DIR_SIZE])
{
    if (tu_temp_dir_owner != getpid()) { /* this process's first (a forked child's too) */
        if (tu_temp_dir_owner == 0) atexit(tu_remove_temp_dirs); /* children inherit it */
        tu_temp_dir_owner = getpid();
        tu_temp_dir_count = 0; /* a child's list starts empty: the parent removes its own */
    }
    if (tu_temp_dir_count == TU_TEMP_DIRS_MAX) return -1;
    char *kept = tu_temp_dirs[tu_temp_dir_count];
    if (snprintf(kept, TU_TEMP_DIR_SIZE, "/tmp/%s-XXXXXX", prefix) >= TU_TEMP_DIR_SIZE) return -1;
    if (!mkdtemp(kept)) return -1;
    tu_temp_dir_count++;
    memcpy(dir, kept, TU_TEMP_DIR_SIZE);
    return 0;
}

#endif /* TCONV_TESTS_TEMPDIR_H */
