// The inner loop of additive (Bahdanau) attention: score = sum_i v[i] * tanh(q[i] + k[i]).
// n == 0 gives 0; NaN propagates. The scalar twin accumulates in double.
#pragma once

#include <cstddef>

namespace attn::kernels {

float f32_additive_score(size_t n, const float* q, const float* k, const float* v) noexcept;
float f32_additive_score__scalar(size_t n, const float* q, const float* k, const float* v) noexcept;

}  // namespace attn::kernels
