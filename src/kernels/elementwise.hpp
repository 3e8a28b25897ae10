// Elementwise arithmetic on contiguous arrays. In place (y aliasing a or x) is allowed.
// Broadcasting over tensors is done one level up, in kernels/ops.cpp, which
// calls these per contiguous inner row.
#pragma once

#include <cstddef>

namespace attn::kernels {

// Registry of binary kernels: X(name, op)
#define ATTN_BINARY_KERNELS(X) \
  X(add, +)                    \
  X(sub, -)                    \
  X(mul, *)

#define ATTN_DECLARE_BINARY(name, op)                                               \
  void f32_##name(size_t n, const float* a, const float* b, float* y);              \
  void f32_##name##__scalar(size_t n, const float* a, const float* b, float* y);    \
  /* y[i] = a[i] op s */                                                            \
  void f32_##name##_scalar_b(size_t n, const float* a, float s, float* y);          \
  void f32_##name##_scalar_b__scalar(size_t n, const float* a, float s, float* y);
ATTN_BINARY_KERNELS(ATTN_DECLARE_BINARY)
#undef ATTN_DECLARE_BINARY

// y[i] = x[i] * s
void f32_scale(size_t n, const float* x, float s, float* y);
// y[i] += a * x[i]
void f32_axpy(size_t n, float a, const float* x, float* y);
void f32_axpy__scalar(size_t n, float a, const float* x, float* y);

}  // namespace attn::kernels
