#include "models/seq2seq_rnn.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/activation.hpp"
#include "kernels/additive.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/reduce.hpp"
#include "kernels/softmax.hpp"
#include "ops/ops.hpp"

namespace attn {

const char* seq2seq_rule_name(Seq2SeqRule rule) {
  switch (rule) {
    case Seq2SeqRule::bahdanau: return "bahdanau";
    case Seq2SeqRule::dot: return "dot";
    case Seq2SeqRule::general: return "general";
    case Seq2SeqRule::concat: return "concat";
  }
  return "?";
}

namespace {

constexpr const char* kWhat = "Seq2SeqRNN";

const Seq2SeqConfig& checked(const Seq2SeqConfig& c) {
  ATTN_CHECK(c.src_vocab > 0 && c.tgt_vocab > 0, kWhat, ": src_vocab and tgt_vocab must be positive, got ", c.src_vocab,
             " and ", c.tgt_vocab);
  ATTN_CHECK(c.embed_dim > 0 && c.hidden_size > 0 && c.num_layers > 0, kWhat,
             ": embed_dim, hidden_size and num_layers must be positive, got ", c.embed_dim, ", ", c.hidden_size, ", ",
             c.num_layers);
  ATTN_CHECK(c.cell == nn::RnnCell::gru || c.cell == nn::RnnCell::lstm, kWhat, ": cell must be GRU or LSTM");
  ATTN_CHECK(c.max_src_len > 0, kWhat, ": max_src_len must be positive, got ", c.max_src_len);
  ATTN_CHECK(c.max_tgt_len > 0, kWhat, ": max_tgt_len must be positive, got ", c.max_tgt_len);
  ATTN_CHECK(c.max_batch > 0, kWhat, ": max_batch must be positive, got ", c.max_batch);
  checked_mul(c.src_vocab, c.embed_dim, kWhat);
  checked_mul(c.tgt_vocab, c.embed_dim, kWhat);
  checked_mul(c.tgt_vocab, c.hidden_size, kWhat);
  checked_add(c.embed_dim, c.hidden_size, kWhat);
  return c;
}

std::unique_ptr<nn::RNNBase> make_rnn(const Seq2SeqConfig& c, int64_t input_size, uint64_t seed) {
  if (c.cell == nn::RnnCell::lstm)
    return std::make_unique<nn::LSTM>(input_size, c.hidden_size, c.num_layers, true, true, 0.0f, false, 0, seed);
  return std::make_unique<nn::GRU>(input_size, c.hidden_size, c.num_layers, true, true, 0.0f, false, seed);
}

// Ids (N, len) as int32, each checked to be a whole number in [0, vocab).
std::vector<int32_t> token_ids(const Tensor& t, int64_t vocab, const char* arg) {
  ATTN_CHECK(t.defined() && t.dtype() == DType::f32, kWhat, ": ", arg, " must be a float32 tensor of token ids");
  ATTN_CHECK(t.dim() == 2 && t.size(0) > 0 && t.size(1) > 0, kWhat, ": ", arg,
             " must be (N, length) with N, length >= 1, got ", t.shape());
  const std::vector<float> v = t.to_vector();
  std::vector<int32_t> ids(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const float x = v[i];
    ATTN_CHECK(x >= 0.0f && x < static_cast<float>(vocab) && std::floor(x) == x, kWhat, ": ", arg, " holds id ", x,
               " at flat index ", i, "; ids must be whole numbers in [0, ", vocab, ")");
    ids[i] = static_cast<int32_t>(x);
  }
  return ids;
}

// The pointer API's id check: the message of token_ids.
void check_ids(const int32_t* ids, int64_t n, int64_t vocab, const char* what, const char* arg) {
  ATTN_CHECK(ids != nullptr, what, ": ", arg, " is null");
  for (int64_t i = 0; i < n; ++i)
    ATTN_CHECK(ids[i] >= 0 && ids[i] < vocab, what, ": ", arg, " holds id ", ids[i], " at flat index ", i,
               "; ids must be whole numbers in [0, ", vocab, ")");
}

}  // namespace

Seq2SeqRNN::Seq2SeqRNN(const Seq2SeqConfig& cfg)
    : config(checked(cfg)),
      init_rng_(cfg.seed),
      src_embedding(cfg.src_vocab, cfg.embed_dim, std::nullopt, init_rng_),
      tgt_embedding(cfg.tgt_vocab, cfg.embed_dim, std::nullopt, init_rng_),
      out(cfg.hidden_size, cfg.tgt_vocab, true, init_rng_) {
  module_name_ = kWhat;
  const int64_t E = cfg.embed_dim, H = cfg.hidden_size;
  encoder = make_rnn(cfg, E, cfg.seed + 1);
  register_module("src_embedding", src_embedding);
  register_module("encoder", *encoder);
  register_module("tgt_embedding", tgt_embedding);
  switch (cfg.rule) {
    case Seq2SeqRule::bahdanau:
      additive = std::make_unique<AdditiveAttention>(H, H, H, cfg.seed + 2);
      register_module("attention", *additive);
      break;
    case Seq2SeqRule::general:
      general = std::make_unique<GeneralAttention>(H, H, cfg.seed + 2);
      register_module("attention", *general);
      break;
    case Seq2SeqRule::concat:
      concat = std::make_unique<ConcatAttention>(E, H, cfg.max_src_len, H, E, cfg.seed + 2);
      register_module("attention", *concat);
      break;
    case Seq2SeqRule::dot: break;
  }
  decoder = make_rnn(cfg, cfg.rule == Seq2SeqRule::bahdanau ? E + H : E, cfg.seed + 3);
  register_module("decoder", *decoder);
  if (cfg.rule == Seq2SeqRule::dot || cfg.rule == Seq2SeqRule::general) {
    combine = std::make_unique<nn::Linear>(2 * H, H, false, init_rng_);
    register_module("combine", *combine);
  }
  register_module("out", out);

  // The activation plan: add() checks every slot's shape (64-bit, per-tensor budget) and
  // allocate() the total, before anything is allocated; a failure names the config's maxima.
  const int64_t B = cfg.max_batch, Sm = cfg.max_src_len, Tm = cfg.max_tgt_len, L = cfg.num_layers;
  try {
    acts_.add("emb", &emb_, {Sm, B, E});
    acts_.add("enc", &enc_, {Sm, B, H});
    acts_.add("enc_scratch", &enc_scratch_, {encoder->forward_scratch(Sm, B)});
    if (cfg.rule == Seq2SeqRule::bahdanau || cfg.rule == Seq2SeqRule::general) acts_.add("keys", &keys_, {Sm, B, H});
    acts_.add("h", &h_, {L, B, H});
    if (decoder->has_cell_state()) acts_.add("c", &c_, {L, B, H});
    acts_.add("x_in", &x_in_, {B, decoder->layer_input_size(0)});
    acts_.add("gx", &gx_, {B, checked_mul(decoder->gates(), H, kWhat)});
    acts_.add("step_scratch", &step_scratch_, {checked_mul(B, checked_mul(decoder->gates() + 1, H, kWhat), kWhat)});
    acts_.add("q", &q_, {B, H});
    acts_.add("ctx", &ctx_, {B, H});
    acts_.add("att", &att_, {B, H});
    acts_.add("cat", &cat_, {B, std::max(E + H, checked_mul(2, H, kWhat))});
    if (cfg.rule == Seq2SeqRule::concat) acts_.add("full_scores", &full_scores_, {B, Sm});
    acts_.add("weights", &weights_, {B, Tm, Sm});
    acts_.add("logits", &logits_, {B, Tm, cfg.tgt_vocab});
    acts_.allocate("Seq2SeqRNN activations");
  } catch (const Error& e) {
    fail(kWhat, ": the activations for max_batch=", B, ", max_src_len=", Sm, ", max_tgt_len=", Tm, " do not fit: ",
         e.what());
  }
  tokens_.assign(static_cast<size_t>(B), 0);
  done_.assign(static_cast<size_t>(B), 0);
}

void Seq2SeqRNN::check_src(const int32_t* src, int64_t N, int64_t S, const char* what) const {
  ATTN_CHECK(N >= 1 && N <= config.max_batch, what, ": batch of ", N,
             " sequences but the model's activations are planned for 1..", config.max_batch, " (config max_batch)");
  ATTN_CHECK(S >= 1 && S <= config.max_src_len, what, ": src has ", S, " positions but the model ",
             config.rule == Seq2SeqRule::concat ? "(whose concat rule scores max_src_len positions) " : "",
             "is planned for 1..max_src_len=", config.max_src_len);
  check_ids(src, checked_mul(N, S, what), config.src_vocab, what, "src");
}

void Seq2SeqRNN::encode(const int32_t* src, int64_t N, int64_t S) noexcept {
  const int64_t E = config.embed_dim, H = config.hidden_size, L = config.num_layers;
  float* emb = emb_.data();
  for (int64_t n = 0; n < N; ++n)  // time-major: row (s, n) = src_embedding[src[n, s]]
    for (int64_t s = 0; s < S; ++s) src_embedding.forward(emb + (s * N + n) * E, E, src + n * S + s, 1);
  // The encoder starts from zeros (torch's default) and leaves its final state in h_/c_: the
  // decoder's initial state.
  std::fill(h_.data(), h_.data() + L * N * H, 0.0f);
  if (c_.defined()) std::fill(c_.data(), c_.data() + L * N * H, 0.0f);
  encoder->forward(enc_.data(), h_.data(), c_.defined() ? c_.data() : nullptr, emb, S, N, enc_scratch_.data());
  if (config.rule == Seq2SeqRule::bahdanau || config.rule == Seq2SeqRule::general) {
    const nn::Linear& w = config.rule == Seq2SeqRule::bahdanau ? additive->W_k : general->attn;
    w.forward(keys_.data(), H, enc_.data(), H, S * N);
  }
}

void Seq2SeqRNN::rnn_step(int64_t N) noexcept {
  const int64_t H = config.hidden_size;
  for (int64_t k = 0; k < config.num_layers; ++k) {
    const float* input = k == 0 ? x_in_.data() : h_.data() + (k - 1) * N * H;
    decoder->project_input(k, 0, input, N, gx_.data());
    decoder->step(k, 0, gx_.data(), N, h_.data() + k * N * H, c_.defined() ? c_.data() + k * N * H : nullptr,
                  step_scratch_.data());
  }
}

void Seq2SeqRNN::attend(float* w, int64_t w_stride, int64_t N, int64_t S) noexcept {
  const int64_t H = config.hidden_size;
  for (int64_t n = 0; n < N; ++n) {
    float* row = w + n * w_stride;
    kernels::f32_softmax(S, row, 1.0f, nullptr, nullptr, row);
    float* cn = ctx_.data() + n * H;
    std::fill(cn, cn + H, 0.0f);
    for (int64_t j = 0; j < S; ++j) kernels::f32_axpy(H, row[j], enc_.data() + (j * N + n) * H, cn);
  }
}

namespace {
// rows n of dst (width a + b) = [A_n; B_n], A and B with row strides lda, ldb
void concat_rows(int64_t rows, const float* A, int64_t a, int64_t lda, const float* B, int64_t b, int64_t ldb,
                 float* dst) noexcept {
  for (int64_t n = 0; n < rows; ++n) {
    std::copy(A + n * lda, A + n * lda + a, dst + n * (a + b));
    std::copy(B + n * ldb, B + n * ldb + b, dst + n * (a + b) + a);
  }
}
}  // namespace

void Seq2SeqRNN::step(const int32_t* tokens, int64_t N, int64_t S, float* w, int64_t w_stride, float* logits,
                      int64_t ld) noexcept {
  const int64_t E = config.embed_dim, H = config.hidden_size;
  float* x_in = x_in_.data();
  float* cat = cat_.data();
  switch (config.rule) {
    case Seq2SeqRule::bahdanau: {
      additive->W_q.forward(q_.data(), H, top(N), H, N);
      const float* v = additive->w_v.weight.data();
      for (int64_t n = 0; n < N; ++n)
        for (int64_t j = 0; j < S; ++j)
          w[n * w_stride + j] = kernels::f32_additive_score(H, q_.data() + n * H, keys_.data() + (j * N + n) * H, v);
      attend(w, w_stride, N, S);
      tgt_embedding.forward(x_in, E + H, tokens, N);  // [e; c_t]
      for (int64_t n = 0; n < N; ++n) std::copy(ctx_.data() + n * H, ctx_.data() + (n + 1) * H, x_in + n * (E + H) + E);
      rnn_step(N);
      out.forward(logits, ld, top(N), H, N);
      break;
    }
    case Seq2SeqRule::dot:
    case Seq2SeqRule::general: {
      tgt_embedding.forward(x_in, E, tokens, N);
      rnn_step(N);
      const float* k = config.rule == Seq2SeqRule::dot ? enc_.data() : keys_.data();
      for (int64_t n = 0; n < N; ++n)
        for (int64_t j = 0; j < S; ++j) w[n * w_stride + j] = kernels::f32_dot(H, top(N) + n * H, k + (j * N + n) * H);
      attend(w, w_stride, N, S);
      concat_rows(N, ctx_.data(), H, H, top(N), H, H, cat);  // [c_t; s_t]
      combine->forward(att_.data(), H, cat, 2 * H, N);
      kernels::f32_tanh(N * H, att_.data(), att_.data());
      out.forward(logits, ld, att_.data(), H, N);
      break;
    }
    case Seq2SeqRule::concat: {
      const int64_t P = config.max_src_len;
      tgt_embedding.forward(cat, E + H, tokens, N);  // [e; s_{t-1}]
      for (int64_t n = 0; n < N; ++n) std::copy(top(N) + n * H, top(N) + (n + 1) * H, cat + n * (E + H) + E);
      float* scores = full_scores_.data();
      concat->attn.forward(scores, P, cat, E + H, N);
      for (int64_t n = 0; n < N; ++n) std::copy(scores + n * P, scores + n * P + S, w + n * w_stride);
      attend(w, w_stride, N, S);
      for (int64_t n = 0; n < N; ++n)  // [e; c_t] (e is still in cat's first E columns)
        std::copy(ctx_.data() + n * H, ctx_.data() + (n + 1) * H, cat + n * (E + H) + E);
      concat->attn_combine.forward(x_in, E, cat, E + H, N);
      kernels::f32_relu(N * E, x_in, x_in);
      rnn_step(N);
      out.forward(logits, ld, top(N), H, N);
      break;
    }
  }
}

const float* Seq2SeqRNN::forward(const int32_t* src, int64_t N, int64_t S, const int32_t* tgt_in, int64_t T,
                                 AttentionSink* sink) {
  const char* what = "Seq2SeqRNN";
  check_src(src, N, S, what);
  ATTN_CHECK(T >= 1 && T <= config.max_tgt_len, what, ": tgt_in has ", T,
             " positions but the model is planned for 1..max_tgt_len=", config.max_tgt_len);
  check_ids(tgt_in, N * T, config.tgt_vocab, what, "tgt_in");
  const int64_t V = config.tgt_vocab;
  // The weights are scored and softmaxed straight into the sink's destination (N, 1, T, S).
  float* w = sink ? sink->destination(0, AttentionKind::cross, N, 1, T, S) : nullptr;
  if (!w) w = weights_.data();
  encode(src, N, S);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t n = 0; n < N; ++n) tokens_[n] = tgt_in[n * T + t];
    step(tokens_.data(), N, S, w + t * S, T * S, logits_.data() + t * V, T * V);
  }
  return logits_.data();
}

int64_t Seq2SeqRNN::greedy_decode(int32_t* ids, const int32_t* src, int64_t N, int64_t S, int64_t bos, int64_t eos,
                                  int64_t max_len, AttentionSink* sink) {
  const char* what = "Seq2SeqRNN";
  const int64_t V = config.tgt_vocab;
  ATTN_CHECK(bos >= 0 && bos < V && eos >= 0 && eos < V, what, ": bos (", bos, ") and eos (", eos, ") must be in [0, ",
             V, ")");
  ATTN_CHECK(max_len > 0, what, ": max_len must be positive, got ", max_len);
  ATTN_CHECK(max_len <= config.max_tgt_len, what, ": max_len ", max_len,
             " is more than the model is planned for (max_tgt_len=", config.max_tgt_len, ")");
  ATTN_CHECK(ids != nullptr, what, ": out is null");
  check_src(src, N, S, what);
  encode(src, N, S);
  // Rows (N, max_len, S) staged in the arena: T' is known only at the end.
  float* w = weights_.data();
  float* logits = logits_.data();
  std::fill(tokens_.begin(), tokens_.begin() + N, static_cast<int32_t>(bos));
  std::fill(done_.begin(), done_.begin() + N, uint8_t{0});
  int64_t T = 0, remaining = N;
  while (T < max_len && remaining > 0) {
    step(tokens_.data(), N, S, w + T * S, max_len * S, logits, V);
    for (int64_t n = 0; n < N; ++n) {
      if (!done_[n]) tokens_[n] = static_cast<int32_t>(kernels::f32_argmax(V, logits + n * V));
      ids[n * max_len + T] = tokens_[n];
      if (!done_[n] && tokens_[n] == eos) {
        done_[n] = 1;
        --remaining;
      }
    }
    ++T;
  }
  if (sink) {
    if (float* dst = sink->destination(0, AttentionKind::cross, N, 1, T, S))
      for (int64_t n = 0; n < N; ++n) std::copy(w + n * max_len * S, w + (n * max_len + T) * S, dst + n * T * S);
  }
  return T;
}

Tensor Seq2SeqRNN::forward(const Tensor& src, const Tensor& tgt_in, AttentionSink* sink) {
  const std::vector<int32_t> tgt = token_ids(tgt_in, config.tgt_vocab, "tgt_in");
  ATTN_CHECK(src.defined() && src.dim() == 2 && tgt_in.size(0) == src.size(0), kWhat, ": tgt_in has batch ",
             tgt_in.size(0), " but src has shape ", src.defined() ? shape_str(src.shape()) : std::string("undefined"));
  const std::vector<int32_t> s = token_ids(src, config.src_vocab, "src");
  const int64_t N = src.size(0), T = tgt_in.size(1), V = config.tgt_vocab;
  const float* logits = forward(s.data(), N, src.size(1), tgt.data(), T, sink);
  Tensor result = Tensor::empty({N, T, V}, DType::f32, kWhat);
  std::copy(logits, logits + N * T * V, result.data());
  return result;
}

Tensor Seq2SeqRNN::greedy_decode(const Tensor& src, int64_t bos, int64_t eos, int64_t max_len, AttentionSink* sink) {
  const std::vector<int32_t> s = token_ids(src, config.src_vocab, "src");
  const int64_t N = src.size(0);
  ATTN_CHECK(max_len > 0, kWhat, ": max_len must be positive, got ", max_len);
  std::vector<int32_t> ids(static_cast<size_t>(checked_mul(N, std::min(max_len, config.max_tgt_len), kWhat)));
  const int64_t T = greedy_decode(ids.data(), s.data(), N, src.size(1), bos, eos, max_len, sink);
  Tensor out_ids = Tensor::empty({N, T});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t t = 0; t < T; ++t) out_ids.data()[n * T + t] = static_cast<float>(ids[n * max_len + t]);
  return out_ids;
}

}  // namespace attn
