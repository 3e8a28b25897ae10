// The algorithmic sequence tasks (train/sequence_tasks.hpp), their answers checked by
// integer arithmetic written here, and GptTrainer (train/trainer.hpp): a seeded run on
// each task family lowers the loss and raises held-out accuracy; the same seed gives the
// same run; a step allocates no tensor; options are refused with named errors.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <cmath>
#include <cstdio>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "core/size.hpp"
#include "io/model_loader.hpp"
#include "testing.hpp"
#include "train/trainer.hpp"

namespace attn::testing {
namespace {

using train::SequenceTask;
using train::SequenceTaskKind;

int64_t number(const std::vector<int32_t>& s, size_t from, size_t n) {
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = v * 10 + s[from + i];
  return v;
}

TEST(SequenceTasks, AnswersAreRight) {
  Rng rng(3);
  for (int rep = 0; rep < 200; ++rep) {
    const SequenceTask add(SequenceTaskKind::addition, 4);
    const std::vector<int32_t> s = add.example(rng);
    ASSERT_EQ(static_cast<int64_t>(s.size()), add.seq_len() + 1);
    EXPECT_EQ(s[4], SequenceTask::kPlus);
    EXPECT_EQ(s[9], SequenceTask::kEquals);
    EXPECT_EQ(number(s, 0, 4) + number(s, 5, 4), number(s, 10, 5)) << "rep " << rep;
    const SequenceTask rev(SequenceTaskKind::reverse, 5), srt(SequenceTaskKind::sort, 5), cp(SequenceTaskKind::copy, 5);
    const std::vector<int32_t> r = rev.example(rng), o = srt.example(rng), c = cp.example(rng);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(r[6 + i], r[4 - i]);
      EXPECT_EQ(c[6 + i], c[i]);
    }
    std::vector<int32_t> sorted(o.begin(), o.begin() + 5);
    std::sort(sorted.begin(), sorted.end());
    EXPECT_TRUE(std::equal(sorted.begin(), sorted.end(), o.begin() + 6));
    EXPECT_TRUE(std::is_sorted(o.begin() + 6, o.end()));
  }
}

TEST(SequenceTasks, OnlyTheAnswerIsScored) {
  const SequenceTask add(SequenceTaskKind::addition, 3);
  Rng a(9), b(9);
  std::vector<int32_t> in, tg;
  add.batch(a, 2, in, tg);
  const int64_t T = add.seq_len();
  ASSERT_EQ(static_cast<int64_t>(in.size()), 2 * T);
  for (int64_t s = 0; s < 2; ++s) {
    const std::vector<int32_t> full = add.example(b);  // the same draws
    for (int64_t t = 0; t < T; ++t) {
      EXPECT_EQ(in[s * T + t], full[t]);
      const bool answer = t + 1 >= add.answer_start();
      EXPECT_EQ(tg[s * T + t], answer ? full[t + 1] : -100) << "t " << t;
    }
  }
  EXPECT_THROW(SequenceTask(SequenceTaskKind::copy, 0), Error);
  EXPECT_THROW(train::sequence_task_kind("divide", "test"), Error);
}

train::TrainerOptions small(const std::string& task) {
  train::TrainerOptions o;
  o.task = task;
  o.length = task == "induction" ? 6 : 4;
  o.vocab = 12;
  o.layers = 2;
  o.heads = 2;
  o.d_model = 32;
  o.batch = 16;
  o.lr = 3e-3;
  o.seed = 11;
  return o;
}

TEST(GptTrainer, SeededRunsLearnEveryTaskFamily) {
  for (const char* task : {"copy", "induction"}) {
    train::GptTrainer t(small(task));
    const train::EvalStats before = t.evaluate(4);
    double first = 0, last = 0;
    const int steps = 300;
    for (int i = 0; i < steps; ++i) {
      const train::StepStats s = t.step();
      ASSERT_TRUE(std::isfinite(s.loss));
      if (i < 20) first += s.loss / 20;
      if (i >= steps - 20) last += s.loss / 20;
    }
    const train::EvalStats after = t.evaluate(4);
    std::printf("  %-9s loss %.3f -> %.3f; held-out accuracy %.3f -> %.3f (%lld targets)\n", task, first, last,
                before.accuracy, after.accuracy, static_cast<long long>(after.targets));
    EXPECT_LT(last, 0.6 * first) << task;
    EXPECT_GT(after.accuracy, before.accuracy + 0.3) << task;
  }
}

TEST(GptTrainer, SameSeedSameRunAndAStepAllocatesNoTensor) {
  train::TrainerOptions o = small("addition");
  o.clip = "clamp";  // seed 001's asymmetric clamp
  train::GptTrainer a(o), b(o);
  for (int i = 0; i < 5; ++i) {
    const train::StepStats x = a.step(), y = b.step();
    EXPECT_EQ(x.loss, y.loss);
    EXPECT_EQ(x.grad_norm, y.grad_norm);
    EXPECT_EQ(x.lr, y.lr);
  }
  {
    AllocationCap cap(0, "a training step");
    a.step();
  }
  o.seed = 12;
  train::GptTrainer c(o);
  EXPECT_NE(c.step().loss, train::GptTrainer(small("addition")).step().loss);
}

TEST(GptTrainer, SavedModelLoadsAndGivesTheProbeLogits) {
  train::GptTrainer t(small("reverse"));
  for (int i = 0; i < 3; ++i) t.step();
  const std::vector<uint8_t> w = t.weights();
  io::LoadedModel m = io::load_model(t.config_json("reverse-test"), w.data(), w.size());
  Gpt& g = dynamic_cast<Gpt&>(*m.model);
  const int64_t T = t.seq_len(), V = t.vocab_size();
  const std::vector<float> want(t.probe(nullptr), t.probe(nullptr) + T * V);
  const float* got = g.forward(t.probe_ids().data(), T, 0);
  EXPECT_TRUE(all_close(got, want.data(), static_cast<size_t>(T * V), 0.0, 0.0));
  EXPECT_EQ(m.tokenizer->decode({3, 10, 12}), "3 | =");
}

// The first losses of a seeded run, written next to the parity file (tests/native/parity_test.cpp)
// for tests/js/trainer.test.mjs, which runs the same options through the wasm package and
// compares: training, too, gives the native build's numbers.
TEST(GptTrainer, RecordsARunForTheWasmComparison) {
  train::TrainerOptions o = small("addition");
  o.clip = "norm";
  o.optimizer = "adamw";
  train::GptTrainer t(o);
  std::ostringstream json;
  json.precision(17);
  json << "{\"options\": {\"task\": \"addition\", \"length\": " << o.length << ", \"layers\": " << o.layers
       << ", \"heads\": " << o.heads << ", \"dModel\": " << o.d_model << ", \"batch\": " << o.batch
       << ", \"lr\": " << o.lr << ", \"seed\": " << o.seed << "}, \"losses\": [";
  for (int i = 0; i < 5; ++i) json << (i ? ", " : "") << t.step().loss;
  json << "]}\n";
  if (const char* parity = std::getenv("ATTN_PARITY_OUT")) {
    std::ofstream(std::filesystem::path(parity).parent_path() / "trainer_parity.json") << json.str();
  }
  SUCCEED() << json.str();
}

TEST(Trainer, EncoderTasksLearnAndStepWithoutAllocating) {
  for (const char* task : {"brackets", "dates"}) {
    train::TrainerOptions o = small(task);
    o.length = 10;
    o.heads = 4;
    o.lr = 2e-3;
    std::unique_ptr<train::Trainer> t = train::make_trainer(o);
    const train::EvalStats before = t->evaluate(16);
    for (int i = 0; i < 400; ++i) ASSERT_TRUE(std::isfinite(t->step().loss));
    const train::EvalStats after = t->evaluate(16);
    std::printf("  %-8s held-out accuracy %.3f -> %.3f\n", task, before.accuracy, after.accuracy);
    EXPECT_GT(after.accuracy, before.accuracy + 0.15) << task;
    {
      AllocationCap cap(0, "an encoder training step");
      t->step();
    }
    const std::vector<uint8_t> w = t->weights();
    io::LoadedModel m = io::load_model(t->config_json("t"), w.data(), w.size());
    EXPECT_EQ(m.model_type, std::string(task) == "brackets" ? "encoder-classifier" : "encoder-decoder");
  }
}

TEST(GptTrainer, RefusesBadOptionsByName) {
  auto fails = [](train::TrainerOptions o, const char* what) {
    try {
      train::GptTrainer t(o);
      ADD_FAILURE() << "accepted " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  train::TrainerOptions o = small("copy");
  o.task = "divide";
  fails(o, "Trainer: task must be");
  o = small("copy");
  o.heads = 3;
  fails(o, "Trainer: heads (3) must divide dModel (32)");
  o = small("copy");
  o.lr = std::nan("");
  fails(o, "Trainer: lr must be a number");
  o = small("copy");
  o.clip = "clamp";
  o.clamp_min = 1;
  o.clamp_max = -1;
  fails(o, "Trainer: clip min (1) must not exceed max (-1)");
  o = small("induction");
  o.length = 20;
  fails(o, "Trainer: induction needs length <= vocab");
  o = small("copy");
  o.optimizer = "lion";
  fails(o, "Trainer: optimizer must be adamw, adam or sgd");
}

}  // namespace
}  // namespace attn::testing
