#include "nn/functional_backward.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/activation.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/gemm.hpp"
#include "kernels/reduce.hpp"
#include "kernels/softmax.hpp"

namespace attn::nn::functional {

namespace {
inline size_t sz(int64_t n) { return static_cast<size_t>(n); }
// Elements per stack chunk of the pointwise backwards (2 KB of floats per buffer).
constexpr int64_t kChunk = 512;
}  // namespace

void embedding_backward(float* dwte, float* dwpe, const float* dout, const int32_t* ids, int64_t B, int64_t T,
                        int64_t C, int64_t pos0) noexcept {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      const float* d = dout + (b * T + t) * C;
      kernels::f32_axpy(sz(C), 1.0f, d, dwte + static_cast<int64_t>(ids[b * T + t]) * C);
      if (dwpe) kernels::f32_axpy(sz(C), 1.0f, d, dwpe + (pos0 + t) * C);
    }
}

void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                        const float* weight, const float* mean, const float* rstd, int64_t N, int64_t C) noexcept {
  // With xhat = (x - mean) * rstd and g = weight * dout (the gradient of xhat):
  //   dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
  for (int64_t r = 0; r < N; ++r) {
    const float* x = inp + r * C;
    const float* dy = dout + r * C;
    float* dx = dinp + r * C;
    const float m = mean[r], s = rstd[r];
    float g_mean = 0.0f, gx_mean = 0.0f;
    for (int64_t i = 0; i < C; ++i) {
      const float xhat = (x[i] - m) * s;
      const float g = weight ? weight[i] * dy[i] : dy[i];
      g_mean += g;
      gx_mean += g * xhat;
    }
    g_mean /= static_cast<float>(C);
    gx_mean /= static_cast<float>(C);
    for (int64_t i = 0; i < C; ++i) {
      const float xhat = (x[i] - m) * s;
      const float g = weight ? weight[i] * dy[i] : dy[i];
      if (dweight) dweight[i] += xhat * dy[i];
      dx[i] += s * (g - g_mean - xhat * gx_mean);
    }
    if (dbias) kernels::f32_axpy(sz(C), 1.0f, dy, dbias);
  }
}

void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                     const float* weight, int64_t N, int64_t C, int64_t OC) noexcept {
  if (dinp)  // (N, C) += (N, OC) x (OC, C)
    kernels::f32_gemm(false, false, sz(N), sz(C), sz(OC), 1.0f, dout, sz(OC), weight, sz(C), 1.0f, dinp, sz(C));
  if (dweight)  // (OC, C) += (N, OC)^T x (N, C)
    kernels::f32_gemm(true, false, sz(OC), sz(C), sz(N), 1.0f, dout, sz(OC), inp, sz(C), 1.0f, dweight, sz(C));
  if (dbias)
    for (int64_t r = 0; r < N; ++r) kernels::f32_axpy(sz(OC), 1.0f, dout + r * OC, dbias);
}

void attention_backward(HeadGrads dq, HeadGrads dk, HeadGrads dv, float* scratch, const float* dout,
                        int64_t ld_dout, const float* att, HeadRows q, HeadRows k, HeadRows v, int64_t NH, int64_t T,
                        int64_t S, int64_t hs, float scale) noexcept {
  // Full (T, S) products per head: the masked triangle of a causal block costs work but
  // contributes exact zeros (its weights are 0), so no mask has to be repeated here.
  for (int64_t h = 0; h < NH; ++h) {
    const float* atth = att + h * T * S;
    const float* douth = dout + h * hs;
    // dv (S, hs) += att^T (S, T) dout (T, hs)
    kernels::f32_gemm(true, false, sz(S), sz(hs), sz(T), 1.0f, atth, sz(S), douth, sz(ld_dout), 1.0f,
                      dv.data + h * dv.head_stride, sz(dv.row_stride));
    // datt (T, S) = dout (T, hs) v^T (hs, S)
    kernels::f32_gemm(false, true, sz(T), sz(S), sz(hs), 1.0f, douth, sz(ld_dout), v.data + h * v.head_stride,
                      sz(v.row_stride), 0.0f, scratch, sz(S));
    // softmax backward in place: dscore = att * (datt - <att, datt>)
    for (int64_t i = 0; i < T; ++i) {
      const float* a = atth + i * S;
      float* d = scratch + i * S;
      const float dot = kernels::f32_dot(sz(S), a, d);
      for (int64_t j = 0; j < S; ++j) d[j] = a[j] * (d[j] - dot);
    }
    // dq (T, hs) += scale * dscore (T, S) k (S, hs);  dk (S, hs) += scale * dscore^T (S, T) q (T, hs)
    kernels::f32_gemm(false, false, sz(T), sz(hs), sz(S), scale, scratch, sz(S), k.data + h * k.head_stride,
                      sz(k.row_stride), 1.0f, dq.data + h * dq.head_stride, sz(dq.row_stride));
    kernels::f32_gemm(true, false, sz(S), sz(hs), sz(T), scale, scratch, sz(S), q.data + h * q.head_stride,
                      sz(q.row_stride), 1.0f, dk.data + h * dk.head_stride, sz(dk.row_stride));
  }
}

void gelu_backward(float* dinp, const float* dout, const float* inp, int64_t n,
                   GeluApproximation approximate) noexcept {
  alignas(64) float buf[kChunk];
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t m = std::min(kChunk, n - i0);
    const float* x = inp + i0;
    const float* dy = dout + i0;
    float* dx = dinp + i0;
    if (approximate == GeluApproximation::tanh) {
      constexpr float kBeta = 0.7978845608028654f;  // sqrt(2 / pi)
      constexpr float kKappa = 0.044715f;
      for (int64_t i = 0; i < m; ++i) buf[i] = kBeta * (x[i] + kKappa * x[i] * x[i] * x[i]);
      kernels::f32_tanh(sz(m), buf, buf);
      for (int64_t i = 0; i < m; ++i) {
        const float t = buf[i], x2 = x[i] * x[i];
        const float left = 0.5f * (1.0f + t);
        const float right = 0.5f * x[i] * (1.0f - t * t) * kBeta * (1.0f + 3.0f * kKappa * x2);
        dx[i] += dy[i] * (left + right);
      }
    } else {
      constexpr float kAlpha = 0.7071067811865476f;  // 1 / sqrt(2)
      constexpr float kPdf = 0.3989422804014327f;    // 1 / sqrt(2 pi)
      for (int64_t i = 0; i < m; ++i) buf[i] = -0.5f * x[i] * x[i];
      kernels::f32_exp(sz(m), buf, buf);
      for (int64_t i = 0; i < m; ++i) {
        const float cdf = 0.5f * (1.0f + std::erf(x[i] * kAlpha));
        dx[i] += dy[i] * (cdf + x[i] * kPdf * buf[i]);
      }
    }
  }
}

void relu_backward(float* dinp, const float* dout, const float* inp, int64_t n) noexcept {
  for (int64_t i = 0; i < n; ++i) dinp[i] += inp[i] > 0.0f ? dout[i] : 0.0f;
}

void residual_backward(float* da, float* db, const float* dout, int64_t n) noexcept {
  kernels::f32_axpy(sz(n), 1.0f, dout, da);
  kernels::f32_axpy(sz(n), 1.0f, dout, db);
}

int64_t cross_entropy_forward(float* losses, float* probs, const float* logits, const int32_t* targets, int64_t N,
                              int64_t V, int64_t ignore_index, float label_smoothing) noexcept {
  int64_t count = 0;
  for (int64_t r = 0; r < N; ++r) {
    float* p = probs + r * V;
    kernels::f32_log_softmax(sz(V), logits + r * V, 1.0f, nullptr, nullptr, p);  // logp
    const int64_t t = targets[r];
    if (t == ignore_index) {
      losses[r] = 0.0f;
    } else {
      ++count;
      float loss = -(1.0f - label_smoothing) * p[t];
      if (label_smoothing != 0.0f) loss -= label_smoothing * kernels::f32_sum(sz(V), p) / static_cast<float>(V);
      losses[r] = loss;
    }
    kernels::f32_exp(sz(V), p, p);
  }
  return count;
}

void cross_entropy_backward(float* dlogits, const float* dlosses, const float* probs, const int32_t* targets,
                            int64_t N, int64_t V, int64_t ignore_index, float label_smoothing) noexcept {
  const float smooth = label_smoothing / static_cast<float>(V);
  for (int64_t r = 0; r < N; ++r) {
    const int64_t t = targets[r];
    if (t == ignore_index) continue;
    const float dl = dlosses[r];
    float* d = dlogits + r * V;
    kernels::f32_axpy(sz(V), dl, probs + r * V, d);
    if (smooth != 0.0f)
      for (int64_t c = 0; c < V; ++c) d[c] -= dl * smooth;
    d[t] -= dl * (1.0f - label_smoothing);
  }
}

}  // namespace attn::nn::functional
