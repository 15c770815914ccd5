/*
 * The portable C microkernels' table, from the list in ukernels.h.
 */
#include <stddef.h>

#include "kernels/generic/ukernels.h"

#define TCONV_UK_TRANSPOSES tconv_transposes_portable
static const tconv_ukernel entries[] = {TCONV_UKERNELS_SCALAR(TCONV_UK_ENTRY, TCONV_UK_ENTRY_NT)};
static const tconv_uk_phases phases[] = {TCONV_PHASES_SCALAR(TCONV_UK_PHASES_ENTRY)};

const tconv_ukernel_table tconv_ukernels_scalar = {
    "scalar", entries, (int)(sizeof entries / sizeof entries[0]), phases,
    (int)(sizeof phases / sizeof phases[0])};
