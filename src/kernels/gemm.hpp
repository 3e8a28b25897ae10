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
//
// Pre-packed B, for a B that is used many times (nn::Linear's weight): pack op(B)
// once with gemm_pack_b into gemm_packed_b_floats(K, N) floats, then every
// f32_gemm_packed call reads those panels directly (no per-call packing, no scratch,
// no allocation). The layout is the panels f32_gemm builds per call (blocks of 1024
// columns x 256 deep, strips of 2 SIMD vectors of columns, zero-padded); it depends on
// the SIMD width, so a packed buffer belongs to the build that packed it (pack at load
// time, never store it in a file). f32_gemm_packed runs A's rows in place, 1 to 4 at a
// time, so M == 1 is a vector x panel product along the strips (the decode matvec) and
// a tail of M % 4 rows costs no padded work. A is not transposed (row-major M x K).
//
//   std::vector<float> packed(gemm_packed_b_floats(K, N));
//   gemm_pack_b(/*trans_b=*/true, K, N, W, K, packed.data());  // W (N x K): op(B) = W^T
//   f32_gemm_packed(M, N, K, 1.0f, x, K, packed.data(), 0.0f, y, N);  // y = x W^T
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

// Floats gemm_pack_b writes for op(B) of K x N; SIZE_MAX if that count does not fit in
// size_t (callers still check the bytes against their budget, core/size.hpp).
size_t gemm_packed_b_floats(size_t K, size_t N) noexcept;
// op(B) (K x N; B as stored is K x N, or N x K with trans_b) into the packed layout.
// `packed` needs gemm_packed_b_floats(K, N) floats, any alignment (64-byte aligned, as
// Tensor storage is, keeps wide vector loads from straddling cache lines); B is read, not kept.
void gemm_pack_b(bool trans_b, size_t K, size_t N, const float* B, size_t ldb, float* packed) noexcept;

// C (M x N) = alpha * A (M x K) * op(B) + beta * C, op(B) given packed by gemm_pack_b
// with the same K and N. beta and alpha as f32_gemm.
void f32_gemm_packed(size_t M, size_t N, size_t K, float alpha, const float* A, size_t lda, const float* packed_b,
                     float beta, float* C, size_t ldc) noexcept;
void f32_gemm_packed__scalar(size_t M, size_t N, size_t K, float alpha, const float* A, size_t lda,
                             const float* packed_b, float beta, float* C, size_t ldc) noexcept;

namespace detail {
// Where gemm_pack_b puts op(B)[k][j]: the scalar twin reads the layout through this.
size_t gemm_packed_b_index(size_t K, size_t N, size_t k, size_t j) noexcept;
}  // namespace detail

}  // namespace attn::kernels
