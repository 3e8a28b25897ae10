// Head split/merge shared by the multi-head modules (dims: N batch, L seq, H heads, hd head_dim, E = H*hd).
#pragma once

#include "core/tensor.hpp"

namespace attn {

// (N, L, E) -> (N, H, L, hd), contiguous. PyTorch: x.view(N, L, H, hd).transpose(1, 2)
Tensor split_heads(const Tensor& x, int64_t num_heads);
// (N, H, L, hd) -> (N, L, E), contiguous. PyTorch: x.transpose(1, 2).contiguous().view(N, L, E)
Tensor merge_heads(const Tensor& x);
// (N, H, L, S) -> (N, L, S): mean over heads (average_attn_weights=True).
Tensor mean_over_heads(const Tensor& weights);

}  // namespace attn
