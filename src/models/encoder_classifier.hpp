// A BERT-style encoder classifier (Devlin et al. 2019): token + learned position
// (+ segment) embeddings -> LayerNorm -> torch.nn.TransformerEncoder (post-LN, gelu, as
// BERT) -> pooler on the first ([CLS]) position (Linear + tanh) -> classifier Linear.
//
// Legend: N batch, T sequence length, D d_model, V vocab_size, C num_classes.
//   x      = word_embeddings[ids] + position_embeddings[t] + token_type_embeddings[type]   (N, T, D)
//   hidden = encoder(dropout(LayerNorm(x)), src_key_padding_mask)                          (N, T, D)
//   logits = classifier(dropout(tanh(pooler.dense(hidden[:, 0]))))                        (N, C)
// Keys (Hugging Face BERT's names for the embeddings and pooler, torch.nn's for the encoder):
//   embeddings.word_embeddings.weight (V, D), embeddings.position_embeddings.weight (max_position, D),
//   embeddings.token_type_embeddings.weight (type_vocab_size, D) when type_vocab_size > 0,
//   embeddings.LayerNorm.{weight, bias}, encoder.layers.{i}.* (nn::TransformerEncoderLayer),
//   pooler.dense.{weight, bias} (D, D), classifier.{weight (C, D), bias}.
// The torch twin is EncoderClassifierTwin in scripts/fixtures/transformer.py. Init is
// torch.nn's per module (N(0, 1) embeddings, not BERT's N(0, 0.02)): weights are meant to
// be loaded or trained.
//
// Token ids are float tensors of whole numbers (what argmax returns); the padding mask
// follows torch.nn (bool true = padding, float added), not Hugging Face's 1 = attend.
// Attention capture: encoder layer l's self-attention -> sink (l, self), [N, nhead, T, T].
#pragma once

#include <memory>

#include "attention/capture.hpp"
#include "core/module.hpp"
#include "nn/layers.hpp"
#include "nn/linear.hpp"
#include "nn/transformer.hpp"

namespace attn {

struct EncoderClassifierConfig {
  int64_t vocab_size = 0;
  int64_t max_position = 512;   // rows of the learned position table: the longest input
  int64_t type_vocab_size = 2;  // segment embedding rows; 0 = no segment embedding
  int64_t pad_id = 0;           // padding_idx of word_embeddings (its row starts at 0); -1 = none
  int64_t d_model = 128;
  int64_t nhead = 4;
  int64_t num_layers = 2;
  int64_t dim_feedforward = 512;
  int64_t num_classes = 2;
  float dropout = 0.1f;          // embeddings, every layer, before the classifier
  float layer_norm_eps = 1e-12f;  // BERT's
  uint64_t seed = 0;
};
// Throws "EncoderClassifier: <field> ..." unless every size is positive (type_vocab_size >= 0,
// pad_id -1 or a token) and every table fits the tensor budget in checked 64-bit arithmetic.
void check_config(const EncoderClassifierConfig& config);

class EncoderClassifier : public Module {
 public:
  explicit EncoderClassifier(const EncoderClassifierConfig& config);

  // input_ids (N, T), T <= max_position; key_padding_mask (N, T) (true = padding) or undefined;
  // token_type_ids (N, T) or undefined (all 0, as Hugging Face). -> hidden states (N, T, D).
  Tensor encode(const Tensor& input_ids, const Tensor& key_padding_mask = {}, const Tensor& token_type_ids = {},
                AttentionSink* sink = nullptr);
  // -> logits (N, num_classes).
  Tensor forward(const Tensor& input_ids, const Tensor& key_padding_mask = {}, const Tensor& token_type_ids = {},
                 AttentionSink* sink = nullptr);

  class Embeddings : public Module {
   public:
    Embeddings(const EncoderClassifierConfig& c, Rng& rng);
    nn::Embedding word_embeddings, position_embeddings;
    std::unique_ptr<nn::Embedding> token_type_embeddings;
    nn::LayerNorm LayerNorm;  // BERT's key name
    nn::Dropout dropout;
  };
  class Pooler : public Module {
   public:
    Pooler(int64_t d_model, Rng& rng);
    nn::Linear dense;
  };

  const EncoderClassifierConfig config;

 private:
  Rng init_rng_;  // before the layers that draw from it

 public:
  Embeddings embeddings;
  nn::TransformerEncoder encoder;
  Pooler pooler;
  nn::Dropout dropout;
  nn::Linear classifier;
};

}  // namespace attn
