#include "train/clip.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "kernels/elementwise.hpp"

namespace attn::train {

namespace {

void check_grads(const std::vector<Tensor>& grads, const char* what) {
  for (size_t i = 0; i < grads.size(); ++i) {
    ATTN_CHECK(grads[i].defined() && grads[i].dtype() == DType::f32, what, ": gradient ", i,
               " must be a defined float32 tensor");
    ATTN_CHECK(grads[i].is_contiguous(), what, ": gradient ", i, " must be contiguous");
  }
}

float* data(const Tensor& t) { return static_cast<float*>(t.raw_data()); }

// torch.clamp(x, lo, hi) = min(max(x, lo), hi): NaN stays NaN, lo > hi gives hi.
void clamp_all(const std::vector<Tensor>& grads, float lo, float hi) {
  for (const Tensor& g : grads) {
    float* x = data(g);
    const int64_t n = g.numel();
    for (int64_t i = 0; i < n; ++i)
      if (!std::isnan(x[i])) x[i] = std::min(std::max(x[i], lo), hi);
  }
}

}  // namespace

void clip_grad_value_(const std::vector<Tensor>& grads, double clip_value) {
  check_grads(grads, "clip_grad_value_");
  ATTN_CHECK(!std::isnan(clip_value), "clip_grad_value_: clip_value is NaN");
  const float c = static_cast<float>(clip_value);
  clamp_all(grads, -c, c);
}

void clamp_grad_(const std::vector<Tensor>& grads, double min, double max) {
  check_grads(grads, "clamp_grad_");
  ATTN_CHECK(!std::isnan(min) && !std::isnan(max), "clamp_grad_: min and max must not be NaN (got ", min, " and ", max,
             ")");
  clamp_all(grads, static_cast<float>(min), static_cast<float>(max));
}

double clip_grad_norm_(const std::vector<Tensor>& grads, double max_norm, double norm_type, bool error_if_nonfinite) {
  check_grads(grads, "clip_grad_norm_");
  ATTN_CHECK(!std::isnan(max_norm), "clip_grad_norm_: max_norm is NaN");
  ATTN_CHECK(norm_type > 0.0, "clip_grad_norm_: norm_type must be positive or inf, got ", norm_type);
  if (grads.empty()) return 0.0;  // torch returns tensor(0.)
  const bool inf_norm = std::isinf(norm_type);
  // torch: norm(stack([norm(g, p) for g]), p) == (sum over every element |x|^p)^(1/p), and
  // max |x| for p = inf; each gradient's norm is a float32 tensor before the stack.
  double acc = 0.0;
  for (const Tensor& g : grads) {
    const float* x = data(g);
    const int64_t n = g.numel();
    double part = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double a = std::fabs(static_cast<double>(x[i]));
      if (inf_norm)
        part = std::isnan(a) || std::isnan(part) ? NAN : std::max(part, a);
      else
        part += norm_type == 2.0 ? a * a : norm_type == 1.0 ? a : std::pow(a, norm_type);
    }
    const float norm_g = static_cast<float>(inf_norm ? part : std::pow(part, 1.0 / norm_type));
    if (inf_norm)
      acc = std::isnan(norm_g) || std::isnan(acc) ? NAN : std::max(acc, static_cast<double>(norm_g));
    else
      acc += std::pow(static_cast<double>(norm_g), norm_type);
  }
  const float total_norm = static_cast<float>(inf_norm ? acc : std::pow(acc, 1.0 / norm_type));
  ATTN_CHECK(!error_if_nonfinite || std::isfinite(total_norm), "clip_grad_norm_: the total norm of order ", norm_type,
             " of the gradients is non-finite (", total_norm,
             "), so it cannot be clipped; pass error_if_nonfinite = false to scale by it anyway");
  // In float32, as torch's tensor arithmetic: max_norm / (total_norm + 1e-6), clamped to at most 1.
  const float coef = static_cast<float>(max_norm) / (total_norm + 1e-6f);
  const float clamped = std::isnan(coef) ? coef : std::min(coef, 1.0f);
  for (const Tensor& g : grads) kernels::f32_scale(static_cast<size_t>(g.numel()), data(g), clamped, data(g));
  return total_norm;
}

}  // namespace attn::train
