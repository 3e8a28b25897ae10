// Scalar twins of kernels/softmax.cpp (test reference; not auto-vectorised).
#include <cmath>
#include <limits>

#include "kernels/softmax.hpp"

namespace attn::kernels {

namespace {
float masked_scores_scalar(size_t n, const float* x, float scale, const float* add_mask, const uint8_t* keep,
                           float* y) noexcept {
  float m = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) {
    float z = x[i] * scale;
    if (add_mask) z += add_mask[i];
    if (keep && !keep[i]) z = -std::numeric_limits<float>::infinity();
    m = z > m ? z : m;
    y[i] = z;
  }
  return m;
}
}  // namespace

void f32_softmax__scalar(size_t n, const float* x, float scale, const float* add_mask, const uint8_t* keep,
                         float* y) noexcept {
  if (n == 0) return;
  float m = masked_scores_scalar(n, x, scale, add_mask, keep, y);
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    y[i] = std::exp(y[i] - m);
    sum += y[i];
  }
  for (size_t i = 0; i < n; ++i) y[i] /= sum;
}

void f32_log_softmax__scalar(size_t n, const float* x, float scale, const float* add_mask, const uint8_t* keep,
                             float* y) noexcept {
  if (n == 0) return;
  float m = masked_scores_scalar(n, x, scale, add_mask, keep, y);
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) sum += std::exp(y[i] - m);
  float shift = m + std::log(sum);
  for (size_t i = 0; i < n; ++i) y[i] -= shift;
}

}  // namespace attn::kernels
