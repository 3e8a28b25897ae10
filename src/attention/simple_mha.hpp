// Seed 004's `MultiHeadAttention` module, kept with its own semantics and keys
// (named SimpleMultiHeadAttention here so it is not confused with
// torch.nn.MultiheadAttention in attention/multihead.hpp):
//   q_proj, k_proj, v_proj, out_proj: nn.Linear(embed_dim, embed_dim) with bias
//   keys: q_proj.weight, q_proj.bias, k_proj.*, v_proj.*, out_proj.*
//   forward(query (B, L, E), key (B, S, E), value (B, S, E), mask):
//     scores = q kᵀ / sqrt(head_dim);  scores.masked_fill(mask == 0, -1e9);  softmax; @ v; merge; out_proj
//   mask: any tensor broadcastable to (B, H, L, S); 0 / false = masked. Because
//   the score is REPLACED by -1e9 (not -inf), a fully masked row is uniform, not NaN.
//   -> output (B, L, E), weights (B, H, L, S)
#pragma once

#include "attention/engine.hpp"
#include "core/module.hpp"
#include "nn/linear.hpp"

namespace attn {

class SimpleMultiHeadAttention : public Module {
 public:
  static constexpr const char* kName = "SimpleMultiHeadAttention";
  SimpleMultiHeadAttention(int64_t embed_dim, int64_t num_heads, uint64_t seed = 0);
  AttentionResult forward(const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& mask = Tensor(),
                          const SelectionOptions& selection = {});

  int64_t embed_dim, num_heads, head_dim;

 private:
  Rng init_rng_;

 public:
  nn::Linear q_proj, k_proj, v_proj, out_proj;  // "q_proj.weight" (E, E), "q_proj.bias" (E), ...
};

}  // namespace attn
