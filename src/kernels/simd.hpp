// Internal to src/kernels/: the one place that includes xsimd. Kernels are
// written once against `Batch = xsimd::batch<float, Arch>`; the arch is the
// compile-time default (SSE2 natively by default, AVX2 with ATTN_NATIVE_ARCH,
// SSE4.1 lowered to SIMD128 in wasm). No raw intrinsics anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include <xsimd/xsimd.hpp>

namespace attn::kernels {

using Arch = xsimd::default_arch;
using Batch = xsimd::batch<float, Arch>;
constexpr size_t kW = Batch::size;

// Loads n < kW floats, filling the rest with `fill`; the tail of a row then goes
// through the same batch arithmetic as its body, so every element of a row is
// computed the same way wherever it sits.
inline Batch load_partial(const float* p, size_t n, float fill = 0.0f) noexcept {
  alignas(64) float buf[kW];
  for (size_t i = 0; i < kW; ++i) buf[i] = i < n ? p[i] : fill;
  return Batch::load_aligned(buf);
}

inline void store_partial(float* p, size_t n, const Batch& v) noexcept {
  alignas(64) float buf[kW];
  v.store_aligned(buf);
  std::memcpy(p, buf, n * sizeof(float));
}

// Horizontal sum in one fixed order, (v0 + v1) + (v2 + v3) for 4 lanes (pairwise for more).
// Not xsimd::hadd: its order differs between SSE2 and SSE3+, which would make the
// native (SSE2) and wasm (SSE4.1) builds differ in the last bit.
inline float hsum(const Batch& v) noexcept {
  alignas(64) float buf[kW];
  v.store_aligned(buf);
  for (size_t width = kW; width > 1; width /= 2)
    for (size_t i = 0; i < width / 2; ++i) buf[i] = buf[2 * i] + buf[2 * i + 1];
  return buf[0];
}

// Horizontal max; xsimd 8.1 has no reduce_max. NaN lanes are skipped.
inline float hmax(const Batch& v) noexcept {
  alignas(64) float buf[kW];
  v.store_aligned(buf);
  float m = buf[0];
  for (size_t i = 1; i < kW; ++i) m = buf[i] > m ? buf[i] : m;
  return m;
}

// exp(x) for a batch, ~1 ulp (Cephes expf polynomial), written with only the
// operations SIMD128 has natively. Not xsimd::exp: its float->int conversions
// become one-lane-at-a-time code under Emscripten's SSE translation (3.1.6
// emulates _mm_cvtps_epi32 with scalars), which made wasm softmax slower than
// scalar. Here n = round(x / ln 2) comes from the "magic number" trick and 2^n
// from integer bit operations on its float encoding.
// Special values: exp(-inf) = 0 (exactly, as masked softmax needs), exp(+inf) = inf,
// NaN -> NaN; results below FLT_MIN flush to 0 and above ~3.0e38 saturate to inf.
inline Batch exp_batch(const Batch& x) noexcept {
  using IBatch = xsimd::batch<int32_t, Arch>;
  const Batch hi(88.3762626647949f), lo(-87.3365447505531f);
  const Batch magic(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits
  const Batch xc = xsimd::min(xsimd::max(x, lo), hi);
  const Batch t = xc * Batch(1.44269504088896341f) + magic;
  const Batch n = t - magic;  // round-to-nearest-even of x / ln 2
  Batch r = xc - n * Batch(0.693359375f);
  r = r - n * Batch(-2.12194440e-4f);
  Batch p(1.9875691500e-4f);
  p = p * r + Batch(1.3981999507e-3f);
  p = p * r + Batch(8.3334519073e-3f);
  p = p * r + Batch(4.1665795894e-2f);
  p = p * r + Batch(1.6666665459e-1f);
  p = p * r + Batch(5.0000001201e-1f);
  p = p * (r * r) + r + Batch(1.0f);
  const IBatch n_int = xsimd::bitwise_cast<IBatch>(t) - IBatch(0x4B400000);
  const Batch two_n = xsimd::bitwise_cast<Batch>((n_int + IBatch(127)) << 23);
  Batch y = p * two_n;
  y = xsimd::select(x < lo, Batch(0.0f), y);
  y = xsimd::select(x > hi, Batch(std::numeric_limits<float>::infinity()), y);
  return xsimd::select(xsimd::isnan(x), x, y);  // NaN stays NaN (not x != x: ordered on AVX)
}

// y[i] = op(x[i]) for a batch-wise op; in place (x == y) is allowed.
template <class Op>
inline void map_unary(size_t n, const float* x, float* y, Op op) noexcept {
  size_t i = 0;
  for (; i + kW <= n; i += kW) op(Batch::load_unaligned(x + i)).store_unaligned(y + i);
  if (i < n) store_partial(y + i, n - i, op(load_partial(x + i, n - i)));
}

}  // namespace attn::kernels
