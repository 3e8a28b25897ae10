// General (bilinear, Luong et al. 2015 "general") attention: score(q, k) = qᵀ W k.
// W is stored as a bias-free nn.Linear(key_size -> query_size) named "attn",
// so score = q · attn(k) and the state_dict key is "attn.weight" (query_size, key_size).
//   query (..., L, Eq), key (..., S, Ek), value (..., S, Ev) -> output (..., L, Ev), weights (..., L, S)
// Masks as in scaled_dot_product_attention (bool true = takes part, float added).
#pragma once

#include "attention/scaled_dot.hpp"
#include "core/module.hpp"
#include "nn/linear.hpp"

namespace attn {

class GeneralAttention : public Module {
 public:
  static constexpr const char* kName = "GeneralAttention";
  GeneralAttention(int64_t query_size, int64_t key_size, uint64_t seed = 0);
  AttentionResult forward(const Tensor& query, const Tensor& key, const Tensor& value, const SdpaOptions& opts = {});

  int64_t query_size, key_size;

 private:
  Rng init_rng_;

 public:
  nn::Linear attn;  // "attn.weight" (query_size, key_size): scores q . (W k)
};

}  // namespace attn
