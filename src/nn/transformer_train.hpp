// Training passes of the post-LN Transformer layers (nn/transformer.hpp, torch's
// nn.TransformerEncoderLayer / DecoderLayer with norm_first=False), on raw pointers in
// llm.c's manner: the forward computes what the inference forward computes and keeps every
// activation its backward needs in caller memory (an arena planned once); the backward
// ACCUMULATES parameter gradients (+=, as torch's .grad) and writes the input's gradient.
// Both are noexcept and allocate nothing; callers validate sizes and ids first.
//   encoder: x1 = LN1(x + SA(x)),  out = LN2(x1 + FF(x1))
//   decoder: x1 = LN1(x + SA(x)) (causal),  x2 = LN2(x1 + CA(x1, memory)),  out = LN3(x2 + FF(x2))
// Dropout is not modelled (callers require dropout 0). Key padding masks are additive rows
// (B, T) or (B, S) (0 / -inf, nn/transformer.hpp's additive_key_mask), or null.
// Shapes: B sequences of T tokens (N = B * T rows), memory of S tokens per sequence (M = B * S
// rows), D = d_model, H heads, F = dim_feedforward.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "nn/transformer.hpp"

namespace attn::nn {

// A post-LN sublayer's saved values: r = input + branch, out = LN(r) with its row statistics.
struct NormActs {
  float *r, *mean, *rstd;
};

struct EncoderLayerActs {
  const float* x;     // (N, D) the input (not written)
  float *qkv;         // (N, 3D)
  float *att;         // (B, H, T, T) the attention weights
  float *atty;        // (N, D) attention output, heads side by side
  NormActs n1;        // r (N, D), mean, rstd (N)
  float *h1;          // (N, D) LN1's output
  float *f, *fa;      // (N, F) linear1's output, after the activation
  NormActs n2;
  float *out;         // (N, D)
};

struct DecoderLayerActs {
  const float* x;     // (N, D) the input
  float *qkv;         // (N, 3D) self-attention q, k, v
  float *att_self;    // (B, H, T, T)
  float *atty_self;   // (N, D)
  NormActs n1;
  float *h1;          // (N, D)
  float *q2;          // (N, D) cross-attention queries
  float *kv2;         // (M, 2D) cross-attention keys, values of the memory
  float *att_cross;   // (B, H, T, S)
  float *atty_cross;  // (N, D)
  NormActs n2;
  float *h2;          // (N, D)
  float *f, *fa;      // (N, F)
  NormActs n3;
  float *out;         // (N, D)
};

// d loss / d each parameter of a layer, in the gradient arena.
struct AttentionGrads {
  float *in_w, *in_b, *out_w, *out_b;  // in_proj_weight (3D, D), in_proj_bias, out_proj.weight, .bias
};
struct EncoderLayerGrads {
  AttentionGrads self;
  float *l1_w, *l1_b, *l2_w, *l2_b, *n1_w, *n1_b, *n2_w, *n2_b;
};
struct DecoderLayerGrads {
  AttentionGrads self, cross;
  float *l1_w, *l1_b, *l2_w, *l2_b, *n1_w, *n1_b, *n2_w, *n2_b, *n3_w, *n3_b;
};
// By state_dict key under `prefix` ("encoder.layers.0."), through `grad` (key -> slot).
using GradLookup = std::function<float*(const std::string&)>;
EncoderLayerGrads encoder_layer_grads(const GradLookup& grad, const std::string& prefix);
DecoderLayerGrads decoder_layer_grads(const GradLookup& grad, const std::string& prefix);

// Backward scratch, sized for the largest layer: d1, d2, d3 (N, D), dqkv (N, 3D), df, dfa
// (N, F), datt (T, max(T, S)), dkv (M, 2D).
struct TrainScratch {
  float *d1, *d2, *d3, *dqkv, *df, *dfa, *datt, *dkv;
};

// Throws (naming `what`) unless the layer is post-LN and its dropout is 0.
void check_trainable(const TransformerLayerOptions& o, const char* what);

void encoder_layer_forward(const TransformerEncoderLayer& m, const EncoderLayerActs& a, int64_t B, int64_t T,
                           const float* kpm) noexcept;
// dout (N, D): d loss / d a.out; dx (N, D): d loss / d a.x, overwritten. dout and dx must differ.
void encoder_layer_backward(const TransformerEncoderLayer& m, const EncoderLayerGrads& g, const EncoderLayerActs& a,
                            int64_t B, int64_t T, const float* dout, float* dx, const TrainScratch& s) noexcept;

// memory (M, D): the encoder's output (read for the cross keys and values).
void decoder_layer_forward(const TransformerDecoderLayer& m, const DecoderLayerActs& a, int64_t B, int64_t T,
                           const float* memory, int64_t S, const float* tgt_kpm, const float* mem_kpm) noexcept;
// As encoder_layer_backward; dmemory (M, D) ACCUMULATES d loss / d memory.
void decoder_layer_backward(const TransformerDecoderLayer& m, const DecoderLayerGrads& g, const DecoderLayerActs& a,
                            int64_t B, int64_t T, const float* memory, int64_t S, const float* dout, float* dx,
                            float* dmemory, const TrainScratch& s) noexcept;

}  // namespace attn::nn
