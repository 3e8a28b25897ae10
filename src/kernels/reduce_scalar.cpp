// Scalar twins of kernels/reduce.cpp (test reference; not auto-vectorised).
#include <cmath>
#include <limits>

#include "kernels/reduce.hpp"

namespace attn::kernels {

float f32_sum__scalar(size_t n, const float* x) noexcept {
  double s = 0.0;  // the reference accumulates in double
  for (size_t i = 0; i < n; ++i) s += x[i];
  return static_cast<float>(s);
}

float f32_mean__scalar(size_t n, const float* x) noexcept {
  if (n == 0) return NAN;
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += x[i];
  return static_cast<float>(s / n);
}

float f32_dot__scalar(size_t n, const float* a, const float* b) noexcept {
  double s = 0.0;
  for (size_t i = 0; i < n; ++i) s += double(a[i]) * b[i];
  return static_cast<float>(s);
}

float f32_max__scalar(size_t n, const float* x) noexcept {
  float m = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(x[i])) return NAN;
    if (x[i] > m) m = x[i];
  }
  return m;
}

size_t f32_argmax__scalar(size_t n, const float* x) noexcept {
  size_t best = 0;
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(x[i])) return i;
    if (x[i] > x[best]) best = i;
  }
  return best;
}

}  // namespace attn::kernels
