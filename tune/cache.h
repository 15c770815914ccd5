/*
 * The tuning cache as the tuner and the planner use it: one text file per
 * host (format in tune/cache_format.h, location and file handling in
 * tune/cache_file.h) mapping a layer-configuration key to the chosen
 * parameters and their measured GFLOP/s. The public functions
 * tconv_cache_path/import/export/clear (include/tconv.h) are built on the
 * same state.
 *
 * The location is decided once per process, on first use, from TCONV_CACHE,
 * XDG_CACHE_HOME or HOME; setting them later changes nothing.
 *
 * Thread-safe: one mutex guards the in-memory copy. The file is read once,
 * on the first lookup, and kept; the copy is replaced by what this process
 * writes (store, import) and emptied by clear. Entries other processes write
 * later become visible at this process's next store or import (which merges
 * them in) or in a new process.
 *
 * An entry is used only when the file's header names this format, this tconv
 * version and this host's fingerprint (tune/fingerprint.h). The fingerprint
 * holds the CPU's best ISA, not the cap in use: keys must name the ISA (and
 * anything else the choice depends on) themselves.
 */
#ifndef TCONV_TUNE_CACHE_H
#define TCONV_TUNE_CACHE_H

#include <stddef.h>

#include "tconv.h"
#include "tune/cache_format.h"

/* A buffer of this size holds any value (TCONV_CACHE_TEXT_MAX + NUL). */
#define TCONV_CACHE_VALUE_SIZE (TCONV_CACHE_TEXT_MAX + 1)

/* 1 if this host's cache has an entry for key: its value is copied into
 * value[value_size] (value may be NULL) and its GFLOP/s into *gflops (may
 * be NULL). 0 if not, if key is not a valid key, or if the value does not
 * fit value_size (use TCONV_CACHE_VALUE_SIZE). Never fails otherwise: an
 * unreadable file is an empty cache (one warning per process on stderr). */
int tconv_cache_lookup(const char *key, char *value, size_t value_size, double *gflops);

/* Records key -> value with its measured GFLOP/s (rounded to 0.001) and
 * writes it to the file: under the writers' lock, re-reads the file, merges
 * this entry (replacing an older one of the same key) into what other
 * processes wrote, and replaces the file atomically; a foreign or damaged
 * file is rewritten with this host's header and its valid lines.
 *
 * key and value: 1 to TCONV_CACHE_TEXT_MAX (240) printable ASCII characters,
 * no '|', no newline, no space at either end; a key does not begin with '#'.
 * gflops: finite, >= 0 and < 1e9. Otherwise TCONV_EINVAL with a message
 * naming the field and value (tconv_last_error).
 *
 * When the location cannot be written (read-only, a file in place of a
 * directory, no HOME, disk full), the entry is kept in this process's memory
 * (lookups see it and a later successful store writes it too), one warning
 * per process goes to stderr ("tconv: warning: ..."), and the result is
 * still TCONV_OK: a plan must never fail because of its cache. Callers that
 * must know (tconv-tune) ask tconv_cache_write_failed(). */
tconv_status tconv_cache_store(const char *key, const char *value, double gflops);

/* 1 if this process's most recent attempt to write the cache file (store,
 * import, clear) failed, with the reason (naming the path and the OS error)
 * copied into why[why_size] when why is not NULL; 0 if it succeeded or none
 * was made. */
int tconv_cache_write_failed(char *why, size_t why_size);

/* tconv_cache_import, but a file tuned on another host or with another
 * tconv version is taken too (tconv-tune --import --force): its entries
 * merge into this host's cache under this host's header. A file of another
 * format or without a valid header is still refused. The entries are what
 * that host measured; one naming a kernel this build or ISA lacks is
 * ignored by the planner, as any stale entry is. */
tconv_status tconv_cache_import_forced(const char *path);

#endif /* TCONV_TUNE_CACHE_H */
