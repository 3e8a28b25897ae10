#include "models/encoder_decoder.hpp"

#include <cmath>
#include <cstring>

#include "attention/mask.hpp"
#include "attention/positional.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/reduce.hpp"
#include "ops/ops.hpp"

namespace attn {

namespace {
constexpr const char* kWhat = "EncoderDecoder";

const EncoderDecoderConfig& checked(const EncoderDecoderConfig& c) {
  check_config(c);
  return c;
}

nn::TransformerOptions transformer_options(const EncoderDecoderConfig& c) {
  nn::TransformerOptions o;
  o.layer.d_model = c.d_model;
  o.layer.nhead = c.nhead;
  o.layer.dim_feedforward = c.dim_feedforward;
  o.layer.dropout = c.dropout;
  o.layer.activation = c.activation;
  o.layer.layer_norm_eps = c.layer_norm_eps;
  o.layer.batch_first = true;
  o.layer.norm_first = c.norm_first;
  o.layer.seed = c.seed + 1;
  o.num_encoder_layers = c.num_encoder_layers;
  o.num_decoder_layers = c.num_decoder_layers;
  return o;
}

std::unique_ptr<nn::Embedding> position_table(const EncoderDecoderConfig& c, Rng& rng) {
  if (c.positions != PositionEncoding::learned) return nullptr;
  return std::make_unique<nn::Embedding>(c.max_len, c.d_model, std::nullopt, rng);
}

// ids (N, L) with 1 <= L <= max_len.
void check_ids_shape(const Tensor& ids, int64_t max_len, const char* arg) {
  ATTN_CHECK(ids.defined() && ids.dim() == 2 && ids.size(0) > 0 && ids.size(1) > 0, kWhat, ": ", arg,
             " must be (N, length) with N, length >= 1, got ", ids.defined() ? ids.shape() : Shape{});
  ATTN_CHECK(ids.size(1) <= max_len, kWhat, ": ", arg, " has ", ids.size(1), " positions but max_len is ", max_len);
}
}  // namespace

void check_config(const EncoderDecoderConfig& c) {
  ATTN_CHECK(c.src_vocab > 0 && c.tgt_vocab > 0, kWhat, ": src_vocab and tgt_vocab must be positive, got ",
             c.src_vocab, " and ", c.tgt_vocab);
  ATTN_CHECK(c.max_len > 0, kWhat, ": max_len must be positive, got ", c.max_len);
  ATTN_CHECK(c.num_encoder_layers >= 1 && c.num_decoder_layers >= 1, kWhat,
             ": num_encoder_layers and num_decoder_layers must be >= 1, got ", c.num_encoder_layers, " and ",
             c.num_decoder_layers);
  ATTN_CHECK(c.d_model > 0, kWhat, ": d_model must be positive, got ", c.d_model);
  nn::check_layer_options(transformer_options(c).layer, kWhat);
  checked_bytes({c.src_vocab, c.d_model}, sizeof(float), "EncoderDecoder: src_embedding (src_vocab, d_model)");
  checked_bytes({c.tgt_vocab, c.d_model}, sizeof(float), "EncoderDecoder: tgt_embedding (tgt_vocab, d_model)");
  checked_bytes({c.max_len, c.d_model}, sizeof(float), "EncoderDecoder: positions (max_len, d_model)");
}

EncoderDecoder::EncoderDecoder(const EncoderDecoderConfig& c)
    : config(checked(c)),
      init_rng_(c.seed),
      src_embedding(c.src_vocab, c.d_model, std::nullopt, init_rng_),
      tgt_embedding(c.tgt_vocab, c.d_model, std::nullopt, init_rng_),
      src_position(position_table(c, init_rng_)),
      tgt_position(position_table(c, init_rng_)),
      transformer(transformer_options(c)),
      generator(c.d_model, c.tgt_vocab, true, init_rng_),
      dropout(c.dropout, c.seed + 2) {
  module_name_ = kWhat;
  register_module("src_embedding", src_embedding);
  register_module("tgt_embedding", tgt_embedding);
  if (src_position) {
    register_module("src_position", *src_position);
    register_module("tgt_position", *tgt_position);
  } else {
    sinusoid_ = sinusoidal_table(c.max_len, c.d_model);
  }
  register_module("transformer", transformer);
  register_module("generator", generator);
  register_module("dropout", dropout);
}

Tensor EncoderDecoder::embed(const Tensor& ids, const nn::Embedding& table, const nn::Embedding* position,
                             const char* arg) {
  check_ids_shape(ids, config.max_len, arg);
  const std::vector<int32_t> v = table.check_ids(ids, arg);
  const int64_t N = ids.size(0), L = ids.size(1), D = config.d_model;
  Tensor x = Tensor::empty({N, L, D}, DType::f32, "EncoderDecoder: embeddings (N, length, d_model)");
  float* xp = x.data();
  table.forward(xp, D, v.data(), N * L);
  const float scale = config.scale_embedding ? std::sqrt(static_cast<float>(D)) : 1.0f;
  const float* pos = position ? position->weight.data() : sinusoid_.data();
  for (int64_t r = 0; r < N * L; ++r) {
    float* row = xp + r * D;
    kernels::f32_scale(static_cast<size_t>(D), row, scale, row);
    kernels::f32_add(static_cast<size_t>(D), row, pos + (r % L) * D, row);
  }
  dropout.forward_(xp, N * L * D);
  return x;
}

Tensor EncoderDecoder::encode(const Tensor& src, const Tensor& src_kpm, AttentionSink* sink) {
  return transformer.encode(embed(src, src_embedding, src_position.get(), "src"), {}, src_kpm, false, sink);
}

Tensor EncoderDecoder::decode(const Tensor& tgt_in, const Tensor& memory, const Tensor& src_kpm,
                              const Tensor& tgt_kpm, AttentionSink* sink) {
  const Tensor y = embed(tgt_in, tgt_embedding, tgt_position.get(), "tgt_in");
  const Tensor h = transformer.decode(y, memory, {}, {}, tgt_kpm, src_kpm, true, false, sink);  // (N, T, D)
  const int64_t rows = h.numel() / config.d_model, V = config.tgt_vocab;
  Tensor logits = Tensor::empty({h.size(0), h.size(1), V}, DType::f32, "EncoderDecoder: logits (N, T, tgt_vocab)");
  generator.forward(logits.data(), V, h.data(), config.d_model, rows);
  return logits;
}

Tensor EncoderDecoder::forward(const Tensor& src, const Tensor& tgt_in, const Tensor& src_kpm, const Tensor& tgt_kpm,
                               AttentionSink* sink) {
  return decode(tgt_in, encode(src, src_kpm, sink), src_kpm, tgt_kpm, sink);
}

Tensor EncoderDecoder::greedy_decode(const Tensor& src, int64_t bos, int64_t eos, int64_t max_new,
                                     const Tensor& src_kpm, AttentionSink* sink) {
  const int64_t V = config.tgt_vocab, D = config.d_model;
  ATTN_CHECK(bos >= 0 && bos < V && eos >= 0 && eos < V, kWhat, ": bos (", bos, ") and eos (", eos,
             ") must be tokens in [0, ", V, ")");
  ATTN_CHECK(max_new >= 1 && max_new <= config.max_len, kWhat, ": max_new must be in [1, max_len = ", config.max_len,
             "], got ", max_new);
  const Tensor memory = encode(src, src_kpm, sink);
  const int64_t N = memory.size(0), W = max_new + 1;
  // seq (N, max_new + 1): bos, then each step's token; step t decodes the prefix seq[:, :t + 1].
  std::vector<float> seq(static_cast<size_t>(N * W), static_cast<float>(eos));
  for (int64_t n = 0; n < N; ++n) seq[n * W] = static_cast<float>(bos);
  std::vector<uint8_t> done(static_cast<size_t>(N), 0);
  std::vector<float> logits(static_cast<size_t>(V));
  int64_t made = 0;
  while (made < max_new) {
    const int64_t t = made;
    Tensor prefix = Tensor::empty({N, t + 1});
    for (int64_t n = 0; n < N; ++n)
      std::memcpy(prefix.data() + n * (t + 1), seq.data() + n * W, sizeof(float) * static_cast<size_t>(t + 1));
    const Tensor y = embed(prefix, tgt_embedding, tgt_position.get(), "tgt_in");
    const Tensor h = transformer.decode(y, memory, {}, {}, {}, src_kpm, true, false, sink);  // (N, t + 1, D)
    bool all_done = true;
    for (int64_t n = 0; n < N; ++n) {
      int64_t next = eos;
      if (!done[n]) {  // the generator on the newest position only
        generator.forward(logits.data(), V, h.data() + (n * (t + 1) + t) * D, D, 1);
        next = static_cast<int64_t>(kernels::f32_argmax(static_cast<size_t>(V), logits.data()));
      }
      seq[n * W + t + 1] = static_cast<float>(next);
      done[n] = done[n] || next == eos;
      all_done = all_done && done[n];
    }
    ++made;
    if (all_done) break;
  }
  Tensor out = Tensor::empty({N, made});
  for (int64_t n = 0; n < N; ++n)
    std::memcpy(out.data() + n * made, seq.data() + n * W + 1, sizeof(float) * static_cast<size_t>(made));
  return out;
}

}  // namespace attn
