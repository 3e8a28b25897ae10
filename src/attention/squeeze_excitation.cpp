#include "attention/squeeze_excitation.hpp"

#include "attention/init.hpp"
#include "kernels/elementwise.hpp"
#include "ops/ops.hpp"
#include "kernels/reduce.hpp"

namespace attn {

SqueezeExcitation::SqueezeExcitation(int64_t channels_, int64_t reduction, uint64_t seed) : channels(channels_) {
  module_name_ = "SqueezeExcitation";
  ATTN_CHECK(channels > 0, module_name_, ": channels must be positive, got ", channels);
  ATTN_CHECK(reduction > 0 && reduction <= channels, module_name_, ": reduction must be in [1, channels=", channels,
             "], got ", reduction);
  hidden = channels / reduction;
  Rng rng(seed);
  fc1_weight = linear_init({hidden, channels}, rng);
  fc2_weight = linear_init({channels, hidden}, rng);
}

std::vector<std::pair<std::string, Tensor*>> SqueezeExcitation::named_parameters() {
  return {{"fc.0.weight", &fc1_weight}, {"fc.2.weight", &fc2_weight}};
}

AttentionResult SqueezeExcitation::forward(const Tensor& x_in) {
  const char* what = module_name_;
  ATTN_CHECK(x_in.defined() && x_in.dtype() == DType::f32, what, ": input must be a float32 tensor");
  ATTN_CHECK(x_in.dim() == 4, what, ": input must be (N, C, H, W), got ", x_in.shape());
  ATTN_CHECK(x_in.size(1) == channels, what, ": input has ", x_in.size(1), " channels but the module has ", channels);
  check_finite_or_inf(x_in, "SqueezeExcitation: input");
  const Tensor x = x_in.contiguous();
  const int64_t N = x.size(0), C = channels, HW = x.size(2) * x.size(3);
  ATTN_CHECK(HW > 0, what, ": input has an empty spatial extent ", x.shape());
  const Tensor squeezed = mean_last(x.reshape({N, C, HW}));                               // (N, C)
  const Tensor a = sigmoid(linear(relu(linear(squeezed, fc1_weight, Tensor(), what)), fc2_weight, Tensor(), what));
  Tensor y = Tensor::empty(x.shape());
  for (int64_t nc = 0; nc < N * C; ++nc)
    kernels::f32_scale(HW, x.data() + nc * HW, a.data()[nc], y.data() + nc * HW);
  return {y, a};
}

}  // namespace attn
