// Soft vs hard attention (seeds 001/002). Soft attention weights every
// position by the softmax; hard attention keeps only positions that pass a
// condition and sets the rest to exactly 0. With `renormalize` (the default) the
// kept weights are rescaled to sum to 1, so the row is again a distribution; with
// renormalize = false they stay as the softmax gave them (seed 001's literal rule)
// and the row sums to less than 1. The rules:
//   top_k      the k largest weights of each row (ties: lower index first)
//   threshold  weights >= threshold; a row where none passes keeps its argmax
//   argmax     only the largest weight (first on ties): one-hot when renormalised
//   sample     only a position drawn from the soft distribution (the stochastic hard
//              attention of Xu et al. 2015, "Show, Attend and Tell"): one-hot when renormalised
// Rows that are NaN (fully masked, where the rule keeps NaN) stay NaN.
//
// Randomness (`sample`): from `rng` when the caller passes its generator (the JS
// engine passes its own sampling stream, so calls without a seed draw fresh
// positions), else from Rng(seed, kSampleStream): the same seed draws the same positions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/rng.hpp"

namespace attn {

enum class Selection { soft, top_k, threshold, argmax, sample };

// Rng streams (PCG32 sequence selectors): sampling and dropout never share numbers.
constexpr uint64_t kSampleStream = 0xda3e39cb94b95bdbULL;  // Rng's default stream
constexpr uint64_t kDropoutStream = 0x5851f42d4c957f2dULL;

struct SelectionOptions {
  Selection kind = Selection::soft;
  int64_t k = 1;            // top_k
  float threshold = 0.0f;   // threshold
  bool renormalize = true;  // rescale the kept weights to sum to 1
  uint64_t seed = 0;        // sample, when rng is null
  Rng* rng = nullptr;       // sample: draw from this generator instead (not owned)
};

const char* selection_name(Selection s);
Selection parse_selection(const std::string& name);  // "soft", "top_k", "threshold", "argmax", "sample"
void check_selection(const SelectionOptions& opts, const char* what);

// Rewrites one row of softmax weights in place. rng is used by `sample` only.
void select_row(float* weights, size_t n, const SelectionOptions& opts, Rng& rng);

}  // namespace attn
