// Learning-rate schedules as closed-form functions of the step count (0 before the first
// optimizer step), with torch.optim.lr_scheduler's semantics; the training loop calls
// Optimizer::set_lr(schedule.lr(step)) before step `step`, as torch's scheduler.step()
// after each optimizer.step() leaves lr(step) in place for the next one.
//   - WarmupCosine: torch.optim.lr_scheduler.LambdaLR with Hugging Face's
//     get_cosine_schedule_with_warmup lambda (transformers/optimization.py):
//       step < warmup: step / max(1, warmup)
//       else: max(0, 0.5 * (1 + cos(pi * 2 * num_cycles * progress))),
//             progress = (step - warmup) / max(1, total - warmup), num_cycles = 0.5
//     extended with a floor: lr = base * (min_ratio + (1 - min_ratio) * lambda).
//   - CosineAnnealingLR: eta_min + (base - eta_min) * (1 + cos(pi * step / T_max)) / 2,
//     the closed form torch documents (and _get_closed_form_lr computes); its recursive
//     get_lr agrees with it when the scheduler is only stepped.
//   - StepLR: base * gamma ^ floor(step / step_size).
// The lr is a double (Python float), as torch's param_groups hold it.
#pragma once

#include <cstdint>

namespace attn::train {

class WarmupCosine {
 public:
  // base_lr >= 0, warmup >= 0, total >= 1, min_ratio in [0, 1]; messages start "WarmupCosine: ".
  WarmupCosine(double base_lr, int64_t warmup, int64_t total, double min_ratio = 0.0);
  double lambda(int64_t step) const;  // the LambdaLR multiplier
  double lr(int64_t step) const;

 private:
  double base_, min_ratio_;
  int64_t warmup_, total_;
};

class CosineAnnealingLR {
 public:
  // T_max >= 1, eta_min >= 0.
  CosineAnnealingLR(double base_lr, int64_t T_max, double eta_min = 0.0);
  double lr(int64_t step) const;

 private:
  double base_, eta_min_;
  int64_t T_max_;
};

class StepLR {
 public:
  // step_size >= 1, gamma finite (torch's default 0.1).
  StepLR(double base_lr, int64_t step_size, double gamma = 0.1);
  double lr(int64_t step) const;

 private:
  double base_, gamma_;
  int64_t step_size_;
};

}  // namespace attn::train
