// nn::Linear's into-memory forward, y (rows, out) = x (rows, in) W^T + b on the weight
// packed for the GEMM (kernels::gemm_pack_b), against the formula in double precision:
// row counts 0, 1 (decode), a few and past the GEMM's row panel, shapes past its depth
// and column panels, with and without bias, strided rows (padding NaN in x must not be
// read; padding in y must not be written), and after every way the weight changes.
#include <cfloat>
#include <limits>

#include "core/module.hpp"
#include "nn/linear.hpp"
#include "testing.hpp"

namespace attn::testing {
namespace {

// Relative to sum_k |x_k w_jk| + |b_j|, as kernels_test's GEMM bound (tol::gemm_packed).
constexpr double kLinearRtol = 5 * FLT_EPSILON;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kPadding = -7.25e33f;

void check_forward(const nn::Linear& lin, int64_t rows, Rng& rng, const std::string& what) {
  const int64_t in = lin.in_features, out = lin.out_features, ldx = in + 3, ldy = out + 2;
  std::vector<float> x(rows * ldx, kNaN), y(rows * ldy, kPadding);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < in; ++k) x[r * ldx + k] = rng.uniform(-2.0f, 2.0f);
  for (int64_t r = 0; r < rows; ++r) std::fill(y.begin() + r * ldy, y.begin() + r * ldy + out, kNaN);
  lin.forward(y.data(), ldy, x.data(), ldx, rows);

  const std::vector<float> w = lin.weight.to_vector();
  const std::vector<float> b = lin.bias.defined() ? lin.bias.to_vector() : std::vector<float>(out, 0.0f);
  std::vector<double> expected(rows * out), scale(rows * out);
  std::vector<float> got(rows * out);
  bool padding_intact = true;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < out; ++j) {
      double acc = b[j], mag = std::fabs(double(b[j]));
      for (int64_t k = 0; k < in; ++k) {
        acc += double(x[r * ldx + k]) * w[j * in + k];
        mag += std::fabs(double(x[r * ldx + k]) * w[j * in + k]);
      }
      expected[r * out + j] = acc;
      scale[r * out + j] = mag;
      got[r * out + j] = y[r * ldy + j];
    }
    for (int64_t j = out; j < ldy; ++j) padding_intact &= y[r * ldy + j] == kPadding;
  }
  const Closeness c = compare(got.data(), expected.data(), got.size(), 0.0, kLinearRtol, scale.data());
  EXPECT_EQ(c.bad, 0u) << what << " rows=" << rows << ": " << c.bad << " of " << got.size()
                       << " outputs differ; max abs err " << c.max_abs << ", max rel err (of sum |x w| + |b|) "
                       << c.max_rel;
  EXPECT_TRUE(padding_intact) << what << " rows=" << rows << " wrote into y's row padding";
}

TEST(Linear, IntoMemoryForwardMatchesFormula) {
  Rng rng(5);
  // (in, out): tiny, odd, past the GEMM's depth panel (256) and column panel (1024), empty.
  const std::pair<int64_t, int64_t> shapes[] = {{1, 1}, {3, 5}, {17, 9}, {300, 1030}, {0, 4}, {4, 0}};
  for (const auto& [in, out] : shapes)
    for (bool bias : {true, false}) {
      nn::Linear lin(in, out, bias, rng);
      const std::string what = "Linear(" + std::to_string(in) + ", " + std::to_string(out) + ", bias=" +
                               (bias ? "True" : "False") + ")";
      for (int64_t rows : {0, 1, 2, 5, 130}) check_forward(lin, rows, rng, what);
    }
}

TEST(Linear, IntoMemoryForwardFollowsTheWeightItWasGiven) {
  Rng rng(6);
  nn::Linear lin(19, 11, true, rng);
  check_forward(lin, 3, rng, "initial weights");

  StateDict sd;
  sd["weight"] = Tensor::from_vector(random_vector(19 * 11, rng), {11, 19});
  sd["bias"] = Tensor::from_vector(random_vector(11, rng), {11});
  lin.load_state_dict(sd);
  EXPECT_EQ(lin.weight.to_vector(), sd["weight"].to_vector());
  check_forward(lin, 1, rng, "after load_state_dict");
  check_forward(lin, 6, rng, "after load_state_dict");

  lin.pack_parameters();
  check_forward(lin, 1, rng, "after pack_parameters");

  // An in-place update (what an optimizer step does), then the documented re-pack.
  float* w = lin.weight.data();
  for (int64_t i = 0; i < lin.weight.numel(); ++i) w[i] = -0.5f * w[i] + 0.25f;
  lin.parameters_changed();
  check_forward(lin, 1, rng, "after an in-place update and parameters_changed");
  check_forward(lin, 5, rng, "after an in-place update and parameters_changed");
}

}  // namespace
}  // namespace attn::testing
