/*
 * Failure reporting: every public entry point that fails returns a status and
 * records a message naming the field and value in this thread's last-error
 * buffer, through tconv_fail().
 */
#ifndef TCONV_RUNTIME_ERROR_H
#define TCONV_RUNTIME_ERROR_H

#include "tconv.h"

#if defined(__GNUC__)
#define TCONV_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TCONV_PRINTF(fmt, args)
#endif

/* Records the formatted message as this thread's last error; returns s. */
tconv_status tconv_fail(tconv_status s, const char *fmt, ...) TCONV_PRINTF(2, 3);

/* Warns on stderr that environment variable var holds a value tconv does
 * not know, "tconv: warning: VAR=value is not ACCEPTED; ignored", once per
 * variable and value: plans read these variables each time one is created,
 * and one line says it. (TCONV_ISA and TCONV_YMM_RATE, read once per
 * process, print their own, which also say what is used instead.) */
void tconv_warn_env(const char *var, const char *value, const char *accepted);

#endif /* TCONV_RUNTIME_ERROR_H */
