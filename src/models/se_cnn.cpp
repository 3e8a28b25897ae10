#include "models/se_cnn.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/size.hpp"
#include "kernels/activation.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/reduce.hpp"
#include "nn/functional.hpp"
#include "ops/ops.hpp"

namespace attn {

namespace F = nn::functional;

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

nn::Size2 SEBasicBlock::plan(Arena& arena, const std::string& prefix, int64_t B, int64_t H, int64_t W,
                             int64_t* cols) {
  const nn::Size2 o = conv1.output_size(H, W);
  const Shape shape{B, out_channels, o.h, o.w};
  arena.add(prefix + "conv1", &conv1_out_, shape);
  arena.add(prefix + "conv2", &conv2_out_, shape);
  *cols = std::max({*cols, conv1.cols_floats(H, W), conv2.cols_floats(o.h, o.w)});
  if (down_conv_) {
    arena.add(prefix + "downsample", &down_out_, shape);
    *cols = std::max(*cols, down_conv_->cols_floats(H, W));
  }
  return o;
}

const float* SEBasicBlock::forward(const float* x, int64_t N, int64_t H, int64_t W, float* se_w, float* cols,
                                   float* squeeze, float* hidden) noexcept {
  const int64_t C = out_channels, OH = out_size(H), OW = out_size(W), OHW = OH * OW, NC = N * C;
  float* a = conv1_out_.data();
  conv1.forward(a, x, N, H, W, cols);
  bn1.forward_eval_(a, N, OHW);
  F::relu_forward(a, a, NC * OHW);
  float* y = conv2_out_.data();
  conv2.forward(y, a, N, OH, OW, cols);
  bn2.forward_eval_(y, N, OHW);
  // Squeeze-and-Excitation (attention/squeeze_excitation.hpp's math): the weights are computed
  // in se_w (the sink's destination when capturing), then rescale y in place.
  for (int64_t nc = 0; nc < NC; ++nc) squeeze[nc] = kernels::f32_mean(static_cast<size_t>(OHW), y + nc * OHW);
  se.fc1.forward(hidden, se.hidden, squeeze, C, N);
  F::relu_forward(hidden, hidden, N * se.hidden);
  se.fc2.forward(se_w, C, hidden, se.hidden, N);
  kernels::f32_sigmoid(static_cast<size_t>(NC), se_w, se_w);
  for (int64_t nc = 0; nc < NC; ++nc) kernels::f32_scale(static_cast<size_t>(OHW), y + nc * OHW, se_w[nc], y + nc * OHW);
  const float* shortcut = x;
  if (down_conv_) {
    float* d = down_out_.data();
    down_conv_->forward(d, x, N, H, W, cols);
    down_bn_->forward_eval_(d, N, OHW);
    shortcut = d;
  }
  F::residual_forward(y, y, shortcut, NC * OHW);
  F::relu_forward(y, y, NC * OHW);
  return y;
}

namespace {
constexpr const char* kWhat = "SECNN";

const SECNNConfig& checked(const SECNNConfig& c) {
  ATTN_CHECK(c.in_channels > 0 && c.num_classes > 0 && c.stem_channels > 0, "SECNN: in_channels, num_classes and "
             "stem_channels must be positive, got ", c.in_channels, ", ", c.num_classes, ", ", c.stem_channels);
  ATTN_CHECK(!c.block_channels.empty(), "SECNN: block_channels must name at least one block");
  for (int64_t ch : c.block_channels) {
    ATTN_CHECK(ch > 0, "SECNN: block_channels must be positive, got ", ch);
    ATTN_CHECK(c.reduction > 0 && c.reduction <= ch, "SECNN: reduction must be in [1, ", ch, "] for a block of ", ch,
               " channels, got ", c.reduction);
  }
  ATTN_CHECK(c.max_batch > 0 && c.max_height > 0 && c.max_width > 0, "SECNN: max_batch, max_height and max_width "
             "must be positive, got ", c.max_batch, ", ", c.max_height, ", ", c.max_width);
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
  module_name_ = kWhat;
  register_module("conv1", conv1);
  register_module("bn1", bn1);
  int64_t c = cfg.stem_channels;
  for (size_t i = 0; i < cfg.block_channels.size(); ++i) {
    const int64_t cout = cfg.block_channels[i];
    blocks_.push_back(
        &blocks.emplace<SEBasicBlock>(c, cout, cout == c ? 1 : 2, cfg.reduction, cfg.seed + 16 * (i + 1)));
    c = cout;
  }
  register_module("blocks", blocks);
  register_module("fc", fc);
  se_dest_.assign(blocks_.size(), nullptr);

  // The activation plan: every slot's shape is checked (64-bit, per-tensor budget) by add(),
  // the total by allocate(), before anything is allocated; a failure names the config's maxima.
  const int64_t B = cfg.max_batch, C_max = *std::max_element(cfg.block_channels.begin(), cfg.block_channels.end());
  try {
    int64_t H = cfg.max_height, W = cfg.max_width;
    acts_.add("stem", &stem_, {B, cfg.stem_channels, H, W});
    int64_t cols = conv1.cols_floats(H, W);
    for (size_t i = 0; i < blocks_.size(); ++i) {
      const nn::Size2 o = blocks_[i]->plan(acts_, "blocks." + std::to_string(i) + ".", B, H, W, &cols);
      H = o.h;
      W = o.w;
    }
    acts_.add("cols", &cols_, {cols});
    acts_.add("squeeze", &squeeze_, {B, C_max});
    acts_.add("hidden", &hidden_, {B, C_max / cfg.reduction});
    acts_.add("se_weights", &se_w_, {B, C_max});
    acts_.add("pooled", &pooled_, {B, cfg.block_channels.back()});
    acts_.add("logits", &logits_, {B, cfg.num_classes});
    acts_.allocate("SECNN activations");
  } catch (const Error& e) {
    fail(kWhat, ": the activations for max_batch=", B, ", max_height=", cfg.max_height, ", max_width=", cfg.max_width,
         " do not fit: ", e.what());
  }
}

void SECNN::check_size(int64_t H, int64_t W, const char* what) const {
  ATTN_CHECK(H >= 1 && H <= config.max_height && W >= 1 && W <= config.max_width, what, ": input is ", H, " x ", W,
             " pixels but the model's activations are planned for 1..", config.max_height, " x 1..", config.max_width,
             " (config max_height, max_width)");
}

void SECNN::ask_sink(AttentionSink* sink, int64_t N) {
  for (size_t i = 0; i < blocks_.size(); ++i)
    se_dest_[i] = sink ? sink->destination(static_cast<int64_t>(i), AttentionKind::self, N, 1, 1,
                                           blocks_[i]->out_channels)
                       : nullptr;
}

void SECNN::run(const float* x, int64_t n, int64_t H, int64_t W, int64_t row0) noexcept {
  const int64_t C0 = config.stem_channels;
  float* h = stem_.data();
  conv1.forward(h, x, n, H, W, cols_.data());
  bn1.forward_eval_(h, n, H * W);
  F::relu_forward(h, h, n * C0 * H * W);
  const float* cur = h;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    SEBasicBlock& b = *blocks_[i];
    float* se_w = se_dest_[i] ? se_dest_[i] + row0 * b.out_channels : se_w_.data();
    cur = b.forward(cur, n, H, W, se_w, cols_.data(), squeeze_.data(), hidden_.data());
    H = b.out_size(H);
    W = b.out_size(W);
  }
  const int64_t C = config.block_channels.back();
  pool.forward(pooled_.data(), cur, n * C, H, W);
  fc.forward(logits_.data(), config.num_classes, pooled_.data(), C, n);
}

const float* SECNN::forward(const float* x, int64_t N, int64_t H, int64_t W, AttentionSink* sink) {
  const char* what = "SECNN.forward";
  ATTN_CHECK(x != nullptr, what, ": x is null");
  ATTN_CHECK(N >= 1 && N <= config.max_batch, what, ": batch of ", N, " images but the model's activations are "
             "planned for 1..", config.max_batch, " (config max_batch)");
  check_size(H, W, what);
  const int64_t n = checked_numel({N, config.in_channels, H, W}, what);
  for (int64_t i = 0; i < n; ++i)
    ATTN_CHECK(!std::isnan(x[i]), what, ": x contains NaN (at flat index ", i, ")");
  ask_sink(sink, N);
  run(x, N, H, W, 0);
  return logits_.data();
}

Tensor SECNN::forward(const Tensor& x, AttentionSink* sink) {
  ATTN_CHECK(x.defined() && x.dim() == 4, "SECNN: input must be (N, C, H, W), got ",
             x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  if (is_training()) {  // BatchNorm's batch statistics: the allocating layers, the batch whole
    Tensor h = relu(bn1.forward(conv1.forward(x)));
    for (size_t i = 0; i < blocks_.size(); ++i) {
      Tensor a;  // (N, C)
      h = blocks_[i]->forward(h, &a);
      if (float* dst = sink ? sink->destination(static_cast<int64_t>(i), AttentionKind::self, a.size(0), 1, 1,
                                                a.size(1))
                            : nullptr)
        std::copy(a.data(), a.data() + a.numel(), dst);
    }
    const Tensor pooled = pool.forward(h);  // (N, C, 1, 1)
    return fc.forward(pooled.reshape({pooled.size(0), pooled.size(1)}));
  }
  ATTN_CHECK(x.dtype() == DType::f32, "SECNN: input must be a float32 tensor");
  ATTN_CHECK(x.size(1) == config.in_channels, "SECNN: input has ", x.size(1), " channels but the model expects ",
             config.in_channels, " (input shape ", x.shape(), ")");
  const int64_t N = x.size(0), H = x.size(2), W = x.size(3), K = config.num_classes;
  ATTN_CHECK(N >= 1, "SECNN: input has an empty batch (shape ", x.shape(), ")");
  check_size(H, W, "SECNN");
  check_finite_or_inf(x, "SECNN: input");
  const Tensor xc = x.contiguous();
  Tensor logits = Tensor::empty({N, K}, DType::f32, kWhat);
  ask_sink(sink, N);
  const int64_t image = config.in_channels * H * W;
  for (int64_t row0 = 0; row0 < N; row0 += config.max_batch) {
    const int64_t n = std::min(config.max_batch, N - row0);
    run(xc.data() + row0 * image, n, H, W, row0);
    std::copy(logits_.data(), logits_.data() + n * K, logits.data() + row0 * K);
  }
  return logits;
}

}  // namespace attn
