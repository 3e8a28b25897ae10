// Forward ops on raw pointers, llm.c style (train_gpt2.c's *_forward): each writes
// into memory the caller planned (a model's activation arena), never allocates,
// never throws, and runs the SIMD kernels of src/kernels/ in its inner loops.
// Arguments are validated once by the model that calls them, not here.
//
// Shape legend (row-major, contiguous unless a row stride `ld*` is given):
//   B batch, T time (new queries), S keys seen (cached + new), C channels,
//   NH heads, hs = C / NH head size, V vocabulary, OC out channels, N rows (B * T).
// Argument order: outputs first (out, then caches such as mean/rstd), then inputs,
// then weights, then sizes, as in llm.c.
//
// PyTorch equivalents are named at each function. Not here: projections (nn::Linear,
// which packs its weight once), and anything that allocates (ops/ops.hpp).
#pragma once

#include <cstdint>

namespace attn::nn::functional {

// out (B, T, C) = wte[ids[b, t]] + wpe[pos0 + t]   (GPT-2's token + learned position embedding)
// ids in [0, V) and pos0 + T <= the rows of wpe: checked by the caller. wpe may be null
// (token embedding only, torch.nn.Embedding).
void embedding_forward(float* out, const int32_t* ids, const float* wte, const float* wpe, int64_t B, int64_t T,
                       int64_t C, int64_t pos0) noexcept;

// out (N, C) = torch.nn.LayerNorm over the last dim (biased variance). mean, rstd (N)
// receive the row statistics the backward pass needs; either may be null. weight,
// bias (C) may be null (elementwise_affine=False). In place (out == inp) is allowed.
void layernorm_forward(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                       const float* bias, int64_t N, int64_t C, float eps) noexcept;

// out (N, C) = torch.nn.RMSNorm: x / sqrt(mean(x^2) + eps) * weight. rstd (N) may be null.
void rmsnorm_forward(float* out, float* rstd, const float* inp, const float* weight, int64_t N, int64_t C,
                     float eps) noexcept;

// F.gelu's `approximate`: none = x * Phi(x) (erf), tanh = HF GPT-2's "gelu_new".
enum class GeluApproximation : uint8_t { none = 0, tanh = 1 };

// out (n) = F.gelu(inp, approximate). In place allowed.
void gelu_forward(float* out, const float* inp, int64_t n, GeluApproximation approximate) noexcept;

// out (n) = F.relu(inp). In place allowed.
void relu_forward(float* out, const float* inp, int64_t n) noexcept;

// out (n) = F.silu(a) * b (the SwiGLU feed-forward's gate, LLaMA's silu(gate_proj(x)) * up_proj(x)).
// out may alias a or b.
void swiglu_forward(float* out, const float* a, const float* b, int64_t n) noexcept;

// out (n) = a + b (the residual stream). out may alias a or b.
void residual_forward(float* out, const float* a, const float* b, int64_t n) noexcept;

// Per-head rows of queries, keys or values: element d of head h at row t is
//   data[h * head_stride + t * row_stride + d],  d < hs.
// Fused GPT-2 qkv rows (T, 3C): q = {qkv, 3C, hs}, k = {qkv + C, 3C, hs}, v = {qkv + 2C, 3C, hs}.
// A KV cache laid out (NH, maxT, hs): {cache, hs, maxT * hs}.
struct HeadRows {
  const float* data;
  int64_t row_stride;
  int64_t head_stride;
};

// Appends T new rows to a KV cache (NH, maxT, hs) at rows pos .. pos + T - 1 of every
// head, from `src` (row t's head h at src[t * ld_src + h * hs], the fused qkv layout).
// The cached rows 0 .. pos - 1 are not touched, so decoding one token copies NH * hs floats.
void kv_cache_write(float* cache, int64_t maxT, const float* src, int64_t ld_src, int64_t NH, int64_t T,
                    int64_t pos, int64_t hs) noexcept;

// Multi-head scaled dot-product attention of T queries against S keys (S >= T with a
// KV cache: the last T keys are the queries' own positions):
//   att[h, i, :] = softmax(q_h[i] . k_h[j] * scale + add_mask[i, j]  over visible j)
//   out[i, h * hs : (h + 1) * hs] = sum_j att[h, i, j] v_h[j]
// - out (T, NH * hs) with row stride ld_out: heads side by side, the layout c_proj reads.
// - att (NH, T, S) contiguous: the scores are computed into it and softmaxed in place
//   (kernels::f32_softmax with the scale fused), so it holds the attention weights
//   afterwards: pass an AttentionSink's destination to capture them at no extra cost.
// - causal: query i sees keys j <= i + S - T (CausalAlign::bottom_right, torch's
//   causal_lower_right); keys past that are not visited and their weights are 0.
// - add_mask (T, S) with row stride add_mask_ld (0 = one row for every query) is added
//   to the scaled scores (-inf masks); keep (T, S) with row stride keep_ld, 0 = masked
//   out. Either may be null. Both are shared by every head.
// - A query that sees no key at all (every visible key masked) gets zero weights and a
//   zero output, as torch >= 2.5's scaled_dot_product_attention (pytorch#131060, #133882).
// - T == 1 (decoding) runs one f32_dot per key and one f32_axpy per value row; T > 1
//   runs f32_gemm on blocks of queries, each block only as wide as its visible keys.
// q, k and v must not overlap out or att. GPT-2 uses scale = 1 / sqrt(hs).
void attention_forward(float* out, int64_t ld_out, float* att, HeadRows q, HeadRows k, HeadRows v, int64_t NH,
                       int64_t T, int64_t S, int64_t hs, float scale, bool causal, const float* add_mask = nullptr,
                       int64_t add_mask_ld = 0, const uint8_t* keep = nullptr, int64_t keep_ld = 0) noexcept;

// Head ablation (attention/capture.hpp's head_mask): zeroes head h's columns
// out[t, h * hs : (h + 1) * hs] of attention_forward's output for every h with off[h] != 0.
void zero_heads(float* out, int64_t ld_out, int64_t T, int64_t NH, int64_t hs, const uint8_t* off) noexcept;

}  // namespace attn::nn::functional
