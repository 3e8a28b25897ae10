#include "attention/simple_mha.hpp"

#include <cmath>

#include "attention/heads.hpp"
#include "core/init.hpp"
#include "attention/mask.hpp"
#include "kernels/elementwise.hpp"
#include "ops/ops.hpp"

namespace attn {

namespace {
int64_t checked_dims(int64_t embed_dim, int64_t num_heads) {
  const char* what = "SimpleMultiHeadAttention";
  ATTN_CHECK(embed_dim > 0 && num_heads > 0, what, ": embed_dim and num_heads must be positive");
  ATTN_CHECK(embed_dim % num_heads == 0, what, ": embed_dim must be divisible by num_heads (", embed_dim, " vs ",
             num_heads, ")");
  return embed_dim;
}
}  // namespace

SimpleMultiHeadAttention::SimpleMultiHeadAttention(int64_t embed_dim_, int64_t num_heads_, uint64_t seed)
    : embed_dim(checked_dims(embed_dim_, num_heads_)),
      num_heads(num_heads_),
      head_dim(embed_dim_ / num_heads_),
      init_rng_(seed),
      q_proj(embed_dim, embed_dim, true, init_rng_),
      k_proj(embed_dim, embed_dim, true, init_rng_),
      v_proj(embed_dim, embed_dim, true, init_rng_),
      out_proj(embed_dim, embed_dim, true, init_rng_) {
  module_name_ = "SimpleMultiHeadAttention";
  register_module("q_proj", q_proj);
  register_module("k_proj", k_proj);
  register_module("v_proj", v_proj);
  register_module("out_proj", out_proj);
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
  Tensor q = split_heads(q_proj.forward(query), num_heads);
  Tensor k = split_heads(k_proj.forward(key), num_heads);
  Tensor v = split_heads(v_proj.forward(value), num_heads);
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
  return {out_proj.forward(merge_heads(r.output)), r.weights};
}

}  // namespace attn
