#include "kernels/activation.hpp"

#include "kernels/simd.hpp"

namespace attn::kernels {

namespace {
const Batch kZero(0.0f), kOne(1.0f), kHalf(0.5f);

// relu keeps NaN (x < 0 is false for NaN), as torch.relu does.
inline Batch relu_b(const Batch& x) { return xsimd::select(x < kZero, kZero, x); }
inline Batch sigmoid_b(const Batch& x) { return kOne / (kOne + exp_batch(-x)); }
inline Batch gelu_erf_b(const Batch& x) {
  return kHalf * x * (kOne + xsimd::erf(x * Batch(0.70710678118654752f)));
}
inline Batch gelu_tanh_b(const Batch& x) {
  const Batch k(0.79788456080286536f), c(0.044715f);
  return kHalf * x * (kOne + xsimd::tanh(k * (x + c * x * x * x)));
}
}  // namespace

void f32_relu(size_t n, const float* x, float* y) noexcept { map_unary(n, x, y, relu_b); }
void f32_sigmoid(size_t n, const float* x, float* y) noexcept { map_unary(n, x, y, sigmoid_b); }
void f32_tanh(size_t n, const float* x, float* y) noexcept {
  map_unary(n, x, y, [](const Batch& v) { return xsimd::tanh(v); });
}
void f32_exp(size_t n, const float* x, float* y) noexcept {
  map_unary(n, x, y, [](const Batch& v) { return exp_batch(v); });
}
void f32_gelu_erf(size_t n, const float* x, float* y) noexcept { map_unary(n, x, y, gelu_erf_b); }
void f32_gelu_tanh(size_t n, const float* x, float* y) noexcept { map_unary(n, x, y, gelu_tanh_b); }

UnaryKernel unary_kernel(Unary op) noexcept {
  switch (op) {
#define ATTN_UNARY_KERNEL(name, torch_name) \
  case Unary::name:                         \
    return f32_##name;
#include "kernels/registry.inc"
  }
  return nullptr;
}

const char* unary_name(Unary op) noexcept {
  switch (op) {
#define ATTN_UNARY_KERNEL(name, torch_name) \
  case Unary::name:                         \
    return #name;
#include "kernels/registry.inc"
  }
  return "?";
}

}  // namespace attn::kernels
