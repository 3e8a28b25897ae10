#include "attention/multihead.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "attention/heads.hpp"
#include "core/init.hpp"
#include "attention/mask.hpp"
#include "kernels/gemm.hpp"
#include "nn/functional.hpp"
#include "ops/ops.hpp"

namespace attn {

namespace {
constexpr const char* kWhat = "MultiheadAttention";

// embed_dim, checked before out_proj (a member) is built from it.
int64_t checked_embed_dim(const MultiheadAttentionOptions& o) {
  ATTN_CHECK(o.embed_dim > 0, kWhat, ": embed_dim must be positive, got ", o.embed_dim);
  checked_bytes({o.embed_dim, o.embed_dim}, sizeof(float), kWhat);  // named after the module, not "Linear"
  return o.embed_dim;
}

// torch.nn.functional.pad(mask, (0, extra)) on the last dim with zeros / False.
Tensor pad_last(const Tensor& m, int64_t extra) {
  if (!m.defined() || extra == 0) return m;
  Shape pad_shape = m.shape();
  pad_shape.back() = extra;
  return cat({m, Tensor::zeros(pad_shape, m.dtype())}, -1);
}

void check_mask_dtype(const Tensor& m, const char* what) {
  ATTN_CHECK(m.dtype() == DType::u8 || m.dtype() == DType::f32, kWhat, ": ", what, " must be bool or float");
}
}  // namespace

MultiheadAttention::MultiheadAttention(const MultiheadAttentionOptions& options)
    : opt_(options),
      init_rng_(options.seed),
      dropout_rng_(options.seed ^ 0x9e3779b97f4a7c15ULL),
      out_proj(checked_embed_dim(options), checked_embed_dim(options), options.bias, init_rng_) {
  module_name_ = kWhat;
  const int64_t E = opt_.embed_dim, H = opt_.num_heads;
  ATTN_CHECK(E > 0, kWhat, ": embed_dim must be positive, got ", E);
  ATTN_CHECK(H > 0, kWhat, ": num_heads must be positive, got ", H);
  ATTN_CHECK(E % H == 0, kWhat, ": embed_dim (", E, ") must be divisible by num_heads (", H, ")");
  ATTN_CHECK(opt_.dropout >= 0.0f && opt_.dropout < 1.0f, kWhat, ": dropout must be in [0, 1), got ", opt_.dropout);
  ATTN_CHECK(opt_.kdim >= 0 && opt_.vdim >= 0, kWhat, ": kdim and vdim must be positive");
  if (opt_.kdim == 0) opt_.kdim = E;
  if (opt_.vdim == 0) opt_.vdim = E;
  same_dim_ = opt_.kdim == E && opt_.vdim == E;
  // torch's _reset_parameters: xavier_uniform_ projections, zero biases, xavier_normal_ bias_k/v;
  // out_proj keeps nn.Linear's weight init and gets a zero bias.
  Rng& rng = init_rng_;
  if (same_dim_) {
    in_proj_weight = xavier_uniform({3 * E, E}, rng);
    register_parameter("in_proj_weight", in_proj_weight);
  } else {
    q_proj_weight = xavier_uniform({E, E}, rng);
    k_proj_weight = xavier_uniform({E, opt_.kdim}, rng);
    v_proj_weight = xavier_uniform({E, opt_.vdim}, rng);
    register_parameter("q_proj_weight", q_proj_weight);
    register_parameter("k_proj_weight", k_proj_weight);
    register_parameter("v_proj_weight", v_proj_weight);
  }
  if (opt_.bias) {
    in_proj_bias = Tensor::zeros({3 * E});
    register_parameter("in_proj_bias", in_proj_bias);
    out_proj.bias.fill_(0.0f);
  }
  if (opt_.add_bias_kv) {
    bias_k = xavier_normal({1, 1, E}, rng);
    bias_v = xavier_normal({1, 1, E}, rng);
    register_parameter("bias_k", bias_k);
    register_parameter("bias_v", bias_v);
  }
  register_module("out_proj", out_proj);
  parameters_changed();
}

void MultiheadAttention::parameters_changed() {
  const int64_t E = opt_.embed_dim;
  const int64_t in_dims[3] = {E, opt_.kdim, opt_.vdim};
  for (int i = 0; i < 3; ++i) {
    const size_t in = static_cast<size_t>(in_dims[i]);
    const float* w = same_dim_ ? in_proj_weight.data() + i * E * E
                               : (i == 0 ? q_proj_weight : i == 1 ? k_proj_weight : v_proj_weight).data();
    const size_t floats = kernels::gemm_packed_b_floats(in, static_cast<size_t>(E));
    ATTN_CHECK(floats != SIZE_MAX && floats <= static_cast<size_t>(kMaxNumel), kWhat, ": the packed projection for ",
               E, " x ", in_dims[i], " is too large");
    if (!packed_[i].defined() || packed_[i].numel() != static_cast<int64_t>(floats))
      packed_[i] = Tensor::empty({static_cast<int64_t>(floats)}, DType::f32, "MultiheadAttention: packed projection");
    kernels::gemm_pack_b(/*trans_b=*/true, in, static_cast<size_t>(E), w, in, packed_[i].data());
  }
}

void MultiheadAttention::project(Projection which, float* y, int64_t ldy, const float* x, int64_t ldx,
                                 int64_t rows) const noexcept {
  const int i = static_cast<int>(which);
  const int64_t E = opt_.embed_dim, in = i == 0 ? E : i == 1 ? opt_.kdim : opt_.vdim;
  const float* b = in_proj_bias.defined() ? static_cast<const float*>(in_proj_bias.raw_data()) + i * E : nullptr;
  if (b)
    for (int64_t r = 0; r < rows; ++r) std::copy(b, b + E, y + r * ldy);
  kernels::f32_gemm_packed(static_cast<size_t>(rows), static_cast<size_t>(E), static_cast<size_t>(in), 1.0f, x,
                           static_cast<size_t>(ldx), static_cast<const float*>(packed_[i].raw_data()),
                           b ? 1.0f : 0.0f, y, static_cast<size_t>(ldy));
}

AttentionResult MultiheadAttention::self_attention(const Tensor& x, const MhaForwardOptions& opts) {
  return forward(x, x, x, opts);
}

AttentionResult MultiheadAttention::cross_attention(const Tensor& x, const Tensor& memory,
                                                    const MhaForwardOptions& opts) {
  return forward(x, memory, memory, opts);
}

AttentionResult MultiheadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                            const MhaForwardOptions& opts) {
  const int64_t E = opt_.embed_dim, H = opt_.num_heads, hd = E / H;
  const std::pair<const Tensor*, const char*> args[] = {{&query, "query"}, {&key, "key"}, {&value, "value"}};
  for (size_t i = 0; i < 3; ++i) {
    auto [t, name] = args[i];
    ATTN_CHECK(t->defined() && t->dtype() == DType::f32, kWhat, ": ", name, " must be a float32 tensor");
    bool checked = false;  // self-attention passes one tensor three times: scan it once
    for (size_t j = 0; j < i; ++j) checked = checked || t->same_as(*args[j].first);
    if (!checked) check_finite_or_inf(*t, (std::string(kWhat) + ": " + name).c_str());
  }
  ATTN_CHECK(query.dim() == 3 || query.dim() == 2, kWhat, ": query should be unbatched 2D or batched 3D, got shape ",
             query.shape());
  const bool batched = query.dim() == 3;
  ATTN_CHECK(key.dim() == query.dim() && value.dim() == query.dim(), kWhat, ": for ", batched ? "batched (3-D)" : "unbatched (2-D)",
             " query, key and value must also be ", query.dim(), "-D, got key ", key.shape(), " and value ", value.shape());
  ATTN_CHECK(query.size(-1) == E, kWhat, ": query has ", query.size(-1), " features but embed_dim is ", E);
  ATTN_CHECK(key.size(-1) == opt_.kdim, kWhat, ": key has ", key.size(-1), " features but kdim is ", opt_.kdim);
  ATTN_CHECK(value.size(-1) == opt_.vdim, kWhat, ": value has ", value.size(-1), " features but vdim is ", opt_.vdim);

  // Everything below works in (N, L, E).
  auto to_nle = [&](const Tensor& t) {
    if (!batched) return t.unsqueeze(0);
    return opt_.batch_first ? t : t.transpose(0, 1);
  };
  const Tensor q_in = to_nle(query), k_in = to_nle(key), v_in = to_nle(value);
  const int64_t N = q_in.size(0), L = q_in.size(1), S = k_in.size(1);
  ATTN_CHECK(k_in.size(0) == N && v_in.size(0) == N, kWhat, ": key ", key.shape(), " and value ", value.shape(),
             " must have the batch size of query ", query.shape());
  ATTN_CHECK(v_in.size(1) == S, kWhat, ": key has ", S, " positions but value has ", v_in.size(1), " (key ",
             key.shape(), ", value ", value.shape(), ")");

  Tensor attn_mask = opts.attn_mask, kpm = opts.key_padding_mask;
  if (attn_mask.defined()) {
    check_mask_dtype(attn_mask, "attn_mask");
    const Shape want2{L, S}, want3{batched ? N * H : H, L, S};
    ATTN_CHECK(attn_mask.shape() == want2 || attn_mask.shape() == want3, kWhat, ": attn_mask should have shape ",
               want2, " or ", want3, ", but got ", attn_mask.shape());
    check_finite_or_inf(attn_mask, "MultiheadAttention: attn_mask");
    attn_mask = to_additive_mask(attn_mask, BoolMaskMeaning::masked, "attn_mask");
    if (attn_mask.dim() == 3) attn_mask = attn_mask.reshape({N, H, L, S});
  } else if (opts.is_causal) {
    attn_mask = causal_additive_mask(L, S, opts.causal_align);
  }
  if (kpm.defined()) {
    check_mask_dtype(kpm, "key_padding_mask");
    const Shape want = batched ? Shape{N, S} : Shape{S};
    ATTN_CHECK(kpm.shape() == want, kWhat, ": key_padding_mask should have shape ", want, ", but got ", kpm.shape());
    check_finite_or_inf(kpm, "MultiheadAttention: key_padding_mask");
    kpm = to_additive_mask(kpm, BoolMaskMeaning::masked, "key_padding_mask").reshape({N, 1, 1, S});
  }

  // The common case (no bias_k/v, no zero key, no dropout, soft weights, masks that every
  // head shares) runs on raw pointers: projections on the packed weights straight into
  // (rows, E) buffers in the input's own row order, heads read in place by stride,
  // scores softmaxed in place in the weights' memory, heads written side by side where
  // out_proj reads them. No head copies, no per-call weight packing.
  const bool soft = opts.selection.kind == Selection::soft;
  const bool hard_extras = opt_.add_bias_kv || opt_.add_zero_attn || (training_ && opt_.dropout > 0.0f) || !soft;
  const bool per_head_mask = attn_mask.defined() && attn_mask.dim() == 4;
  // With need_weights, torch leaves a fully masked row NaN; the pointer path zeroes it, so
  // masked calls that return weights stay on the Tensor path.
  const bool may_mask_rows = attn_mask.defined() || kpm.defined() ||
                             (opts.is_causal && opts.causal_align == CausalAlign::bottom_right && L > S);
  if (!hard_extras && !per_head_mask && !(opts.need_weights && may_mask_rows))
    return forward_packed(query, key, value, opts, attn_mask, kpm, N, L, S, batched);

  // Input projections (views into in_proj_weight / in_proj_bias when packed).
  auto rows = [&](const Tensor& t, int64_t i) { return t.defined() ? t.slice(0, i * E, (i + 1) * E) : Tensor(); };
  const Tensor Wq = same_dim_ ? rows(in_proj_weight, 0) : q_proj_weight;
  const Tensor Wk = same_dim_ ? rows(in_proj_weight, 1) : k_proj_weight;
  const Tensor Wv = same_dim_ ? rows(in_proj_weight, 2) : v_proj_weight;
  Tensor q = linear(q_in, Wq, rows(in_proj_bias, 0), kWhat);
  Tensor k = linear(k_in, Wk, rows(in_proj_bias, 1), kWhat);
  Tensor v = linear(v_in, Wv, rows(in_proj_bias, 2), kWhat);
  int64_t extra_keys = 0;
  if (opt_.add_bias_kv) {
    k = cat({k, bias_k.expand({N, 1, E})}, 1);
    v = cat({v, bias_v.expand({N, 1, E})}, 1);
    ++extra_keys;
  }
  Tensor qh = split_heads(q, H), kh = split_heads(k, H), vh = split_heads(v, H);
  if (opt_.add_zero_attn) {
    kh = cat({kh, Tensor::zeros({N, H, 1, hd})}, 2);
    vh = cat({vh, Tensor::zeros({N, H, 1, hd})}, 2);
    ++extra_keys;
  }
  attn_mask = pad_last(attn_mask, extra_keys);
  kpm = pad_last(kpm, extra_keys);

  WeightOptions w;
  w.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  w.additive_mask = attn_mask.defined() && kpm.defined() ? add(attn_mask, kpm) : (attn_mask.defined() ? attn_mask : kpm);
  if (attn_mask.defined() && kpm.defined())  // each mask was NaN-free; their sum is NaN where +inf meets -inf
    check_finite_or_inf(w.additive_mask, "MultiheadAttention: attn_mask + key_padding_mask (+inf meets -inf)");
  w.selection = opts.selection;
  // torch >= 2.5: need_weights=False runs F.scaled_dot_product_attention, whose fully masked
  // rows are zeros; need_weights=True computes softmax explicitly and keeps NaN.
  w.zero_fully_masked_rows = !opts.need_weights;
  if (training_ && opt_.dropout > 0.0f) {
    w.dropout_p = opt_.dropout;
    w.dropout_rng = &dropout_rng_;
  }
  const int64_t S2 = kh.size(2);
  float* dest = opts.sink ? opts.sink->destination(opts.layer, opts.kind, N, H, L, S2) : nullptr;
  Tensor scores;
  if (dest) {  // the scores, and then the weights, live in the sink's memory
    scores = Tensor::from_blob(dest, {N, H, L, S2});
    kernels::f32_gemm_batched(N * H, false, true, L, S2, hd, 1.0f, qh.data(), hd, L * hd, kh.data(), hd, S2 * hd,
                              0.0f, dest, S2, L * S2);
  } else {
    scores = matmul_nt(qh, kh);
  }
  AttentionResult r = attend(scores, vh, w, kWhat);  // output (N, H, L, hd), weights (N, H, L, S')
  Tensor out = out_proj.forward(merge_heads(r.output));  // (N, L, E)
  if (!batched) out = out.squeeze(0);
  else if (!opt_.batch_first) out = out.transpose(0, 1).contiguous();
  last_weights = dest ? Tensor() : r.weights;

  Tensor weights;
  if (opts.need_weights) {
    weights = opts.average_attn_weights ? mean_over_heads(r.weights) : r.weights;
    if (!batched) weights = weights.squeeze(0);
  }
  return {out, weights};
}

AttentionResult MultiheadAttention::forward_packed(const Tensor& query, const Tensor& key, const Tensor& value,
                                                   const MhaForwardOptions& opts, const Tensor& attn_mask,
                                                   const Tensor& kpm, int64_t N, int64_t L, int64_t S, bool batched) {
  const int64_t E = opt_.embed_dim, H = opt_.num_heads, hd = E / H;
  // Rows in memory order: (L, N, E) for batched sequence-first inputs, else (N, L, E).
  const bool seq_first = batched && !opt_.batch_first;
  const Tensor xq = query.contiguous(), xk = key.contiguous(), xv = value.contiguous();
  const bool self_attn = same_dim_ && query.same_as(key) && query.same_as(value);
  const int64_t rows_q = N * L, rows_k = N * S;
  // q, k, v side by side in one (rows, 3E) buffer for self-attention, else three buffers.
  Tensor qkv = Tensor::empty({self_attn ? rows_q * 3 * E : rows_q * E + 2 * rows_k * E}, DType::f32, kWhat);
  float* qb = qkv.data();
  float *kb = self_attn ? qb + E : qb + rows_q * E, *vb = self_attn ? qb + 2 * E : kb + rows_k * E;
  const int64_t ldq = self_attn ? 3 * E : E, ldk = ldq;
  project(Projection::query, qb, ldq, xq.data(), E, rows_q);
  project(Projection::key, kb, ldk, self_attn ? xq.data() : xk.data(), opt_.kdim, rows_k);
  project(Projection::value, vb, ldk, self_attn ? xq.data() : xv.data(), opt_.vdim, rows_k);

  // Masks as one additive (L, S) matrix per batch item (or none), and the causal flag.
  bool causal = false;
  Tensor add = attn_mask;  // (L, S) or undefined
  if (!attn_mask.defined() && opts.is_causal) {
    if (opts.causal_align == CausalAlign::bottom_right || L == S) causal = true;
    else add = causal_additive_mask(L, S, opts.causal_align);
  }
  Tensor per_item;  // (N, L, S): add + kpm[n]
  if (kpm.defined() && add.defined()) {
    per_item = attn::add(add.reshape({1, L, S}), kpm.reshape({N, 1, S})).contiguous();
    check_finite_or_inf(per_item, "MultiheadAttention: attn_mask + key_padding_mask (+inf meets -inf)");
  }
  const Tensor add_c = add.defined() ? add.contiguous() : Tensor(), kpm_c = kpm.defined() ? kpm.contiguous() : Tensor();

  float* dest = opts.sink ? opts.sink->destination(opts.layer, opts.kind, N, H, L, S) : nullptr;
  Tensor weights4;  // (N, H, L, S): the weights, unless they live in the sink
  if (!dest) {
    weights4 = Tensor::empty({N, H, L, S}, DType::f32, kWhat);
    dest = weights4.data();
  }
  Tensor heads = Tensor::empty({rows_q, E}, DType::f32, kWhat);  // attention output, heads side by side
  const int64_t step_q = seq_first ? 1 : L, stride_q = seq_first ? N : 1;  // row of (n, l): n*step + l*stride
  const int64_t step_k = seq_first ? 1 : S, stride_k = seq_first ? N : 1;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (int64_t n = 0; n < N; ++n) {
    const float* mask = nullptr;
    int64_t mask_ld = 0;
    if (per_item.defined()) mask = per_item.data() + n * L * S, mask_ld = S;
    else if (add_c.defined()) mask = add_c.data(), mask_ld = S;
    else if (kpm_c.defined()) mask = kpm_c.data() + n * S, mask_ld = 0;
    using nn::functional::HeadRows;
    nn::functional::attention_forward(heads.data() + n * step_q * E, stride_q * E, dest + n * H * L * S,
                                      HeadRows{qb + n * step_q * ldq, stride_q * ldq, hd},
                                      HeadRows{kb + n * step_k * ldk, stride_k * ldk, hd},
                                      HeadRows{vb + n * step_k * ldk, stride_k * ldk, hd}, H, L, S, hd, scale, causal,
                                      mask, mask_ld);
  }
  Shape out_shape = query.shape();
  Tensor out = Tensor::empty(out_shape, DType::f32, kWhat);
  out_proj.forward(out.data(), E, heads.data(), E, rows_q);
  last_weights = weights4;
  Tensor weights;
  if (opts.need_weights) {
    const Tensor w4 = weights4.defined() ? weights4 : Tensor::from_blob(dest, {N, H, L, S});
    weights = opts.average_attn_weights ? mean_over_heads(w4) : w4;
    if (!batched) weights = weights.squeeze(0);
  }
  return {out, weights};
}

}  // namespace attn
