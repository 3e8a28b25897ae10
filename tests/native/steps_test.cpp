// The stages of an attention computation (attention/engine.hpp AttentionSteps, the page's
// attention lab) against PyTorch: raw scores, scaled, masked (-inf where a key is excluded),
// softmax, weights after hard selection, and output, for the dot, scaled-dot, general,
// additive and concat rules with bool, float and causal masks (tests/fixtures/steps.safetensors,
// scripts/fixtures/steps.py). Asking for the stages must not change the result.
#include <cmath>
#include <cstdio>
#include <string>

#include "attention/additive.hpp"
#include "attention/concat.hpp"
#include "attention/general.hpp"
#include "attention/scaled_dot.hpp"
#include "torch_fixtures.hpp"

namespace attn::testing {
namespace {

constexpr double kAtol = 1e-5, kRtol = 1e-5;
constexpr const char* kFile = "steps.safetensors";

// |a - b| <= atol + rtol |b| elementwise; equal infinities match. Prints the max error.
void expect_stage(const Tensor& actual, const TorchCase& c, const std::string& stage) {
  ASSERT_TRUE(actual.defined()) << c.name << "." << stage << " missing";
  const std::vector<float> a = actual.contiguous().to_vector(), b = c.get(stage).to_vector();
  ASSERT_EQ(a.size(), b.size()) << c.name << "." << stage;
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isinf(b[i])) {
      EXPECT_EQ(a[i], b[i]) << c.name << "." << stage << "[" << i << "]";
      continue;
    }
    const double err = std::abs(static_cast<double>(a[i]) - b[i]);
    worst = std::max(worst, err);
    EXPECT_LE(err, kAtol + kRtol * std::abs(b[i])) << c.name << "." << stage << "[" << i << "]";
  }
  std::printf("  %-20s %-8s max abs err %.2e\n", c.name.c_str(), stage.c_str(), worst);
}

SdpaOptions options_of(const TorchCase& c) {
  SdpaOptions o;
  const std::string sel = c.meta.value("selection", "soft");
  if (sel == "top_k") o.selection.kind = Selection::top_k;
  if (sel == "argmax") o.selection.kind = Selection::argmax;
  o.selection.k = c.meta.value("k", 1);
  o.is_causal = c.meta.value("causal", false);
  if (c.has("mask")) {
    const Tensor m = c.get("mask");
    if (c.meta.value("mask", "") == "bool") {  // stored as 0/1 floats
      Tensor keep = Tensor::empty(m.shape(), DType::u8);
      for (int64_t i = 0; i < m.numel(); ++i) keep.data_u8()[i] = m.data()[i] != 0.0f;
      o.attn_mask = keep;
    } else {
      o.attn_mask = m;
    }
  }
  return o;
}

AttentionResult run(const TorchCase& c, SdpaOptions o) {
  const std::string rule = c.meta["rule"];
  if (rule == "dot") o.scale = 1.0f;
  if (rule == "dot" || rule == "scaled") return scaled_dot_product_attention(c.get("q"), c.get("k"), c.get("v"), o);
  if (rule == "general") {
    GeneralAttention m(c.get("q").size(-1), c.get("k").size(-1));
    m.load_state_dict(c.params());
    return m.forward(c.get("q"), c.get("k"), c.get("v"), o);
  }
  if (rule == "additive") {
    AdditiveAttention m(c.get("k").size(-1), c.get("q").size(-1), c.meta["num_hiddens"].get<int64_t>());
    m.load_state_dict(c.params());
    return m.forward(c.get("q"), c.get("k"), c.get("v"), o);
  }
  const auto s = c.meta["sizes"];
  ConcatAttention m(s[0], s[1], s[2], s[3], s[4]);
  m.load_state_dict(c.params());
  return m.forward(c.get("q"), c.get("k"), c.get("v"), o);
}

TEST(AttentionSteps, EveryStageMatchesTorchForEveryRule) {
  const auto cases = torch_cases("steps", kFile);
  ASSERT_GE(cases.size(), 10u);
  for (const TorchCase& c : cases) {
    AttentionSteps steps;
    SdpaOptions o = options_of(c);
    o.steps = &steps;
    const AttentionResult r = run(c, o);
    for (const char* stage : {"scores", "scaled", "masked", "softmax"}) {
      const Tensor* t = std::string(stage) == "scores"   ? &steps.scores
                        : std::string(stage) == "scaled" ? &steps.scaled
                        : std::string(stage) == "masked" ? &steps.masked
                                                         : &steps.softmax;
      expect_stage(*t, c, stage);
    }
    expect_stage(r.weights, c, "weights");
    expect_stage(r.output, c, "out");
    // Without the stages the same call gives the same numbers.
    const AttentionResult plain = run(c, options_of(c));
    EXPECT_EQ(plain.weights.to_vector(), r.weights.to_vector()) << c.name;
    EXPECT_EQ(plain.output.to_vector(), r.output.to_vector()) << c.name;
  }
}

}  // namespace
}  // namespace attn::testing
