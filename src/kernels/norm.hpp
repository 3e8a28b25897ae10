// Row normalisations over one contiguous row of n floats.
//   layernorm: y = (x - mean) / sqrt(var + eps) * gamma + beta   (biased var, as torch.nn.LayerNorm)
//   rmsnorm:   y = x / sqrt(mean(x^2) + eps) * gamma              (as torch.nn.RMSNorm / LLaMA)
// gamma and beta may be null (elementwise_affine=False). mean_out / rstd_out,
// when not null, receive the row statistics the backward pass needs.
// In place (x == y) is allowed. n == 0 does nothing.
#pragma once

#include <cstddef>

namespace attn::kernels {

void f32_layernorm(size_t n, const float* x, const float* gamma, const float* beta, float eps, float* y,
                   float* mean_out, float* rstd_out) noexcept;
void f32_layernorm__scalar(size_t n, const float* x, const float* gamma, const float* beta, float eps, float* y,
                           float* mean_out, float* rstd_out) noexcept;
void f32_rmsnorm(size_t n, const float* x, const float* gamma, float eps, float* y, float* rstd_out) noexcept;
void f32_rmsnorm__scalar(size_t n, const float* x, const float* gamma, float eps, float* y, float* rstd_out) noexcept;

}  // namespace attn::kernels
