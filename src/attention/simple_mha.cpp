#include "attention/simple_mha.hpp"

#include <cmath>

#include "attention/heads.hpp"
#include "attention/init.hpp"
#include "attention/mask.hpp"
#include "kernels/elementwise.hpp"
#include "ops/ops.hpp"

namespace attn {

SimpleMultiHeadAttention::SimpleMultiHeadAttention(int64_t embed_dim_, int64_t num_heads_, uint64_t seed)
    : embed_dim(embed_dim_), num_heads(num_heads_) {
  module_name_ = "SimpleMultiHeadAttention";
  ATTN_CHECK(embed_dim > 0 && num_heads > 0, module_name_, ": embed_dim and num_heads must be positive");
  ATTN_CHECK(embed_dim % num_heads == 0, module_name_, ": embed_dim must be divisible by num_heads (", embed_dim,
             " vs ", num_heads, ")");
  head_dim = embed_dim / num_heads;
  Rng rng(seed);
  for (auto* pair : {&q_weight, &k_weight, &v_weight, &out_weight}) {
    *pair = linear_init({embed_dim, embed_dim}, rng);
  }
  for (auto* b : {&q_bias, &k_bias, &v_bias, &out_bias}) *b = linear_init({embed_dim}, rng, embed_dim);
}

std::vector<std::pair<std::string, Tensor*>> SimpleMultiHeadAttention::named_parameters() {
  return {{"q_proj.weight", &q_weight}, {"q_proj.bias", &q_bias},     {"k_proj.weight", &k_weight},
          {"k_proj.bias", &k_bias},     {"v_proj.weight", &v_weight}, {"v_proj.bias", &v_bias},
          {"out_proj.weight", &out_weight}, {"out_proj.bias", &out_bias}};
}

AttentionResult SimpleMultiHeadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                                  const Tensor& mask, const SelectionOptions& selection) {
  const char* what = module_name_;
  check_qkv(query, key, value, what, true);
  for (const Tensor* t : {&query, &key, &value})
    ATTN_CHECK(t->dim() == 3 && t->size(-1) == embed_dim, what, ": inputs must be (batch, seq_len, ", embed_dim,
               "), got ", t->shape());
  ATTN_CHECK(key.size(0) == query.size(0) && value.size(0) == query.size(0), what,
             ": query, key and value must have the same batch size");
  const int64_t B = query.size(0), L = query.size(1), S = key.size(1);
  Tensor q = split_heads(linear(query, q_weight, q_bias, what), num_heads);
  Tensor k = split_heads(linear(key, k_weight, k_bias, what), num_heads);
  Tensor v = split_heads(linear(value, v_weight, v_bias, what), num_heads);
  Tensor scores = matmul_nt(q, k);  // (B, H, L, S)
  kernels::f32_scale(scores.numel(), scores.data(), 1.0f / std::sqrt(static_cast<float>(head_dim)), scores.data());
  if (mask.defined()) {
    const Shape shape{B, num_heads, L, S};
    check_mask_broadcasts(mask, shape, "SimpleMultiHeadAttention: mask");
    const Tensor m = mask.to(DType::f32).expand(shape).contiguous();
    for (int64_t i = 0; i < scores.numel(); ++i)
      if (m.data()[i] == 0.0f) scores.data()[i] = -1e9f;  // masked_fill(mask == 0, -1e9)
  }
  WeightOptions w;
  w.selection = selection;
  AttentionResult r = attend(scores, v, w, what);
  return {linear(merge_heads(r.output), out_weight, out_bias, what), r.weights};
}

}  // namespace attn
