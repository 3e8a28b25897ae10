#include "attention/capture.hpp"

namespace attn {

const char* attention_kind_name(AttentionKind kind) { return kind == AttentionKind::self ? "self" : "cross"; }

float* AttentionCapture::destination(int64_t layer, AttentionKind kind, int64_t N, int64_t heads, int64_t L,
                                     int64_t S) {
  Tensor& t = maps_[Key{layer, kind}];
  const Shape shape{N, heads, L, S};
  if (!t.defined() || t.shape() != shape) t = Tensor::empty(shape, DType::f32, "attention capture");
  return t.data();
}

Tensor AttentionCapture::get(int64_t layer, AttentionKind kind) const {
  auto it = maps_.find(Key{layer, kind});
  return it == maps_.end() ? Tensor() : it->second;
}

void AttentionCapture::set_head_mask(int64_t layer, AttentionKind kind, std::vector<uint8_t> off) {
  if (off.empty()) off_.erase(Key{layer, kind});
  else off_[Key{layer, kind}] = std::move(off);
}

const uint8_t* AttentionCapture::head_mask(int64_t layer, AttentionKind kind, int64_t heads) {
  auto it = off_.find(Key{layer, kind});
  return it == off_.end() || static_cast<int64_t>(it->second.size()) != heads ? nullptr : it->second.data();
}

}  // namespace attn
