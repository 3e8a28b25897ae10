// The concat rule, exactly seed 003's `Attn` class:
//   attn_weights = softmax(attn(cat(Q[0], K[0], dim=1)), dim=1)      (n, value_size1)
//   attn_applied = bmm(attn_weights.unsqueeze(0), V)                  (1, n, value_size2)
//   output       = attn_combine(cat(Q[0], attn_applied[0], dim=1)).unsqueeze(0)   (1, n, output_size)
// Shapes: Q (1, n, query_size), K (1, n, key_size), V (1, value_size1, value_size2).
// The seed's example: Q (1,1,32), K (1,1,32), V (1,32,64) -> output (1,1,64), weights (1,32).
// State dict keys as the seed's module: attn.weight (value_size1, query_size + key_size),
// attn.bias, attn_combine.weight (output_size, query_size + value_size2), attn_combine.bias.
// Where the seed's code would silently use only Q[0] of a larger batch, this
// throws: the batch dim of Q, K and V must be 1.
// Optional: a mask over the value_size1 positions and a hard selection, via SdpaOptions.
#pragma once

#include "attention/scaled_dot.hpp"
#include "core/module.hpp"
#include "nn/linear.hpp"

namespace attn {

class ConcatAttention : public Module {
 public:
  static constexpr const char* kName = "ConcatAttention";
  ConcatAttention(int64_t query_size, int64_t key_size, int64_t value_size1, int64_t value_size2,
                  int64_t output_size, uint64_t seed = 0);
  AttentionResult forward(const Tensor& Q, const Tensor& K, const Tensor& V, const SdpaOptions& opts = {});

  int64_t query_size, key_size, value_size1, value_size2, output_size;

 private:
  Rng init_rng_;

 public:
  nn::Linear attn;          // "attn.*": [Q;K] (query_size + key_size) -> value_size1 scores
  nn::Linear attn_combine;  // "attn_combine.*": [Q;context] (query_size + value_size2) -> output_size
};

}  // namespace attn
