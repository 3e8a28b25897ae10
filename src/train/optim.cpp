#include "train/optim.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"

namespace attn::train {

namespace {
void check_hyper(bool ok, const char* what, const char* name, double value, const char* rule) {
  ATTN_CHECK(ok, what, ": ", name, " = ", value, " is invalid (", rule, ")");
}
}  // namespace

std::vector<ParamGrad> param_grads(Module& model, const std::vector<Tensor>& grads) {
  NamedTensors params = model.named_parameters();
  ATTN_CHECK(params.size() == grads.size(), "param_grads: the model has ", params.size(), " parameters but ",
             grads.size(), " gradients were given");
  std::vector<ParamGrad> out;
  for (size_t i = 0; i < params.size(); ++i) {
    ATTN_CHECK(grads[i].defined() && grads[i].shape() == params[i].second->shape(), "param_grads: parameter \"",
               params[i].first, "\" has shape ", params[i].second->shape(), " but its gradient has shape ",
               grads[i].defined() ? grads[i].shape() : Shape{});
    out.push_back({*params[i].second, grads[i]});
  }
  return out;
}

Optimizer::Optimizer(std::vector<ParamGrad> params, double lr, const char* what)
    : params_(std::move(params)), lr_(lr), what_(what) {
  check_hyper(std::isfinite(lr) && lr >= 0.0, what, "lr", lr, "must be finite and >= 0");
  ATTN_CHECK(!params_.empty(), what, ": got an empty parameter list");
  for (size_t i = 0; i < params_.size(); ++i) {
    const ParamGrad& pg = params_[i];
    ATTN_CHECK(pg.param.defined() && pg.grad.defined(), what, ": parameter ", i, " or its gradient is undefined");
    ATTN_CHECK(pg.param.dtype() == DType::f32 && pg.grad.dtype() == DType::f32, what, ": parameter ", i,
               " and its gradient must be float32");
    ATTN_CHECK(pg.param.shape() == pg.grad.shape(), what, ": parameter ", i, " has shape ", pg.param.shape(),
               " but its gradient has shape ", pg.grad.shape());
    ATTN_CHECK(pg.param.is_contiguous() && pg.grad.is_contiguous(), what, ": parameter ", i,
               " and its gradient must be contiguous");
  }
}

void Optimizer::set_lr(double lr) {
  check_hyper(std::isfinite(lr) && lr >= 0.0, what_, "lr", lr, "must be finite and >= 0");
  lr_ = lr;
}

void Optimizer::zero_grad() noexcept {
  for (ParamGrad& pg : params_) {
    float* g = static_cast<float*>(pg.grad.raw_data());
    std::fill(g, g + pg.grad.numel(), 0.0f);
  }
}

void Optimizer::plan_state(std::vector<Tensor>& slots, const char* name) {
  slots.resize(params_.size());  // once per kind, before allocate(): the slots do not move afterwards
  for (size_t i = 0; i < params_.size(); ++i)
    state_.add(std::string(name) + "." + std::to_string(i), &slots[i], params_[i].param.shape());
}

// ---------------------------------------------------------------------------- SGD

SGD::SGD(std::vector<ParamGrad> params, const SgdOptions& o) : Optimizer(std::move(params), o.lr, "SGD"), options_(o) {
  check_hyper(std::isfinite(o.momentum) && o.momentum >= 0.0, "SGD", "momentum", o.momentum, "must be >= 0");
  check_hyper(std::isfinite(o.dampening), "SGD", "dampening", o.dampening, "must be finite");
  check_hyper(std::isfinite(o.weight_decay) && o.weight_decay >= 0.0, "SGD", "weight_decay", o.weight_decay,
              "must be >= 0");
  ATTN_CHECK(!o.nesterov || (o.momentum > 0.0 && o.dampening == 0.0),
             "SGD: nesterov momentum requires a momentum and zero dampening (got momentum ", o.momentum,
             ", dampening ", o.dampening, ")");
  if (o.momentum != 0.0) {
    plan_state(momentum_buffer_, "momentum_buffer");
    state_.allocate("SGD momentum buffers");
  }
}

void SGD::step() noexcept {
  const SgdOptions& o = options_;
  const float wd = static_cast<float>(o.weight_decay), mom = static_cast<float>(o.momentum);
  const float keep = static_cast<float>(1.0 - o.dampening), neg_lr = static_cast<float>(-lr_);
  const bool first = steps_ == 0;
  for (size_t i = 0; i < params_.size(); ++i) {
    float* p = static_cast<float*>(params_[i].param.raw_data());
    const float* g = static_cast<const float*>(params_[i].grad.raw_data());
    const int64_t n = params_[i].param.numel();
    float* buf = mom != 0.0f ? static_cast<float*>(momentum_buffer_[i].raw_data()) : nullptr;
    for (int64_t j = 0; j < n; ++j) {
      float d = wd != 0.0f ? g[j] + wd * p[j] : g[j];
      if (buf) {
        buf[j] = first ? d : buf[j] * mom + keep * d;  // torch clones d_p into the buffer on the first step
        d = o.nesterov ? d + mom * buf[j] : buf[j];
      }
      p[j] += neg_lr * d;
    }
  }
  ++steps_;
}

// ---------------------------------------------------------------------------- Adam / AdamW

Adam::Adam(std::vector<ParamGrad> params, const AdamOptions& options) : Adam(std::move(params), options, false, "Adam") {}

AdamW::AdamW(std::vector<ParamGrad> params, const AdamOptions& options)
    : Adam(std::move(params), options, true, "AdamW") {}

Adam::Adam(std::vector<ParamGrad> params, const AdamOptions& o, bool decoupled, const char* what)
    : Optimizer(std::move(params), o.lr, what), options_(o), decoupled_(decoupled) {
  check_hyper(std::isfinite(o.eps) && o.eps >= 0.0, what, "eps", o.eps, "must be >= 0");
  check_hyper(o.beta1 >= 0.0 && o.beta1 < 1.0, what, "beta1", o.beta1, "must be in [0, 1)");
  check_hyper(o.beta2 >= 0.0 && o.beta2 < 1.0, what, "beta2", o.beta2, "must be in [0, 1)");
  check_hyper(std::isfinite(o.weight_decay) && o.weight_decay >= 0.0, what, "weight_decay", o.weight_decay,
              "must be >= 0");
  plan_state(exp_avg_, "exp_avg");
  plan_state(exp_avg_sq_, "exp_avg_sq");
  if (o.amsgrad) plan_state(max_exp_avg_sq_, "max_exp_avg_sq");
  state_.allocate(decoupled ? "AdamW state" : "Adam state");
}

void Adam::step() noexcept {
  const AdamOptions& o = options_;
  ++steps_;
  const double t = static_cast<double>(steps_);
  const double bias_correction1 = 1.0 - std::pow(o.beta1, t);
  const double bias_correction2 = 1.0 - std::pow(o.beta2, t);
  // The float32 scalars torch's tensor ops receive.
  const float neg_step_size = static_cast<float>(-(lr_ / bias_correction1));
  const float bc2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  const float b1 = static_cast<float>(o.beta1), one_minus_b1 = static_cast<float>(1.0 - o.beta1);
  const float b2 = static_cast<float>(o.beta2), one_minus_b2 = static_cast<float>(1.0 - o.beta2);
  const float eps = static_cast<float>(o.eps), wd = static_cast<float>(o.weight_decay);
  const float decay = static_cast<float>(1.0 - lr_ * o.weight_decay);  // AdamW: param.mul_(1 - lr * wd)
  for (size_t i = 0; i < params_.size(); ++i) {
    float* p = static_cast<float*>(params_[i].param.raw_data());
    const float* g = static_cast<const float*>(params_[i].grad.raw_data());
    float* m = static_cast<float*>(exp_avg_[i].raw_data());
    float* v = static_cast<float*>(exp_avg_sq_[i].raw_data());
    float* vmax = o.amsgrad ? static_cast<float*>(max_exp_avg_sq_[i].raw_data()) : nullptr;
    const int64_t n = params_[i].param.numel();
    for (int64_t j = 0; j < n; ++j) {
      float grad = g[j];
      if (decoupled_) {
        if (o.weight_decay != 0.0) p[j] *= decay;
      } else if (wd != 0.0f) {
        grad += wd * p[j];
      }
      m[j] = m[j] * b1 + one_minus_b1 * grad;
      v[j] = v[j] * b2 + one_minus_b2 * grad * grad;
      float second = v[j];
      if (vmax) second = vmax[j] = std::fmax(vmax[j], v[j]);
      const float denom = std::sqrt(second) / bc2_sqrt + eps;
      p[j] += neg_step_size * m[j] / denom;
    }
  }
}

}  // namespace attn::train
