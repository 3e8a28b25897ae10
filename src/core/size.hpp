// Checked size arithmetic: the one place where a count that came from a user
// number or a file header becomes a byte count.
//
// wasm32's size_t is 32 bits, so `n * sizeof(float)` silently wraps there for
// n >= 2^30. Everything here is int64/uint64 with overflow checks, and every
// allocation of a tensor is held to a per-tensor byte budget, which can be
// lowered or raised at run time (JS: init({ maxTensorBytes })):
//  - wasm32: 256 MiB. The heap is capped at 2 GiB and never shrinks: a 1 GiB tensor
//    pins half of it for the instance's life, and filling one (a 16384 x 16384
//    sinusoidal table) is tens of seconds of legal work. 256 MiB holds the largest
//    tensor of models like GPT-2 small (wte, 147 MiB); raise it for larger ones.
//  - native: 16 GiB.
//
// A shape is "indexable" when the product of its dims, with 0 counted as 1, fits
// in kMaxNumel: then every stride and offset of a tensor of that shape fits in
// int64 even when the tensor itself is empty (PyTorch's strides use max(d, 1)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace attn {

// Largest element count (and largest stride product) a shape may have.
constexpr int64_t kMaxNumel = (int64_t{1} << 31) - 1;
#ifdef __EMSCRIPTEN__
constexpr uint64_t kDefaultMaxTensorBytes = uint64_t{256} << 20;
#else
constexpr uint64_t kDefaultMaxTensorBytes = uint64_t{16} << 30;
#endif
// Ceiling of the run-time setting: what size_t and the allocator can represent.
constexpr uint64_t kMaxTensorBytesCeiling =
    sizeof(size_t) == 4 ? (uint64_t{1} << 31) : (uint64_t{1} << 40);

uint64_t max_tensor_bytes();
// Throws unless 0 < bytes <= kMaxTensorBytesCeiling.
void set_max_tensor_bytes(uint64_t bytes);

// a * b and a + b for non-negative sizes; throw "<what>: ... is too large" on overflow past kMaxNumel.
int64_t checked_mul(int64_t a, int64_t b, const char* what);
int64_t checked_add(int64_t a, int64_t b, const char* what);

// Product of the dims, checked: negative dims, overflow and non-indexable shapes throw, naming `what`.
int64_t checked_numel(const Shape& shape, const char* what = "shape");
// numel * elem_size in 64 bits, checked against max_tensor_bytes(); the message names `what` and the shape.
uint64_t checked_bytes(const Shape& shape, size_t elem_size, const char* what = "tensor");

// A cap on the bytes of all tensor storage allocated on this thread while it lives:
// building a model from an untrusted config (a model file's config can describe a model
// of any size; each tensor alone may be within the per-tensor budget). Every owning
// Storage charges it before allocating and throws "<what>: ..." past the cap. Caps nest
// (the innermost applies). Not a limit on memory freed and reused: it counts allocations.
class AllocationCap {
 public:
  AllocationCap(uint64_t bytes, std::string what);
  ~AllocationCap();
  AllocationCap(const AllocationCap&) = delete;
  AllocationCap& operator=(const AllocationCap&) = delete;
  uint64_t used() const { return used_; }
  // Called by Storage before it allocates; throws past the innermost cap.
  static void charge(uint64_t bytes);

 private:
  uint64_t cap_, used_ = 0;
  std::string what_;
  AllocationCap* outer_;
};

// "1.5 GiB", "640 KiB", "12 bytes"
std::string bytes_str(uint64_t bytes);

}  // namespace attn
