#include "kernels/simd_info.hpp"

#include "kernels/simd.hpp"

namespace attn::kernels {

size_t simd_width() noexcept { return kW; }
const char* simd_arch_name() noexcept { return Arch::name(); }

}  // namespace attn::kernels
