// Scalar twin of kernels/transpose.cpp (test reference).
#include "kernels/transpose.hpp"

namespace attn::kernels {

void f32_transpose__scalar(size_t rows, size_t cols, const float* src, size_t ld_src, float* dst,
                           size_t ld_dst) noexcept {
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) dst[c * ld_dst + r] = src[r * ld_src + c];
}

}  // namespace attn::kernels
