// torch.nn.MultiheadAttention: same constructor arguments and defaults, same
// state_dict keys, same forward arguments, shapes and mask conventions.
//
// Keys: in_proj_weight (3E, E) when kdim == vdim == embed_dim, else
//       q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim);
//       in_proj_bias (3E) and out_proj.bias (E) when bias; bias_k, bias_v (1, 1, E) when add_bias_kv;
//       out_proj.weight (E, E).
// forward(query, key, value):
//   batched:   query (L, N, E) [or (N, L, E) if batch_first], key (S, N, kdim), value (S, N, vdim)
//   unbatched: query (L, E), key (S, kdim), value (S, vdim)
//   key_padding_mask (N, S) / (S): bool true = IGNORE that key; float = added
//   attn_mask (L, S) or (N*num_heads, L, S): bool true = NOT allowed; float = added
//   is_causal: with no attn_mask, applies the causal mask (top-left aligned). This
//              differs from torch on purpose: torch raises "Need attn_mask if
//              specifying the is_causal hint"; with attn_mask it is a hint and
//              attn_mask is used, as in torch.
//   -> output like query; weights (N, L, S) averaged over heads, or (N, H, L, S)
//      when average_attn_weights is false; undefined when need_weights is false
//      (the per-head weights are still kept in last_weights for inspection).
// A query whose keys are all masked gets NaN weights and output with need_weights
// (torch computes that softmax explicitly), and zeros without (torch >= 2.5 then
// runs scaled_dot_product_attention, whose fully masked rows are zero).
// Dropout on the weights applies in training mode only, with this module's seeded Rng.
//
// Pointer-level path (added for models that plan their activations in an arena:
// nn::TransformerEncoderLayer / DecoderLayer's pointer forwards): project() runs one input
// projection into caller memory with no allocation and no throw, on W^T packed once by
// parameters_changed() (as nn::Linear packs its weight); the caller runs the attention
// (nn/functional.hpp's attention_forward) and out_proj.forward(y, ...). It covers the
// projections only: bias_k / bias_v and add_zero_attn are the Tensor forward's.
#pragma once

#include "attention/capture.hpp"
#include "attention/engine.hpp"
#include "attention/mask.hpp"
#include "core/module.hpp"
#include "nn/linear.hpp"

namespace attn {

struct MultiheadAttentionOptions {
  int64_t embed_dim = 0;
  int64_t num_heads = 1;
  float dropout = 0.0f;
  bool bias = true;
  bool add_bias_kv = false;
  bool add_zero_attn = false;
  int64_t kdim = 0;  // 0 = embed_dim (torch: None)
  int64_t vdim = 0;
  bool batch_first = false;
  uint64_t seed = 0;  // initialisation and dropout
};

struct MhaForwardOptions {
  Tensor key_padding_mask;
  bool need_weights = true;
  Tensor attn_mask;
  bool average_attn_weights = true;
  bool is_causal = false;
  CausalAlign causal_align = CausalAlign::top_left;  // with is_causal and no attn_mask
  SelectionOptions selection;  // soft (torch) or a hard rule
  // Capture: when set, the per-head weights (N, H, L, S) are computed straight into
  // sink->destination(layer, kind, N, H, L, S) (scores, then the softmax in place), and
  // last_weights is left undefined. In training mode they are the weights after dropout.
  AttentionSink* sink = nullptr;
  int64_t layer = 0;
  AttentionKind kind = AttentionKind::self;
};

class MultiheadAttention : public Module {
 public:
  explicit MultiheadAttention(const MultiheadAttentionOptions& options);

  AttentionResult forward(const Tensor& query, const Tensor& key, const Tensor& value,
                          const MhaForwardOptions& opts = {});
  // forward(x, x, x): self-attention.
  AttentionResult self_attention(const Tensor& x, const MhaForwardOptions& opts = {});
  // forward(x, memory, memory): cross-attention (queries from x, keys/values from memory).
  AttentionResult cross_attention(const Tensor& x, const Tensor& memory, const MhaForwardOptions& opts = {});

  // y (rows, E) with row stride ldy = x (rows, in) W^T + b for the query (in = embed_dim), key
  // (kdim) or value (vdim) projection: rows E*i .. E*(i+1) of in_proj_weight / in_proj_bias, or
  // q/k/v_proj_weight. Reads the packed copy: after changing weights in place, call
  // notify_parameters_changed() (load_state_dict and pack_parameters do).
  enum class Projection : uint8_t { query = 0, key = 1, value = 2 };
  void project(Projection which, float* y, int64_t ldy, const float* x, int64_t ldx, int64_t rows) const noexcept;
  void parameters_changed() override;  // re-packs the three projections for project()

  const MultiheadAttentionOptions& options() const { return opt_; }
  int64_t head_dim() const { return opt_.embed_dim / opt_.num_heads; }
  bool qkv_same_embed_dim() const { return same_dim_; }

  Tensor in_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, in_proj_bias;
  Tensor bias_k, bias_v;
  Tensor last_weights;  // (N, H, L, S) of the latest forward without a sink

 private:
  MultiheadAttentionOptions opt_;
  bool same_dim_;
  Rng init_rng_;  // declared before out_proj, which draws from it first
  Rng dropout_rng_;
  AttentionResult forward_packed(const Tensor& query, const Tensor& key, const Tensor& value,
                                 const MhaForwardOptions& opts, const Tensor& attn_mask, const Tensor& kpm, int64_t N,
                                 int64_t L, int64_t S, bool batched);
  Tensor packed_[3];  // W_q^T, W_k^T, W_v^T in kernels::gemm_pack_b's layout, for project()

 public:
  nn::Linear out_proj;  // "out_proj.weight" (E, E), "out_proj.bias" (E)
};

}  // namespace attn
