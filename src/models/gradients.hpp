// Gradients: d loss / d every parameter of a packed model, llm.c style: a second instance of
// the model's parameter layout (Module::parameter_layout().like(): one allocation, the same
// offsets), so optimizers and clipping run on it slot by slot or flat. The tensors are in
// named_parameters() order; a slot is found by its state_dict key. The training passes
// (models/*_train.hpp) accumulate into it; zero() clears it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/arena.hpp"
#include "core/module.hpp"

namespace attn {

class Gradients {
 public:
  // Packs the model first if it is not packed yet. `what` names the owner in errors.
  Gradients(Module& model, const char* what);
  Gradients(const Gradients&) = delete;
  Gradients& operator=(const Gradients&) = delete;

  const std::vector<Tensor>& tensors() const { return grads_; }
  // The slot of the parameter `name` (its state_dict key); throws naming the owner if absent.
  float* operator()(const std::string& name) const;
  NamedTensors named();
  const Arena& arena() const { return arena_; }
  void zero() noexcept;

 private:
  const char* what_;
  std::vector<std::string> names_;
  std::vector<Tensor> grads_;
  std::map<std::string, size_t> index_;
  Arena arena_;
};

}  // namespace attn
