// attn::Rng gives the numbers of the independent Python implementation
// (scripts/fixtures/rng.py), natively and in wasm alike.
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/rng.hpp"
#include "testing.hpp"

namespace attn::testing {
namespace {

nlohmann::json load_rng_fixture() {
  std::ifstream in(fixture_path("rng.json"));
  EXPECT_TRUE(in.good()) << "missing fixture " << fixture_path("rng.json");
  return nlohmann::json::parse(in);
}

TEST(Rng, MatchesReferenceStreams) {
  nlohmann::json f = load_rng_fixture();
  Rng a(42, 54);
  for (uint32_t expected : f["seed42_stream54_u32"]) EXPECT_EQ(a.next_u32(), expected);
  Rng b(7);
  for (double expected : f["seed7_uniform"]) EXPECT_EQ(b.uniform(), static_cast<float>(expected));
  Rng c(2024);
  for (double expected : f["seed2024_normal"]) EXPECT_NEAR(c.normal(), expected, 1e-6 * (1 + std::fabs(expected)));
}

TEST(Rng, BelowIsInRangeAndCoversIt) {
  Rng r(5);
  std::vector<int> seen(7, 0);
  for (int i = 0; i < 700; ++i) {
    uint32_t v = r.below(7);
    ASSERT_LT(v, 7u);
    seen[v]++;
  }
  for (int s : seen) EXPECT_GT(s, 50);
  EXPECT_TRUE(throws_error([&] { r.below(0); }, {"below"}));
}

TEST(Rng, NormalMomentsAreStandard) {
  Rng r(9);
  Tensor t = randn({20000}, r);
  double mean = 0, sq = 0;
  for (float v : t.to_vector()) {
    mean += v;
    sq += double(v) * v;
  }
  mean /= 20000;
  EXPECT_NEAR(mean, 0.0, 0.03);
  EXPECT_NEAR(sq / 20000 - mean * mean, 1.0, 0.05);
}

}  // namespace
}  // namespace attn::testing
