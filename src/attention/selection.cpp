#include "attention/selection.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/reduce.hpp"

namespace attn {

const char* selection_name(Selection s) {
  switch (s) {
    case Selection::soft: return "soft";
    case Selection::top_k: return "top_k";
    case Selection::threshold: return "threshold";
    case Selection::argmax: return "argmax";
    case Selection::sample: return "sample";
  }
  return "?";
}

Selection parse_selection(const std::string& name) {
  for (Selection s : {Selection::soft, Selection::top_k, Selection::threshold, Selection::argmax, Selection::sample})
    if (name == selection_name(s)) return s;
  fail("selection: unknown kind '", name, "' (expected soft, top_k, threshold, argmax or sample)");
}

void check_selection(const SelectionOptions& opts, const char* what) {
  if (opts.kind == Selection::top_k) ATTN_CHECK(opts.k >= 1, what, ": top_k needs k >= 1, got ", opts.k);
  if (opts.kind == Selection::threshold)
    ATTN_CHECK(std::isfinite(opts.threshold), what, ": threshold must be a finite number");
}

namespace {
// Keeps only w[at]: 1 when renormalising, else its own weight.
void keep_only(float* w, size_t n, size_t at, bool renormalize) {
  const float kept = renormalize ? 1.0f : w[at];
  std::fill(w, w + n, 0.0f);
  w[at] = kept;
}

void renormalise(float* w, size_t n) {
  const float sum = kernels::f32_sum(n, w);
  for (size_t i = 0; i < n; ++i) w[i] /= sum;
}
}  // namespace

void select_row(float* w, size_t n, const SelectionOptions& opts, Rng& rng) {
  if (n == 0 || opts.kind == Selection::soft) return;
  if (std::isnan(w[0])) return;  // a NaN row (e.g. fully masked) stays NaN
  const bool renorm = opts.renormalize;
  switch (opts.kind) {
    case Selection::soft: return;
    case Selection::argmax:
      keep_only(w, n, kernels::f32_argmax(n, w), renorm);
      return;
    case Selection::sample: {
      const float u = rng.uniform();
      float cum = 0.0f;
      size_t pick = n - 1;
      for (size_t i = 0; i < n; ++i) {
        cum += w[i];
        if (u < cum) {
          pick = i;
          break;
        }
      }
      while (w[pick] == 0.0f && pick > 0) --pick;  // rounding left u past the last nonzero weight
      keep_only(w, n, pick, renorm);
      return;
    }
    case Selection::top_k: {
      if (static_cast<size_t>(opts.k) >= n) return;
      // Keep the k largest; stable so equal weights keep the lower index. Small n: a local buffer is fine here,
      // hard selection is an explanatory mode, not the hot path.
      std::vector<uint32_t> order(n);
      std::iota(order.begin(), order.end(), 0u);
      std::stable_sort(order.begin(), order.end(), [w](uint32_t a, uint32_t b) { return w[a] > w[b]; });
      for (size_t r = static_cast<size_t>(opts.k); r < n; ++r) w[order[r]] = 0.0f;
      if (renorm) renormalise(w, n);
      return;
    }
    case Selection::threshold: {
      size_t kept = 0;
      for (size_t i = 0; i < n; ++i) kept += w[i] >= opts.threshold;
      if (kept == 0) {
        keep_only(w, n, kernels::f32_argmax(n, w), renorm);
        return;
      }
      for (size_t i = 0; i < n; ++i)
        if (w[i] < opts.threshold) w[i] = 0.0f;
      if (renorm) renormalise(w, n);
      return;
    }
  }
}

}  // namespace attn
