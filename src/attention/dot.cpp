#include "attention/dot.hpp"

#include <cmath>

#include "core/init.hpp"

namespace attn {

AttentionResult dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value, SdpaOptions opts) {
  opts.scale = 1.0f;
  return scaled_dot_product_attention(query, key, value, opts);
}

namespace {
int64_t checked_hidden(int64_t hidden_size) {
  ATTN_CHECK(hidden_size > 0, "BasicAttention: hidden_size must be positive, got ", hidden_size);
  return hidden_size;
}
}  // namespace

BasicAttention::BasicAttention(int64_t hidden_size, uint64_t seed)
    : init_rng_(seed), linear(checked_hidden(hidden_size), hidden_size, false, init_rng_) {
  module_name_ = "BasicAttention";
  register_module("linear", linear);
}

AttentionResult BasicAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                        const SdpaOptions& opts) {
  return dot_product_attention(query, key, value, opts);
}


}  // namespace attn
