/*
 * Failure reporting: every public entry point that fails returns a status and
 * records a message naming the field and value in this thread's last-error
 * buffer, through tconv_fail().
 */
#ifndef TCONV_DISPATCH_ERROR_H
#define TCONV_DISPATCH_ERROR_H

#include "tconv.h"

#if defined(__GNUC__)
#define TCONV_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TCONV_PRINTF(fmt, args)
#endif

/* Records the formatted message as this thread's last error; returns s. */
tconv_status tconv_fail(tconv_status s, const char *fmt, ...) TCONV_PRINTF(2, 3);

#endif /* TCONV_DISPATCH_ERROR_H */
