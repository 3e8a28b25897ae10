// Reductions over one contiguous array of n floats.
// sum/dot of n == 0 is 0; mean of n == 0 is NaN (as torch.mean of an empty tensor);
// max of n == 0 is -inf; argmax of n == 0 is 0 (callers check n).
// max and argmax propagate NaN like torch.max/argmax: a NaN is the maximum.
// The SIMD versions accumulate in float across several vector lanes (error grows
// like sqrt(n) * eps * sum|x|); the scalar twins accumulate in double.
#pragma once

#include <cstddef>

namespace attn::kernels {

float f32_sum(size_t n, const float* x) noexcept;
float f32_sum__scalar(size_t n, const float* x) noexcept;
float f32_max(size_t n, const float* x) noexcept;
float f32_max__scalar(size_t n, const float* x) noexcept;
float f32_mean(size_t n, const float* x) noexcept;  // sum / n
float f32_mean__scalar(size_t n, const float* x) noexcept;
size_t f32_argmax(size_t n, const float* x) noexcept;  // first index of the maximum
size_t f32_argmax__scalar(size_t n, const float* x) noexcept;
float f32_dot(size_t n, const float* a, const float* b) noexcept;
float f32_dot__scalar(size_t n, const float* a, const float* b) noexcept;

}  // namespace attn::kernels
