// Dot-product attention without scaling, softmax(Q Kᵀ) V: seed 000's
// BasicAttention. Its module keeps the seed's (unused in forward) `linear`
// layer so the seed's state_dict loads: key "linear.weight" (hidden, hidden).
#pragma once

#include "attention/scaled_dot.hpp"
#include "core/module.hpp"
#include "nn/linear.hpp"

namespace attn {

// scaled_dot_product_attention with scale 1; same mask conventions.
AttentionResult dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                      SdpaOptions opts = {});

class BasicAttention : public Module {
 public:
  static constexpr const char* kName = "BasicAttention";
  explicit BasicAttention(int64_t hidden_size, uint64_t seed = 0);
  // query (..., L, E), key (..., S, E), value (..., S, Ev) -> (output, weights)
  AttentionResult forward(const Tensor& query, const Tensor& key, const Tensor& value, const SdpaOptions& opts = {});


 private:
  Rng init_rng_;

 public:
  nn::Linear linear;  // "linear.weight" (hidden, hidden); seed 000 declares it, forward does not use it
};

}  // namespace attn
