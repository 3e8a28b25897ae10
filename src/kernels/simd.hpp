// Internal to src/kernels/: the one place that includes xsimd. Kernels are
// written once against `Batch = xsimd::batch<float, Arch>`; the arch is the
// compile-time default (SSE2 natively by default, AVX2 with ATTN_NATIVE_ARCH,
// SSE4.1 lowered to SIMD128 in wasm). No raw intrinsics anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include <xsimd/xsimd.hpp>

namespace attn::kernels {

using Arch = xsimd::default_arch;
using Batch = xsimd::batch<float, Arch>;
constexpr size_t kW = Batch::size;

// Loads n < kW floats, filling the rest with `fill`; the tail of a row then goes
// through the same batch arithmetic as its body, so every element of a row is
// computed the same way wherever it sits.
inline Batch load_partial(const float* p, size_t n, float fill = 0.0f) {
  alignas(64) float buf[kW];
  for (size_t i = 0; i < kW; ++i) buf[i] = i < n ? p[i] : fill;
  return Batch::load_aligned(buf);
}

inline void store_partial(float* p, size_t n, const Batch& v) {
  alignas(64) float buf[kW];
  v.store_aligned(buf);
  std::memcpy(p, buf, n * sizeof(float));
}

// Horizontal sum in one fixed order, (v0 + v1) + (v2 + v3) for 4 lanes (pairwise for more).
// Not xsimd::hadd: its order differs between SSE2 and SSE3+, which would make the
// native (SSE2) and wasm (SSE4.1) builds differ in the last bit.
inline float hsum(const Batch& v) {
  alignas(64) float buf[kW];
  v.store_aligned(buf);
  for (size_t width = kW; width > 1; width /= 2)
    for (size_t i = 0; i < width / 2; ++i) buf[i] = buf[2 * i] + buf[2 * i + 1];
  return buf[0];
}

// Horizontal max; xsimd 8.1 has no reduce_max. NaN lanes are skipped.
inline float hmax(const Batch& v) {
  alignas(64) float buf[kW];
  v.store_aligned(buf);
  float m = buf[0];
  for (size_t i = 1; i < kW; ++i) m = buf[i] > m ? buf[i] : m;
  return m;
}

// y[i] = op(x[i]) for a batch-wise op; in place (x == y) is allowed.
template <class Op>
inline void map_unary(size_t n, const float* x, float* y, Op op) {
  size_t i = 0;
  for (; i + kW <= n; i += kW) op(Batch::load_unaligned(x + i)).store_unaligned(y + i);
  if (i < n) store_partial(y + i, n - i, op(load_partial(x + i, n - i)));
}

}  // namespace attn::kernels
