// The Transformer stack (nn/transformer.hpp) and the encoder models against PyTorch:
// torch.nn.TransformerEncoderLayer / DecoderLayer / Encoder / Decoder / Transformer and
// the models' torch twins in tests/fixtures/transformer.safetensors
// (scripts/fixtures/transformer.py): outputs, state_dict keys in torch's order, and every
// captured attention map against the weights torch's attention modules return.
#include <iostream>

#include "models/encoder_classifier.hpp"
#include "models/encoder_decoder.hpp"
#include "nn/transformer.hpp"
#include "torch_fixtures.hpp"

namespace attn::testing {
namespace {

constexpr const char* kFile = "transformer.safetensors";
// One or two layers: attention over <= 6 keys, GEMMs of 16 / 24 terms, LayerNorms. Outputs
// are O(1); float32 rounding through the layers stays a few ulps of that.
constexpr double kStackAtol = 2e-5, kStackRtol = 1e-4;
// Attention weights in [0, 1]: the softmax of scores computed in float32 by both sides.
constexpr double kWeightsAtol = 5e-6, kWeightsRtol = 1e-4;

void expect_close(const Tensor& actual, const Tensor& expected, double atol, double rtol, const std::string& label) {
  ASSERT_TRUE(actual.defined()) << label;
  ASSERT_EQ(actual.shape(), expected.shape()) << label;
  const std::vector<float> a = actual.to_vector(), e = expected.to_vector();
  const Closeness c = compare(a.data(), e.data(), a.size(), atol, rtol);
  std::cout << "  " << label << ": max abs err " << c.max_abs << ", max rel err " << c.max_rel << " (atol " << atol
            << ", rtol " << rtol << ")\n";
  EXPECT_TRUE(all_close(a.data(), e.data(), a.size(), atol, rtol)) << label;
}

void expect_torch_keys(Module& m, const TorchCase& c) {
  std::vector<std::string> ours;
  for (auto& [name, t] : m.named_parameters()) ours.push_back(name);
  EXPECT_EQ(ours, c.meta["keys"].get<std::vector<std::string>>()) << c.name;
}

// Every "attn.<layer>.<kind>" of the case against the capture, and nothing captured beyond them.
void expect_captured(const AttentionCapture& cap, const TorchCase& c, const std::string& prefix = "attn.") {
  size_t expected = 0;
  for (int64_t layer = 0; layer < 8; ++layer)
    for (AttentionKind kind : {AttentionKind::self, AttentionKind::cross}) {
      const std::string key = prefix + std::to_string(layer) + "." + attention_kind_name(kind);
      if (!c.has(key)) continue;
      ++expected;
      expect_close(cap.get(layer, kind), c.get(key), kWeightsAtol, kWeightsRtol, c.name + "." + key);
    }
  EXPECT_GT(expected, 0u) << c.name;
  EXPECT_EQ(cap.all().size(), expected) << c.name;
}

nn::TransformerLayerOptions layer_options(const nlohmann::json& ctor) {
  nn::TransformerLayerOptions o;
  o.d_model = ctor["d_model"];
  o.nhead = ctor["nhead"];
  o.dim_feedforward = ctor["dim_feedforward"];
  o.activation = nn::activation_from_name(ctor.value("activation", "relu"), "test");
  o.layer_norm_eps = ctor.value("layer_norm_eps", 1e-5f);
  o.batch_first = ctor.value("batch_first", false);
  o.norm_first = ctor.value("norm_first", false);
  o.bias = ctor.value("bias", true);
  return o;
}

Tensor opt(const TorchCase& c, const char* name) { return c.has(name) ? c.get(name) : Tensor(); }

TEST(TransformerVsTorch, EncoderLayer) {
  for (const TorchCase& c : torch_cases("encoder_layer", kFile)) {
    nn::TransformerEncoderLayer m(layer_options(c.meta["ctor"]));
    expect_torch_keys(m, c);
    m.load_state_dict(c.params());
    AttentionCapture cap;
    const Tensor out = m.forward(c.get("src"), opt(c, "src_mask"), opt(c, "kpm"), c.meta["is_causal"], &cap, 0);
    expect_close(out, c.get("out"), kStackAtol, kStackRtol, c.name);
    expect_captured(cap, c);
    // Without a sink: the same output.
    expect_close(m.forward(c.get("src"), opt(c, "src_mask"), opt(c, "kpm"), c.meta["is_causal"]), out, 0, 0,
                 c.name + " without capture");
  }
}

TEST(TransformerVsTorch, DecoderLayer) {
  for (const TorchCase& c : torch_cases("decoder_layer", kFile)) {
    nn::TransformerDecoderLayer m(layer_options(c.meta["ctor"]));
    expect_torch_keys(m, c);
    m.load_state_dict(c.params());
    AttentionCapture cap;
    const Tensor out = m.forward(c.get("tgt"), c.get("memory"), opt(c, "tgt_mask"), opt(c, "memory_mask"),
                                 opt(c, "tgt_kpm"), opt(c, "memory_kpm"), c.meta["tgt_is_causal"], false, &cap, 0);
    expect_close(out, c.get("out"), kStackAtol, kStackRtol, c.name);
    expect_captured(cap, c);
  }
}

TEST(TransformerVsTorch, EncoderAndDecoderStacks) {
  for (const TorchCase& c : torch_cases("encoder", kFile)) {
    nn::TransformerEncoder m(layer_options(c.meta["ctor"]), c.meta["num_layers"], c.meta["norm"]);
    expect_torch_keys(m, c);
    m.load_state_dict(c.params());
    AttentionCapture cap;
    const Tensor out = m.forward(c.get("src"), opt(c, "src_mask"), opt(c, "kpm"), c.meta["is_causal"], &cap);
    expect_close(out, c.get("out"), kStackAtol, kStackRtol, c.name);
    expect_captured(cap, c);
  }
  for (const TorchCase& c : torch_cases("decoder", kFile)) {
    nn::TransformerDecoder m(layer_options(c.meta["ctor"]), c.meta["num_layers"], c.meta["norm"]);
    expect_torch_keys(m, c);
    m.load_state_dict(c.params());
    AttentionCapture cap;
    const Tensor out = m.forward(c.get("tgt"), c.get("memory"), {}, {}, {}, opt(c, "memory_kpm"),
                                 c.meta["tgt_is_causal"], false, &cap);
    expect_close(out, c.get("out"), kStackAtol, kStackRtol, c.name);
    expect_captured(cap, c);
  }
}

TEST(TransformerVsTorch, Transformer) {
  for (const TorchCase& c : torch_cases("transformer", kFile)) {
    nn::TransformerOptions o;
    o.layer = layer_options(c.meta["ctor"]);
    o.num_encoder_layers = c.meta["num_encoder_layers"];
    o.num_decoder_layers = c.meta["num_decoder_layers"];
    nn::Transformer m(o);
    expect_torch_keys(m, c);
    m.load_state_dict(c.params());
    AttentionCapture cap;
    const Tensor kpm = c.get("src_kpm");
    const Tensor out = m.forward(c.get("src"), c.get("tgt"), {}, {}, {}, kpm, {}, kpm, false, c.meta["tgt_is_causal"],
                                 false, &cap);
    expect_close(out, c.get("out"), kStackAtol, kStackRtol, c.name);
    expect_captured(cap, c);  // decoder layers numbered after the encoder's
  }
}

// torch's init: clones of one layer start identical; nn.Transformer redraws every matrix with
// xavier_uniform_ (bound sqrt(6 / (fan_in + fan_out))) and keeps the rest.
TEST(Transformer, InitFollowsTorch) {
  nn::TransformerLayerOptions lo;
  lo.d_model = 16;
  lo.nhead = 4;
  lo.dim_feedforward = 24;
  nn::TransformerEncoder enc(lo, 2);
  EXPECT_EQ(enc.layer(0).linear1.weight.to_vector(), enc.layer(1).linear1.weight.to_vector());
  EXPECT_EQ(enc.layer(0).self_attn.in_proj_bias.to_vector(), std::vector<float>(48, 0.0f));

  nn::TransformerOptions o;
  o.layer = lo;
  o.num_encoder_layers = 2;
  o.num_decoder_layers = 1;
  nn::Transformer t(o);
  EXPECT_NE(t.encoder.layer(0).linear1.weight.to_vector(), t.encoder.layer(1).linear1.weight.to_vector());
  EXPECT_EQ(t.encoder.layer(0).linear1.bias.to_vector(), t.encoder.layer(1).linear1.bias.to_vector());
  for (auto& [name, p] : t.named_parameters()) {
    if (p->dim() != 2) continue;
    const float bound = std::sqrt(6.0f / float(p->size(0) + p->size(1)));
    float max_abs = 0;
    for (float v : p->to_vector()) max_abs = std::max(max_abs, std::fabs(v));
    EXPECT_LE(max_abs, bound) << name;
    EXPECT_GT(max_abs, 0.8f * bound) << name;  // spread over the range, not a narrower init
  }
  EXPECT_EQ(t.encoder.norm->weight.to_vector(), std::vector<float>(16, 1.0f));
  // The packed Linear weights follow the redraw: the pointer path equals F.linear.
  Rng rng(4);
  const Tensor x = randn({3, 16}, rng);
  const nn::Linear& l1 = t.decoder.layer(0).linear1;
  Tensor y = Tensor::empty({3, 24});
  l1.forward(y.data(), 24, x.data(), 16, 3);
  expect_close(y, l1.forward(x), 1e-6, 1e-6, "packed linear1 after xavier redraw");
}

TEST(Transformer, TrainingModeDropoutIsSeededAndEvalIsNot) {
  nn::TransformerLayerOptions lo;
  lo.d_model = 8;
  lo.nhead = 2;
  lo.dim_feedforward = 12;
  lo.dropout = 0.5f;
  nn::TransformerEncoderLayer a(lo), b(lo);
  Rng rng(3);
  const Tensor x = randn({4, 2, 8}, rng);
  const std::vector<float> eval_out = a.forward(x).to_vector();
  EXPECT_EQ(a.forward(x).to_vector(), eval_out);
  a.train();
  b.train();
  const std::vector<float> train_out = a.forward(x).to_vector();
  EXPECT_NE(train_out, eval_out);
  EXPECT_EQ(b.forward(x).to_vector(), train_out);  // same seed, same masks
}

TEST(Transformer, BadInputsGetClearErrors) {
  nn::TransformerLayerOptions lo;
  lo.d_model = 16;
  lo.nhead = 4;
  lo.dim_feedforward = 24;
  nn::TransformerEncoderLayer enc(lo);
  nn::TransformerDecoderLayer dec(lo);
  Rng rng(1);
  const Tensor src = randn({5, 2, 16}, rng);
  EXPECT_TRUE(throws_error([&] { enc.forward(randn({5, 2, 12}, rng)); },
                           {"TransformerEncoderLayer", "src has 12 features but d_model is 16"}));
  EXPECT_TRUE(throws_error([&] { enc.forward(src, Tensor::zeros({4, 5})); },
                           {"TransformerEncoderLayer", "src_mask should have shape [5, 5] or [8, 5, 5]", "[4, 5]"}));
  EXPECT_TRUE(throws_error([&] { enc.forward(src, {}, Tensor::zeros({5, 2}, DType::u8)); },
                           {"TransformerEncoderLayer", "src_key_padding_mask should have shape [2, 5]"}));
  Tensor nan_src = src.clone();
  nan_src.data()[7] = NAN;
  EXPECT_TRUE(throws_error([&] { enc.forward(nan_src); }, {"TransformerEncoderLayer: src", "NaN"}));
  EXPECT_TRUE(throws_error([&] { dec.forward(randn({3, 2, 16}, rng), randn({5, 3, 16}, rng)); },
                           {"TransformerDecoderLayer", "memory has batch size 3 but tgt has 2"}));
  EXPECT_TRUE(throws_error([&] { dec.forward(randn({3, 2, 16}, rng), src, {}, Tensor::zeros({3, 4})); },
                           {"TransformerDecoderLayer", "memory_mask should have shape [3, 5]"}));
  auto bad = lo;
  bad.nhead = 3;
  EXPECT_TRUE(throws_error([&] { nn::TransformerEncoderLayer x(bad); },
                           {"TransformerEncoderLayer", "d_model (16) must be divisible by nhead (3)"}));
  bad = lo;
  bad.activation = nn::Activation::swiglu;
  EXPECT_TRUE(throws_error([&] { nn::TransformerDecoderLayer x(bad); }, {"TransformerDecoderLayer", "swiglu"}));
  EXPECT_TRUE(throws_error([&] { nn::TransformerEncoder x(lo, int64_t{1} << 40); },
                           {"TransformerEncoder", "too large"}));
  nn::TransformerOptions to;
  to.layer = lo;
  to.num_encoder_layers = to.num_decoder_layers = 1;
  nn::Transformer t(to);
  EXPECT_TRUE(throws_error([&] { t.forward(src, randn({3, 4, 16}, rng)); },
                           {"Transformer", "batch number of src and tgt must be equal"}));
}

// ---------------------------------------------------------------- models

EncoderClassifierConfig classifier_config(const nlohmann::json& j) {
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
  c.max_batch = 3;  // the fixture's batch
  return c;
}

EncoderDecoderConfig encdec_config(const nlohmann::json& j) {
  EncoderDecoderConfig c;
  c.src_vocab = j["src_vocab"];
  c.tgt_vocab = j["tgt_vocab"];
  c.d_model = j["d_model"];
  c.nhead = j["nhead"];
  c.num_encoder_layers = j["num_encoder_layers"];
  c.num_decoder_layers = j["num_decoder_layers"];
  c.dim_feedforward = j["dim_feedforward"];
  c.activation = nn::activation_from_name(j["activation"], "test");
  c.norm_first = j["norm_first"];
  c.max_len = j["max_len"];
  c.positions = j["positions"] == "learned" ? PositionEncoding::learned : PositionEncoding::sinusoidal;
  c.max_batch = 2;  // the fixture's batch
  return c;
}

TEST(EncoderModelsVsTorch, EncoderClassifier) {
  for (const TorchCase& c : torch_cases("encoder_classifier", kFile)) {
    EncoderClassifier m(classifier_config(c.meta["config"]));
    expect_torch_keys(m, c);
    m.load_state_dict(c.params());
    AttentionCapture cap;
    const Tensor logits = m.forward(c.get("ids"), c.get("kpm"), c.get("token_type_ids"), &cap);
    expect_close(logits, c.get("logits"), kStackAtol, kStackRtol, c.name);
    expect_captured(cap, c);
  }
}

TEST(EncoderModelsVsTorch, EncoderDecoderTeacherForcedAndGreedy) {
  for (const TorchCase& c : torch_cases("encoder_decoder", kFile)) {
    EncoderDecoder m(encdec_config(c.meta["config"]));
    expect_torch_keys(m, c);
    m.load_state_dict(c.params());
    AttentionCapture cap;
    const Tensor kpm = c.get("src_kpm");
    const Tensor logits = m.forward(c.get("src"), c.get("tgt"), kpm, {}, &cap);
    expect_close(logits, c.get("logits"), kStackAtol, kStackRtol, c.name);
    expect_captured(cap, c);

    AttentionCapture greedy_cap;
    const Tensor ids = m.greedy_decode(c.get("src"), c.meta["bos"], c.meta["eos"], c.meta["max_len"], kpm, &greedy_cap);
    EXPECT_EQ(ids.shape(), c.get("greedy").shape()) << c.name;
    EXPECT_EQ(ids.to_vector(), c.get("greedy").to_vector()) << c.name;
    expect_captured(greedy_cap, c, "greedy_attn.");
  }
}

TEST(EncoderModels, BadConfigsAndInputsGetClearErrors) {
  EncoderClassifierConfig cc;
  EXPECT_TRUE(throws_error([&] { EncoderClassifier m(cc); }, {"EncoderClassifier", "vocab_size must be positive"}));
  cc.vocab_size = 20;
  cc.d_model = 16;
  cc.nhead = 4;
  cc.dim_feedforward = 24;
  cc.max_position = 8;
  cc.max_batch = 2;
  cc.pad_id = 20;
  EXPECT_TRUE(throws_error([&] { EncoderClassifier m(cc); }, {"EncoderClassifier", "pad_id", "[0, 20)"}));
  cc.pad_id = 0;
  cc.vocab_size = int64_t{1} << 40;
  EXPECT_TRUE(throws_error([&] { EncoderClassifier m(cc); }, {"EncoderClassifier", "word_embeddings"}));
  cc.vocab_size = 20;
  EncoderClassifier clf(cc);
  EXPECT_TRUE(throws_error([&] { clf.forward(Tensor::from_vector({1, 2, 20}, {1, 3})); },
                           {"Embedding", "input_ids", "id 20", "[0, 20)"}));
  EXPECT_TRUE(throws_error([&] { clf.forward(Tensor::zeros({1, 9})); },
                           {"EncoderClassifier", "9 positions but max_position is 8"}));
  EXPECT_TRUE(throws_error([&] { clf.forward(Tensor::zeros({2, 3}), Tensor::zeros({2, 4}, DType::u8)); },
                           {"src_key_padding_mask should have shape [2, 3]"}));
  EXPECT_TRUE(throws_error([&] { clf.forward(Tensor::zeros({2, 3}), {}, Tensor::full({2, 3}, 2.0f)); },
                           {"token_type_ids", "id 2", "[0, 2)"}));

  EncoderDecoderConfig ec;
  ec.src_vocab = 10;
  ec.tgt_vocab = 0;
  EXPECT_TRUE(throws_error([&] { EncoderDecoder m(ec); }, {"EncoderDecoder", "tgt_vocab must be positive"}));
  ec.tgt_vocab = 9;
  ec.d_model = 16;
  ec.nhead = 5;
  EXPECT_TRUE(throws_error([&] { EncoderDecoder m(ec); }, {"EncoderDecoder", "d_model (16) must be divisible by nhead (5)"}));
  ec.nhead = 4;
  ec.dim_feedforward = 24;
  ec.max_len = 6;
  ec.max_batch = 2;
  EncoderDecoder ed(ec);
  const Tensor src = Tensor::from_vector({1, 2, 3, 4}, {2, 2});
  EXPECT_TRUE(throws_error([&] { ed.forward(src, Tensor::from_vector({1, 9}, {1, 2})); }, {"tgt_in", "id 9"}));
  EXPECT_TRUE(throws_error([&] { ed.forward(Tensor::zeros({1, 7}), Tensor::zeros({1, 2})); },
                           {"EncoderDecoder", "src has 7 positions but max_len is 6"}));
  EXPECT_TRUE(throws_error([&] { ed.greedy_decode(src, 1, 9, 4); }, {"EncoderDecoder", "eos (9)"}));
  EXPECT_TRUE(throws_error([&] { ed.greedy_decode(src, 1, 2, 7); }, {"EncoderDecoder", "max_new", "got 7"}));
  Tensor nan_ids = Tensor::from_vector({1, NAN}, {1, 2});
  EXPECT_TRUE(throws_error([&] { ed.forward(nan_ids, nan_ids); }, {"src holds id nan"}));
}

}  // namespace
}  // namespace attn::testing
