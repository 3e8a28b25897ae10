#include "kernels/norm.hpp"

#include <cmath>

#include "kernels/reduce.hpp"
#include "kernels/simd.hpp"

namespace attn::kernels {

namespace {
// y = (x - shift) * scale * gamma + beta, batch-wise.
void affine(size_t n, const float* x, float shift, float scale, const float* gamma, const float* beta,
            float* y) noexcept {
  const Batch vs(shift), vk(scale);
  size_t i = 0;
  auto body = [&](const Batch& xv, const Batch& g, const Batch& b) { return (xv - vs) * vk * g + b; };
  for (; i + kW <= n; i += kW) {
    Batch g = gamma ? Batch::load_unaligned(gamma + i) : Batch(1.0f);
    Batch b = beta ? Batch::load_unaligned(beta + i) : Batch(0.0f);
    body(Batch::load_unaligned(x + i), g, b).store_unaligned(y + i);
  }
  if (i < n) {
    size_t r = n - i;
    Batch g = gamma ? load_partial(gamma + i, r) : Batch(1.0f);
    Batch b = beta ? load_partial(beta + i, r) : Batch(0.0f);
    store_partial(y + i, r, body(load_partial(x + i, r), g, b));
  }
}
}  // namespace

void f32_layernorm(size_t n, const float* x, const float* gamma, const float* beta, float eps, float* y,
                   float* mean_out, float* rstd_out) noexcept {
  if (n == 0) return;
  const float mean = f32_sum(n, x) / static_cast<float>(n);
  // Two-pass variance: sum((x - mean)^2), more accurate than E[x^2] - mean^2.
  const Batch vm(mean);
  Batch acc(0.0f);
  size_t i = 0;
  for (; i + kW <= n; i += kW) {
    Batch d = Batch::load_unaligned(x + i) - vm;
    acc += d * d;
  }
  if (i < n) {
    Batch d = load_partial(x + i, n - i, mean) - vm;  // padding lanes give d = 0
    acc += d * d;
  }
  const float var = hsum(acc) / static_cast<float>(n);
  const float rstd = 1.0f / std::sqrt(var + eps);
  affine(n, x, mean, rstd, gamma, beta, y);
  if (mean_out) *mean_out = mean;
  if (rstd_out) *rstd_out = rstd;
}

void f32_rmsnorm(size_t n, const float* x, const float* gamma, float eps, float* y, float* rstd_out) noexcept {
  if (n == 0) return;
  const float ms = f32_dot(n, x, x) / static_cast<float>(n);
  const float rstd = 1.0f / std::sqrt(ms + eps);
  affine(n, x, 0.0f, rstd, gamma, nullptr, y);
  if (rstd_out) *rstd_out = rstd;
}

}  // namespace attn::kernels
