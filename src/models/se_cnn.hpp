// SE-CNN: a small ResNet-style image classifier whose residual blocks carry seed
// 002's Squeeze-and-Excitation channel attention (Hu et al. 2018, "Squeeze-and-
// Excitation Networks", the SE-ResNet basic block of their Fig. 3), sized for
// 1x28x28 Fashion-MNIST images.
//
//   x (N, C_in, H, W)
//   -> conv1 3x3 (no bias) -> bn1 -> relu                                   stem, C_stem channels
//   -> blocks[i]: conv1 3x3 stride s -> bn1 -> relu -> conv2 3x3 -> bn2 -> se
//                 + shortcut (identity, or downsample = 1x1 conv stride s -> bn) -> relu
//                 (s = 2 where a block changes the channel count, else 1)
//   -> global average pool -> fc                                              logits (N, num_classes)
//
// Keys are those of the PyTorch twin in scripts/fixtures/rnn_cnn.py (class SECNN):
//   conv1.weight, bn1.{weight,bias,running_mean,running_var,num_batches_tracked},
//   blocks.{i}.conv1/bn1/conv2/bn2, blocks.{i}.se.fc.0.weight (C/r, C), blocks.{i}.se.fc.2.weight (C, C/r),
//   blocks.{i}.downsample.0.weight (1x1 conv), blocks.{i}.downsample.1.* (bn), fc.weight, fc.bias.
//
// Attention capture: each block's SE channel weights a (N, C) are the block's attention
// map; forward(x, sink) writes them to sink->destination(i, AttentionKind::self, N, 1, 1, C).
// The layers are the allocating nn/conv.hpp ones (one allocation per layer per forward).
#pragma once

#include <memory>
#include <vector>

#include "attention/capture.hpp"
#include "attention/squeeze_excitation.hpp"
#include "core/module.hpp"
#include "nn/conv.hpp"
#include "nn/linear.hpp"

namespace attn {

struct SECNNConfig {
  int64_t in_channels = 1;
  int64_t num_classes = 10;
  int64_t stem_channels = 8;
  std::vector<int64_t> block_channels = {8, 16};  // one SE basic block each
  int64_t reduction = 4;                          // SE hidden size = C / reduction
  uint64_t seed = 0;
};

class SEBasicBlock : public Module {
 public:
  SEBasicBlock(int64_t in_channels, int64_t out_channels, int64_t stride, int64_t reduction, uint64_t seed);
  // x (N, C_in, H, W) -> (N, C_out, H/s, W/s); the SE weights (N, C_out) go to *se_weights.
  Tensor forward(const Tensor& x, Tensor* se_weights);

  const int64_t in_channels, out_channels, stride;
  nn::Conv2d conv1;
  nn::BatchNorm2d bn1;
  nn::Conv2d conv2;
  nn::BatchNorm2d bn2;
  SqueezeExcitation se;

 private:
  // Built only when the shortcut must change shape: children "0" (1x1 conv) and "1" (bn).
  std::unique_ptr<nn::Conv2d> down_conv_;
  std::unique_ptr<nn::BatchNorm2d> down_bn_;
  ModuleList downsample_;
};

class SECNN : public Module {
 public:
  explicit SECNN(const SECNNConfig& config = {});
  // x (N, C_in, H, W) -> logits (N, num_classes). H, W >= 1 after every stride-2 block.
  Tensor forward(const Tensor& x, AttentionSink* sink = nullptr);

  const SECNNConfig config;

 private:
  Rng init_rng_;  // before the layers that draw from it

 public:
  nn::Conv2d conv1;
  nn::BatchNorm2d bn1;
  ModuleList blocks;  // SEBasicBlock each
  nn::AdaptiveAvgPool2d pool;
  nn::Linear fc;
};

}  // namespace attn
