/*
 * Aligned memory: tconv_alloc_aligned, and a driver's reusable scratch
 * memory: one block kept between calls, so that
 * a training loop, which runs the same passes over and over, does not fault
 * in fresh pages for its packed operands on every call (4-13% of a small
 * layer's backward pass here). A call that finds the block held by another
 * (concurrent passes on one plan) allocates a block of its own and frees it
 * after, so calls stay independent.
 */
#ifndef TCONV_RUNTIME_SCRATCH_H
#define TCONV_RUNTIME_SCRATCH_H

#include <stddef.h>

/* 64-byte aligned allocation of n bytes (n rounded up); NULL on failure;
 * freed with free(). */
void *tconv_alloc_aligned(size_t n);

typedef struct tconv_scratch tconv_scratch;

tconv_scratch *tconv_scratch_new(void); /* NULL when out of memory */
void tconv_scratch_delete(tconv_scratch *s);

/* A 64-byte aligned block of at least `bytes`: the kept one (grown as
 * needed; *kept = 1) when no other call holds it, else a fresh one
 * (*kept = 0); NULL when out of memory. Its contents are undefined. */
void *tconv_scratch_take(tconv_scratch *s, size_t bytes, int *kept);
/* Ends a call's use of the block tconv_scratch_take gave it, with the same
 * kept (NULL: no-op). */
void tconv_scratch_give(tconv_scratch *s, void *block, int kept);

/* Lays n parts of the given byte sizes out in one block, each at a 64-byte
 * aligned offset: offsets[i] for each, and the block's size as the result
 * (0 when it would overflow size_t). */
size_t tconv_scratch_carve(const size_t *sizes, size_t *offsets, int n);

/* tconv_scratch_carve's block, taken from s (tconv_scratch_take): one
 * call's parts in one block, each at base + offsets[i]. NULL when the
 * layout would overflow size_t (or holds nothing) or memory runs out; give
 * it back with tconv_scratch_give. */
void *tconv_scratch_take_parts(tconv_scratch *s, const size_t *sizes, size_t *offsets, int n,
                               int *kept);

#endif /* TCONV_RUNTIME_SCRATCH_H */
