// dst (cols x rows, leading dim ld_dst) = transpose of src (rows x cols, leading dim ld_src).
// Not in place.
#pragma once

#include <cstddef>

namespace attn::kernels {

void f32_transpose(size_t rows, size_t cols, const float* src, size_t ld_src, float* dst, size_t ld_dst) noexcept;
void f32_transpose__scalar(size_t rows, size_t cols, const float* src, size_t ld_src, float* dst,
                           size_t ld_dst) noexcept;

}  // namespace attn::kernels
