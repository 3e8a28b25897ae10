// Backward ops on raw pointers, llm.c style (train_gpt2.c's *_backward): the twins of
// nn/functional.hpp's forwards, for models that train in arenas planned once.
// Each never allocates and never throws; arguments are validated by the caller.
//
// Every d* output ACCUMULATES (+=), as in llm.c and as torch's .grad does across
// backward calls: a parameter used twice (GPT-2's tied wte) sums its contributions,
// and the caller zeroes the buffers once per step (or before reusing a scratch buffer).
//
// Shape legend (row-major, contiguous unless a row stride `ld*` is given):
//   B batch, T time, S keys, C channels, OC out channels, NH heads, hs head size,
//   V vocabulary, N rows (B * T), n elements.
// Argument order: gradients written first, then the upstream gradient (dout), then the
// forward's saved inputs/outputs, then weights, then sizes.
#pragma once

#include <cstdint>

#include "nn/functional.hpp"

namespace attn::nn::functional {

// Of embedding_forward (torch.nn.Embedding + learned positions): dwte[ids[b, t]] += dout[b, t]
// and dwpe[pos0 + t] += dout[b, t]. dwpe may be null (token embedding only).
void embedding_backward(float* dwte, float* dwpe, const float* dout, const int32_t* ids, int64_t B, int64_t T,
                        int64_t C, int64_t pos0) noexcept;

// Of layernorm_forward (torch.nn.LayerNorm, biased variance), from the saved row statistics
// mean, rstd (N). dweight, dbias (C) may be null (no affine, or not wanted); weight may be
// null (elementwise_affine=False: gamma = 1). dinp (N, C) must not alias dout.
void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                        const float* weight, const float* mean, const float* rstd, int64_t N, int64_t C) noexcept;

// Of out (N, OC) = inp (N, C) weight^T + bias (torch.nn.Linear, weight (OC, C)):
//   dinp (N, C) += dout weight,  dweight (OC, C) += dout^T inp,  dbias (OC) += column sums of dout.
// Any of dinp, dweight, dbias may be null. Three GEMM calls (kernels::f32_gemm with
// transpose flags, beta = 1) and one f32_axpy per row.
void linear_backward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                     const float* weight, int64_t N, int64_t C, int64_t OC) noexcept;

// Rows of a gradient with HeadRows' layout (nn/functional.hpp), written through.
struct HeadGrads {
  float* data;
  int64_t row_stride;
  int64_t head_stride;
};

// Of attention_forward, from its saved attention weights att (NH, T, S):
//   dv_h += att_h^T dout_h
//   datt  = dout_h v_h^T,  dscores = att * (datt - rowsum(att * datt))   (softmax backward)
//   dq_h += scale * dscores k_h,  dk_h += scale * dscores^T q_h
// dout (T, NH * hs) with row stride ld_dout (heads side by side, as the forward's out).
// Masks of any kind (causal, additive, keep) need no argument: a masked key has weight
// exactly 0, so its score gradient is 0 too; a query that saw no key (all-zero row) gets 0.
// scratch holds T * S floats (one head's datt at a time). dq, dk, dv must not overlap
// dout, att or scratch; they may be the fused dqkv rows ({dqkv, 3C, hs}, {dqkv + C, ...}).
void attention_backward(HeadGrads dq, HeadGrads dk, HeadGrads dv, float* scratch, const float* dout,
                        int64_t ld_dout, const float* att, HeadRows q, HeadRows k, HeadRows v, int64_t NH, int64_t T,
                        int64_t S, int64_t hs, float scale) noexcept;

// Of gelu_forward: dinp (n) += F.gelu'(inp) * dout, inp the pre-activation. The derivative
//   none: Phi(x) + x phi(x)
//   tanh: 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2),  t = tanh(sqrt(2/pi) (x + 0.044715 x^3))
// as torch's GeluBackward (aten/src/ATen/native/cpu/Activation.cpp). tanh and exp run
// through the SIMD kernels in stack-sized chunks.
void gelu_backward(float* dinp, const float* dout, const float* inp, int64_t n,
                   GeluApproximation approximate) noexcept;

// Of relu_forward: dinp += dout where inp > 0 (torch's threshold_backward: 0 at inp == 0).
void relu_backward(float* dinp, const float* dout, const float* inp, int64_t n) noexcept;

// Of residual_forward (out = a + b): da += dout, db += dout.
void residual_backward(float* da, float* db, const float* dout, int64_t n) noexcept;

// torch.nn.functional.cross_entropy per row, with class-index targets, ignore_index and
// label_smoothing (eps), reduction='none':
//   loss[r] = (1 - eps) * -logp[r, t_r] + eps * mean_c(-logp[r, c]),  logp = log_softmax(logits[r])
// and 0 where t_r == ignore_index. probs (N, V) receives softmax(logits) (the backward's
// input). Targets other than ignore_index must lie in [0, V): checked by the caller.
// Returns the number of rows not ignored (the divisor of reduction='mean'; torch gives
// NaN when it is 0).
int64_t cross_entropy_forward(float* losses, float* probs, const float* logits, const int32_t* targets, int64_t N,
                              int64_t V, int64_t ignore_index, float label_smoothing) noexcept;

// Of cross_entropy_forward: dlogits[r] += dlosses[r] * (probs[r] - (1 - eps) onehot(t_r) - eps / V),
// nothing for ignored rows. With reduction='mean', dlosses[r] = dloss / count (llm.c's 1/(B*T)).
void cross_entropy_backward(float* dlogits, const float* dlosses, const float* probs, const int32_t* targets,
                            int64_t N, int64_t V, int64_t ignore_index, float label_smoothing) noexcept;

}  // namespace attn::nn::functional
