#include "nn/functional.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/activation.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/gemm.hpp"
#include "kernels/norm.hpp"
#include "kernels/reduce.hpp"
#include "kernels/softmax.hpp"

namespace attn::nn::functional {

namespace {
inline size_t sz(int64_t n) { return static_cast<size_t>(n); }
}  // namespace

void embedding_forward(float* out, const int32_t* ids, const float* wte, const float* wpe, int64_t B, int64_t T,
                       int64_t C, int64_t pos0) noexcept {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      float* o = out + (b * T + t) * C;
      const float* tok = wte + static_cast<int64_t>(ids[b * T + t]) * C;
      if (wpe)
        kernels::f32_add(sz(C), tok, wpe + (pos0 + t) * C, o);
      else
        std::memcpy(o, tok, sz(C) * sizeof(float));
    }
}

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                       const float* bias, int64_t N, int64_t C, float eps) noexcept {
  for (int64_t r = 0; r < N; ++r)
    kernels::f32_layernorm(sz(C), inp + r * C, weight, bias, eps, out + r * C, mean ? mean + r : nullptr,
                           rstd ? rstd + r : nullptr);
}

void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int64_t N, int64_t C,
                     float eps) noexcept {
  for (int64_t r = 0; r < N; ++r)
    kernels::f32_rmsnorm(sz(C), inp + r * C, weight, eps, out + r * C, rstd ? rstd + r : nullptr);
}

void gelu_forward(float* out, const float* inp, int64_t n, GeluApproximation approximate) noexcept {
  if (approximate == GeluApproximation::tanh)
    kernels::f32_gelu_tanh(sz(n), inp, out);
  else
    kernels::f32_gelu_erf(sz(n), inp, out);
}

void relu_forward(float* out, const float* inp, int64_t n) noexcept { kernels::f32_relu(sz(n), inp, out); }

void swiglu_forward(float* out, const float* a, const float* b, int64_t n) noexcept {
  // Chunks through a stack buffer, so out may alias a or b: each chunk reads its a and b
  // before it writes out.
  constexpr int64_t kChunk = 256;
  alignas(64) float gate[kChunk];
  for (int64_t i = 0; i < n; i += kChunk) {
    const size_t m = sz(std::min(kChunk, n - i));
    kernels::f32_sigmoid(m, a + i, gate);
    kernels::f32_mul(m, gate, a + i, gate);
    kernels::f32_mul(m, gate, b + i, out + i);
  }
}

void residual_forward(float* out, const float* a, const float* b, int64_t n) noexcept {
  kernels::f32_add(sz(n), a, b, out);
}

void kv_cache_write(float* cache, int64_t maxT, const float* src, int64_t ld_src, int64_t NH, int64_t T,
                    int64_t pos, int64_t hs) noexcept {
  for (int64_t h = 0; h < NH; ++h)
    for (int64_t t = 0; t < T; ++t)
      std::memcpy(cache + (h * maxT + pos + t) * hs, src + t * ld_src + h * hs, sz(hs) * sizeof(float));
}

namespace {

// Keys query i may see: a prefix 0 .. n - 1 of the S keys.
inline int64_t visible_keys(int64_t i, int64_t T, int64_t S, bool causal) {
  return causal ? std::clamp<int64_t>(i + S - T + 1, 0, S) : S;
}

// True when some key of the visible prefix survives the masks.
inline bool any_key_left(int64_t n, const float* add, const uint8_t* keep) {
  if (!add && !keep) return n > 0;
  for (int64_t j = 0; j < n; ++j)
    if ((!keep || keep[j]) && (!add || add[j] != -INFINITY)) return true;
  return false;
}

// Softmax of one row's visible prefix in place; zeros past it (and the whole row when
// nothing is visible). Returns false when the row was zeroed.
inline bool softmax_row(float* row, int64_t n, int64_t S, float scale, const float* add, const uint8_t* keep) {
  if (!any_key_left(n, add, keep)) {
    std::fill(row, row + S, 0.0f);
    return false;
  }
  kernels::f32_softmax(sz(n), row, scale, add, keep, row);
  std::fill(row + n, row + S, 0.0f);
  return true;
}

// Queries per GEMM block in the prefill path: small enough that a causal block's
// width (its last query's visible keys) wastes little on the masked triangle.
constexpr int64_t kQueryBlock = 32;

}  // namespace

void attention_forward(float* out, int64_t ld_out, float* att, HeadRows q, HeadRows k, HeadRows v, int64_t NH,
                       int64_t T, int64_t S, int64_t hs, float scale, bool causal, const float* add_mask,
                       int64_t add_mask_ld, const uint8_t* keep, int64_t keep_ld) noexcept {
  for (int64_t h = 0; h < NH; ++h) {
    const float* qh = q.data + h * q.head_stride;
    const float* kh = k.data + h * k.head_stride;
    const float* vh = v.data + h * v.head_stride;
    float* atth = att + h * T * S;
    float* outh = out + h * hs;
    if (T == 1) {
      // Decoding: one query, a matrix-vector product each way.
      const int64_t n = visible_keys(0, 1, S, causal);
      for (int64_t j = 0; j < n; ++j) atth[j] = kernels::f32_dot(sz(hs), qh, kh + j * k.row_stride);
      std::fill(outh, outh + hs, 0.0f);
      if (!softmax_row(atth, n, S, scale, add_mask, keep)) continue;
      for (int64_t j = 0; j < n; ++j) kernels::f32_axpy(sz(hs), atth[j], vh + j * v.row_stride, outh);
      continue;
    }
    for (int64_t i0 = 0; i0 < T; i0 += kQueryBlock) {
      const int64_t rows = std::min(kQueryBlock, T - i0);
      const int64_t width = visible_keys(i0 + rows - 1, T, S, causal);  // the widest row of the block
      float* a0 = atth + i0 * S;
      if (width > 0)
        kernels::f32_gemm(false, true, sz(rows), sz(width), sz(hs), 1.0f, qh + i0 * q.row_stride, sz(q.row_stride),
                          kh, sz(k.row_stride), 0.0f, a0, sz(S));
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t i = i0 + r;
        softmax_row(a0 + r * S, visible_keys(i, T, S, causal), S, scale, add_mask ? add_mask + i * add_mask_ld : nullptr,
                    keep ? keep + i * keep_ld : nullptr);
      }
      if (width > 0)
        kernels::f32_gemm(false, false, sz(rows), sz(hs), sz(width), 1.0f, a0, sz(S), vh, sz(v.row_stride), 0.0f,
                          outh + i0 * ld_out, sz(ld_out));
      else
        for (int64_t r = 0; r < rows; ++r) std::fill(outh + (i0 + r) * ld_out, outh + (i0 + r) * ld_out + hs, 0.0f);
    }
  }
}

void zero_heads(float* out, int64_t ld_out, int64_t T, int64_t NH, int64_t hs, const uint8_t* off) noexcept {
  for (int64_t h = 0; h < NH; ++h)
    if (off[h])
      for (int64_t t = 0; t < T; ++t) std::fill(out + t * ld_out + h * hs, out + t * ld_out + (h + 1) * hs, 0.0f);
}

}  // namespace attn::nn::functional
