/*
 * Checks on the buffers a call receives: required pointers present, and no
 * output sharing memory with another buffer of the same call (tconv's
 * kernels read inputs while writing outputs, so any overlap would corrupt
 * results). Used by the passes (api/plan.c) and the SGDM step (api/layer.c).
 */
#ifndef TCONV_DISPATCH_BUFFERS_H
#define TCONV_DISPATCH_BUFFERS_H

#include <stddef.h>

#include "tconv.h"

/* A buffer the caller passed: its name for messages, its start and size. */
typedef struct tconv_buffer {
    const char *name;
    const void *ptr;
    size_t bytes;
} tconv_buffer;

/* bufs[0 .. n_out) are the call's outputs, the rest its inputs. required[i]
 * nonzero: bufs[i] must not be NULL (required may be NULL: none required).
 * NULL buffers take part in no overlap. On failure records a message naming
 * the buffers and returns TCONV_EINVAL. */
tconv_status tconv_check_buffers(const tconv_buffer *bufs, const int *required, int n, int n_out);

#endif /* TCONV_DISPATCH_BUFFERS_H */
