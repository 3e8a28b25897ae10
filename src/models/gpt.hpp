// Gpt: the GPT-2 decoder-only language model (Radford et al. 2019) with a KV cache,
// a twin of Hugging Face's GPT2LMHeadModel (modeling_gpt2.py) in eval mode:
//   x = wte[ids] + wpe[pos]
//   for each block: x = x + c_proj(attn(ln_1(x))),  x = x + mlp.c_proj(act(c_fc(ln_2(x))))
//   logits = ln_f(x) wte^T   (the head tied to wte; or lm_head.weight when untied)
// with causal multi-head self-attention softmax(q k^T / sqrt(hs)) v.
//
// Shapes: T new tokens, P = n_positions (the longest sequence), C = n_embd,
// NH = n_head, hs = C / NH, F = MLP width (n_inner, default 4C), V = vocab_size, L = n_layer.
//
// State dict keys are HF GPT2Model's without the "transformer." prefix (wte.weight,
// wpe.weight, h.{i}.ln_1.weight, h.{i}.attn.c_attn.weight, ..., ln_f.bias), but the
// projections are nn::Linear, so their weights are torch's (out, in): HF's Conv1D
// stores (in, out), and io/model_file.hpp transposes when it reads or writes a checkpoint.
//
// Memory: the parameters are packed into one allocation at construction; every
// activation, the attention scratch and the KV cache live in one Arena sized for P
// tokens, also at construction. forward() validates its arguments once, then runs
// noexcept loops over nn/functional.hpp ops and nn::Linear's packed GEMMs: it allocates
// nothing (the GEMM kernel's thread-local panels aside, which grow once on first use).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "attention/capture.hpp"
#include "core/arena.hpp"
#include "core/module.hpp"
#include "core/rng.hpp"
#include "nn/functional.hpp"
#include "nn/layers.hpp"
#include "nn/linear.hpp"

namespace attn {

// The model's sizes. JSON text (ours or HF's config.json) is parsed by io/model_file.hpp.
struct GptConfig {
  int64_t vocab_size = 0;   // V
  int64_t n_positions = 0;  // P: block size, the longest sequence (HF n_positions / n_ctx)
  int64_t n_embd = 0;       // C
  int64_t n_layer = 0;      // L
  int64_t n_head = 0;       // NH; must divide n_embd
  int64_t n_inner = 0;      // F: MLP width; 0 = 4 * n_embd (HF's n_inner: null)
  float layer_norm_epsilon = 1e-5f;
  // HF activation_function: "gelu_new" / "gelu_pytorch_tanh" (tanh approximation, GPT-2's),
  // "gelu" (erf) or "relu".
  std::string activation = "gelu_new";
  bool tie_word_embeddings = true;  // false: a separate lm_head.weight (V, C)

  int64_t head_size() const { return n_embd / n_head; }
  int64_t mlp_width() const { return n_inner > 0 ? n_inner : 4 * n_embd; }
  // Throws attn::Error naming the field unless every size is in range, n_head divides
  // n_embd, the activation is known, and the parameters and the activation arena fit
  // the byte budgets (checked in 64 bits, before anything is allocated).
  void validate() const;
  // Parameters the config implies (checked arithmetic), and the bytes of Gpt's arena.
  int64_t num_parameters() const;
  int64_t arena_bytes() const;
};

class Gpt : public Module {
 public:
  // Random weights (torch's layer defaults from `seed`); load real ones with
  // load_state_dict or io::load_gpt. Validates `config` first.
  explicit Gpt(const GptConfig& config, uint64_t seed = 0);

  // Runs T new tokens ids[0..T) at positions pos .. pos+T-1 against the KV cache and
  // returns their logits (T, V), row-major in the arena (valid until the next call).
  // pos == 0 starts a new sequence; pos may be at most the cached length (pos < cached
  // rewinds: later positions are overwritten). Each layer l asks `sink` (may be null)
  // for (l, self, N = 1, NH, T, pos + T) and writes its attention weights there.
  // Throws before touching the cache if T < 1, pos + T > n_positions, pos is past the
  // cache, or an id is outside [0, V).
  const float* forward(const int32_t* ids, int64_t T, int64_t pos, AttentionSink* sink = nullptr);
  // Tests and glue code: the logits as a fresh (T, V) tensor.
  Tensor forward(const std::vector<int32_t>& ids, int64_t pos = 0, AttentionSink* sink = nullptr);
  // Forgets the cached sequence (forward with pos == 0 does the same).
  void reset() { cached_ = 0; }
  int64_t cached_length() const { return cached_; }

  const GptConfig& config() const { return config_; }
  const Arena& activations() const { return acts_; }

  void parameters_changed() override;

 private:
  struct Attention : Module {
    Attention(int64_t C, Rng& rng);
    nn::Linear c_attn;  // (3C, C)
    nn::Linear c_proj;  // (C, C)
  };
  struct Mlp : Module {
    Mlp(int64_t C, int64_t F, Rng& rng);
    nn::Linear c_fc;    // (F, C)
    nn::Linear c_proj;  // (C, F)
  };
  struct Block : Module {
    Block(const GptConfig& c, Rng& rng);
    nn::LayerNorm ln_1;
    Attention attn;
    nn::LayerNorm ln_2;
    Mlp mlp;
  };

  GptConfig config_;
  Rng init_rng_;
  nn::Embedding wte;  // (V, C)
  nn::Embedding wpe;  // (P, C)
  ModuleList h;       // L Blocks
  nn::LayerNorm ln_f;
  std::unique_ptr<nn::Linear> lm_head_;  // (V, C) without bias, only when untied ("lm_head.weight")
  std::vector<Block*> blocks_;
  nn::functional::GeluApproximation gelu_ = nn::functional::GeluApproximation::tanh;
  bool relu_ = false;

  // Tied head: wte^T (C x V) packed for kernels::f32_gemm_packed by parameters_changed().
  Tensor head_packed_;

  // The arena (B = 1).
  Tensor x_;        // (P, C) the residual stream
  Tensor ln_;       // (P, C) layer-norm output
  Tensor qkv_;      // (P, 3C)
  Tensor atty_;     // (P, C) attention output, heads side by side
  Tensor proj_;     // (P, C) c_proj outputs before the residual add
  Tensor fc_;       // (P, F)
  Tensor att_;      // (NH, P, P) attention weights when no sink takes them
  Tensor k_cache_;  // (L, NH, P, hs)
  Tensor v_cache_;  // (L, NH, P, hs)
  Tensor logits_;   // (P, V)
  Arena acts_;
  int64_t cached_ = 0;
};

}  // namespace attn
