#include "runtime/error.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

/* The value each variable was last warned about (a few variables, values
 * truncated: a longer one differing only past 63 characters is not warned
 * about twice). */
#define WARNED_VARS 8
static struct {
    const char *var;
    char value[64];
} warned[WARNED_VARS];
static pthread_mutex_t warned_lock = PTHREAD_MUTEX_INITIALIZER;

void tconv_warn_env(const char *var, const char *value, const char *accepted)
{
    pthread_mutex_lock(&warned_lock);
    int i = 0;
    while (i < WARNED_VARS && warned[i].var && strcmp(warned[i].var, var) != 0) i++;
    const int seen = i < WARNED_VARS && warned[i].var &&
                     strncmp(warned[i].value, value, sizeof warned[i].value - 1) == 0;
    if (!seen) {
        fprintf(stderr, "tconv: warning: %s=%s is not %s; ignored\n", var, value, accepted);
        if (i < WARNED_VARS) {
            warned[i].var = var;
            snprintf(warned[i].value, sizeof warned[i].value, "%s", value);
        }
    }
    pthread_mutex_unlock(&warned_lock);
}
