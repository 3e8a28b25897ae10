#include "attention/squeeze_excitation.hpp"

#include "core/init.hpp"
#include "kernels/elementwise.hpp"
#include "ops/ops.hpp"
#include "kernels/reduce.hpp"

namespace attn {

namespace {
int64_t checked_hidden(int64_t channels, int64_t reduction) {
  const char* what = "SqueezeExcitation";
  ATTN_CHECK(channels > 0, what, ": channels must be positive, got ", channels);
  ATTN_CHECK(reduction > 0 && reduction <= channels, what, ": reduction must be in [1, channels=", channels,
             "], got ", reduction);
  return channels / reduction;
}
}  // namespace

SqueezeExcitation::SqueezeExcitation(int64_t channels_, int64_t reduction, uint64_t seed)
    : channels(channels_),
      hidden(checked_hidden(channels_, reduction)),
      init_rng_(seed),
      fc1(channels, hidden, false, init_rng_),
      fc2(hidden, channels, false, init_rng_) {
  module_name_ = "SqueezeExcitation";
  // nn.Sequential(Linear, ReLU, Linear, Sigmoid): the Linears are children "0" and "2" of "fc".
  fc_.add("0", fc1);
  fc_.add("2", fc2);
  register_module("fc", fc_);
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
  const Tensor a = sigmoid(fc2.forward(relu(fc1.forward(squeezed))));
  Tensor y = Tensor::empty(x.shape());
  for (int64_t nc = 0; nc < N * C; ++nc)
    kernels::f32_scale(HW, x.data() + nc * HW, a.data()[nc], y.data() + nc * HW);
  return {y, a};
}

}  // namespace attn
