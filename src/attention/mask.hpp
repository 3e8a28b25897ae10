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

// Bool (L, S) keep-mask, true on and below the diagonal (query i sees keys j <= i),
// aligned top-left like torch.ones(L, S).tril() in SDPA's is_causal.
Tensor causal_mask(int64_t L, int64_t S);

// Float (L, S): 0 where allowed, -inf above the diagonal (nn.Transformer.generate_square_subsequent_mask for L == S).
Tensor causal_additive_mask(int64_t L, int64_t S);

// Converts a bool or float mask to additive form: bool -> 0 / -inf according to
// `meaning`; float masks are returned as they are. `what` names the argument in errors.
Tensor to_additive_mask(const Tensor& mask, BoolMaskMeaning meaning, const char* what);

// Checks that `mask` (bool or float) broadcasts to `scores_shape` (..., L, S) and has no NaN.
void check_mask_broadcasts(const Tensor& mask, const Shape& scores_shape, const char* what);

}  // namespace attn
