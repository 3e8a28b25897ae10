#include "kernels/softmax.hpp"

#include <cmath>
#include <limits>

#include "kernels/simd.hpp"

namespace attn::kernels {

namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

inline Batch load_keep(const uint8_t* keep, size_t n) noexcept {
  alignas(64) float buf[kW];
  for (size_t j = 0; j < kW; ++j) buf[j] = j < n && keep[j] ? 1.0f : 0.0f;
  return Batch::load_aligned(buf);
}

// Pass 1: y = masked, scaled x; returns max(y) (NaN-skipping; NaNs still poison the sum later).
float masked_scores(size_t n, const float* x, float scale, const float* add_mask, const uint8_t* keep,
                    float* y) noexcept {
  const Batch s(scale), ninf(kNegInf);
  Batch vmax(kNegInf);
  size_t i = 0;
  for (; i + kW <= n; i += kW) {
    Batch z = Batch::load_unaligned(x + i) * s;
    if (add_mask) z += Batch::load_unaligned(add_mask + i);
    if (keep) z = xsimd::select(load_keep(keep + i, kW) != Batch(0.0f), z, ninf);
    vmax = xsimd::max(vmax, z);
    z.store_unaligned(y + i);
  }
  float m = hmax(vmax);
  for (; i < n; ++i) {  // tail: element-wise ops are exact, so scalar here matches the batch path bit for bit
    float z = x[i] * scale;
    if (add_mask) z += add_mask[i];
    if (keep && !keep[i]) z = kNegInf;
    m = z > m ? z : m;
    y[i] = z;
  }
  return m;
}

// Pass 2: y = exp(y - m), returns sum(y).
float exp_shift_sum(size_t n, float m, float* y) noexcept {
  const Batch vm(m);
  Batch acc(0.0f);
  size_t i = 0;
  for (; i + kW <= n; i += kW) {
    Batch e = exp_batch(Batch::load_unaligned(y + i) - vm);
    acc += e;
    e.store_unaligned(y + i);
  }
  float sum = hsum(acc);
  if (i < n) {
    Batch e = exp_batch(load_partial(y + i, n - i, kNegInf) - vm);  // padding lanes give exp(-inf) = 0
    sum += hsum(e);
    store_partial(y + i, n - i, e);
  }
  return sum;
}
}  // namespace

void f32_softmax(size_t n, const float* x, float scale, const float* add_mask, const uint8_t* keep, float* y) noexcept {
  if (n == 0) return;
  float m = masked_scores(n, x, scale, add_mask, keep, y);
  float inv = 1.0f / exp_shift_sum(n, m, y);
  const Batch vinv(inv);
  map_unary(n, y, y, [&](const Batch& v) { return v * vinv; });
}

void f32_log_softmax(size_t n, const float* x, float scale, const float* add_mask, const uint8_t* keep,
                     float* y) noexcept {
  if (n == 0) return;
  float m = masked_scores(n, x, scale, add_mask, keep, y);
  // Sum exp(z - m) without overwriting y: a batch at a time through a scratch register.
  const Batch vm(m);
  Batch acc(0.0f);
  size_t i = 0;
  for (; i + kW <= n; i += kW) acc += exp_batch(Batch::load_unaligned(y + i) - vm);
  float sum = hsum(acc);
  if (i < n) sum += hsum(exp_batch(load_partial(y + i, n - i, kNegInf) - vm));
  const Batch shift(m + std::log(sum));
  map_unary(n, y, y, [&](const Batch& v) { return v - shift; });
}

}  // namespace attn::kernels
