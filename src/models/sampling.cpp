#include "models/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "attention/selection.hpp"
#include "kernels/reduce.hpp"
#include "kernels/softmax.hpp"

namespace attn {

Sampler::Sampler(const SamplingOptions& o) : options_(o), rng_(o.seed, kSampleStream) {
  ATTN_CHECK(o.temperature == 0.0f || (o.temperature > 0.0f && std::isfinite(o.temperature) &&
                                       std::isfinite(1.0f / o.temperature)),
             "Sampler: temperature must be 0 (greedy) or a positive finite number, got ", o.temperature);
  ATTN_CHECK(o.top_k >= 0, "Sampler: top_k must be >= 0 (0 = off), got ", o.top_k);
  ATTN_CHECK(o.top_p > 0.0f && o.top_p <= 1.0f, "Sampler: top_p must be in (0, 1] (1 = off), got ", o.top_p);
}

int32_t Sampler::sample(const float* logits, int64_t V) {
  ATTN_CHECK(V >= 1 && V <= INT32_MAX, "Sampler.sample: the vocabulary size must be in [1, 2^31), got ", V);
  const size_t n = static_cast<size_t>(V);
  if (options_.temperature == 0.0f) return static_cast<int32_t>(kernels::f32_argmax(n, logits));
  if (probs_.size() < n) {
    probs_.resize(n);
    order_.resize(n);
  }
  float* p = probs_.data();
  // Top-k: the k-th largest logit is the threshold; every logit >= it stays.
  float threshold = -INFINITY;
  if (options_.top_k > 0 && options_.top_k < V) {
    std::copy(logits, logits + n, p);
    std::nth_element(p, p + (options_.top_k - 1), p + n, std::greater<float>());
    threshold = p[options_.top_k - 1];
  }
  // softmax(logits / temperature) over the kept tokens; the others get 0.
  kernels::f32_softmax(n, logits, 1.0f / options_.temperature, nullptr, nullptr, p);
  if (threshold > -INFINITY)
    for (size_t i = 0; i < n; ++i)
      if (logits[i] < threshold) p[i] = 0.0f;
  double total = 0;
  for (size_t i = 0; i < n; ++i) total += p[i];
  // A temperature so small that logits / temperature overflow leaves NaN or nothing:
  // its limit is greedy.
  if (!(total > 0) || !std::isfinite(total)) return static_cast<int32_t>(kernels::f32_argmax(n, logits));

  if (options_.top_p < 1.0f) {
    // Nucleus: most probable first (ties by id); keep token r while the probability of
    // the tokens before it is below top_p, so the kept set is the smallest reaching it.
    int32_t* order = order_.data();
    std::iota(order, order + n, 0);
    std::stable_sort(order, order + n, [p](int32_t a, int32_t b) { return p[a] > p[b]; });
    double before = 0;
    const double target = options_.top_p * total;
    size_t r = 0;
    for (; r < n && p[order[r]] > 0.0f && (r == 0 || before < target); ++r) before += p[order[r]];
    for (size_t i = r; i < n; ++i) p[order[i]] = 0.0f;
    total = before;
  }
  // One draw: the first token whose cumulative probability passes u * total.
  const double u = static_cast<double>(rng_.uniform()) * total;
  double cum = 0;
  size_t last = 0;
  for (size_t i = 0; i < n; ++i) {
    if (p[i] <= 0.0f) continue;
    cum += p[i];
    last = i;
    if (u < cum) return static_cast<int32_t>(i);
  }
  return static_cast<int32_t>(last);  // rounding left u at the very top
}

std::vector<int32_t> generate(Gpt& model, const std::vector<int32_t>& prompt, int64_t max_new_tokens,
                              const SamplingOptions& options, const std::function<bool(int32_t)>& on_token,
                              AttentionSink* sink) {
  Sampler sampler(options);
  ATTN_CHECK(max_new_tokens >= 0, "generate: max_new_tokens must be >= 0, got ", max_new_tokens);
  ATTN_CHECK(!prompt.empty(), "generate: the prompt is empty (GPT-2 needs at least one token, e.g. <|endoftext|>)");
  const int64_t P = model.config().n_positions, V = model.config().vocab_size;
  const int64_t T = static_cast<int64_t>(prompt.size());
  std::vector<int32_t> out;
  if (max_new_tokens == 0) return out;
  out.reserve(static_cast<size_t>(std::min(max_new_tokens, P)));
  // Prefill: the whole prompt in one forward; the last row predicts the next token.
  const float* logits = model.forward(prompt.data(), T, 0, sink) + (T - 1) * V;
  int64_t pos = T;
  for (;;) {
    const int32_t token = sampler.sample(logits, V);
    out.push_back(token);
    if (on_token && !on_token(token)) break;
    if (static_cast<int64_t>(out.size()) == max_new_tokens || pos == P) break;
    logits = model.forward(&token, 1, pos, sink);
    ++pos;
  }
  return out;
}

}  // namespace attn
