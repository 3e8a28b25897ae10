#include "core/size.hpp"

#include <cstdio>
#include <utility>

namespace attn {

namespace {
uint64_t g_max_tensor_bytes = kDefaultMaxTensorBytes;
}

uint64_t max_tensor_bytes() { return g_max_tensor_bytes; }

void set_max_tensor_bytes(uint64_t bytes) {
  ATTN_CHECK(bytes > 0 && bytes <= kMaxTensorBytesCeiling, "set_max_tensor_bytes: bytes must be in [1, ",
             kMaxTensorBytesCeiling, "], got ", bytes);
  g_max_tensor_bytes = bytes;
}

namespace {
// a op b for sizes: both non-negative, the result within kMaxNumel.
template <class Op>
int64_t checked_op(int64_t a, int64_t b, const char* what, const char* sign, Op op_overflows) {
  ATTN_CHECK(a >= 0 && b >= 0, what, ": negative size (", a, sign, b, ")");
  int64_t r;
  if (op_overflows(a, b, &r) || r > kMaxNumel) fail(what, ": ", a, sign, b, " is too large (more than ", kMaxNumel, ")");
  return r;
}
}  // namespace

int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  return checked_op(a, b, what, " x ", [](int64_t x, int64_t y, int64_t* r) { return __builtin_mul_overflow(x, y, r); });
}
int64_t checked_add(int64_t a, int64_t b, const char* what) {
  return checked_op(a, b, what, " + ", [](int64_t x, int64_t y, int64_t* r) { return __builtin_add_overflow(x, y, r); });
}

int64_t checked_numel(const Shape& shape, const char* what) {
  int64_t n = 1, span = 1;  // span: product with 0 counted as 1 (bounds every stride)
  for (int64_t d : shape) {
    ATTN_CHECK(d >= 0, what, " ", shape, " has a negative dimension");
    const int64_t s = d ? d : 1;
    if (span > kMaxNumel / s) fail(what, " ", shape, " is too large (more than ", kMaxNumel, " elements)");
    span *= s;
    n *= d;
  }
  return n;
}

uint64_t checked_bytes(const Shape& shape, size_t elem_size, const char* what) {
  const uint64_t bytes = static_cast<uint64_t>(checked_numel(shape, what)) * elem_size;  // < 2^31 * 8: no overflow
  if (bytes > g_max_tensor_bytes) {
    std::string need = bytes_str(bytes), limit = bytes_str(g_max_tensor_bytes);
    if (need == limit) {  // "256.0 MiB ... limit of 256.0 MiB": say the bytes
      need += " (" + std::to_string(bytes) + " bytes)";
      limit += " (" + std::to_string(g_max_tensor_bytes) + " bytes)";
    }
    fail(what, " ", shape, " would need ", need, ", more than the per-tensor limit of ", limit);
  }
  return bytes;
}

namespace {
thread_local AllocationCap* t_cap = nullptr;
}

AllocationCap::AllocationCap(uint64_t bytes, std::string what) : cap_(bytes), what_(std::move(what)), outer_(t_cap) {
  t_cap = this;
}
AllocationCap::~AllocationCap() { t_cap = outer_; }

void AllocationCap::charge(uint64_t bytes) {
  AllocationCap* c = t_cap;
  if (!c) return;
  if (bytes > c->cap_ - c->used_)
    fail(c->what_, ": needs more than ", bytes_str(c->cap_), " (", bytes_str(c->used_), " allocated, ",
         bytes_str(bytes), " more asked for)");
  c->used_ += bytes;
}

std::string bytes_str(uint64_t bytes) {
  char buf[48];
  if (bytes < 1024) std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  else if (bytes < (uint64_t{1} << 20)) std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  else if (bytes < (uint64_t{1} << 30)) std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / 1048576.0);
  else std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / 1073741824.0);
  return buf;
}

}  // namespace attn
