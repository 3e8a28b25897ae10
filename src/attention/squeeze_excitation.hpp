// Squeeze-and-Excitation channel attention (Hu et al. 2018; seed 002):
//   s = mean over H, W of x                      squeeze: (N, C)
//   a = sigmoid(fc2(relu(fc1(s))))               excitation: fc1 C -> C/r, fc2 C/r -> C, both bias-free
//   y = x * a[:, :, None, None]                  rescale
// Keys as the usual PyTorch SELayer (nn.Sequential): fc.0.weight (C/r, C), fc.2.weight (C, C/r).
// forward(x (N, C, H, W)) -> output (N, C, H, W), weights = the channel weights a (N, C).
#pragma once

#include "attention/engine.hpp"
#include "core/module.hpp"
#include "nn/linear.hpp"

namespace attn {

class SqueezeExcitation : public Module {
 public:
  static constexpr const char* kName = "SqueezeExcitation";
  SqueezeExcitation(int64_t channels, int64_t reduction = 16, uint64_t seed = 0);
  AttentionResult forward(const Tensor& x);

  int64_t channels, hidden;

 private:
  Rng init_rng_;

 public:
  nn::Linear fc1, fc2;

 private:
  ModuleList fc_;  // torch's nn.Sequential keys: "fc.0.weight" (C/r, C), "fc.2.weight" (C, C/r)
};

}  // namespace attn
