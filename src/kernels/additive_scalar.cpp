// Scalar twin of kernels/additive.cpp (test reference).
#include <cmath>

#include "kernels/additive.hpp"

namespace attn::kernels {

float f32_additive_score__scalar(size_t n, const float* q, const float* k, const float* v) noexcept {
  double acc = 0.0;
  for (size_t i = 0; i < n; ++i) acc += double(v[i]) * std::tanh(q[i] + k[i]);
  return static_cast<float>(acc);
}

}  // namespace attn::kernels
