// JSON nesting depth by a byte scan, for untrusted JSON before it reaches a parser:
// nlohmann's parser (and the destructor of what it builds) recurses once per level, so
// a deep enough document overflows the stack (a wasm trap; SIGSEGV natively near 87k
// levels). Counts objects and arrays outside strings, stops as soon as `limit` is
// passed. On invalid JSON a parser stops at the first error, and up to there the count
// is exact, so a parser never sees a deeper value than this scan did.
#pragma once

#include <cstddef>
#include <string_view>

namespace attn::io {

struct JsonDepth {
  int depth;      // deepest nesting seen (> limit: the scan stopped there)
  size_t offset;  // where that depth was reached
};
JsonDepth json_depth(std::string_view text, int limit) noexcept;

}  // namespace attn::io
