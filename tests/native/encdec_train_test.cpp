// Teacher-forced training of the Transformer encoder-decoder (models/encoder_decoder_train.hpp)
// against PyTorch autograd on its torch twin (tests/fixtures/encdec_train.safetensors from
// scripts/fixtures/encdec_train.py): the loss, the logits and d loss / d every parameter, for
// sinusoidal and learned positions, ReLU and GELU, a padded source and ignored targets; a few
// finite differences; a training step allocates no tensor.
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "core/size.hpp"
#include "models/encoder_decoder_train.hpp"
#include "torch_fixtures.hpp"

namespace attn::testing {
namespace {

constexpr const char* kFile = "encdec_train.safetensors";
constexpr double kAtol = 2e-5, kRtol = 1e-4;

EncoderDecoderConfig config_of(const nlohmann::json& j) {
  EncoderDecoderConfig c;
  c.src_vocab = j["src_vocab"];
  c.tgt_vocab = j["tgt_vocab"];
  c.d_model = j["d_model"];
  c.nhead = j["nhead"];
  c.num_encoder_layers = j["num_encoder_layers"];
  c.num_decoder_layers = j["num_decoder_layers"];
  c.dim_feedforward = j["dim_feedforward"];
  c.activation = nn::activation_from_name(j["activation"], "test");
  c.max_len = j["max_len"];
  c.positions = j["positions"] == "learned" ? PositionEncoding::learned : PositionEncoding::sinusoidal;
  c.dropout = 0.0f;
  return c;
}

std::vector<int32_t> ints(const Tensor& t) {
  std::vector<int32_t> out;
  for (float v : t.to_vector()) out.push_back(static_cast<int32_t>(v));
  return out;
}

struct Case {
  std::vector<int32_t> src, tgt, targets;
  std::vector<uint8_t> pad;
  int64_t B, S, T;
};
Case case_of(const TorchCase& c) {
  Case k{ints(c.get("src")), ints(c.get("tgt")), ints(c.get("targets")), {}, c.get("src").size(0),
         c.get("src").size(1), c.get("tgt").size(1)};
  for (float v : c.get("src_kpm").to_vector()) k.pad.push_back(v != 0.0f);
  return k;
}

TEST(EncoderDecoderTrain, LossLogitsAndEveryGradientMatchTorchAutograd) {
  const auto cases = torch_cases("encdec_train", kFile);
  ASSERT_EQ(cases.size(), 2u);
  for (const TorchCase& c : cases) {
    EncoderDecoder model(config_of(c.meta["config"]));
    model.load_state_dict(c.params());
    const Case k = case_of(c);
    EncoderDecoderTrain t(model, k.B, k.S, k.T);
    t.zero_grad();
    const float loss = t.forward(k.src.data(), k.pad.data(), k.tgt.data(), k.targets.data());
    EXPECT_NEAR(loss, c.get("loss").to_vector()[0], 1e-5) << c.name;
    EXPECT_TRUE(all_close(t.logits(), c.get("logits").to_vector().data(), static_cast<size_t>(k.B * k.T * 11), kAtol,
                          kRtol))
        << c.name;
    t.backward();
    double worst = 0;
    size_t compared = 0;
    for (auto& [name, g] : t.named_gradients()) {
      ASSERT_TRUE(c.has("g." + name)) << c.name << ": torch has no gradient for " << name;
      const std::vector<float> want = c.get("g." + name).to_vector(), got = g->to_vector();
      worst = std::max(worst, compare(got.data(), want.data(), want.size(), kAtol, kRtol).max_abs);
      EXPECT_TRUE(all_close(got.data(), want.data(), want.size(), kAtol, kRtol)) << c.name << ": d " << name;
      ++compared;
    }
    std::printf("  %-16s loss %.6f; %zu gradients, max abs err %.2e (atol %.0e, rtol %.0e)\n", c.name.c_str(), loss,
                compared, worst, kAtol, kRtol);
    EXPECT_EQ(compared, c.meta["keys"].size());
  }
}

TEST(EncoderDecoderTrain, FiniteDifferencesAgreeAndAStepAllocatesNothing) {
  const TorchCase c = torch_cases("encdec_train", kFile).back();
  EncoderDecoder model(config_of(c.meta["config"]));
  model.load_state_dict(c.params());
  const Case k = case_of(c);
  EncoderDecoderTrain t(model, k.B, k.S, k.T);
  auto loss = [&] { return static_cast<double>(t.forward(k.src.data(), k.pad.data(), k.tgt.data(), k.targets.data())); };
  t.zero_grad();
  loss();
  t.backward();
  std::map<std::string, Tensor*> params;
  for (auto& [name, p] : model.named_parameters()) params[name] = p;
  int checked = 0;
  for (auto& [name, g] : t.named_gradients()) {
    if (name != "src_embedding.weight" && name != "src_position.weight" &&
        name.find("multihead_attn.in_proj_weight") == std::string::npos && name.find("encoder.norm") == std::string::npos)
      continue;
    for (int64_t i : {int64_t{16}, g->numel() / 2, g->numel() - 1}) {
      float* p = params[name]->data() + i;
      const float orig = *p, h = 1e-2f;
      *p = orig + h;
      model.notify_parameters_changed();
      const double up = loss();
      *p = orig - h;
      model.notify_parameters_changed();
      const double down = loss();
      *p = orig;
      model.notify_parameters_changed();
      const double fd = (up - down) / (2.0 * h), an = g->data()[i];
      EXPECT_NEAR(an, fd, 2e-3 + 2e-2 * std::abs(fd)) << name << "[" << i << "]";
      ++checked;
    }
  }
  std::printf("  %d finite differences agree with the analytic gradients\n", checked);
  EXPECT_GE(checked, 12);
  {
    AllocationCap cap(0, "an encoder-decoder training step");
    t.zero_grad();
    loss();
    t.backward();
  }
  std::vector<int32_t> bad = k.targets;
  bad[0] = 11;
  EXPECT_THROW(t.forward(k.src.data(), k.pad.data(), k.tgt.data(), bad.data()), Error);
}

}  // namespace
}  // namespace attn::testing
