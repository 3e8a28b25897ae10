// Attention capture: where a model's forward pass writes the attention weights it
// computes, so a caller can see every one of them without a second pass.
//
// The model asks its sink for a destination right before each attention's softmax;
// the scores are computed into that memory and the softmax runs in place there, so
// the captured weights ARE the weights the forward used. With no sink (nullptr) the
// model uses its own scratch and nothing is kept.
//
// Keys: (layer, kind); heads are the leading dims of the destination:
//   [N, heads, L, S] contiguous: item n, head h, query i, key j at ((n * heads + h) * L + i) * S + j,
// where L is the number of queries of this call and S the number of keys (with a KV
// cache, S counts the cached positions too). One call per (layer, kind) per forward.
//
// Head ablation: a sink may also switch heads off. head_mask(layer, kind, heads) returns
// null or `heads` flags (nonzero = off); the model then zeroes those heads' outputs before
// the output projection, as Hugging Face's head_mask = 0 does (the attention probabilities
// multiplied by 0). Their weights are still computed and captured, so a page can show
// what a switched-off head would have attended to.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace attn {

enum class AttentionKind : uint8_t { self = 0, cross = 1 };

// Rows of one projection with the heads interleaved or stacked: head h's row i at
// data + h * head_stride + i * row_stride (head size floats).
struct HeadRowsView {
  const float* data;
  int64_t row_stride, head_stride;
};
const char* attention_kind_name(AttentionKind kind);  // "self" / "cross"

class AttentionSink {
 public:
  virtual ~AttentionSink() = default;
  // A [N, heads, L, S] float destination for (layer, kind), or nullptr to skip it.
  // Called outside the hot loops (once per attention), may throw.
  virtual float* destination(int64_t layer, AttentionKind kind, int64_t N, int64_t heads, int64_t L, int64_t S) = 0;
  // Heads of (layer, kind) to switch off (`heads` flags, nonzero = off), or null for none.
  virtual const uint8_t* head_mask(int64_t /*layer*/, AttentionKind /*kind*/, int64_t /*heads*/) { return nullptr; }
  // The queries (L rows), keys and values (S rows) of (layer, kind) right before the scores,
  // for a sink that wants them (the page's lab takes Q, K, V from a running model). Models call it
  // once per attention (the GPT's self-attention, the encoders' self-attention, the encoder-decoder's
  // cross-attention; of the first sequence of a batch); the default ignores them.
  virtual void qkv(int64_t /*layer*/, AttentionKind /*kind*/, HeadRowsView /*q*/, HeadRowsView /*k*/,
                   HeadRowsView /*v*/, int64_t /*heads*/, int64_t /*L*/, int64_t /*S*/, int64_t /*head_size*/) {}
};

// The usual sink: one [N, heads, L, S] tensor per (layer, kind), allocated on first use
// and reused by later calls of the same shape (so capturing every call of a loop
// allocates once). Entries of another shape are replaced.
class AttentionCapture : public AttentionSink {
 public:
  float* destination(int64_t layer, AttentionKind kind, int64_t N, int64_t heads, int64_t L, int64_t S) override;
  // The weights of (layer, kind); undefined if that attention did not run.
  Tensor get(int64_t layer, AttentionKind kind) const;
  using Key = std::pair<int64_t, AttentionKind>;
  const std::map<Key, Tensor>& all() const { return maps_; }
  void clear() { maps_.clear(); }
  // Switches heads of (layer, kind) off (flags nonzero = off; empty = none). A mask whose
  // length is not the attention's head count is ignored by head_mask().
  void set_head_mask(int64_t layer, AttentionKind kind, std::vector<uint8_t> off);
  const uint8_t* head_mask(int64_t layer, AttentionKind kind, int64_t heads) override;
  // With record_qkv set, qkv() keeps copies: [heads, L, head_size] queries, [heads, S,
  // head_size] keys and values per (layer, kind).
  bool record_qkv = false;
  void qkv(int64_t layer, AttentionKind kind, HeadRowsView q, HeadRowsView k, HeadRowsView v, int64_t heads, int64_t L,
           int64_t S, int64_t head_size) override;
  struct Projections {
    Tensor q, k, v;
  };
  const std::map<Key, Projections>& projections() const { return qkv_; }

 private:
  std::map<Key, Tensor> maps_;
  std::map<Key, std::vector<uint8_t>> off_;
  std::map<Key, Projections> qkv_;
};

}  // namespace attn
