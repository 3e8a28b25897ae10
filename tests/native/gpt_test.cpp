// nn/functional ops, the GPT-2 model (models/gpt) and sampling (models/sampling)
// against the PyTorch fixture tests/fixtures/gpt*.safetensors (scripts/fixtures/gpt.py,
// a GPT-2 forward written out in torch), and sampling by its properties (our Rng is
// not torch's, so sampled tokens cannot come from a fixture).
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "io/model_file.hpp"
#include "models/gpt.hpp"
#include "models/sampling.hpp"
#include "nn/functional.hpp"
#include "torch_fixtures.hpp"

namespace attn::testing {
namespace {

namespace F = nn::functional;

// Two layers of float32 matmuls and layer norms over logits of magnitude ~10: measured
// max abs error ~5e-6; the bound leaves 4x.
constexpr double kGptAtol = 2e-5, kGptRtol = 2e-5;

std::vector<uint8_t> read_bytes(const std::string& name) {
  std::ifstream f(fixture_path(name), std::ios::binary);
  EXPECT_TRUE(f.good()) << fixture_path(name);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}
std::string read_text(const std::string& name) {
  const std::vector<uint8_t> b = read_bytes(name);
  return std::string(b.begin(), b.end());
}

std::unique_ptr<Gpt> fixture_model(const std::string& weights = "gpt_hf.safetensors") {
  const std::vector<uint8_t> bytes = read_bytes(weights);
  return io::load_gpt(read_text("gpt_config.json"), bytes.data(), bytes.size());
}

TorchCase gpt_case() { return torch_cases("gpt_forward", "gpt.safetensors").at(0); }

std::vector<int32_t> case_ids(const TorchCase& c) {
  std::vector<int32_t> ids;
  for (float v : c.get("ids").to_vector()) ids.push_back(static_cast<int32_t>(v));
  return ids;
}

// ------------------------------------------------------------------ nn/functional

TEST(FunctionalVsTorch, AttentionForward) {
  for (const TorchCase& c : torch_cases("functional_attention", "gpt.safetensors")) {
    const int64_t NH = c.meta["NH"], T = c.meta["T"], S = c.meta["S"], hs = c.meta["hs"];
    const bool causal = c.meta["causal"];
    const Tensor q = c.get("q"), k = c.get("k"), v = c.get("v");
    const float* add = c.has("add_mask") ? c.get("add_mask").data() : nullptr;
    const Tensor keep = c.has("keep") ? c.get("keep") : Tensor();
    const int64_t C = NH * hs;
    // The keys and values both in place (rows of the projections) and through a KV cache
    // (NH, maxT, hs) written by kv_cache_write, with room past S.
    const int64_t maxT = S + 3;
    std::vector<float> kc(static_cast<size_t>(NH * maxT * hs), NAN), vc(kc.size(), NAN);
    F::kv_cache_write(kc.data(), maxT, k.data(), C, NH, S, 0, hs);
    F::kv_cache_write(vc.data(), maxT, v.data(), C, NH, S, 0, hs);
    for (bool cached : {false, true}) {
      std::vector<float> out(static_cast<size_t>(T * C), NAN), att(static_cast<size_t>(NH * T * S), NAN);
      const F::HeadRows kr = cached ? F::HeadRows{kc.data(), hs, maxT * hs} : F::HeadRows{k.data(), C, hs};
      const F::HeadRows vr = cached ? F::HeadRows{vc.data(), hs, maxT * hs} : F::HeadRows{v.data(), C, hs};
      F::attention_forward(out.data(), C, att.data(), {q.data(), C, hs}, kr, vr, NH, T, S, hs,
                           1.0f / std::sqrt(static_cast<float>(hs)), causal, add, S,
                           keep.defined() ? keep.data_u8() : nullptr, S);
      const ::testing::AssertionResult r = all_close(out.data(), c.get("out").data(), out.size(), kTorchAtol, kTorchRtol);
      EXPECT_TRUE(r) << c.name << (cached ? " (KV cache)" : "") << ": out";
      if (!cached) std::cout << c.name << " out vs torch: " << r.message() << "\n";
      EXPECT_TRUE(all_close(att.data(), c.get("att").data(), att.size(), kTorchAtol, kTorchRtol))
          << c.name << (cached ? " (KV cache)" : "") << ": att";
    }
  }
}

TEST(FunctionalVsTorch, PointwiseAndRowOps) {
  const TorchCase c = torch_cases("functional_ops", "gpt.safetensors").at(0);
  const Tensor x = c.get("x"), w = c.get("w"), b = c.get("b"), a2 = c.get("a2");
  const int64_t N = x.size(0), C = x.size(1), n = N * C;
  const float eps = c.meta["eps"];
  std::vector<float> out(static_cast<size_t>(n)), mean(static_cast<size_t>(N)), rstd(static_cast<size_t>(N));
  auto expect = [&](const char* name, const float* actual, size_t count) {
    EXPECT_TRUE(all_close(actual, c.get(name).data(), count, kTorchAtol, kTorchRtol)) << name;
  };
  F::layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C, eps);
  expect("layernorm", out.data(), out.size());
  expect("mean", mean.data(), mean.size());
  expect("rstd", rstd.data(), rstd.size());
  F::rmsnorm_forward(out.data(), rstd.data(), x.data(), w.data(), N, C, eps);
  expect("rmsnorm", out.data(), out.size());
  F::gelu_forward(out.data(), x.data(), n, F::GeluApproximation::none);
  expect("gelu", out.data(), out.size());
  F::gelu_forward(out.data(), x.data(), n, F::GeluApproximation::tanh);
  expect("gelu_tanh", out.data(), out.size());
  F::relu_forward(out.data(), x.data(), n);
  expect("relu", out.data(), out.size());
  F::residual_forward(out.data(), x.data(), a2.data(), n);
  expect("residual", out.data(), out.size());
  F::swiglu_forward(out.data(), x.data(), a2.data(), n);
  expect("swiglu", out.data(), out.size());
  // In place on either input.
  std::vector<float> a(x.data(), x.data() + n), bb(a2.data(), a2.data() + n);
  F::swiglu_forward(a.data(), a.data(), a2.data(), n);
  expect("swiglu", a.data(), a.size());
  F::swiglu_forward(bb.data(), x.data(), bb.data(), n);
  expect("swiglu", bb.data(), bb.size());
}

TEST(FunctionalVsTorch, EmbeddingAddsTokenAndPositionRows) {
  const int64_t V = 7, P = 9, C = 5, T = 3, pos0 = 4;
  Rng rng(3);
  const std::vector<float> wte = random_vector(static_cast<size_t>(V * C), rng);
  const std::vector<float> wpe = random_vector(static_cast<size_t>(P * C), rng);
  const int32_t ids[2 * T] = {6, 0, 3, 3, 5, 1};
  std::vector<float> out(static_cast<size_t>(2 * T * C));
  F::embedding_forward(out.data(), ids, wte.data(), wpe.data(), 2, T, C, pos0);
  for (int64_t bt = 0; bt < 2 * T; ++bt)
    for (int64_t j = 0; j < C; ++j)
      EXPECT_EQ(out[static_cast<size_t>(bt * C + j)],
                wte[static_cast<size_t>(ids[bt] * C + j)] + wpe[static_cast<size_t>((pos0 + bt % T) * C + j)]);
}

// ------------------------------------------------------------------ the model

TEST(GptVsTorch, LogitsAndEveryLayersAttention) {
  const TorchCase c = gpt_case();
  auto model = fixture_model();
  AttentionCapture capture;
  const std::vector<int32_t> ids = case_ids(c);
  const Tensor logits = model->forward(ids, 0, &capture);
  const ::testing::AssertionResult r = all_close(logits, c.get("logits"), kGptAtol, kGptRtol);
  EXPECT_TRUE(r) << "logits";
  std::cout << "logits vs torch: " << r.message() << " (atol " << kGptAtol << ", rtol " << kGptRtol << ")\n";
  const int64_t NH = model->config().n_head, T = static_cast<int64_t>(ids.size());
  for (int64_t l = 0; l < model->config().n_layer; ++l) {
    const Tensor w = capture.get(l, AttentionKind::self);
    ASSERT_EQ(w.shape(), (Shape{1, NH, T, T}));
    const ::testing::AssertionResult a = all_close(w.reshape({NH, T, T}), c.get("att" + std::to_string(l)), kGptAtol,
                                                   kGptRtol);
    EXPECT_TRUE(a) << "layer " << l;
    std::cout << "layer " << l << " attention vs torch: " << a.message() << "\n";
  }
}

TEST(GptVsTorch, KvCacheDecodingMatchesTheFullForward) {
  const TorchCase c = gpt_case();
  auto model = fixture_model();
  const std::vector<int32_t> ids = case_ids(c);
  const int64_t T = static_cast<int64_t>(ids.size()), V = model->config().vocab_size;
  const Tensor expected = c.get("logits");
  const Tensor expected_att1 = c.get("att1");
  // Prefill `first` tokens, then one at a time; also split in uneven blocks.
  for (int64_t first : {int64_t{1}, int64_t{4}, T - 1}) {
    AttentionCapture capture;
    model->reset();
    Tensor got = model->forward(std::vector<int32_t>(ids.begin(), ids.begin() + first), 0);
    EXPECT_TRUE(all_close(got.data(), expected.data(), static_cast<size_t>(first * V), kGptAtol, kGptRtol))
        << "prefill of " << first;
    for (int64_t i = first; i < T; ++i) {
      got = model->forward({ids[static_cast<size_t>(i)]}, i, &capture);
      EXPECT_TRUE(all_close(got.data(), expected.data() + i * V, static_cast<size_t>(V), kGptAtol, kGptRtol))
          << "token " << i << " after a prefill of " << first;
      // The captured weights of the one new query over the i + 1 keys: row i of the full map.
      const Tensor w = capture.get(1, AttentionKind::self);
      ASSERT_EQ(w.shape(), (Shape{1, model->config().n_head, 1, i + 1}));
      for (int64_t h = 0; h < model->config().n_head; ++h)
        EXPECT_TRUE(all_close(w.data() + h * (i + 1), expected_att1.data() + (h * T + i) * T,
                              static_cast<size_t>(i + 1), kGptAtol, kGptRtol))
            << "layer 1 head " << h << " token " << i;
    }
    EXPECT_EQ(model->cached_length(), T);
  }
  // Blocks of 3 after a rewind to position 2.
  model->forward(std::vector<int32_t>(ids.begin(), ids.begin() + 5), 0);
  const Tensor got = model->forward(std::vector<int32_t>(ids.begin() + 2, ids.begin() + 5), 2);
  EXPECT_TRUE(all_close(got.data(), expected.data() + 2 * V, static_cast<size_t>(3 * V), kGptAtol, kGptRtol))
      << "rewound block";
}

TEST(Gpt, ForwardRunsInTheArenaPlannedAtConstruction) {
  auto model = fixture_model();
  const GptConfig& cfg = model->config();
  const Arena& acts = model->activations();
  ASSERT_TRUE(acts.allocated());
  EXPECT_EQ(acts.bytes(), cfg.arena_bytes());
  const float* base = acts.flat().data();
  const float* end = base + acts.bytes() / 4;
  const std::vector<int32_t> ids = case_ids(gpt_case());
  const float* logits = model->forward(ids.data(), 5, 0);
  EXPECT_GE(logits, base);
  EXPECT_LE(logits + 5 * cfg.vocab_size, end);
  // Decoding and a new prefill reuse the same memory: the logits land at the same place
  // and the arena is neither grown nor re-allocated.
  EXPECT_EQ(model->forward(ids.data() + 5, 1, 5), logits);
  EXPECT_EQ(model->forward(ids.data(), 3, 0), logits);
  EXPECT_EQ(acts.flat().data(), base);
  EXPECT_EQ(acts.bytes(), cfg.arena_bytes());
  // The parameters are one allocation too.
  EXPECT_EQ(model->parameter_layout().slots().size(), model->named_parameters().size());
}

TEST(Gpt, RejectsBadArgumentsBeforeTouchingTheCache) {
  const TorchCase c = gpt_case();
  auto model = fixture_model();
  const std::vector<int32_t> ids = case_ids(c);
  const int64_t V = model->config().vocab_size, P = model->config().n_positions;
  model->forward(std::vector<int32_t>(ids.begin(), ids.begin() + 4), 0);
  EXPECT_TRUE(throws_error([&] { model->forward({0, static_cast<int32_t>(V)}, 4); },
                           {"token id 61", "index 1", "[0, 61)"}, "Gpt.forward: "));
  EXPECT_TRUE(throws_error([&] { model->forward({-1}, 4); }, {"token id -1"}, "Gpt.forward: "));
  EXPECT_TRUE(throws_error([&] { model->forward(std::vector<int32_t>(static_cast<size_t>(P - 3), 1), 4); },
                           {"run past n_positions (24)"}, "Gpt.forward: "));
  EXPECT_TRUE(throws_error([&] { model->forward({1}, 6); }, {"pos 6", "[0, 4]"}, "Gpt.forward: "));
  EXPECT_TRUE(throws_error([&] { model->forward(ids.data(), 0, 4); }, {"at least 1"}, "Gpt.forward: "));
  EXPECT_TRUE(throws_error([&] { model->forward(ids.data(), 1, -1); }, {"pos -1"}, "Gpt.forward: "));
  // None of them touched the cache: decoding continues as if they never happened.
  EXPECT_EQ(model->cached_length(), 4);
  const Tensor got = model->forward({ids[4]}, 4);
  EXPECT_TRUE(all_close(got.data(), c.get("logits").data() + 4 * V, static_cast<size_t>(V), kGptAtol, kGptRtol));
}

TEST(Gpt, ConfigValidation) {
  GptConfig c{61, 24, 32, 2, 4};
  EXPECT_NO_THROW(c.validate());
  GptConfig bad = c;
  bad.n_head = 5;
  EXPECT_TRUE(throws_error([&] { bad.validate(); }, {"n_embd (32)", "divisible by n_head (5)"}, "GptConfig: "));
  bad = c;
  bad.n_layer = 0;
  EXPECT_TRUE(throws_error([&] { bad.validate(); }, {"n_layer must be positive, got 0"}, "GptConfig: "));
  bad = c;
  bad.activation = "swish";
  EXPECT_TRUE(throws_error([&] { bad.validate(); }, {"\"swish\" is not supported"}, "GptConfig: "));
  // Sizes whose products overflow 32 bits (wasm's size_t) and int64 are caught by the
  // checked arithmetic before the constructor allocates.
  bad = c;
  bad.vocab_size = int64_t{1} << 20;
  bad.n_embd = int64_t{1} << 12;
  bad.n_head = 1;
  EXPECT_TRUE(throws_error([&] { Gpt m(bad); }, {"too large"}, "GptConfig: "));
  bad = c;
  bad.n_positions = int64_t{1} << 40;
  EXPECT_TRUE(throws_error([&] { Gpt m(bad); }, {"n_positions", "too large"}, "GptConfig: "));
  bad = c;
  bad.n_positions = 60000;  // att (NH, P, P) is 57 GB
  EXPECT_TRUE(throws_error([&] { Gpt m(bad); }, {"too large"}, "GptConfig: "));
}

TEST(Gpt, UntiedHeadUsesLmHeadWeight) {
  GptConfig cfg{13, 6, 8, 1, 2};
  cfg.tie_word_embeddings = false;
  cfg.activation = "relu";
  Gpt m(cfg, 5);
  const NamedTensors params = m.named_parameters();
  ASSERT_EQ(params.back().first, "lm_head.weight");
  EXPECT_EQ(params.back().second->shape(), (Shape{13, 8}));
  // The logits are ln_f(x) lm_head^T: a zero lm_head gives zero logits whatever wte is.
  StateDict sd = m.state_dict();
  sd["lm_head.weight"] = Tensor::zeros({13, 8});
  m.load_state_dict(sd);
  const Tensor logits = m.forward({1, 2, 3});
  for (float v : logits.to_vector()) EXPECT_EQ(v, 0.0f);
}

// ------------------------------------------------------------------ sampling

std::vector<float> random_logits(int64_t V, uint64_t seed) {
  Rng rng(seed);
  return random_vector(static_cast<size_t>(V), rng, -2.0f, 2.0f);
}

int32_t argmax(const std::vector<float>& x) {
  return static_cast<int32_t>(std::max_element(x.begin(), x.end()) - x.begin());
}

TEST(Sampling, GreedyAndItsLimitsPickTheArgmax) {
  const std::vector<float> logits = random_logits(37, 11);
  const int32_t best = argmax(logits);
  Sampler greedy({0.0f});
  Sampler top1({1.0f, 1});
  Sampler tiny_p({1.0f, 0, 1e-6f, 7});
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(greedy.sample(logits.data(), 37), best);
    EXPECT_EQ(top1.sample(logits.data(), 37), best);
    EXPECT_EQ(tiny_p.sample(logits.data(), 37), best);
  }
}

TEST(Sampling, SeededRunsRepeat) {
  const std::vector<float> logits = random_logits(50, 12);
  Sampler a({0.9f, 0, 1.0f, 42}), b({0.9f, 0, 1.0f, 42}), other({0.9f, 0, 1.0f, 43});
  std::vector<int32_t> ra, rb, ro;
  for (int i = 0; i < 64; ++i) {
    ra.push_back(a.sample(logits.data(), 50));
    rb.push_back(b.sample(logits.data(), 50));
    ro.push_back(other.sample(logits.data(), 50));
  }
  EXPECT_EQ(ra, rb);
  EXPECT_NE(ra, ro);
}

// Pearson's chi-square of `counts` against probabilities `p` over `draws` draws.
double chi_square(const std::vector<int>& counts, const std::vector<double>& p, int draws) {
  double chi = 0;
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] > 0) chi += (counts[i] - draws * p[i]) * (counts[i] - draws * p[i]) / (draws * p[i]);
  return chi;
}

std::vector<double> softmax_double(const std::vector<float>& logits, double temperature) {
  std::vector<double> p(logits.size());
  double m = -INFINITY, s = 0;
  for (float v : logits) m = std::max(m, double(v));
  for (size_t i = 0; i < p.size(); ++i) s += p[i] = std::exp((logits[i] - m) / temperature);
  for (double& v : p) v /= s;
  return p;
}

// Chi-square critical values at p = 0.001 (upper tail) for 7 and 2 degrees of freedom.
constexpr double kChi2Crit7 = 24.32, kChi2Crit2 = 13.82;

TEST(Sampling, TemperatureDrawsFollowTheSoftmax) {
  const std::vector<float> logits = random_logits(8, 13);
  for (float temperature : {0.5f, 1.0f, 2.0f}) {
    const std::vector<double> p = softmax_double(logits, temperature);
    Sampler s({temperature, 0, 1.0f, 99});
    const int draws = 20000;
    std::vector<int> counts(8, 0);
    for (int i = 0; i < draws; ++i) ++counts[static_cast<size_t>(s.sample(logits.data(), 8))];
    const double chi = chi_square(counts, p, draws);
    EXPECT_LT(chi, kChi2Crit7) << "temperature " << temperature;
    std::cout << "temperature " << temperature << ": chi-square " << chi << " (7 dof, bound " << kChi2Crit7 << ")\n";
  }
}

TEST(Sampling, TopKAndTopPDrawOnlyFromTheirSets) {
  const std::vector<float> logits = random_logits(20, 14);
  std::vector<int32_t> by_logit(20);
  for (int32_t i = 0; i < 20; ++i) by_logit[static_cast<size_t>(i)] = i;
  std::sort(by_logit.begin(), by_logit.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  // top_k = 3: only the three best, in proportion to their softmax among themselves.
  {
    Sampler s({1.0f, 3, 1.0f, 5});
    std::vector<int> counts(20, 0);
    const int draws = 9000;
    for (int i = 0; i < draws; ++i) ++counts[static_cast<size_t>(s.sample(logits.data(), 20))];
    std::vector<float> best3;
    for (int r = 0; r < 3; ++r) best3.push_back(logits[by_logit[r]]);
    const std::vector<double> p3 = softmax_double(best3, 1.0);
    std::vector<int> c3;
    int total = 0;
    for (int r = 0; r < 3; ++r) total += counts[by_logit[r]], c3.push_back(counts[by_logit[r]]);
    EXPECT_EQ(total, draws) << "top-k drew outside the 3 best";
    EXPECT_LT(chi_square(c3, p3, draws), kChi2Crit2);
  }
  // top_p: the smallest most-probable set whose probability reaches p, from a double softmax.
  {
    const std::vector<double> p = softmax_double(logits, 1.0);
    const float top_p = 0.6f;
    std::set<int32_t> nucleus;
    double cum = 0;
    for (int32_t id : by_logit) {
      if (cum >= top_p) break;
      nucleus.insert(id);
      cum += p[static_cast<size_t>(id)];
    }
    Sampler s({1.0f, 0, top_p, 6});
    std::set<int32_t> seen;
    for (int i = 0; i < 4000; ++i) seen.insert(s.sample(logits.data(), 20));
    EXPECT_EQ(seen, nucleus);
  }
}

TEST(Sampling, RejectsBadOptions) {
  EXPECT_TRUE(throws_error([] { Sampler s({-1.0f}); }, {"temperature", "-1"}, "Sampler: "));
  EXPECT_TRUE(throws_error([] { Sampler s({NAN}); }, {"temperature"}, "Sampler: "));
  EXPECT_TRUE(throws_error([] { Sampler s({1.0f, -2}); }, {"top_k", "-2"}, "Sampler: "));
  EXPECT_TRUE(throws_error([] { Sampler s({1.0f, 0, 0.0f}); }, {"top_p", "(0, 1]"}, "Sampler: "));
  EXPECT_TRUE(throws_error([] { Sampler s({1.0f, 0, 1.5f}); }, {"top_p"}, "Sampler: "));
}

TEST(Generate, GreedyThroughTheCacheEqualsRecomputingEverything) {
  auto model = fixture_model();
  const std::vector<int32_t> prompt = {5, 17, 42};
  const std::vector<int32_t> got = generate(*model, prompt, 8, {0.0f});
  ASSERT_EQ(got.size(), 8u);
  // Reference: the full sequence from scratch every step (no cache), argmax of the last row.
  std::vector<int32_t> seq = prompt;
  const int64_t V = model->config().vocab_size;
  for (int step = 0; step < 8; ++step) {
    const Tensor logits = model->forward(seq, 0);
    const float* last = logits.data() + (static_cast<int64_t>(seq.size()) - 1) * V;
    seq.push_back(static_cast<int32_t>(std::max_element(last, last + V) - last));
  }
  EXPECT_EQ(got, std::vector<int32_t>(seq.begin() + 3, seq.end()));
}

TEST(Generate, StopsOnTheCallbackAndAtTheBlockSize) {
  auto model = fixture_model();
  std::vector<int32_t> seen;
  const std::vector<int32_t> got = generate(*model, {1, 2}, 10, {0.8f, 5, 0.9f, 3}, [&](int32_t t) {
    seen.push_back(t);
    return seen.size() < 4;
  });
  EXPECT_EQ(got.size(), 4u);
  EXPECT_EQ(got, seen);
  // n_positions = 24: a 20-token prompt leaves 4 positions to feed, and the token after
  // the last one is still predicted: 5 new tokens, however many were asked for.
  EXPECT_EQ(generate(*model, std::vector<int32_t>(20, 3), 100, {0.0f}).size(), 5u);
  EXPECT_TRUE(throws_error([&] { generate(*model, {}, 3, {}); }, {"prompt is empty"}, "generate: "));
  EXPECT_TRUE(throws_error([&] { generate(*model, {1}, -1, {}); }, {"max_new_tokens"}, "generate: "));
  EXPECT_TRUE(throws_error([&] { generate(*model, {1, 99}, 3, {}); }, {"token id 99"}, "Gpt.forward: "));
}

}  // namespace
}  // namespace attn::testing
