#include "attention/positional.hpp"

#include <cmath>

#include "core/rng.hpp"
#include "ops/ops.hpp"

namespace attn {

Tensor sinusoidal_table(int64_t max_len, int64_t d, float base) {
  ATTN_CHECK(max_len >= 0 && d > 0, "sinusoidal_table: max_len must be >= 0 and d > 0, got ", max_len, " and ", d);
  Tensor pe = Tensor::empty({max_len, d}, DType::f32, "sinusoidal_table: table (max_len, d)");
  if (pe.numel() == 0) return pe;  // before the column table below, which is sized by d alone
  // div_term = exp(arange(0, d, 2) * -(log(base) / d)), once per column pair, in double as the reference.
  std::vector<double> div_term((d + 1) / 2);
  for (int64_t i = 0; i < d; i += 2) div_term[i / 2] = std::exp(-static_cast<double>(i) * std::log(double(base)) / d);
  float* out = pe.data();
  for (int64_t pos = 0; pos < max_len; ++pos, out += d)
    for (int64_t i = 0; i < d; i += 2) {
      const double angle = pos * div_term[i / 2];
      out[i] = static_cast<float>(std::sin(angle));
      if (i + 1 < d) out[i + 1] = static_cast<float>(std::cos(angle));
    }
  return pe;
}

Tensor add_sinusoidal(const Tensor& x, int64_t offset) {
  ATTN_CHECK(x.defined() && x.dtype() == DType::f32 && x.dim() >= 2, "add_sinusoidal: x must be float32 (..., L, d)");
  ATTN_CHECK(offset >= 0, "add_sinusoidal: offset must be >= 0, got ", offset);
  const int64_t L = x.size(-2), d = x.size(-1);
  if (x.numel() == 0) return Tensor::empty(x.shape(), DType::f32, "add_sinusoidal");
  return add(x, sinusoidal_table(checked_add(offset, L, "add_sinusoidal: offset + L"), d).slice(0, offset, offset + L));
}

LearnedPositionalEmbedding::LearnedPositionalEmbedding(int64_t max_len_, int64_t d, uint64_t seed)
    : max_len(max_len_), dim(d) {
  module_name_ = "LearnedPositionalEmbedding";
  ATTN_CHECK(max_len > 0 && d > 0, module_name_, ": max_len and d must be positive");
  Rng rng(seed);
  weight = randn({max_len, d}, rng);
  register_parameter("weight", weight);
}

Tensor LearnedPositionalEmbedding::forward(const Tensor& x, int64_t offset) {
  ATTN_CHECK(x.defined() && x.dtype() == DType::f32 && x.dim() >= 2 && x.size(-1) == dim, module_name_,
             ": input must be float32 (..., L, ", dim, "), got ", x.defined() ? x.shape() : Shape{});
  const int64_t L = x.size(-2);
  ATTN_CHECK(offset >= 0 && offset <= max_len - L, module_name_, ": positions [", offset, ", ", offset + L,
             ") exceed max_len ", max_len);
  return add(x, weight.slice(0, offset, offset + L));
}

Tensor apply_rope(const Tensor& x_in, RopeStyle style, int64_t offset, float base) {
  ATTN_CHECK(x_in.defined() && x_in.dtype() == DType::f32 && x_in.dim() >= 2, "apply_rope: x must be float32 (..., L, d)");
  const int64_t L = x_in.size(-2), d = x_in.size(-1);
  ATTN_CHECK(d % 2 == 0, "apply_rope: feature size must be even, got ", d);
  ATTN_CHECK(offset >= 0 && offset <= kMaxNumel, "apply_rope: offset must be in [0, ", kMaxNumel, "], got ", offset);
  Tensor y = Tensor::empty(x_in.shape(), DType::f32, "apply_rope");
  if (y.numel() == 0) return y;  // also d == 0: nothing to rotate
  const Tensor x = x_in.contiguous();
  const int64_t half = d / 2, rows = x.numel() / d;
  std::vector<float> cos_t(L * half), sin_t(L * half);
  for (int64_t l = 0; l < L; ++l)
    for (int64_t i = 0; i < half; ++i) {
      const float inv_freq = static_cast<float>(1.0 / std::pow(double(base), 2.0 * i / d));
      const float angle = static_cast<float>(offset + l) * inv_freq;  // float, as torch computes t * inv_freq
      // cos/sin of the float angle evaluated in double and rounded: correctly rounded in practice,
      // so glibc and Emscripten's musl agree bit for bit (their float cosf/sinf do not).
      cos_t[l * half + i] = static_cast<float>(std::cos(static_cast<double>(angle)));
      sin_t[l * half + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
    }
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t l = r % L;
    const float* a = x.data() + r * d;
    float* b = y.data() + r * d;
    for (int64_t i = 0; i < half; ++i) {
      const float c = cos_t[l * half + i], s = sin_t[l * half + i];
      const int64_t i0 = style == RopeStyle::interleaved ? 2 * i : i;
      const int64_t i1 = style == RopeStyle::interleaved ? 2 * i + 1 : i + half;
      b[i0] = a[i0] * c - a[i1] * s;
      b[i1] = a[i1] * c + a[i0] * s;
    }
  }
  return y;
}

std::vector<float> alibi_slopes(int64_t H) {
  ATTN_CHECK(H > 0 && H <= (int64_t{1} << 24), "alibi_slopes: num_heads must be in [1, 2^24], got ", H);
  auto pow2_slopes = [](int64_t n) {
    std::vector<float> s(n);
    for (int64_t i = 0; i < n; ++i) s[i] = static_cast<float>(std::pow(2.0, -8.0 * (i + 1) / n));
    return s;
  };
  int64_t closest = 1;
  while (closest * 2 <= H) closest *= 2;
  std::vector<float> slopes = pow2_slopes(closest);
  if (closest != H) {
    std::vector<float> extra = pow2_slopes(2 * closest);
    for (int64_t i = 0; static_cast<int64_t>(slopes.size()) < H; i += 2) slopes.push_back(extra[i]);
  }
  return slopes;
}

Tensor alibi_bias(int64_t H, int64_t L, int64_t S) {
  ATTN_CHECK(H > 0, "alibi_bias: num_heads must be positive, got ", H);
  ATTN_CHECK(L >= 0 && S >= 0, "alibi_bias: L and S must be >= 0, got ", L, " and ", S);
  // The output first: its size check bounds H before the slopes are allocated.
  Tensor b = Tensor::empty({H, L, S}, DType::f32, "alibi_bias: bias (num_heads, L, S)");
  if (b.numel() == 0) return b;
  const std::vector<float> slopes = alibi_slopes(H);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < L; ++i)
      for (int64_t j = 0; j < S; ++j) b.data()[(h * L + i) * S + j] = -slopes[h] * static_cast<float>(std::llabs(i - j));
  return b;
}

}  // namespace attn
