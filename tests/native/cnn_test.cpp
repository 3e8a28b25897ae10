// The convolution stack (src/nn/conv.*) and the SE-CNN (src/models/se_cnn.*) against
// PyTorch: torch.nn.Conv2d / BatchNorm2d / MaxPool2d / AvgPool2d / AdaptiveAvgPool2d and
// the fixture script's SECNN twin (tests/fixtures/rnn_cnn.safetensors).
#include <cstdio>

#include "models/se_cnn.hpp"
#include "nn/conv.hpp"
#include "torch_fixtures.hpp"

namespace attn::testing {
namespace {

// Conv outputs are sums of up to C_in*kH*kW products; the worst case measured here is a
// few 1e-7. 1e-5 (kTorchAtol) would also pass; 5e-6 keeps a margin while catching any
// indexing mistake, which moves outputs by O(0.1).
constexpr float kCnnAtol = 5e-6f;
constexpr float kCnnRtol = 1e-5f;
const char* kFile = "rnn_cnn.safetensors";

::testing::AssertionResult matches(const Tensor& actual, const Tensor& expected, const std::string& what) {
  if (actual.shape() == expected.shape()) {
    const std::vector<float> a = actual.to_vector(), e = expected.to_vector();
    const Closeness c = compare(a.data(), e.data(), a.size(), kCnnAtol, kCnnRtol);
    std::printf("  %-36s max abs err %.2e (atol %.0e)\n", what.c_str(), c.max_abs, double(kCnnAtol));
  }
  return all_close(actual, expected, kCnnAtol, kCnnRtol);
}

nn::Size2 size2(const nlohmann::json& j) { return {j[0].get<int64_t>(), j[1].get<int64_t>()}; }

std::vector<std::string> param_keys(Module& m) {
  std::vector<std::string> k;
  for (auto& [name, t] : m.named_parameters()) k.push_back(name);
  return k;
}

// state_dict() is a sorted map; torch's state_dict order is checked through
// named_parameters(), and the key set here.
std::vector<std::string> sorted_state_keys(Module& m) {
  std::vector<std::string> k;
  for (auto& [name, t] : m.state_dict()) k.push_back(name);
  return k;
}
std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(ConvVsTorch, Conv2d) {
  for (const TorchCase& c : torch_cases("conv2d", kFile)) {
    SCOPED_TRACE(c.name);
    const auto& m = c.meta;
    nn::Conv2d conv(m["in_channels"], m["out_channels"], size2(m["kernel_size"]), size2(m["stride"]),
                    size2(m["padding"]), size2(m["dilation"]), m["groups"], m["bias"]);
    EXPECT_EQ(param_keys(conv), m["keys"].get<std::vector<std::string>>());
    conv.load_state_dict(c.params());
    EXPECT_TRUE(matches(conv.forward(c.get("x")), c.get("out"), c.name));
  }
}

TEST(ConvVsTorch, BatchNorm2dEvalAndTrainingSteps) {
  for (const TorchCase& c : torch_cases("batchnorm2d", kFile)) {
    SCOPED_TRACE(c.name);
    const auto& m = c.meta;
    std::optional<float> momentum = 0.1f;
    if (m.contains("momentum")) momentum = m["momentum"].is_null() ? std::nullopt : std::optional<float>(m["momentum"]);
    nn::BatchNorm2d bn(m["num_features"], 1e-5f, momentum, m.value("affine", true), m.value("track_running_stats", true));
    EXPECT_EQ(param_keys(bn), m["keys"].get<std::vector<std::string>>());
    EXPECT_EQ(sorted_state_keys(bn), sorted(m["state_keys"].get<std::vector<std::string>>()));
    bn.load_state_dict(c.params());
    const int steps = m["steps"];
    bn.train(steps > 0);
    for (int i = 0; i < std::max(steps, 1); ++i) {
      const std::string k = std::to_string(i);
      EXPECT_TRUE(matches(bn.forward(c.get("x" + k)), c.get("out" + k), c.name + ".out" + k));
    }
    for (auto& [key, t] : bn.state_dict()) EXPECT_TRUE(matches(t, c.get("after." + key), c.name + ".after." + key));
  }
}

TEST(ConvVsTorch, Pooling) {
  int n = 0;
  for (const TorchCase& c : torch_cases("pool", kFile)) {
    SCOPED_TRACE(c.name);
    const auto& m = c.meta;
    const std::string kind = m["pool"];
    std::optional<nn::Size2> stride;
    if (m.contains("stride")) stride = size2(m["stride"]);
    const nn::Size2 pad = m.contains("padding") ? size2(m["padding"]) : nn::Size2(0);
    Tensor y;
    if (kind == "max") {
      y = nn::MaxPool2d(size2(m["kernel_size"]), stride, pad,
                        m.contains("dilation") ? size2(m["dilation"]) : nn::Size2(1), m.value("ceil_mode", false))
              .forward(c.get("x"));
    } else if (kind == "avg") {
      std::optional<int64_t> divisor;
      if (m.contains("divisor_override")) divisor = m["divisor_override"].get<int64_t>();
      y = nn::AvgPool2d(size2(m["kernel_size"]), stride, pad, m.value("ceil_mode", false),
                        m.value("count_include_pad", true), divisor)
              .forward(c.get("x"));
    } else {
      y = nn::AdaptiveAvgPool2d(size2(m["output_size"])).forward(c.get("x"));
    }
    EXPECT_TRUE(matches(y, c.get("out"), c.name));
    ++n;
  }
  EXPECT_EQ(n, 9);
}

TEST(SECNNVsTorch, LogitsAndCapturedChannelWeights) {
  for (const TorchCase& c : torch_cases("se_cnn", kFile)) {
    SCOPED_TRACE(c.name);
    const auto& m = c.meta;
    SECNNConfig cfg;
    cfg.in_channels = m["in_channels"];
    cfg.num_classes = m["num_classes"];
    cfg.stem_channels = m["stem_channels"];
    cfg.block_channels = m["block_channels"].get<std::vector<int64_t>>();
    cfg.reduction = m["reduction"];
    SECNN net(cfg);
    EXPECT_EQ(param_keys(net), m["keys"].get<std::vector<std::string>>());
    EXPECT_EQ(sorted_state_keys(net), sorted(m["state_keys"].get<std::vector<std::string>>()));
    net.load_state_dict(c.params());
    net.eval();
    AttentionCapture cap;
    EXPECT_TRUE(matches(net.forward(c.get("x"), &cap), c.get("logits"), c.name + ".logits"));
    for (size_t i = 0; i < cfg.block_channels.size(); ++i) {
      const Tensor se = c.get("se" + std::to_string(i));  // (N, C)
      const Tensor got = cap.get(static_cast<int64_t>(i), AttentionKind::self);
      ASSERT_TRUE(got.defined());
      EXPECT_EQ(got.shape(), (Shape{se.size(0), 1, 1, se.size(1)}));
      EXPECT_TRUE(matches(got.reshape(se.shape()), se, c.name + ".se" + std::to_string(i)));
    }
    EXPECT_TRUE(all_close(net.forward(c.get("x")), c.get("logits"), kCnnAtol, kCnnRtol));  // no sink: same logits
  }
}

TEST(ConvErrors, SizesAndShapesAreChecked) {
  nn::Conv2d conv(3, 4, 3);
  Rng rng(2);
  EXPECT_TRUE(throws_error([&] { conv.forward(randn({1, 2, 5, 5}, rng)); }, {"input has 2 channels", "expects 3"},
                           "Conv2d: "));
  EXPECT_TRUE(throws_error([&] { conv.forward(randn({1, 3, 2, 5}, rng)); }, {"padded input size", "(2 x 5)", "(3 x 3)"},
                           "Conv2d: "));
  EXPECT_TRUE(throws_error([&] { conv.forward(randn({3, 5}, rng)); }, {"(N, C, H, W)", "[3, 5]"}, "Conv2d: "));
  EXPECT_TRUE(throws_error([] { nn::Conv2d(3, 4, 3, 1, 0, 1, 2); }, {"in_channels (3)", "groups (2)"}, "Conv2d: "));
  EXPECT_TRUE(throws_error([] { nn::Conv2d(3, 4, 3, 0); }, {"stride must be positive"}, "Conv2d: "));
  EXPECT_TRUE(throws_error([] { nn::Conv2d(3, 4, 3, 1, -1); }, {"padding must be non-negative"}, "Conv2d: "));
  EXPECT_TRUE(throws_error([&] { nn::Conv2d(1, 1, 3, 1, int64_t{1} << 62).forward(randn({1, 1, 4, 4}, rng)); },
                           {"too large"}, "Conv2d"));
  EXPECT_TRUE(throws_error([] { nn::MaxPool2d(2, std::nullopt, 2); }, {"at most half of kernel size"}, "MaxPool2d: "));
  EXPECT_TRUE(throws_error([&] { nn::MaxPool2d(4).forward(randn({1, 1, 3, 8}, rng)); },
                           {"input size (1x3x8)", "output size is too small"}, "MaxPool2d: "));
  EXPECT_TRUE(throws_error([] { nn::AvgPool2d(2, std::nullopt, 0, false, true, 0); }, {"divisor_override"},
                           "AvgPool2d: "));
  EXPECT_TRUE(throws_error([] { nn::AdaptiveAvgPool2d({0, 2}); }, {"output_size must be positive"},
                           "AdaptiveAvgPool2d: "));
  nn::BatchNorm2d bn(3);
  bn.train();
  EXPECT_TRUE(throws_error([&] { bn.forward(randn({1, 3, 1, 1}, rng)); }, {"more than 1 value per channel"},
                           "BatchNorm2d: "));
  EXPECT_TRUE(throws_error([&] { bn.forward(randn({3, 4, 4}, rng)); }, {"expected 4D input"}, "BatchNorm2d: "));
  EXPECT_TRUE(throws_error([] { SECNN(SECNNConfig{1, 10, 8, {8, 2}, 4}); }, {"reduction must be in [1, 2]"}, "SECNN: "));
  SECNN net;
  EXPECT_TRUE(throws_error([&] { net.forward(randn({1, 3, 28, 28}, rng)); }, {"input has 3 channels", "expects 1"}, "SECNN: "));
}

// BatchNorm's training step counts batches (torch's num_batches_tracked) and eval does not.
TEST(ConvBehaviour, BatchNormCountsTrainingBatchesOnly) {
  nn::BatchNorm2d bn(2);
  Rng rng(3);
  const Tensor x = randn({2, 2, 3, 3}, rng);
  bn.train();
  bn.forward(x);
  bn.forward(x);
  bn.eval();
  bn.forward(x);
  EXPECT_EQ(bn.num_batches_tracked.at({}), 2.0f);
}

}  // namespace
}  // namespace attn::testing
