#include "attention/capture.hpp"

#include <algorithm>

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

namespace {
Tensor copy_rows(HeadRowsView r, int64_t heads, int64_t rows, int64_t hs) {
  Tensor t = Tensor::empty({heads, rows, hs}, DType::f32, "attention capture: projections");
  float* out = t.data();
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < rows; ++i) {
      const float* src = r.data + h * r.head_stride + i * r.row_stride;
      std::copy(src, src + hs, out + (h * rows + i) * hs);
    }
  return t;
}
}  // namespace

void AttentionCapture::qkv(int64_t layer, AttentionKind kind, HeadRowsView q, HeadRowsView k, HeadRowsView v,
                           int64_t heads, int64_t L, int64_t S, int64_t head_size) {
  if (!record_qkv) return;
  qkv_[Key{layer, kind}] = {copy_rows(q, heads, L, head_size), copy_rows(k, heads, S, head_size),
                            copy_rows(v, heads, S, head_size)};
}

}  // namespace attn
