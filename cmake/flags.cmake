# Compile flags, in two kinds.
#
# attn_build_flags: an INTERFACE target that our own targets (attn, its tests, the
#   benchmark, the Embind module) link PRIVATE. Optimisation, warnings and
#   instruction-set flags are choices of this project: a program that links
#   attention_playground::attn does not inherit them.
# ATTN_EH_COMPILE / ATTN_EH_LINK: the exception model. In wasm every object of a
#   program must use the same one (an ABI requirement: code built without it cannot
#   catch, and the two models do not mix), so attn carries it as a PUBLIC usage
#   requirement and the installed package passes it on to consumers.
add_library(attn_build_flags INTERFACE)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES AND ATTN_IS_TOP_LEVEL)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()
# xsimd code must be compiled at -O3 in every configuration: at -Os/-Oz its
# wrappers stop inlining and kernels run ~100x slower.
target_compile_options(attn_build_flags INTERFACE -O3 -Wall -Wextra -Wno-unused-parameter)

set(ATTN_EH_COMPILE "")
set(ATTN_EH_LINK "")
if(EMSCRIPTEN)
  # wasm: native WebAssembly exception handling (try/catch/throw instructions; Node 20,
  # Chromium 156). js: Emscripten's JS-based model, where every call that may throw
  # detours through a JS invoke_* wrapper. See README "Building by hand" for the numbers.
  set(ATTN_WASM_EXCEPTIONS "wasm" CACHE STRING "Wasm only: exception model, 'wasm' (-fwasm-exceptions) or 'js' (-fexceptions)")
  set_property(CACHE ATTN_WASM_EXCEPTIONS PROPERTY STRINGS wasm js)
  if(ATTN_WASM_EXCEPTIONS STREQUAL "wasm")
    set(ATTN_EH_COMPILE -fwasm-exceptions)
  elseif(ATTN_WASM_EXCEPTIONS STREQUAL "js")
    set(ATTN_EH_COMPILE -fexceptions)
  else()
    message(FATAL_ERROR "ATTN_WASM_EXCEPTIONS must be 'wasm' or 'js', not '${ATTN_WASM_EXCEPTIONS}'")
  endif()
  set(ATTN_EH_LINK ${ATTN_EH_COMPILE})
  # xsimd 8.1 has no wasm arch: with -msse4.1 it picks its SSE4.1 kernels and
  # Emscripten lowers the SSE intrinsics to SIMD128 (f32x4.*).
  target_compile_options(attn_build_flags INTERFACE -msimd128 -msse4.1)
  target_link_options(attn_build_flags INTERFACE -sALLOW_MEMORY_GROWTH=1)
elseif(ATTN_NATIVE_ARCH)
  target_compile_options(attn_build_flags INTERFACE -march=native)
endif()
