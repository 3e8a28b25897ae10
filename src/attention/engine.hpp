// The shared back half of every score-based attention rule: scores -> masked,
// scaled softmax -> soft/hard selection -> dropout -> weights @ V.
// The softmax runs in place over the scores buffer, so the weights a caller gets
// back ARE that buffer: capturing them costs no second pass and no copy.
//
// Shapes: scores (..., L, S), v (..., S, Ev) with batch dims broadcasting as in
// torch.matmul; output (..., L, Ev); weights (..., L, S).
#pragma once

#include "attention/selection.hpp"
#include "core/rng.hpp"
#include "core/tensor.hpp"

namespace attn {

struct AttentionResult {
  Tensor output;   // (..., L, Ev)
  Tensor weights;  // (..., L, S); rows sum to 1 (0 where masked); undefined when not requested
};

// The stages of one attention computation, for teaching (the page's attention lab): what
// scores_to_weights saw and did, each (..., L, S) like the scores.
//   scores   the rule's raw scores
//   scaled   scores * scale
//   masked   scaled + additive mask, -inf where the keep mask (or causal mask) excludes a key
//   softmax  softmax of each masked row (0 for a row with no key left, as the weights)
// The weights after hard selection and dropout, and the output, are the result's own.
struct AttentionSteps {
  Tensor scores, scaled, masked, softmax;
};

struct WeightOptions {
  float scale = 1.0f;        // multiplies the raw scores (fused into the softmax)
  Tensor additive_mask;      // float, broadcastable to the scores; added after scaling
  Tensor keep_mask;          // bool, broadcastable; false -> score -inf
  SelectionOptions selection;
  float dropout_p = 0.0f;    // > 0: zero weights with this probability and scale the rest by 1/(1-p)
  Rng* dropout_rng = nullptr;  // required when dropout_p > 0
  // torch >= 2.5 scaled_dot_product_attention (`_safe_softmax`, pytorch#131060/#133882): a row
  // whose scores are all -inf after masking gets zero weights (so a zero output) instead of NaN.
  // nn.MultiheadAttention with need_weights=True still gives NaN in PyTorch: it leaves this off.
  bool zero_fully_masked_rows = false;
  // When set, scores_to_weights also fills these copies of every stage (extra work and memory:
  // for inspection only).
  AttentionSteps* steps = nullptr;
};

// In place: raw scores -> attention weights. `what` names the caller in errors.
void scores_to_weights(Tensor& scores, const WeightOptions& opts, const char* what);

// weights = scores_to_weights(scores); output = weights @ v.
AttentionResult attend(Tensor scores, const Tensor& v, const WeightOptions& opts, const char* what);

// Attention dropout on its own (torch.nn.functional.dropout semantics, our seeded Rng).
void dropout_(Tensor& weights, float p, Rng& rng);

}  // namespace attn

namespace attn {
// Validates query (..., L, Eq), key (..., S, Ek), value (..., S, Ev): float32,
// >= 2 dims, no NaN, matching S, batch dims that broadcast, and (when
// `same_features`) Eq == Ek. Messages name the argument and both shapes.
void check_qkv(const Tensor& query, const Tensor& key, const Tensor& value, const char* what, bool same_features);
// Throws "<what>: <arg> has N features but <size_name> is M" unless t.size(-1) == expected.
void check_features(const Tensor& t, int64_t expected, const char* what, const char* arg, const char* size_name);
}  // namespace attn
