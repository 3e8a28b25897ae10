#include "testing.hpp"

#include "kernels/simd_info.hpp"

namespace attn::testing {

std::vector<size_t> sizes_around_width(bool with_zero) {
  const size_t w = kernels::simd_width();
  std::vector<size_t> sizes;
  if (with_zero) sizes.push_back(0);
  for (size_t n = 1; n <= 3 * w + 1; ++n) sizes.push_back(n);
  for (size_t n : {17, 31, 33, 63, 255, 256, 257, 1000})
    if (n > 3 * w + 1) sizes.push_back(n);
  return sizes;
}

std::string fixture_path(const std::string& name) { return std::string(ATTN_FIXTURE_DIR) + "/" + name; }

// ATTN_FIXTURE_DIR is <source>/tests/fixtures.
std::string source_path(const std::string& relative) { return std::string(ATTN_FIXTURE_DIR) + "/../../" + relative; }

}  // namespace attn::testing
