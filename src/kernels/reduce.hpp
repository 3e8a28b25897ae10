// Reductions over one contiguous array of n floats.
// sum/dot of n == 0 is 0; max of n == 0 is -inf; argmax of n == 0 is 0 (callers check n).
// max and argmax propagate NaN like torch.max/argmax: a NaN is the maximum.
#pragma once

#include <cstddef>

namespace attn::kernels {

float f32_sum(size_t n, const float* x);
float f32_sum__scalar(size_t n, const float* x);
float f32_max(size_t n, const float* x);
float f32_max__scalar(size_t n, const float* x);
float f32_mean(size_t n, const float* x);  // f32_sum / n
size_t f32_argmax(size_t n, const float* x);  // first index of the maximum
size_t f32_argmax__scalar(size_t n, const float* x);
float f32_dot(size_t n, const float* a, const float* b);
float f32_dot__scalar(size_t n, const float* a, const float* b);

}  // namespace attn::kernels
