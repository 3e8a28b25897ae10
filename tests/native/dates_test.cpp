// Date normalisation (train/dates.hpp): the calendar against Zeller's congruence written
// here, every day of 1950-2049 round-tripping, every format carrying the right date, the
// held-out split never overlapping training, batches shaped for teacher forcing; and the
// shipped web/models/dates-transformer reproducing its card's held-out slice by greedy decoding.
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "models/encoder_decoder.hpp"
#include "testing.hpp"
#include "train/dates.hpp"

namespace attn::testing {
namespace {

using train::DateTask;

// Zeller's congruence: 0 = Saturday .. 6 = Friday.
int zeller(int64_t y, int64_t m, int64_t d) {
  if (m < 3) { m += 12; y -= 1; }
  const int64_t k = y % 100, j = y / 100;
  return static_cast<int>((d + 13 * (m + 1) / 5 + k + k / 4 + j / 4 + 5 * j) % 7);
}

TEST(DateTask, CalendarAndFormats) {
  const int64_t first = train::days_from_civil({1950, 1, 1}), last = train::days_from_civil({2049, 12, 31});
  EXPECT_EQ(train::days_from_civil({1970, 1, 1}), 0);
  EXPECT_EQ(last - first + 1, 36525);  // 100 years, 25 of them leap
  for (int64_t z = first; z <= last; ++z) {
    const train::CivilDate c = train::civil_from_days(z);
    ASSERT_EQ(train::days_from_civil(c), z);
    // weekday_of: 0 = Monday; Zeller: 0 = Saturday.
    ASSERT_EQ((train::weekday_of(z) + 2) % 7, zeller(c.year, c.month, c.day)) << c.year << "-" << c.month << "-" << c.day;
  }
  const int64_t z = train::days_from_civil({1998, 3, 5});
  EXPECT_EQ(DateTask::format(z, 5), "Thursday, March 5, 1998");
  EXPECT_EQ(DateTask::format(z, 12), "05.03.1998");
  EXPECT_EQ(DateTask::format(z, 13), "03/05/1998");
  EXPECT_EQ(DateTask::format(train::days_from_civil({2013, 6, 21}), 8), "the 21st of June, 2013");
  EXPECT_EQ(DateTask::format(train::days_from_civil({2004, 3, 9}), 16), "Mar. 9, '04");
  EXPECT_EQ(DateTask::format(train::days_from_civil({2011, 11, 12}), 7), "November 12th, 2011");
  EXPECT_THROW(DateTask::format(z, 20), Error);
}

TEST(DateTask, HeldOutDatesAreNeverTrainedOnAndBatchesTeacherForce) {
  const DateTask task;
  Rng train_rng(1), held_rng(2);
  std::set<std::string> held;
  for (int i = 0; i < 3000; ++i) {
    const DateTask::Example e = task.example(held_rng, true);
    held.insert(e.target);
    EXPECT_LE(static_cast<int64_t>(e.source.size()), DateTask::max_source_len());
  }
  for (int i = 0; i < 3000; ++i) EXPECT_EQ(held.count(task.example(train_rng, false).target), 0u);
  std::vector<int32_t> src, tgt_in, targets;
  std::vector<uint8_t> pad;
  Rng a(5), b(5);
  task.batch(a, 3, false, src, pad, tgt_in, targets);
  const int64_t S = DateTask::max_source_len(), T = DateTask::kTargetLen + 1;
  for (int64_t s = 0; s < 3; ++s) {
    const DateTask::Example e = task.example(b, false);
    const std::vector<int32_t> want = DateTask::encode_target(e.target);
    EXPECT_EQ(tgt_in[s * T], DateTask::kBos);
    EXPECT_EQ(targets[s * T + T - 1], DateTask::kEos);
    for (int64_t t = 0; t < DateTask::kTargetLen; ++t) {
      EXPECT_EQ(tgt_in[s * T + t + 1], want[t]);
      EXPECT_EQ(targets[s * T + t], want[t]);
    }
    for (int64_t i = 0; i < S; ++i) EXPECT_EQ(pad[s * S + i], i >= static_cast<int64_t>(e.source.size()) ? 1 : 0);
  }
}


TEST(DateTask, ShippedModelReproducesItsCard) {
  ShippedModel m = load_shipped("dates-transformer");
  ASSERT_EQ(m.loaded.model_type, "encoder-decoder");
  ASSERT_TRUE(m.loaded.tokenizer && m.loaded.tgt_tokenizer);
  ASSERT_GT(m.slice_count, 0) << "MODEL_CARD.md states no held-out slice";
  auto& model = dynamic_cast<EncoderDecoder&>(*m.loaded.model);
  const DateTask task;
  Rng rng(m.seed, 0x5eed);
  int64_t ok = 0;
  std::vector<int32_t> out(DateTask::kTargetLen + 1);
  for (int64_t i = 0; i < m.slice_count; ++i) {
    const DateTask::Example e = task.example(rng, true);
    const std::vector<int32_t> src = m.loaded.tokenizer->encode(e.source);
    const int64_t n = model.greedy_decode(out.data(), src.data(), 1, static_cast<int64_t>(src.size()), DateTask::kBos,
                                          DateTask::kEos, DateTask::kTargetLen + 1);
    std::vector<int32_t> ids(out.begin(), out.begin() + n);
    if (!ids.empty() && ids.back() == DateTask::kEos) ids.pop_back();
    ok += m.loaded.tgt_tokenizer->decode(ids) == e.target;
  }
  const double acc = static_cast<double>(ok) / static_cast<double>(m.slice_count);
  std::printf("  dates-transformer: exact match %.6f on %lld held-out dates (card: %.6f)\n", acc,
              static_cast<long long>(m.slice_count), m.slice_value);
  EXPECT_NEAR(acc, m.slice_value, 1e-6);
}

}  // namespace
}  // namespace attn::testing
