// Scalar twins of kernels/elementwise.cpp (test reference; not auto-vectorised).
#include "kernels/elementwise.hpp"

namespace attn::kernels {

#define ATTN_DEFINE_BINARY_SCALAR(name, op)                                          \
  void f32_##name##__scalar(size_t n, const float* a, const float* b, float* y) {    \
    for (size_t i = 0; i < n; ++i) y[i] = a[i] op b[i];                              \
  }                                                                                  \
  void f32_##name##_scalar_b__scalar(size_t n, const float* a, float s, float* y) {  \
    for (size_t i = 0; i < n; ++i) y[i] = a[i] op s;                                 \
  }
ATTN_BINARY_KERNELS(ATTN_DEFINE_BINARY_SCALAR)
#undef ATTN_DEFINE_BINARY_SCALAR

void f32_axpy__scalar(size_t n, float a, const float* x, float* y) {
  for (size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

}  // namespace attn::kernels
