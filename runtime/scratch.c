/* Aligned allocation and a driver's reusable scratch block (runtime/scratch.h). */
#include "runtime/scratch.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>


void *tconv_alloc_aligned(size_t n)
{
    const size_t rounded = (n + 63) / 64 * 64;
    return aligned_alloc(64, rounded ? rounded : 64);
}

struct tconv_scratch {
    atomic_int busy; /* a call holds buf */
    void *buf;
    size_t bytes;
};

tconv_scratch *tconv_scratch_new(void)
{
    tconv_scratch *s = calloc(1, sizeof *s);
    if (s) atomic_init(&s->busy, 0);
    return s;
}

void tconv_scratch_delete(tconv_scratch *s)
{
    if (!s) return;
    free(s->buf);
    free(s);
}

void *tconv_scratch_take(tconv_scratch *s, size_t bytes, int *kept)
{
    if (bytes == 0) bytes = 1;
    int idle = 0;
    *kept = atomic_compare_exchange_strong(&s->busy, &idle, 1);
    if (!*kept) return tconv_alloc_aligned(bytes);
    if (s->bytes < bytes) {
        free(s->buf);
        s->buf = tconv_alloc_aligned(bytes);
        s->bytes = s->buf ? bytes : 0;
        if (!s->buf) {
            atomic_store(&s->busy, 0);
            return NULL;
        }
    }
    return s->buf;
}

void tconv_scratch_give(tconv_scratch *s, void *block, int kept)
{
    if (!block) return;
    if (kept) atomic_store(&s->busy, 0); /* release: the next holder sees buf */
    else free(block);
}

void *tconv_scratch_take_parts(tconv_scratch *s, const size_t *sizes, size_t *offsets, int n,
                               int *kept)
{
    const size_t total = tconv_scratch_carve(sizes, offsets, n);
    return total ? tconv_scratch_take(s, total, kept) : NULL;
}

size_t tconv_scratch_carve(const size_t *sizes, size_t *offsets, int n)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (total > SIZE_MAX - 63) return 0;
        total = (total + 63) & ~(size_t)63;
        offsets[i] = total;
        if (sizes[i] > SIZE_MAX - total) return 0;
        total += sizes[i];
    }
    return total;
}
