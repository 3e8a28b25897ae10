// Module: the base of everything with parameters, mirroring torch.nn.Module's
// state_dict contract so weights saved from PyTorch load by the same keys.
// A module lists its parameters (name -> tensor, in registration order, with
// PyTorch's dotted names); load_state_dict checks every key and shape and
// names the culprit when one is missing, unexpected or misshapen.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.hpp"

namespace attn {

using StateDict = std::map<std::string, Tensor>;

class Module {
 public:
  virtual ~Module() = default;

  // (name, tensor) for every parameter and buffer, PyTorch key order.
  virtual std::vector<std::pair<std::string, Tensor*>> named_parameters() = 0;

  // Copies values in. strict: every key of the module must be present and no
  // other key may be (torch's strict=True). Shapes must match exactly; values
  // must be float32 and free of NaN.
  void load_state_dict(const StateDict& state, bool strict = true);
  StateDict state_dict();  // shares storage with the module's tensors

  // The class name, as error messages give it ("MultiheadAttention").
  const char* name() const { return module_name_; }
  bool is_training() const { return training_; }
  virtual void train(bool on = true) { training_ = on; }
  void eval() { train(false); }
  // Number of scalar parameters.
  int64_t num_parameters();

 protected:
  const char* module_name_ = "module";
  bool training_ = false;
};

}  // namespace attn
