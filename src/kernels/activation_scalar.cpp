// Scalar twins of kernels/activation.cpp: plain loops over <cmath>, the test
// reference. Built without auto-vectorisation (see CMakeLists.txt).
#include <cmath>

#include "kernels/activation.hpp"

namespace attn::kernels {

void f32_relu__scalar(size_t n, const float* x, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}
void f32_sigmoid__scalar(size_t n, const float* x, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
}
void f32_tanh__scalar(size_t n, const float* x, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = std::tanh(x[i]);
}
void f32_exp__scalar(size_t n, const float* x, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = std::exp(x[i]);
}
void f32_gelu_erf__scalar(size_t n, const float* x, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
}
void f32_gelu_tanh__scalar(size_t n, const float* x, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) {
    float v = x[i];
    y[i] = 0.5f * v * (1.0f + std::tanh(0.79788456080286536f * (v + 0.044715f * v * v * v)));
  }
}

}  // namespace attn::kernels
