#include "io/json_depth.hpp"

namespace attn::io {

JsonDepth json_depth(std::string_view text, int limit) noexcept {
  int depth = 0;
  JsonDepth deepest{0, 0};
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // skip the escaped byte (\" must not end the string)
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > deepest.depth) deepest = {depth, i};
      if (depth > limit) return deepest;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace attn::io
