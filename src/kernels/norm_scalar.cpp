// Scalar twins of kernels/norm.cpp (test reference; not auto-vectorised).
#include <cmath>

#include "kernels/norm.hpp"

namespace attn::kernels {

void f32_layernorm__scalar(size_t n, const float* x, const float* gamma, const float* beta, float eps, float* y,
                           float* mean_out, float* rstd_out) noexcept {
  if (n == 0) return;
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += x[i];
  const float mean = static_cast<float>(sum / n);
  double sq = 0.0;
  for (size_t i = 0; i < n; ++i) sq += (x[i] - mean) * double(x[i] - mean);
  const float rstd = 1.0f / std::sqrt(static_cast<float>(sq / n) + eps);
  for (size_t i = 0; i < n; ++i) {
    y[i] = (x[i] - mean) * rstd * (gamma ? gamma[i] : 1.0f) + (beta ? beta[i] : 0.0f);
  }
  if (mean_out) *mean_out = mean;
  if (rstd_out) *rstd_out = rstd;
}

void f32_rmsnorm__scalar(size_t n, const float* x, const float* gamma, float eps, float* y, float* rstd_out) noexcept {
  if (n == 0) return;
  double sq = 0.0;
  for (size_t i = 0; i < n; ++i) sq += x[i] * double(x[i]);
  const float rstd = 1.0f / std::sqrt(static_cast<float>(sq / n) + eps);
  for (size_t i = 0; i < n; ++i) y[i] = x[i] * rstd * (gamma ? gamma[i] : 1.0f);
  if (rstd_out) *rstd_out = rstd;
}

}  // namespace attn::kernels
