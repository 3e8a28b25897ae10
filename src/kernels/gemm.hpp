// GEMM on row-major float matrices, BLAS-style:
//   C (M x N) = alpha * op(A) (M x K) * op(B) (K x N) + beta * C
// op(X) is X or X^T (trans_a / trans_b), so A*B, A*B^T and A^T*B are one call.
// lda/ldb/ldc are row strides in elements of the matrices as stored.
// beta == 0 overwrites C without reading it (NaN in C does not leak through);
// alpha == 0 reads neither A nor B (C = beta * C), as in BLAS.
//
// f32_gemm packs panels of A (128 rows x 256 deep) and B (256 deep x 1024 columns)
// and runs a register-blocked micro-kernel (4 rows x 2 SIMD vectors of columns);
// f32_gemm__scalar is the naive triple loop (double accumulator) beside it.
// f32_gemm keeps thread-local pack buffers (at most ~1.1 MB) and allocates only
// when a call needs a bigger panel than any call before; it never throws (if that
// allocation fails it falls back to the scalar loop). C must not alias A or B.
#pragma once

#include <cstddef>

namespace attn::kernels {

void f32_gemm(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, float alpha, const float* A, size_t lda,
              const float* B, size_t ldb, float beta, float* C, size_t ldc) noexcept;
void f32_gemm__scalar(bool trans_a, bool trans_b, size_t M, size_t N, size_t K, float alpha, const float* A, size_t lda,
                      const float* B, size_t ldb, float beta, float* C, size_t ldc) noexcept;

// `batch` independent GEMMs; the i-th uses A + i*stride_a, B + i*stride_b, C + i*stride_c.
// A stride of 0 shares one matrix across the batch (broadcast).
void f32_gemm_batched(size_t batch, bool trans_a, bool trans_b, size_t M, size_t N, size_t K, float alpha,
                      const float* A, size_t lda, size_t stride_a, const float* B, size_t ldb, size_t stride_b,
                      float beta, float* C, size_t ldc, size_t stride_c) noexcept;
void f32_gemm_batched__scalar(size_t batch, bool trans_a, bool trans_b, size_t M, size_t N, size_t K, float alpha,
                              const float* A, size_t lda, size_t stride_a, const float* B, size_t ldb, size_t stride_b,
                              float beta, float* C, size_t ldc, size_t stride_c) noexcept;

}  // namespace attn::kernels
