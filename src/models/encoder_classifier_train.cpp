#include "models/encoder_classifier_train.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/size.hpp"
#include "kernels/activation.hpp"
#include "kernels/elementwise.hpp"
#include "nn/functional_backward.hpp"

namespace attn {

namespace F = nn::functional;

namespace {
constexpr const char* kWhat = "EncoderClassifierTrain";
inline size_t sz(int64_t n) { return static_cast<size_t>(n); }
void zero(Tensor& t) noexcept { std::fill(t.data(), t.data() + t.numel(), 0.0f); }
}  // namespace

EncoderClassifierTrain::EncoderClassifierTrain(EncoderClassifier& model, int64_t B, int64_t T)
    : model_(model), B_(B), T_(T), grads_(model, kWhat) {
  const EncoderClassifierConfig& c = model.config;
  ATTN_CHECK(B >= 1, kWhat, ": B (the batch size) must be at least 1, got ", B);
  ATTN_CHECK(T >= 1 && T <= c.max_position, kWhat, ": T must be in [1, max_position = ", c.max_position, "], got ", T);
  ATTN_CHECK(c.dropout == 0.0f, kWhat, ": the model's dropout must be 0 (dropout is not modelled in training), got ",
             c.dropout);
  const nn::GradLookup grad = [this](const std::string& name) { return grads_(name); };
  d_word_ = grad("embeddings.word_embeddings.weight");
  d_pos_ = grad("embeddings.position_embeddings.weight");
  if (model.embeddings.token_type_embeddings) d_type_ = grad("embeddings.token_type_embeddings.weight");
  d_eln_w_ = grad("embeddings.LayerNorm.weight");
  d_eln_b_ = grad("embeddings.LayerNorm.bias");
  d_pool_w_ = grad("pooler.dense.weight");
  d_pool_b_ = grad("pooler.dense.bias");
  d_cls_w_ = grad("classifier.weight");
  d_cls_b_ = grad("classifier.bias");
  nn::check_trainable(model.encoder.layer(0).options(), kWhat);
  for (int64_t l = 0; l < c.num_layers; ++l) {
    Layer y;
    y.m = &model.encoder.layer(l);
    y.g = nn::encoder_layer_grads(grad, "encoder.layers." + std::to_string(l) + ".");
    layers_.push_back(y);
  }

  const char* what = "EncoderClassifierTrain: the batch";
  const int64_t L = c.num_layers, D = c.d_model, H = c.nhead, Fw = c.dim_feedforward, K = c.num_classes;
  const int64_t N = checked_mul(B, T, what), LN = checked_mul(L, N, what);
  acts_.add("emb", &emb_, {N, D});
  acts_.add("emb_mean", &emb_mean_, {N});
  acts_.add("emb_rstd", &emb_rstd_, {N});
  acts_.add("x", &x_, {L + 1, N, D});
  acts_.add("qkv", &qkv_, {L, N, 3 * D});
  acts_.add("att", &att_, {L, B, H, T, T});
  acts_.add("atty", &atty_, {L, N, D});
  acts_.add("r1", &r1_, {L, N, D});
  acts_.add("mean1", &mean1_, {L, N});
  acts_.add("rstd1", &rstd1_, {L, N});
  acts_.add("h1", &h1_, {L, N, D});
  acts_.add("f", &f_, {LN, Fw});
  acts_.add("fa", &fa_, {LN, Fw});
  acts_.add("r2", &r2_, {L, N, D});
  acts_.add("mean2", &mean2_, {L, N});
  acts_.add("rstd2", &rstd2_, {L, N});
  acts_.add("kpm", &kpm_, {B, T});
  acts_.add("pooled", &pooled_, {B, D});
  acts_.add("logits", &logits_, {B, K});
  acts_.add("probs", &probs_, {B, K});
  acts_.add("losses", &losses_, {B});
  acts_.add("dA", &dA_, {N, D});
  acts_.add("dB", &dB_, {N, D});
  acts_.add("dC", &dC_, {N, D});
  acts_.add("dD", &dD_, {N, D});
  acts_.add("dE", &dE_, {N, D});
  acts_.add("dqkv", &dqkv_, {N, 3 * D});
  acts_.add("df", &df_, {N, Fw});
  acts_.add("dfa", &dfa_, {N, Fw});
  acts_.add("datt", &datt_, {T, T});
  acts_.add("dpool", &dpool_, {B, D});
  acts_.add("dlogits", &dlogits_, {B, K});
  acts_.add("dlosses", &dlosses_, {B});
  acts_.allocate("EncoderClassifierTrain activations");
  for (int64_t l = 0; l < L; ++l) {
    nn::EncoderLayerActs& a = layers_[sz(l)].a;
    a.x = x_.data() + l * N * D;
    a.qkv = qkv_.data() + l * N * 3 * D;
    a.att = att_.data() + l * B * H * T * T;
    a.atty = atty_.data() + l * N * D;
    a.n1 = {r1_.data() + l * N * D, mean1_.data() + l * N, rstd1_.data() + l * N};
    a.h1 = h1_.data() + l * N * D;
    a.f = f_.data() + l * N * Fw;
    a.fa = fa_.data() + l * N * Fw;
    a.n2 = {r2_.data() + l * N * D, mean2_.data() + l * N, rstd2_.data() + l * N};
    a.out = x_.data() + (l + 1) * N * D;
  }
  ids_.resize(sz(N));
  labels_.resize(sz(B));
}

const float* EncoderClassifierTrain::attention(int64_t layer) const {
  ATTN_CHECK(layer >= 0 && layer < model_.config.num_layers, kWhat, ".attention: layer ", layer, " is outside [0, ",
             model_.config.num_layers, ")");
  return att_.data() + layer * B_ * model_.config.nhead * T_ * T_;
}

float EncoderClassifierTrain::forward(const int32_t* ids, const uint8_t* padding, const int32_t* labels) {
  const EncoderClassifierConfig& c = model_.config;
  const int64_t B = B_, T = T_, N = B * T, D = c.d_model;
  const int64_t K = c.num_classes, V = c.vocab_size;
  ATTN_CHECK(ids && labels, kWhat, ".forward: ids or labels is null");
  for (int64_t i = 0; i < N; ++i)
    ATTN_CHECK(ids[i] >= 0 && ids[i] < V, kWhat, ".forward: id ", ids[i], " at index ", i, " is outside [0, ", V, ")");
  for (int64_t b = 0; b < B; ++b) {
    ATTN_CHECK(labels[b] >= 0 && labels[b] < K, kWhat, ".forward: label ", labels[b], " of sequence ", b,
               " is outside [0, ", K, ")");
    bool any = !padding;
    for (int64_t t = 0; t < T && !any; ++t) any = !padding[b * T + t];
    ATTN_CHECK(any, kWhat, ".forward: sequence ", b, " is all padding");
  }
  std::copy(ids, ids + N, ids_.begin());
  std::copy(labels, labels + B, labels_.begin());
  const auto& e = model_.embeddings;

  // Embeddings: word + position + token type 0, then LayerNorm (statistics saved).
  float* emb = emb_.data();
  const float* word = e.word_embeddings.weight.data();
  const float* pos = e.position_embeddings.weight.data();
  const float* type0 = e.token_type_embeddings ? e.token_type_embeddings->weight.data() : nullptr;
  for (int64_t r = 0; r < N; ++r) {
    float* row = emb + r * D;
    std::copy(word + int64_t{ids[r]} * D, word + (int64_t{ids[r]} + 1) * D, row);
    kernels::f32_add(sz(D), row, pos + (r % T) * D, row);
    if (type0) kernels::f32_add(sz(D), row, type0, row);
  }
  F::layernorm_forward(x_.data(), emb_mean_.data(), emb_rstd_.data(), emb, e.LayerNorm.weight.data(),
                       e.LayerNorm.bias.data(), N, D, e.LayerNorm.eps);
  const bool masked = padding != nullptr;
  if (masked) nn::additive_key_mask(kpm_.data(), T, padding, B, T);

  for (const Layer& y : layers_) nn::encoder_layer_forward(*y.m, y.a, B, T, masked ? kpm_.data() : nullptr);
  // Pooler on the [CLS] rows (position 0 of each sequence), then the classifier.
  const float* hidden = x_.data() + c.num_layers * N * D;
  model_.pooler.dense.forward(pooled_.data(), D, hidden, T * D, B);
  kernels::f32_tanh(sz(B * D), pooled_.data(), pooled_.data());
  model_.classifier.forward(logits_.data(), K, pooled_.data(), D, B);
  F::cross_entropy_forward(losses_.data(), probs_.data(), logits_.data(), labels_.data(), B, K, -100, 0.0f);
  double sum = 0;
  for (int64_t b = 0; b < B; ++b) sum += losses_.data()[b];
  has_forward_ = true;
  return static_cast<float>(sum / static_cast<double>(B));
}

void EncoderClassifierTrain::backward() {
  ATTN_CHECK(has_forward_, kWhat, ".backward: call forward first");
  const EncoderClassifierConfig& c = model_.config;
  const int64_t B = B_, T = T_, N = B * T, D = c.d_model;
  const int64_t K = c.num_classes;
  const auto& e = model_.embeddings;

  // Loss -> logits -> pooled -> the [CLS] rows of the encoder's output (dA).
  std::fill(dlosses_.data(), dlosses_.data() + B, 1.0f / static_cast<float>(B));
  zero(dlogits_);
  F::cross_entropy_backward(dlogits_.data(), dlosses_.data(), probs_.data(), labels_.data(), B, K, -100, 0.0f);
  zero(dpool_);
  F::linear_backward(dpool_.data(), d_cls_w_, d_cls_b_, dlogits_.data(), pooled_.data(), model_.classifier.weight.data(),
                     B, D, K);
  const float* pooled = pooled_.data();
  float* dp = dpool_.data();
  for (int64_t i = 0; i < B * D; ++i) dp[i] *= 1.0f - pooled[i] * pooled[i];  // tanh'
  // dense read rows 0, T, 2T, ... of the hidden states: its gradient goes to those rows only.
  zero(dB_);
  const float* hidden = x_.data() + c.num_layers * N * D;
  for (int64_t b = 0; b < B; ++b)
    F::linear_backward(dB_.data() + b * T * D, d_pool_w_, d_pool_b_, dp + b * D, hidden + b * T * D,
                       model_.pooler.dense.weight.data(), 1, D, D);
  float* dout = dB_.data();  // d (the current layer's output)
  float* dx = dA_.data();
  const nn::TrainScratch scratch{dC_.data(), dD_.data(), dE_.data(), dqkv_.data(), df_.data(), dfa_.data(),
                                 datt_.data(), nullptr};
  for (int64_t l = c.num_layers - 1; l >= 0; --l) {
    const Layer& y = layers_[sz(l)];
    nn::encoder_layer_backward(*y.m, y.g, y.a, B, T, dout, dx, scratch);
    std::swap(dout, dx);
  }
  // x_0 = LN_e(emb): d emb, then the tables (the padding_idx row gets no gradient, as torch).
  zero(dC_);
  F::layernorm_backward(dC_.data(), d_eln_w_, d_eln_b_, dout, emb_.data(), e.LayerNorm.weight.data(),
                        emb_mean_.data(), emb_rstd_.data(), N, D);
  const float* demb = dC_.data();
  const int64_t pad = c.pad_id;
  for (int64_t r = 0; r < N; ++r) {
    const float* g = demb + r * D;
    if (ids_[sz(r)] != pad) kernels::f32_add(sz(D), d_word_ + int64_t{ids_[sz(r)]} * D, g, d_word_ + int64_t{ids_[sz(r)]} * D);
    kernels::f32_add(sz(D), d_pos_ + (r % T) * D, g, d_pos_ + (r % T) * D);
    if (d_type_) kernels::f32_add(sz(D), d_type_, g, d_type_);
  }
}

}  // namespace attn
