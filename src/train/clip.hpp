// Gradient clipping, the three ways seed 001 shows (its section 2.1.3), with
// torch.nn.utils' semantics:
//   1. clip_grad_value_(grads, clip_value): every element clamped to [-clip_value, clip_value]
//      (torch.nn.utils.clip_grad_value_; symmetric only, as the seed notes).
//   2. clamp_grad_(grads, min, max): the seed's per-parameter hook
//        param.register_hook(lambda g: torch.clamp(g, -0.1, 1.0))
//      for an asymmetric range. A hook runs on the gradient as backward produces it; here the
//      same clamp runs on the gradient arena after backward, which gives the same .grad
//      when each parameter receives its gradient once per backward (true of our models:
//      the backward pass accumulates a tied weight's contributions before this runs, where a
//      torch hook on a shared leaf also sees the summed gradient). torch.clamp's rule for
//      min > max holds: every element becomes max.
//   3. clip_grad_norm_(grads, max_norm, norm_type): the total norm of all gradients as one
//      vector (norm_type p > 0, or INFINITY for the max-abs norm), then every gradient is
//      multiplied by min(1, max_norm / (total_norm + 1e-6)); returns total_norm
//      (torch.nn.utils.clip_grad_norm_, which multiplies even when the factor is 1).
//      error_if_nonfinite: throw when the total norm is NaN or infinite (torch's RuntimeError).
// Gradients are float32 tensors (contiguous; ParamGrad::grad of train/optim.hpp, or a
// model's gradient arena slots), modified in place. Norms accumulate in double.
#pragma once

#include <vector>

#include "core/tensor.hpp"

namespace attn::train {

void clip_grad_value_(const std::vector<Tensor>& grads, double clip_value);
void clamp_grad_(const std::vector<Tensor>& grads, double min, double max);
double clip_grad_norm_(const std::vector<Tensor>& grads, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

}  // namespace attn::train
