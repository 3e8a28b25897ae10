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
// Attention capture: encoder layer l's self-attention -> sink (l, self), [N, nhead, T, T],
// computed straight into the sink's destination (the softmax runs in place there).
//
// Memory: every activation lives in one Arena planned at construction for max_batch items of
// max_position tokens (checked in 64 bits by check_config before anything is allocated). In eval
// mode (a loaded model) forward and encode run the layers' pointer forwards (nn/transformer.hpp)
// on the arena: the pointer forward below allocates nothing; the Tensor ones only copy their
// result out. In training mode with dropout > 0 they take the allocating Tensor path of
// nn::TransformerEncoder (dropout on the attention weights included), for any batch size.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "attention/capture.hpp"
#include "core/arena.hpp"
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
  int64_t max_batch = 1;         // the largest N forward takes: the activation arena holds max_batch * max_position rows
  uint64_t seed = 0;
};
// Throws "EncoderClassifier: <field> ..." unless every size is positive (type_vocab_size >= 0,
// pad_id -1 or a token) and every table and the activation arena fit their budgets in checked
// 64-bit arithmetic.
void check_config(const EncoderClassifierConfig& config);
// Bytes of the activation arena the config implies (checked; after check_config's size checks).
int64_t arena_bytes(const EncoderClassifierConfig& config);

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
  // The pointer API (eval semantics, allocates nothing): input_ids (N, T) int32, key_padding_mask
  // (N, T) nonzero = padding or null, token_type_ids (N, T) or null (all 0); 1 <= N <= max_batch,
  // 1 <= T <= max_position. Returns the logits (N, num_classes) in the arena, valid until the next
  // call. Throws before computing anything if a size or an id is out of range.
  const float* forward(const int32_t* input_ids, int64_t N, int64_t T, const uint8_t* key_padding_mask = nullptr,
                       const int32_t* token_type_ids = nullptr, AttentionSink* sink = nullptr);

  const Arena& activations() const { return acts_; }

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

 private:
  // True when forward must apply dropout (training mode, p > 0): the Tensor path.
  bool dropout_active() const { return is_training() && config.dropout > 0.0f; }
  // Checks N and T against the arena and the ids (throws naming `what`).
  void check_inputs(const int32_t* ids, const int32_t* types, int64_t N, int64_t T, const char* what) const;
  // x (N * T, D) = LayerNorm(word + position (+ segment)) then dropout; ids checked.
  void embed(float* x, const int32_t* ids, const int32_t* types, int64_t N, int64_t T);
  // The encoder over x_ in the arena, the key padding mask already in kpm_ when `masked`.
  void encode_arena(int64_t N, int64_t T, bool masked, AttentionSink* sink);
  // The Tensor API's eval path: checks, the mask into kpm_, embed, encode_arena.
  void encode_tensor_inputs(const std::vector<int32_t>& words, const std::vector<int32_t>& types, const Tensor& kpm,
                            int64_t N, int64_t T, AttentionSink* sink);
  // pooled (N, D), logits (N, C) from the [CLS] rows of hidden (N, T, D).
  void head(const float* hidden, int64_t N, int64_t T, float* pooled, float* logits);

  // The arena (B = max_batch, P = max_position, D = d_model, F = dim_feedforward, H = nhead).
  Tensor x_;       // (B, P, D) the residual stream: embeddings, then each layer in place
  Tensor qkv_;     // (B, P, 3, D)
  Tensor atty_;    // (B, P, D)
  Tensor proj_;    // (B, P, D)
  Tensor ff_;      // (B, P, F)
  Tensor att_;     // (H, P, P) attention weights when no sink takes them
  Tensor kpm_;     // (B, P) additive key padding mask
  Tensor pooled_;  // (B, D)
  Tensor logits_;  // (B, C)
  Arena acts_;
};

}  // namespace attn
