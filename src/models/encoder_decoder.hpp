// An encoder-decoder Transformer for sequence-to-sequence tasks (Vaswani et al. 2017;
// the PyTorch "Language Translation with nn.Transformer" tutorial's Seq2SeqTransformer):
// token embeddings scaled by sqrt(d_model) plus sinusoidal or learned positions, a
// torch.nn.Transformer (batch_first), and a generator Linear to the target vocabulary.
//
// Legend: N batch, S source length, T target length, D d_model, V_src / V_tgt vocabularies.
//   memory = transformer.encoder(embed(src), src_key_padding_mask)                        (N, S, D)
//   logits = generator(transformer.decoder(embed(tgt_in), memory, causal tgt mask,
//                       tgt_key_padding_mask, memory_key_padding_mask = src's))           (N, T, V_tgt)
//   embed(ids) = dropout(table[ids] * sqrt(D) + position[t])
//   sinusoidal positions: attn::sinusoidal_table (PE[t, 2i] = sin(t / 10000^(2i/D)), cos for 2i+1).
// Keys (the torch twin is EncoderDecoderTwin in scripts/fixtures/transformer.py):
//   src_embedding.weight (V_src, D), tgt_embedding.weight (V_tgt, D),
//   src_position.weight, tgt_position.weight (max_len, D) with learned positions,
//   transformer.* (nn::Transformer: encoder.layers.{i}.*, encoder.norm.*, decoder.layers.{i}.*,
//   decoder.norm.*), generator.{weight (V_tgt, D), bias}.
//
// Token ids are float tensors of whole numbers; padding masks are torch.nn's (true = padding).
// Attention capture, one sink for the whole model: encoder layer l -> (l, self) [N, H, S, S];
// decoder layer l -> (num_encoder_layers + l, self) [N, H, T, T] and (num_encoder_layers + l,
// cross) [N, H, T, S].
#pragma once

#include <memory>

#include "attention/capture.hpp"
#include "core/module.hpp"
#include "nn/layers.hpp"
#include "nn/linear.hpp"
#include "nn/transformer.hpp"

namespace attn {

enum class PositionEncoding : uint8_t { sinusoidal, learned };

struct EncoderDecoderConfig {
  int64_t src_vocab = 0, tgt_vocab = 0;
  int64_t d_model = 64;
  int64_t nhead = 4;
  int64_t num_encoder_layers = 2;
  int64_t num_decoder_layers = 2;
  int64_t dim_feedforward = 256;
  float dropout = 0.1f;
  nn::Activation activation = nn::Activation::relu;  // relu, gelu or gelu_tanh
  float layer_norm_eps = 1e-5f;
  bool norm_first = false;
  int64_t max_len = 256;  // longest source or target (the position tables' rows)
  PositionEncoding positions = PositionEncoding::sinusoidal;
  bool scale_embedding = true;  // multiply token embeddings by sqrt(d_model), as Vaswani et al.
  uint64_t seed = 0;
};
// Throws "EncoderDecoder: <field> ..." unless the sizes are usable and every table fits the
// tensor budget in checked 64-bit arithmetic.
void check_config(const EncoderDecoderConfig& config);

class EncoderDecoder : public Module {
 public:
  explicit EncoderDecoder(const EncoderDecoderConfig& config);

  // src (N, S) ids, S <= max_len -> memory (N, S, D).
  Tensor encode(const Tensor& src, const Tensor& src_key_padding_mask = {}, AttentionSink* sink = nullptr);
  // tgt_in (N, T) ids, memory from encode -> logits (N, T, V_tgt); the causal mask is built here.
  Tensor decode(const Tensor& tgt_in, const Tensor& memory, const Tensor& src_key_padding_mask = {},
                const Tensor& tgt_key_padding_mask = {}, AttentionSink* sink = nullptr);
  // Teacher forcing: decode(tgt_in, encode(src)).
  Tensor forward(const Tensor& src, const Tensor& tgt_in, const Tensor& src_key_padding_mask = {},
                 const Tensor& tgt_key_padding_mask = {}, AttentionSink* sink = nullptr);

  // Greedy decoding: encodes once, then feeds bos and each argmax back until every row has
  // produced eos or max_new tokens were made -> ids (N, T') with T' <= max_new, bos not
  // included; after a row's eos its ids (and what it is fed) are eos. Every step re-runs the
  // decoder over the whole prefix (no KV cache; the prefix is at most max_len - 1 tokens).
  // The sink ends up holding the last step's decoder maps, which cover the whole output: with
  // the causal mask, earlier rows equal the earlier steps'.
  Tensor greedy_decode(const Tensor& src, int64_t bos, int64_t eos, int64_t max_new,
                       const Tensor& src_key_padding_mask = {}, AttentionSink* sink = nullptr);

  const EncoderDecoderConfig config;

 private:
  Rng init_rng_;  // before the layers that draw from it

 public:
  nn::Embedding src_embedding, tgt_embedding;
  std::unique_ptr<nn::Embedding> src_position, tgt_position;  // learned positions only
  nn::Transformer transformer;
  nn::Linear generator;
  nn::Dropout dropout;

 private:
  Tensor sinusoid_;  // (max_len, D), sinusoidal positions only
  Tensor embed(const Tensor& ids, const nn::Embedding& table, const nn::Embedding* position, const char* arg);
};

}  // namespace attn
