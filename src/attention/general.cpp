#include "attention/general.hpp"

#include "core/init.hpp"
#include "ops/ops.hpp"

namespace attn {

namespace {
int64_t checked(int64_t key_size, int64_t query_size) {
  ATTN_CHECK(query_size > 0 && key_size > 0, "GeneralAttention: query_size and key_size must be positive, got ",
             query_size, " and ", key_size);
  return key_size;
}
}  // namespace

GeneralAttention::GeneralAttention(int64_t query_size_, int64_t key_size_, uint64_t seed)
    : query_size(query_size_), key_size(key_size_), init_rng_(seed), attn(checked(key_size_, query_size_), query_size_, false, init_rng_) {
  module_name_ = "GeneralAttention";
  register_module("attn", attn);
}

AttentionResult GeneralAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                          const SdpaOptions& opts) {
  const char* what = "GeneralAttention";
  check_qkv(query, key, value, what, false);
  check_features(query, query_size, what, "query", "query_size");
  check_features(key, key_size, what, "key", "key_size");
  SdpaOptions o = opts;
  o.scale = 1.0f;
  // W k for every key once (S x Eq), then plain dot-product attention against the queries.
  return scaled_dot_product_attention(query, linear(key, attn.weight, Tensor(), what), value, o);
}


}  // namespace attn
