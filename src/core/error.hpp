// The one error type of the core, and the helpers that build its messages.
// Every public entry point checks its arguments and throws attn::Error with a
// message naming the argument and the shapes involved, e.g.
//   "scaled_dot_product_attention: key has 64 features but query has 32".
// The JS layer turns it into a JS Error carrying the same message.
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
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
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  if constexpr (std::is_same_v<T, Shape>) {
    os << shape_str(v);
  } else {
    os << v;
  }
  append(os, rest...);
}
}  // namespace detail

// Concatenates its arguments (shapes print as [a, b, c]) and throws attn::Error.
template <class... Args>
[[noreturn]] void fail(const Args&... args) {
  std::ostringstream os;
  detail::append(os, args...);
  throw Error(os.str());
}

}  // namespace attn

#define ATTN_CHECK(cond, ...)      \
  do {                             \
    if (!(cond)) ::attn::fail(__VA_ARGS__); \
  } while (0)
