#include "attention/dot.hpp"

#include <cmath>

#include "attention/init.hpp"

namespace attn {

AttentionResult dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value, SdpaOptions opts) {
  opts.scale = 1.0f;
  return scaled_dot_product_attention(query, key, value, opts);
}

BasicAttention::BasicAttention(int64_t hidden_size, uint64_t seed) {
  module_name_ = "BasicAttention";
  ATTN_CHECK(hidden_size > 0, "BasicAttention: hidden_size must be positive, got ", hidden_size);
  Rng rng(seed);
  linear_weight = linear_init({hidden_size, hidden_size}, rng);
}

AttentionResult BasicAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                        const SdpaOptions& opts) {
  return dot_product_attention(query, key, value, opts);
}

std::vector<std::pair<std::string, Tensor*>> BasicAttention::named_parameters() {
  return {{"linear.weight", &linear_weight}};
}

}  // namespace attn
