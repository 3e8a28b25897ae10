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
// forward asks for it before the first step and scores and softmaxes each row in place there;
// greedy decoding does not know T until it stops, so it stages its rows in the arena and
// copies them into the destination once, at the end.
//
// Memory: every activation lives in one Arena planned at construction for max_batch sequences
// of up to max_src_len source and max_tgt_len target tokens (sizes checked in 64 bits before
// anything is allocated): the source embeddings, the encoder's outputs and scratch (nn::RNNBase's
// pointer forward), the decoder state and step scratch, the attention rows and the logits. The
// pointer API allocates nothing; the Tensor API allocates only its result. (The model has no
// dropout, so training and eval mode compute the same.)
#pragma once

#include <memory>
#include <vector>

#include "attention/additive.hpp"
#include "attention/capture.hpp"
#include "attention/concat.hpp"
#include "attention/general.hpp"
#include "core/arena.hpp"
#include "core/module.hpp"
#include "nn/layers.hpp"
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
  int64_t max_tgt_len = 64;  // longest target: teacher-forced T and greedy max_len
  int64_t max_batch = 1;     // most sequences per call
  uint64_t seed = 0;
};

class Seq2SeqRNN : public Module {
 public:
  explicit Seq2SeqRNN(const Seq2SeqConfig& config);

  // Teacher forcing: src (N, S), tgt_in (N, T) ids -> logits (N, T, V_tgt); step t reads tgt_in[:, t].
  // 1 <= N <= max_batch, 1 <= S <= max_src_len, 1 <= T <= max_tgt_len.
  Tensor forward(const Tensor& src, const Tensor& tgt_in, AttentionSink* sink = nullptr);
  // Greedy decoding from bos until every row has produced eos or max_len tokens were made:
  // -> ids (N, T') with T' <= max_len <= max_tgt_len, not including bos; after a row's eos its ids
  // are eos (and eos is what it is fed, so its captured weight rows go on until T').
  Tensor greedy_decode(const Tensor& src, int64_t bos, int64_t eos, int64_t max_len, AttentionSink* sink = nullptr);

  // The pointer API, int32 ids, same limits; throws before computing anything if a size or an id
  // is out of range; without a sink it allocates nothing.
  // forward: src (N, S), tgt_in (N, T) -> logits (N, T, V_tgt) in the arena, valid until the next call.
  const float* forward(const int32_t* src, int64_t N, int64_t S, const int32_t* tgt_in, int64_t T,
                       AttentionSink* sink = nullptr);
  // greedy_decode into out (N, max_len) (row stride max_len; entries past the returned T' are not written) -> T'.
  int64_t greedy_decode(int32_t* out, const int32_t* src, int64_t N, int64_t S, int64_t bos, int64_t eos,
                        int64_t max_len, AttentionSink* sink = nullptr);

  const Arena& activations() const { return acts_; }

  const Seq2SeqConfig config;

 private:
  Rng init_rng_;  // before the layers that draw from it

 public:
  nn::Embedding src_embedding;  // (V_src, E), torch.nn.Embedding's key "weight"
  std::unique_ptr<nn::RNNBase> encoder;
  nn::Embedding tgt_embedding;  // (V_tgt, E)
  std::unique_ptr<AdditiveAttention> additive;  // bahdanau: "attention"
  std::unique_ptr<GeneralAttention> general;    // general: "attention"
  std::unique_ptr<ConcatAttention> concat;      // concat: "attention"
  std::unique_ptr<nn::RNNBase> decoder;
  std::unique_ptr<nn::Linear> combine;          // dot, general
  nn::Linear out;

 private:
  // Throws naming `what` unless 1 <= N <= max_batch, 1 <= S <= max_src_len and every id of
  // src (N, S) is in [0, V_src).
  void check_src(const int32_t* src, int64_t N, int64_t S, const char* what) const;
  // The encoder over src (N, S): enc_ (S, N, H), the decoder state h_/c_ = the encoder's final
  // state, keys_ (bahdanau W_k h_j, general W h_j).
  void encode(const int32_t* src, int64_t N, int64_t S) noexcept;
  // The decoder's layers over x_in_ for one step.
  void rnn_step(int64_t N) noexcept;
  // Row n of this step's weights, w + n * w_stride (S scores, softmaxed in place) -> ctx_ = sum_j w_j h_j.
  void attend(float* w, int64_t w_stride, int64_t N, int64_t S) noexcept;
  // One decoder step for tokens (N): attention row n -> w + n * w_stride, logits row n -> logits + n * ld.
  void step(const int32_t* tokens, int64_t N, int64_t S, float* w, int64_t w_stride, float* logits,
            int64_t ld) noexcept;
  float* top(int64_t N) { return h_.data() + (config.num_layers - 1) * N * config.hidden_size; }

  std::vector<int32_t> tokens_;  // (B) this step's input tokens (sized at construction)
  std::vector<uint8_t> done_;    // (B) greedy: rows that produced eos

  // The arena (B = max_batch, Sm = max_src_len, Tm = max_tgt_len, L = num_layers, G the cell's
  // gates; time-major rows (S, N) use the call's N and S, packed at the slot's start).
  Tensor emb_;          // (Sm, B, E) source embeddings
  Tensor enc_;          // (Sm, B, H) encoder outputs h_j
  Tensor enc_scratch_;  // the encoder's pointer-forward scratch for (Sm, B)
  Tensor keys_;         // (Sm, B, H) bahdanau / general only
  Tensor h_, c_;        // (L, B, H) decoder state; c_ for LSTM only
  Tensor x_in_;         // (B, decoder input): [e; c] (bahdanau), e (dot/general), relu(attn_combine) (concat)
  Tensor gx_;           // (B, G*H)
  Tensor step_scratch_; // the decoder's step scratch for B rows
  Tensor q_, ctx_, att_;  // (B, H)
  Tensor cat_;          // (B, max(E + H, 2H))
  Tensor full_scores_;  // (B, Sm) concat only
  Tensor weights_;      // (B, Tm, Sm) attention rows without a sink; greedy's staging rows
  Tensor logits_;       // (B, Tm, V_tgt)
  Arena acts_;
};

}  // namespace attn
