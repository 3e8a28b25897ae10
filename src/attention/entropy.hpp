// Entropy of each attention row, H = -sum_j w_j log w_j (natural log; 0 log 0 = 0).
// 0 for a one-hot row, log(S) for a uniform one: a per-query "how spread out is
// the attention" number for the page, and a regulariser (seed 000) when added to a loss.
#pragma once

#include "core/tensor.hpp"

namespace attn {

// weights (..., L, S) -> (..., L)
Tensor attention_entropy(const Tensor& weights);

}  // namespace attn
