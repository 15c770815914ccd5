/*
 * The AVX-512F microkernels' table, from the list in ukernels.h.
 */
#include <stddef.h>

#include "kernels/x86/avx512/ukernels.h"

#define TCONV_UK_TRANSPOSES tconv_transposes_avx512
static const tconv_ukernel entries[] = {TCONV_UKERNELS_AVX512(TCONV_UK_ENTRY, TCONV_UK_ENTRY_NT)};
static const tconv_uk_phases phases[] = {TCONV_PHASES_AVX512(TCONV_UK_PHASES_ENTRY)};

const tconv_ukernel_table tconv_ukernels_avx512 = {
    "avx512", entries, (int)(sizeof entries / sizeof entries[0]), phases,
    (int)(sizeof phases / sizeof phases[0])};
