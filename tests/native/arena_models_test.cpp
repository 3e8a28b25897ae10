// The SE-CNN's and the RNN seq2seq's activation arenas (issue 8, "Memory"): both plan every
// activation at construction, so after a warm-up their pointer forwards (and the seq2seq's
// greedy decoding) allocate nothing (checked under a zero AllocationCap, which a capturing
// call trips, so the cap is live), still match the torch twins of
// tests/fixtures/rnn_cnn.safetensors (scripts/fixtures/rnn_cnn.py), and refuse inputs past
// the planned maxima with clear errors.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/size.hpp"
#include "models/se_cnn.hpp"
#include "models/seq2seq_rnn.hpp"
#include "torch_fixtures.hpp"

namespace attn::testing {
namespace {

constexpr const char* kFile = "rnn_cnn.safetensors";
// As cnn_test.cpp / rnn_test.cpp: a few float32 convs or recurrent steps on O(1) values;
// the worst error measured there is a few 1e-7, and an indexing mistake moves outputs by O(0.1).
constexpr double kAtol = 5e-6, kRtol = 1e-5;

void expect_close(const float* actual, const Tensor& expected, const std::string& label) {
  const std::vector<float> e = expected.to_vector();
  const Closeness c = compare(actual, e.data(), e.size(), kAtol, kRtol);
  std::printf("  %-40s max abs err %.2e, max rel err %.2e (atol %.0e)\n", label.c_str(), c.max_abs, c.max_rel, kAtol);
  EXPECT_TRUE(all_close(actual, e.data(), e.size(), kAtol, kRtol)) << label;
}

std::vector<int32_t> int_ids(const Tensor& t) {
  std::vector<int32_t> out;
  for (float v : t.to_vector()) out.push_back(static_cast<int32_t>(v));
  return out;
}

SECNNConfig se_config(const nlohmann::json& m, int64_t max_batch, int64_t max_height, int64_t max_width) {
  SECNNConfig c;
  c.in_channels = m["in_channels"];
  c.num_classes = m["num_classes"];
  c.stem_channels = m["stem_channels"];
  c.block_channels = m["block_channels"].get<std::vector<int64_t>>();
  c.reduction = m["reduction"];
  c.max_batch = max_batch;
  c.max_height = max_height;
  c.max_width = max_width;
  return c;
}

TEST(ArenaModels, SeCnnForwardAllocatesNothingAndMatchesTorch) {
  int cases = 0;
  for (const TorchCase& c : torch_cases("se_cnn", kFile)) {
    SCOPED_TRACE(c.name);
    const Tensor x = c.get("x");  // (N, C, H, W)
    const int64_t N = x.size(0), H = x.size(2), W = x.size(3);
    SECNN net(se_config(c.meta, N, H, W));
    net.load_state_dict(c.params());
    net.pack_parameters();  // as io::load_model leaves it
    const float* xp = x.contiguous().data();
    net.forward(xp, N, H, W);  // warm-up: the GEMM's thread-local panels, if any
    const float* logits = nullptr;
    {
      AllocationCap none(0, "SECNN.forward must not allocate");
      logits = net.forward(xp, N, H, W);
      EXPECT_EQ(none.used(), 0u);
      // The cap is live: a capture sink's first call allocates its maps, and is refused here.
      AttentionCapture capture;
      EXPECT_TRUE(throws_error([&] { net.forward(xp, N, H, W, &capture); }, {"SECNN.forward must not allocate"}));
    }
    expect_close(logits, c.get("logits"), c.name + ".logits (pointer forward)");
    // With a sink the SE weights are computed into its destinations: torch's channel weights.
    AttentionCapture capture;
    expect_close(net.forward(xp, N, H, W, &capture), c.get("logits"), c.name + ".logits (captured)");
    for (size_t i = 0; i < net.config.block_channels.size(); ++i) {
      const Tensor se = c.get("se" + std::to_string(i));
      const Tensor got = capture.get(static_cast<int64_t>(i), AttentionKind::self);
      ASSERT_EQ(got.shape(), (Shape{se.size(0), 1, 1, se.size(1)}));
      expect_close(got.data(), se, c.name + ".se" + std::to_string(i));
    }
    ++cases;
  }
  EXPECT_EQ(cases, 2);
}

// The Tensor forward takes a batch larger than max_batch in slices of max_batch images, and the
// sink's rows of every slice land in one (N, 1, 1, C) map: the same numbers as torch's.
TEST(ArenaModels, SeCnnTensorForwardSlicesLargeBatches) {
  const TorchCase c = torch_cases("se_cnn", kFile).front();
  const Tensor x = c.get("x");
  ASSERT_GE(x.size(0), 2);
  SECNN net(se_config(c.meta, 1, x.size(2), x.size(3)));
  net.load_state_dict(c.params());
  AttentionCapture capture;
  const Tensor logits = net.forward(x, &capture);
  expect_close(logits.data(), c.get("logits"), c.name + ".logits (slices of 1)");
  expect_close(capture.get(0, AttentionKind::self).data(), c.get("se0"), c.name + ".se0 (slices of 1)");
  // Its only allocation is the result.
  net.forward(x);
  AllocationCap result_only(uint64_t{1} << 20, "SECNN Tensor forward");
  net.forward(x);
  EXPECT_EQ(result_only.used(), static_cast<uint64_t>(logits.numel()) * sizeof(float));
}

TEST(ArenaModels, SeCnnInputsPastThePlanGetClearErrors) {
  SECNNConfig cfg;  // 1 image of up to 28 x 28
  SECNN net(cfg);
  Rng rng(4);
  const Tensor two = randn({2, 1, 28, 28}, rng), tall = randn({1, 1, 29, 28}, rng), wide = randn({1, 1, 8, 30}, rng);
  EXPECT_TRUE(throws_error([&] { net.forward(two.data(), 2, 28, 28); }, {"batch of 2 images", "1..1", "max_batch"},
                           "SECNN.forward: "));
  EXPECT_TRUE(throws_error([&] { net.forward(tall.data(), 1, 29, 28); }, {"29 x 28 pixels", "1..28 x 1..28"},
                           "SECNN.forward: "));
  EXPECT_TRUE(throws_error([&] { net.forward(tall); }, {"29 x 28 pixels", "max_height, max_width"}, "SECNN: "));
  EXPECT_TRUE(throws_error([&] { net.forward(wide); }, {"8 x 30 pixels"}, "SECNN: "));
  std::vector<float> nan_image(28 * 28, 0.0f);
  nan_image[5] = std::nanf("");
  EXPECT_TRUE(throws_error([&] { net.forward(nan_image.data(), 1, 28, 28); }, {"contains NaN", "flat index 5"},
                           "SECNN.forward: "));
  cfg.max_height = 0;
  EXPECT_TRUE(throws_error([&] { SECNN bad(cfg); }, {"max_height", "must be positive"}, "SECNN: "));
  // A plan past the budgets is refused before anything is allocated, naming the maxima.
  cfg.max_height = cfg.max_width = int64_t{1} << 20;
  EXPECT_TRUE(throws_error([&] { SECNN bad(cfg); }, {"max_height=1048576", "do not fit"}, "SECNN: "));
}

Seq2SeqConfig s2s_config(const nlohmann::json& m, int64_t max_batch, int64_t max_tgt_len) {
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
  c.max_tgt_len = max_tgt_len;
  c.max_batch = max_batch;
  return c;
}

TEST(ArenaModels, Seq2SeqForwardAndGreedyAllocateNothingAndMatchTorch) {
  int cases = 0;
  for (const TorchCase& c : torch_cases("seq2seq_rnn", kFile)) {
    SCOPED_TRACE(c.name);
    const Tensor src_t = c.get("src"), tgt_t = c.get("tgt_in"), greedy = c.get("greedy_ids");
    const int64_t N = src_t.size(0), S = src_t.size(1), T = tgt_t.size(1), max_len = c.meta["max_len"];
    const int64_t bos = c.meta["bos"], eos = c.meta["eos"];
    Seq2SeqRNN m(s2s_config(c.meta, N, std::max(T, max_len)));
    m.load_state_dict(c.params());
    m.pack_parameters();
    const std::vector<int32_t> src = int_ids(src_t), tgt = int_ids(tgt_t);
    std::vector<int32_t> ids(static_cast<size_t>(N * max_len), -1);
    m.forward(src.data(), N, S, tgt.data(), T);  // warm-up
    m.greedy_decode(ids.data(), src.data(), N, S, bos, eos, max_len);
    const float* logits = nullptr;
    int64_t steps = 0;
    {
      AllocationCap none(0, "Seq2SeqRNN must not allocate");
      logits = m.forward(src.data(), N, S, tgt.data(), T);
      expect_close(logits, c.get("logits"), c.name + ".logits (pointer forward)");
      steps = m.greedy_decode(ids.data(), src.data(), N, S, bos, eos, max_len);
      EXPECT_EQ(none.used(), 0u);
      AttentionCapture capture;
      EXPECT_TRUE(throws_error([&] { m.forward(src.data(), N, S, tgt.data(), T, &capture); },
                               {"Seq2SeqRNN must not allocate"}));
    }
    ASSERT_EQ(steps, greedy.size(1));
    const std::vector<float> want = greedy.to_vector();
    for (int64_t n = 0; n < N; ++n)
      for (int64_t t = 0; t < steps; ++t)
        EXPECT_EQ(ids[n * max_len + t], static_cast<int32_t>(want[n * steps + t])) << "row " << n << " step " << t;
    // With a sink: the weights are softmaxed in its destination (teacher forcing) or copied
    // there once (greedy, whose length is known at the end).
    AttentionCapture capture;
    m.forward(src.data(), N, S, tgt.data(), T, &capture);
    expect_close(capture.get(0, AttentionKind::cross).data(), c.get("weights"), c.name + ".weights");
    AttentionCapture gcapture;
    m.greedy_decode(ids.data(), src.data(), N, S, bos, eos, max_len, &gcapture);
    expect_close(gcapture.get(0, AttentionKind::cross).data(), c.get("greedy_weights"), c.name + ".greedy_weights");
    ++cases;
  }
  EXPECT_EQ(cases, 6);
}

TEST(ArenaModels, Seq2SeqInputsPastThePlanGetClearErrors) {
  Seq2SeqConfig cfg;
  cfg.src_vocab = 5;
  cfg.tgt_vocab = 6;
  cfg.embed_dim = 4;
  cfg.hidden_size = 4;
  cfg.max_src_len = 3;
  cfg.max_tgt_len = 2;
  Seq2SeqRNN m(cfg);  // bahdanau, GRU, max_batch 1
  const std::vector<int32_t> src{0, 1, 2, 3}, tgt{1, 2, 3};
  std::vector<int32_t> out(8);
  EXPECT_TRUE(throws_error([&] { m.forward(src.data(), 2, 2, tgt.data(), 1); },
                           {"batch of 2 sequences", "1..1", "max_batch"}, "Seq2SeqRNN: "));
  EXPECT_TRUE(throws_error([&] { m.forward(src.data(), 1, 4, tgt.data(), 1); }, {"src has 4 positions", "max_src_len=3"},
                           "Seq2SeqRNN: "));
  EXPECT_TRUE(throws_error([&] { m.forward(src.data(), 1, 3, tgt.data(), 3); }, {"tgt_in has 3 positions", "max_tgt_len=2"},
                           "Seq2SeqRNN: "));
  EXPECT_TRUE(throws_error([&] { m.greedy_decode(out.data(), src.data(), 1, 3, 0, 1, 3); },
                           {"max_len 3", "max_tgt_len=2"}, "Seq2SeqRNN: "));
  const std::vector<int32_t> bad_src{0, 7, 1};
  EXPECT_TRUE(throws_error([&] { m.forward(bad_src.data(), 1, 3, tgt.data(), 1); },
                           {"src holds id 7", "flat index 1", "[0, 5)"}, "Seq2SeqRNN: "));
  EXPECT_TRUE(throws_error([&] { m.forward(src.data(), 1, 3, nullptr, 1); }, {"tgt_in is null"}, "Seq2SeqRNN: "));
  // The Tensor API has the same limits.
  EXPECT_TRUE(throws_error([&] { m.greedy_decode(Tensor::from_vector({0, 1}, {1, 2}), 0, 1, 5); },
                           {"max_len 5", "max_tgt_len=2"}, "Seq2SeqRNN: "));
  cfg.max_tgt_len = 0;
  EXPECT_TRUE(throws_error([&] { Seq2SeqRNN bad(cfg); }, {"max_tgt_len must be positive"}, "Seq2SeqRNN: "));
  // A plan past the budgets is refused before anything is allocated, naming the maxima.
  cfg.max_tgt_len = int64_t{1} << 20;
  cfg.max_batch = int64_t{1} << 20;
  EXPECT_TRUE(throws_error([&] { Seq2SeqRNN bad(cfg); }, {"max_batch=1048576", "max_tgt_len=1048576", "do not fit"},
                           "Seq2SeqRNN: "));
}

}  // namespace
}  // namespace attn::testing
