#include "attention/scaled_dot.hpp"

#include <cmath>

#include "attention/mask.hpp"
#include "ops/ops.hpp"

namespace attn {

WeightOptions to_weight_options(const SdpaOptions& opts, int64_t L, int64_t S, float scale, const char* what) {
  ATTN_CHECK(!(opts.is_causal && opts.attn_mask.defined()), what,
             ": attn_mask must not be set when is_causal is true (as in PyTorch)");
  ATTN_CHECK(opts.dropout_p >= 0.0f && opts.dropout_p < 1.0f, what, ": dropout_p must be in [0, 1), got ",
             opts.dropout_p);
  ATTN_CHECK(std::isfinite(scale), what, ": scale must be finite");
  WeightOptions w;
  w.scale = scale;
  if (opts.is_causal) w.keep_mask = causal_mask(L, S, opts.causal_align);
  if (opts.attn_mask.defined()) (opts.attn_mask.dtype() == DType::u8 ? w.keep_mask : w.additive_mask) = opts.attn_mask;
  w.selection = opts.selection;
  w.dropout_p = opts.dropout_p;
  w.dropout_rng = opts.rng;
  w.zero_fully_masked_rows = true;
  w.steps = opts.steps;
  return w;
}

AttentionResult scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                             const SdpaOptions& opts) {
  const char* what = "scaled_dot_product_attention";
  check_qkv(q, k, v, what, true);
  const int64_t E = q.size(-1);
  const float scale = opts.scale ? *opts.scale : 1.0f / std::sqrt(static_cast<float>(std::max<int64_t>(E, 1)));
  WeightOptions w = to_weight_options(opts, q.size(-2), k.size(-2), scale, what);
  return attend(matmul_nt(q, k), v, w, what);
}

}  // namespace attn
