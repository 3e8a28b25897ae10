#include "attention/engine.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "attention/mask.hpp"
#include "ops/ops.hpp"
#include "kernels/softmax.hpp"

namespace attn {

namespace {
// A mask viewed with the scores' shape: per-row pointer arithmetic without materialising
// the broadcast, unless the key dim itself is broadcast (then it is expanded once).
struct MaskRows {
  Tensor t;
  const Shape* shape = nullptr;
  void init(const Tensor& mask, const Shape& scores_shape) {
    if (!mask.defined()) return;
    t = mask.expand(scores_shape);
    if (scores_shape.back() > 1 && t.strides().back() != 1) t = t.contiguous();
    shape = &scores_shape;
  }
  bool defined() const { return t.defined(); }
};

// Calls fn(row, offset_a, offset_b) for each row of `shape` (all dims but the last),
// where offsets follow the strides of a and b (stride 0 = broadcast).
template <class Fn>
void for_each_row(const Shape& shape, const Shape& sa, const Shape& sb, Fn fn) {
  const int64_t nd = static_cast<int64_t>(shape.size()) - 1;
  int64_t rows = 1;
  for (int64_t d = 0; d < nd; ++d) rows *= shape[d];
  std::vector<int64_t> idx(nd, 0);
  int64_t a = 0, b = 0;
  for (int64_t r = 0; r < rows; ++r) {
    fn(r, a, b);
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) {
        a += sa.empty() ? 0 : sa[d];
        b += sb.empty() ? 0 : sb[d];
        break;
      }
      a -= sa.empty() ? 0 : sa[d] * (shape[d] - 1);
      b -= sb.empty() ? 0 : sb[d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
}
// True when every score of the row is -inf once scaled and masked (a fully masked query).
// Exits at the first live score, so it costs one element for almost every row.
bool row_fully_masked(int64_t S, const float* s, float scale, const float* add, const uint8_t* keep) {
  const float ninf = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < S; ++j) {
    if (keep && !keep[j]) continue;
    const float z = s[j] * scale + (add ? add[j] : 0.0f);
    if (!(z == ninf)) return false;  // NaN counts as live, as in torch (NaN != -inf)
  }
  return true;
}
}  // namespace

void dropout_(Tensor& weights, float p, Rng& rng) {
  ATTN_CHECK(p >= 0.0f && p < 1.0f, "dropout: p must be in [0, 1), got ", p);
  if (p == 0.0f) return;
  float* w = weights.data();
  const float keep_scale = 1.0f / (1.0f - p);
  for (int64_t i = 0; i < weights.numel(); ++i) w[i] = rng.uniform() < p ? 0.0f : w[i] * keep_scale;
}

void scores_to_weights(Tensor& scores, const WeightOptions& opts, const char* what) {
  ATTN_CHECK(scores.is_contiguous() && scores.dim() >= 1, what, ": internal: scores must be contiguous");
  check_selection(opts.selection, what);
  const Shape& shape = scores.shape();
  const int64_t S = shape.back();
  if (S == 0 || scores.numel() == 0) return;
  MaskRows add, keep;
  const std::string mask_what = std::string(what) + ": attn_mask";
  if (opts.additive_mask.defined()) {
    check_mask_broadcasts(opts.additive_mask, shape, mask_what.c_str());
    add.init(opts.additive_mask, shape);
  }
  if (opts.keep_mask.defined()) {
    check_mask_broadcasts(opts.keep_mask, shape, mask_what.c_str());
    keep.init(opts.keep_mask, shape);
  }
  float* s = scores.data();
  const float* add_base = add.defined() ? add.t.data() : nullptr;
  const uint8_t* keep_base = keep.defined() ? keep.t.data_u8() : nullptr;
  float* soft_copy = nullptr;
  if (AttentionSteps* st = opts.steps) {  // the stages before the softmax overwrites the scores
    st->scores = scores.clone();
    st->scaled = Tensor::empty(shape, DType::f32, what);
    st->masked = Tensor::empty(shape, DType::f32, what);
    st->softmax = Tensor::empty(shape, DType::f32, what);
    soft_copy = st->softmax.data();
    const float ninf = -std::numeric_limits<float>::infinity();
    float *sc = st->scaled.data(), *ms = st->masked.data();
    for_each_row(shape, add.defined() ? add.t.strides() : Shape{}, keep.defined() ? keep.t.strides() : Shape{},
                 [&](int64_t r, int64_t oa, int64_t ok) {
                   for (int64_t j = 0; j < S; ++j) {
                     const float z = s[r * S + j] * opts.scale;
                     sc[r * S + j] = z;
                     ms[r * S + j] = keep_base && !keep_base[ok + j] ? ninf : z + (add_base ? add_base[oa + j] : 0.0f);
                   }
                 });
  }
  Rng own_select_rng(opts.selection.seed, kSampleStream);
  Rng& select_rng = opts.selection.rng ? *opts.selection.rng : own_select_rng;
  const bool hard = opts.selection.kind != Selection::soft;
  // Without masks a row is all -inf only when the inputs hold -inf; the check still exits at the
  // first live score, so it costs about one element per row.
  const bool zero_masked = opts.zero_fully_masked_rows;
  for_each_row(shape, add.defined() ? add.t.strides() : Shape{}, keep.defined() ? keep.t.strides() : Shape{},
               [&](int64_t r, int64_t oa, int64_t ok) {
                 float* row = s + r * S;
                 const float* a = add_base ? add_base + oa : nullptr;
                 const uint8_t* k = keep_base ? keep_base + ok : nullptr;
                 if (zero_masked && row_fully_masked(S, row, opts.scale, a, k)) {
                   std::fill(row, row + S, 0.0f);
                   if (soft_copy) std::fill(soft_copy + r * S, soft_copy + (r + 1) * S, 0.0f);
                   return;
                 }
                 kernels::f32_softmax(S, row, opts.scale, a, k, row);
                 if (soft_copy) std::copy(row, row + S, soft_copy + r * S);
                 if (hard) select_row(row, S, opts.selection, select_rng);
               });
  if (opts.dropout_p > 0.0f) {
    ATTN_CHECK(opts.dropout_rng, what, ": dropout_p > 0 needs a seeded Rng (training mode)");
    dropout_(scores, opts.dropout_p, *opts.dropout_rng);
  }
}

AttentionResult attend(Tensor scores, const Tensor& v, const WeightOptions& opts, const char* what) {
  scores_to_weights(scores, opts, what);
  return {matmul(scores, v), scores};
}

}  // namespace attn

namespace attn {
void check_qkv(const Tensor& q, const Tensor& k, const Tensor& v, const char* what, bool same_features) {
  const std::pair<const Tensor*, const char*> args[] = {{&q, "query"}, {&k, "key"}, {&v, "value"}};
  for (size_t i = 0; i < 3; ++i) {
    auto [t, name] = args[i];
    ATTN_CHECK(t->defined(), what, ": ", name, " is undefined");
    ATTN_CHECK(t->dtype() == DType::f32, what, ": ", name, " must be float32 but is ", dtype_name(t->dtype()));
    ATTN_CHECK(t->dim() >= 2, what, ": ", name, " must have at least 2 dims (..., seq_len, features), got shape ",
               t->shape());
    bool checked = false;  // self-attention passes one tensor three times: scan it once
    for (size_t j = 0; j < i; ++j) checked = checked || t->same_as(*args[j].first);
    if (!checked) check_finite_or_inf(*t, (std::string(what) + ": " + name).c_str());
  }
  if (same_features)
    ATTN_CHECK(k.size(-1) == q.size(-1), what, ": key has ", k.size(-1), " features but query has ", q.size(-1),
               " (key ", k.shape(), ", query ", q.shape(), ")");
  ATTN_CHECK(k.size(-2) == v.size(-2), what, ": key has ", k.size(-2), " positions but value has ", v.size(-2),
             " (key ", k.shape(), ", value ", v.shape(), ")");
  Shape qb(q.shape().begin(), q.shape().end() - 2), kb(k.shape().begin(), k.shape().end() - 2),
      vb(v.shape().begin(), v.shape().end() - 2);
  broadcast_shapes(broadcast_shapes(qb, kb, what), vb, what);
}
void check_features(const Tensor& t, int64_t expected, const char* what, const char* arg, const char* size_name) {
  ATTN_CHECK(t.size(-1) == expected, what, ": ", arg, " has ", t.size(-1), " features but ", size_name, " is ", expected);
}
}  // namespace attn
