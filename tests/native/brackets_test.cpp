// The balanced-brackets task (train/brackets.hpp): every label agrees with an independent
// checker written here (delete "()", "[]", "{}" pairs until none is left: balanced iff the
// string empties), the classes are balanced, negatives include even-length near misses, and
// batches are padded and masked as the trainer expects.
#include <cstdio>
#include <string>
#include <vector>

#include "models/encoder_classifier.hpp"
#include "testing.hpp"
#include "train/brackets.hpp"

namespace attn::testing {
namespace {

bool by_deletion(std::string s) {
  for (;;) {
    const size_t before = s.size();
    for (const char* pair : {"()", "[]", "{}"})
      for (size_t i; (i = s.find(pair)) != std::string::npos;) s.erase(i, 2);
    if (s.size() == before) return s.empty();
  }
}

TEST(BracketsTask, LabelsAgreeWithAnIndependentChecker) {
  const train::BracketsTask task(24);
  Rng rng(42);
  int balanced = 0, even_negatives = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    int32_t label = -1;
    const std::string s = task.example(rng, label);
    ASSERT_FALSE(s.empty());
    ASSERT_LE(s.size(), 24u);
    EXPECT_EQ(label == 1, by_deletion(s)) << s;
    EXPECT_EQ(train::brackets_balanced(s), by_deletion(s)) << s;
    balanced += label;
    even_negatives += label == 0 && s.size() % 2 == 0;
  }
  EXPECT_NEAR(balanced, n / 2, n / 20);
  EXPECT_GT(even_negatives, n / 5) << "near misses that counting parity cannot reject";
  EXPECT_FALSE(train::brackets_balanced("([)]"));
  EXPECT_TRUE(train::brackets_balanced("([]{})"));
  EXPECT_THROW(train::BracketsTask(1), Error);
}

TEST(BracketsTask, BatchesArePaddedAndMasked) {
  const train::BracketsTask task(10);
  Rng a(7), b(7);
  std::vector<int32_t> ids, labels;
  std::vector<uint8_t> padding;
  int64_t T = 0;
  task.batch(a, 5, 12, ids, padding, labels, T);
  ASSERT_EQ(T, 12);
  for (int64_t s = 0; s < 5; ++s) {
    int32_t label = -1;
    const std::string str = task.example(b, label);  // the same draws
    EXPECT_EQ(labels[s], label);
    const std::vector<int32_t> want = train::BracketsTask::encode(str);
    for (int64_t t = 0; t < T; ++t) {
      const bool pad = t >= static_cast<int64_t>(want.size());
      EXPECT_EQ(padding[s * T + t], pad ? 1 : 0);
      EXPECT_EQ(ids[s * T + t], pad ? train::BracketsTask::kPad : want[t]);
    }
  }
  EXPECT_EQ(train::BracketsTask::encode("(]x{"), (std::vector<int32_t>{1, 4, 0, 5}));
}


// The shipped model (web/models/brackets-encoder, scripts/train/train_brackets.cpp) reloaded
// through the model loader reproduces the held-out slice its MODEL_CARD.md states, on the
// same held-out stream, through the inference forward the page runs.
TEST(BracketsTask, ShippedModelReproducesItsCard) {
  ShippedModel m = load_shipped("brackets-encoder");
  ASSERT_EQ(m.loaded.model_type, "encoder-classifier");
  ASSERT_TRUE(m.loaded.tokenizer);
  EXPECT_EQ(m.loaded.tokenizer->encode("([{)]}"), (std::vector<int32_t>{1, 3, 5, 2, 4, 6}));
  ASSERT_GT(m.slice_count, 0) << "MODEL_CARD.md states no held-out slice";
  auto& model = dynamic_cast<EncoderClassifier&>(*m.loaded.model);
  const train::BracketsTask task(model.config.max_position);
  Rng rng(m.seed, 0x5eed);
  int64_t ok = 0;
  for (int64_t i = 0; i < m.slice_count; ++i) {
    int32_t label = 0;
    const std::vector<int32_t> ids = m.loaded.tokenizer->encode(task.example(rng, label));
    const float* logits = model.forward(ids.data(), 1, static_cast<int64_t>(ids.size()));
    ok += (logits[1] > logits[0] ? 1 : 0) == label;
  }
  const double acc = static_cast<double>(ok) / static_cast<double>(m.slice_count);
  std::printf("  brackets-encoder: accuracy %.6f on %lld held-out strings (card: %.6f)\n", acc,
              static_cast<long long>(m.slice_count), m.slice_value);
  EXPECT_NEAR(acc, m.slice_value, 1e-6);
}

}  // namespace
}  // namespace attn::testing
