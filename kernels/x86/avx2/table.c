/*
 * The AVX2 + FMA microkernels' table, from the list in ukernels.h.
 */
#include <stddef.h>

#include "kernels/x86/avx2/ukernels.h"

#define TCONV_UK_TRANSPOSES tconv_transposes_avx2
static const tconv_ukernel entries[] = {TCONV_UKERNELS_AVX2(TCONV_UK_ENTRY, TCONV_UK_ENTRY_NT)};
static const tconv_uk_phases phases[] = {TCONV_PHASES_AVX2(TCONV_UK_PHASES_ENTRY)};

const tconv_ukernel_table tconv_ukernels_avx2 = {
    "avx2", entries, (int)(sizeof entries / sizeof entries[0]), phases,
    (int)(sizeof phases / sizeof phases[0])};
