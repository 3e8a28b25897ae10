#include "core/arena.hpp"

#include <cstring>
#include <utility>

namespace attn {

namespace {
constexpr int64_t kSlotAlign = 64;
}

void Arena::add(std::string name, Tensor* slot, const Shape& shape, DType dtype) {
  const int64_t bytes = static_cast<int64_t>(checked_bytes(shape, dtype_size(dtype), name.c_str()));
  const int64_t offset = total_;
  const int64_t padded = checked_add(bytes, kSlotAlign - 1, name.c_str()) / kSlotAlign * kSlotAlign;
  ATTN_CHECK(static_cast<uint64_t>(offset) + static_cast<uint64_t>(padded) <= kMaxArenaBytes, name,
             ": the arena would hold more than ", bytes_str(kMaxArenaBytes));
  total_ = offset + padded;
  slots_.push_back({std::move(name), shape, dtype, offset, bytes, slot});
}

void Arena::allocate(const char* what) {
  auto storage = std::make_shared<Storage>(static_cast<uint64_t>(total_), kMaxArenaBytes, what);
  if (total_ > 0) std::memset(storage->data(), 0, static_cast<size_t>(total_));
  for (const Slot& s : slots_) {
    if (!s.tensor) continue;
    *s.tensor = Tensor::view_of(storage, s.offset / static_cast<int64_t>(dtype_size(s.dtype)), s.shape, s.dtype, what);
  }
  storage_ = std::move(storage);
}

Arena Arena::like(const std::vector<Tensor*>& slots) const {
  ATTN_CHECK(slots.size() == slots_.size(), "Arena.like: ", slots.size(), " slots for a layout of ", slots_.size());
  Arena out = *this;
  out.storage_.reset();
  for (size_t i = 0; i < slots.size(); ++i) out.slots_[i].tensor = slots[i];
  return out;
}

Tensor Arena::flat() const {
  if (!storage_) return Tensor();
  return Tensor::view_of(storage_, 0, {total_ / 4}, DType::f32, "Arena.flat");
}

}  // namespace attn
