// Attention masks and their conventions. Three conventions meet here:
//  - torch.nn.functional.scaled_dot_product_attention: bool True = TAKES PART, float is added;
//  - torch.nn.MultiheadAttention (attn_mask, key_padding_mask): bool True = MASKED OUT, float is added;
//  - seed 004's masked_fill(mask == 0, -1e9): 0 = masked out, and the score is REPLACED by -1e9.
// Every rule converts its masks to one of the two forms the softmax kernel
// fuses: an additive float mask (0 / -inf / any float) or a bool keep-mask.
#pragma once

#include "core/tensor.hpp"

namespace attn {

enum class BoolMaskMeaning { keep, masked };  // what `true` means for a bool mask

// Where the causal diagonal sits when L != S (torch.nn.attention.bias, PyTorch >= 2.3):
//  - top_left (causal_upper_left, SDPA's is_causal): query i sees keys j <= i;
//  - bottom_right (causal_lower_right): query i sees keys j <= i + (S - L), so the last
//    query sees every key. KV-cache decoding needs this: L new queries after S - L cached keys.
// The two agree when L == S. A bottom-right query with i + (S - L) < 0 sees nothing
// (a fully masked row; see WeightOptions::zero_fully_masked_rows).
enum class CausalAlign : uint8_t { top_left = 0, bottom_right = 1 };

// The last key query i may see: i (top_left) or i + S - L (bottom_right).
inline int64_t causal_last_key(int64_t i, int64_t L, int64_t S, CausalAlign align) {
  return align == CausalAlign::top_left ? i : i + (S - L);
}

// Bool (L, S) keep-mask, true where query i may see key j (j <= causal_last_key(i)).
// top_left is torch.ones(L, S).tril() as in SDPA's is_causal.
Tensor causal_mask(int64_t L, int64_t S, CausalAlign align = CausalAlign::top_left);

// Float (L, S): 0 where allowed, -inf elsewhere (nn.Transformer.generate_square_subsequent_mask for L == S).
Tensor causal_additive_mask(int64_t L, int64_t S, CausalAlign align = CausalAlign::top_left);

// Converts a bool or float mask to additive form: bool -> 0 / -inf according to
// `meaning`; float masks are returned as they are. `what` names the argument in errors.
Tensor to_additive_mask(const Tensor& mask, BoolMaskMeaning meaning, const char* what);

// Checks that `mask` (bool or float) broadcasts to `scores_shape` (..., L, S) and has no NaN.
void check_mask_broadcasts(const Tensor& mask, const Shape& scores_shape, const char* what);

}  // namespace attn
