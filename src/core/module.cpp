#include "core/module.hpp"

#include <cmath>
#include <cstring>
#include <set>

namespace attn {

void Module::register_parameter(std::string name, Tensor& slot) {
  ATTN_CHECK(slot.defined() && slot.dtype() == DType::f32, module_name_, ": parameter '", name,
             "' must be a defined float32 tensor");
  params_own_.push_back({std::move(name), &slot, true});
}

void Module::register_buffer(std::string name, Tensor& slot, bool persistent) {
  ATTN_CHECK(slot.defined(), module_name_, ": buffer '", name, "' must be defined");
  buffers_own_.push_back({std::move(name), &slot, persistent});
}

void Module::collect(const std::string& prefix, NamedTensors& params, NamedTensors* buffers, bool persistent_only) {
  for (const Entry& e : params_own_) params.push_back({prefix + e.name, e.tensor});
  if (buffers) {
    for (const Entry& e : buffers_own_)
      if (e.persistent || !persistent_only) buffers->push_back({prefix + e.name, e.tensor});
  }
  for (auto& [name, child] : children_) child->collect(prefix + name + ".", params, buffers, persistent_only);
}

NamedTensors Module::named_parameters() {
  NamedTensors p;
  collect("", p, nullptr, true);
  return p;
}

NamedTensors Module::named_buffers(bool persistent_only) {
  NamedTensors p, b;
  collect("", p, &b, persistent_only);
  return b;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::notify_parameters_changed() {
  parameters_changed();
  for (auto& [name, child] : children_) child->notify_parameters_changed();
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  NamedTensors entries = named_parameters();
  for (auto& b : named_buffers(true)) entries.push_back(b);
  std::set<std::string> known;
  for (auto& [name, tensor] : entries) {
    known.insert(name);
    auto it = state.find(name);
    if (it == state.end()) {
      ATTN_CHECK(!strict, module_name_, ".load_state_dict: missing key '", name, "' (shape ", tensor->shape(), ")");
      continue;
    }
    const Tensor& src = it->second;
    ATTN_CHECK(src.defined(), module_name_, ".load_state_dict: '", name, "' is undefined");
    ATTN_CHECK(src.dtype() == DType::f32, module_name_, ".load_state_dict: '", name, "' must be float32 but is ",
               dtype_name(src.dtype()));
    ATTN_CHECK(src.shape() == tensor->shape(), module_name_, ".load_state_dict: '", name, "' has shape ",
               src.shape(), " but the module expects ", tensor->shape());
    Tensor c = src.contiguous();
    const float* v = c.data();
    for (int64_t i = 0; i < c.numel(); ++i) {
      if (std::isfinite(v[i])) continue;  // weights from a file: NaN and infinities are broken files
      fail(module_name_, ".load_state_dict: '", name, "' contains ", std::isnan(v[i]) ? "NaN" : "infinity", " (at flat index ",
           i, ")");
    }
  }
  if (strict) {
    for (auto& [name, t] : state)
      ATTN_CHECK(known.count(name), module_name_, ".load_state_dict: unexpected key '", name, "'");
  }
  for (auto& [name, tensor] : entries) {
    auto it = state.find(name);
    if (it != state.end()) tensor->copy_(it->second);
  }
  notify_parameters_changed();
}

StateDict Module::state_dict() {
  StateDict out;
  for (auto& [name, tensor] : named_parameters()) out[name] = *tensor;
  for (auto& [name, tensor] : named_buffers(true)) out[name] = *tensor;
  return out;
}

int64_t Module::num_parameters() {
  int64_t n = 0;
  for (auto& [name, tensor] : named_parameters()) n += tensor->numel();
  return n;
}

const Arena& Module::pack_parameters() {
  Arena layout;
  NamedTensors params = named_parameters();
  std::vector<Tensor> old;
  old.reserve(params.size());
  for (auto& [name, tensor] : params) {
    layout.add(name, tensor, tensor->shape());
    old.push_back(*tensor);
  }
  layout.allocate((std::string(module_name_) + " parameters").c_str());
  for (size_t i = 0; i < params.size(); ++i) params[i].second->copy_(old[i]);
  params_ = std::move(layout);
  notify_parameters_changed();
  return params_;
}

}  // namespace attn
