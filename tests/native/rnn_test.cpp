// Recurrent layers (src/nn/rnn.*) against PyTorch: torch.nn.LSTM / GRU, and the
// fixture script's transcriptions of the JANET and IndRNN papers; the RNN encoder-
// decoder with attention (src/models/seq2seq_rnn.*) against its torch twin
// (tests/fixtures/rnn_cnn.safetensors, scripts/fixtures/rnn_cnn.py).
#include <cstdio>
#include <memory>

#include "models/seq2seq_rnn.hpp"
#include "nn/rnn.hpp"
#include "torch_fixtures.hpp"

namespace attn::testing {
namespace {

// A recurrence compounds float rounding over T steps and L layers; the fixtures' worst
// case is ~5e-7 (deep bidirectional JANET). 5e-6 leaves room for other SIMD widths while
// any gate-order, bias or direction mistake is O(0.1).
constexpr float kRnnAtol = 5e-6f;
constexpr float kRnnRtol = 1e-5f;
const char* kFile = "rnn_cnn.safetensors";

std::unique_ptr<nn::RNNBase> make_rnn(const nlohmann::json& m) {
  const int64_t I = m["input_size"], H = m["hidden_size"], L = m.value("num_layers", 1);
  const bool bias = m.value("bias", true), bf = m.value("batch_first", false), bi = m.value("bidirectional", false);
  const std::string cell = m["cell"];
  if (cell == "lstm") return std::make_unique<nn::LSTM>(I, H, L, bias, bf, 0.0f, bi);
  if (cell == "gru") return std::make_unique<nn::GRU>(I, H, L, bias, bf, 0.0f, bi);
  if (cell == "janet") return std::make_unique<nn::JANET>(I, H, L, bias, bf, 0.0f, bi, m.value("beta", 1.0f));
  return std::make_unique<nn::IndRNN>(I, H, L, bias, bf, 0.0f, bi, m.value("nonlinearity", "relu"));
}

// all_close, and the max error printed next to the tolerance (as the attention tests report).
::testing::AssertionResult matches(const Tensor& actual, const Tensor& expected, const std::string& what) {
  if (actual.shape() == expected.shape()) {
    const std::vector<float> a = actual.to_vector(), e = expected.to_vector();
    const Closeness c = compare(a.data(), e.data(), a.size(), kRnnAtol, kRnnRtol);
    std::printf("  %-34s max abs err %.2e (atol %.0e)\n", what.c_str(), c.max_abs, double(kRnnAtol));
  }
  return all_close(actual, expected, kRnnAtol, kRnnRtol);
}

std::vector<std::string> key_list(Module& m) {
  std::vector<std::string> k;
  for (auto& [name, t] : m.named_parameters()) k.push_back(name);
  return k;
}

TEST(RnnVsTorch, EveryCellEveryLayout) {
  int n = 0;
  for (const TorchCase& c : torch_cases("rnn", kFile)) {
    SCOPED_TRACE(c.name);
    auto m = make_rnn(c.meta);
    EXPECT_EQ(key_list(*m), c.meta["keys"].get<std::vector<std::string>>());
    m->load_state_dict(c.params());
    const Tensor h0 = c.has("h0") ? c.get("h0") : Tensor(), c0 = c.has("c0") ? c.get("c0") : Tensor();
    nn::RNNOutput r = m->forward(c.get("x"), h0, c0);
    EXPECT_TRUE(matches(r.output, c.get("out"), c.name + ".out"));
    EXPECT_TRUE(matches(r.h_n, c.get("h_n"), c.name + ".h_n"));
    if (c.has("c_n")) {
      EXPECT_TRUE(matches(r.c_n, c.get("c_n"), c.name + ".c_n"));
    }
    const std::string cell = c.meta["cell"];
    if (cell == "gru") {
      EXPECT_FALSE(r.c_n.defined());
    }
    if (cell == "indrnn") {
      EXPECT_TRUE(r.c_n.same_as(r.h_n));  // documented: IndRNN's second state is h_n
    }

    // The pointer forward (time-major, state updated in place) against the same torch numbers.
    auto time_major = [&](const Tensor& t) {
      return (t.dim() == 2 ? t.unsqueeze(1) : m->batch_first ? t.transpose(0, 1) : t).contiguous();
    };
    const Tensor x = time_major(c.get("x"));
    const int64_t T = x.size(0), N = x.size(1), LD = m->num_layers * m->num_directions(), H = m->hidden_size;
    Tensor out = Tensor::empty({T, N, m->num_directions() * H});
    Tensor h = h0.defined() ? h0.reshape({LD, N, H}).clone() : Tensor::zeros({LD, N, H});
    Tensor cs = !m->has_cell_state() ? Tensor() : c0.defined() ? c0.reshape({LD, N, H}).clone() : Tensor::zeros({LD, N, H});
    Tensor scratch = Tensor::empty({m->forward_scratch(T, N)});
    m->forward(out.data(), h.data(), cs.defined() ? cs.data() : nullptr, x.data(), T, N, scratch.data());
    EXPECT_TRUE(matches(out, time_major(c.get("out")), c.name + ".out (pointer forward)"));
    EXPECT_TRUE(matches(h, c.get("h_n").reshape({LD, N, H}), c.name + ".h_n (pointer forward)"));
    if (cs.defined() && c.has("c_n")) {
      EXPECT_TRUE(matches(cs, c.get("c_n").reshape({LD, N, H}), c.name + ".c_n (pointer forward)"));
    }
    ++n;
  }
  EXPECT_EQ(n, 13);
}

TEST(RnnInit, JanetChronoForgetBiasAndIndRnnVector) {
  const int64_t t_max = 50;
  nn::JANET j(3, 8, 1, true, false, 0.0f, false, 1.0f, t_max, 7);
  const Tensor bi = j.weights(0, 0).b_ih, bh = j.weights(0, 0).b_hh;
  for (int64_t k = 0; k < 8; ++k) {  // f block: log(U(1, t_max - 1)) + 0
    EXPECT_GE(bi.at({k}), 0.0f);
    EXPECT_LE(bi.at({k}), std::log(float(t_max - 1)));
    EXPECT_EQ(bh.at({k}), 0.0f);
  }
  float spread = 0;  // the candidate block keeps torch's U(-1/sqrt(H), 1/sqrt(H))
  for (int64_t k = 8; k < 16; ++k) {
    EXPECT_LE(std::fabs(bi.at({k})), 1.0f / std::sqrt(8.0f));
    spread = std::max(spread, std::fabs(bh.at({k})));
  }
  EXPECT_GT(spread, 0.0f);
  nn::IndRNN ind(3, 6);
  EXPECT_EQ(ind.weights(0, 0).w_hh.shape(), (Shape{6}));
  for (float u : ind.weights(0, 0).w_hh.to_vector()) EXPECT_TRUE(u >= 0.0f && u < 1.0f);
  for (float b : ind.weights(0, 0).b_ih.to_vector()) EXPECT_EQ(b, 0.0f);
  EXPECT_FALSE(ind.weights(0, 0).b_hh.defined());
}

// dropout=1 in training zeroes the first layer's output, so the second layer sees only
// zeros: its result must equal a one-layer LSTM with the second layer's weights run on zeros.
TEST(RnnDropout, TrainingOnlyAndBetweenLayers) {
  nn::LSTM two(3, 4, 2, true, false, 1.0f, false, 0, 3);
  Rng rng(5);
  const Tensor x = randn({5, 2, 3}, rng);
  two.eval();
  const Tensor eval_out = two.forward(x).output;
  two.train();
  const nn::RNNOutput tr = two.forward(x);
  nn::LSTM second(4, 4);
  StateDict sd;
  for (const char* k : {"weight_ih", "weight_hh", "bias_ih", "bias_hh"})
    sd[std::string(k) + "_l0"] = two.state_dict().at(std::string(k) + "_l1");
  second.load_state_dict(sd);
  const nn::RNNOutput ref = second.forward(Tensor::zeros({5, 2, 4}));
  EXPECT_TRUE(all_close(tr.output, ref.output, 0, 0));
  EXPECT_FALSE(all_close(eval_out, ref.output, 1e-3, 0));  // eval mode keeps layer 1's output
}

TEST(RnnErrors, NameTheModuleTheArgumentAndTheShapes) {
  nn::LSTM lstm(5, 7, 2);
  Rng rng(1);
  EXPECT_TRUE(throws_error([&] { lstm.forward(randn({4, 3, 6}, rng)); }, {"input has 6 features", "input_size is 5"},
                           "LSTM: "));
  EXPECT_TRUE(throws_error([&] { lstm.forward(randn({4, 3, 2, 5}, rng)); }, {"input must be", "[4, 3, 2, 5]"}, "LSTM: "));
  EXPECT_TRUE(throws_error([&] { lstm.forward(randn({4, 3, 5}, rng), randn({2, 3, 7}, rng)); },
                           {"both h0 and c0", "only h0"}, "LSTM: "));
  EXPECT_TRUE(throws_error([&] { lstm.forward(randn({4, 3, 5}, rng), randn({1, 3, 7}, rng), randn({2, 3, 7}, rng)); },
                           {"h0 must have shape [2, 3, 7]", "got [1, 3, 7]"}, "LSTM: "));
  EXPECT_TRUE(throws_error([&] { lstm.forward(Tensor::zeros({0, 3, 5})); }, {"no time steps"}, "LSTM: "));
  Tensor nan_x = randn({2, 1, 5}, rng);
  nan_x.data()[3] = NAN;
  EXPECT_TRUE(throws_error([&] { lstm.forward(nan_x); }, {"input contains NaN"}, "LSTM: "));
  nn::GRU gru(2, 3);
  EXPECT_TRUE(throws_error([&] { gru.forward(randn({4, 2}, rng), randn({1, 3}, rng), randn({1, 3}, rng)); },
                           {"no cell state", "not c0"}, "GRU: "));
  EXPECT_TRUE(throws_error([] { nn::LSTM(5, 7, 1, true, false, 0.0f, false, 3); }, {"proj_size=3", "not supported"},
                           "LSTM: "));
  EXPECT_TRUE(throws_error([] { nn::GRU(5, 0); }, {"hidden_size must be positive"}, "GRU: "));
  EXPECT_TRUE(throws_error([] { nn::LSTM(5, 7, 1, true, false, 1.5f); }, {"dropout must be in [0, 1]"}, "LSTM: "));
  EXPECT_TRUE(throws_error([] { nn::IndRNN(5, 7, 1, true, false, 0.0f, false, "gelu"); }, {"'relu' or 'tanh'", "gelu"},
                           "IndRNN: "));
  EXPECT_TRUE(throws_error([] { nn::JANET(5, 7, 1, true, false, 0.0f, false, 1.0f, 2); }, {"chrono_t_max"}, "JANET: "));
  EXPECT_TRUE(throws_error([] { nn::LSTM(1 << 20, 1 << 20); }, {"too large"}, "LSTM"));
  EXPECT_TRUE(throws_error([] { nn::GRU(4, 4, int64_t{1} << 40); }, {"too large"}, "GRU"));
  // A state dict from a GRU does not load into an LSTM: the gate blocks differ.
  nn::GRU g(5, 7, 2);
  EXPECT_TRUE(throws_error([&] { lstm.load_state_dict(g.state_dict()); }, {"weight_ih_l0", "[28, 5]", "[21, 5]"}));
}

Seq2SeqConfig seq2seq_config(const nlohmann::json& m) {
  Seq2SeqConfig c;
  c.src_vocab = m["src_vocab"];
  c.tgt_vocab = m["tgt_vocab"];
  c.embed_dim = m["embed_dim"];
  c.hidden_size = m["hidden_size"];
  c.num_layers = m["num_layers"];
  c.cell = m["cell"] == "lstm" ? nn::RnnCell::lstm : nn::RnnCell::gru;
  const std::string rule = m["rule"];
  c.rule = rule == "bahdanau" ? Seq2SeqRule::bahdanau
           : rule == "dot"    ? Seq2SeqRule::dot
           : rule == "general" ? Seq2SeqRule::general
                               : Seq2SeqRule::concat;
  c.max_src_len = m["max_src_len"];
  c.max_batch = 2;  // the fixtures' batch
  return c;
}

TEST(Seq2SeqVsTorch, TeacherForcedAndGreedyWithCapturedWeights) {
  int n = 0;
  for (const TorchCase& c : torch_cases("seq2seq_rnn", kFile)) {
    SCOPED_TRACE(c.name);
    const Seq2SeqConfig cfg = seq2seq_config(c.meta);
    Seq2SeqRNN m(cfg);
    EXPECT_STREQ(seq2seq_rule_name(cfg.rule), c.meta["rule"].get<std::string>().c_str());
    EXPECT_EQ(key_list(m), c.meta["keys"].get<std::vector<std::string>>());
    m.load_state_dict(c.params());
    AttentionCapture cap;
    const Tensor logits = m.forward(c.get("src"), c.get("tgt_in"), &cap);
    EXPECT_TRUE(matches(logits, c.get("logits"), c.name + ".logits"));
    const Tensor w = c.get("weights");  // (N, T, S)
    const Tensor got = cap.get(0, AttentionKind::cross);
    ASSERT_EQ(got.shape(), (Shape{w.size(0), 1, w.size(1), w.size(2)}));
    EXPECT_TRUE(matches(got.reshape(w.shape()), w, c.name + ".weights"));
    EXPECT_TRUE(all_close(m.forward(c.get("src"), c.get("tgt_in")), logits, 0, 0));  // no sink: same numbers

    AttentionCapture gcap;
    const Tensor ids = m.greedy_decode(c.get("src"), c.meta["bos"], c.meta["eos"], c.meta["max_len"], &gcap);
    EXPECT_TRUE(all_close(ids, c.get("greedy_ids"), 0, 0)) << "greedy ids";
    const Tensor gw = c.get("greedy_weights");
    const Tensor ggot = gcap.get(0, AttentionKind::cross);
    ASSERT_EQ(ggot.shape(), (Shape{gw.size(0), 1, gw.size(1), gw.size(2)}));
    EXPECT_TRUE(matches(ggot.reshape(gw.shape()), gw, c.name + ".greedy_weights"));
    ++n;
  }
  EXPECT_EQ(n, 6);
}

TEST(Seq2SeqErrors, IdsShapesAndConfig) {
  Seq2SeqConfig cfg;
  cfg.src_vocab = 5;
  cfg.tgt_vocab = 6;
  cfg.embed_dim = 4;
  cfg.hidden_size = 4;
  cfg.rule = Seq2SeqRule::concat;
  cfg.max_src_len = 3;
  cfg.max_batch = 2;
  Seq2SeqRNN m(cfg);
  const Tensor src = Tensor::from_vector({0, 1, 2, 4, 3, 2}, {2, 3}), tgt = Tensor::from_vector({1, 2}, {2, 1});
  EXPECT_EQ(m.forward(src, tgt).shape(), (Shape{2, 1, 6}));
  EXPECT_TRUE(throws_error([&] { m.forward(Tensor::from_vector({0, 5}, {1, 2}), Tensor::from_vector({1}, {1, 1})); },
                           {"src holds id 5", "[0, 5)"}, "Seq2SeqRNN: "));
  EXPECT_TRUE(throws_error([&] { m.forward(src, Tensor::from_vector({1.5f, 2}, {2, 1})); }, {"tgt_in holds id 1.5"},
                           "Seq2SeqRNN: "));
  EXPECT_TRUE(throws_error([&] { m.forward(Tensor::from_vector({0, 1, 2, 3}, {1, 4}), Tensor::from_vector({1}, {1, 1})); },
                           {"src has 4 positions", "max_src_len=3"}, "Seq2SeqRNN: "));
  EXPECT_TRUE(throws_error([&] { m.forward(src, Tensor::from_vector({1, 2, 3}, {3, 1})); }, {"tgt_in has batch 3"},
                           "Seq2SeqRNN: "));
  EXPECT_TRUE(throws_error([&] { m.greedy_decode(src, 0, 6, 4); }, {"eos (6)", "[0, 6)"}, "Seq2SeqRNN: "));
  EXPECT_TRUE(throws_error([&] { m.greedy_decode(src, 0, 1, 0); }, {"max_len must be positive"}, "Seq2SeqRNN: "));
  cfg.cell = nn::RnnCell::janet;
  EXPECT_TRUE(throws_error([&] { Seq2SeqRNN bad(cfg); }, {"GRU or LSTM"}, "Seq2SeqRNN: "));
}

}  // namespace
}  // namespace attn::testing
