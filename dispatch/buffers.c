#include "dispatch/buffers.h"

#include <stdint.h>

#include "runtime/error.h"

static int overlap(const tconv_buffer *a, const tconv_buffer *b)
{
    const uintptr_t a0 = (uintptr_t)a->ptr, b0 = (uintptr_t)b->ptr;
    return a0 < b0 + b->bytes && b0 < a0 + a->bytes;
}

tconv_status tconv_check_buffers(const tconv_buffer *bufs, const int *required, int n, int n_out)
{
    for (int i = 0; i < n; i++)
        if (required && required[i] && !bufs[i].ptr)
            return tconv_fail(TCONV_EINVAL, "%s is NULL", bufs[i].name);
    for (int i = 0; i < n_out; i++)
        for (int j = 0; j < n; j++)
            if (j != i && bufs[i].ptr && bufs[j].ptr && overlap(&bufs[i], &bufs[j]))
                return tconv_fail(TCONV_EINVAL,
                                  "%s (%p, %zu bytes) and %s (%p, %zu bytes) overlap; an output "
                                  "must not share memory with another buffer of the call",
                                  bufs[i].name, bufs[i].ptr, bufs[i].bytes, bufs[j].name,
                                  bufs[j].ptr, bufs[j].bytes);
    return TCONV_OK;
}
