// RNN encoder-decoder with attention: the translation setup of seeds 000/003
// (Bahdanau et al. 2015, "Neural Machine Translation by Jointly Learning to Align and
// Translate"; Luong et al. 2015, "Effective Approaches to Attention-based Neural
// Machine Translation"), with one of four scoring rules over the encoder outputs.
//
// Legend: N batch, S source length, T target length, E embed_dim, H hidden_size,
// V_src / V_tgt vocabularies, L num_layers. Token ids are float tensors holding
// integers (as argmax returns them), checked to be whole numbers in [0, vocab).
//
//   encoder:  h_1..h_S, state = RNN(src_embedding(src))          GRU or LSTM, batch_first
//   decoder state starts as the encoder's final state; y_0 = the first target token.
//   rule bahdanau (additive; attn::AdditiveAttention's math and keys), per step t:
//     a_t = softmax_j(w_v · tanh(W_q s_{t-1} + W_k h_j)),  s_{t-1} the top layer's previous state
//     c_t = Σ_j a_tj h_j;  s_t = RNN([emb(y_{t-1}); c_t], state);  logits_t = out(s_t)
//   rules dot / general (Luong "global attention"; general is attn::GeneralAttention's W):
//     s_t = RNN(emb(y_{t-1}), state);  a_t = softmax_j(s_t · h_j) or softmax_j(s_t · W h_j)
//     c_t = Σ_j a_tj h_j;  h~_t = tanh(combine([c_t; s_t]));  logits_t = out(h~_t)
//     (no input feeding)
//   rule concat (seed 003's `Attn`, attn::ConcatAttention's keys; the PyTorch tutorial's
//   AttnDecoderRNN): e = emb(y_{t-1}),
//     a_t = softmax over the S source positions of attn([e; s_{t-1}])[:S]   (attn scores
//           max_src_len positions; positions past S are masked out, where the tutorial
//           instead lets weight fall on zero-padded encoder outputs)
//     c_t = Σ_j a_tj h_j;  s_t = RNN(relu(attn_combine([e; c_t])), state);  logits_t = out(s_t)
//
// Keys (the PyTorch twin is class Seq2SeqRNN in scripts/fixtures/rnn_cnn.py):
//   src_embedding.weight (V_src, E), encoder.* (nn::GRU/LSTM keys), tgt_embedding.weight (V_tgt, E),
//   attention.*: bahdanau W_q.weight, W_k.weight (H, H), w_v.weight (1, H); general attn.weight (H, H);
//                concat attn.{weight (max_src_len, E + H), bias}, attn_combine.{weight (E, E + H), bias};
//                dot: none,
//   decoder.* (input size E + H for bahdanau, else E), combine.weight (H, 2H) (dot/general only, no
//   bias: Luong's W_c), out.{weight (V_tgt, H), bias}.
//
// Attention capture: every decoder step's weights over the source go to
// sink->destination(0, AttentionKind::cross, N, 1, T, S), one row per step: the teacher-forced
// forward asks for it before the first step and softmaxes each row in place there; greedy
// decoding does not know T in advance, so it writes its rows to scratch and copies them once.
// Scratch is allocated once per call; the per-step loop allocates nothing (nn::RNNBase::step).
#pragma once

#include <memory>

#include "attention/additive.hpp"
#include "attention/capture.hpp"
#include "attention/concat.hpp"
#include "attention/general.hpp"
#include "core/module.hpp"
#include "nn/linear.hpp"
#include "nn/rnn.hpp"

namespace attn {

enum class Seq2SeqRule : uint8_t { bahdanau, dot, general, concat };
const char* seq2seq_rule_name(Seq2SeqRule rule);  // "bahdanau", "dot", "general", "concat"

struct Seq2SeqConfig {
  int64_t src_vocab = 0, tgt_vocab = 0;
  int64_t embed_dim = 32, hidden_size = 32, num_layers = 1;
  nn::RnnCell cell = nn::RnnCell::gru;  // gru or lstm
  Seq2SeqRule rule = Seq2SeqRule::bahdanau;
  int64_t max_src_len = 32;  // longest source; the concat rule's attn layer scores this many positions
  uint64_t seed = 0;
};

class Seq2SeqRNN : public Module {
 public:
  explicit Seq2SeqRNN(const Seq2SeqConfig& config);

  // Teacher forcing: src (N, S), tgt_in (N, T) ids -> logits (N, T, V_tgt); step t reads tgt_in[:, t].
  Tensor forward(const Tensor& src, const Tensor& tgt_in, AttentionSink* sink = nullptr);
  // Greedy decoding from bos until every row has produced eos or max_len tokens were made:
  // -> ids (N, T') with T' <= max_len, not including bos; after a row's eos its ids are eos
  // (and eos is what it is fed, so its captured weight rows go on until T').
  Tensor greedy_decode(const Tensor& src, int64_t bos, int64_t eos, int64_t max_len, AttentionSink* sink = nullptr);

  // A table of token rows under key "weight", as torch.nn.Embedding stores it.
  class TokenTable : public Module {
   public:
    TokenTable(int64_t num, int64_t dim, Rng& rng);  // N(0, 1), torch's init
    Tensor weight;                                   // (num, dim)
  };

  const Seq2SeqConfig config;

 private:
  Rng init_rng_;  // before the layers that draw from it

 public:
  TokenTable src_embedding;
  std::unique_ptr<nn::RNNBase> encoder;
  TokenTable tgt_embedding;
  std::unique_ptr<AdditiveAttention> additive;  // bahdanau: "attention"
  std::unique_ptr<GeneralAttention> general;    // general: "attention"
  std::unique_ptr<ConcatAttention> concat;      // concat: "attention"
  std::unique_ptr<nn::RNNBase> decoder;
  std::unique_ptr<nn::Linear> combine;          // dot, general
  nn::Linear out;

 private:
  struct Decoding;  // the per-call scratch and the step loop (seq2seq_rnn.cpp)
  Tensor encode(const Tensor& src, Tensor* h, Tensor* c);
};

}  // namespace attn
