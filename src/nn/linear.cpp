#include "nn/linear.hpp"

#include <algorithm>
#include <cstdint>

#include "core/init.hpp"
#include "core/size.hpp"
#include "kernels/gemm.hpp"
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
  const size_t in = static_cast<size_t>(in_features), out = static_cast<size_t>(out_features);
  ATTN_CHECK(weight.is_contiguous(), "Linear: weight must be contiguous to be packed");
  // The packed count is at most one strip of padding per input feature above in * out,
  // which the weight's own allocation already passed; SIZE_MAX says it does not fit size_t.
  const size_t floats = kernels::gemm_packed_b_floats(in, out);
  ATTN_CHECK(floats != SIZE_MAX && floats <= static_cast<size_t>(kMaxNumel), "Linear: the packed weight for ",
             out_features, " x ", in_features, " is too large");
  if (!packed_.defined() || packed_.numel() != static_cast<int64_t>(floats))
    packed_ = Tensor::empty({static_cast<int64_t>(floats)}, DType::f32, "Linear: packed weight");
  kernels::gemm_pack_b(/*trans_b=*/true, in, out, weight.data(), in, packed_.data());
}

void Linear::forward(float* y, int64_t ldy, const float* x, int64_t ldx, int64_t rows) const noexcept {
  const size_t out = static_cast<size_t>(out_features);
  const float* b = bias.defined() ? static_cast<const float*>(bias.raw_data()) : nullptr;
  if (b)
    for (int64_t r = 0; r < rows; ++r) std::copy(b, b + out, y + r * ldy);
  kernels::f32_gemm_packed(static_cast<size_t>(rows), out, static_cast<size_t>(in_features), 1.0f, x,
                           static_cast<size_t>(ldx), static_cast<const float*>(packed_.raw_data()), b ? 1.0f : 0.0f,
                           y, static_cast<size_t>(ldy));
}

}  // namespace attn::nn
