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

// Ids (N, len) as integers, each checked to be a whole number in [0, vocab).
std::vector<int64_t> token_ids(const Tensor& t, int64_t vocab, const char* arg) {
  ATTN_CHECK(t.defined() && t.dtype() == DType::f32, kWhat, ": ", arg, " must be a float32 tensor of token ids");
  ATTN_CHECK(t.dim() == 2 && t.size(0) > 0 && t.size(1) > 0, kWhat, ": ", arg,
             " must be (N, length) with N, length >= 1, got ", t.shape());
  const std::vector<float> v = t.to_vector();
  std::vector<int64_t> ids(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const float x = v[i];
    ATTN_CHECK(x >= 0.0f && x < static_cast<float>(vocab) && std::floor(x) == x, kWhat, ": ", arg, " holds id ", x,
               " at flat index ", i, "; ids must be whole numbers in [0, ", vocab, ")");
    ids[i] = static_cast<int64_t>(x);
  }
  return ids;
}

}  // namespace

Seq2SeqRNN::TokenTable::TokenTable(int64_t num, int64_t dim, Rng& rng) {
  module_name_ = "Embedding";
  weight = randn({num, dim}, rng);
  register_parameter("weight", weight);
}

Seq2SeqRNN::Seq2SeqRNN(const Seq2SeqConfig& cfg)
    : config(checked(cfg)),
      init_rng_(cfg.seed),
      src_embedding(cfg.src_vocab, cfg.embed_dim, init_rng_),
      tgt_embedding(cfg.tgt_vocab, cfg.embed_dim, init_rng_),
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
}

Tensor Seq2SeqRNN::encode(const Tensor& src, Tensor* h, Tensor* c) {
  const std::vector<int64_t> ids = token_ids(src, config.src_vocab, "src");
  const int64_t N = src.size(0), S = src.size(1), E = config.embed_dim;
  if (config.rule == Seq2SeqRule::concat)
    ATTN_CHECK(S <= config.max_src_len, kWhat, ": src has ", S, " positions but the concat rule scores max_src_len=",
               config.max_src_len);
  Tensor emb = Tensor::empty({N, S, E}, DType::f32, kWhat);
  const float* table = src_embedding.weight.data();
  for (size_t i = 0; i < ids.size(); ++i) std::copy(table + ids[i] * E, table + (ids[i] + 1) * E, emb.data() + i * E);
  nn::RNNOutput r = encoder->forward(emb);
  *h = r.h_n.clone();  // the decoder updates its state in place
  if (r.c_n.defined()) *c = r.c_n.clone();
  return r.output.contiguous();  // (N, S, H)
}

// The decoder's scratch for one call and its step: every buffer sized once, so step()
// only runs noexcept kernels and nn pointer paths.
struct Seq2SeqRNN::Decoding {
  Seq2SeqRNN& m;
  const int64_t N, S, E, H, L;
  Tensor enc;        // (N, S, H) encoder outputs h_j
  Tensor keys;       // (N, S, H): bahdanau W_k h_j, general W h_j; else unused
  Tensor h, c;       // (L, N, H) decoder state
  Tensor x_in;       // (N, decoder input): [e; c] (bahdanau), e (dot/general), relu(attn_combine) (concat)
  Tensor gx, step_scratch, q, ctx, cat, att, full_scores;

  Decoding(Seq2SeqRNN& model, const Tensor& src)
      : m(model),
        N(src.size(0)),
        S(src.size(1)),
        E(model.config.embed_dim),
        H(model.config.hidden_size),
        L(model.config.num_layers) {
    enc = m.encode(src, &h, &c);
    const Seq2SeqRule rule = m.config.rule;
    if (rule == Seq2SeqRule::bahdanau || rule == Seq2SeqRule::general) {
      keys = Tensor::empty({N, S, H}, DType::f32, kWhat);
      const nn::Linear& w = rule == Seq2SeqRule::bahdanau ? m.additive->W_k : m.general->attn;
      w.forward(keys.data(), H, enc.data(), H, N * S);
    }
    const int64_t din = m.decoder->layer_input_size(0);
    x_in = Tensor::empty({N, din}, DType::f32, kWhat);
    gx = Tensor::empty({N, m.decoder->gates() * H}, DType::f32, kWhat);
    step_scratch = Tensor::empty({m.decoder->step_scratch(N)}, DType::f32, kWhat);
    q = Tensor::empty({N, H});
    ctx = Tensor::empty({N, H});
    cat = Tensor::empty({N, std::max(E + H, 2 * H)});
    att = Tensor::empty({N, H});
    if (rule == Seq2SeqRule::concat) full_scores = Tensor::empty({N, m.config.max_src_len});
  }

  float* top() { return h.data() + (L - 1) * N * H; }

  void rnn_step() noexcept {
    for (int64_t k = 0; k < L; ++k) {
      const float* input = k == 0 ? x_in.data() : h.data() + (k - 1) * N * H;
      m.decoder->project_input(k, 0, input, N, gx.data());
      m.decoder->step(k, 0, gx.data(), N, h.data() + k * N * H, c.defined() ? c.data() + k * N * H : nullptr,
                      step_scratch.data());
    }
  }

  // weights row n of this step: w + n * w_stride (S floats, softmaxed in place); ctx = Σ_j w_j h_j.
  void attend(float* w, int64_t w_stride) noexcept {
    for (int64_t n = 0; n < N; ++n) {
      float* row = w + n * w_stride;
      kernels::f32_softmax(S, row, 1.0f, nullptr, nullptr, row);
      float* cn = ctx.data() + n * H;
      std::fill(cn, cn + H, 0.0f);
      for (int64_t j = 0; j < S; ++j) kernels::f32_axpy(H, row[j], enc.data() + (n * S + j) * H, cn);
    }
  }

  // rows n of `dst` (width a + b, stride dst_ld) = [A_n; B_n]
  static void concat_rows(int64_t rows, const float* A, int64_t a, int64_t lda, const float* B, int64_t b, int64_t ldb,
                          float* dst) noexcept {
    for (int64_t n = 0; n < rows; ++n) {
      std::copy(A + n * lda, A + n * lda + a, dst + n * (a + b));
      std::copy(B + n * ldb, B + n * ldb + b, dst + n * (a + b) + a);
    }
  }

  // One decoder step for tokens (N): attention row n -> w + n * w_stride, logits row n -> logits + n * ld.
  void step(const int64_t* tokens, float* w, int64_t w_stride, float* logits, int64_t ld) noexcept {
    const float* table = m.tgt_embedding.weight.data();
    switch (m.config.rule) {
      case Seq2SeqRule::bahdanau: {
        m.additive->W_q.forward(q.data(), H, top(), H, N);
        const float* v = m.additive->w_v.weight.data();
        for (int64_t n = 0; n < N; ++n)
          for (int64_t j = 0; j < S; ++j)
            w[n * w_stride + j] = kernels::f32_additive_score(H, q.data() + n * H, keys.data() + (n * S + j) * H, v);
        attend(w, w_stride);
        for (int64_t n = 0; n < N; ++n) {
          std::copy(table + tokens[n] * E, table + (tokens[n] + 1) * E, x_in.data() + n * (E + H));
          std::copy(ctx.data() + n * H, ctx.data() + (n + 1) * H, x_in.data() + n * (E + H) + E);
        }
        rnn_step();
        m.out.forward(logits, ld, top(), H, N);
        break;
      }
      case Seq2SeqRule::dot:
      case Seq2SeqRule::general: {
        for (int64_t n = 0; n < N; ++n) std::copy(table + tokens[n] * E, table + (tokens[n] + 1) * E, x_in.data() + n * E);
        rnn_step();
        const float* k = m.config.rule == Seq2SeqRule::dot ? enc.data() : keys.data();
        for (int64_t n = 0; n < N; ++n)
          for (int64_t j = 0; j < S; ++j)
            w[n * w_stride + j] = kernels::f32_dot(H, top() + n * H, k + (n * S + j) * H);
        attend(w, w_stride);
        concat_rows(N, ctx.data(), H, H, top(), H, H, cat.data());  // [c_t; s_t]
        m.combine->forward(att.data(), H, cat.data(), 2 * H, N);
        kernels::f32_tanh(N * H, att.data(), att.data());
        m.out.forward(logits, ld, att.data(), H, N);
        break;
      }
      case Seq2SeqRule::concat: {
        const int64_t P = m.config.max_src_len;
        for (int64_t n = 0; n < N; ++n) {  // [e; s_{t-1}]
          std::copy(table + tokens[n] * E, table + (tokens[n] + 1) * E, cat.data() + n * (E + H));
          std::copy(top() + n * H, top() + (n + 1) * H, cat.data() + n * (E + H) + E);
        }
        m.concat->attn.forward(full_scores.data(), P, cat.data(), E + H, N);
        for (int64_t n = 0; n < N; ++n)
          std::copy(full_scores.data() + n * P, full_scores.data() + n * P + S, w + n * w_stride);
        attend(w, w_stride);
        for (int64_t n = 0; n < N; ++n)  // [e; c_t] (e is still in cat's first E columns)
          std::copy(ctx.data() + n * H, ctx.data() + (n + 1) * H, cat.data() + n * (E + H) + E);
        m.concat->attn_combine.forward(x_in.data(), E, cat.data(), E + H, N);
        kernels::f32_relu(N * E, x_in.data(), x_in.data());
        rnn_step();
        m.out.forward(logits, ld, top(), H, N);
        break;
      }
    }
  }
};

Tensor Seq2SeqRNN::forward(const Tensor& src, const Tensor& tgt_in, AttentionSink* sink) {
  const std::vector<int64_t> tgt = token_ids(tgt_in, config.tgt_vocab, "tgt_in");
  ATTN_CHECK(src.defined() && src.dim() == 2 && tgt_in.size(0) == src.size(0), kWhat, ": tgt_in has batch ",
             tgt_in.size(0), " but src has shape ", src.defined() ? shape_str(src.shape()) : std::string("undefined"));
  Decoding d(*this, src);
  const int64_t N = d.N, S = d.S, T = tgt_in.size(1), V = config.tgt_vocab;
  Tensor logits = Tensor::empty({N, T, V}, DType::f32, kWhat);
  float* w = sink ? sink->destination(0, AttentionKind::cross, N, 1, T, S) : nullptr;
  Tensor own;
  if (!w) {
    own = Tensor::empty({N, T, S}, DType::f32, kWhat);
    w = own.data();
  }
  std::vector<int64_t> tokens(static_cast<size_t>(N));
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t n = 0; n < N; ++n) tokens[n] = tgt[n * T + t];
    d.step(tokens.data(), w + t * S, T * S, logits.data() + t * V, T * V);
  }
  return logits;
}

Tensor Seq2SeqRNN::greedy_decode(const Tensor& src, int64_t bos, int64_t eos, int64_t max_len, AttentionSink* sink) {
  const int64_t V = config.tgt_vocab;
  ATTN_CHECK(bos >= 0 && bos < V && eos >= 0 && eos < V, kWhat, ": bos (", bos, ") and eos (", eos,
             ") must be in [0, ", V, ")");
  ATTN_CHECK(max_len > 0, kWhat, ": max_len must be positive, got ", max_len);
  Decoding d(*this, src);
  const int64_t N = d.N, S = d.S;
  Tensor w = Tensor::empty({N, max_len, S}, DType::f32, kWhat);
  Tensor logits = Tensor::empty({N, V}, DType::f32, kWhat);
  std::vector<int64_t> ids(static_cast<size_t>(N * max_len), eos), tokens(static_cast<size_t>(N), bos);
  std::vector<bool> done(static_cast<size_t>(N), false);
  int64_t T = 0;
  while (T < max_len && std::find(done.begin(), done.end(), false) != done.end()) {
    d.step(tokens.data(), w.data() + T * S, max_len * S, logits.data(), V);
    for (int64_t n = 0; n < N; ++n) {
      if (!done[n]) tokens[n] = static_cast<int64_t>(kernels::f32_argmax(V, logits.data() + n * V));
      ids[n * max_len + T] = tokens[n];
      if (tokens[n] == eos) done[n] = true;
    }
    ++T;
  }
  if (sink) {
    if (float* dst = sink->destination(0, AttentionKind::cross, N, 1, T, S))
      for (int64_t n = 0; n < N; ++n) std::copy(w.data() + n * max_len * S, w.data() + (n * max_len + T) * S, dst + n * T * S);
  }
  Tensor out_ids = Tensor::empty({N, T});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t t = 0; t < T; ++t) out_ids.data()[n * T + t] = static_cast<float>(ids[n * max_len + t]);
  return out_ids;
}

}  // namespace attn
