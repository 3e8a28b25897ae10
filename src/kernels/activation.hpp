// Elementwise activations on contiguous float arrays: y[i] = f(x[i]).
// Each has a SIMD version (f32_<name>) and a scalar twin (f32_<name>__scalar)
// that is the test reference. In place (x == y) is allowed. NaN propagates.
#pragma once

#include <cstddef>

namespace attn::kernels {

// The registry: dispatch tables and tests both expand this list, so a new
// activation cannot go untested. X(name, pytorch_equivalent)
#define ATTN_UNARY_KERNELS(X)            \
  X(relu, "torch.relu")                  \
  X(sigmoid, "torch.sigmoid")            \
  X(tanh, "torch.tanh")                  \
  X(exp, "torch.exp")                    \
  X(gelu_erf, "F.gelu(approximate='none')") \
  X(gelu_tanh, "F.gelu(approximate='tanh')")

#define ATTN_DECLARE_UNARY(name, torch_name)                       \
  void f32_##name(size_t n, const float* x, float* y);             \
  void f32_##name##__scalar(size_t n, const float* x, float* y);
ATTN_UNARY_KERNELS(ATTN_DECLARE_UNARY)
#undef ATTN_DECLARE_UNARY

using UnaryKernel = void (*)(size_t n, const float* x, float* y);

enum class Unary {
#define ATTN_UNARY_ENUM(name, torch_name) name,
  ATTN_UNARY_KERNELS(ATTN_UNARY_ENUM)
#undef ATTN_UNARY_ENUM
};

UnaryKernel unary_kernel(Unary op);
const char* unary_name(Unary op);

}  // namespace attn::kernels
