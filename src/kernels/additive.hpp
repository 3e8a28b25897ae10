// The inner loop of additive (Bahdanau) attention: score = sum_i v[i] * tanh(q[i] + k[i]).
#pragma once

#include <cstddef>

namespace attn::kernels {

float f32_additive_score(size_t n, const float* q, const float* k, const float* v);
float f32_additive_score__scalar(size_t n, const float* q, const float* k, const float* v);

}  // namespace attn::kernels
