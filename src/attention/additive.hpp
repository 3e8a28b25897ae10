// Additive (Bahdanau et al. 2015) attention: score(q, k) = w_vᵀ tanh(W_q q + W_k k).
// Parameter names follow the common PyTorch module (d2l.ai AdditiveAttention):
// "W_k.weight" (num_hiddens, key_size), "W_q.weight" (num_hiddens, query_size),
// "w_v.weight" (1, num_hiddens), all bias-free.
//   query (..., L, Eq), key (..., S, Ek), value (..., S, Ev) -> output (..., L, Ev), weights (..., L, S)
// Batch dims of query and key must be equal (no broadcasting between them).
// Masks as in scaled_dot_product_attention. No scaling is applied.
#pragma once

#include "attention/scaled_dot.hpp"
#include "core/module.hpp"
#include "nn/linear.hpp"

namespace attn {

class AdditiveAttention : public Module {
 public:
  static constexpr const char* kName = "AdditiveAttention";
  AdditiveAttention(int64_t key_size, int64_t query_size, int64_t num_hiddens, uint64_t seed = 0);
  AttentionResult forward(const Tensor& query, const Tensor& key, const Tensor& value, const SdpaOptions& opts = {});

  int64_t key_size, query_size, num_hiddens;

 private:
  Rng init_rng_;

 public:
  nn::Linear W_k, W_q, w_v;  // "W_k.weight" (H, key_size), "W_q.weight" (H, query_size), "w_v.weight" (1, H)
};

}  // namespace attn
