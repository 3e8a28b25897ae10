// Training the encoder classifier (models/encoder_classifier_train.hpp) against PyTorch
// autograd on its torch twin (tests/fixtures/encoder_train.safetensors from
// scripts/fixtures/encoder_train.py): the loss, the logits and d loss / d every parameter,
// with and without padding and a segment embedding; a finite-difference check of a few
// gradients; a training step allocates no tensor.
#include <cmath>
#include <map>
#include <cstdio>
#include <string>
#include <vector>

#include "core/size.hpp"
#include "models/encoder_classifier_train.hpp"
#include "torch_fixtures.hpp"

namespace attn::testing {
namespace {

constexpr const char* kFile = "encoder_train.safetensors";
constexpr double kAtol = 2e-5, kRtol = 1e-4;

EncoderClassifierConfig config_of(const nlohmann::json& j) {
  EncoderClassifierConfig c;
  c.vocab_size = j["vocab_size"];
  c.max_position = j["max_position"];
  c.type_vocab_size = j["type_vocab_size"];
  c.pad_id = j["pad_id"];
  c.d_model = j["d_model"];
  c.nhead = j["nhead"];
  c.num_layers = j["num_layers"];
  c.dim_feedforward = j["dim_feedforward"];
  c.num_classes = j["num_classes"];
  c.layer_norm_eps = j["layer_norm_eps"];
  c.dropout = 0.0f;
  c.max_batch = 3;
  return c;
}

struct Batch {
  std::vector<int32_t> ids, labels;
  std::vector<uint8_t> padding;
  int64_t B = 0, T = 0;
};

Batch batch_of(const TorchCase& c) {
  Batch b;
  const Tensor ids = c.get("ids");
  b.B = ids.size(0);
  b.T = ids.size(1);
  for (float v : ids.to_vector()) b.ids.push_back(static_cast<int32_t>(v));
  for (float v : c.get("labels").to_vector()) b.labels.push_back(static_cast<int32_t>(v));
  if (c.has("kpm"))
    for (float v : c.get("kpm").to_vector()) b.padding.push_back(v != 0.0f);
  return b;
}

TEST(EncoderClassifierTrain, LossLogitsAndEveryGradientMatchTorchAutograd) {
  const auto cases = torch_cases("encoder_train", kFile);
  ASSERT_EQ(cases.size(), 2u);
  for (const TorchCase& c : cases) {
    EncoderClassifier model(config_of(c.meta["config"]));
    model.load_state_dict(c.params());
    model.pack_parameters();
    const Batch b = batch_of(c);
    EncoderClassifierTrain t(model, b.B, b.T);
    t.zero_grad();
    const float loss = t.forward(b.ids.data(), b.padding.empty() ? nullptr : b.padding.data(), b.labels.data());
    EXPECT_NEAR(loss, c.get("loss").to_vector()[0], 1e-5) << c.name;
    EXPECT_TRUE(all_close(t.logits(), c.get("logits").to_vector().data(), static_cast<size_t>(b.B * 3), kAtol, kRtol));
    t.backward();
    double worst = 0;
    size_t compared = 0;
    for (auto& [name, g] : t.named_gradients()) {
      ASSERT_TRUE(c.has("g." + name)) << c.name << ": torch has no gradient for " << name;
      const std::vector<float> want = c.get("g." + name).to_vector(), got = g->to_vector();
      const Closeness cl = compare(got.data(), want.data(), want.size(), kAtol, kRtol);
      worst = std::max(worst, cl.max_abs);
      EXPECT_TRUE(all_close(got.data(), want.data(), want.size(), kAtol, kRtol)) << c.name << ": d " << name;
      ++compared;
    }
    std::printf("  %-13s loss %.6f; %zu gradients, max abs err %.2e (atol %.0e, rtol %.0e)\n", c.name.c_str(), loss,
                compared, worst, kAtol, kRtol);
    EXPECT_EQ(compared, c.meta["keys"].size());
  }
}

TEST(EncoderClassifierTrain, FiniteDifferencesAgreeAndAStepAllocatesNothing) {
  const TorchCase c = torch_cases("encoder_train", kFile).front();
  EncoderClassifier model(config_of(c.meta["config"]));
  model.load_state_dict(c.params());
  model.pack_parameters();
  const Batch b = batch_of(c);
  EncoderClassifierTrain t(model, b.B, b.T);
  const uint8_t* pad = b.padding.data();
  t.zero_grad();
  t.forward(b.ids.data(), pad, b.labels.data());
  t.backward();
  std::map<std::string, Tensor*> params;
  for (auto& [name, p] : model.named_parameters()) params[name] = p;
  int checked = 0;
  for (auto& [name, g] : t.named_gradients()) {
    if (name.find("norm1.weight") == std::string::npos && name.find("in_proj_weight") == std::string::npos &&
        name != "embeddings.position_embeddings.weight" && name != "pooler.dense.bias")
      continue;
    for (int64_t i : {int64_t{0}, g->numel() / 2, g->numel() - 1}) {
      float* p = params[name]->data() + i;
      const float orig = *p, h = 1e-2f;
      *p = orig + h;
      model.notify_parameters_changed();
      const double up = t.forward(b.ids.data(), pad, b.labels.data());
      *p = orig - h;
      model.notify_parameters_changed();
      const double down = t.forward(b.ids.data(), pad, b.labels.data());
      *p = orig;
      model.notify_parameters_changed();
      const double fd = (up - down) / (2.0 * h), an = g->data()[i];
      EXPECT_NEAR(an, fd, 2e-3 + 2e-2 * std::abs(fd)) << name << "[" << i << "]";
      ++checked;
    }
  }
  std::printf("  %d finite differences agree with the analytic gradients\n", checked);
  EXPECT_GE(checked, 12);
  t.forward(b.ids.data(), pad, b.labels.data());
  {
    AllocationCap cap(0, "an encoder classifier training step");
    t.zero_grad();
    t.forward(b.ids.data(), pad, b.labels.data());
    t.backward();
  }
  // Bad input is refused by name before anything runs.
  std::vector<int32_t> bad = b.ids;
  bad[0] = 99;
  EXPECT_THROW(t.forward(bad.data(), pad, b.labels.data()), Error);
  std::vector<int32_t> labels = b.labels;
  labels[1] = 7;
  EXPECT_THROW(t.forward(b.ids.data(), pad, labels.data()), Error);
  EncoderClassifierConfig with_dropout = config_of(c.meta["config"]);
  with_dropout.dropout = 0.1f;
  EncoderClassifier dm(with_dropout);
  EXPECT_THROW(EncoderClassifierTrain(dm, 2, 4), Error);
}

}  // namespace
}  // namespace attn::testing
