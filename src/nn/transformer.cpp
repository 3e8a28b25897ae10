#include "nn/transformer.hpp"

#include <cmath>

#include "attention/mask.hpp"
#include "core/init.hpp"
#include "nn/functional.hpp"
#include "ops/ops.hpp"

namespace attn::nn {

namespace {
constexpr const char* kEncoderLayer = "TransformerEncoderLayer";
constexpr const char* kDecoderLayer = "TransformerDecoderLayer";

// Seeds of a layer's parts, all drawn from the layer's seed (splitmix64 steps).
uint64_t derive_seed(uint64_t seed, uint64_t k) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (k + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

const TransformerLayerOptions& checked(const TransformerLayerOptions& o, const char* what) {
  check_layer_options(o, what);
  return o;
}

MultiheadAttentionOptions mha_options(const TransformerLayerOptions& o, uint64_t k) {
  MultiheadAttentionOptions m;
  m.embed_dim = o.d_model;
  m.num_heads = o.nhead;
  m.dropout = o.dropout;
  m.bias = o.bias;
  m.batch_first = o.batch_first;
  m.seed = derive_seed(o.seed, k);
  return m;
}

// x (..., E): float32, 2-D or 3-D, d_model features, no NaN.
void check_input(const Tensor& x, int64_t d_model, const char* what, const char* arg) {
  ATTN_CHECK(x.defined() && x.dtype() == DType::f32, what, ": ", arg, " must be a float32 tensor");
  ATTN_CHECK(x.dim() == 2 || x.dim() == 3, what, ": ", arg, " must be unbatched 2-D or batched 3-D, got shape ",
             x.shape());
  ATTN_CHECK(x.size(-1) == d_model, what, ": ", arg, " has ", x.size(-1), " features but d_model is ", d_model,
             " (shape ", x.shape(), ")");
  check_finite_or_inf(x, (std::string(what) + ": " + arg).c_str());
}

struct Dims {
  int64_t N, L;  // batch (1 when unbatched), positions
};
Dims dims_of(const Tensor& x, bool batch_first) {
  if (x.dim() == 2) return {1, x.size(0)};
  return batch_first ? Dims{x.size(0), x.size(1)} : Dims{x.size(1), x.size(0)};
}

// attn_mask (L, S) or (N * H, L, S); key_padding_mask (N, S) or (S) unbatched. Bool or float, no NaN.
void check_masks(const Tensor& mask, const char* mask_name, const Tensor& kpm, const char* kpm_name, bool batched,
                 int64_t N, int64_t H, int64_t L, int64_t S, const char* what) {
  if (mask.defined()) {
    const Shape want2{L, S}, want3{batched ? N * H : H, L, S};
    ATTN_CHECK(mask.shape() == want2 || mask.shape() == want3, what, ": ", mask_name, " should have shape ", want2,
               " or ", want3, ", but got ", mask.shape());
    ATTN_CHECK(mask.dtype() == DType::u8 || mask.dtype() == DType::f32, what, ": ", mask_name,
               " must be bool or float");
    check_finite_or_inf(mask, (std::string(what) + ": " + mask_name).c_str());
  }
  if (kpm.defined()) {
    const Shape want = batched ? Shape{N, S} : Shape{S};
    ATTN_CHECK(kpm.shape() == want, what, ": ", kpm_name, " should have shape ", want, ", but got ", kpm.shape());
    ATTN_CHECK(kpm.dtype() == DType::u8 || kpm.dtype() == DType::f32, what, ": ", kpm_name, " must be bool or float");
    check_finite_or_inf(kpm, (std::string(what) + ": " + kpm_name).c_str());
  }
}

// x += y (same shape, both contiguous): the residual stream.
void add_(Tensor& x, const Tensor& y) { functional::residual_forward(x.data(), x.data(), y.data(), x.numel()); }

// A fresh contiguous attention output (the block's residual branch), after `drop`.
Tensor attention_block(MultiheadAttention& attn, const Tensor& q, const Tensor& kv, const Tensor& mask,
                       const Tensor& kpm, bool is_causal, AttentionSink* sink, int64_t layer, AttentionKind kind,
                       Dropout& drop) {
  MhaForwardOptions o;
  o.attn_mask = mask;
  o.key_padding_mask = kpm;
  o.is_causal = is_causal;
  o.need_weights = false;  // torch's _sa_block / _mha_block
  o.sink = sink;
  o.layer = layer;
  o.kind = kind;
  Tensor out = attn.forward(q, kv, kv, o).output.contiguous();
  drop.forward_(out.data(), out.numel());
  return out;
}

// dropout2(linear2(dropout(act(linear1(x))))) for contiguous x (..., E): a fresh tensor.
Tensor feed_forward_block(const Tensor& x, const Linear& linear1, const Linear& linear2, Activation act,
                          Dropout& dropout, Dropout& dropout_out) {
  const int64_t E = linear1.in_features, F = linear1.out_features, rows = x.numel() / E;
  Tensor h = Tensor::empty({rows, F}, DType::f32, "feed-forward hidden (rows, dim_feedforward)");
  linear1.forward(h.data(), F, x.data(), E, rows);
  activation_forward_(act, h.data(), h.numel());
  dropout.forward_(h.data(), h.numel());
  Tensor y = Tensor::empty(x.shape(), DType::f32, "feed-forward output");
  linear2.forward(y.data(), E, h.data(), F, rows);
  dropout_out.forward_(y.data(), y.numel());
  return y;
}

// Normalises a fresh contiguous tensor in place.
void norm_(const LayerNorm& norm, Tensor& x) { norm.forward(x.data(), x.data(), x.numel() / norm.normalized_shape); }

// One residual sublayer in torch's order: x + block(norm(x)) with norm_first (pre-LN),
// else norm(x + block(x)) (post-LN).
template <class Block>
Tensor sublayer(const Tensor& x, const LayerNorm& norm, bool norm_first, Block block) {
  Tensor out = block(norm_first ? norm.forward(x) : x);
  add_(out, x);
  if (!norm_first) norm_(norm, out);
  return out;
}

LayerNorm* make_norm(bool on, const TransformerLayerOptions& o) {
  return on ? new LayerNorm(o.d_model, o.layer_norm_eps, true, o.bias) : nullptr;
}

void check_num_layers(int64_t n, const TransformerLayerOptions& o, const char* what) {
  ATTN_CHECK(n >= 0, what, ": num_layers must be >= 0, got ", n);
  // Every layer holds at least 4 E^2 + 2 E F weights: the stack's total must be a valid size.
  const int64_t E = o.d_model, F = o.dim_feedforward;
  checked_mul(n, checked_add(checked_mul(4 * E, E, what), checked_mul(2 * E, F, what), what), what);
}
}  // namespace

void check_layer_options(const TransformerLayerOptions& o, const char* what) {
  ATTN_CHECK(o.d_model > 0, what, ": d_model must be positive, got ", o.d_model);
  ATTN_CHECK(o.nhead > 0, what, ": nhead must be positive, got ", o.nhead);
  ATTN_CHECK(o.d_model % o.nhead == 0, what, ": d_model (", o.d_model, ") must be divisible by nhead (", o.nhead, ")");
  ATTN_CHECK(o.dim_feedforward > 0, what, ": dim_feedforward must be positive, got ", o.dim_feedforward);
  ATTN_CHECK(o.dropout >= 0.0f && o.dropout < 1.0f, what, ": dropout must be in [0, 1), got ", o.dropout);
  ATTN_CHECK(o.activation != Activation::swiglu, what,
             ": activation should be relu, gelu or gelu_tanh (swiglu needs a third matrix: nn::FeedForward)");
  ATTN_CHECK(o.layer_norm_eps >= 0.0f && std::isfinite(o.layer_norm_eps), what,
             ": layer_norm_eps must be finite and >= 0, got ", o.layer_norm_eps);
  checked_bytes({3 * o.d_model, o.d_model}, sizeof(float), what);
  checked_bytes({o.dim_feedforward, o.d_model}, sizeof(float), what);
}

// ---------------------------------------------------------------- pointer-level helpers

void additive_key_mask(float* out, int64_t ld, const Tensor& mask, int64_t N, int64_t S, const char* what,
                       const char* arg) {
  ATTN_CHECK(mask.defined(), what, ": ", arg, " is undefined");
  ATTN_CHECK(mask.shape() == Shape({N, S}), what, ": ", arg, " should have shape ", Shape({N, S}), ", but got ",
             mask.shape());
  ATTN_CHECK(mask.dtype() == DType::u8 || mask.dtype() == DType::f32, what, ": ", arg, " must be bool or float");
  const Tensor m = mask.contiguous();
  if (m.dtype() == DType::u8) {
    additive_key_mask(out, ld, m.data_u8(), N, S);
    return;
  }
  const float* p = m.data();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t j = 0; j < S; ++j) {
      ATTN_CHECK(!std::isnan(p[n * S + j]), what, ": ", arg, " holds NaN at [", n, ", ", j, "]");
      out[n * ld + j] = p[n * S + j];
    }
}

void additive_key_mask(float* out, int64_t ld, const uint8_t* padding, int64_t N, int64_t S) noexcept {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t j = 0; j < S; ++j) out[n * ld + j] = padding[n * S + j] ? -INFINITY : 0.0f;
}

namespace {
using Proj = MultiheadAttention::Projection;

// The block's input: x itself (post-LN), or norm(x) in s.ln (pre-LN).
const float* block_input(const LayerNorm& norm, bool norm_first, const float* x, float* ln, int64_t rows) noexcept {
  if (!norm_first) return x;
  norm.forward(ln, x, rows);
  return ln;
}

// x += branch, then norm(x) in place after the add (post-LN).
void residual_end(const LayerNorm& norm, bool norm_first, float* x, const float* branch, int64_t rows,
                  int64_t E) noexcept {
  functional::residual_forward(x, x, branch, rows * E);
  if (!norm_first) norm.forward(x, x, rows);
}

// linear2(act(linear1(in))) into s.proj.
void feed_forward_rows(const Linear& linear1, const Linear& linear2, Activation act, const float* in, int64_t rows,
                       const LayerScratch& s) noexcept {
  const int64_t E = linear1.in_features, F = linear1.out_features;
  linear1.forward(s.ff, F, in, E, rows);
  activation_forward_(act, s.ff, rows * F);
  linear2.forward(s.proj, E, s.ff, F, rows);
}
}  // namespace

// ---------------------------------------------------------------- encoder layer

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerLayerOptions& options)
    : opt_(checked(options, kEncoderLayer)),
      init_rng_(options.seed),
      self_attn(mha_options(options, 0)),
      linear1(options.d_model, options.dim_feedforward, options.bias, init_rng_),
      linear2(options.dim_feedforward, options.d_model, options.bias, init_rng_),
      norm1(options.d_model, options.layer_norm_eps, true, options.bias),
      norm2(options.d_model, options.layer_norm_eps, true, options.bias),
      dropout(options.dropout, derive_seed(options.seed, 10)),
      dropout1(options.dropout, derive_seed(options.seed, 11)),
      dropout2(options.dropout, derive_seed(options.seed, 12)) {
  module_name_ = kEncoderLayer;
  register_module("self_attn", self_attn);
  register_module("linear1", linear1);
  register_module("dropout", dropout);
  register_module("linear2", linear2);
  register_module("norm1", norm1);
  register_module("norm2", norm2);
  register_module("dropout1", dropout1);
  register_module("dropout2", dropout2);
}

Tensor TransformerEncoderLayer::forward(const Tensor& src, const Tensor& src_mask, const Tensor& kpm, bool is_causal,
                                        AttentionSink* sink, int64_t layer) {
  check_input(src, opt_.d_model, kEncoderLayer, "src");
  const Dims d = dims_of(src, opt_.batch_first);
  check_masks(src_mask, "src_mask", kpm, "src_key_padding_mask", src.dim() == 3, d.N, opt_.nhead, d.L, d.L,
              kEncoderLayer);
  const Tensor x = src.contiguous();
  auto sa = [&](const Tensor& in) {
    return attention_block(self_attn, in, in, src_mask, kpm, is_causal, sink, layer, AttentionKind::self, dropout1);
  };
  auto ff = [&](const Tensor& in) {
    return feed_forward_block(in, linear1, linear2, opt_.activation, dropout, dropout2);
  };
  const Tensor x1 = sublayer(x, norm1, opt_.norm_first, sa);
  return sublayer(x1, norm2, opt_.norm_first, ff);
}

void TransformerEncoderLayer::forward(float* x, int64_t N, int64_t T, KeyMask kpm, float* att,
                                      const LayerScratch& s) const noexcept {
  const int64_t E = opt_.d_model, H = opt_.nhead, hs = E / H, rows = N * T;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  const bool pre = opt_.norm_first;
  const float* in = block_input(norm1, pre, x, s.ln, rows);
  self_attn.project(Proj::query, s.qkv, 3 * E, in, E, rows);
  self_attn.project(Proj::key, s.qkv + E, 3 * E, in, E, rows);
  self_attn.project(Proj::value, s.qkv + 2 * E, 3 * E, in, E, rows);
  for (int64_t n = 0; n < N; ++n) {
    const float* qkv = s.qkv + n * T * 3 * E;
    functional::attention_forward(s.atty + n * T * E, E, att ? att + n * H * T * T : s.att, {qkv, 3 * E, hs},
                                  {qkv + E, 3 * E, hs}, {qkv + 2 * E, 3 * E, hs}, H, T, T, hs, scale,
                                  /*causal=*/false, kpm.row(n));
  }
  if (s.self_heads_off) functional::zero_heads(s.atty, E, rows, H, hs, s.self_heads_off);
  self_attn.out_proj.forward(s.proj, E, s.atty, E, rows);
  residual_end(norm1, pre, x, s.proj, rows, E);
  feed_forward_rows(linear1, linear2, opt_.activation, block_input(norm2, pre, x, s.ln, rows), rows, s);
  residual_end(norm2, pre, x, s.proj, rows, E);
}

// ---------------------------------------------------------------- decoder layer

TransformerDecoderLayer::TransformerDecoderLayer(const TransformerLayerOptions& options)
    : opt_(checked(options, kDecoderLayer)),
      init_rng_(options.seed),
      self_attn(mha_options(options, 0)),
      multihead_attn(mha_options(options, 1)),
      linear1(options.d_model, options.dim_feedforward, options.bias, init_rng_),
      linear2(options.dim_feedforward, options.d_model, options.bias, init_rng_),
      norm1(options.d_model, options.layer_norm_eps, true, options.bias),
      norm2(options.d_model, options.layer_norm_eps, true, options.bias),
      norm3(options.d_model, options.layer_norm_eps, true, options.bias),
      dropout(options.dropout, derive_seed(options.seed, 10)),
      dropout1(options.dropout, derive_seed(options.seed, 11)),
      dropout2(options.dropout, derive_seed(options.seed, 12)),
      dropout3(options.dropout, derive_seed(options.seed, 13)) {
  module_name_ = kDecoderLayer;
  register_module("self_attn", self_attn);
  register_module("multihead_attn", multihead_attn);
  register_module("linear1", linear1);
  register_module("dropout", dropout);
  register_module("linear2", linear2);
  register_module("norm1", norm1);
  register_module("norm2", norm2);
  register_module("norm3", norm3);
  register_module("dropout1", dropout1);
  register_module("dropout2", dropout2);
  register_module("dropout3", dropout3);
}

Tensor TransformerDecoderLayer::forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask,
                                        const Tensor& memory_mask, const Tensor& tgt_kpm, const Tensor& memory_kpm,
                                        bool tgt_is_causal, bool memory_is_causal, AttentionSink* sink,
                                        int64_t layer) {
  check_input(tgt, opt_.d_model, kDecoderLayer, "tgt");
  check_input(memory, opt_.d_model, kDecoderLayer, "memory");
  ATTN_CHECK(memory.dim() == tgt.dim(), kDecoderLayer, ": tgt ", tgt.shape(), " and memory ", memory.shape(),
             " must both be batched (3-D) or both unbatched (2-D)");
  const Dims t = dims_of(tgt, opt_.batch_first), m = dims_of(memory, opt_.batch_first);
  ATTN_CHECK(t.N == m.N, kDecoderLayer, ": memory has batch size ", m.N, " but tgt has ", t.N, " (tgt ", tgt.shape(),
             ", memory ", memory.shape(), ", batch_first ", opt_.batch_first ? "true" : "false", ")");
  const bool batched = tgt.dim() == 3;
  check_masks(tgt_mask, "tgt_mask", tgt_kpm, "tgt_key_padding_mask", batched, t.N, opt_.nhead, t.L, t.L,
              kDecoderLayer);
  check_masks(memory_mask, "memory_mask", memory_kpm, "memory_key_padding_mask", batched, t.N, opt_.nhead, t.L, m.L,
              kDecoderLayer);
  const Tensor x = tgt.contiguous(), mem = memory.contiguous();
  auto sa = [&](const Tensor& in) {
    return attention_block(self_attn, in, in, tgt_mask, tgt_kpm, tgt_is_causal, sink, layer, AttentionKind::self,
                           dropout1);
  };
  auto mha = [&](const Tensor& in) {
    return attention_block(multihead_attn, in, mem, memory_mask, memory_kpm, memory_is_causal, sink, layer,
                           AttentionKind::cross, dropout2);
  };
  auto ff = [&](const Tensor& in) {
    return feed_forward_block(in, linear1, linear2, opt_.activation, dropout, dropout3);
  };
  const Tensor x1 = sublayer(x, norm1, opt_.norm_first, sa);
  const Tensor x2 = sublayer(x1, norm2, opt_.norm_first, mha);
  return sublayer(x2, norm3, opt_.norm_first, ff);
}

void TransformerDecoderLayer::project_memory(const KeyValues& kv, const float* memory, int64_t N,
                                             int64_t S) const noexcept {
  const int64_t E = opt_.d_model;
  for (int64_t n = 0; n < N; ++n) {
    multihead_attn.project(Proj::key, kv.k + n * kv.item_rows * E, E, memory + n * S * E, E, S);
    multihead_attn.project(Proj::value, kv.v + n * kv.item_rows * E, E, memory + n * S * E, E, S);
  }
}

void TransformerDecoderLayer::forward(float* x, int64_t N, int64_t T, int64_t pos, const KeyValues& cache,
                                      const KeyValues& mem, int64_t S, KeyMask tgt_kpm, KeyMask mem_kpm,
                                      float* self_att, float* cross_att, const LayerScratch& s) const noexcept {
  const int64_t E = opt_.d_model, H = opt_.nhead, hs = E / H, rows = N * T, keys = pos + T;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  const bool pre = opt_.norm_first;
  float* q = s.qkv;  // (rows, E)

  // Self-attention: this step's keys and values into the cache, then causal over pos + T keys.
  const float* in = block_input(norm1, pre, x, s.ln, rows);
  self_attn.project(Proj::query, q, E, in, E, rows);
  for (int64_t n = 0; n < N; ++n) {
    const int64_t at = (n * cache.item_rows + pos) * E;
    self_attn.project(Proj::key, cache.k + at, E, in + n * T * E, E, T);
    self_attn.project(Proj::value, cache.v + at, E, in + n * T * E, E, T);
  }
  for (int64_t n = 0; n < N; ++n) {
    const int64_t item = n * cache.item_rows * E;
    functional::attention_forward(s.atty + n * T * E, E, self_att ? self_att + n * H * T * keys : s.att,
                                  {q + n * T * E, E, hs}, {cache.k + item, E, hs}, {cache.v + item, E, hs}, H, T,
                                  keys, hs, scale, /*causal=*/true, tgt_kpm.row(n));
  }
  if (s.self_heads_off) functional::zero_heads(s.atty, E, rows, H, hs, s.self_heads_off);
  self_attn.out_proj.forward(s.proj, E, s.atty, E, rows);
  residual_end(norm1, pre, x, s.proj, rows, E);

  // Cross-attention over the projected memory.
  in = block_input(norm2, pre, x, s.ln, rows);
  multihead_attn.project(Proj::query, q, E, in, E, rows);
  for (int64_t n = 0; n < N; ++n) {
    const int64_t item = n * mem.item_rows * E;
    functional::attention_forward(s.atty + n * T * E, E, cross_att ? cross_att + n * H * T * S : s.att,
                                  {q + n * T * E, E, hs}, {mem.k + item, E, hs}, {mem.v + item, E, hs}, H, T, S, hs,
                                  scale, /*causal=*/false, mem_kpm.row(n));
  }
  if (s.cross_heads_off) functional::zero_heads(s.atty, E, rows, H, hs, s.cross_heads_off);
  multihead_attn.out_proj.forward(s.proj, E, s.atty, E, rows);
  residual_end(norm2, pre, x, s.proj, rows, E);

  feed_forward_rows(linear1, linear2, opt_.activation, block_input(norm3, pre, x, s.ln, rows), rows, s);
  residual_end(norm3, pre, x, s.proj, rows, E);
}

// ---------------------------------------------------------------- stacks

TransformerEncoder::TransformerEncoder(const TransformerLayerOptions& layer, int64_t num_layers, bool final_norm) {
  module_name_ = "TransformerEncoder";
  check_layer_options(layer, module_name_);
  check_num_layers(num_layers, layer, module_name_);
  for (int64_t i = 0; i < num_layers; ++i) layers.emplace<TransformerEncoderLayer>(layer);
  norm.reset(make_norm(final_norm, layer));
  register_module("layers", layers);
  if (norm) register_module("norm", *norm);
}

Tensor TransformerEncoder::forward(const Tensor& src, const Tensor& mask, const Tensor& kpm, bool is_causal,
                                   AttentionSink* sink, int64_t first_layer) {
  Tensor x = src;
  for (int64_t i = 0; i < num_layers(); ++i) x = layer(i).forward(x, mask, kpm, is_causal, sink, first_layer + i);
  if (norm) x = norm->forward(x);
  return x;
}

TransformerDecoder::TransformerDecoder(const TransformerLayerOptions& layer, int64_t num_layers, bool final_norm) {
  module_name_ = "TransformerDecoder";
  check_layer_options(layer, module_name_);
  check_num_layers(num_layers, layer, module_name_);
  for (int64_t i = 0; i < num_layers; ++i) layers.emplace<TransformerDecoderLayer>(layer);
  norm.reset(make_norm(final_norm, layer));
  register_module("layers", layers);
  if (norm) register_module("norm", *norm);
}

Tensor TransformerDecoder::forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask,
                                   const Tensor& memory_mask, const Tensor& tgt_kpm, const Tensor& memory_kpm,
                                   bool tgt_is_causal, bool memory_is_causal, AttentionSink* sink,
                                   int64_t first_layer) {
  Tensor x = tgt;
  for (int64_t i = 0; i < num_layers(); ++i)
    x = layer(i).forward(x, memory, tgt_mask, memory_mask, tgt_kpm, memory_kpm, tgt_is_causal, memory_is_causal, sink,
                         first_layer + i);
  if (norm) x = norm->forward(x);
  return x;
}

// ---------------------------------------------------------------- Transformer

namespace {
const TransformerOptions& checked(const TransformerOptions& o) {
  check_layer_options(o.layer, "Transformer");
  check_num_layers(o.num_encoder_layers, o.layer, "Transformer: num_encoder_layers");
  check_num_layers(o.num_decoder_layers, o.layer, "Transformer: num_decoder_layers");
  return o;
}
}  // namespace

Transformer::Transformer(const TransformerOptions& options)
    : opt_(checked(options)),
      encoder(options.layer, options.num_encoder_layers, true),
      decoder(options.layer, options.num_decoder_layers, true) {
  module_name_ = "Transformer";
  register_module("encoder", encoder);
  register_module("decoder", decoder);
  // torch's _reset_parameters: xavier_uniform_ on every parameter with more than one dim.
  Rng rng(derive_seed(options.layer.seed, 100));
  for (auto& [name, p] : named_parameters())
    if (p->dim() > 1) p->copy_(xavier_uniform(p->shape(), rng));
  notify_parameters_changed();
}

Tensor Transformer::generate_square_subsequent_mask(int64_t sz) {
  ATTN_CHECK(sz >= 0, "Transformer.generate_square_subsequent_mask: sz must be >= 0, got ", sz);
  return causal_additive_mask(sz, sz);
}

Tensor Transformer::encode(const Tensor& src, const Tensor& src_mask, const Tensor& src_kpm, bool src_is_causal,
                           AttentionSink* sink) {
  check_input(src, opt_.layer.d_model, "Transformer", "src");
  return encoder.forward(src, src_mask, src_kpm, src_is_causal, sink, 0);
}

Tensor Transformer::decode(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask, const Tensor& memory_mask,
                           const Tensor& tgt_kpm, const Tensor& memory_kpm, bool tgt_is_causal, bool memory_is_causal,
                           AttentionSink* sink) {
  check_input(tgt, opt_.layer.d_model, "Transformer", "tgt");
  return decoder.forward(tgt, memory, tgt_mask, memory_mask, tgt_kpm, memory_kpm, tgt_is_causal, memory_is_causal,
                         sink, opt_.num_encoder_layers);
}

Tensor Transformer::forward(const Tensor& src, const Tensor& tgt, const Tensor& src_mask, const Tensor& tgt_mask,
                            const Tensor& memory_mask, const Tensor& src_kpm, const Tensor& tgt_kpm,
                            const Tensor& memory_kpm, bool src_is_causal, bool tgt_is_causal, bool memory_is_causal,
                            AttentionSink* sink) {
  check_input(src, opt_.layer.d_model, "Transformer", "src");
  check_input(tgt, opt_.layer.d_model, "Transformer", "tgt");
  const bool batched = src.dim() == 3;
  ATTN_CHECK(src.dim() == tgt.dim(), "Transformer: src ", src.shape(), " and tgt ", tgt.shape(),
             " must both be batched (3-D) or both unbatched (2-D)");
  if (batched) {
    const int64_t bd = opt_.layer.batch_first ? 0 : 1;
    ATTN_CHECK(src.size(bd) == tgt.size(bd), "Transformer: the batch number of src and tgt must be equal, got src ",
               src.shape(), " and tgt ", tgt.shape());
  }
  const Tensor memory = encode(src, src_mask, src_kpm, src_is_causal, sink);
  return decode(tgt, memory, tgt_mask, memory_mask, tgt_kpm, memory_kpm, tgt_is_causal, memory_is_causal, sink);
}

}  // namespace attn::nn
