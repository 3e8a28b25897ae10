// Positional information for attention (seed 002 "positional encoding").
//  - sinusoidal (Vaswani et al. 2017): PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(same);
//    for odd d the last column is the sin of the last pair.
//  - learned: a (max_len, d) table added to the input, key "weight" like nn.Embedding.
//  - rotary (RoPE, Su et al. 2021): rotates pairs of features by pos * base^(-2i/d).
//      interleaved  pairs (x[2i], x[2i+1])         (original RoFormer / GPT-J / Meta LLaMA)
//      half-split   pairs (x[i], x[i + d/2])        (GPT-NeoX / Hugging Face "rotate_half")
//  - ALiBi (Press et al. 2022): additive bias -m_h * (i - j) per head, slopes m_h the
//    geometric sequence 2^(-8h/H) (for H not a power of two, the paper's interleaving rule).
#pragma once

#include "core/module.hpp"

namespace attn {

// (max_len, d) table.
Tensor sinusoidal_table(int64_t max_len, int64_t d, float base = 10000.0f);

// Adds the sinusoidal table to x (..., L, d) at positions offset .. offset+L-1.
Tensor add_sinusoidal(const Tensor& x, int64_t offset = 0);

class LearnedPositionalEmbedding : public Module {
 public:
  static constexpr const char* kName = "LearnedPositionalEmbedding";
  LearnedPositionalEmbedding(int64_t max_len, int64_t d, uint64_t seed = 0);
  // x (..., L, d) + weight[offset : offset + L]
  Tensor forward(const Tensor& x, int64_t offset = 0);
  int64_t max_len, dim;
  Tensor weight;  // (max_len, d), N(0, 1) init like nn.Embedding
};

enum class RopeStyle { interleaved, half_split };

// x (..., L, d) with even d; position of row l is offset + l.
Tensor apply_rope(const Tensor& x, RopeStyle style, int64_t offset = 0, float base = 10000.0f);

// (H) slopes.
std::vector<float> alibi_slopes(int64_t num_heads);
// (H, L, S) additive bias: bias[h, i, j] = -slope_h * |i - j|. For keys j <= i this is the
// paper's m * (j - i); combine with a causal mask for decoders (the j > i half is then masked).
Tensor alibi_bias(int64_t num_heads, int64_t L, int64_t S);

}  // namespace attn
