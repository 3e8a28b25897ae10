#include "core/rng.hpp"

#include <cmath>

namespace attn {

Rng::Rng(uint64_t seed, uint64_t stream) : state_(0), inc_((stream << 1u) | 1u) {
  next_u32();
  state_ += seed;
  next_u32();
}

uint32_t Rng::next_u32() {
  uint64_t old = state_;
  state_ = old * 6364136223846793005ULL + inc_;
  uint32_t xorshifted = static_cast<uint32_t>(((old >> 18u) ^ old) >> 27u);
  uint32_t rot = static_cast<uint32_t>(old >> 59u);
  return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

float Rng::uniform() { return static_cast<float>(next_u32() >> 8) * (1.0f / 16777216.0f); }

float Rng::uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }

float Rng::normal(float mean, float stddev) {
  double z;
  if (has_spare_) {
    has_spare_ = false;
    z = spare_normal_;
  } else {
    // u1 in (0, 1] so the log is finite; u2 in [0, 1).
    double u1 = (static_cast<double>(next_u32() >> 8) + 1.0) / 16777216.0;
    double u2 = static_cast<double>(next_u32() >> 8) / 16777216.0;
    double r = std::sqrt(-2.0 * std::log(u1));
    double theta = 6.283185307179586 * u2;
    z = r * std::cos(theta);
    spare_normal_ = r * std::sin(theta);
    has_spare_ = true;
  }
  return static_cast<float>(mean + stddev * z);
}

uint32_t Rng::below(uint32_t n) {
  ATTN_CHECK(n > 0, "rng: below(n) needs n > 0");
  uint32_t threshold = (0u - n) % n;  // 2^32 mod n: reject the biased low range
  for (;;) {
    uint32_t r = next_u32();
    if (r >= threshold) return r % n;
  }
}

Tensor randn(const Shape& shape, Rng& rng) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = rng.normal();
  return t;
}

Tensor rand_uniform(const Shape& shape, Rng& rng, float lo, float hi) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = rng.uniform(lo, hi);
  return t;
}

}  // namespace attn
