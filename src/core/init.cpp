#include "core/init.hpp"

#include <cmath>

namespace attn {

Tensor linear_init(const Shape& shape, Rng& rng, int64_t fan_in) {
  if (fan_in < 0) fan_in = shape.size() >= 2 ? shape[1] : shape[0];
  const float bound = 1.0f / std::sqrt(static_cast<float>(std::max<int64_t>(fan_in, 1)));
  return rand_uniform(shape, rng, -bound, bound);
}

namespace {
std::pair<double, double> fans(const Shape& shape) {
  if (shape.size() < 2) return {double(shape.at(0)), double(shape.at(0))};
  double receptive = 1;
  for (size_t i = 2; i < shape.size(); ++i) receptive *= shape[i];
  return {shape[1] * receptive, shape[0] * receptive};
}
}  // namespace

Tensor xavier_uniform(const Shape& shape, Rng& rng) {
  auto [in, out] = fans(shape);
  const float a = static_cast<float>(std::sqrt(6.0 / (in + out)));
  return rand_uniform(shape, rng, -a, a);
}

Tensor xavier_normal(const Shape& shape, Rng& rng) {
  auto [in, out] = fans(shape);
  Tensor t = randn(shape, rng);
  const float std = static_cast<float>(std::sqrt(2.0 / (in + out)));
  float* p = t.data();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] *= std;
  return t;
}

}  // namespace attn
