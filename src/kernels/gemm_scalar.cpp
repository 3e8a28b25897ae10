// Scalar twin of kernels/gemm.cpp: the textbook triple loop with a double
// accumulator. It is the test reference and the benchmark baseline. The packed-B
// twin reads gemm_pack_b's layout element by element (detail::gemm_packed_b_index).
#include "kernels/gemm.hpp"

namespace attn::kernels {

void f32_gemm__scalar(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, float alpha, const float* A, size_t lda,
                      const float* B, size_t ldb, float beta, float* C, size_t ldc) noexcept {
  const size_t depth = alpha == 0.0f ? 0 : K;  // alpha == 0 reads neither A nor B, as in reference BLAS
  for (size_t i = 0; i < M; ++i) {
    for (size_t j = 0; j < N; ++j) {
      double acc = 0.0;
      for (size_t k = 0; k < depth; ++k) {
        const float a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        acc += double(a) * b;
      }
      float& c = C[i * ldc + j];
      c = static_cast<float>(alpha * acc) + (beta == 0.0f ? 0.0f : beta * c);
    }
  }
}

void f32_gemm_packed__scalar(size_t M, size_t N, size_t K, float alpha, const float* A, size_t lda,
                             const float* packed_b, float beta, float* C, size_t ldc) noexcept {
  const size_t depth = alpha == 0.0f ? 0 : K;
  for (size_t i = 0; i < M; ++i) {
    for (size_t j = 0; j < N; ++j) {
      double acc = 0.0;
      for (size_t k = 0; k < depth; ++k)
        acc += double(A[i * lda + k]) * packed_b[detail::gemm_packed_b_index(K, N, k, j)];
      float& c = C[i * ldc + j];
      c = static_cast<float>(alpha * acc) + (beta == 0.0f ? 0.0f : beta * c);
    }
  }
}

void f32_gemm_batched__scalar(size_t batch, bool trans_a, bool trans_b, size_t M, size_t N, size_t K, float alpha,
                              const float* A, size_t lda, size_t stride_a, const float* B, size_t ldb, size_t stride_b,
                              float beta, float* C, size_t ldc, size_t stride_c) noexcept {
  for (size_t i = 0; i < batch; ++i) {
    f32_gemm__scalar(trans_a, trans_b, M, N, K, alpha, A + i * stride_a, lda, B + i * stride_b, ldb, beta,
                     C + i * stride_c, ldc);
  }
}

}  // namespace attn::kernels
