#include "testing.hpp"

#include <fstream>
#include <regex>
#include <sstream>

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

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

ShippedModel load_shipped(const std::string& name) {
  const std::string dir = source_path("web/models/" + name);
  ShippedModel s;
  const std::string config = read_file(dir + "/config.json"), weights = read_file(dir + "/model.safetensors");
  s.loaded = io::load_model(config, reinterpret_cast<const uint8_t*>(weights.data()), weights.size());
  s.card = read_file(dir + "/MODEL_CARD.md");
  std::smatch m;
  if (std::regex_search(s.card, m, std::regex(R"(Held-out slice \(first (\d+) [^)]*\): (?:accuracy|loss) ([0-9.]+))"))) {
    s.slice_count = std::stoll(m[1]);
    s.slice_value = std::stod(m[2]);
  }
  if (std::regex_search(s.card, m, std::regex(R"(--seed (\d+))"))) s.seed = std::stoull(m[1]);
  return s;
}

}  // namespace attn::testing
