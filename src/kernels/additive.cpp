#include "kernels/additive.hpp"

#include "kernels/simd.hpp"

namespace attn::kernels {

float f32_additive_score(size_t n, const float* q, const float* k, const float* v) noexcept {
  Batch acc(0.0f);
  size_t i = 0;
  for (; i + kW <= n; i += kW) {
    const Batch t = xsimd::tanh(Batch::load_unaligned(q + i) + Batch::load_unaligned(k + i));
    acc = xsimd::fma(Batch::load_unaligned(v + i), t, acc);
  }
  if (i < n) {
    const size_t r = n - i;
    acc = xsimd::fma(load_partial(v + i, r), xsimd::tanh(load_partial(q + i, r) + load_partial(k + i, r)), acc);
  }
  return hsum(acc);
}

}  // namespace attn::kernels
