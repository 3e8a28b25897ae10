#include "kernels/reduce.hpp"

#include <cmath>
#include <limits>

#include "kernels/simd.hpp"

namespace attn::kernels {

float f32_sum(size_t n, const float* x) noexcept {
  // Four independent accumulators hide the add latency.
  Batch a0(0.0f), a1(0.0f), a2(0.0f), a3(0.0f);
  size_t i = 0;
  for (; i + 4 * kW <= n; i += 4 * kW) {
    a0 += Batch::load_unaligned(x + i);
    a1 += Batch::load_unaligned(x + i + kW);
    a2 += Batch::load_unaligned(x + i + 2 * kW);
    a3 += Batch::load_unaligned(x + i + 3 * kW);
  }
  for (; i + kW <= n; i += kW) a0 += Batch::load_unaligned(x + i);
  if (i < n) a1 += load_partial(x + i, n - i);
  return hsum((a0 + a1) + (a2 + a3));
}

float f32_mean(size_t n, const float* x) noexcept { return n ? f32_sum(n, x) / static_cast<float>(n) : NAN; }

float f32_dot(size_t n, const float* a, const float* b) noexcept {
  Batch a0(0.0f), a1(0.0f);
  size_t i = 0;
  for (; i + 2 * kW <= n; i += 2 * kW) {
    a0 = xsimd::fma(Batch::load_unaligned(a + i), Batch::load_unaligned(b + i), a0);
    a1 = xsimd::fma(Batch::load_unaligned(a + i + kW), Batch::load_unaligned(b + i + kW), a1);
  }
  for (; i + kW <= n; i += kW) a0 = xsimd::fma(Batch::load_unaligned(a + i), Batch::load_unaligned(b + i), a0);
  if (i < n) a1 = xsimd::fma(load_partial(a + i, n - i), load_partial(b + i, n - i), a1);
  return hsum(a0 + a1);
}

float f32_max(size_t n, const float* x) noexcept {
  Batch m(-std::numeric_limits<float>::infinity());
  auto nan_seen = Batch(0.0f) != Batch(0.0f);  // all false
  size_t i = 0;
  for (; i + kW <= n; i += kW) {
    Batch v = Batch::load_unaligned(x + i);
    nan_seen = nan_seen | xsimd::isnan(v);
    m = xsimd::max(m, v);
  }
  if (i < n) {
    Batch v = load_partial(x + i, n - i, -std::numeric_limits<float>::infinity());
    nan_seen = nan_seen | xsimd::isnan(v);
    m = xsimd::max(m, v);
  }
  if (xsimd::any(nan_seen)) return NAN;
  return hmax(m);
}

size_t f32_argmax(size_t n, const float* x) noexcept {
  // Find the max value with SIMD, then the first index holding it.
  if (n == 0) return 0;
  float m = f32_max(n, x);
  if (std::isnan(m)) {
    for (size_t i = 0; i < n; ++i)
      if (std::isnan(x[i])) return i;
  }
  const Batch vm(m);
  size_t i = 0;
  for (; i + kW <= n; i += kW) {
    if (xsimd::any(Batch::load_unaligned(x + i) == vm)) break;
  }
  for (; i < n; ++i)
    if (x[i] == m) return i;
  return 0;
}

}  // namespace attn::kernels
