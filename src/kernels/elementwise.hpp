// Elementwise arithmetic on contiguous arrays. In place (y aliasing a, b or x) is allowed.
// Broadcasting over tensors is done one level up, in src/ops/ops.cpp, which
// calls these per contiguous inner row.
#pragma once

#include <cstddef>

namespace attn::kernels {

// y[i] = a[i] op b[i] and y[i] = a[i] op s, one per ATTN_BINARY_KERNEL /
// ATTN_BINARY_SCALAR_KERNEL line of kernels/registry.inc (add, sub, mul;
// add_scalar_b, sub_scalar_b, mul_scalar_b, and scale: y[i] = x[i] * s).
#define ATTN_BINARY_KERNEL(name, op)                                            \
  void f32_##name(size_t n, const float* a, const float* b, float* y) noexcept; \
  void f32_##name##__scalar(size_t n, const float* a, const float* b, float* y) noexcept;
#define ATTN_BINARY_SCALAR_KERNEL(name, op)                              \
  void f32_##name(size_t n, const float* a, float s, float* y) noexcept; \
  void f32_##name##__scalar(size_t n, const float* a, float s, float* y) noexcept;
#include "kernels/registry.inc"

// y[i] += a * x[i]
void f32_axpy(size_t n, float a, const float* x, float* y) noexcept;
void f32_axpy__scalar(size_t n, float a, const float* x, float* y) noexcept;

}  // namespace attn::kernels
