/*
 * Weight streaming: the three passes of a layer whose weights dwarf its
 * images (a generator's first layers, a U-Net's bottleneck at batch 1: 16
 * input pixels and 32 MB of weights), run with the weights read where they
 * lie, once per call, and nothing else packed but the few pixels.
 *
 * The other drivers pack the weights per call into the order their tiles
 * want (filters innermost for the forward tiles, channels innermost for
 * backward-data), which for such a layer costs three to five times the
 * arithmetic: packing reads and writes every weight, and the pass reads the
 * packed copy again. Here the weights keep the layout frameworks give them,
 * where each input channel's (filter, kh, kw) values are one contiguous row
 * of J = Fg * k_h * k_w (PyTorch's and ONNX's IOHW, and MATLAB's layout
 * with kh and kw swapped), and each pass uses them as the operand that can
 * be read in place:
 *
 *   forward:          cols (Q x J) = x^T (Q x Cg) * W (Cg x J), a GEMM tile
 *                     (kernels/ukernel.h, TCONV_UK_GEMM) reading W's rows
 *                     as its b operand; every element of a tile is added to
 *                     the one output position its (pixel, filter, tap)
 *                     reaches, as the scatter mode does. y starts from the
 *                     bias.
 *   backward-data:    dx^T (Cg x Q) = W (Cg x J) * colsT (J x Q), a CHANNELS
 *                     tile whose rows are input channels: each row's
 *                     pointer is a W row, its reduction runs along it, and
 *                     colsT (dy gathered per (filter, tap) and pixel, the
 *                     only packed operand) is the kernel's weight block.
 *   backward-weights: dW (Cg x J) = x (Cg x Q) * cols (Q x J), a GEMM tile
 *                     stored straight into dW's rows.
 *
 * Q is every input pixel of the batch; x, dx and the gathered dy are copied
 * to and from these small matrices in any layout. Work is split over the
 * threads by filters (forward) or by tiles of the result (backward), each
 * output computed by one task in a fixed order: the same bits for every
 * thread count.
 */
#ifndef TCONV_KERNELS_WSTREAM_H
#define TCONV_KERNELS_WSTREAM_H

#include <stddef.h>

#include "kernels/activation.h"
#include "kernels/problem.h"
#include "kernels/ukernel.h"

typedef struct tconv_wstream tconv_wstream;

/* Whether p's weight layout puts each input channel's (filter, kh, kw)
 * values in one contiguous row (IOHW, MATLAB), which the strategy reads in
 * place. */
int tconv_wstream_layout_ok(const tconv_problem *p);

/* Plans the three passes of p: gemm_fwd (GEMM family; MR pixels x NR
 * columns) for the forward pass, channels (CHANNELS; MR channels x NR
 * pixels) for backward-data, gemm_bwdw (GEMM; MR channels x NR columns) for
 * backward-weights, all of p's dtype, and act for the forward activation.
 * TCONV_EUNSUPPORTED when the layout is not one tconv_wstream_layout_ok
 * accepts, a tile is too large, or a row holds fewer than gemm_fwd's NR
 * columns; TCONV_EOVERFLOW when its buffers could not be indexed;
 * TCONV_ENOMEM. */
tconv_status tconv_wstream_create(const tconv_problem *p, const tconv_ukernel *gemm_fwd,
                                  const tconv_ukernel *channels,
                                  const tconv_ukernel *gemm_bwdw, const tconv_act_impl *act,
                                  tconv_wstream **out);
void tconv_wstream_destroy(tconv_wstream *s);

/* The passes, with the plan's tensors in their layouts; bias and dbias may
 * be NULL. TCONV_ENOMEM when scratch cannot be had. */
tconv_status tconv_wstream_forward(const tconv_wstream *s, const void *x, const void *w,
                                   const void *bias, void *y);
tconv_status tconv_wstream_backward_data(const tconv_wstream *s, const void *dy, const void *w,
                                         void *dx);
tconv_status tconv_wstream_backward_weights(const tconv_wstream *s, const void *x,
                                            const void *dy, void *dw, void *dbias);

/* e.g. "wstream f32_bwdw_12x32_avx512 / f32_fwd_28x16_avx512 / f32_bwdw_12x32_avx512 pixels=16" */
void tconv_wstream_describe(const tconv_wstream *s, char *buf, size_t n);

#endif /* TCONV_KERNELS_WSTREAM_H */
