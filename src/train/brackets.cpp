// Balanced brackets: see brackets.hpp.
#include "train/brackets.hpp"

#include <algorithm>
#include <cstring>

#include "core/error.hpp"

namespace attn::train {

namespace {
constexpr char kOpen[] = "([{", kClose[] = ")]}";
int kind_of(char c) {
  for (int k = 0; k < 3; ++k)
    if (c == kOpen[k] || c == kClose[k]) return k;
  return -1;
}
bool is_open(char c) { return c == '(' || c == '[' || c == '{'; }
}  // namespace

bool brackets_balanced(const std::string& s) {
  std::string stack;
  for (char c : s) {
    if (is_open(c)) {
      stack.push_back(c);
      continue;
    }
    const int k = kind_of(c);
    if (k < 0 || stack.empty() || stack.back() != kOpen[k]) return false;
    stack.pop_back();
  }
  return stack.empty();
}

BracketsTask::BracketsTask(int64_t max_len) : max_len_(max_len) {
  ATTN_CHECK(max_len >= 2 && max_len <= 512, "BracketsTask: max_len must be in [2, 512], got ", max_len);
}

// A uniformly random walk over depths that returns to 0 at n (n even): at each step open when
// the depth must grow to be closable in time or by a coin flip, else close the innermost.
std::string BracketsTask::balanced(Rng& rng, int64_t n) const {
  std::string s, stack;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t left = n - i, depth = static_cast<int64_t>(stack.size());
    const bool must_close = depth >= left, must_open = depth == 0;
    if (must_open || (!must_close && rng.below(2) == 0)) {
      const char c = kOpen[rng.below(3)];
      s.push_back(c);
      stack.push_back(c);
    } else {
      s.push_back(kClose[kind_of(stack.back())]);
      stack.pop_back();
    }
  }
  return s;
}

std::string BracketsTask::example(Rng& rng, int32_t& label) const {
  const int64_t pairs_max = max_len_ / 2;
  const int64_t n = 2 * (1 + rng.below(static_cast<uint32_t>(pairs_max)));
  if (rng.below(2) == 0) {
    label = 1;
    return balanced(rng, n);
  }
  label = 0;
  for (;;) {
    std::string s;
    if (rng.below(10) == 0) {  // a uniformly random string of any length 1..max_len
      const int64_t m = 1 + rng.below(static_cast<uint32_t>(max_len_));
      for (int64_t i = 0; i < m; ++i) s.push_back("()[]{}"[rng.below(6)]);
    } else {
      s = balanced(rng, n);
      const size_t i = rng.below(static_cast<uint32_t>(s.size()));
      switch (rng.below(4)) {
        case 0:  // swap neighbours
          if (i + 1 < s.size()) std::swap(s[i], s[i + 1]);
          break;
        case 1: {  // another kind, same direction
          const int k = (kind_of(s[i]) + 1 + static_cast<int>(rng.below(2))) % 3;
          s[i] = is_open(s[i]) ? kOpen[k] : kClose[k];
          break;
        }
        case 2:  // opening <-> closing
          s[i] = is_open(s[i]) ? kClose[kind_of(s[i])] : kOpen[kind_of(s[i])];
          break;
        default:  // delete one
          s.erase(i, 1);
      }
    }
    if (!s.empty() && !brackets_balanced(s)) return s;
  }
}

std::vector<int32_t> BracketsTask::encode(const std::string& s) {
  std::vector<int32_t> ids;
  for (char c : s) {
    const char* p = std::strchr("()[]{}", c);
    ids.push_back(c != '\0' && p ? static_cast<int32_t>(p - "()[]{}") + 1 : kPad);
  }
  return ids;
}

void BracketsTask::batch(Rng& rng, int64_t B, int64_t pad_to, std::vector<int32_t>& ids, std::vector<uint8_t>& padding,
                         std::vector<int32_t>& labels, int64_t& T) const {
  ATTN_CHECK(B >= 1, "BracketsTask::batch: B must be >= 1, got ", B);
  ATTN_CHECK(pad_to == 0 || pad_to >= max_len_, "BracketsTask::batch: pad_to must be 0 or >= max_len, got ", pad_to);
  std::vector<std::string> s(static_cast<size_t>(B));
  labels.resize(static_cast<size_t>(B));
  T = 1;
  for (int64_t b = 0; b < B; ++b) {
    s[b] = example(rng, labels[b]);
    T = std::max<int64_t>(T, static_cast<int64_t>(s[b].size()));
  }
  if (pad_to > 0) T = pad_to;
  ids.assign(static_cast<size_t>(B * T), kPad);
  padding.assign(static_cast<size_t>(B * T), 1);
  for (int64_t b = 0; b < B; ++b) {
    const std::vector<int32_t> e = encode(s[b]);
    for (size_t t = 0; t < e.size(); ++t) {
      ids[b * T + t] = e[t];
      padding[b * T + t] = 0;
    }
  }
}

std::string BracketsTask::tokenizer_spec() {
  return R"j({"type": "char", "vocab": ["<unk>", "(", ")", "[", "]", "{", "}"], "unk": "<unk>"})j";
}

}  // namespace attn::train
