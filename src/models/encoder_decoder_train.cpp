#include "models/encoder_decoder_train.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "attention/positional.hpp"
#include "core/size.hpp"
#include "kernels/elementwise.hpp"
#include "nn/functional_backward.hpp"

namespace attn {

namespace F = nn::functional;

namespace {
constexpr const char* kWhat = "EncoderDecoderTrain";
inline size_t sz(int64_t n) { return static_cast<size_t>(n); }
void zero(Tensor& t) noexcept { std::fill(t.data(), t.data() + t.numel(), 0.0f); }
}  // namespace

EncoderDecoderTrain::EncoderDecoderTrain(EncoderDecoder& model, int64_t B, int64_t S, int64_t T, int64_t ignore_index)
    : model_(model), B_(B), S_(S), T_(T), ignore_index_(ignore_index), grads_(model, kWhat) {
  const EncoderDecoderConfig& c = model.config;
  ATTN_CHECK(B >= 1, kWhat, ": B must be at least 1, got ", B);
  ATTN_CHECK(S >= 1 && S <= c.max_len && T >= 1 && T <= c.max_len, kWhat, ": S and T must be in [1, max_len = ",
             c.max_len, "], got ", S, " and ", T);
  ATTN_CHECK(c.dropout == 0.0f, kWhat, ": the model's dropout must be 0 (dropout is not modelled in training), got ",
             c.dropout);
  nn::check_trainable(model.transformer.encoder.layer(0).options(), kWhat);
  const nn::GradLookup grad = [this](const std::string& name) { return grads_(name); };
  d_src_emb_ = grad("src_embedding.weight");
  d_tgt_emb_ = grad("tgt_embedding.weight");
  if (model.src_position) {
    d_src_pos_ = grad("src_position.weight");
    d_tgt_pos_ = grad("tgt_position.weight");
  } else {
    sinusoid_ = sinusoidal_table(c.max_len, c.d_model);
  }
  d_enc_norm_w_ = grad("transformer.encoder.norm.weight");
  d_enc_norm_b_ = grad("transformer.encoder.norm.bias");
  d_dec_norm_w_ = grad("transformer.decoder.norm.weight");
  d_dec_norm_b_ = grad("transformer.decoder.norm.bias");
  d_gen_w_ = grad("generator.weight");
  d_gen_b_ = grad("generator.bias");
  for (int64_t l = 0; l < c.num_encoder_layers; ++l)
    enc_g_.push_back(nn::encoder_layer_grads(grad, "transformer.encoder.layers." + std::to_string(l) + "."));
  for (int64_t l = 0; l < c.num_decoder_layers; ++l)
    dec_g_.push_back(nn::decoder_layer_grads(grad, "transformer.decoder.layers." + std::to_string(l) + "."));

  const char* what = "EncoderDecoderTrain: the batch";
  const int64_t Le = c.num_encoder_layers, Ld = c.num_decoder_layers, D = c.d_model, H = c.nhead;
  const int64_t Fw = c.dim_feedforward, V = c.tgt_vocab;
  const int64_t M = checked_mul(B, S, what), N = checked_mul(B, T, what), R = std::max(M, N), W = std::max(S, T);
  acts_.add("xs", &xs_, {Le + 1, M, D});
  acts_.add("e_qkv", &e_qkv_, {Le, M, 3 * D});
  acts_.add("e_att", &e_att_, {Le, B, H, S, S});
  acts_.add("e_atty", &e_atty_, {Le, M, D});
  acts_.add("e_r1", &e_r1_, {Le, M, D});
  acts_.add("e_m1", &e_m1_, {Le, M});
  acts_.add("e_s1", &e_s1_, {Le, M});
  acts_.add("e_h1", &e_h1_, {Le, M, D});
  acts_.add("e_f", &e_f_, {checked_mul(Le, M, what), Fw});
  acts_.add("e_fa", &e_fa_, {checked_mul(Le, M, what), Fw});
  acts_.add("e_r2", &e_r2_, {Le, M, D});
  acts_.add("e_m2", &e_m2_, {Le, M});
  acts_.add("e_s2", &e_s2_, {Le, M});
  acts_.add("memory", &memory_, {M, D});
  acts_.add("mem_mean", &mem_mean_, {M});
  acts_.add("mem_rstd", &mem_rstd_, {M});
  acts_.add("xt", &xt_, {Ld + 1, N, D});
  acts_.add("d_qkv", &d_qkv_, {Ld, N, 3 * D});
  acts_.add("d_att", &d_att_, {Ld, B, H, T, T});
  acts_.add("d_atty", &d_atty_, {Ld, N, D});
  acts_.add("d_r1", &d_r1_, {Ld, N, D});
  acts_.add("d_m1", &d_m1_, {Ld, N});
  acts_.add("d_s1", &d_s1_, {Ld, N});
  acts_.add("d_h1", &d_h1_, {Ld, N, D});
  acts_.add("d_q2", &d_q2_, {Ld, N, D});
  acts_.add("d_kv2", &d_kv2_, {Ld, M, 2 * D});
  acts_.add("d_attc", &d_attc_, {Ld, B, H, T, S});
  acts_.add("d_attyc", &d_attyc_, {Ld, N, D});
  acts_.add("d_r2", &d_r2_, {Ld, N, D});
  acts_.add("d_m2", &d_m2_, {Ld, N});
  acts_.add("d_s2", &d_s2_, {Ld, N});
  acts_.add("d_h2", &d_h2_, {Ld, N, D});
  acts_.add("d_f", &d_f_, {checked_mul(Ld, N, what), Fw});
  acts_.add("d_fa", &d_fa_, {checked_mul(Ld, N, what), Fw});
  acts_.add("d_r3", &d_r3_, {Ld, N, D});
  acts_.add("d_m3", &d_m3_, {Ld, N});
  acts_.add("d_s3", &d_s3_, {Ld, N});
  acts_.add("dec_out", &dec_out_, {N, D});
  acts_.add("dec_mean", &dec_mean_, {N});
  acts_.add("dec_rstd", &dec_rstd_, {N});
  acts_.add("logits", &logits_, {N, V});
  acts_.add("probs", &probs_, {N, V});
  acts_.add("losses", &losses_, {N});
  acts_.add("src_kpm", &src_kpm_, {B, S});
  acts_.add("g1", &g1_, {R, D});
  acts_.add("g2", &g2_, {R, D});
  acts_.add("g3", &g3_, {R, D});
  acts_.add("ga", &ga_, {R, D});
  acts_.add("gb", &gb_, {R, D});
  acts_.add("gmem", &gmem_, {M, D});
  acts_.add("gqkv", &gqkv_, {R, 3 * D});
  acts_.add("gf", &gf_, {R, Fw});
  acts_.add("gfa", &gfa_, {R, Fw});
  acts_.add("gatt", &gatt_, {W, W});
  acts_.add("gkv", &gkv_, {M, 2 * D});
  acts_.add("dlogits", &dlogits_, {N, V});
  acts_.add("dlosses", &dlosses_, {N});
  acts_.allocate("EncoderDecoderTrain activations");

  for (int64_t l = 0; l < Le; ++l) {
    nn::EncoderLayerActs a;
    a.x = xs_.data() + l * M * D;
    a.qkv = e_qkv_.data() + l * M * 3 * D;
    a.att = e_att_.data() + l * B * H * S * S;
    a.atty = e_atty_.data() + l * M * D;
    a.n1 = {e_r1_.data() + l * M * D, e_m1_.data() + l * M, e_s1_.data() + l * M};
    a.h1 = e_h1_.data() + l * M * D;
    a.f = e_f_.data() + l * M * Fw;
    a.fa = e_fa_.data() + l * M * Fw;
    a.n2 = {e_r2_.data() + l * M * D, e_m2_.data() + l * M, e_s2_.data() + l * M};
    a.out = xs_.data() + (l + 1) * M * D;
    enc_.push_back(a);
  }
  for (int64_t l = 0; l < Ld; ++l) {
    nn::DecoderLayerActs a;
    a.x = xt_.data() + l * N * D;
    a.qkv = d_qkv_.data() + l * N * 3 * D;
    a.att_self = d_att_.data() + l * B * H * T * T;
    a.atty_self = d_atty_.data() + l * N * D;
    a.n1 = {d_r1_.data() + l * N * D, d_m1_.data() + l * N, d_s1_.data() + l * N};
    a.h1 = d_h1_.data() + l * N * D;
    a.q2 = d_q2_.data() + l * N * D;
    a.kv2 = d_kv2_.data() + l * M * 2 * D;
    a.att_cross = d_attc_.data() + l * B * H * T * S;
    a.atty_cross = d_attyc_.data() + l * N * D;
    a.n2 = {d_r2_.data() + l * N * D, d_m2_.data() + l * N, d_s2_.data() + l * N};
    a.h2 = d_h2_.data() + l * N * D;
    a.f = d_f_.data() + l * N * Fw;
    a.fa = d_fa_.data() + l * N * Fw;
    a.n3 = {d_r3_.data() + l * N * D, d_m3_.data() + l * N, d_s3_.data() + l * N};
    a.out = xt_.data() + (l + 1) * N * D;
    dec_.push_back(a);
  }
  src_.resize(sz(M));
  tgt_.resize(sz(N));
  targets_.resize(sz(N));
}

float EncoderDecoderTrain::forward(const int32_t* src, const uint8_t* src_padding, const int32_t* tgt_in,
                                   const int32_t* targets) {
  const EncoderDecoderConfig& c = model_.config;
  const int64_t B = B_, S = S_, T = T_, M = B * S, N = B * T, D = c.d_model, V = c.tgt_vocab;
  ATTN_CHECK(src && tgt_in && targets, kWhat, ".forward: src, tgt_in or targets is null");
  for (int64_t i = 0; i < M; ++i)
    ATTN_CHECK(src[i] >= 0 && src[i] < c.src_vocab, kWhat, ".forward: source id ", src[i], " at index ", i,
               " is outside [0, ", c.src_vocab, ")");
  for (int64_t i = 0; i < N; ++i) {
    ATTN_CHECK(tgt_in[i] >= 0 && tgt_in[i] < V, kWhat, ".forward: target input id ", tgt_in[i], " at index ", i,
               " is outside [0, ", V, ")");
    ATTN_CHECK(targets[i] == ignore_index_ || (targets[i] >= 0 && targets[i] < V), kWhat, ".forward: target ",
               targets[i], " at index ", i, " is outside [0, ", V, ") and is not ignore_index");
  }
  if (src_padding)
    for (int64_t b = 0; b < B; ++b) {
      bool any = false;
      for (int64_t s = 0; s < S && !any; ++s) any = !src_padding[b * S + s];
      ATTN_CHECK(any, kWhat, ".forward: source ", b, " is all padding");
    }
  std::copy(src, src + M, src_.begin());
  std::copy(tgt_in, tgt_in + N, tgt_.begin());
  std::copy(targets, targets + N, targets_.begin());
  masked_ = src_padding != nullptr;
  if (masked_) nn::additive_key_mask(src_kpm_.data(), S, src_padding, B, S);
  const float* kpm = masked_ ? src_kpm_.data() : nullptr;
  const float scale = c.scale_embedding ? std::sqrt(static_cast<float>(D)) : 1.0f;
  auto embed = [&](float* x, const int32_t* ids, int64_t L, const nn::Embedding& table, const nn::Embedding* pos) {
    const float* p = pos ? pos->weight.data() : sinusoid_.data();
    const float* w = table.weight.data();
    for (int64_t r = 0; r < B * L; ++r) {
      float* row = x + r * D;
      kernels::f32_scale(sz(D), w + int64_t{ids[r]} * D, scale, row);
      kernels::f32_add(sz(D), row, p + (r % L) * D, row);
    }
  };
  embed(xs_.data(), src_.data(), S, model_.src_embedding, model_.src_position.get());
  for (size_t l = 0; l < enc_.size(); ++l)
    nn::encoder_layer_forward(model_.transformer.encoder.layer(static_cast<int64_t>(l)), enc_[l], B, S, kpm);
  const nn::LayerNorm& en = *model_.transformer.encoder.norm;
  F::layernorm_forward(memory_.data(), mem_mean_.data(), mem_rstd_.data(), xs_.data() + enc_.size() * M * D,
                       en.weight.data(), en.bias.data(), M, D, en.eps);
  embed(xt_.data(), tgt_.data(), T, model_.tgt_embedding, model_.tgt_position.get());
  for (size_t l = 0; l < dec_.size(); ++l)
    nn::decoder_layer_forward(model_.transformer.decoder.layer(static_cast<int64_t>(l)), dec_[l], B, T, memory_.data(),
                              S, nullptr, kpm);
  const nn::LayerNorm& dn = *model_.transformer.decoder.norm;
  F::layernorm_forward(dec_out_.data(), dec_mean_.data(), dec_rstd_.data(), xt_.data() + dec_.size() * N * D,
                       dn.weight.data(), dn.bias.data(), N, D, dn.eps);
  model_.generator.forward(logits_.data(), V, dec_out_.data(), D, N);
  count_ = F::cross_entropy_forward(losses_.data(), probs_.data(), logits_.data(), targets_.data(), N, V, ignore_index_,
                                    0.0f);
  double sum = 0;
  for (int64_t i = 0; i < N; ++i) sum += losses_.data()[i];
  has_forward_ = true;
  return static_cast<float>(sum / static_cast<double>(count_));
}

void EncoderDecoderTrain::backward() {
  ATTN_CHECK(has_forward_, kWhat, ".backward: call forward first");
  const EncoderDecoderConfig& c = model_.config;
  const int64_t B = B_, S = S_, T = T_, M = B * S, N = B * T, D = c.d_model, V = c.tgt_vocab;
  const nn::TrainScratch s{g1_.data(), g2_.data(), g3_.data(), gqkv_.data(), gf_.data(), gfa_.data(), gatt_.data(),
                           gkv_.data()};
  // Loss -> logits -> LN_dec.
  std::fill(dlosses_.data(), dlosses_.data() + N, count_ > 0 ? 1.0f / static_cast<float>(count_) : NAN);
  zero(dlogits_);
  F::cross_entropy_backward(dlogits_.data(), dlosses_.data(), probs_.data(), targets_.data(), N, V, ignore_index_, 0.0f);
  float* dout = ga_.data();
  float* dx = gb_.data();
  std::fill(dout, dout + N * D, 0.0f);
  float* dnorm = g1_.data();
  std::fill(dnorm, dnorm + N * D, 0.0f);
  F::linear_backward(dnorm, d_gen_w_, d_gen_b_, dlogits_.data(), dec_out_.data(), model_.generator.weight.data(), N, D, V);
  const nn::LayerNorm& dn = *model_.transformer.decoder.norm;
  F::layernorm_backward(dout, d_dec_norm_w_, d_dec_norm_b_, dnorm, xt_.data() + dec_.size() * N * D, dn.weight.data(),
                        dec_mean_.data(), dec_rstd_.data(), N, D);
  // The decoder, last layer first; every layer adds its cross-attention's share to d memory.
  zero(gmem_);
  for (int64_t l = static_cast<int64_t>(dec_.size()) - 1; l >= 0; --l) {
    nn::decoder_layer_backward(model_.transformer.decoder.layer(l), dec_g_[sz(l)], dec_[sz(l)], B, T, memory_.data(), S,
                               dout, dx, gmem_.data(), s);
    std::swap(dout, dx);
  }
  const float scale = c.scale_embedding ? std::sqrt(static_cast<float>(D)) : 1.0f;
  auto embedding_grads = [&](const float* dembed, const std::vector<int32_t>& ids, int64_t L, float* d_table,
                             float* d_pos) {
    for (int64_t r = 0; r < B * L; ++r) {
      const float* g = dembed + r * D;
      float* row = d_table + int64_t{ids[sz(r)]} * D;
      kernels::f32_axpy(sz(D), scale, g, row);
      if (d_pos) kernels::f32_add(sz(D), d_pos + (r % L) * D, g, d_pos + (r % L) * D);
    }
  };
  embedding_grads(dout, tgt_, T, d_tgt_emb_, d_tgt_pos_);
  // memory = LN_enc(encoder output) -> the encoder.
  dout = ga_.data();
  dx = gb_.data();
  std::fill(dout, dout + M * D, 0.0f);
  const nn::LayerNorm& en = *model_.transformer.encoder.norm;
  F::layernorm_backward(dout, d_enc_norm_w_, d_enc_norm_b_, gmem_.data(), xs_.data() + enc_.size() * M * D,
                        en.weight.data(), mem_mean_.data(), mem_rstd_.data(), M, D);
  for (int64_t l = static_cast<int64_t>(enc_.size()) - 1; l >= 0; --l) {
    nn::encoder_layer_backward(model_.transformer.encoder.layer(l), enc_g_[sz(l)], enc_[sz(l)], B, S, dout, dx, s);
    std::swap(dout, dx);
  }
  embedding_grads(dout, src_, S, d_src_emb_, d_src_pos_);
}

}  // namespace attn
