// Balanced brackets, the encoder classifier's task: is a string over "()[]{}" properly
// nested with matching kinds? Seeded (core/rng.hpp). Half the examples are balanced (random
// nestings of random kinds, even lengths 2..max_len); the other half are near misses, each a
// balanced string with one corruption (two neighbours swapped, one bracket's kind changed,
// one bracket flipped between opening and closing, or one bracket deleted), re-drawn until it
// is really unbalanced, so counting brackets alone cannot solve it; a tenth of the negatives
// are uniform random strings. Label 1 = balanced, 0 = not.
// Ids: 0 "<unk>" (also the padding id: padding_idx, masked), 1-6 the brackets "()[]{}".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.hpp"

namespace attn::train {

// The reference checker: a stack of expected closers.
bool brackets_balanced(const std::string& s);

class BracketsTask {
 public:
  static constexpr int32_t kPad = 0;
  // 2 <= max_len <= 512; messages start "BracketsTask: ".
  explicit BracketsTask(int64_t max_len);
  int64_t max_len() const { return max_len_; }
  // One example: the string and its label.
  std::string example(Rng& rng, int32_t& label) const;
  // B examples as ids (B, T) padded with kPad to T = pad_to (>= max_len), or to the longest of
  // the batch when pad_to is 0; padding (B, T) nonzero = padding; labels (B).
  void batch(Rng& rng, int64_t B, int64_t pad_to, std::vector<int32_t>& ids, std::vector<uint8_t>& padding,
             std::vector<int32_t>& labels, int64_t& T) const;
  static std::vector<int32_t> encode(const std::string& s);
  // {"type": "char", "vocab": ["<unk>", "(", ")", "[", "]", "{", "}"], "unk": "<unk>"}
  static std::string tokenizer_spec();

 private:
  std::string balanced(Rng& rng, int64_t n) const;
  int64_t max_len_;
};

}  // namespace attn::train
