# Compile flags shared by every target, as one INTERFACE target.
add_library(attn_flags INTERFACE)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()
# xsimd code must be compiled at -O3 in every configuration: at -Os/-Oz its
# wrappers stop inlining and kernels run ~100x slower.
target_compile_options(attn_flags INTERFACE -O3 -Wall -Wextra -Wno-unused-parameter)

if(EMSCRIPTEN)
  # xsimd 8.1 has no wasm arch: with -msse4.1 it picks its SSE4.1 kernels and
  # Emscripten lowers the SSE intrinsics to SIMD128 (f32x4.*).
  set(ATTN_WASM_FLAGS -msimd128 -msse4.1 -fexceptions)
  target_compile_options(attn_flags INTERFACE ${ATTN_WASM_FLAGS})
  target_link_options(attn_flags INTERFACE -fexceptions -sALLOW_MEMORY_GROWTH=1)
elseif(ATTN_NATIVE_ARCH)
  target_compile_options(attn_flags INTERFACE -march=native)
endif()
