/*
 * The tuning cache's file operations: where the file lives, reading it
 * whole, and replacing it safely while other processes may do the same.
 * Each function that can fail returns 0, or -1 (TCONV_CACHE_FILE_FAILED)
 * or TCONV_CACHE_FILE_NOMEM (memory ran out) and then writes a one-line
 * reason (naming the path and the OS error) into why[why_size].
 */
#ifndef TCONV_TUNE_CACHE_FILE_H
#define TCONV_TUNE_CACHE_FILE_H

#include <stddef.h>

#define TCONV_CACHE_FILE_FAILED (-1) /* the file system refused (the OS error in why) */
#define TCONV_CACHE_FILE_NOMEM (-2)  /* memory ran out ("out of memory ..." in why) */

/* The cache file for this host, from malloc: $TCONV_CACHE if set and not
 * empty; else $XDG_CACHE_HOME/tconv/tuning-<hostname>.txt (XDG_CACHE_HOME
 * absolute, as the XDG spec requires); else
 * $HOME/.cache/tconv/tuning-<hostname>.txt. NULL when none of these
 * variables gives one (or memory ran out). */
char *tconv_cache_locate(void);

/* Files larger than this are not tuning caches (a cache with every layer of
 * every model holds a few thousand lines); refusing them bounds memory when
 * TCONV_CACHE points somewhere odd. */
#define TCONV_CACHE_FILE_MAX_BYTES (16 << 20)

/* Reads the whole regular file at path into *text (from malloc, with a NUL
 * after its *len bytes). Returns 0; 1 when the file does not exist (*text
 * NULL; also when a directory of the path is a file); -1 when it cannot be read or is not a regular file of at most
 * TCONV_CACHE_FILE_MAX_BYTES; TCONV_CACHE_FILE_NOMEM when memory ran out.
 * Never blocks on a FIFO. */
int tconv_cache_file_read(const char *path, char **text, size_t *len, char *why,
                          size_t why_size);

/* Takes the exclusive lock that serializes writers of path: flock on the
 * sibling "<path>.lock", created if needed (and left in place: deleting a
 * lock file races with a process about to lock it). Creates path's missing
 * parent directories first. Returns the lock's descriptor (>= 0), -1 or
 * TCONV_CACHE_FILE_NOMEM. Blocks while another process holds the lock. */
int tconv_cache_file_lock(const char *path, char *why, size_t why_size);

/* Releases a lock from tconv_cache_file_lock. */
void tconv_cache_file_unlock(int lock_fd);

/* Replaces path with text atomically: writes "<path>.tmp.XXXXXX" in the same
 * directory (so rename cannot cross file systems), flushes it to disk, and
 * renames it over path; readers see the old file or the new one, never a
 * mixture. Refuses when path exists and is not a regular file (TCONV_CACHE
 * pointing at a device must never replace it). Mode 0644. */
int tconv_cache_file_replace(const char *path, const char *text, size_t len, char *why,
                             size_t why_size);

/* Removes path; a missing file is success. */
int tconv_cache_file_remove(const char *path, char *why, size_t why_size);

#endif /* TCONV_TUNE_CACHE_FILE_H */
