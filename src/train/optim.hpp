// Optimizers with torch.optim's semantics (one parameter group, the single-tensor
// "foreach=False" update of torch 1.13 and of current torch/optim/{sgd,adam,adamw}.py):
//   SGD    lr, momentum, dampening, weight_decay, nesterov (torch's defaults but lr, which torch requires)
//   Adam   lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0 (L2: added to the gradient), amsgrad
//   AdamW  the same with weight_decay 1e-2 decoupled: param *= 1 - lr * weight_decay first
// Adam's bias corrections are torch's: step_size = lr / (1 - beta1^t) and
// denom = sqrt(v) / sqrt(1 - beta2^t) + eps, the scalars computed in double (Python
// floats) and applied in float32, as torch's CPU kernels do.
//
// Each optimizer holds (param, grad) pairs of equal shape (a model's parameters and its
// gradient arena, models/gpt_train.hpp) and its state (momentum buffers, moments) in one
// Arena planned at construction, so step() allocates nothing and never throws. After a
// step, call Module::notify_parameters_changed() on the model so nn::Linear repacks.
// zero_grad() zeroes the gradients (torch's set_to_none has no meaning for an arena).
// Not here: parameter groups, schedules, maximize, differentiable/capturable/fused.
#pragma once

#include <cstdint>
#include <vector>

#include "core/arena.hpp"
#include "core/module.hpp"
#include "core/tensor.hpp"

namespace attn::train {

// A parameter and its gradient: float32, contiguous, the same shape.
struct ParamGrad {
  Tensor param;
  Tensor grad;
};

// Pairs model.named_parameters() with `grads` in that order (GptTrain::gradients(), or
// any second instance of the parameter layout); throws naming the parameter unless the
// counts and shapes agree.
std::vector<ParamGrad> param_grads(Module& model, const std::vector<Tensor>& grads);

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual void step() noexcept = 0;
  void zero_grad() noexcept;
  const std::vector<ParamGrad>& params() const { return params_; }
  double lr() const { return lr_; }
  // A schedule changes it between steps (torch: param_groups[0]["lr"]); throws unless finite and >= 0.
  void set_lr(double lr);
  int64_t steps() const { return steps_; }

 protected:
  // Checks the pairs (messages name `what` and the pair's index) and lr.
  Optimizer(std::vector<ParamGrad> params, double lr, const char* what);
  // One state tensor per parameter, of its shape, zeroed; all in state_ (call once per kind, then allocate).
  void plan_state(std::vector<Tensor>& slots, const char* name);

  std::vector<ParamGrad> params_;
  double lr_;
  int64_t steps_ = 0;
  Arena state_;
  const char* what_;
};

// Hyperparameters are double, as Python floats are: torch computes 1 - beta1 ** t and
// lr / bias_correction in double and rounds to float32 only where a tensor op takes them.
struct SgdOptions {
  double lr = 0.0;  // required (torch has no default)
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

// torch.optim.SGD: g = grad + wd * p; with momentum: buf = g on the first step, else
// buf = momentum * buf + (1 - dampening) * g; g = nesterov ? g + momentum * buf : buf;
// p -= lr * g. nesterov needs momentum > 0 and dampening == 0 (torch's ValueError).
class SGD : public Optimizer {
 public:
  SGD(std::vector<ParamGrad> params, const SgdOptions& options);
  void step() noexcept override;
  const SgdOptions& options() const { return options_; }

 private:
  SgdOptions options_;
  std::vector<Tensor> momentum_buffer_;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // AdamW's default is 1e-2: use AdamW::defaults()
  bool amsgrad = false;
};

// torch.optim.Adam (decoupled = false) and torch.optim.AdamW (decoupled = true).
class Adam : public Optimizer {
 public:
  Adam(std::vector<ParamGrad> params, const AdamOptions& options);
  void step() noexcept override;
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(std::vector<ParamGrad> params, const AdamOptions& options, bool decoupled, const char* what);

 private:
  AdamOptions options_;
  bool decoupled_;
  std::vector<Tensor> exp_avg_, exp_avg_sq_, max_exp_avg_sq_;
};

class AdamW : public Adam {
 public:
  // torch.optim.AdamW's defaults: Adam's with weight_decay = 1e-2.
  static AdamOptions defaults() {
    AdamOptions o;
    o.weight_decay = 1e-2;
    return o;
  }
  AdamW(std::vector<ParamGrad> params, const AdamOptions& options = defaults());
};

}  // namespace attn::train
