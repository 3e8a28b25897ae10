// Tensor: an n-dimensional float32 (or bool/uint8, for masks) array with shape,
// strides and a storage offset, like torch.Tensor without autograd.
//
// - Storage is 64-byte aligned and reference-counted; views (reshape of a
//   contiguous tensor, transpose, slice, select, unsqueeze) share it, as in PyTorch.
// - Tensor::from_blob wraps memory the caller owns (no copy, no free).
// - Every allocation goes through checked_bytes (core/size.hpp): 64-bit sizes
//   held to the per-tensor byte budget.
// - Kernels take raw pointers; call contiguous() first when a tensor may be
//   a strided view.
// Not here: arithmetic (ops/ops.hpp), dtype promotion, autograd.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/size.hpp"

namespace attn {

enum class DType : uint8_t { f32 = 0, u8 = 1 };  // u8 holds booleans (0/1) for masks

const char* dtype_name(DType dtype);
constexpr size_t dtype_size(DType dtype) { return dtype == DType::f32 ? 4 : 1; }

// Row-major strides of an indexable shape (core/size.hpp); throws otherwise.
Shape contiguous_strides(const Shape& shape);

class Storage {
 public:
  // Owns 64-byte aligned memory. `bytes` must have passed checked_bytes (the
  // budget); it is checked again here, in 64 bits, before anything is allocated.
  explicit Storage(uint64_t bytes, const char* what = "tensor");
  // Same, held to `limit` instead of the per-tensor budget (arenas: core/arena.hpp).
  Storage(uint64_t bytes, uint64_t limit, const char* what);
  Storage(void* external, size_t bytes);       // borrows; never frees
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* data_;
  size_t bytes_;
  bool owned_;
};

class Tensor {
 public:
  Tensor() = default;  // undefined tensor (defined() == false), like an empty Optional

  // `what` names the caller in the error thrown when the shape is invalid or over the byte budget.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, const char* what = "tensor");
  static Tensor zeros(const Shape& shape, DType dtype = DType::f32, const char* what = "tensor");
  static Tensor full(const Shape& shape, float value);
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape);
  static Tensor from_mask(const std::vector<uint8_t>& values, const Shape& shape);
  // Non-owning: `data` must outlive every tensor that views it.
  static Tensor from_blob(void* data, const Shape& shape, DType dtype = DType::f32);
  // A contiguous view of `shape` at element `offset` of shared storage (arenas); throws
  // naming `what` unless it lies inside the storage.
  static Tensor view_of(std::shared_ptr<Storage> storage, int64_t offset, const Shape& shape, DType dtype,
                        const char* what);

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  // Inline and non-throwing: it sits in loop conditions, and with Emscripten's
  // JS exceptions every out-of-line call that may throw detours through JS.
  int64_t numel() const noexcept {
    int64_t n = 1;
    for (int64_t d : shape_) n *= d;
    return n;
  }
  bool is_contiguous() const noexcept;  // empty tensors count as contiguous, as in PyTorch
  // Same elements: same memory, dtype, shape and strides (query = key = value is checked once).
  bool same_as(const Tensor& o) const noexcept {
    return storage_ == o.storage_ && offset_ == o.offset_ && dtype_ == o.dtype_ && shape_ == o.shape_ &&
           strides_ == o.strides_;
  }

  // Inline, with the throw in a cold out-of-line call: these sit in element loops, and
  // with Emscripten's JS exceptions an out-of-line call that may throw costs a JS round trip.
  void* raw_data() const {
    if (!storage_) fail_undefined();
    return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(dtype_size(dtype_));
  }
  float* data() {  // throws unless dtype is f32
    if (dtype_ != DType::f32) fail_dtype(DType::f32);
    return static_cast<float*>(raw_data());
  }
  const float* data() const { return const_cast<Tensor*>(this)->data(); }
  uint8_t* data_u8() {  // throws unless dtype is u8
    if (dtype_ != DType::u8) fail_dtype(DType::u8);
    return static_cast<uint8_t*>(raw_data());
  }
  const uint8_t* data_u8() const { return const_cast<Tensor*>(this)->data_u8(); }

  // Element access by full index (slow; for tests and glue code).
  float at(std::initializer_list<int64_t> index) const;

  // A view when the layout allows (contiguous input), otherwise a copy. One dim may be -1.
  Tensor reshape(Shape shape) const;
  Tensor view(Shape shape) const;  // like reshape but throws if a copy would be needed
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor slice(int64_t d, int64_t start, int64_t end) const;
  Tensor select(int64_t d, int64_t index) const;
  Tensor unsqueeze(int64_t d) const;
  Tensor squeeze(int64_t d) const;
  // A view with stride 0 along broadcast dims, like torch.Tensor.expand.
  Tensor expand(const Shape& shape) const;

  Tensor contiguous() const;  // self if already contiguous
  Tensor clone() const;       // always a fresh contiguous copy
  Tensor to(DType dtype) const;  // converts (bool -> 0/1 float, float -> value != 0)
  std::vector<float> to_vector() const;

  // Sets every element to `value`.
  void fill_(float value);
  // Copies `src` (same shape; broadcast allowed) into this tensor's elements.
  void copy_(const Tensor& src);

 private:
  [[noreturn]] static void fail_undefined();
  [[noreturn]] void fail_dtype(DType want) const;
  int64_t wrap_dim(int64_t d, int64_t ndim, const char* what) const;

  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;  // in elements
  Shape shape_;
  Shape strides_;  // in elements
  DType dtype_ = DType::f32;
};

// Broadcast two shapes with NumPy/PyTorch rules; throws naming `what` if they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* what);

}  // namespace attn
