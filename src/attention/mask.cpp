#include "attention/mask.hpp"

#include <cmath>
#include <limits>

namespace attn {

Tensor causal_mask(int64_t L, int64_t S, CausalAlign align) {
  Tensor m = Tensor::empty({L, S}, DType::u8, "causal_mask");
  uint8_t* p = m.data_u8();
  for (int64_t i = 0; i < L; ++i) {
    const int64_t last = causal_last_key(i, L, S, align);
    for (int64_t j = 0; j < S; ++j) p[i * S + j] = j <= last;
  }
  return m;
}

Tensor causal_additive_mask(int64_t L, int64_t S, CausalAlign align) {
  return to_additive_mask(causal_mask(L, S, align), BoolMaskMeaning::keep, "causal_mask");
}

Tensor to_additive_mask(const Tensor& mask, BoolMaskMeaning meaning, const char* what) {
  if (mask.dtype() == DType::f32) return mask;
  Tensor c = mask.contiguous();
  Tensor out = Tensor::empty(c.shape());
  const uint8_t* m = c.data_u8();
  const float ninf = -std::numeric_limits<float>::infinity();
  const uint8_t masked_value = meaning == BoolMaskMeaning::keep ? 0 : 1;
  for (int64_t i = 0; i < c.numel(); ++i) out.data()[i] = m[i] == masked_value ? ninf : 0.0f;
  return out;
}

void check_mask_broadcasts(const Tensor& mask, const Shape& scores_shape, const char* what) {
  ATTN_CHECK(mask.dim() <= static_cast<int64_t>(scores_shape.size()), what, " has shape ", mask.shape(),
             ", which does not broadcast to the attention scores ", scores_shape);
  const size_t lead = scores_shape.size() - mask.shape().size();
  for (size_t i = 0; i < mask.shape().size(); ++i) {
    const int64_t m = mask.shape()[i], s = scores_shape[lead + i];
    ATTN_CHECK(m == s || m == 1, what, " has shape ", mask.shape(), ", which does not broadcast to the attention scores ",
               scores_shape);
  }
  if (mask.dtype() == DType::f32) {
    Tensor c = mask.contiguous();
    for (int64_t i = 0; i < c.numel(); ++i)
      ATTN_CHECK(!std::isnan(c.data()[i]), what, " contains NaN (float masks are added to the scores)");
  }
}

}  // namespace attn
