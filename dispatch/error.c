#include "dispatch/error.h"

#include <stdarg.h>
#include <stdio.h>

/* Long enough for any message tconv writes: a field name, a few int64 values
 * and a sentence of explanation. */
#define TCONV_ERROR_CAPACITY 512

static _Thread_local char last_error[TCONV_ERROR_CAPACITY];

const char *tconv_strerror(tconv_status s)
{
    switch (s) {
    case TCONV_OK: return "success";
    case TCONV_EINVAL: return "invalid argument";
    case TCONV_EOVERFLOW: return "size overflow";
    case TCONV_ENOMEM: return "out of memory";
    case TCONV_EUNSUPPORTED: return "unsupported";
    case TCONV_EIO: return "input/output error";
    }
    return "unknown status";
}

const char *tconv_last_error(void) { return last_error; }

tconv_status tconv_fail(tconv_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}
