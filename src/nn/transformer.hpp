// torch.nn's Transformer stack: TransformerEncoderLayer, TransformerDecoderLayer,
// TransformerEncoder, TransformerDecoder and Transformer, with torch's constructor
// arguments and defaults (TransformerLayerOptions), state_dict keys, forward arguments
// and mask conventions, and the same math in eval and training mode.
//
// Legend: S source length, T target length, N batch, E d_model, F dim_feedforward,
// H nhead. Inputs are (S, N, E) / (T, N, E), or (N, S, E) with batch_first, or unbatched
// (S, E); masks as torch.nn.MultiheadAttention takes them (attention/multihead.hpp):
//   src_mask / tgt_mask / memory_mask (L, S) or (N * H, L, S): bool true = NOT allowed, float added;
//   *_key_padding_mask (N, S) or (S): bool true = padding (ignored key), float added;
//   is_causal (torch >= 2.0): with no mask, the causal mask (query i sees keys j <= i); with a
//   mask, a hint and the mask is used. torch raises when a causal hint comes without a mask
//   ("Need attn_mask if specifying the is_causal hint"); here it builds the mask instead.
//
// Encoder layer (torch's forward, norm_first = pre-LN):
//   norm_first:  x = x + sa(norm1(x));  x = x + ff(norm2(x))
//   otherwise:   x = norm1(x + sa(x));  x = norm2(x + ff(x))
//   sa(x) = dropout1(self_attn(x, x, x)),  ff(x) = dropout2(linear2(dropout(act(linear1(x)))))
// Decoder layer: the same with a cross-attention block between (multihead_attn over memory, norm2,
// dropout2), and norm3 / dropout3 around the feed-forward block.
//
// Keys: encoder layer  self_attn.{in_proj_weight (3E, E), in_proj_bias, out_proj.weight, out_proj.bias},
//                      linear1.{weight (F, E), bias}, linear2.{weight (E, F), bias}, norm1.*, norm2.*
//       decoder layer  self_attn.*, multihead_attn.*, linear1.*, linear2.*, norm1.*, norm2.*, norm3.*
//       stacks         layers.{i}.*, norm.* (when built with a final norm)
//       Transformer    encoder.layers.{i}.*, encoder.norm.*, decoder.layers.{i}.*, decoder.norm.*
// bias = false (torch >= 2.1): no bias in any Linear, in the attention, or in the LayerNorms.
//
// Init: as torch. A stack's layers are torch's _get_clones (deepcopy) of one layer, so they
// start identical: every layer here is built from the same seed. nn.Transformer then redraws
// every parameter with more than one dim from xavier_uniform_ (its _reset_parameters).
//
// Differences from torch 1.13 / 2.x, on purpose:
//  - torch's eval-mode "fast path" (torch._transformer_encoder_layer_fwd) computes the same math;
//    its nested-tensor variant in TransformerEncoder (enable_nested_tensor with a
//    src_key_padding_mask) returns 0 at padded positions. Here padded positions are always
//    computed like every other (torch's path without nested tensors, e.g. training mode or
//    enable_nested_tensor=False); callers ignore them, as they must with torch's other paths.
//  - A query whose keys are all masked gets zero weights and a zero attention output (torch >= 2.5's
//    scaled_dot_product_attention, which these layers use with need_weights=False), not NaN.
//  - "custom_encoder" / "custom_decoder" of nn.Transformer and callable activations are not taken.
//
// Attention capture: every forward takes an AttentionSink (nullptr = none). A stack's layer l
// writes its weights under layer index first_layer + l: the encoder's self-attention to
// (l, self), the decoder's to (l, self) and (l, cross). Each is [N, H, L, S] (N = 1 for
// unbatched input). nn::Transformer numbers its decoder layers after the encoder's
// (first_layer = num_encoder_layers), so one sink holds every map of the model apart.
//
// These Tensor forwards allocate their activations (attn::MultiheadAttention is the allocating
// module); the feed-forward blocks run nn::Linear's packed GEMM on them.
//
// Pointer forwards (the layers' second `forward`): the same math in eval mode (no dropout) on
// batch-first rows in caller memory (a model's activation arena), with no allocation and no
// throw: item n's position t is row n * T + t of x (N * T, E), and the projections, attention
// (nn/functional.hpp's attention_forward), norms and feed-forward run in place on x with
// LayerScratch for the rest. Key padding masks are additive rows (KeyMask: 0 kept, -inf
// ignored); the decoder layer's self-attention keeps its keys and values in a KV cache and its
// queries see the cached positions with the causal mask aligned bottom-right (torch's
// causal_lower_right), so decoding one token at a time runs one row per step. Arguments are
// validated by the model that calls them, once, not here.
#pragma once

#include <memory>

#include "attention/capture.hpp"
#include "attention/multihead.hpp"
#include "core/module.hpp"
#include "nn/layers.hpp"
#include "nn/linear.hpp"

namespace attn::nn {

// torch.nn.TransformerEncoderLayer / TransformerDecoderLayer constructor arguments.
struct TransformerLayerOptions {
  int64_t d_model = 512;
  int64_t nhead = 8;
  int64_t dim_feedforward = 2048;
  float dropout = 0.1f;
  Activation activation = Activation::relu;  // relu, gelu or gelu_tanh (torch: "relu", "gelu" or a callable)
  float layer_norm_eps = 1e-5f;
  bool batch_first = false;
  bool norm_first = false;
  bool bias = true;
  uint64_t seed = 0;  // initialisation and dropout
};

// Throws a message naming `what` and the option unless the options are usable.
void check_layer_options(const TransformerLayerOptions& o, const char* what);

// Additive key masks for the pointer forwards, one row per batch item: item n's row of keys at
// data + n * ld (0 = kept, -inf = ignored, as torch adds a float key_padding_mask). null = none.
struct KeyMask {
  const float* data = nullptr;
  int64_t ld = 0;
  const float* row(int64_t n) const noexcept { return data ? data + n * ld : nullptr; }
};

// Keys and values (already projected) of an attention, item-major: item n's key p is row
// n * item_rows + p of k and v (E floats each, heads side by side).
struct KeyValues {
  float* k;
  float* v;
  int64_t item_rows;
};

// Scratch of a layer's pointer forward for rows = N * T rows attending to at most S keys.
struct LayerScratch {
  float* qkv;   // (rows, 3E): q, k, v side by side (the decoder uses the first E columns for q)
  float* atty;  // (rows, E): attention output, heads side by side
  float* proj;  // (rows, E): out_proj / linear2 output before the residual add
  float* ln;    // (rows, E): a block's normalised input; norm_first only (may be null otherwise)
  float* ff;    // (rows, F)
  float* att;   // (H, T, S): the attention weights of one item when no capture destination is given
  // Head ablation (attention/capture.hpp): null, or H flags per attention, nonzero = that
  // head's output is zeroed before out_proj (its weights are still computed).
  const uint8_t* self_heads_off = nullptr;
  const uint8_t* cross_heads_off = nullptr;
};

// A (N, S) key padding mask in torch's convention (bool true = padding; float added) as additive
// rows into out (row stride ld): bool -> 0 / -inf, float copied. Throws naming `what` and `arg`
// unless it is (N, S), bool or float, without NaN.
void additive_key_mask(float* out, int64_t ld, const Tensor& mask, int64_t N, int64_t S, const char* what,
                       const char* arg);
// The same from raw bytes (N, S) (nonzero = padding); no checks.
void additive_key_mask(float* out, int64_t ld, const uint8_t* padding, int64_t N, int64_t S) noexcept;

class TransformerEncoderLayer : public Module {
 public:
  explicit TransformerEncoderLayer(const TransformerLayerOptions& options);

  // src (S, N, E) / (N, S, E) / (S, E) -> same shape. `layer` keys the capture.
  Tensor forward(const Tensor& src, const Tensor& src_mask = {}, const Tensor& src_key_padding_mask = {},
                 bool is_causal = false, AttentionSink* sink = nullptr, int64_t layer = 0);
  // Pointer forward: x (N * T, E) in place; src_key_padding_mask rows of T keys; att: a [N, H, T, T]
  // capture destination, or null (s.att is used).
  void forward(float* x, int64_t N, int64_t T, KeyMask src_key_padding_mask, float* att,
               const LayerScratch& s) const noexcept;

  const TransformerLayerOptions& options() const { return opt_; }

 private:
  TransformerLayerOptions opt_;
  Rng init_rng_;  // before the layers that draw from it

 public:
  MultiheadAttention self_attn;
  Linear linear1, linear2;
  LayerNorm norm1, norm2;
  Dropout dropout, dropout1, dropout2;
};

class TransformerDecoderLayer : public Module {
 public:
  explicit TransformerDecoderLayer(const TransformerLayerOptions& options);

  // tgt (T, N, E), memory (S, N, E) (batch_first / unbatched alike) -> like tgt.
  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = {}, const Tensor& memory_mask = {},
                 const Tensor& tgt_key_padding_mask = {}, const Tensor& memory_key_padding_mask = {},
                 bool tgt_is_causal = false, bool memory_is_causal = false, AttentionSink* sink = nullptr,
                 int64_t layer = 0);

  // Pointer forwards. project_memory: multihead_attn's keys and values of memory (N, S, E) rows
  // into `memory_kv` (once per source; every later step reads them).
  void project_memory(const KeyValues& memory_kv, const float* memory, int64_t N, int64_t S) const noexcept;
  // x (N * T, E) in place: T target positions pos .. pos + T - 1 of each item. Their self-attention
  // keys and values are written into `cache` at rows pos .. pos + T - 1 (rows 0 .. pos - 1 hold the
  // earlier positions'), and query t sees cached keys 0 .. pos + t (causal, bottom-right aligned);
  // tgt_key_padding_mask rows cover those pos + T keys. Cross-attention over `memory_kv` (S keys per
  // item, from project_memory) with memory_key_padding_mask. self_att [N, H, T, pos + T] and
  // cross_att [N, H, T, S]: capture destinations, or null.
  void forward(float* x, int64_t N, int64_t T, int64_t pos, const KeyValues& cache, const KeyValues& memory_kv,
               int64_t S, KeyMask tgt_key_padding_mask, KeyMask memory_key_padding_mask, float* self_att,
               float* cross_att, const LayerScratch& s) const noexcept;

  const TransformerLayerOptions& options() const { return opt_; }

 private:
  TransformerLayerOptions opt_;
  Rng init_rng_;

 public:
  MultiheadAttention self_attn, multihead_attn;
  Linear linear1, linear2;
  LayerNorm norm1, norm2, norm3;
  Dropout dropout, dropout1, dropout2, dropout3;
};

class TransformerEncoder : public Module {
 public:
  // num_layers clones of TransformerEncoderLayer(layer); final_norm: norm = LayerNorm(d_model,
  // layer_norm_eps, bias) as nn.Transformer passes it (torch takes any module; None = no norm).
  TransformerEncoder(const TransformerLayerOptions& layer, int64_t num_layers, bool final_norm = false);

  Tensor forward(const Tensor& src, const Tensor& mask = {}, const Tensor& src_key_padding_mask = {},
                 bool is_causal = false, AttentionSink* sink = nullptr, int64_t first_layer = 0);

  int64_t num_layers() const { return static_cast<int64_t>(layers.size()); }
  TransformerEncoderLayer& layer(int64_t i) const { return static_cast<TransformerEncoderLayer&>(layers[i]); }

  ModuleList layers;
  std::unique_ptr<LayerNorm> norm;
};

class TransformerDecoder : public Module {
 public:
  TransformerDecoder(const TransformerLayerOptions& layer, int64_t num_layers, bool final_norm = false);

  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = {}, const Tensor& memory_mask = {},
                 const Tensor& tgt_key_padding_mask = {}, const Tensor& memory_key_padding_mask = {},
                 bool tgt_is_causal = false, bool memory_is_causal = false, AttentionSink* sink = nullptr,
                 int64_t first_layer = 0);

  int64_t num_layers() const { return static_cast<int64_t>(layers.size()); }
  TransformerDecoderLayer& layer(int64_t i) const { return static_cast<TransformerDecoderLayer&>(layers[i]); }

  ModuleList layers;
  std::unique_ptr<LayerNorm> norm;
};

// torch.nn.Transformer(d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
// dim_feedforward=2048, dropout=0.1, activation=relu, custom_encoder=None, custom_decoder=None,
// layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True).
struct TransformerOptions {
  TransformerLayerOptions layer;  // d_model, nhead, dim_feedforward, dropout, activation, eps, batch_first, ...
  int64_t num_encoder_layers = 6;
  int64_t num_decoder_layers = 6;
};

class Transformer : public Module {
 public:
  explicit Transformer(const TransformerOptions& options);

  // src (S, N, E), tgt (T, N, E) (or batch_first / unbatched) -> (T, N, E).
  // Masks and hints as in torch's forward. sink: encoder layer l -> (l, self); decoder layer l ->
  // (num_encoder_layers + l, self) and (num_encoder_layers + l, cross).
  Tensor forward(const Tensor& src, const Tensor& tgt, const Tensor& src_mask = {}, const Tensor& tgt_mask = {},
                 const Tensor& memory_mask = {}, const Tensor& src_key_padding_mask = {},
                 const Tensor& tgt_key_padding_mask = {}, const Tensor& memory_key_padding_mask = {},
                 bool src_is_causal = false, bool tgt_is_causal = false, bool memory_is_causal = false,
                 AttentionSink* sink = nullptr);
  // The two halves, for decoding loops that encode once: memory = encode(...), then decode(...).
  Tensor encode(const Tensor& src, const Tensor& src_mask = {}, const Tensor& src_key_padding_mask = {},
                bool src_is_causal = false, AttentionSink* sink = nullptr);
  Tensor decode(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = {}, const Tensor& memory_mask = {},
                const Tensor& tgt_key_padding_mask = {}, const Tensor& memory_key_padding_mask = {},
                bool tgt_is_causal = false, bool memory_is_causal = false, AttentionSink* sink = nullptr);

  // nn.Transformer.generate_square_subsequent_mask(sz): float (sz, sz), -inf above the diagonal.
  static Tensor generate_square_subsequent_mask(int64_t sz);

  const TransformerOptions& options() const { return opt_; }

 private:
  TransformerOptions opt_;

 public:
  TransformerEncoder encoder;
  TransformerDecoder decoder;
};

}  // namespace attn::nn
