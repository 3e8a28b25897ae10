#include "kernels/elementwise.hpp"

#include "kernels/simd.hpp"

namespace attn::kernels {

namespace {
template <class Op>
void map_binary(size_t n, const float* a, const float* b, float* y, Op op) noexcept {
  size_t i = 0;
  for (; i + kW <= n; i += kW) op(Batch::load_unaligned(a + i), Batch::load_unaligned(b + i)).store_unaligned(y + i);
  if (i < n) store_partial(y + i, n - i, op(load_partial(a + i, n - i), load_partial(b + i, n - i)));
}
}  // namespace

#define ATTN_BINARY_KERNEL(name, op)                                               \
  void f32_##name(size_t n, const float* a, const float* b, float* y) noexcept {   \
    map_binary(n, a, b, y, [](const Batch& u, const Batch& v) { return u op v; }); \
  }
#define ATTN_BINARY_SCALAR_KERNEL(name, op)                               \
  void f32_##name(size_t n, const float* a, float s, float* y) noexcept { \
    const Batch vs(s);                                                    \
    map_unary(n, a, y, [&](const Batch& u) { return u op vs; });          \
  }
#include "kernels/registry.inc"

void f32_axpy(size_t n, float a, const float* x, float* y) noexcept {
  const Batch va(a);
  size_t i = 0;
  for (; i + kW <= n; i += kW) (Batch::load_unaligned(y + i) + va * Batch::load_unaligned(x + i)).store_unaligned(y + i);
  if (i < n) store_partial(y + i, n - i, load_partial(y + i, n - i) + va * load_partial(x + i, n - i));
}

}  // namespace attn::kernels
