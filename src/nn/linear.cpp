#include "nn/linear.hpp"

#include <algorithm>

#include "core/init.hpp"
#include "kernels/gemm.hpp"
#include "kernels/reduce.hpp"
#include "ops/ops.hpp"

namespace attn::nn {

Linear::Linear(int64_t in, int64_t out, bool with_bias, Rng& rng) : in_features(in), out_features(out) {
  module_name_ = "Linear";
  ATTN_CHECK(in >= 0 && out >= 0, "Linear: in_features and out_features must be non-negative, got ", in, " and ", out);
  weight = linear_init({out, in}, rng);
  register_parameter("weight", weight);
  if (with_bias) {
    bias = linear_init({out}, rng, in);
    register_parameter("bias", bias);
  }
  parameters_changed();
}

Tensor Linear::forward(const Tensor& x) const { return linear(x, weight, bias, module_name_); }

void Linear::parameters_changed() {
  // Today the GEMM packs its B panels per call; packed_ stays undefined until the
  // prepacked GEMM lands (kernels/gemm.hpp), and forward() reads weight directly.
  packed_ = Tensor();
}

void Linear::forward(float* y, int64_t ldy, const float* x, int64_t ldx, int64_t rows) const noexcept {
  const size_t in = static_cast<size_t>(in_features), out = static_cast<size_t>(out_features);
  const float* w = static_cast<const float*>(weight.raw_data());
  const float* b = bias.defined() ? static_cast<const float*>(bias.raw_data()) : nullptr;
  if (rows == 1) {  // matrix-vector: one contiguous dot product per output
    for (size_t j = 0; j < out; ++j) y[j] = kernels::f32_dot(in, w + j * in, x) + (b ? b[j] : 0.0f);
    return;
  }
  float beta = 0.0f;
  if (b) {
    for (int64_t r = 0; r < rows; ++r) std::copy(b, b + out, y + r * ldy);
    beta = 1.0f;
  } else if (in == 0) {
    for (int64_t r = 0; r < rows; ++r) std::fill(y + r * ldy, y + r * ldy + out, 0.0f);
  }
  kernels::f32_gemm(false, true, static_cast<size_t>(rows), out, in, 1.0f, x, static_cast<size_t>(ldx), w, in, beta, y,
                    static_cast<size_t>(ldy));
}

}  // namespace attn::nn
