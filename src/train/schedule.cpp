// Learning-rate schedules: see schedule.hpp.
#include "train/schedule.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace attn::train {

namespace {
constexpr double kPi = 3.14159265358979323846;

void check_base(double base_lr, const char* what) {
  ATTN_CHECK(std::isfinite(base_lr) && base_lr >= 0, what, ": base_lr must be finite and >= 0, got ", base_lr);
}
void check_step(int64_t step, const char* what) { ATTN_CHECK(step >= 0, what, ": step must be >= 0, got ", step); }
}  // namespace

WarmupCosine::WarmupCosine(double base_lr, int64_t warmup, int64_t total, double min_ratio)
    : base_(base_lr), min_ratio_(min_ratio), warmup_(warmup), total_(total) {
  check_base(base_lr, "WarmupCosine");
  ATTN_CHECK(warmup >= 0, "WarmupCosine: warmup must be >= 0, got ", warmup);
  ATTN_CHECK(total >= 1, "WarmupCosine: total must be >= 1, got ", total);
  ATTN_CHECK(min_ratio >= 0 && min_ratio <= 1, "WarmupCosine: min_ratio must be in [0, 1], got ", min_ratio);
}

double WarmupCosine::lambda(int64_t step) const {
  check_step(step, "WarmupCosine");
  if (step < warmup_) return static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup_));
  const double progress =
      static_cast<double>(step - warmup_) / static_cast<double>(std::max<int64_t>(1, total_ - warmup_));
  return std::max(0.0, 0.5 * (1.0 + std::cos(kPi * 2.0 * 0.5 * progress)));
}

double WarmupCosine::lr(int64_t step) const {
  const double l = lambda(step);
  // The floor applies after warm-up only: warm-up still starts from 0 as LambdaLR's does.
  return base_ * (step < warmup_ ? l : min_ratio_ + (1.0 - min_ratio_) * l);
}

CosineAnnealingLR::CosineAnnealingLR(double base_lr, int64_t T_max, double eta_min)
    : base_(base_lr), eta_min_(eta_min), T_max_(T_max) {
  check_base(base_lr, "CosineAnnealingLR");
  ATTN_CHECK(T_max >= 1, "CosineAnnealingLR: T_max must be >= 1, got ", T_max);
  ATTN_CHECK(std::isfinite(eta_min) && eta_min >= 0, "CosineAnnealingLR: eta_min must be finite and >= 0, got ",
             eta_min);
}

double CosineAnnealingLR::lr(int64_t step) const {
  check_step(step, "CosineAnnealingLR");
  return eta_min_ + (base_ - eta_min_) * (1.0 + std::cos(kPi * static_cast<double>(step) / T_max_)) / 2.0;
}

StepLR::StepLR(double base_lr, int64_t step_size, double gamma) : base_(base_lr), gamma_(gamma), step_size_(step_size) {
  check_base(base_lr, "StepLR");
  ATTN_CHECK(step_size >= 1, "StepLR: step_size must be >= 1, got ", step_size);
  ATTN_CHECK(std::isfinite(gamma), "StepLR: gamma must be finite, got ", gamma);
}

double StepLR::lr(int64_t step) const {
  check_step(step, "StepLR");
  return base_ * std::pow(gamma_, static_cast<double>(step / step_size_));
}

}  // namespace attn::train
