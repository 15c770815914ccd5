/*
 * The portable whole tiles of the layout edges' transpositions
 * (tconv_uk_transposes, kernels/ukernel.h): kernels/transpose.h's own
 * tiles, SSE2's 4 x 4 (f32) and 2 x 2 (f64) register blocks on x86-64 and
 * element by element elsewhere (NEON uses these too).
 */
#include <stdint.h>

#include "kernels/template/ukernel_common.h"
#include "kernels/transpose.h"

static void tile_f32(void *b, int64_t ldb, const void *a, int64_t lda)
{
    const int64_t side = TCONV_TRANSPOSE_TILE_BYTES / 4;
    tconv_transpose_tile_float(b, ldb, a, lda, side, side);
}

static void tile_f64(void *b, int64_t ldb, const void *a, int64_t lda)
{
    const int64_t side = TCONV_TRANSPOSE_TILE_BYTES / 8;
    tconv_transpose_tile_double(b, ldb, a, lda, side, side);
}

const tconv_uk_transposes tconv_transposes_portable = {tile_f32, tile_f64};
