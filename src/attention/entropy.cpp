#include "attention/entropy.hpp"

#include <cmath>

namespace attn {

Tensor attention_entropy(const Tensor& weights_in) {
  ATTN_CHECK(weights_in.defined() && weights_in.dtype() == DType::f32 && weights_in.dim() >= 1,
             "attention_entropy: weights must be a float32 tensor of shape (..., L, S), got ",
             weights_in.defined() ? weights_in.shape() : Shape{});
  Tensor w = weights_in.contiguous();
  const int64_t S = w.size(-1);
  Shape out_shape(w.shape().begin(), w.shape().end() - 1);
  Tensor out = Tensor::empty(out_shape);
  for (int64_t r = 0; r < out.numel(); ++r) {
    const float* row = w.data() + r * S;
    double h = 0.0;
    for (int64_t j = 0; j < S; ++j)
      if (row[j] > 0.0f) h -= double(row[j]) * std::log(double(row[j]));
      else if (std::isnan(row[j])) h = NAN;
    out.data()[r] = static_cast<float>(h);
  }
  return out;
}

}  // namespace attn
