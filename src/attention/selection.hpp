// Soft vs hard attention (seeds 001/002). Soft attention weights every
// position by the softmax; hard attention keeps only positions that pass a
// condition, sets the rest to exactly 0 and renormalises what is left:
//   top_k      the k largest weights of each row (ties: lower index first)
//   threshold  weights >= threshold; a row where none passes keeps its argmax
//   argmax     one-hot on the largest weight (first on ties)
//   sample     one-hot on a position drawn from the soft distribution (seeded;
//              the stochastic hard attention of Xu et al. 2015, "Show, Attend and Tell")
// Rows that are NaN (fully masked) stay NaN.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/rng.hpp"

namespace attn {

enum class Selection { soft, top_k, threshold, argmax, sample };

struct SelectionOptions {
  Selection kind = Selection::soft;
  int64_t k = 1;            // top_k
  float threshold = 0.0f;   // threshold
  uint64_t seed = 0;        // sample: each call with the same seed draws the same positions
};

const char* selection_name(Selection s);
Selection parse_selection(const std::string& name);  // "soft", "top_k", "threshold", "argmax", "sample"
void check_selection(const SelectionOptions& opts, const char* what);

// Rewrites one row of softmax weights in place. rng is used by `sample` only.
void select_row(float* weights, size_t n, const SelectionOptions& opts, Rng& rng);

}  // namespace attn
