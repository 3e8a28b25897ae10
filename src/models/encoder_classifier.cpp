#include "models/encoder_classifier.hpp"

#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "core/size.hpp"
#include "kernels/activation.hpp"
#include "kernels/elementwise.hpp"

namespace attn {

namespace {
constexpr const char* kWhat = "EncoderClassifier";

const EncoderClassifierConfig& checked(const EncoderClassifierConfig& c) {
  check_config(c);
  return c;
}

nn::TransformerLayerOptions layer_options(const EncoderClassifierConfig& c) {
  nn::TransformerLayerOptions o;
  o.d_model = c.d_model;
  o.nhead = c.nhead;
  o.dim_feedforward = c.dim_feedforward;
  o.dropout = c.dropout;
  o.activation = nn::Activation::gelu;
  o.layer_norm_eps = c.layer_norm_eps;
  o.batch_first = true;
  o.norm_first = false;
  o.seed = c.seed + 1;
  return o;
}

// The arena's slots in order: the constructor binds them, arena_bytes() sums them.
std::vector<std::pair<const char*, Shape>> arena_plan(const EncoderClassifierConfig& c) {
  const int64_t B = c.max_batch, P = c.max_position, D = c.d_model;
  return {{"x", {B, P, D}},
          {"qkv", {B, P, 3, D}},
          {"atty", {B, P, D}},
          {"proj", {B, P, D}},
          {"ff", {B, P, c.dim_feedforward}},
          {"att", {c.nhead, P, P}},
          {"kpm", {B, P}},
          {"pooled", {B, D}},
          {"logits", {B, c.num_classes}}};
}
}  // namespace

int64_t arena_bytes(const EncoderClassifierConfig& c) {
  uint64_t total = 0;
  for (const auto& [name, shape] : arena_plan(c)) {
    const uint64_t b = checked_bytes(shape, sizeof(float), "EncoderClassifier: activation");
    total += (b + 63) / 64 * 64;  // core/arena.hpp: slots start on 64-byte boundaries
  }
  return static_cast<int64_t>(total);  // 9 slots of <= 1 TiB each: no overflow
}

void check_config(const EncoderClassifierConfig& c) {
  ATTN_CHECK(c.vocab_size > 0, kWhat, ": vocab_size must be positive, got ", c.vocab_size);
  ATTN_CHECK(c.max_position > 0, kWhat, ": max_position must be positive, got ", c.max_position);
  ATTN_CHECK(c.type_vocab_size >= 0, kWhat, ": type_vocab_size must be >= 0, got ", c.type_vocab_size);
  ATTN_CHECK(c.pad_id >= -1 && c.pad_id < c.vocab_size, kWhat, ": pad_id must be -1 (none) or a token in [0, ",
             c.vocab_size, "), got ", c.pad_id);
  ATTN_CHECK(c.num_classes > 0, kWhat, ": num_classes must be positive, got ", c.num_classes);
  ATTN_CHECK(c.num_layers >= 1, kWhat, ": num_layers must be >= 1, got ", c.num_layers);
  ATTN_CHECK(c.dropout >= 0.0f && c.dropout < 1.0f, kWhat, ": dropout must be in [0, 1), got ", c.dropout);
  ATTN_CHECK(c.d_model > 0, kWhat, ": d_model must be positive, got ", c.d_model);
  nn::check_layer_options(layer_options(c), kWhat);
  checked_bytes({c.vocab_size, c.d_model}, sizeof(float), "EncoderClassifier: word_embeddings (vocab_size, d_model)");
  checked_bytes({c.max_position, c.d_model}, sizeof(float),
                "EncoderClassifier: position_embeddings (max_position, d_model)");
  checked_bytes({c.type_vocab_size, c.d_model}, sizeof(float),
                "EncoderClassifier: token_type_embeddings (type_vocab_size, d_model)");
  checked_bytes({c.num_classes, c.d_model}, sizeof(float), "EncoderClassifier: classifier (num_classes, d_model)");
  ATTN_CHECK(c.max_batch >= 1, kWhat, ": max_batch must be positive, got ", c.max_batch);
  const uint64_t acts = static_cast<uint64_t>(arena_bytes(c));
  ATTN_CHECK(acts <= kMaxArenaBytes, kWhat, ": activations for max_batch = ", c.max_batch, " x max_position = ",
             c.max_position, " need ", bytes_str(acts), ", more than the ", bytes_str(kMaxArenaBytes),
             " an arena may hold");
}

EncoderClassifier::Embeddings::Embeddings(const EncoderClassifierConfig& c, Rng& rng)
    : word_embeddings(c.vocab_size, c.d_model, c.pad_id >= 0 ? std::optional<int64_t>(c.pad_id) : std::nullopt, rng),
      position_embeddings(c.max_position, c.d_model, std::nullopt, rng),
      token_type_embeddings(c.type_vocab_size > 0
                                ? std::make_unique<nn::Embedding>(c.type_vocab_size, c.d_model, std::nullopt, rng)
                                : nullptr),
      LayerNorm(c.d_model, c.layer_norm_eps),
      dropout(c.dropout, c.seed + 2) {
  module_name_ = "Embeddings";
  register_module("word_embeddings", word_embeddings);
  register_module("position_embeddings", position_embeddings);
  if (token_type_embeddings) register_module("token_type_embeddings", *token_type_embeddings);
  register_module("LayerNorm", LayerNorm);
  register_module("dropout", dropout);
}

EncoderClassifier::Pooler::Pooler(int64_t d_model, Rng& rng) : dense(d_model, d_model, true, rng) {
  module_name_ = "Pooler";
  register_module("dense", dense);
}

EncoderClassifier::EncoderClassifier(const EncoderClassifierConfig& c)
    : config(checked(c)),
      init_rng_(c.seed),
      embeddings(c, init_rng_),
      encoder(layer_options(c), c.num_layers, false),
      pooler(c.d_model, init_rng_),
      dropout(c.dropout, c.seed + 3),
      classifier(c.d_model, c.num_classes, true, init_rng_) {
  module_name_ = kWhat;
  register_module("embeddings", embeddings);
  register_module("encoder", encoder);
  register_module("pooler", pooler);
  register_module("dropout", dropout);
  register_module("classifier", classifier);
  Tensor* slots[] = {&x_, &qkv_, &atty_, &proj_, &ff_, &att_, &kpm_, &pooled_, &logits_};
  const auto plan = arena_plan(config);
  for (size_t i = 0; i < plan.size(); ++i) acts_.add(plan[i].first, slots[i], plan[i].second);
  acts_.allocate("EncoderClassifier activations");
}

void EncoderClassifier::check_inputs(const int32_t* ids, const int32_t* types, int64_t N, int64_t T,
                                     const char* what) const {
  ATTN_CHECK(ids != nullptr, what, ": input_ids is null");
  ATTN_CHECK(N >= 1 && N <= config.max_batch, what, ": batch size ", N, " must be in [1, max_batch = ",
             config.max_batch, "] (the activation arena is sized for max_batch)");
  ATTN_CHECK(T >= 1 && T <= config.max_position, what, ": input_ids has ", T, " positions but max_position is ",
             config.max_position);
  const int64_t V = config.vocab_size;
  for (int64_t i = 0; i < N * T; ++i)
    ATTN_CHECK(ids[i] >= 0 && ids[i] < V, what, ": input_ids holds id ", ids[i], " at flat index ", i,
               "; ids must be in [0, ", V, ")");
  if (!types) return;
  ATTN_CHECK(embeddings.token_type_embeddings, what,
             ": token_type_ids given but the model has no segment embedding (type_vocab_size 0)");
  for (int64_t i = 0; i < N * T; ++i)
    ATTN_CHECK(types[i] >= 0 && types[i] < config.type_vocab_size, what, ": token_type_ids holds id ", types[i],
               " at flat index ", i, "; ids must be in [0, ", config.type_vocab_size, ")");
}

void EncoderClassifier::embed(float* x, const int32_t* ids, const int32_t* types, int64_t N, int64_t T) {
  const int64_t D = config.d_model;
  embeddings.word_embeddings.forward(x, D, ids, N * T);
  const float* pos = embeddings.position_embeddings.weight.data();
  const float* seg = embeddings.token_type_embeddings ? embeddings.token_type_embeddings->weight.data() : nullptr;
  for (int64_t r = 0; r < N * T; ++r) {
    float* row = x + r * D;
    kernels::f32_add(static_cast<size_t>(D), row, pos + (r % T) * D, row);
    if (seg) kernels::f32_add(static_cast<size_t>(D), row, seg + (types ? int64_t{types[r]} : 0) * D, row);
  }
  embeddings.LayerNorm.forward(x, x, N * T);
  embeddings.dropout.forward_(x, N * T * D);
}

void EncoderClassifier::encode_arena(int64_t N, int64_t T, bool masked, AttentionSink* sink) {
  const int64_t P = config.max_position, H = config.nhead;
  const nn::LayerScratch s{qkv_.data(), atty_.data(), proj_.data(), nullptr, ff_.data(), att_.data()};
  const nn::KeyMask kpm{masked ? kpm_.data() : nullptr, P};
  for (int64_t l = 0; l < encoder.num_layers(); ++l) {
    float* att = sink ? sink->destination(l, AttentionKind::self, N, H, T, T) : nullptr;
    nn::LayerScratch sl = s;
    sl.self_heads_off = sink ? sink->head_mask(l, AttentionKind::self, H) : nullptr;
    encoder.layer(l).forward(x_.data(), N, T, kpm, att, sl);
    if (sink) {  // the first sequence's queries, keys and values, still in the scratch
      const int64_t D = config.d_model, hs = D / H;
      const float* q = qkv_.data();
      sink->qkv(l, AttentionKind::self, {q, 3 * D, hs}, {q + D, 3 * D, hs}, {q + 2 * D, 3 * D, hs}, H, T, T, hs);
    }
  }
}

void EncoderClassifier::head(const float* hidden, int64_t N, int64_t T, float* pooled, float* logits) {
  const int64_t D = config.d_model, C = config.num_classes;
  // The [CLS] rows hidden[:, 0] are read in place with row stride T * D.
  pooler.dense.forward(pooled, D, hidden, T * D, N);
  kernels::f32_tanh(static_cast<size_t>(N * D), pooled, pooled);
  dropout.forward_(pooled, N * D);
  classifier.forward(logits, C, pooled, D, N);
}

const float* EncoderClassifier::forward(const int32_t* ids, int64_t N, int64_t T, const uint8_t* kpm,
                                        const int32_t* types, AttentionSink* sink) {
  check_inputs(ids, types, N, T, "EncoderClassifier.forward");
  if (kpm) nn::additive_key_mask(kpm_.data(), config.max_position, kpm, N, T);
  embed(x_.data(), ids, types, N, T);
  encode_arena(N, T, kpm != nullptr, sink);
  head(x_.data(), N, T, pooled_.data(), logits_.data());
  return logits_.data();
}

namespace {
// Tensor ids -> int32: input_ids (N, T) with T <= max_position, token_type_ids like it (or
// undefined), each id checked by its embedding.
void tensor_ids(const EncoderClassifier::Embeddings& e, int64_t max_position, const Tensor& ids,
                const Tensor& token_type_ids, std::vector<int32_t>& words, std::vector<int32_t>& types) {
  ATTN_CHECK(ids.defined() && ids.dim() == 2 && ids.size(0) > 0 && ids.size(1) > 0, kWhat,
             ": input_ids must be (N, T) with N, T >= 1, got ", ids.defined() ? ids.shape() : Shape{});
  ATTN_CHECK(ids.size(1) <= max_position, kWhat, ": input_ids has ", ids.size(1), " positions but max_position is ",
             max_position);
  words = e.word_embeddings.check_ids(ids, "input_ids");
  if (!token_type_ids.defined()) return;
  ATTN_CHECK(e.token_type_embeddings, kWhat,
             ": token_type_ids given but the model has no segment embedding (type_vocab_size 0)");
  ATTN_CHECK(token_type_ids.shape() == ids.shape(), kWhat, ": token_type_ids has shape ", token_type_ids.shape(),
             " but input_ids has ", ids.shape());
  types = e.token_type_embeddings->check_ids(token_type_ids, "token_type_ids");
}
}  // namespace

void EncoderClassifier::encode_tensor_inputs(const std::vector<int32_t>& words, const std::vector<int32_t>& types,
                                             const Tensor& kpm, int64_t N, int64_t T, AttentionSink* sink) {
  const int32_t* tp = types.empty() ? nullptr : types.data();
  check_inputs(words.data(), tp, N, T, kWhat);
  if (kpm.defined())
    nn::additive_key_mask(kpm_.data(), config.max_position, kpm, N, T, kWhat, "src_key_padding_mask");
  embed(x_.data(), words.data(), tp, N, T);
  encode_arena(N, T, kpm.defined(), sink);
}

Tensor EncoderClassifier::encode(const Tensor& ids, const Tensor& kpm, const Tensor& token_type_ids,
                                 AttentionSink* sink) {
  std::vector<int32_t> words, types;
  tensor_ids(embeddings, config.max_position, ids, token_type_ids, words, types);
  const int64_t N = ids.size(0), T = ids.size(1), D = config.d_model;
  Tensor hidden = Tensor::empty({N, T, D}, DType::f32, "EncoderClassifier: hidden states (N, T, D)");
  if (dropout_active()) {  // torch's training-mode forward, dropout included
    embed(hidden.data(), words.data(), types.empty() ? nullptr : types.data(), N, T);
    return encoder.forward(hidden, {}, kpm, false, sink);
  }
  encode_tensor_inputs(words, types, kpm, N, T, sink);
  std::memcpy(hidden.data(), x_.data(), sizeof(float) * static_cast<size_t>(N * T * D));
  return hidden;
}

Tensor EncoderClassifier::forward(const Tensor& ids, const Tensor& kpm, const Tensor& token_type_ids,
                                  AttentionSink* sink) {
  if (dropout_active()) {
    const Tensor hidden = encode(ids, kpm, token_type_ids, sink);  // (N, T, D), contiguous
    const int64_t N = hidden.size(0), T = hidden.size(1);
    Tensor pooled = Tensor::empty({N, config.d_model}, DType::f32, "EncoderClassifier: pooled (N, D)");
    Tensor logits = Tensor::empty({N, config.num_classes}, DType::f32, "EncoderClassifier: logits (N, num_classes)");
    head(hidden.data(), N, T, pooled.data(), logits.data());
    return logits;
  }
  std::vector<int32_t> words, types;
  tensor_ids(embeddings, config.max_position, ids, token_type_ids, words, types);
  const int64_t N = ids.size(0), T = ids.size(1);
  encode_tensor_inputs(words, types, kpm, N, T, sink);
  Tensor logits = Tensor::empty({N, config.num_classes}, DType::f32, "EncoderClassifier: logits (N, num_classes)");
  head(x_.data(), N, T, pooled_.data(), logits.data());
  return logits;
}

}  // namespace attn
