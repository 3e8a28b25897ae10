#include "kernels/transpose.hpp"

#include "kernels/simd.hpp"

namespace attn::kernels {

namespace {
constexpr size_t kTile = 4;

// 4x4 block transpose in registers with two rounds of zip (interleave).
inline void transpose4x4(const float* s, size_t ld_s, float* d, size_t ld_d) noexcept {
  using B4 = xsimd::batch<float, Arch>;
  B4 r0 = B4::load_unaligned(s), r1 = B4::load_unaligned(s + ld_s);
  B4 r2 = B4::load_unaligned(s + 2 * ld_s), r3 = B4::load_unaligned(s + 3 * ld_s);
  B4 t0 = xsimd::zip_lo(r0, r2), t1 = xsimd::zip_hi(r0, r2);  // a0 c0 a1 c1 | a2 c2 a3 c3
  B4 t2 = xsimd::zip_lo(r1, r3), t3 = xsimd::zip_hi(r1, r3);  // b0 d0 b1 d1 | b2 d2 b3 d3
  xsimd::zip_lo(t0, t2).store_unaligned(d);
  xsimd::zip_hi(t0, t2).store_unaligned(d + ld_d);
  xsimd::zip_lo(t1, t3).store_unaligned(d + 2 * ld_d);
  xsimd::zip_hi(t1, t3).store_unaligned(d + 3 * ld_d);
}
}  // namespace

void f32_transpose(size_t rows, size_t cols, const float* src, size_t ld_src, float* dst, size_t ld_dst) noexcept {
  if constexpr (kW != 4) {
    // The zip-based block is written for 4 lanes (SSE / SIMD128); wider arches use the plain loop.
    f32_transpose__scalar(rows, cols, src, ld_src, dst, ld_dst);
    return;
  } else {
    size_t r = 0;
    for (; r + kTile <= rows; r += kTile) {
      size_t c = 0;
      for (; c + kTile <= cols; c += kTile) transpose4x4(src + r * ld_src + c, ld_src, dst + c * ld_dst + r, ld_dst);
      for (; c < cols; ++c)
        for (size_t i = r; i < r + kTile; ++i) dst[c * ld_dst + i] = src[i * ld_src + c];
    }
    for (; r < rows; ++r)
      for (size_t c = 0; c < cols; ++c) dst[c * ld_dst + r] = src[r * ld_src + c];
  }
}

}  // namespace attn::kernels
