#include "nn/transformer_train.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "nn/functional_backward.hpp"

namespace attn::nn {

namespace F = functional;
using Proj = MultiheadAttention::Projection;

namespace {

void zero(float* p, int64_t n) noexcept { std::fill(p, p + n, 0.0f); }

void act_forward(Activation a, float* out, const float* in, int64_t n) noexcept {
  if (a == Activation::relu) F::relu_forward(out, in, n);
  else F::gelu_forward(out, in, n, a == Activation::gelu ? F::GeluApproximation::none : F::GeluApproximation::tanh);
}
void act_backward(Activation a, float* dinp, const float* dout, const float* inp, int64_t n) noexcept {
  if (a == Activation::relu) F::relu_backward(dinp, dout, inp, n);
  else F::gelu_backward(dinp, dout, inp, n, a == Activation::gelu ? F::GeluApproximation::none : F::GeluApproximation::tanh);
}

// n.r holds the branch; r = in + branch, out = LN(r).
void post_ln_forward(const LayerNorm& norm, const NormActs& n, const float* in, float* out, int64_t N, int64_t D) noexcept {
  F::residual_forward(n.r, in, n.r, N * D);
  F::layernorm_forward(out, n.mean, n.rstd, n.r, norm.weight.data(), norm.bias.data(), N, D, norm.eps);
}
// dr = d LN(r) / d r applied to dout (overwritten); the norm's parameter gradients accumulate.
void post_ln_backward(const LayerNorm& norm, float* dw, float* db, const NormActs& n, const float* dout, float* dr,
                      int64_t N, int64_t D) noexcept {
  zero(dr, N * D);
  F::layernorm_backward(dr, dw, db, dout, n.r, norm.weight.data(), n.mean, n.rstd, N, D);
}

// The feed-forward sublayer: r = h + linear2(act(linear1(h))), out = LN(r).
void ff_forward(const Linear& l1, const Linear& l2, Activation act, const LayerNorm& norm, const float* h, float* f,
                float* fa, const NormActs& n, float* out, int64_t N, int64_t D) noexcept {
  const int64_t Fw = l1.out_features;
  l1.forward(f, Fw, h, D, N);
  act_forward(act, fa, f, N * Fw);
  l2.forward(n.r, D, fa, Fw, N);
  post_ln_forward(norm, n, h, out, N, D);
}
// From dout (d out) to dh (d h, overwritten), through the norm and both linears.
void ff_backward(const Linear& l1, const Linear& l2, Activation act, const LayerNorm& norm, float* dn_w, float* dn_b,
                 float* d1_w, float* d1_b, float* d2_w, float* d2_b, const float* h, const float* f, const float* fa,
                 const NormActs& n, const float* dout, float* dh, const TrainScratch& s, int64_t N, int64_t D) noexcept {
  const int64_t Fw = l1.out_features;
  post_ln_backward(norm, dn_w, dn_b, n, dout, dh, N, D);  // dh = d r (the residual carries it to h)
  zero(s.dfa, N * Fw);
  F::linear_backward(s.dfa, d2_w, d2_b, dh, fa, l2.weight.data(), N, Fw, D);
  zero(s.df, N * Fw);
  act_backward(act, s.df, s.dfa, f, N * Fw);
  F::linear_backward(dh, d1_w, d1_b, s.df, h, l1.weight.data(), N, D, Fw);
}

// Self-attention over the rows of x into n.r (the out_proj output, before the residual).
void self_attention_forward(const MultiheadAttention& mha, const float* x, float* qkv, float* att, float* atty,
                            float* branch, int64_t B, int64_t T, int64_t H, int64_t D, bool causal,
                            const float* kpm) noexcept {
  const int64_t N = B * T, hs = D / H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  mha.project(Proj::query, qkv, 3 * D, x, D, N);
  mha.project(Proj::key, qkv + D, 3 * D, x, D, N);
  mha.project(Proj::value, qkv + 2 * D, 3 * D, x, D, N);
  for (int64_t b = 0; b < B; ++b) {
    const float* q = qkv + b * T * 3 * D;
    F::attention_forward(atty + b * T * D, D, att + b * H * T * T, {q, 3 * D, hs}, {q + D, 3 * D, hs},
                         {q + 2 * D, 3 * D, hs}, H, T, T, hs, scale, causal, kpm ? kpm + b * T : nullptr, 0);
  }
  mha.out_proj.forward(branch, D, atty, D, N);
}
// From dr (d of the branch's output) to dx (overwritten with dr + the input gradient).
void self_attention_backward(const MultiheadAttention& mha, const AttentionGrads& g, const float* x, const float* qkv,
                             const float* att, const float* atty, const float* dr, float* dx, const TrainScratch& s,
                             int64_t B, int64_t T, int64_t H, int64_t D) noexcept {
  const int64_t N = B * T, hs = D / H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  zero(s.d3, N * D);
  F::linear_backward(s.d3, g.out_w, g.out_b, dr, atty, mha.out_proj.weight.data(), N, D, D);
  zero(s.dqkv, N * 3 * D);
  for (int64_t b = 0; b < B; ++b) {
    float* dq = s.dqkv + b * T * 3 * D;
    const float* q = qkv + b * T * 3 * D;
    F::attention_backward({dq, 3 * D, hs}, {dq + D, 3 * D, hs}, {dq + 2 * D, 3 * D, hs}, s.datt, s.d3 + b * T * D, D,
                          att + b * H * T * T, {q, 3 * D, hs}, {q + D, 3 * D, hs}, {q + 2 * D, 3 * D, hs}, H, T, T, hs,
                          scale);
  }
  std::copy(dr, dr + N * D, dx);
  F::linear_backward(dx, g.in_w, g.in_b, s.dqkv, x, mha.in_proj_weight.data(), N, D, 3 * D);
}

AttentionGrads attention_grads(const GradLookup& grad, const std::string& p) {
  return {grad(p + "in_proj_weight"), grad(p + "in_proj_bias"), grad(p + "out_proj.weight"), grad(p + "out_proj.bias")};
}

}  // namespace

EncoderLayerGrads encoder_layer_grads(const GradLookup& grad, const std::string& p) {
  return {attention_grads(grad, p + "self_attn."), grad(p + "linear1.weight"), grad(p + "linear1.bias"),
          grad(p + "linear2.weight"), grad(p + "linear2.bias"), grad(p + "norm1.weight"), grad(p + "norm1.bias"),
          grad(p + "norm2.weight"), grad(p + "norm2.bias")};
}

DecoderLayerGrads decoder_layer_grads(const GradLookup& grad, const std::string& p) {
  return {attention_grads(grad, p + "self_attn."), attention_grads(grad, p + "multihead_attn."),
          grad(p + "linear1.weight"), grad(p + "linear1.bias"), grad(p + "linear2.weight"), grad(p + "linear2.bias"),
          grad(p + "norm1.weight"), grad(p + "norm1.bias"), grad(p + "norm2.weight"), grad(p + "norm2.bias"),
          grad(p + "norm3.weight"), grad(p + "norm3.bias")};
}

void check_trainable(const TransformerLayerOptions& o, const char* what) {
  ATTN_CHECK(!o.norm_first, what, ": training supports post-LN layers (norm_first false)");
  ATTN_CHECK(o.dropout == 0.0f, what, ": the model's dropout must be 0 (dropout is not modelled in training), got ",
             o.dropout);
  ATTN_CHECK(o.bias, what, ": training needs the layers' biases (bias true)");
  ATTN_CHECK(o.activation != Activation::swiglu, what, ": training supports relu, gelu and gelu_tanh feed-forwards");
}

void encoder_layer_forward(const TransformerEncoderLayer& m, const EncoderLayerActs& a, int64_t B, int64_t T,
                           const float* kpm) noexcept {
  const int64_t D = m.options().d_model, H = m.options().nhead, N = B * T;
  self_attention_forward(m.self_attn, a.x, a.qkv, a.att, a.atty, a.n1.r, B, T, H, D, /*causal=*/false, kpm);
  post_ln_forward(m.norm1, a.n1, a.x, a.h1, N, D);
  ff_forward(m.linear1, m.linear2, m.options().activation, m.norm2, a.h1, a.f, a.fa, a.n2, a.out, N, D);
}

void encoder_layer_backward(const TransformerEncoderLayer& m, const EncoderLayerGrads& g, const EncoderLayerActs& a,
                            int64_t B, int64_t T, const float* dout, float* dx, const TrainScratch& s) noexcept {
  const int64_t D = m.options().d_model, H = m.options().nhead, N = B * T;
  ff_backward(m.linear1, m.linear2, m.options().activation, m.norm2, g.n2_w, g.n2_b, g.l1_w, g.l1_b, g.l2_w, g.l2_b,
              a.h1, a.f, a.fa, a.n2, dout, s.d1, s, N, D);            // s.d1 = d h1
  post_ln_backward(m.norm1, g.n1_w, g.n1_b, a.n1, s.d1, s.d2, N, D);  // s.d2 = d r1
  self_attention_backward(m.self_attn, g.self, a.x, a.qkv, a.att, a.atty, s.d2, dx, s, B, T, H, D);
}

void decoder_layer_forward(const TransformerDecoderLayer& m, const DecoderLayerActs& a, int64_t B, int64_t T,
                           const float* memory, int64_t S, const float* tgt_kpm, const float* mem_kpm) noexcept {
  const int64_t D = m.options().d_model, H = m.options().nhead, N = B * T, hs = D / H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  self_attention_forward(m.self_attn, a.x, a.qkv, a.att_self, a.atty_self, a.n1.r, B, T, H, D, /*causal=*/true,
                         tgt_kpm);
  post_ln_forward(m.norm1, a.n1, a.x, a.h1, N, D);
  // Cross-attention: queries from h1, keys and values from the memory.
  const MultiheadAttention& ca = m.multihead_attn;
  ca.project(Proj::query, a.q2, D, a.h1, D, N);
  ca.project(Proj::key, a.kv2, 2 * D, memory, D, B * S);
  ca.project(Proj::value, a.kv2 + D, 2 * D, memory, D, B * S);
  for (int64_t b = 0; b < B; ++b) {
    const float* kv = a.kv2 + b * S * 2 * D;
    F::attention_forward(a.atty_cross + b * T * D, D, a.att_cross + b * H * T * S, {a.q2 + b * T * D, D, hs},
                         {kv, 2 * D, hs}, {kv + D, 2 * D, hs}, H, T, S, hs, scale, /*causal=*/false,
                         mem_kpm ? mem_kpm + b * S : nullptr, 0);
  }
  ca.out_proj.forward(a.n2.r, D, a.atty_cross, D, N);
  post_ln_forward(m.norm2, a.n2, a.h1, a.h2, N, D);
  ff_forward(m.linear1, m.linear2, m.options().activation, m.norm3, a.h2, a.f, a.fa, a.n3, a.out, N, D);
}

void decoder_layer_backward(const TransformerDecoderLayer& m, const DecoderLayerGrads& g, const DecoderLayerActs& a,
                            int64_t B, int64_t T, const float* memory, int64_t S, const float* dout, float* dx,
                            float* dmemory, const TrainScratch& s) noexcept {
  const int64_t D = m.options().d_model, H = m.options().nhead, N = B * T, M = B * S, hs = D / H;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  ff_backward(m.linear1, m.linear2, m.options().activation, m.norm3, g.n3_w, g.n3_b, g.l1_w, g.l1_b, g.l2_w, g.l2_b,
              a.h2, a.f, a.fa, a.n3, dout, s.d1, s, N, D);            // s.d1 = d h2
  post_ln_backward(m.norm2, g.n2_w, g.n2_b, a.n2, s.d1, s.d2, N, D);  // s.d2 = d r2
  // Cross-attention: d atty_cross, then dq (N, D) into s.dqkv and [dk | dv] (M, 2D) into s.dkv.
  const MultiheadAttention& ca = m.multihead_attn;
  zero(s.d3, N * D);
  F::linear_backward(s.d3, g.cross.out_w, g.cross.out_b, s.d2, a.atty_cross, ca.out_proj.weight.data(), N, D, D);
  zero(s.dqkv, N * D);
  zero(s.dkv, M * 2 * D);
  for (int64_t b = 0; b < B; ++b) {
    const float* kv = a.kv2 + b * S * 2 * D;
    float* dkv = s.dkv + b * S * 2 * D;
    F::attention_backward({s.dqkv + b * T * D, D, hs}, {dkv, 2 * D, hs}, {dkv + D, 2 * D, hs}, s.datt,
                          s.d3 + b * T * D, D, a.att_cross + b * H * T * S, {a.q2 + b * T * D, D, hs}, {kv, 2 * D, hs},
                          {kv + D, 2 * D, hs}, H, T, S, hs, scale);
  }
  // The memory's keys and values are rows D .. 3D of in_proj: one (2D, D) product back to memory.
  const float* w = ca.in_proj_weight.data();
  F::linear_backward(dmemory, g.cross.in_w + D * D, g.cross.in_b + D, s.dkv, memory, w + D * D, M, D, 2 * D);
  // d h1 = d r2 (the residual) + the queries' input gradient.
  std::copy(s.d2, s.d2 + N * D, s.d1);
  F::linear_backward(s.d1, g.cross.in_w, g.cross.in_b, s.dqkv, a.h1, w, N, D, D);
  post_ln_backward(m.norm1, g.n1_w, g.n1_b, a.n1, s.d1, s.d2, N, D);  // s.d2 = d r1
  self_attention_backward(m.self_attn, g.self, a.x, a.qkv, a.att_self, a.atty_self, s.d2, dx, s, B, T, H, D);
}

}  // namespace attn::nn
