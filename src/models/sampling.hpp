// Next-token sampling and generation for Gpt, with Hugging Face generate()'s logits
// processing order: temperature, then top-k, then top-p (nucleus), then one draw.
//   - temperature 0: greedy (argmax; the first of tied maxima, as torch.argmax).
//   - temperature > 0: logits / temperature (HF TemperatureLogitsWarper).
//   - top_k > 0: only the k largest logits stay (HF TopKLogitsWarper; ties at the k-th
//     value all stay, as its `logits < topk(...)[-1]` test keeps them).
//   - top_p < 1: the smallest set of most probable tokens whose cumulative probability
//     reaches top_p stays, always at least one (HF TopPLogitsWarper; tokens of equal
//     probability are taken in id order).
// Draws come from our seeded Rng on kSampleStream (not torch's generator): the same seed
// gives the same tokens natively and in wasm.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/rng.hpp"
#include "models/gpt.hpp"

namespace attn {

struct SamplingOptions {
  float temperature = 1.0f;  // 0 = greedy; otherwise > 0 and finite
  int64_t top_k = 0;         // 0 = off
  float top_p = 1.0f;        // in (0, 1]; 1 = off
  uint64_t seed = 0;
};

class Sampler {
 public:
  // Validates `options` (messages start "Sampler: ") and seeds Rng(seed, kSampleStream).
  explicit Sampler(const SamplingOptions& options);
  // One token id from logits (V), V >= 1. Scratch grows to V once, then is reused.
  int32_t sample(const float* logits, int64_t V);
  const SamplingOptions& options() const { return options_; }

 private:
  SamplingOptions options_;
  Rng rng_;
  std::vector<float> probs_;    // (V)
  std::vector<int32_t> order_;  // (V) token ids, most probable first
};

// Feeds `prompt` (prefill, one forward), then samples up to max_new_tokens tokens one at a
// time through the KV cache, calling on_token(id) after each; on_token returning false
// stops. Stops early, without error, when the sequence reaches n_positions. Returns the
// new tokens. Throws (before running the model) for an empty prompt, a prompt longer than
// n_positions, out-of-range ids, max_new_tokens < 0 or bad options. Every forward gets
// `sink` (its head masks switch heads off; a capturing sink keeps the last step's maps).
std::vector<int32_t> generate(Gpt& model, const std::vector<int32_t>& prompt, int64_t max_new_tokens,
                              const SamplingOptions& options,
                              const std::function<bool(int32_t)>& on_token = nullptr, AttentionSink* sink = nullptr);

}  // namespace attn
