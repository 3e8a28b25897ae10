#include "models/encoder_decoder.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "attention/positional.hpp"
#include "core/size.hpp"
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

// The arena's slots in order: the constructor binds them, arena_bytes() sums them.
std::vector<std::pair<const char*, Shape>> arena_plan(const EncoderDecoderConfig& c) {
  const int64_t B = c.max_batch, P = c.max_len, D = c.d_model, Ld = c.num_decoder_layers;
  return {{"memory", {B, P, D}},          {"x", {B, P, D}},           {"qkv", {B, P, 3, D}},
          {"atty", {B, P, D}},            {"proj", {B, P, D}},        {"ln", {B, P, D}},
          {"ff", {B, P, c.dim_feedforward}}, {"att", {c.nhead, P, P}}, {"self_k", {Ld, B, P, D}},
          {"self_v", {Ld, B, P, D}},      {"mem_k", {Ld, B, P, D}},   {"mem_v", {Ld, B, P, D}},
          {"src_kpm", {B, P}},            {"tgt_kpm", {B, P}},        {"logits", {B, P, c.tgt_vocab}}};
}
}  // namespace

int64_t arena_bytes(const EncoderDecoderConfig& c) {
  uint64_t total = 0;
  for (const auto& [name, shape] : arena_plan(c)) {
    const uint64_t b = checked_bytes(shape, sizeof(float), "EncoderDecoder: activation");
    total += (b + 63) / 64 * 64;  // core/arena.hpp: slots start on 64-byte boundaries
  }
  return static_cast<int64_t>(total);  // 15 slots of <= 1 TiB each: no overflow
}

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
  ATTN_CHECK(c.tgt_vocab <= INT32_MAX && c.src_vocab <= INT32_MAX, kWhat, ": vocabularies must fit int32 token ids");
  ATTN_CHECK(c.max_batch >= 1, kWhat, ": max_batch must be positive, got ", c.max_batch);
  const uint64_t acts = static_cast<uint64_t>(arena_bytes(c));
  ATTN_CHECK(acts <= kMaxArenaBytes, kWhat, ": activations and KV caches for max_batch = ", c.max_batch,
             " x max_len = ", c.max_len, " need ", bytes_str(acts), ", more than the ", bytes_str(kMaxArenaBytes),
             " an arena may hold");
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
  Tensor* slots[] = {&memory_, &x_,     &qkv_,   &atty_,  &proj_,    &ln_,      &ff_,    &att_,
                     &self_k_, &self_v_, &mem_k_, &mem_v_, &src_kpm_, &tgt_kpm_, &logits_};
  const auto plan = arena_plan(config);
  for (size_t i = 0; i < plan.size(); ++i) acts_.add(plan[i].first, slots[i], plan[i].second);
  acts_.allocate("EncoderDecoder activations");
  step_ids_.resize(static_cast<size_t>(config.max_batch));
  done_.resize(static_cast<size_t>(config.max_batch));
}

// ---------------------------------------------------------------- the arena path

void EncoderDecoder::check_ids(const int32_t* ids, int64_t N, int64_t L, int64_t V, const char* what,
                               const char* arg) const {
  ATTN_CHECK(ids != nullptr, what, ": ", arg, " is null");
  ATTN_CHECK(N >= 1 && N <= config.max_batch, what, ": batch size ", N, " must be in [1, max_batch = ",
             config.max_batch, "] (the activation arena is sized for max_batch)");
  ATTN_CHECK(L >= 1 && L <= config.max_len, what, ": ", arg, " has ", L, " positions but max_len is ", config.max_len);
  for (int64_t i = 0; i < N * L; ++i)
    ATTN_CHECK(ids[i] >= 0 && ids[i] < V, what, ": ", arg, " holds id ", ids[i], " at flat index ", i,
               "; ids must be in [0, ", V, ")");
}

void EncoderDecoder::embed_rows(float* x, const int32_t* ids, int64_t N, int64_t L, int64_t pos0,
                                const nn::Embedding& table, const nn::Embedding* position) const {
  const int64_t D = config.d_model;
  table.forward(x, D, ids, N * L);
  const float scale = config.scale_embedding ? std::sqrt(static_cast<float>(D)) : 1.0f;
  const float* pos = position ? position->weight.data() : sinusoid_.data();
  for (int64_t r = 0; r < N * L; ++r) {
    float* row = x + r * D;
    kernels::f32_scale(static_cast<size_t>(D), row, scale, row);
    kernels::f32_add(static_cast<size_t>(D), row, pos + (pos0 + r % L) * D, row);
  }
}

void EncoderDecoder::project_memory(const float* memory, int64_t N, int64_t S, bool masked) {
  const int64_t layer_floats = config.max_batch * config.max_len * config.d_model;
  for (int64_t l = 0; l < transformer.decoder.num_layers(); ++l)
    transformer.decoder.layer(l).project_memory(
        {mem_k_.data() + l * layer_floats, mem_v_.data() + l * layer_floats, config.max_len}, memory, N, S);
  mem_N_ = N;
  mem_S_ = S;
  mem_masked_ = masked;
}

void EncoderDecoder::encode_arena(const int32_t* src, int64_t N, int64_t S, bool masked, AttentionSink* sink) {
  const nn::LayerScratch s{qkv_.data(), atty_.data(), proj_.data(), ln_.data(), ff_.data(), att_.data()};
  float* m = memory_.data();
  embed_rows(m, src, N, S, 0, src_embedding, src_position.get());
  for (int64_t l = 0; l < transformer.encoder.num_layers(); ++l) {
    float* att = sink ? sink->destination(l, AttentionKind::self, N, config.nhead, S, S) : nullptr;
    nn::LayerScratch sl = s;
    sl.self_heads_off = sink ? sink->head_mask(l, AttentionKind::self, config.nhead) : nullptr;
    transformer.encoder.layer(l).forward(m, N, S, {masked ? src_kpm_.data() : nullptr, config.max_len}, att, sl);
    if (sink) {  // the first source's queries, keys and values, still in the scratch
      const int64_t D = config.d_model, H = config.nhead, hs = D / H;
      const float* q = qkv_.data();
      sink->qkv(l, AttentionKind::self, {q, 3 * D, hs}, {q + D, 3 * D, hs}, {q + 2 * D, 3 * D, hs}, H, S, S, hs);
    }
  }
  transformer.encoder.norm->forward(m, m, N * S);
  project_memory(m, N, S, masked);
}

void EncoderDecoder::decode_arena(const int32_t* ids, int64_t T, int64_t pos, bool tgt_masked, AttentionSink* sink,
                                  float* greedy_maps, int64_t greedy_steps) {
  const int64_t N = mem_N_, S = mem_S_, H = config.nhead, P = config.max_len, Le = config.num_encoder_layers;
  const int64_t layer_floats = config.max_batch * P * config.d_model;
  const nn::LayerScratch s{qkv_.data(), atty_.data(), proj_.data(), ln_.data(), ff_.data(), att_.data()};
  const nn::KeyMask src_mask{mem_masked_ ? src_kpm_.data() : nullptr, P};
  const nn::KeyMask tgt_mask{tgt_masked ? tgt_kpm_.data() : nullptr, P};
  // greedy_maps per layer: the self rows of every step (step t's [N, H, 1, t + 1] block after the
  // t earlier ones), then the cross rows (step t's [N, H, 1, S] block).
  const int64_t self_floats = N * H * greedy_steps * (greedy_steps + 1) / 2;
  const int64_t maps_per_layer = self_floats + N * H * greedy_steps * S;
  float* x = x_.data();
  embed_rows(x, ids, N, T, pos, tgt_embedding, tgt_position.get());
  for (int64_t l = 0; l < transformer.decoder.num_layers(); ++l) {
    float *self_att = nullptr, *cross_att = nullptr;
    if (greedy_maps) {
      float* base = greedy_maps + l * maps_per_layer;
      self_att = base + N * H * pos * (pos + 1) / 2;
      cross_att = base + self_floats + pos * N * H * S;
    } else if (sink) {
      self_att = sink->destination(Le + l, AttentionKind::self, N, H, T, pos + T);
      cross_att = sink->destination(Le + l, AttentionKind::cross, N, H, T, S);
    }
    const nn::KeyValues cache{self_k_.data() + l * layer_floats, self_v_.data() + l * layer_floats, P};
    const nn::KeyValues mem{mem_k_.data() + l * layer_floats, mem_v_.data() + l * layer_floats, P};
    nn::LayerScratch sl = s;
    if (sink) {
      sl.self_heads_off = sink->head_mask(Le + l, AttentionKind::self, H);
      sl.cross_heads_off = sink->head_mask(Le + l, AttentionKind::cross, H);
    }
    transformer.decoder.layer(l).forward(x, N, T, pos, cache, mem, S, tgt_mask, src_mask, self_att, cross_att, sl);
    if (sink && !greedy_maps) {  // cross-attention of the first sequence: its queries (the scratch) and the memory's keys, values
      const int64_t D = config.d_model, hs = D / H;
      sink->qkv(Le + l, AttentionKind::cross, {qkv_.data(), D, hs}, {mem.k, D, hs}, {mem.v, D, hs}, H, T, S, hs);
    }
  }
  transformer.decoder.norm->forward(x, x, N * T);
}

const float* EncoderDecoder::forward(const int32_t* src, int64_t N, int64_t S, const int32_t* tgt, int64_t T,
                                     const uint8_t* src_kpm, const uint8_t* tgt_kpm, AttentionSink* sink) {
  const char* what = "EncoderDecoder.forward";
  check_ids(src, N, S, config.src_vocab, what, "src");
  check_ids(tgt, N, T, config.tgt_vocab, what, "tgt_in");
  if (src_kpm) nn::additive_key_mask(src_kpm_.data(), config.max_len, src_kpm, N, S);
  if (tgt_kpm) nn::additive_key_mask(tgt_kpm_.data(), config.max_len, tgt_kpm, N, T);
  encode_arena(src, N, S, src_kpm != nullptr, sink);
  decode_arena(tgt, T, 0, tgt_kpm != nullptr, sink, nullptr, 0);
  generator.forward(logits_.data(), config.tgt_vocab, x_.data(), config.d_model, N * T);
  return logits_.data();
}

void EncoderDecoder::check_greedy(int64_t bos, int64_t eos, int64_t max_new) const {
  const int64_t V = config.tgt_vocab;
  ATTN_CHECK(bos >= 0 && bos < V && eos >= 0 && eos < V, kWhat, ": bos (", bos, ") and eos (", eos,
             ") must be tokens in [0, ", V, ")");
  ATTN_CHECK(max_new >= 1 && max_new <= config.max_len, kWhat, ": max_new must be in [1, max_len = ", config.max_len,
             "], got ", max_new);
}

int64_t EncoderDecoder::greedy_decode(int32_t* out, const int32_t* src, int64_t N, int64_t S, int64_t bos,
                                      int64_t eos, int64_t max_new, const uint8_t* src_kpm, AttentionSink* sink) {
  check_greedy(bos, eos, max_new);
  check_ids(src, N, S, config.src_vocab, "EncoderDecoder.greedy_decode", "src");
  if (src_kpm) nn::additive_key_mask(src_kpm_.data(), config.max_len, src_kpm, N, S);
  return greedy_arena(out, src, N, S, src_kpm != nullptr, bos, eos, max_new, sink);
}

int64_t EncoderDecoder::greedy_arena(int32_t* out, const int32_t* src, int64_t N, int64_t S, bool masked, int64_t bos,
                                     int64_t eos, int64_t max_new, AttentionSink* sink) {
  ATTN_CHECK(out != nullptr, kWhat, ": greedy_decode's out is null");
  const int64_t V = config.tgt_vocab, D = config.d_model, H = config.nhead, Ld = config.num_decoder_layers;
  float* maps = nullptr;
  if (sink) {  // staging for the decoder maps (see greedy_decode's comment), checked
    const char* w = "EncoderDecoder.greedy_decode: capture staging";
    // Per layer and step t at most N * H * ((t + 1) + S) floats.
    const int64_t floats = checked_mul(checked_mul(checked_mul(Ld, N * H, w), max_new, w), max_new + 1 + S, w);
    if (!greedy_maps_.defined() || greedy_maps_.numel() < floats)
      greedy_maps_ = Tensor::empty({floats}, DType::f32, w);
    maps = greedy_maps_.data();
  }
  encode_arena(src, N, S, masked, sink);

  for (int64_t n = 0; n < N; ++n) {
    step_ids_[n] = static_cast<int32_t>(bos);
    done_[n] = 0;
  }
  int64_t made = 0;
  while (made < max_new) {
    const int64_t t = made;
    // The sink gives the head masks; the maps go to the staging (maps), which takes precedence.
    decode_arena(step_ids_.data(), 1, t, false, sink, maps, max_new);  // x_ (N, D)
    bool all_done = true;
    for (int64_t n = 0; n < N; ++n) {
      int64_t next = eos;
      if (!done_[n]) {  // the generator on this row's new position only
        float* logits = logits_.data() + n * V;
        generator.forward(logits, V, x_.data() + n * D, D, 1);
        next = static_cast<int64_t>(kernels::f32_argmax(static_cast<size_t>(V), logits));
      }
      out[n * max_new + t] = static_cast<int32_t>(next);
      step_ids_[n] = static_cast<int32_t>(next);
      done_[n] = done_[n] || next == eos;
      all_done = all_done && done_[n];
    }
    ++made;
    if (all_done) break;
  }
  if (!sink) return made;

  // The staged rows into [N, H, made, made] (zero past each row's causal end) and [N, H, made, S].
  const int64_t self_floats = N * H * max_new * (max_new + 1) / 2;
  const int64_t maps_per_layer = self_floats + N * H * max_new * S;
  for (int64_t l = 0; l < Ld; ++l) {
    const float* base = maps + l * maps_per_layer;
    float* self_dest = sink->destination(config.num_encoder_layers + l, AttentionKind::self, N, H, made, made);
    float* cross_dest = sink->destination(config.num_encoder_layers + l, AttentionKind::cross, N, H, made, S);
    for (int64_t nh = 0; nh < N * H; ++nh)
      for (int64_t t = 0; t < made; ++t) {
        if (self_dest) {
          const float* row = base + N * H * t * (t + 1) / 2 + nh * (t + 1);
          float* d = self_dest + (nh * made + t) * made;
          std::copy(row, row + t + 1, d);
          std::fill(d + t + 1, d + made, 0.0f);
        }
        if (cross_dest) {
          const float* row = base + self_floats + (t * N * H + nh) * S;
          std::copy(row, row + S, cross_dest + (nh * made + t) * S);
        }
      }
  }
  return made;
}

// ---------------------------------------------------------------- the Tensor API

std::vector<int32_t> EncoderDecoder::tensor_ids(const Tensor& ids, const nn::Embedding& table, const char* arg) const {
  check_ids_shape(ids, config.max_len, arg);
  return table.check_ids(ids, arg);
}

Tensor EncoderDecoder::embed(const Tensor& ids, const nn::Embedding& table, const nn::Embedding* position,
                             const char* arg) {
  const std::vector<int32_t> v = tensor_ids(ids, table, arg);
  const int64_t N = ids.size(0), L = ids.size(1), D = config.d_model;
  Tensor x = Tensor::empty({N, L, D}, DType::f32, "EncoderDecoder: embeddings (N, length, d_model)");
  embed_rows(x.data(), v.data(), N, L, 0, table, position);
  dropout.forward_(x.data(), N * L * D);
  return x;
}

Tensor EncoderDecoder::decode_logits(int64_t N, int64_t T) {
  const int64_t V = config.tgt_vocab;
  generator.forward(logits_.data(), V, x_.data(), config.d_model, N * T);
  Tensor logits = Tensor::empty({N, T, V}, DType::f32, "EncoderDecoder: logits (N, T, tgt_vocab)");
  std::memcpy(logits.data(), logits_.data(), sizeof(float) * static_cast<size_t>(N * T * V));
  return logits;
}

Tensor EncoderDecoder::encode(const Tensor& src, const Tensor& src_kpm, AttentionSink* sink) {
  if (dropout_active())
    return transformer.encode(embed(src, src_embedding, src_position.get(), "src"), {}, src_kpm, false, sink);
  const std::vector<int32_t> ids = tensor_ids(src, src_embedding, "src");
  const int64_t N = src.size(0), S = src.size(1), D = config.d_model;
  check_ids(ids.data(), N, S, config.src_vocab, kWhat, "src");
  if (src_kpm.defined())
    nn::additive_key_mask(src_kpm_.data(), config.max_len, src_kpm, N, S, kWhat, "src_key_padding_mask");
  encode_arena(ids.data(), N, S, src_kpm.defined(), sink);
  Tensor memory = Tensor::empty({N, S, D}, DType::f32, "EncoderDecoder: memory (N, S, d_model)");
  std::memcpy(memory.data(), memory_.data(), sizeof(float) * static_cast<size_t>(N * S * D));
  return memory;
}

Tensor EncoderDecoder::decode(const Tensor& tgt_in, const Tensor& memory, const Tensor& src_kpm,
                              const Tensor& tgt_kpm, AttentionSink* sink) {
  if (dropout_active()) {
    const Tensor y = embed(tgt_in, tgt_embedding, tgt_position.get(), "tgt_in");
    const Tensor h = transformer.decode(y, memory, {}, {}, tgt_kpm, src_kpm, true, false, sink);  // (N, T, D)
    const int64_t V = config.tgt_vocab;
    Tensor logits = Tensor::empty({h.size(0), h.size(1), V}, DType::f32, "EncoderDecoder: logits (N, T, tgt_vocab)");
    generator.forward(logits.data(), V, h.data(), config.d_model, h.numel() / config.d_model);
    return logits;
  }
  const std::vector<int32_t> ids = tensor_ids(tgt_in, tgt_embedding, "tgt_in");
  const int64_t N = tgt_in.size(0), T = tgt_in.size(1), D = config.d_model;
  check_ids(ids.data(), N, T, config.tgt_vocab, kWhat, "tgt_in");
  ATTN_CHECK(memory.defined() && memory.dtype() == DType::f32 && memory.dim() == 3 && memory.size(0) == N &&
                 memory.size(2) == D && memory.size(1) >= 1,
             kWhat, ": memory should be (N = ", N, ", S, d_model = ", D, ") float32 from encode, got ",
             memory.defined() ? memory.shape() : Shape{});
  const int64_t S = memory.size(1);
  ATTN_CHECK(S <= config.max_len, kWhat, ": memory has ", S, " positions but max_len is ", config.max_len);
  check_finite_or_inf(memory, "EncoderDecoder: memory");
  if (src_kpm.defined())
    nn::additive_key_mask(src_kpm_.data(), config.max_len, src_kpm, N, S, kWhat, "memory_key_padding_mask");
  if (tgt_kpm.defined())
    nn::additive_key_mask(tgt_kpm_.data(), config.max_len, tgt_kpm, N, T, kWhat, "tgt_key_padding_mask");
  project_memory(memory.contiguous().data(), N, S, src_kpm.defined());
  decode_arena(ids.data(), T, 0, tgt_kpm.defined(), sink, nullptr, 0);
  return decode_logits(N, T);
}

Tensor EncoderDecoder::forward(const Tensor& src, const Tensor& tgt_in, const Tensor& src_kpm, const Tensor& tgt_kpm,
                               AttentionSink* sink) {
  if (dropout_active()) return decode(tgt_in, encode(src, src_kpm, sink), src_kpm, tgt_kpm, sink);
  const std::vector<int32_t> s = tensor_ids(src, src_embedding, "src");
  const std::vector<int32_t> t = tensor_ids(tgt_in, tgt_embedding, "tgt_in");
  const int64_t N = src.size(0), S = src.size(1), T = tgt_in.size(1);
  ATTN_CHECK(tgt_in.size(0) == N, kWhat, ": tgt_in has batch size ", tgt_in.size(0), " but src has ", N);
  check_ids(s.data(), N, S, config.src_vocab, kWhat, "src");
  if (src_kpm.defined())
    nn::additive_key_mask(src_kpm_.data(), config.max_len, src_kpm, N, S, kWhat, "src_key_padding_mask");
  if (tgt_kpm.defined())
    nn::additive_key_mask(tgt_kpm_.data(), config.max_len, tgt_kpm, N, T, kWhat, "tgt_key_padding_mask");
  encode_arena(s.data(), N, S, src_kpm.defined(), sink);
  decode_arena(t.data(), T, 0, tgt_kpm.defined(), sink, nullptr, 0);
  return decode_logits(N, T);
}

Tensor EncoderDecoder::greedy_decode(const Tensor& src, int64_t bos, int64_t eos, int64_t max_new,
                                     const Tensor& src_kpm, AttentionSink* sink) {
  check_greedy(bos, eos, max_new);
  const std::vector<int32_t> s = tensor_ids(src, src_embedding, "src");
  const int64_t N = src.size(0), S = src.size(1);
  check_ids(s.data(), N, S, config.src_vocab, kWhat, "src");
  if (src_kpm.defined())
    nn::additive_key_mask(src_kpm_.data(), config.max_len, src_kpm, N, S, kWhat, "src_key_padding_mask");
  std::vector<int32_t> ids(static_cast<size_t>(N * max_new));
  const int64_t made = greedy_arena(ids.data(), s.data(), N, S, src_kpm.defined(), bos, eos, max_new, sink);
  Tensor out = Tensor::empty({N, made});
  float* o = out.data();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t t = 0; t < made; ++t) o[n * made + t] = static_cast<float>(ids[n * max_new + t]);
  return out;
}

}  // namespace attn
