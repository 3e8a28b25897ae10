// The one error type of the core, and the helpers that build its messages.
// Every public entry point checks its arguments and throws attn::Error with a
// message naming the argument and the shapes involved, e.g.
//   "scaled_dot_product_attention: key has 64 features but query has 32".
// The JS layer turns it into a JS Error carrying the same message.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace attn {

using Shape = std::vector<int64_t>;

class Error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// "[2, 5, 16]"
std::string shape_str(const Shape& shape);

namespace detail {
// Message pieces without <sstream>: iostreams would add ~200 KB to the wasm module.
std::string to_text(double v);
inline std::string to_text(const std::string& s) { return s; }
inline std::string to_text(const char* s) { return s; }
inline std::string to_text(char c) { return std::string(1, c); }
inline std::string to_text(const Shape& s) { return shape_str(s); }
template <class T, std::enable_if_t<std::is_integral_v<T>, int> = 0>
std::string to_text(T v) {
  return std::to_string(v);
}
}  // namespace detail

// Concatenates its arguments (shapes print as [a, b, c]) and throws attn::Error.
template <class... Args>
[[noreturn]] void fail(const Args&... args) {
  std::string msg;
  ((msg += detail::to_text(args)), ...);
  throw Error(msg);
}

}  // namespace attn

#define ATTN_CHECK(cond, ...)      \
  do {                             \
    if (!(cond)) ::attn::fail(__VA_ARGS__); \
  } while (0)
