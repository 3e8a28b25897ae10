// Scalar twins of kernels/elementwise.cpp (test reference; not auto-vectorised).
#include "kernels/elementwise.hpp"

namespace attn::kernels {

#define ATTN_BINARY_KERNEL(name, op)                                                       \
  void f32_##name##__scalar(size_t n, const float* a, const float* b, float* y) noexcept { \
    for (size_t i = 0; i < n; ++i) y[i] = a[i] op b[i];                                    \
  }
#define ATTN_BINARY_SCALAR_KERNEL(name, op)                                         \
  void f32_##name##__scalar(size_t n, const float* a, float s, float* y) noexcept { \
    for (size_t i = 0; i < n; ++i) y[i] = a[i] op s;                                \
  }
#include "kernels/registry.inc"

void f32_axpy__scalar(size_t n, float a, const float* x, float* y) noexcept {
  for (size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace attn::kernels
