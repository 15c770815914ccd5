/* The layout edges' transpositions with ymm blocks (kernels/template/transpose_x86.inc). */
#define UK_TRANSPOSES tconv_transposes_avx2
#include "kernels/template/transpose_x86.inc"
