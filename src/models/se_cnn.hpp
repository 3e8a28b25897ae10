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
// map; forward(x, sink) computes them straight into sink->destination(i, AttentionKind::self,
// N, 1, 1, C) (the sigmoid runs in place there), or into arena scratch without a sink.
//
// Memory (eval mode, a loaded model): every activation lives in one Arena planned at
// construction for max_batch images of up to max_height x max_width (sizes checked in 64 bits
// before anything is allocated): the stem's output, each block's conv1 / conv2 / downsample
// outputs at that block's resolution, one im2col buffer for the largest conv, the SE and head
// vectors. The layers' pointer forwards (nn/conv.hpp, nn::Linear) run on it, so the pointer
// forward allocates nothing and the Tensor forward only allocates its result. The Tensor
// forward takes any batch size, in slices of max_batch images (in eval mode the images are
// independent, so the numbers do not depend on the slicing). Training mode (BatchNorm's batch
// statistics span the whole batch) runs the layers' allocating Tensor forwards instead.
#pragma once

#include <memory>
#include <vector>

#include "attention/capture.hpp"
#include "attention/squeeze_excitation.hpp"
#include "core/arena.hpp"
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
  // The activation arena's plan: forward takes inputs of at most max_height x max_width, and
  // the pointer forward at most max_batch images (the Tensor forward slices larger batches).
  int64_t max_batch = 1;
  int64_t max_height = 28, max_width = 28;
};

class SEBasicBlock : public Module {
 public:
  SEBasicBlock(int64_t in_channels, int64_t out_channels, int64_t stride, int64_t reduction, uint64_t seed);
  // x (N, C_in, H, W) -> (N, C_out, H/s, W/s); the SE weights (N, C_out) go to *se_weights.
  // The allocating path (training mode).
  Tensor forward(const Tensor& x, Tensor* se_weights);

  // The eval pointer path into the slots plan() added: x (N, C_in, H, W) with N <= B, H <= the
  // planned height and width -> the block's output (N, C_out, OH, OW) in its conv2 slot. The
  // SE weights (N, C_out) are computed in se_w; cols, squeeze (N, C_out) and hidden (N, C_out /
  // reduction) are scratch.
  const float* forward(const float* x, int64_t N, int64_t H, int64_t W, float* se_w, float* cols, float* squeeze,
                       float* hidden) noexcept;
  // Adds this block's activation slots for B images of H x W to `arena`; returns (OH, OW) and
  // raises *cols to the im2col floats its convs need. Throws (checked sizes) before any allocation.
  nn::Size2 plan(Arena& arena, const std::string& prefix, int64_t B, int64_t H, int64_t W, int64_t* cols);
  // (OH, OW) for an H x W input: every conv of the block is 3x3 padding 1 or 1x1 padding 0, stride s.
  int64_t out_size(int64_t in) const noexcept { return (in - 1) / stride + 1; }

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

  // Arena slots (B, C_out, OH, OW): conv1 -> bn1 -> relu; conv2 -> bn2 -> se -> + shortcut ->
  // relu (the block's output); the downsample branch (only with down_conv_).
  Tensor conv1_out_, conv2_out_, down_out_;
};

class SECNN : public Module {
 public:
  explicit SECNN(const SECNNConfig& config = {});
  // x (N, C_in, H, W), 1 <= H <= max_height, 1 <= W <= max_width -> logits (N, num_classes).
  Tensor forward(const Tensor& x, AttentionSink* sink = nullptr);
  // The pointer API (eval semantics): x (N, C_in, H, W) contiguous, 1 <= N <= max_batch. Returns
  // the logits (N, num_classes) in the arena, valid until the next call. Throws before computing
  // anything if a size is out of range or x holds a NaN; without a sink it allocates nothing.
  const float* forward(const float* x, int64_t N, int64_t H, int64_t W, AttentionSink* sink = nullptr);

  const Arena& activations() const { return acts_; }

  const SECNNConfig config;

 private:
  Rng init_rng_;  // before the layers that draw from it

 public:
  nn::Conv2d conv1;
  nn::BatchNorm2d bn1;
  ModuleList blocks;  // SEBasicBlock each
  nn::AdaptiveAvgPool2d pool;
  nn::Linear fc;

 private:
  // Throws naming `what` unless 1 <= H <= max_height and 1 <= W <= max_width.
  void check_size(int64_t H, int64_t W, const char* what) const;
  // Asks the sink (may be null) for every block's SE destination for a batch of N.
  void ask_sink(AttentionSink* sink, int64_t N);
  // The eval forward of images [row0, row0 + n) of a batch (n <= max_batch) into logits_;
  // block i's SE weights go to se_dest_[i] + row0 * C_i when the sink gave one, else se_w_.
  void run(const float* x, int64_t n, int64_t H, int64_t W, int64_t row0) noexcept;

  std::vector<SEBasicBlock*> blocks_;
  std::vector<float*> se_dest_;  // per block, set by ask_sink (sized at construction)

  // The arena (B = max_batch, Hm x Wm = max_height x max_width; each block plans its own slots).
  Tensor stem_;     // (B, C_stem, Hm, Wm) conv1 -> bn1 -> relu
  Tensor cols_;     // im2col scratch of the largest conv
  Tensor squeeze_;  // (B, C_max) SE squeeze
  Tensor hidden_;   // (B, C_max / reduction) SE hidden layer
  Tensor se_w_;     // (B, C_max) SE weights when no sink takes them
  Tensor pooled_;   // (B, C_last) global average pool
  Tensor logits_;   // (B, num_classes)
  Arena acts_;
};

}  // namespace attn
