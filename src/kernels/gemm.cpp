#include "kernels/gemm.hpp"

#include <algorithm>
#include <cstdlib>

#include "kernels/simd.hpp"

namespace attn::kernels {

namespace {
constexpr size_t kMR = 4;       // rows of C per micro-tile
constexpr size_t kNR = 2 * kW;  // cols of C per micro-tile (two vectors)
constexpr size_t kKC = 256;     // depth of a packed panel
constexpr size_t kMC = 128;     // rows of A packed at once (kMC*kKC floats ~ 128 KB, fits L2)
constexpr size_t kNC = 1024;    // cols of B packed at once

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
// Rows past mc are zero so the micro-kernel never branches on edges.
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

// Packs op(B)[p0:p0+kc, j0:j0+nc] into strips of kNR columns.
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

// C[0:rows, 0:cols] += alpha * (packed A strip) * (packed B strip), kc deep.
void micro_kernel(size_t kc, const float* a, const float* b, float alpha, float* C, size_t ldc, size_t rows,
                  size_t cols) noexcept {
  Batch c00(0.0f), c01(0.0f), c10(0.0f), c11(0.0f), c20(0.0f), c21(0.0f), c30(0.0f), c31(0.0f);
  for (size_t k = 0; k < kc; ++k) {
    const Batch b0 = Batch::load_aligned(b), b1 = Batch::load_aligned(b + kW);
    const Batch a0(a[0]), a1(a[1]), a2(a[2]), a3(a[3]);
    c00 = xsimd::fma(a0, b0, c00);
    c01 = xsimd::fma(a0, b1, c01);
    c10 = xsimd::fma(a1, b0, c10);
    c11 = xsimd::fma(a1, b1, c11);
    c20 = xsimd::fma(a2, b0, c20);
    c21 = xsimd::fma(a2, b1, c21);
    c30 = xsimd::fma(a3, b0, c30);
    c31 = xsimd::fma(a3, b1, c31);
    a += kMR;
    b += kNR;
  }
  const Batch va(alpha);
  const Batch acc[kMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
  if (rows == kMR && cols == kNR) {
    for (size_t r = 0; r < kMR; ++r) {
      float* row = C + r * ldc;
      xsimd::fma(va, acc[r][0], Batch::load_unaligned(row)).store_unaligned(row);
      xsimd::fma(va, acc[r][1], Batch::load_unaligned(row + kW)).store_unaligned(row + kW);
    }
    return;
  }
  alignas(64) float tile[kMR][kNR];
  for (size_t r = 0; r < kMR; ++r) {
    (va * acc[r][0]).store_aligned(&tile[r][0]);
    (va * acc[r][1]).store_aligned(&tile[r][kW]);
  }
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) C[r * ldc + c] += tile[r][c];
}

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
            micro_kernel(kc, pa + (i / kMR) * kc * kMR, b_strip, alpha, C + (i0 + i) * ldc + j0 + j, ldc,
                         std::min(kMR, mc - i), std::min(kNR, nc - j));
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
