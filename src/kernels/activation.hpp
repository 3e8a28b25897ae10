// Elementwise activations on contiguous float arrays: y[i] = f(x[i]).
// Each has a SIMD version (f32_<name>) and a scalar twin (f32_<name>__scalar)
// that is the test reference. In place (x == y) is allowed. NaN propagates.
// The list is ATTN_UNARY_KERNEL in kernels/registry.inc: the declarations, the
// Unary enum and its dispatch table below, the tests and the benchmark all expand it.
#pragma once

#include <cstddef>

namespace attn::kernels {

#define ATTN_UNARY_KERNEL(name, torch_name)                     \
  void f32_##name(size_t n, const float* x, float* y) noexcept; \
  void f32_##name##__scalar(size_t n, const float* x, float* y) noexcept;
#include "kernels/registry.inc"

using UnaryKernel = void (*)(size_t n, const float* x, float* y) noexcept;

enum class Unary {
#define ATTN_UNARY_KERNEL(name, torch_name) name,
#include "kernels/registry.inc"
};

UnaryKernel unary_kernel(Unary op) noexcept;
const char* unary_name(Unary op) noexcept;

}  // namespace attn::kernels
