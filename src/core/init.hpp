// Parameter initialisation with the distributions PyTorch uses (values differ:
// our seeded Rng is not torch's generator).
#pragma once

#include "core/rng.hpp"
#include "core/tensor.hpp"

namespace attn {

// nn.Linear's default: U(-1/sqrt(in), 1/sqrt(in)) for a (out, in) weight or (out) bias with fan_in `in`.
Tensor linear_init(const Shape& shape, Rng& rng, int64_t fan_in = -1);
// nn.init.xavier_uniform_: U(-a, a), a = sqrt(6 / (fan_in + fan_out)) for a 2-D (out, in) weight.
Tensor xavier_uniform(const Shape& shape, Rng& rng);
// nn.init.xavier_normal_ std = sqrt(2 / (fan_in + fan_out)); used for MHA's bias_k / bias_v.
Tensor xavier_normal(const Shape& shape, Rng& rng);

}  // namespace attn
