// Algorithmic sequence tasks: see sequence_tasks.hpp.
#include "train/sequence_tasks.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/size.hpp"

namespace attn::train {

SequenceTaskKind sequence_task_kind(const std::string& name, const char* what) {
  if (name == "copy") return SequenceTaskKind::copy;
  if (name == "reverse") return SequenceTaskKind::reverse;
  if (name == "sort") return SequenceTaskKind::sort;
  ATTN_CHECK(name == "addition", what, ": unknown task '", name, "' (copy, reverse, sort, addition)");
  return SequenceTaskKind::addition;
}

SequenceTask::SequenceTask(SequenceTaskKind kind, int64_t n, int64_t ignore_index)
    : kind_(kind), n_(n), ignore_index_(ignore_index) {
  ATTN_CHECK(n >= 1 && n <= 64, "SequenceTask: n must be in [1, 64], got ", n);
}

int64_t SequenceTask::seq_len() const { return (kind_ == SequenceTaskKind::addition ? 3 * n_ + 3 : 2 * n_ + 1) - 1; }

int64_t SequenceTask::answer_start() const { return kind_ == SequenceTaskKind::addition ? 2 * n_ + 2 : n_ + 1; }

std::vector<int32_t> SequenceTask::example(Rng& rng) const {
  std::vector<int32_t> seq;
  seq.reserve(static_cast<size_t>(seq_len() + 1));
  auto digits = [&] {
    std::vector<int32_t> d(static_cast<size_t>(n_));
    for (auto& x : d) x = static_cast<int32_t>(rng.below(10));
    return d;
  };
  const std::vector<int32_t> x = digits();
  seq.insert(seq.end(), x.begin(), x.end());
  if (kind_ == SequenceTaskKind::addition) {
    const std::vector<int32_t> y = digits();
    seq.push_back(kPlus);
    seq.insert(seq.end(), y.begin(), y.end());
    seq.push_back(kEquals);
    std::vector<int32_t> sum(static_cast<size_t>(n_ + 1));  // schoolbook addition, least significant first
    int32_t carry = 0;
    for (int64_t i = n_ - 1; i >= 0; --i) {
      const int32_t s = x[i] + y[i] + carry;
      sum[i + 1] = s % 10;
      carry = s / 10;
    }
    sum[0] = carry;
    seq.insert(seq.end(), sum.begin(), sum.end());
    return seq;
  }
  seq.push_back(kSep);
  std::vector<int32_t> y = x;
  if (kind_ == SequenceTaskKind::reverse) std::reverse(y.begin(), y.end());
  if (kind_ == SequenceTaskKind::sort) std::sort(y.begin(), y.end());
  seq.insert(seq.end(), y.begin(), y.end());
  return seq;
}

void SequenceTask::batch(Rng& rng, int64_t B, std::vector<int32_t>& inputs, std::vector<int32_t>& targets) const {
  ATTN_CHECK(B >= 1, "SequenceTask::batch: B must be >= 1, got ", B);
  const int64_t T = seq_len(), first = answer_start() - 1;
  const size_t n = static_cast<size_t>(checked_mul(B, T, "SequenceTask::batch: B * T"));
  inputs.resize(n);
  targets.resize(n);
  for (int64_t b = 0; b < B; ++b) {
    const std::vector<int32_t> seq = example(rng);
    for (int64_t t = 0; t < T; ++t) {
      inputs[b * T + t] = seq[t];
      targets[b * T + t] = t >= first ? seq[t + 1] : static_cast<int32_t>(ignore_index_);
    }
  }
}

std::vector<std::string> SequenceTask::vocab() {
  return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "|", "+", "="};
}

}  // namespace attn::train
