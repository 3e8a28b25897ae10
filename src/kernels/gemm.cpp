#include "kernels/gemm.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "kernels/simd.hpp"

namespace attn::kernels {

namespace {
constexpr size_t kMR = 4;       // rows of C per micro-tile
constexpr size_t kNR = 2 * kW;  // cols of C per micro-tile (two vectors)
constexpr size_t kKC = 256;     // depth of a packed panel
constexpr size_t kMC = 128;     // rows of A packed at once (kMC*kKC floats ~ 128 KB, fits L2)
constexpr size_t kNC = 1024;    // cols of B packed at once
static_assert(kMR == 4, "tile() dispatches rows 1..4");
// Every column block but the last is whole strips, so the packed layout of a K x N
// op(B) is exactly round_up(N, kNR) * K floats, block (j0, p0) at j0 * K + p0 * (its width).
static_assert(kNC % kNR == 0, "a column block must be whole strips");

// Pack scratch that grows to the largest panel seen (at most kNC*kKC floats) and never
// throws: if the allocation fails, get() returns null and f32_gemm falls back to the
// scalar twin, so the kernel can be noexcept.
struct PackBuffer {
  float* data = nullptr;
  size_t capacity = 0;
  ~PackBuffer() { std::free(data); }
  float* get(size_t n) noexcept {
    if (n > capacity) {
      std::free(data);
      const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;  // aligned_alloc wants a multiple of the alignment
      data = static_cast<float*>(std::aligned_alloc(64, bytes));
      capacity = data ? n : 0;
    }
    return data;
  }
};

// Packs op(A)[i0:i0+mc, p0:p0+kc] into strips of kMR rows: strip s holds, for each k, kMR values.
// Rows past mc are zero (the micro-kernel does not read them: it runs only the rows there are).
void pack_a(bool trans, const float* A, size_t lda, size_t i0, size_t mc, size_t p0, size_t kc, float* out) noexcept {
  for (size_t i = 0; i < mc; i += kMR) {
    const size_t rows = std::min(kMR, mc - i);
    for (size_t k = 0; k < kc; ++k) {
      for (size_t r = 0; r < kMR; ++r) {
        float v = 0.0f;
        if (r < rows) {
          const size_t row = i0 + i + r, col = p0 + k;
          v = trans ? A[col * lda + row] : A[row * lda + col];
        }
        *out++ = v;
      }
    }
  }
}

// Packs op(B)[p0:p0+kc, j0:j0+nc] into strips of kNR columns, strip s holding, for each k,
// kNR values; columns past nc are zero.
void pack_b(bool trans, const float* B, size_t ldb, size_t p0, size_t kc, size_t j0, size_t nc, float* out) noexcept {
  for (size_t j = 0; j < nc; j += kNR) {
    const size_t cols = std::min(kNR, nc - j);
    for (size_t k = 0; k < kc; ++k) {
      const size_t row = p0 + k;
      if (!trans && cols == kNR) {
        const float* src = B + row * ldb + j0 + j;
        std::copy(src, src + kNR, out);
        out += kNR;
        continue;
      }
      for (size_t c = 0; c < kNR; ++c) {
        float v = 0.0f;
        if (c < cols) {
          const size_t col = j0 + j + c;
          v = trans ? B[col * ldb + row] : B[row * ldb + col];
        }
        *out++ = v;
      }
    }
  }
}

// C[0:R, 0:cols] += alpha * A (R rows, kc deep) * (packed B strip, kc x kNR).
// A's element (r, k) is at a[r * a_row + k * a_depth]: a packed A strip (1, kMR) or
// rows of A read in place (lda, 1). R is a template argument, so a tail of fewer
// than kMR rows neither reads past A nor spends FMAs on padding. One row (the
// vector x panel product of decode) has only two accumulators, so it splits k into
// even and odd halves to keep four FMA chains in flight.
template <size_t R>
void micro_kernel(size_t kc, const float* a, size_t a_row, size_t a_depth, const float* b, float alpha, float* C,
                  size_t ldc, size_t cols) noexcept {
  Batch acc[R][2];
  for (size_t r = 0; r < R; ++r) acc[r][0] = acc[r][1] = Batch(0.0f);
  size_t k = 0;
  if constexpr (R == 1) {
    Batch odd0(0.0f), odd1(0.0f);
    for (; k + 2 <= kc; k += 2) {
      const Batch a0(a[0]), a1(a[a_depth]);
      acc[0][0] = xsimd::fma(a0, Batch::load_unaligned(b), acc[0][0]);
      acc[0][1] = xsimd::fma(a0, Batch::load_unaligned(b + kW), acc[0][1]);
      odd0 = xsimd::fma(a1, Batch::load_unaligned(b + kNR), odd0);
      odd1 = xsimd::fma(a1, Batch::load_unaligned(b + kNR + kW), odd1);
      a += 2 * a_depth;
      b += 2 * kNR;
    }
    acc[0][0] += odd0;
    acc[0][1] += odd1;
  }
  for (; k < kc; ++k) {
    const Batch b0 = Batch::load_unaligned(b), b1 = Batch::load_unaligned(b + kW);
    for (size_t r = 0; r < R; ++r) {
      const Batch ar(a[r * a_row]);
      acc[r][0] = xsimd::fma(ar, b0, acc[r][0]);
      acc[r][1] = xsimd::fma(ar, b1, acc[r][1]);
    }
    a += a_depth;
    b += kNR;
  }
  const Batch va(alpha);
  if (cols == kNR) {
    for (size_t r = 0; r < R; ++r) {
      float* row = C + r * ldc;
      xsimd::fma(va, acc[r][0], Batch::load_unaligned(row)).store_unaligned(row);
      xsimd::fma(va, acc[r][1], Batch::load_unaligned(row + kW)).store_unaligned(row + kW);
    }
    return;
  }
  alignas(64) float tile[kNR];
  for (size_t r = 0; r < R; ++r) {
    (va * acc[r][0]).store_aligned(tile);
    (va * acc[r][1]).store_aligned(tile + kW);
    for (size_t c = 0; c < cols; ++c) C[r * ldc + c] += tile[c];
  }
}

// micro_kernel for 1 <= rows <= kMR.
void tile(size_t rows, size_t kc, const float* a, size_t a_row, size_t a_depth, const float* b, float alpha, float* C,
          size_t ldc, size_t cols) noexcept {
  switch (rows) {
    case 1: return micro_kernel<1>(kc, a, a_row, a_depth, b, alpha, C, ldc, cols);
    case 2: return micro_kernel<2>(kc, a, a_row, a_depth, b, alpha, C, ldc, cols);
    case 3: return micro_kernel<3>(kc, a, a_row, a_depth, b, alpha, C, ldc, cols);
    default: return micro_kernel<kMR>(kc, a, a_row, a_depth, b, alpha, C, ldc, cols);
  }
}

size_t round_up_to_strip(size_t n) noexcept { return (n + kNR - 1) / kNR * kNR; }

void scale_c(size_t M, size_t N, float beta, float* C, size_t ldc) noexcept {
  if (beta == 1.0f) return;
  for (size_t i = 0; i < M; ++i) {
    float* row = C + i * ldc;
    if (beta == 0.0f) {
      std::fill(row, row + N, 0.0f);
    } else {
      const Batch vb(beta);
      map_unary(N, row, row, [&](const Batch& v) { return v * vb; });
    }
  }
}
}  // namespace

void f32_gemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, float alpha, const float* A, size_t lda,
              const float* B, size_t ldb, float beta, float* C, size_t ldc) noexcept {
  if (M == 0 || N == 0) return;
  scale_c(M, N, beta, C, ldc);
  if (K == 0 || alpha == 0.0f) return;

  thread_local PackBuffer a_buf, b_buf;
  const size_t nc_max = std::min(kNC, (N + kNR - 1) / kNR * kNR);
  const size_t kc_max = std::min(kKC, K);
  const size_t mc_max = std::min(kMC, (M + kMR - 1) / kMR * kMR);
  float* pa = a_buf.get(mc_max * kc_max);
  float* pb = b_buf.get(nc_max * kc_max);
  if (!pa || !pb) {  // out of memory for at most ~1 MB of scratch: slow but correct (C is already scaled)
    f32_gemm__scalar(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, 1.0f, C, ldc);
    return;
  }

  for (size_t j0 = 0; j0 < N; j0 += kNC) {
    const size_t nc = std::min(kNC, N - j0);
    for (size_t p0 = 0; p0 < K; p0 += kKC) {
      const size_t kc = std::min(kKC, K - p0);
      pack_b(trans_b, B, ldb, p0, kc, j0, nc, pb);
      for (size_t i0 = 0; i0 < M; i0 += kMC) {
        const size_t mc = std::min(kMC, M - i0);
        pack_a(trans_a, A, lda, i0, mc, p0, kc, pa);
        for (size_t j = 0; j < nc; j += kNR) {
          const float* b_strip = pb + (j / kNR) * kc * kNR;
          for (size_t i = 0; i < mc; i += kMR) {
            tile(std::min(kMR, mc - i), kc, pa + (i / kMR) * kc * kMR, 1, kMR, b_strip, alpha,
                 C + (i0 + i) * ldc + j0 + j, ldc, std::min(kNR, nc - j));
          }
        }
      }
    }
  }
}

size_t gemm_packed_b_floats(size_t K, size_t N) noexcept {
  if (N > SIZE_MAX - kNR) return SIZE_MAX;
  const size_t width = round_up_to_strip(N);
  return K != 0 && width > SIZE_MAX / K ? SIZE_MAX : width * K;
}

size_t detail::gemm_packed_b_index(size_t K, size_t N, size_t k, size_t j) noexcept {
  const size_t j0 = j / kNC * kNC, p0 = k / kKC * kKC;
  const size_t width = round_up_to_strip(std::min(kNC, N - j0)), kc = std::min(kKC, K - p0);
  return j0 * K + p0 * width + (j - j0) / kNR * kc * kNR + (k - p0) * kNR + (j - j0) % kNR;
}

void gemm_pack_b(bool trans_b, size_t K, size_t N, const float* B, size_t ldb, float* packed) noexcept {
  for (size_t j0 = 0; j0 < N; j0 += kNC) {
    const size_t nc = std::min(kNC, N - j0);
    for (size_t p0 = 0; p0 < K; p0 += kKC)
      pack_b(trans_b, B, ldb, p0, std::min(kKC, K - p0), j0, nc, packed + j0 * K + p0 * round_up_to_strip(nc));
  }
}

// f32_gemm's loops without the packing: B's panels come ready, A's rows are read in
// place (a kMC x kKC block of A stays in L2 while the strips of a panel stream by).
void f32_gemm_packed(size_t M, size_t N, size_t K, float alpha, const float* A, size_t lda, const float* packed_b,
                     float beta, float* C, size_t ldc) noexcept {
  if (M == 0 || N == 0) return;
  scale_c(M, N, beta, C, ldc);
  if (K == 0 || alpha == 0.0f) return;
  for (size_t j0 = 0; j0 < N; j0 += kNC) {
    const size_t nc = std::min(kNC, N - j0);
    for (size_t p0 = 0; p0 < K; p0 += kKC) {
      const size_t kc = std::min(kKC, K - p0);
      const float* panel = packed_b + j0 * K + p0 * round_up_to_strip(nc);
      for (size_t i0 = 0; i0 < M; i0 += kMC) {
        const size_t mc = std::min(kMC, M - i0);
        for (size_t j = 0; j < nc; j += kNR) {
          const float* b_strip = panel + (j / kNR) * kc * kNR;
          for (size_t i = 0; i < mc; i += kMR) {
            tile(std::min(kMR, mc - i), kc, A + (i0 + i) * lda + p0, lda, 1, b_strip, alpha,
                 C + (i0 + i) * ldc + j0 + j, ldc, std::min(kNR, nc - j));
          }
        }
      }
    }
  }
}

void f32_gemm_batched(size_t batch, bool trans_a, bool trans_b, size_t M, size_t N, size_t K, float alpha,
                      const float* A, size_t lda, size_t stride_a, const float* B, size_t ldb, size_t stride_b,
                      float beta, float* C, size_t ldc, size_t stride_c) noexcept {
  for (size_t i = 0; i < batch; ++i) {
    f32_gemm(trans_a, trans_b, M, N, K, alpha, A + i * stride_a, lda, B + i * stride_b, ldb, beta, C + i * stride_c,
             ldc);
  }
}

}  // namespace attn::kernels
