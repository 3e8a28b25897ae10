// What the kernels were compiled for: the SIMD width in floats and xsimd's arch
// name ("sse2", "sse4.1" (lowered to wasm SIMD128), "avx2", ...).
#pragma once

#include <cstddef>

namespace attn::kernels {

size_t simd_width() noexcept;
const char* simd_arch_name() noexcept;

}  // namespace attn::kernels
