// Scaled dot-product attention, softmax(Q Kᵀ · scale + mask) V (seeds 002/004),
// with the semantics of torch.nn.functional.scaled_dot_product_attention (2.x):
//   query (..., L, E), key (..., S, E), value (..., S, Ev) -> output (..., L, Ev)
//   attn_mask: bool, true = the position TAKES PART; or float, ADDED to the scores;
//              broadcastable to (..., L, S)
//   is_causal: query i sees keys j <= i (top-left aligned); an error together with attn_mask
//   causal_align: bottom_right gives torch's causal_lower_right(L, S) bias instead
//              (query i sees keys j <= i + S - L); only with is_causal
//   scale: default 1/sqrt(E)
//   dropout_p: applied to the weights, drawing from `rng` (required when dropout_p > 0)
// A query whose keys are all masked gets zero weights and a zero output: the
// semantics of PyTorch >= 2.5 (`_safe_softmax`, pytorch#131060 / #133882; 2.0-2.4
// gave NaN), shared by every rule that takes SdpaOptions (dot, general, additive,
// concat). Also returns the weights (..., L, S), which torch's function does not.
#pragma once

#include <optional>

#include "attention/engine.hpp"
#include "attention/mask.hpp"

namespace attn {

struct SdpaOptions {
  Tensor attn_mask;
  float dropout_p = 0.0f;
  bool is_causal = false;
  CausalAlign causal_align = CausalAlign::top_left;
  std::optional<float> scale;
  SelectionOptions selection;  // soft (default) or a hard rule, applied after the softmax
  Rng* rng = nullptr;          // for dropout (not owned)
  AttentionSteps* steps = nullptr;  // when set: every stage, for inspection (engine.hpp)
};

// The WeightOptions an SdpaOptions stands for, for scores of L queries x S keys
// (causal mask, bool/float attn_mask, selection, dropout); shared by every rule that takes SdpaOptions.
WeightOptions to_weight_options(const SdpaOptions& opts, int64_t L, int64_t S, float scale, const char* what);

AttentionResult scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                             const SdpaOptions& opts = {});

}  // namespace attn
