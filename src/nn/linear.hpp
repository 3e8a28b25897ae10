// nn::Linear: torch.nn.Linear (same arguments, init distribution, state_dict keys
// "weight" (out, in) and "bias" (out)). Every projection in the engine is one of
// these: attention/ builds on this header, which depends only on core/, kernels/
// and ops/ (it is the one nn/ layer below attention/).
//
// Two ways to call it:
//  - forward(x): the allocating convenience on tensors, x (..., in) -> (..., out);
//  - forward(y, ldy, x, ldx, rows): into caller memory, no allocation, no throw:
//    y (rows, out) = x (rows, in) W^T + b with row strides ldx/ldy (in floats).
//    rows == 1 (single-token decode) takes the matrix-vector path: one dot product
//    per output against W's contiguous rows. rows > 1 runs the GEMM on the weights
//    packed once when they last changed (parameters_changed), not on every call.
#pragma once

#include "core/module.hpp"
#include "core/rng.hpp"

namespace attn::nn {

class Linear : public Module {
 public:
  // torch's reset_parameters: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)), from `rng`.
  Linear(int64_t in_features, int64_t out_features, bool bias, Rng& rng);

  Tensor forward(const Tensor& x) const;
  void forward(float* y, int64_t ldy, const float* x, int64_t ldx, int64_t rows) const noexcept;

  int64_t in_features, out_features;
  Tensor weight;  // (out, in)
  Tensor bias;    // (out), undefined without bias

 private:
  void parameters_changed() override;
  Tensor packed_;  // weight in the GEMM's panel layout (kernels/gemm.hpp)
};

}  // namespace attn::nn
