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
// cross) [N, H, T, S], computed straight into the sink's destinations.
//
// Memory: one Arena planned at construction for max_batch sequences of max_len source and target
// tokens holds every activation, the encoder's output, each decoder layer's self-attention KV
// cache and its cross-attention keys and values of the memory (projected once per source). In
// eval mode forward / encode / decode run the layers' pointer forwards (nn/transformer.hpp) on it,
// and greedy_decode feeds one token per step against the caches (the causal mask aligned
// bottom-right: the new query sees every cached position). The pointer API below allocates
// nothing; the Tensor API only copies its result out. In training mode with dropout > 0,
// forward / encode / decode take nn::Transformer's allocating Tensor path (dropout included).
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
  int64_t max_batch = 1;  // the largest N: the arena and KV caches hold max_batch sequences of max_len
  uint64_t seed = 0;
};
// Throws "EncoderDecoder: <field> ..." unless the sizes are usable and every table and the
// activation arena fit their budgets in checked 64-bit arithmetic.
void check_config(const EncoderDecoderConfig& config);
// Bytes of the activation arena (activations, KV caches) the config implies.
int64_t arena_bytes(const EncoderDecoderConfig& config);

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
  // included; after a row's eos its ids (and what it is fed) are eos. Each step runs the one
  // new token per row through the decoder against its KV caches. Runs with eval semantics (no
  // dropout) whatever the mode. Capture: the encoder's maps as encode; each decoder layer's
  // (num_encoder_layers + l, self) [N, H, T', T'] and (.., cross) [N, H, T', S], whose row t is
  // step t's attention (the self row over the t + 1 positions fed so far, 0 past them): the maps
  // a teacher-forced forward over bos + the output's first T' - 1 ids gives. Each step computes
  // its rows into a staging buffer of this model (allocated on the first capturing call that
  // needs more, then reused), copied into the sink once the length T' is known.
  Tensor greedy_decode(const Tensor& src, int64_t bos, int64_t eos, int64_t max_new,
                       const Tensor& src_key_padding_mask = {}, AttentionSink* sink = nullptr);

  // The pointer API (eval semantics; without a sink it allocates nothing). Ids are int32, padding
  // masks (N, length) bytes (nonzero = padding) or null; 1 <= N <= max_batch, lengths <= max_len.
  // forward: src (N, S), tgt_in (N, T) -> logits (N, T, V_tgt) in the arena, valid until the next call.
  const float* forward(const int32_t* src, int64_t N, int64_t S, const int32_t* tgt_in, int64_t T,
                       const uint8_t* src_key_padding_mask = nullptr, const uint8_t* tgt_key_padding_mask = nullptr,
                       AttentionSink* sink = nullptr);
  // greedy_decode as above into out (N, max_new) (row stride max_new; entries past the
  // returned T' are not written) -> T'.
  int64_t greedy_decode(int32_t* out, const int32_t* src, int64_t N, int64_t S, int64_t bos, int64_t eos,
                        int64_t max_new, const uint8_t* src_key_padding_mask = nullptr, AttentionSink* sink = nullptr);

  const Arena& activations() const { return acts_; }

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
  bool dropout_active() const { return is_training() && config.dropout > 0.0f; }
  // x (N * L, D) = table[ids] * sqrt(D) (if scale_embedding) + position[pos0 + t].
  void embed_rows(float* x, const int32_t* ids, int64_t N, int64_t L, int64_t pos0, const nn::Embedding& table,
                  const nn::Embedding* position) const;
  // The training path's embedding: a fresh (N, L, D) tensor, dropout applied.
  Tensor embed(const Tensor& ids, const nn::Embedding& table, const nn::Embedding* position, const char* arg);
  // Throws naming `what` unless 1 <= N <= max_batch, 1 <= L <= max_len and every id is in [0, V).
  void check_ids(const int32_t* ids, int64_t N, int64_t L, int64_t V, const char* what, const char* arg) const;
  // The encoder over src (N, S) into memory_ (src_kpm_ holds the mask when `masked`), then
  // every decoder layer's cross-attention keys and values of it.
  void encode_arena(const int32_t* src, int64_t N, int64_t S, bool masked, AttentionSink* sink);
  // Cross-attention keys and values of memory (N, S, D) for every decoder layer; remembers N, S.
  void project_memory(const float* memory, int64_t N, int64_t S, bool masked);
  // The decoder over T target tokens per row at positions pos .. pos + T - 1 (against the
  // self-attention caches and the projected memory) into x_ (N * T, D), decoder.norm included.
  // Maps go to the sink's destinations, or (greedy, T == 1) to the staging rows of step pos.
  void decode_arena(const int32_t* ids, int64_t T, int64_t pos, bool tgt_masked, AttentionSink* sink,
                    float* greedy_maps, int64_t greedy_steps);
  // Throws unless bos and eos are tokens and 1 <= max_new <= max_len.
  void check_greedy(int64_t bos, int64_t eos, int64_t max_new) const;
  // greedy_decode on checked inputs, the source mask already in src_kpm_ when `masked`.
  int64_t greedy_arena(int32_t* out, const int32_t* src, int64_t N, int64_t S, bool masked, int64_t bos, int64_t eos,
                       int64_t max_new, AttentionSink* sink);
  // Tensor API helpers: ids -> int32 after the shape and value checks.
  std::vector<int32_t> tensor_ids(const Tensor& ids, const nn::Embedding& table, const char* arg) const;
  Tensor decode_logits(int64_t N, int64_t T);  // a copy of logits_ (N, T, V)

  Tensor sinusoid_;  // (max_len, D), sinusoidal positions only
  Tensor greedy_maps_;  // greedy_decode's capture staging (grown on demand; see greedy_decode)

  // The arena (B = max_batch, P = max_len, D = d_model, F = dim_feedforward, H = nhead,
  // Ld = num_decoder_layers, V = tgt_vocab).
  Tensor memory_;  // (B, P, D) the encoder's stream, then its output
  Tensor x_;       // (B, P, D) the decoder's stream
  Tensor qkv_;     // (B, P, 3, D)
  Tensor atty_;    // (B, P, D)
  Tensor proj_;    // (B, P, D)
  Tensor ln_;      // (B, P, D) pre-LN block inputs (norm_first)
  Tensor ff_;      // (B, P, F)
  Tensor att_;     // (H, P, P) attention weights when no sink takes them
  Tensor self_k_;  // (Ld, B, P, D) decoder self-attention KV cache
  Tensor self_v_;  // (Ld, B, P, D)
  Tensor mem_k_;   // (Ld, B, P, D) cross-attention keys and values of the memory
  Tensor mem_v_;   // (Ld, B, P, D)
  Tensor src_kpm_;  // (B, P) additive source key padding mask
  Tensor tgt_kpm_;  // (B, P) additive target key padding mask
  Tensor logits_;   // (B, P, V)
  Arena acts_;
  int64_t mem_N_ = 0, mem_S_ = 0;  // the memory the caches hold
  bool mem_masked_ = false;        // src_kpm_ applies to it
  std::vector<int32_t> step_ids_;  // (B) greedy: the tokens fed this step
  std::vector<uint8_t> done_;      // (B) greedy: rows that produced eos
};

}  // namespace attn
