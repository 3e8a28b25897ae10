// Module: the base of every layer and model, a tree like torch.nn.Module so that
// weights saved from PyTorch load by the same keys.
//
// - A module registers its parameters, buffers and child modules by name in its
//   constructor (register_parameter / register_buffer / register_module). Names
//   compose with dots: "h.0.attn.c_attn.weight".
// - named_parameters(), state_dict() and load_state_dict() walk the tree in
//   PyTorch's order: a module's own parameters (registration order), then its
//   persistent buffers (state_dict only), then each child's, depth first.
// - train()/eval() set the mode of the whole tree.
// - pack_parameters() moves every parameter of the tree into one allocation carved
//   by a size table (core/arena.hpp) and rebinds each parameter to its view; the
//   training issue's gradients are a second instance of parameter_layout().
// - After load_state_dict() and pack_parameters(), parameters_changed() runs on
//   every module of the tree, so a layer can re-derive what it keeps from its
//   weights (nn::Linear's packed copy) once, not on every forward.
// Modules are neither copyable nor movable: the tree holds pointers to members.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/arena.hpp"
#include "core/tensor.hpp"

namespace attn {

using StateDict = std::map<std::string, Tensor>;
using NamedTensors = std::vector<std::pair<std::string, Tensor*>>;

class Module {
 public:
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  virtual ~Module() = default;

  // Every parameter of the tree: (dotted name, tensor), PyTorch's order.
  NamedTensors named_parameters();
  // Every buffer of the tree (BatchNorm's running statistics); persistent_only: those in state_dict.
  NamedTensors named_buffers(bool persistent_only = true);
  // Direct children, registration order.
  const std::vector<std::pair<std::string, Module*>>& named_children() const { return children_; }

  // Copies values in. strict: every key of the module must be present and no other
  // key may be (torch's strict=True). Shapes must match exactly; values must be
  // float32 and finite (no NaN or infinity). Everything is checked before anything is copied, so a
  // bad dict leaves the module unchanged. Messages name the key and both shapes.
  void load_state_dict(const StateDict& state, bool strict = true);
  StateDict state_dict();  // parameters and persistent buffers; shares storage with the module

  // The class name, as error messages give it ("MultiheadAttention").
  const char* name() const { return module_name_; }
  bool is_training() const { return training_; }
  void train(bool on = true);  // the whole tree
  void eval() { train(false); }
  int64_t num_parameters();

  // Runs parameters_changed() on every module of the tree: call it after changing weights in
  // place (an optimizer step), so derived data (nn::Linear's packed weight) follows.
  void notify_parameters_changed();

  // One allocation for every parameter of the tree (values kept); returns its layout.
  const Arena& pack_parameters();
  const Arena& parameter_layout() const { return params_; }  // empty before pack_parameters()

 protected:
  // `slot` is a member of the derived module, defined (its initial value) when registered.
  void register_parameter(std::string name, Tensor& slot);
  void register_buffer(std::string name, Tensor& slot, bool persistent = true);
  template <class M>
  M& register_module(std::string name, M& child) {
    children_.push_back({std::move(name), &child});
    return child;
  }
  // Called on every module of the tree after its weights were replaced (load_state_dict,
  // pack_parameters). Default: nothing.
  virtual void parameters_changed() {}

  const char* module_name_ = "module";
  bool training_ = false;

 private:
  struct Entry {
    std::string name;
    Tensor* tensor;
    bool persistent;
  };
  void collect(const std::string& prefix, NamedTensors& params, NamedTensors* buffers, bool persistent_only);

  std::vector<Entry> params_own_;
  std::vector<Entry> buffers_own_;
  std::vector<std::pair<std::string, Module*>> children_;
  Arena params_;
};

// torch.nn.ModuleList / nn.Sequential as a container of keys: children named by
// position ("h.0", "h.1", ...) or by an explicit name ("fc.0", "fc.2" where a Sequential
// has parameter-free layers between). emplace() owns what it builds; add() does not.
class ModuleList : public Module {
 public:
  ModuleList() { module_name_ = "ModuleList"; }
  template <class M, class... Args>
  M& emplace(Args&&... args) {
    auto owned = std::make_unique<M>(std::forward<Args>(args)...);
    M& ref = *owned;
    owned_.push_back(std::move(owned));
    items_.push_back(&ref);
    return register_module(std::to_string(items_.size() - 1), ref);
  }
  template <class M>
  M& add(std::string name, M& child) {
    items_.push_back(&child);
    return register_module(std::move(name), child);
  }
  size_t size() const { return items_.size(); }
  Module& operator[](size_t i) const { return *items_[i]; }

 private:
  std::vector<std::unique_ptr<Module>> owned_;
  std::vector<Module*> items_;
};

}  // namespace attn
