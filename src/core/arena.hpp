// Arena: one allocation carved by a size table (llm.c's ParameterTensors /
// ActivationTensors, ggml's context), for memory whose shape is known up front.
//
// Plan, then allocate:
//   Arena a;
//   a.add("h.0.ln_1.weight", slot, {C});  // records (name, shape, &slot); nothing allocated
//   ...
//   a.allocate("GPT activations");        // one checked allocation; every slot becomes a view
//
// - Every slot starts on a 64-byte boundary (16 floats), so SIMD loads of a row start aligned.
// - Sizes are int64 with overflow checks; each slot is held to the per-tensor budget and the
//   whole arena to kMaxArenaBytes (core/size.hpp). Nothing is allocated when a check fails.
// - The slots are Tensor members of the caller (which must outlive the arena's use of them,
//   and must not move: Module is not copyable or movable for this reason).
// - like(other) plans the same layout for other slots: a model's gradients are a second
//   instance of its parameters' layout (training), with the same offsets.
// Used by Module::pack_parameters (parameters) and by models (activations, KV caches).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.hpp"

namespace attn {

// The most an arena may hold: what this platform's allocator can address (2 GiB on
// wasm32, whose heap is capped there anyway); allocation failure below that is an Error.
constexpr uint64_t kMaxArenaBytes = kMaxTensorBytesCeiling;

class Arena {
 public:
  struct Slot {
    std::string name;
    Shape shape;
    DType dtype;
    int64_t offset;  // in bytes from the start of the arena, a multiple of 64
    int64_t bytes;
    Tensor* tensor;  // bound to its view by allocate(); may be null (layout only)
  };

  // Records a slot; throws naming `name` if its shape is invalid or over the per-tensor budget.
  void add(std::string name, Tensor* slot, const Shape& shape, DType dtype = DType::f32);
  // One allocation for every slot, zero-filled; binds each slot to its view. `what` names the
  // arena in errors. Calling it again re-allocates (previous views stay valid while held).
  void allocate(const char* what);

  // Another arena with this one's layout, bound to `slots` (same count, in order); not allocated.
  Arena like(const std::vector<Tensor*>& slots) const;

  const std::vector<Slot>& slots() const { return slots_; }
  int64_t bytes() const { return total_; }
  bool allocated() const { return storage_ != nullptr; }
  // The whole arena as a flat float32 tensor (bytes / 4 elements); undefined before allocate().
  Tensor flat() const;

 private:
  std::vector<Slot> slots_;
  int64_t total_ = 0;
  std::shared_ptr<Storage> storage_;
};

}  // namespace attn
