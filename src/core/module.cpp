#include "core/module.hpp"

#include <cmath>
#include <set>

namespace attn {

void Module::load_state_dict(const StateDict& state, bool strict) {
  auto params = named_parameters();
  std::set<std::string> known;
  // Validate everything before copying anything, so a bad dict leaves the module unchanged.
  for (auto& [name, tensor] : params) {
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
    for (int64_t i = 0; i < c.numel(); ++i)
      ATTN_CHECK(!std::isnan(c.data()[i]), module_name_, ".load_state_dict: '", name, "' contains NaN");
  }
  if (strict) {
    for (auto& [name, t] : state)
      ATTN_CHECK(known.count(name), module_name_, ".load_state_dict: unexpected key '", name, "'");
  }
  for (auto& [name, tensor] : params) {
    auto it = state.find(name);
    if (it != state.end()) tensor->copy_(it->second);
  }
}

StateDict Module::state_dict() {
  StateDict out;
  for (auto& [name, tensor] : named_parameters()) out[name] = *tensor;
  return out;
}

int64_t Module::num_parameters() {
  int64_t n = 0;
  for (auto& [name, tensor] : named_parameters()) n += tensor->numel();
  return n;
}

}  // namespace attn
