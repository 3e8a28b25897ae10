#include "models/se_cnn.hpp"

#include <algorithm>

#include "ops/ops.hpp"

namespace attn {

SEBasicBlock::SEBasicBlock(int64_t cin, int64_t cout, int64_t s, int64_t reduction, uint64_t seed)
    : in_channels(cin),
      out_channels(cout),
      stride(s),
      conv1(cin, cout, 3, s, 1, 1, 1, false, seed),
      bn1(cout),
      conv2(cout, cout, 3, 1, 1, 1, 1, false, seed + 1),
      bn2(cout),
      se(cout, reduction, seed + 2) {
  module_name_ = "SEBasicBlock";
  register_module("conv1", conv1);
  register_module("bn1", bn1);
  register_module("conv2", conv2);
  register_module("bn2", bn2);
  register_module("se", se);
  if (s != 1 || cin != cout) {
    down_conv_ = std::make_unique<nn::Conv2d>(cin, cout, 1, s, 0, 1, 1, false, seed + 3);
    down_bn_ = std::make_unique<nn::BatchNorm2d>(cout);
    downsample_.add("0", *down_conv_);
    downsample_.add("1", *down_bn_);
    register_module("downsample", downsample_);
  }
}

Tensor SEBasicBlock::forward(const Tensor& x, Tensor* se_weights) {
  Tensor out = relu(bn1.forward(conv1.forward(x)));
  AttentionResult r = se.forward(bn2.forward(conv2.forward(out)));
  const Tensor shortcut = down_conv_ ? down_bn_->forward(down_conv_->forward(x)) : x;
  *se_weights = r.weights;
  return relu(add(r.output, shortcut));
}

namespace {
const SECNNConfig& checked(const SECNNConfig& c) {
  ATTN_CHECK(c.in_channels > 0 && c.num_classes > 0 && c.stem_channels > 0, "SECNN: in_channels, num_classes and "
             "stem_channels must be positive, got ", c.in_channels, ", ", c.num_classes, ", ", c.stem_channels);
  ATTN_CHECK(!c.block_channels.empty(), "SECNN: block_channels must name at least one block");
  for (int64_t ch : c.block_channels) {
    ATTN_CHECK(ch > 0, "SECNN: block_channels must be positive, got ", ch);
    ATTN_CHECK(c.reduction > 0 && c.reduction <= ch, "SECNN: reduction must be in [1, ", ch, "] for a block of ", ch,
               " channels, got ", c.reduction);
  }
  return c;
}
}  // namespace

SECNN::SECNN(const SECNNConfig& cfg)
    : config(checked(cfg)),
      init_rng_(cfg.seed),
      conv1(cfg.in_channels, cfg.stem_channels, 3, 1, 1, 1, 1, false, cfg.seed),
      bn1(cfg.stem_channels),
      pool(1),
      fc(cfg.block_channels.back(), cfg.num_classes, true, init_rng_) {
  module_name_ = "SECNN";
  register_module("conv1", conv1);
  register_module("bn1", bn1);
  int64_t c = cfg.stem_channels;
  for (size_t i = 0; i < cfg.block_channels.size(); ++i) {
    const int64_t cout = cfg.block_channels[i];
    blocks.emplace<SEBasicBlock>(c, cout, cout == c ? 1 : 2, cfg.reduction, cfg.seed + 16 * (i + 1));
    c = cout;
  }
  register_module("blocks", blocks);
  register_module("fc", fc);
}

Tensor SECNN::forward(const Tensor& x, AttentionSink* sink) {
  ATTN_CHECK(x.defined() && x.dim() == 4, "SECNN: input must be (N, C, H, W), got ",
             x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  Tensor h = relu(bn1.forward(conv1.forward(x)));
  for (size_t i = 0; i < blocks.size(); ++i) {
    Tensor a;  // (N, C)
    h = static_cast<SEBasicBlock&>(blocks[i]).forward(h, &a);
    if (sink) {
      float* dst = sink->destination(static_cast<int64_t>(i), AttentionKind::self, a.size(0), 1, 1, a.size(1));
      if (dst) std::copy(a.data(), a.data() + a.numel(), dst);
    }
  }
  const Tensor pooled = pool.forward(h);  // (N, C, 1, 1)
  return fc.forward(pooled.reshape({pooled.size(0), pooled.size(1)}));
}

}  // namespace attn
