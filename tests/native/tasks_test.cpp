// Task generators and learning-rate schedules (src/train/tasks.hpp, schedule.hpp), and
// the GPTs the page ships (web/models/*): each loads with io::load_model and reproduces,
// on a small held-out slice, the metric its MODEL_CARD.md states.
// Schedules are compared with torch.optim.lr_scheduler's own numbers
// (tests/fixtures/schedules.safetensors, scripts/fixtures/schedules.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "io/model_loader.hpp"
#include "models/gpt.hpp"
#include "torch_fixtures.hpp"
#include "train/schedule.hpp"
#include "train/tasks.hpp"

namespace attn::testing {
namespace {

// Learning rates: float32 in the fixture, double here.
constexpr double kLrRtol = 1e-6;
// A shipped model's held-out slice, recomputed through the inference forward (Gpt::forward,
// KV-cache path) instead of the trainer's: float rounding differs, not the model.
constexpr double kSliceLossAtol = 2e-3;
constexpr double kSliceAccuracyAtol = 0.01;

const std::string kRoot = std::string(ATTN_FIXTURE_DIR) + "/../..";

std::string read_text(const std::string& path) { return read_file(path); }

// ------------------------------------------------------------------ induction

TEST(InductionTask, RepeatsADistinctFirstHalfAndScoresOnlyRepeats) {
  const train::InductionTask task(20, 6);
  ASSERT_EQ(task.seq_len(), 11);
  Rng rng(5);
  std::vector<int32_t> in, tg;
  const int64_t B = 50, T = task.seq_len(), H = task.half();
  task.batch(rng, B, in, tg);
  ASSERT_EQ(in.size(), static_cast<size_t>(B * T));
  for (int64_t b = 0; b < B; ++b) {
    const int32_t* x = in.data() + b * T;
    const int32_t* y = tg.data() + b * T;
    std::set<int32_t> first(x, x + H);
    EXPECT_EQ(first.size(), static_cast<size_t>(H)) << "sequence " << b << ": first half has repeats";
    for (int64_t t = 0; t < H; ++t) EXPECT_TRUE(x[t] >= 0 && x[t] < 20);
    for (int64_t t = H; t < T; ++t) EXPECT_EQ(x[t], x[t - H]) << "sequence " << b << " position " << t;
    for (int64_t t = 0; t < H; ++t) EXPECT_EQ(y[t], -100) << "sequence " << b << " position " << t;
    // The target at a repeated token is the successor of its first occurrence.
    for (int64_t t = H; t < T; ++t) EXPECT_EQ(y[t], x[t - H + 1]) << "sequence " << b << " position " << t;
    if (b == 0) EXPECT_EQ(y[T - 1], x[H - 1]);  // the last target: the first half's last token
  }
}

TEST(InductionTask, DeterministicBySeed) {
  const train::InductionTask task(32, 16, -1);
  std::vector<int32_t> a, at, b, bt, c, ct;
  Rng r1(9), r2(9), r3(10);
  task.batch(r1, 8, a, at);
  task.batch(r2, 8, b, bt);
  task.batch(r3, 8, c, ct);
  EXPECT_EQ(a, b);
  EXPECT_EQ(at, bt);
  EXPECT_NE(a, c);
  EXPECT_EQ(std::count(at.begin(), at.end(), -1), 8 * 16);  // the custom ignore_index
  // Consecutive batches from one Rng differ.
  task.batch(r1, 8, b, bt);
  EXPECT_NE(a, b);
}

TEST(InductionTask, RejectsBadSizes) {
  EXPECT_TRUE(throws_error([] { train::InductionTask(10, 11); }, {"half", "10", "11"}, "InductionTask:"));
  EXPECT_TRUE(throws_error([] { train::InductionTask(1, 1); }, {"vocab_size"}, "InductionTask:"));
  const train::InductionTask task(10, 4);
  Rng rng;
  std::vector<int32_t> in, tg;
  EXPECT_TRUE(throws_error([&] { task.batch(rng, 0, in, tg); }, {"B must be >= 1"}, "InductionTask::batch:"));
}

// ------------------------------------------------------------------ char corpus

TEST(CharCorpus, SplitsFortunesAndMapsRareCharactersToUnk) {
  EXPECT_EQ(train::split_fortunes("a\nb\n%\nc\n%\n%\nd"), (std::vector<std::string>{"a\nb\n", "c\n", "d\n"}));
  // 6 fortunes; with val_every 3, fortunes 2 and 5 are validation.
  const std::string file1 = "aaa\n%\nbab\n%\nzz\n%\n";
  const std::string file2 = "abba\n%\ncaf\xc3\xa9\n%\nq\xff\n";
  const auto c = train::CharCorpus::from_texts({file1, file2}, /*max_vocab=*/5, /*min_count=*/1, /*val_every=*/3);
  EXPECT_EQ(c.train_fortunes(), (std::vector<std::string>{"aaa\n%\n", "bab\n%\n", "abba\n%\n", "caf\xc3\xa9\n%\n"}));
  EXPECT_EQ(c.val_fortunes(), (std::vector<std::string>{"zz\n%\n", "q\xff\n%\n"}));
  // Training counts: a 7, \n 4, % 4, b 4, c 1, f 1, é 1. Four kept (most frequent, ties by
  // code point: '\n' < '%' < 'b'), listed by code point after <unk>.
  EXPECT_EQ(c.vocab(), (std::vector<std::string>{"<unk>", "\n", "%", "a", "b"}));
  EXPECT_EQ(c.encode("ab\nc\xc3\xa9%"), (std::vector<int32_t>{3, 4, 1, 0, 0, 2}));
  EXPECT_EQ(c.encode("\xff"), (std::vector<int32_t>{0}));  // invalid UTF-8: unk
  // "zz\n%\nq\xff\n%\n": z, z and q and the invalid byte are unk.
  EXPECT_EQ(c.val_ids(), (std::vector<int32_t>{0, 0, 1, 2, 1, 0, 0, 1, 2, 1}));
  // The spec makes io's char tokenizer, which encodes the same ids.
  const auto tok = io::make_tokenizer(c.tokenizer_spec());
  EXPECT_EQ(tok->vocab_size(), 5);
  EXPECT_EQ(tok->encode("ab\nc\xc3\xa9%"), c.encode("ab\nc\xc3\xa9%"));

  const auto small = train::CharCorpus::from_texts({file1, file2}, 96, /*min_count=*/2, 3);
  EXPECT_EQ(small.vocab(), (std::vector<std::string>{"<unk>", "\n", "%", "a", "b"}));  // count-1 characters dropped
  const auto all = train::CharCorpus::from_texts({file1, file2}, 96, 1, 3);
  EXPECT_EQ(all.vocab(), (std::vector<std::string>{"<unk>", "\n", "%", "a", "b", "c", "f", "\xc3\xa9"}));
}

TEST(CharCorpus, BatchesAreShiftedTrainingWindowsDeterministicBySeed) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += std::string(1, static_cast<char>('a' + i % 26)) + "bcdefg\n%\n";
  const auto c = train::CharCorpus::from_texts({text}, 96, 1, 4);
  const std::vector<int32_t>& ids = c.train_ids();
  std::vector<int32_t> in, tg, in2, tg2;
  Rng r1(3), r2(3);
  const int64_t B = 6, T = 9;
  c.batch(r1, B, T, in, tg);
  c.batch(r2, B, T, in2, tg2);
  EXPECT_EQ(in, in2);
  EXPECT_EQ(tg, tg2);
  for (int64_t b = 0; b < B; ++b) {
    // The targets are the inputs shifted by one, and the T + 1 ids occur in the training ids.
    EXPECT_TRUE(std::equal(tg.begin() + b * T, tg.begin() + (b + 1) * T - 1, in.begin() + b * T + 1));
    std::vector<int32_t> window(in.begin() + b * T, in.begin() + (b + 1) * T);
    window.push_back(tg[(b + 1) * T - 1]);
    EXPECT_NE(std::search(ids.begin(), ids.end(), window.begin(), window.end()), ids.end()) << "window " << b;
  }
  const int64_t W = c.num_val_windows(T);
  EXPECT_EQ(W, (static_cast<int64_t>(c.val_ids().size()) - 1) / T);
  std::vector<int32_t> vi(T), vt(T);
  c.val_window(W - 1, T, vi.data(), vt.data());
  EXPECT_TRUE(std::equal(vt.begin(), vt.end(), c.val_ids().begin() + (W - 1) * T + 1));
  EXPECT_TRUE(throws_error([&] { c.val_window(W, T, vi.data(), vt.data()); }, {"window", "outside"},
                           "CharCorpus::val_window:"));
  EXPECT_TRUE(throws_error([&] { c.batch(r1, 1, 100000, in, tg); }, {"T = 100000", "training ids"},
                           "CharCorpus::batch:"));
  EXPECT_TRUE(throws_error([] { train::CharCorpus::from_texts({"a\n%\n"}, 96, 1, 2); }, {"empty"}, "CharCorpus:"));
  EXPECT_TRUE(throws_error([] { train::CharCorpus::from_fortune_files({"/nonexistent/fortunes"}); },
                           {"/nonexistent/fortunes"}, "CharCorpus:"));
}

// The real corpus: the split is by fortune, every fortune lands in exactly one side, and
// the vocabulary covers nearly all of it.
TEST(CharCorpus, FortunesPackageSplitIsByFortune) {
  const std::vector<std::string> files = train::fortunes_package_files();
  if (!std::ifstream(files[0]).good()) GTEST_SKIP() << "Debian's fortunes package is not installed";
  const auto c = train::CharCorpus::from_fortune_files(files, 96);
  std::vector<std::string> all;
  for (const std::string& f : files)
    for (std::string& s : train::split_fortunes(read_text(f))) all.push_back(s + "%\n");
  ASSERT_EQ(all.size(), c.train_fortunes().size() + c.val_fortunes().size());
  size_t ti = 0, vi = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    const bool val = i % 10 == 9;
    EXPECT_EQ(all[i], val ? c.val_fortunes()[vi++] : c.train_fortunes()[ti++]) << "fortune " << i;
  }
  EXPECT_EQ(c.vocab_size(), 96);
  const int64_t unk = std::count(c.train_ids().begin(), c.train_ids().end(), train::CharCorpus::kUnk);
  EXPECT_LT(static_cast<double>(unk) / c.train_ids().size(), 1e-3);
  const train::NgramBaselines base = train::ngram_baselines(c, 128);
  std::cout << "fortunes: " << all.size() << " fortunes, unigram " << base.unigram << ", bigram " << base.bigram
            << " nats/char\n";
  EXPECT_LT(base.bigram, base.unigram);
  EXPECT_LT(base.unigram, std::log(96.0));
}

// ------------------------------------------------------------------ schedules

TEST(Schedules, MatchTorchLrScheduler) {
  for (const char* kind : {"warmup_cosine", "cosine", "step"})
    for (const TorchCase& tc : torch_cases(kind, "schedules.safetensors")) {
      const std::vector<float> expected = tc.get("lr").to_vector();
      const double base = tc.meta["base_lr"];
      std::vector<float> actual;
      for (size_t s = 0; s < expected.size(); ++s) {
        const int64_t step = static_cast<int64_t>(s);
        double lr = 0;
        if (tc.meta["kind"] == "warmup_cosine")
          lr = train::WarmupCosine(base, tc.meta["warmup"], tc.meta["total"], tc.meta["min_ratio"]).lr(step);
        else if (tc.meta["kind"] == "cosine")
          lr = train::CosineAnnealingLR(base, tc.meta["T_max"], tc.meta["eta_min"]).lr(step);
        else
          lr = train::StepLR(base, tc.meta["step_size"], tc.meta["gamma"]).lr(step);
        actual.push_back(static_cast<float>(lr));
      }
      EXPECT_TRUE(all_close(actual, expected, 1e-9, kLrRtol)) << tc.name;
    }
}

TEST(Schedules, RejectBadArguments) {
  EXPECT_TRUE(throws_error([] { train::WarmupCosine(1e-3, -1, 10); }, {"warmup", "-1"}, "WarmupCosine:"));
  EXPECT_TRUE(throws_error([] { train::WarmupCosine(1e-3, 1, 10, 2.0); }, {"min_ratio"}, "WarmupCosine:"));
  EXPECT_TRUE(throws_error([] { train::WarmupCosine(NAN, 1, 10); }, {"base_lr"}, "WarmupCosine:"));
  EXPECT_TRUE(throws_error([] { train::CosineAnnealingLR(0.1, 0); }, {"T_max"}, "CosineAnnealingLR:"));
  EXPECT_TRUE(throws_error([] { train::StepLR(0.1, 0); }, {"step_size"}, "StepLR:"));
  EXPECT_TRUE(throws_error([] { train::StepLR(0.1, 2).lr(-1); }, {"step", "-1"}, "StepLR:"));
}

// ------------------------------------------------------------------ shipped models

TEST(ShippedModels, InductionReproducesItsHeldOutAccuracy) {
  ShippedModel s = load_shipped("induction-2l");
  ASSERT_EQ(s.loaded.model_type, "gpt2");
  ASSERT_GT(s.slice_count, 0) << "MODEL_CARD.md states no held-out slice";
  auto& model = dynamic_cast<Gpt&>(*s.loaded.model);
  const GptConfig& cfg = model.config();
  EXPECT_EQ(cfg.n_layer, 2);
  ASSERT_TRUE(s.loaded.tokenizer);
  EXPECT_EQ(s.loaded.tokenizer->encode("3 17 0"), (std::vector<int32_t>{3, 17, 0}));
  // The card's held-out sequences: seed 1337 on the trainer's evaluation stream (0x5eed).
  const train::InductionTask task(cfg.vocab_size, (cfg.n_positions + 1) / 2);
  Rng rng(1337, 0x5eed);
  std::vector<int32_t> in, tg;
  task.batch(rng, s.slice_count, in, tg);
  const int64_t T = task.seq_len(), V = cfg.vocab_size;
  int64_t hit = 0, total = 0;
  for (int64_t b = 0; b < s.slice_count; ++b) {
    const float* logits = model.forward(in.data() + b * T, T, 0);
    for (int64_t t = 0; t < T; ++t) {
      if (tg[b * T + t] == -100) continue;
      const float* row = logits + t * V;
      hit += (std::max_element(row, row + V) - row) == tg[b * T + t];
      ++total;
    }
  }
  const double acc = static_cast<double>(hit) / total;
  std::cout << "induction-2l: accuracy " << acc << " on " << total << " held-out targets (card: " << s.slice_value
            << ")\n";
  EXPECT_GE(acc, 0.95);
  EXPECT_NEAR(acc, s.slice_value, kSliceAccuracyAtol);
}

TEST(ShippedModels, FortunesCharReproducesItsValidationLoss) {
  const std::vector<std::string> files = train::fortunes_package_files();
  if (!std::ifstream(files[0]).good()) GTEST_SKIP() << "Debian's fortunes package is not installed";
  ShippedModel s = load_shipped("fortunes-char");
  ASSERT_GT(s.slice_count, 0) << "MODEL_CARD.md states no held-out slice";
  auto& model = dynamic_cast<Gpt&>(*s.loaded.model);
  const GptConfig& cfg = model.config();
  const auto corpus = train::CharCorpus::from_fortune_files(files, cfg.vocab_size);
  ASSERT_EQ(corpus.vocab_size(), cfg.vocab_size);
  ASSERT_TRUE(s.loaded.tokenizer);
  // The shipped tokenizer is the corpus's vocabulary.
  const std::string sample = corpus.val_fortunes()[0];
  EXPECT_EQ(s.loaded.tokenizer->encode(sample), corpus.encode(sample));
  const int64_t T = cfg.n_positions, V = cfg.vocab_size;
  std::vector<int32_t> in(T), tg(T);
  double nll = 0;
  for (int64_t k = 0; k < s.slice_count; ++k) {
    corpus.val_window(k, T, in.data(), tg.data());
    const float* logits = model.forward(in.data(), T, 0);
    for (int64_t t = 0; t < T; ++t) {
      const float* row = logits + t * V;
      const double mx = *std::max_element(row, row + V);
      double z = 0;
      for (int64_t v = 0; v < V; ++v) z += std::exp(row[v] - mx);
      nll += mx + std::log(z) - row[tg[t]];
    }
  }
  const double loss = nll / static_cast<double>(s.slice_count * T);
  const train::NgramBaselines base = train::ngram_baselines(corpus, T);
  std::cout << "fortunes-char: loss " << loss << " nats/char on " << s.slice_count << " validation windows (card: "
            << s.slice_value << "; bigram baseline " << base.bigram << ")\n";
  EXPECT_NEAR(loss, s.slice_value, kSliceLossAtol);
  EXPECT_LT(loss, base.bigram);
}

}  // namespace
}  // namespace attn::testing
