// Model files (io/model_loader.hpp): config + safetensors round trips, and a corpus of
// broken files, each of which must get an Error naming the problem before anything big
// is allocated.
#include <cmath>
#include <cstring>

#include "core/size.hpp"
#include "io/model_loader.hpp"
#include "io/safetensors.hpp"
#include "models/gpt.hpp"
#include "models/se_cnn.hpp"
#include "models/seq2seq_rnn.hpp"
#include "testing.hpp"

namespace attn {
namespace {

using testing::throws_error;

const char* kSeCnnConfig = R"({"model_type": "se-cnn", "in_channels": 1, "num_classes": 3, "stem_channels": 4,
  "block_channels": [4, 8], "reduction": 2, "labels": ["a", "b", "c"], "input": {"height": 8, "width": 8}})";

SECNNConfig se_cnn_config() {
  SECNNConfig c;
  c.in_channels = 1;
  c.num_classes = 3;
  c.stem_channels = 4;
  c.block_channels = {4, 8};
  c.reduction = 2;
  c.seed = 11;
  return c;
}

// A trained-looking SE-CNN (its BatchNorm statistics moved off their init) and its file.
std::vector<uint8_t> se_cnn_file(SECNN& m) {
  Rng rng(5);
  for (auto& [name, t] : m.named_buffers())
    if (name.find("running_var") != std::string::npos) t->copy_(rand_uniform(t->shape(), rng, 0.5f, 2.0f));
  return io::save_weights(m);
}

io::LoadedModel load(const std::string& config, const std::vector<uint8_t>& bytes) {
  return io::load_model(config, bytes.data(), bytes.size());
}

TEST(ModelLoader, SeCnnRoundTripGivesTheSameLogits) {
  SECNN m(se_cnn_config());
  const std::vector<uint8_t> bytes = se_cnn_file(m);
  io::LoadedModel loaded = load(kSeCnnConfig, bytes);
  EXPECT_EQ(loaded.model_type, "se-cnn");
  auto* got = dynamic_cast<SECNN*>(loaded.model.get());
  ASSERT_NE(got, nullptr);
  EXPECT_FALSE(got->is_training());
  Rng rng(2);
  const Tensor x = randn({2, 1, 8, 8}, rng);
  EXPECT_EQ(got->forward(x).to_vector(), m.forward(x).to_vector());
  // Saving the loaded model gives the same bytes back.
  EXPECT_EQ(io::save_weights(*got), bytes);
  // The parameters live in one allocation.
  EXPECT_EQ(got->parameter_layout().slots().size(), got->named_parameters().size());
}

TEST(ModelLoader, Seq2SeqWithTokenizersInTheConfig) {
  Seq2SeqConfig c;
  c.src_vocab = 6;
  c.tgt_vocab = 7;
  c.embed_dim = 5;
  c.hidden_size = 6;
  c.rule = Seq2SeqRule::general;
  c.cell = nn::RnnCell::lstm;
  Seq2SeqRNN m(c);
  const std::vector<uint8_t> bytes = io::save_weights(m);
  const std::string config = R"({"model_type": "seq2seq-rnn", "src_vocab": 6, "tgt_vocab": 7, "embed_dim": 5,
    "hidden_size": 6, "cell": "lstm", "rule": "general", "bos_id": 1, "eos_id": 2,
    "src_tokenizer": {"type": "char", "vocab": ["<pad>", "a", "b", "c", "d", "<unk>"], "unk": "<unk>"},
    "tgt_tokenizer": {"type": "word", "vocab": ["<pad>", "<s>", "</s>", "x", "y", "z", "<unk>"], "unk": "<unk>"}})";
  io::LoadedModel loaded = load(config, bytes);
  ASSERT_TRUE(loaded.tokenizer && loaded.tgt_tokenizer);
  EXPECT_EQ(loaded.tokenizer->encode("abz"), (std::vector<int32_t>{1, 2, 5}));
  EXPECT_EQ(loaded.tgt_tokenizer->decode({3, 4}), "x y");
  auto* got = dynamic_cast<Seq2SeqRNN*>(loaded.model.get());
  ASSERT_NE(got, nullptr);
  const Tensor src = Tensor::from_vector({1, 2, 3}, {1, 3}), tgt = Tensor::from_vector({1, 3}, {1, 2});
  EXPECT_EQ(got->forward(src, tgt).to_vector(), m.forward(src, tgt).to_vector());
}

TEST(ModelLoader, BrokenConfigsNameTheProblem) {
  SECNN m(se_cnn_config());
  const std::vector<uint8_t> bytes = se_cnn_file(m);
  auto config_error = [&](const std::string& config, std::initializer_list<const char*> words) {
    return throws_error([&] { load(config, bytes); }, words);
  };
  EXPECT_TRUE(config_error("", {"loadModel: the config is not valid JSON"}));
  EXPECT_TRUE(config_error("{\"model_type\": \"se-cnn\"", {"not valid JSON"}));
  EXPECT_TRUE(config_error("[1, 2]", {"must be a JSON object, got an array"}));
  // Deep nesting is refused by a byte scan before the (recursive) parser sees it.
  EXPECT_TRUE(config_error(std::string(100000, '[') + std::string(100000, ']'), {"nests JSON deeper than 8 levels (at byte 8)"}));
  EXPECT_TRUE(config_error(R"({"model_type": "se-cnn", "name": "[[[[[[[[[[[[", "x": {"y": [[[[[[[1]]]]]]]}})",
                           {"nests JSON deeper than 8 levels"}));
  EXPECT_TRUE(config_error("{}", {"config.model_type is missing"}));
  EXPECT_TRUE(config_error(R"({"model_type": "llama"})", {"config.model_type must be one of", "'llama'"}));
  EXPECT_TRUE(config_error(R"({"model_type": 3})", {"config.model_type must be a string, got a number"}));
  std::string c = kSeCnnConfig;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = c;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  EXPECT_TRUE(config_error(with("\"stem_channels\": 4", "\"stem_chanels\": 4"), {"config.stem_channels is missing"}));
  EXPECT_TRUE(config_error(with("\"reduction\": 2", "\"reduction\": 2, \"dropout\": 0.1"), {"unknown key 'dropout'"}));
  EXPECT_TRUE(config_error(with("\"stem_channels\": 4", "\"stem_channels\": 4.5"), {"config.stem_channels must be an integer, got 4.5"}));
  EXPECT_TRUE(config_error(with("\"stem_channels\": 4", "\"stem_channels\": \"4\""), {"stem_channels must be an integer, got a string"}));
  EXPECT_TRUE(config_error(with("\"stem_channels\": 4", "\"stem_channels\": -4"), {"stem_channels must be in [1, 4096], got -4"}));
  EXPECT_TRUE(config_error(with("\"stem_channels\": 4", "\"stem_channels\": 1e300"), {"stem_channels must be an integer"}));
  EXPECT_TRUE(config_error(with("[4, 8]", "[]"), {"config.block_channels must be an array of 1 to 64 integers"}));
  EXPECT_TRUE(config_error(with("[\"a\", \"b\", \"c\"]", "[\"a\"]"), {"config.labels must be an array of num_classes (3)"}));
  // Sizes each within range whose model would be gigabytes: refused by the weights file's size,
  // after a bounded allocation (4 x the file + 16 MiB), not after gigabytes.
  const std::string huge = with("[4, 8]", "[2048, 2048, 2048, 2048, 2048, 2048, 2048, 2048]");  // each conv < 256 MiB
  EXPECT_TRUE(config_error(huge, {"loadModel: the config describes a model larger than its weights file"}));
}

TEST(ModelLoader, BrokenWeightFilesNameTheTensor) {
  SECNN m(se_cnn_config());
  const std::vector<uint8_t> good = se_cnn_file(m);
  StateDict sd;
  for (auto& [k, t] : m.state_dict()) sd[k] = t.clone();
  auto file_error = [&](const StateDict& dict, std::initializer_list<const char*> words) {
    const std::vector<uint8_t> bytes = io::save_safetensors(dict);
    return throws_error([&] { load(kSeCnnConfig, bytes); }, words);
  };
  StateDict missing = sd;
  missing.erase("blocks.1.se.fc.2.weight");
  EXPECT_TRUE(file_error(missing, {"missing key 'blocks.1.se.fc.2.weight'", "[8, 4]"}));
  StateDict extra = sd;
  extra["blocks.2.conv1.weight"] = Tensor::zeros({1});
  EXPECT_TRUE(file_error(extra, {"unexpected key 'blocks.2.conv1.weight'"}));
  StateDict misshapen = sd;
  misshapen["fc.weight"] = Tensor::zeros({3, 7});
  EXPECT_TRUE(file_error(misshapen, {"'fc.weight' has shape [3, 7]", "expects [3, 8]"}));
  StateDict nan = sd;
  nan["conv1.weight"].data()[3] = std::nanf("");
  EXPECT_TRUE(file_error(nan, {"'conv1.weight' contains NaN"}));
  // Truncated and garbage bytes.
  std::vector<uint8_t> cut(good.begin(), good.begin() + good.size() / 2);
  EXPECT_TRUE(throws_error([&] { load(kSeCnnConfig, cut); }, {"safetensors"}));
  EXPECT_TRUE(throws_error([&] { load(kSeCnnConfig, {}); }, {"safetensors"}));
  // A tokenizer spec of the wrong kind.
  const std::string bad_tok = std::string(kSeCnnConfig).insert(1, R"("tokenizer": ["char"], )");
  EXPECT_TRUE(throws_error([&] { load(bad_tok, good); }, {"a tokenizer spec in the config must be an object"}));
}

TEST(AllocationCap, CountsEveryStorageAndNests) {
  {
    AllocationCap cap(1000, "test cap");
    Tensor a = Tensor::empty({100});  // 400 bytes
    EXPECT_EQ(cap.used(), 400u);
    {
      AllocationCap inner(100, "inner cap");
      EXPECT_TRUE(throws_error([] { Tensor::empty({26}); }, {"inner cap: needs more than 100 bytes"}));
    }
    Tensor b = Tensor::empty({150});  // 600 more: exactly the cap
    EXPECT_TRUE(throws_error([] { Tensor::empty({1}); }, {"test cap: needs more than 1000 bytes", "1000 bytes allocated"}));
  }
  Tensor after = Tensor::empty({1000});  // no cap outside the scope
  EXPECT_EQ(after.numel(), 1000);
}

}  // namespace
}  // namespace attn

namespace attn {
namespace {
// A loaded model's forward pass allocates nothing: under a zero AllocationCap every tensor
// allocation would throw.
TEST(ModelLoader, GptForwardAndDecodeAllocateNothing) {
  GptConfig c;
  c.vocab_size = 50;
  c.n_positions = 16;
  c.n_embd = 32;
  c.n_layer = 2;
  c.n_head = 4;
  Gpt g(c, 3);
  g.pack_parameters();
  const std::vector<int32_t> prompt{1, 2, 3, 4, 5};
  g.forward(prompt.data(), 5, 0);  // warm-up: the GEMM's thread-local panels, if any
  AllocationCap none(0, "Gpt.forward must not allocate");
  const float* logits = g.forward(prompt.data(), 5, 0);
  const int32_t next = 7;
  const float* step = g.forward(&next, 1, 5);
  EXPECT_EQ(none.used(), 0u);
  EXPECT_TRUE(std::isfinite(logits[0]) && std::isfinite(step[0]));
  // The cap is live: a capture sink's first call allocates its maps, and is refused here.
  AttentionCapture capture;
  EXPECT_TRUE(testing::throws_error([&] { g.forward(prompt.data(), 5, 0, &capture); }, {"Gpt.forward must not allocate"}));
}
}  // namespace
}  // namespace attn
