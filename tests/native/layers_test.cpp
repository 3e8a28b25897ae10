// nn::Embedding, LayerNorm, RMSNorm, Dropout and FeedForward against PyTorch: the
// layer cases of tests/fixtures/transformer.safetensors (scripts/fixtures/transformer.py),
// plus init distributions, dropout statistics and error messages.
#include <cfloat>
#include <cmath>
#include <iostream>

#include "nn/layers.hpp"
#include "torch_fixtures.hpp"

namespace attn::testing {
namespace {

constexpr const char* kFile = "transformer.safetensors";
// One normalisation or lookup per element: float32 rounding only.
constexpr double kLayerAtol = 1e-5, kLayerRtol = 1e-5;
// Two GEMMs of 16 / 24 terms around an activation.
constexpr double kFeedForwardAtol = 2e-5, kFeedForwardRtol = 1e-5;

// Compares, prints the max error under `label` and fails past atol + rtol * |expected|.
void expect_close(const Tensor& actual, const Tensor& expected, double atol, double rtol, const std::string& label) {
  ASSERT_EQ(actual.shape(), expected.shape()) << label;
  const std::vector<float> a = actual.to_vector(), e = expected.to_vector();
  const Closeness c = compare(a.data(), e.data(), a.size(), atol, rtol);
  std::cout << "  " << label << ": max abs err " << c.max_abs << ", max rel err " << c.max_rel << " (atol " << atol
            << ", rtol " << rtol << ")\n";
  EXPECT_TRUE(all_close(a.data(), e.data(), a.size(), atol, rtol)) << label;
}

std::vector<std::string> key_list(Module& m) {
  std::vector<std::string> out;
  for (auto& [name, t] : m.state_dict()) out.push_back(name);
  return out;
}
// named_parameters in torch's order against the case's state_dict key list.
void expect_torch_keys(Module& m, const TorchCase& c) {
  std::vector<std::string> ours;
  for (auto& [name, t] : m.named_parameters()) ours.push_back(name);
  EXPECT_EQ(ours, c.meta["keys"].get<std::vector<std::string>>()) << c.name;
}

TEST(LayersVsTorch, LayerNorm) {
  for (const TorchCase& c : torch_cases("layernorm", kFile)) {
    nn::LayerNorm m(12, c.meta["eps"].get<float>(), c.meta["elementwise_affine"], c.meta["bias"]);
    expect_torch_keys(m, c);
    m.load_state_dict(c.params());
    expect_close(m.forward(c.get("x")), c.get("out"), kLayerAtol, kLayerRtol, c.name);
  }
}

TEST(LayersVsTorch, RMSNormWithTorchFinfoEpsByDefault) {
  for (const TorchCase& c : torch_cases("rmsnorm", kFile)) {
    std::optional<float> eps;
    if (c.meta.contains("eps")) eps = c.meta["eps"].get<float>();
    nn::RMSNorm m(12, eps);
    EXPECT_EQ(m.eps, eps ? *eps : FLT_EPSILON);
    expect_torch_keys(m, c);
    m.load_state_dict(c.params());
    expect_close(m.forward(c.get("x")), c.get("out"), kLayerAtol, kLayerRtol, c.name);
  }
}

TEST(LayersVsTorch, Embedding) {
  for (const TorchCase& c : torch_cases("embedding", kFile)) {
    Rng rng(5);
    nn::Embedding m(c.meta["num_embeddings"], c.meta["embedding_dim"], c.meta["padding_idx"].get<int64_t>(), rng);
    expect_torch_keys(m, c);
    m.load_state_dict(c.params());
    expect_close(m.forward(c.get("ids")), c.get("out"), 0.0, 0.0, c.name);
  }
}

TEST(LayersVsTorch, FeedForwardEveryActivation) {
  for (const TorchCase& c : torch_cases("feedforward", kFile)) {
    Rng rng(6);
    const nn::Activation act = nn::activation_from_name(c.meta["activation"], "test");
    nn::FeedForward m(c.meta["dim"], c.meta["hidden_dim"], act, true, rng);
    expect_torch_keys(m, c);
    m.load_state_dict(c.params());
    expect_close(m.forward(c.get("x")), c.get("out"), kFeedForwardAtol, kFeedForwardRtol, c.name);
  }
}

TEST(Layers, EmbeddingInitIsStandardNormalWithZeroPaddingRow) {
  Rng rng(7);
  nn::Embedding m(400, 50, -1, rng);  // padding_idx -1 is the last row, as in torch
  ASSERT_TRUE(m.padding_idx.has_value());
  EXPECT_EQ(*m.padding_idx, 399);
  const std::vector<float> w = m.weight.to_vector();
  double sum = 0, sq = 0;
  for (int64_t i = 0; i < 399 * 50; ++i) sum += w[i], sq += double(w[i]) * w[i];
  const double n = 399 * 50, mean = sum / n, var = sq / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.03);  // 4.5 standard errors of the mean (1 / sqrt(n) = 0.007)
  EXPECT_NEAR(var, 1.0, 0.05);
  for (int64_t j = 0; j < 50; ++j) EXPECT_EQ(w[399 * 50 + j], 0.0f);
}

TEST(Layers, NormInitAndFeedForwardKeys) {
  nn::LayerNorm ln(4);
  EXPECT_EQ(ln.weight.to_vector(), std::vector<float>(4, 1.0f));
  EXPECT_EQ(ln.bias.to_vector(), std::vector<float>(4, 0.0f));
  EXPECT_EQ(key_list(ln), (std::vector<std::string>{"bias", "weight"}));
  nn::LayerNorm plain(4, 1e-5f, false);
  EXPECT_EQ(plain.num_parameters(), 0);
  Rng rng(1);
  nn::FeedForward ff(8, 12, nn::Activation::swiglu, false, rng);
  EXPECT_EQ(key_list(ff), (std::vector<std::string>{"w1.weight", "w2.weight", "w3.weight"}));
  EXPECT_EQ(ff.w3->weight.shape(), (Shape{12, 8}));
  EXPECT_EQ(ff.w2.weight.shape(), (Shape{8, 12}));
}

TEST(Layers, DropoutIsIdentityInEvalAndScalesSurvivorsInTraining) {
  nn::Dropout d(0.25f, 3);
  Rng rng(2);
  const Tensor x = rand_uniform({4000}, rng, 1.0f, 2.0f);
  EXPECT_TRUE(d.forward(x).same_as(x));  // eval (the engine's default mode)
  d.train();
  const Tensor y = d.forward(x);
  const std::vector<float> xv = x.to_vector(), yv = y.to_vector();
  int zeros = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    if (yv[i] == 0.0f) {
      ++zeros;
    } else {
      EXPECT_FLOAT_EQ(yv[i], xv[i] / 0.75f);
    }
  }
  EXPECT_NEAR(zeros / 4000.0, 0.25, 0.03);  // 4.4 standard errors (sqrt(p(1-p)/n) = 0.0068)
  nn::Dropout again(0.25f, 3);
  again.train();
  EXPECT_EQ(again.forward(x).to_vector(), yv);  // seeded
  nn::Dropout all(1.0f);
  all.train();
  EXPECT_EQ(all.forward(x).to_vector(), std::vector<float>(4000, 0.0f));
}

TEST(Layers, BadInputsGetClearErrors) {
  Rng rng(1);
  nn::Embedding emb(11, 4, std::nullopt, rng);
  EXPECT_TRUE(throws_error([&] { emb.forward(Tensor::from_vector({1, 11}, {2})); },
                           {"Embedding", "id 11", "flat index 1", "[0, 11)"}));
  EXPECT_TRUE(throws_error([&] { emb.forward(Tensor::from_vector({-1}, {1})); }, {"Embedding", "id -1"}));
  EXPECT_TRUE(throws_error([&] { emb.forward(Tensor::from_vector({2.5f}, {1})); }, {"Embedding", "whole numbers"}));
  EXPECT_TRUE(throws_error([&] { nn::Embedding(4, 2, 4, rng); }, {"Embedding", "padding_idx"}));
  nn::LayerNorm ln(8);
  EXPECT_TRUE(throws_error([&] { ln.forward(Tensor::zeros({2, 6})); }, {"LayerNorm", "[2, 6]", "normalized_shape is 8"}));
  EXPECT_TRUE(throws_error([&] { ln.forward(Tensor::from_vector({0, 1, 2, 3, 4, 5, 6, NAN}, {8})); },
                           {"LayerNorm", "NaN"}));
  EXPECT_TRUE(throws_error([] { nn::RMSNorm(0); }, {"RMSNorm", "normalized_shape"}));
  EXPECT_TRUE(throws_error([] { nn::Dropout(1.5f); }, {"Dropout", "1.5"}));
  EXPECT_TRUE(throws_error([] { nn::activation_from_name("tanh", "FeedForward"); }, {"FeedForward", "\"tanh\""}));
  nn::FeedForward ff(8, 12, nn::Activation::gelu, true, rng);
  EXPECT_TRUE(throws_error([&] { ff.forward(Tensor::zeros({3, 7})); }, {"FeedForward", "dim is 8"}));
}

}  // namespace
}  // namespace attn::testing
