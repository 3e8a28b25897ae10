// EncoderClassifierTrain: training of a models/encoder_classifier.hpp EncoderClassifier on
// padded batches of (B, T) token ids with one class label each, in GptTrain's manner
// (models/gpt_train.hpp): the gradients are a second instance of the model's parameter
// layout, every activation the backward needs is saved in a training arena sized for
// (B, T) at construction, and forward()/backward() run noexcept pointer ops
// (nn/functional(_backward).hpp) after one validation of their arguments.
// The forward is the inference forward's arithmetic: BERT embeddings (word + position +
// token type 0, LayerNorm), post-LN encoder layers (x = LN1(x + SA(x)); x = LN2(x + FF(x)),
// GELU erf), key padding mask (nonzero = padding, as torch's src_key_padding_mask), the
// [CLS] pooler (tanh) on position 0 and the classifier; loss = torch.nn.functional.
// cross_entropy(logits, labels), mean over the batch. Dropout is not modelled: the model's
// dropout must be 0 (checked). backward() ACCUMULATES into the gradient arena; zero_grad()
// clears it. After an optimizer step call model.notify_parameters_changed().
// Shapes: B sequences, T tokens, N = B * T rows, D = d_model, H heads, hs = D / H, F the
// feed-forward width, K classes, L layers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/arena.hpp"
#include "models/gradients.hpp"
#include "models/encoder_classifier.hpp"
#include "nn/transformer_train.hpp"

namespace attn {

class EncoderClassifierTrain {
 public:
  // `model` must outlive this object and must not be re-packed while it lives.
  EncoderClassifierTrain(EncoderClassifier& model, int64_t B, int64_t T);
  EncoderClassifierTrain(const EncoderClassifierTrain&) = delete;
  EncoderClassifierTrain& operator=(const EncoderClassifierTrain&) = delete;

  // ids (B, T), padding (B, T) nonzero = padding (or null: none), labels (B). Returns the mean loss.
  // Throws before computing if an id or label is out of range or a row is all padding.
  float forward(const int32_t* ids, const uint8_t* padding, const int32_t* labels);
  void backward();
  void zero_grad() noexcept { grads_.zero(); }

  // The gradients in model.named_parameters() order (views of the gradient arena).
  const std::vector<Tensor>& gradients() const { return grads_.tensors(); }
  NamedTensors named_gradients() { return grads_.named(); }
  // Of the last forward: logits (B, K); the attention weights of layer l (B, H, T, T).
  const float* logits() const { return logits_.data(); }
  const float* attention(int64_t layer) const;
  int64_t batch_size() const { return B_; }
  int64_t seq_len() const { return T_; }

 private:
  struct Layer {
    const nn::TransformerEncoderLayer* m;
    nn::EncoderLayerGrads g;
    nn::EncoderLayerActs a;  // views of the training arena
  };

  EncoderClassifier& model_;
  const int64_t B_, T_;
  Gradients grads_;
  std::vector<Layer> layers_;
  float *d_word_, *d_pos_, *d_type_ = nullptr, *d_eln_w_, *d_eln_b_, *d_pool_w_, *d_pool_b_, *d_cls_w_, *d_cls_b_;

  std::vector<int32_t> ids_, labels_;
  bool has_forward_ = false;

  // The training arena. Per layer (L, ...).
  Tensor emb_;        // (N, D)  word + position + type, before the embedding LayerNorm
  Tensor emb_mean_, emb_rstd_;  // (N)
  Tensor x_;          // (L + 1, N, D) each layer's input; x_[L] the encoder's output
  Tensor qkv_;        // (L, N, 3D)
  Tensor att_;        // (L, B, H, T, T)
  Tensor atty_;       // (L, N, D)
  Tensor r1_;         // (L, N, D)  x + attention branch
  Tensor mean1_, rstd1_;  // (L, N)
  Tensor h1_;         // (L, N, D)  LN1(r1)
  Tensor f_;          // (L, N, F)  linear1 output
  Tensor fa_;         // (L, N, F)  GELU(f)
  Tensor r2_;         // (L, N, D)  h1 + feed-forward branch
  Tensor mean2_, rstd2_;  // (L, N)
  Tensor kpm_;        // (B, T) additive key padding mask
  Tensor pooled_;     // (B, D)  tanh(dense(x[:, 0]))
  Tensor logits_, probs_;  // (B, K)
  Tensor losses_;     // (B)
  // Backward scratch.
  Tensor dA_, dB_, dC_, dD_, dE_;  // (N, D)
  Tensor dqkv_;       // (N, 3D)
  Tensor df_, dfa_;   // (N, F)
  Tensor datt_;       // (T, T)
  Tensor dpool_;      // (B, D)
  Tensor dlogits_, dlosses_;  // (B, K), (B)
  Arena acts_;
};

}  // namespace attn
