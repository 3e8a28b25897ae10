// The only file that includes Emscripten headers: Embind declarations, no logic.
// Every entry point that can throw goes through guarded(), which turns a C++
// exception into a JS Error carrying the message (see src/js for the API users see).
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include "kernels/simd_info.hpp"

using namespace emscripten;

namespace {
std::string simd_arch() { return attn::kernels::simd_arch_name(); }
}  // namespace

EMSCRIPTEN_BINDINGS(attention_playground) {
  function("simdArch", &simd_arch);
  function("simdWidth", &attn::kernels::simd_width);
}
