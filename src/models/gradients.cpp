#include "models/gradients.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace attn {

Gradients::Gradients(Module& model, const char* what) : what_(what) {
  if (model.parameter_layout().slots().empty()) model.pack_parameters();
  const Arena& layout = model.parameter_layout();
  grads_.resize(layout.slots().size());
  std::vector<Tensor*> slots;
  for (size_t i = 0; i < grads_.size(); ++i) {
    slots.push_back(&grads_[i]);
    names_.push_back(layout.slots()[i].name);
    index_[names_[i]] = i;
  }
  arena_ = layout.like(slots);
  arena_.allocate((std::string(what) + " gradients").c_str());
}

float* Gradients::operator()(const std::string& name) const {
  const auto it = index_.find(name);
  ATTN_CHECK(it != index_.end(), what_, ": the gradient layout has no slot \"", name, "\"");
  return const_cast<float*>(grads_[it->second].data());
}

NamedTensors Gradients::named() {
  NamedTensors out;
  for (size_t i = 0; i < grads_.size(); ++i) out.push_back({names_[i], &grads_[i]});
  return out;
}

void Gradients::zero() noexcept {
  const Tensor flat = arena_.flat();
  float* g = static_cast<float*>(flat.raw_data());
  std::fill(g, g + flat.numel(), 0.0f);
}

}  // namespace attn
