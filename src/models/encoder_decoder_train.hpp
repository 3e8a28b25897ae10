// EncoderDecoderTrain: teacher-forced training of a models/encoder_decoder.hpp EncoderDecoder
// (torch's nn.Transformer with embeddings, positions and a generator) on padded batches, in
// GptTrain's manner (models/gpt_train.hpp): a gradient arena with the parameters' layout, a
// training arena of saved activations sized for (B, S, T) at construction, noexcept pointer
// passes (nn/transformer_train.hpp) after one validation of the arguments.
//   memory = LN_enc(encoder(src_emb * sqrt(D) + pos)), with the source padding mask
//   logits = generator(LN_dec(decoder(tgt_emb * sqrt(D) + pos, memory)))   (causal self-attention)
//   loss   = torch.nn.functional.cross_entropy(logits, targets, ignore_index), mean over the
//            targets not ignored
// Post-LN layers and dropout 0 only (checked). backward() ACCUMULATES; zero_grad() clears.
// After an optimizer step call model.notify_parameters_changed().
// Shapes: B sequences; S source and T target tokens each; D = d_model, H heads, F the
// feed-forward width, V the target vocabulary.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/arena.hpp"
#include "models/gradients.hpp"
#include "models/encoder_decoder.hpp"
#include "nn/transformer_train.hpp"

namespace attn {

class EncoderDecoderTrain {
 public:
  EncoderDecoderTrain(EncoderDecoder& model, int64_t B, int64_t S, int64_t T, int64_t ignore_index = -100);
  EncoderDecoderTrain(const EncoderDecoderTrain&) = delete;
  EncoderDecoderTrain& operator=(const EncoderDecoderTrain&) = delete;

  // src (B, S), src_padding (B, S) nonzero = padding (or null), tgt_in (B, T) decoder inputs,
  // targets (B, T) (ignore_index where nothing is to be predicted). Returns the mean loss.
  float forward(const int32_t* src, const uint8_t* src_padding, const int32_t* tgt_in, const int32_t* targets);
  void backward();
  void zero_grad() noexcept { grads_.zero(); }

  const std::vector<Tensor>& gradients() const { return grads_.tensors(); }
  NamedTensors named_gradients() { return grads_.named(); }
  const float* logits() const { return logits_.data(); }  // (B * T, V) of the last forward

 private:
  EncoderDecoder& model_;
  const int64_t B_, S_, T_, ignore_index_;
  Gradients grads_;
  std::vector<nn::EncoderLayerActs> enc_;
  std::vector<nn::EncoderLayerGrads> enc_g_;
  std::vector<nn::DecoderLayerActs> dec_;
  std::vector<nn::DecoderLayerGrads> dec_g_;
  float *d_src_emb_, *d_tgt_emb_, *d_src_pos_ = nullptr, *d_tgt_pos_ = nullptr;
  float *d_enc_norm_w_, *d_enc_norm_b_, *d_dec_norm_w_, *d_dec_norm_b_, *d_gen_w_, *d_gen_b_;

  std::vector<int32_t> src_, tgt_, targets_;
  int64_t count_ = 0;
  bool has_forward_ = false;
  bool masked_ = false;

  Tensor sinusoid_;  // (max_len, D) when the positions are sinusoidal
  // The training arena. Encoder per layer (Le, ...), decoder per layer (Ld, ...).
  Tensor xs_;                  // (Le + 1, M, D) encoder inputs; [Le] the encoder's output
  Tensor e_qkv_, e_att_, e_atty_, e_r1_, e_m1_, e_s1_, e_h1_, e_f_, e_fa_, e_r2_, e_m2_, e_s2_;
  Tensor memory_, mem_mean_, mem_rstd_;  // (M, D), (M): LN_enc of the encoder's output
  Tensor xt_;                  // (Ld + 1, N, D) decoder inputs; [Ld] the decoder's output
  Tensor d_qkv_, d_att_, d_atty_, d_r1_, d_m1_, d_s1_, d_h1_, d_q2_, d_kv2_, d_attc_, d_attyc_, d_r2_, d_m2_, d_s2_,
      d_h2_, d_f_, d_fa_, d_r3_, d_m3_, d_s3_;
  Tensor dec_out_, dec_mean_, dec_rstd_;  // (N, D), (N): LN_dec
  Tensor logits_, probs_, losses_;        // (N, V), (N, V), (N)
  Tensor src_kpm_;                        // (B, S) additive
  // Backward scratch.
  Tensor g1_, g2_, g3_, ga_, gb_;  // (max(N, M), D)
  Tensor gmem_;                    // (M, D) d memory
  Tensor gqkv_;                    // (max(N, M), 3D)
  Tensor gf_, gfa_;                // (max(N, M), F)
  Tensor gatt_;                    // (max(S, T), max(S, T))
  Tensor gkv_;                     // (M, 2D)
  Tensor dlogits_, dlosses_;       // (N, V), (N)
  Arena acts_;
};

}  // namespace attn
