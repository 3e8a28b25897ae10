// GPT model files (io/model_file): Hugging Face checkpoints with and without the
// "transformer." prefix, the save/load round trip, and a corpus of broken configs and
// weight files, each derived from the fixture checkpoint (scripts/fixtures/gpt.py) by one
// change, which must get an error naming the problem.
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>

#include <nlohmann/json.hpp>

#include "io/model_file.hpp"
#include "io/safetensors.hpp"
#include "torch_fixtures.hpp"

namespace attn::testing {
namespace {

using nlohmann::json;

std::vector<uint8_t> read_bytes(const std::string& name) {
  std::ifstream f(fixture_path(name), std::ios::binary);
  EXPECT_TRUE(f.good()) << fixture_path(name);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
std::string config_text() {
  const std::vector<uint8_t> b = read_bytes("gpt_config.json");
  return std::string(b.begin(), b.end());
}

std::unique_ptr<Gpt> load(const std::string& config, const std::vector<uint8_t>& bytes) {
  return io::load_gpt(config, bytes.data(), bytes.size());
}

// Every parameter of two models bit for bit.
::testing::AssertionResult same_weights(Gpt& a, Gpt& b) {
  const StateDict sa = a.state_dict(), sb = b.state_dict();
  if (sa.size() != sb.size()) return ::testing::AssertionFailure() << sa.size() << " vs " << sb.size() << " tensors";
  for (const auto& [name, t] : sa) {
    const Tensor& u = sb.at(name);
    if (t.shape() != u.shape()) return ::testing::AssertionFailure() << name << ": shapes differ";
    if (std::memcmp(t.data(), u.data(), static_cast<size_t>(t.numel()) * sizeof(float)) != 0)
      return ::testing::AssertionFailure() << name << ": values differ";
  }
  return ::testing::AssertionSuccess();
}

TEST(GptModelFile, HuggingFaceLayoutWithAndWithoutPrefixLoadTheSameWeights) {
  const std::vector<uint8_t> hf = read_bytes("gpt_hf.safetensors"), bare = read_bytes("gpt_hf_bare.safetensors");
  auto a = load(config_text(), hf);
  auto b = load(config_text(), bare);
  EXPECT_TRUE(same_weights(*a, *b));
  // Conv1D (in, out) became Linear (out, in): the file's c_attn [32, 96] is the model's [96, 32], transposed.
  const io::SafetensorsFile f = io::parse_safetensors(bare.data(), bare.size());
  const Tensor conv = f.tensors.at("h.0.attn.c_attn.weight");
  const Tensor lin = a->state_dict().at("h.0.attn.c_attn.weight");
  ASSERT_EQ(conv.shape(), (Shape{32, 96}));
  ASSERT_EQ(lin.shape(), (Shape{96, 32}));
  for (int64_t i = 0; i < 32; ++i)
    for (int64_t o = 0; o < 96; ++o) ASSERT_EQ(lin.at({o, i}), conv.at({i, o}));
  EXPECT_FALSE(a->is_training());
}

TEST(GptModelFile, SaveAndLoadRoundTripIsBitExact) {
  auto a = load(config_text(), read_bytes("gpt_hf.safetensors"));
  const io::SavedGpt saved = io::save_gpt(*a);
  auto b = io::load_gpt(saved.config_json, saved.weights.data(), saved.weights.size());
  EXPECT_TRUE(same_weights(*a, *b));
  const GptConfig &ca = a->config(), &cb = b->config();
  EXPECT_EQ(std::tie(ca.vocab_size, ca.n_positions, ca.n_embd, ca.n_layer, ca.n_head, ca.n_inner, ca.activation,
                     ca.tie_word_embeddings),
            std::tie(cb.vocab_size, cb.n_positions, cb.n_embd, cb.n_layer, cb.n_head, cb.n_inner, cb.activation,
                     cb.tie_word_embeddings));
  EXPECT_EQ(ca.layer_norm_epsilon, cb.layer_norm_epsilon);
  // Same bytes as the fixture's bare HF file's tensors: the layout written is HF's.
  const io::SafetensorsFile mine = io::parse_safetensors(saved.weights.data(), saved.weights.size());
  const std::vector<uint8_t> bare = read_bytes("gpt_hf_bare.safetensors");
  const io::SafetensorsFile hf = io::parse_safetensors(bare.data(), bare.size());
  ASSERT_EQ(mine.tensors.size(), hf.tensors.size());
  for (const auto& [name, t] : hf.tensors) {
    ASSERT_TRUE(mine.tensors.count(name)) << name;
    EXPECT_TRUE(all_close(mine.tensors.at(name), t, 0, 0)) << name;
  }
  const std::vector<int32_t> ids = {3, 1, 4, 1, 5};
  const Tensor la = a->forward(ids), lb = b->forward(ids);
  EXPECT_EQ(std::memcmp(la.data(), lb.data(), static_cast<size_t>(la.numel()) * sizeof(float)), 0);
}

TEST(GptModelFile, OurConfigFormatAndHfAliases) {
  const GptConfig c = io::parse_gpt_config(
      R"({"model_type": "gpt", "vocab_size": 10, "n_positions": 8, "n_embd": 12, "n_layer": 1, "n_head": 3,
          "n_inner": 20, "layer_norm_epsilon": 1e-6, "activation": "gelu", "tie_word_embeddings": false})");
  EXPECT_EQ(c.mlp_width(), 20);
  EXPECT_EQ(c.activation, "gelu");
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.layer_norm_epsilon, 1e-6f);
  // HF: n_ctx stands in for n_positions; n_inner null is 4 * n_embd.
  const GptConfig h = io::parse_gpt_config(
      R"({"model_type": "gpt2", "vocab_size": 10, "n_ctx": 8, "n_embd": 12, "n_layer": 1, "n_head": 3,
          "n_inner": null, "resid_pdrop": 0.1, "task_specific_params": {"text-generation": {"max_length": 50}}})");
  EXPECT_EQ(h.n_positions, 8);
  EXPECT_EQ(h.mlp_width(), 48);
  EXPECT_EQ(h.activation, "gelu_new");
  // gpt_config_json reads back to the same config.
  const GptConfig r = io::parse_gpt_config(io::gpt_config_json(c));
  EXPECT_EQ(std::tie(r.vocab_size, r.n_positions, r.n_embd, r.n_layer, r.n_head, r.n_inner, r.activation),
            std::tie(c.vocab_size, c.n_positions, c.n_embd, c.n_layer, c.n_head, c.n_inner, c.activation));
  EXPECT_EQ(r.layer_norm_epsilon, c.layer_norm_epsilon);
  EXPECT_EQ(r.tie_word_embeddings, c.tie_word_embeddings);
}

// ------------------------------------------------------------------ broken configs

std::string edited_config(const std::function<void(json&)>& edit) {
  json j = json::parse(config_text());
  edit(j);
  return j.dump();
}

TEST(GptModelFile, BrokenConfigsGetClearErrors) {
  const std::vector<uint8_t> w = read_bytes("gpt_hf.safetensors");
  struct Case {
    const char* what;
    std::string config;
    std::vector<const char*> fragments;
  };
  const std::vector<Case> cases = {
      {"not JSON", "{\"model_type\": \"gpt2\",", {"not valid JSON"}},
      {"not an object", "[1, 2]", {"must be a JSON object, got an array"}},
      {"deep nesting", std::string(100, '[') + std::string(100, ']'), {"nested deeper than 8"}},
      {"no model_type", edited_config([](json& j) { j.erase("model_type"); }), {"model_type is missing"}},
      {"unknown model_type", edited_config([](json& j) { j["model_type"] = "bert"; }),
       {"model_type \"bert\" is not supported"}},
      {"model_type not a string", edited_config([](json& j) { j["model_type"] = 2; }),
       {"model_type must be a string, got an integer"}},
      {"missing size", edited_config([](json& j) { j.erase("n_layer"); }), {"n_layer is missing"}},
      {"size as a string", edited_config([](json& j) { j["n_embd"] = "32"; }),
       {"n_embd must be an integer, got a string"}},
      {"size not whole", edited_config([](json& j) { j["n_layer"] = 2.5; }),
       {"n_layer must be an integer, got a non-integer number"}},
      {"bool as a string", edited_config([](json& j) { j["tie_word_embeddings"] = "yes"; }),
       {"tie_word_embeddings must be a boolean, got a string"}},
      {"zero size", edited_config([](json& j) { j["n_head"] = 0; }), {"n_head must be positive, got 0"}},
      {"negative size", edited_config([](json& j) { j["vocab_size"] = -61; }),
       {"vocab_size must be positive, got -61"}},
      {"n_embd % n_head", edited_config([](json& j) { j["n_head"] = 5; }),
       {"n_embd (32) must be divisible by n_head (5)"}},
      {"beyond int64", edited_config([](json& j) { j["n_embd"] = uint64_t{1} << 63; }), {"n_embd is too large"}},
      // 2^20 x 2^12 floats: 16 GiB in one tensor, a product past 32 bits (wasm32's size_t).
      {"overflowing 32 bits", edited_config([](json& j) {
         j["vocab_size"] = 1 << 20;
         j["n_embd"] = 1 << 12;
       }),
       {"too large"}},
      {"huge block", edited_config([](json& j) { j["n_positions"] = int64_t{1} << 40; }),
       {"n_positions", "too large"}},
      {"unknown activation", edited_config([](json& j) { j["activation_function"] = "swish"; }),
       {"\"swish\" is not supported"}},
      {"unsupported attention", edited_config([](json& j) { j["scale_attn_by_inverse_layer_idx"] = true; }),
       {"scale_attn_by_inverse_layer_idx = true is not supported"}},
      {"unknown key in ours", R"({"model_type": "gpt", "vocab_size": 61, "n_positions": 24, "n_embd": 32,
                                  "n_layer": 2, "n_head": 4, "n_heads": 4})",
       {"unknown key \"n_heads\""}},
  };
  for (const Case& c : cases) {
    auto fn = [&] { load(c.config, w); };
    switch (c.fragments.size()) {
      case 1: EXPECT_TRUE(throws_error(fn, {c.fragments[0]}, "gpt config: ", 300)) << c.what; break;
      default: EXPECT_TRUE(throws_error(fn, {c.fragments[0], c.fragments[1]}, "gpt config: ", 300)) << c.what;
    }
  }
}

// ------------------------------------------------------------------ broken weight files

io::SafetensorsFile fixture_file() {
  const std::vector<uint8_t> w = read_bytes("gpt_hf.safetensors");
  return io::parse_safetensors(w.data(), w.size());
}

std::vector<uint8_t> edited_weights(const std::function<void(StateDict&)>& edit) {
  io::SafetensorsFile f = fixture_file();
  edit(f.tensors);
  return io::save_safetensors(f.tensors);
}

TEST(GptModelFile, BrokenWeightFilesGetClearErrors) {
  const std::string cfg = config_text();
  std::vector<uint8_t> truncated = read_bytes("gpt_hf.safetensors");
  truncated.resize(truncated.size() - 100);
  EXPECT_TRUE(throws_error([&] { load(cfg, truncated); }, {}, "safetensors: ")) << "truncated";
  std::vector<uint8_t> tiny(64, 0);
  EXPECT_TRUE(throws_error([&] { load(cfg, tiny); }, {"parameters but the weights file has only 64 bytes"},
                           "load_gpt: "))
      << "a small file cannot make us build a large model";

  struct Case {
    const char* what;
    std::function<void(StateDict&)> edit;
    std::vector<const char*> fragments;
  };
  const std::vector<Case> cases = {
      {"missing tensor", [](StateDict& s) { s.erase("transformer.h.1.mlp.c_fc.bias"); },
       {"tensor 'h.1.mlp.c_fc.bias' (shape [128]) is missing"}},
      {"extra tensor", [](StateDict& s) { s["transformer.h.2.ln_1.weight"] = Tensor::zeros({32}); },
       {"unexpected tensor 'transformer.h.2.ln_1.weight'"}},
      {"misshapen tensor", [](StateDict& s) { s["transformer.h.0.attn.c_attn.weight"] = Tensor::zeros({32, 95}); },
       {"'transformer.h.0.attn.c_attn.weight' has shape [32, 95] but the config needs [32, 96]"}},
      {"torch layout instead of Conv1D",
       [](StateDict& s) { s["transformer.h.0.mlp.c_fc.weight"] = Tensor::zeros({128, 32}); },
       {"has shape [128, 32] but the config needs [32, 128] (HF Conv1D: (in, out))"}},
      {"NaN weight",
       [](StateDict& s) {
         Tensor t = s["transformer.ln_f.bias"].clone();
         t.data()[3] = NAN;
         s["transformer.ln_f.bias"] = t;
       },
       {"'ln_f.bias' contains NaN"}},
      {"untied head in a tied config",
       [](StateDict& s) {
         Tensor t = s["lm_head.weight"].clone();
         t.data()[0] += 1.0f;
         s["lm_head.weight"] = t;
       },
       {"'lm_head.weight' differs from wte.weight", "tie_word_embeddings"}},
      {"not a causal mask",
       [](StateDict& s) {
         Tensor t = s["transformer.h.1.attn.bias"].clone();
         t.data()[1] = 1.0f;  // [0, 0, 0, 1]: the first query would see the second key
         s["transformer.h.1.attn.bias"] = t;
       },
       {"'transformer.h.1.attn.bias' is not the causal mask", "[0, 0, 0, 1]"}},
      {"mask of the wrong size", [](StateDict& s) { s["transformer.h.0.attn.bias"] = Tensor::zeros({1, 1, 8, 8}); },
       {"[1, 1, 8, 8] but the config needs [1, 1, 24, 24]"}},
      {"prefixed and bare twice",
       [](StateDict& s) { s["wpe.weight"] = s["transformer.wpe.weight"]; },
       {"'wpe.weight' appears both"}},
  };
  for (const Case& c : cases) {
    const std::vector<uint8_t> w = edited_weights(c.edit);
    auto fn = [&] { load(cfg, w); };
    if (c.fragments.size() == 1)
      EXPECT_TRUE(throws_error(fn, {c.fragments[0]}, "load_gpt: ", 300)) << c.what;
    else
      EXPECT_TRUE(throws_error(fn, {c.fragments[0], c.fragments[1]}, "load_gpt: ", 300)) << c.what;
  }
}

}  // namespace
}  // namespace attn::testing
