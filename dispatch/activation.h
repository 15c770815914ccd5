/*
 * Activation parameters' validation (shared by desc validation and the
 * public activation functions) and the choice of activation table.
 */
#ifndef TCONV_DISPATCH_ACTIVATION_H
#define TCONV_DISPATCH_ACTIVATION_H

#include "kernels/activation.h"
#include "tconv.h"

/* act a tconv_activation; alpha in range for it (LEAKY_RELU >= 0,
 * CLIPPED_RELU and ELU > 0, finite). Records a message naming the field. */
tconv_status tconv_check_activation(tconv_activation act, double alpha);

/* The activation table for isa (the scalar one when isa has none). */
const tconv_act_impl *tconv_select_act(tconv_isa isa);

#endif /* TCONV_DISPATCH_ACTIVATION_H */
