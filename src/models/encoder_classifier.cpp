#include "models/encoder_classifier.hpp"

#include <optional>

#include "kernels/activation.hpp"
#include "kernels/elementwise.hpp"
#include "ops/ops.hpp"

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
}  // namespace

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
}

Tensor EncoderClassifier::encode(const Tensor& ids, const Tensor& kpm, const Tensor& token_type_ids,
                                 AttentionSink* sink) {
  ATTN_CHECK(ids.defined() && ids.dim() == 2 && ids.size(0) > 0 && ids.size(1) > 0, kWhat,
             ": input_ids must be (N, T) with N, T >= 1, got ", ids.defined() ? ids.shape() : Shape{});
  const int64_t N = ids.size(0), T = ids.size(1), D = config.d_model;
  ATTN_CHECK(T <= config.max_position, kWhat, ": input_ids has ", T, " positions but max_position is ",
             config.max_position);
  const std::vector<int32_t> words = embeddings.word_embeddings.check_ids(ids, "input_ids");
  std::vector<int32_t> types;
  if (token_type_ids.defined()) {
    ATTN_CHECK(embeddings.token_type_embeddings, kWhat,
               ": token_type_ids given but the model has no segment embedding (type_vocab_size 0)");
    ATTN_CHECK(token_type_ids.shape() == ids.shape(), kWhat, ": token_type_ids has shape ", token_type_ids.shape(),
               " but input_ids has ", ids.shape());
    types = embeddings.token_type_embeddings->check_ids(token_type_ids, "token_type_ids");
  }

  // x (N, T, D) = word + position (+ segment): one lookup, then rows added in place.
  Tensor x = Tensor::empty({N, T, D}, DType::f32, "EncoderClassifier: embeddings (N, T, D)");
  float* xp = x.data();
  embeddings.word_embeddings.forward(xp, D, words.data(), N * T);
  const float* pos = embeddings.position_embeddings.weight.data();
  const float* seg = embeddings.token_type_embeddings ? embeddings.token_type_embeddings->weight.data() : nullptr;
  for (int64_t r = 0; r < N * T; ++r) {
    float* row = xp + r * D;
    kernels::f32_add(static_cast<size_t>(D), row, pos + (r % T) * D, row);
    if (seg) kernels::f32_add(static_cast<size_t>(D), row, seg + (types.empty() ? 0 : int64_t{types[r]}) * D, row);
  }
  embeddings.LayerNorm.forward(xp, xp, N * T);
  embeddings.dropout.forward_(xp, N * T * D);
  return encoder.forward(x, {}, kpm, false, sink);
}

Tensor EncoderClassifier::forward(const Tensor& ids, const Tensor& kpm, const Tensor& token_type_ids,
                                  AttentionSink* sink) {
  const Tensor hidden = encode(ids, kpm, token_type_ids, sink);  // (N, T, D), contiguous
  const int64_t N = hidden.size(0), T = hidden.size(1), D = config.d_model, C = config.num_classes;
  // The [CLS] rows hidden[:, 0] are read in place with row stride T * D.
  Tensor pooled = Tensor::empty({N, D}, DType::f32, "EncoderClassifier: pooled (N, D)");
  pooler.dense.forward(pooled.data(), D, hidden.data(), T * D, N);
  kernels::f32_tanh(static_cast<size_t>(N * D), pooled.data(), pooled.data());
  dropout.forward_(pooled.data(), N * D);
  Tensor logits = Tensor::empty({N, C}, DType::f32, "EncoderClassifier: logits (N, num_classes)");
  classifier.forward(logits.data(), C, pooled.data(), D, N);
  return logits;
}

}  // namespace attn
