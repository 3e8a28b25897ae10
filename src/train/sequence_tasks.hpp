// Algorithmic tasks for a GPT, as next-token prediction with the loss on the answer only
// (the classic small-transformer exercises): each sequence is "question | answer" over a
// 13-token vocabulary, the digits 0-9 (ids 0-9), "|" (10), "+" (11) and "=" (12).
//   copy      x_1 .. x_n | x_1 .. x_n
//   reverse   x_1 .. x_n | x_n .. x_1
//   sort      x_1 .. x_n | the digits in ascending order
//   addition  a_1 .. a_n + b_1 .. b_n = c_0 c_1 .. c_n   (a + b = c, most significant digit
//             first, c zero-padded to n + 1 digits)
// Digits are uniform and independent (seeded, core/rng.hpp). inputs = seq[0 .. T),
// targets = seq[1 .. T]; a target is ignore_index unless it is an answer token, so the
// loss and the accuracy count only the answer.
// Shapes: B sequences, T = full length - 1 tokens each.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.hpp"

namespace attn::train {

enum class SequenceTaskKind { copy, reverse, sort, addition };
// "copy" | "reverse" | "sort" | "addition"; throws naming `what` otherwise.
SequenceTaskKind sequence_task_kind(const std::string& name, const char* what);

class SequenceTask {
 public:
  static constexpr int32_t kSep = 10, kPlus = 11, kEquals = 12;
  // 1 <= n <= 64 digits (per operand for addition); messages start "SequenceTask: ".
  SequenceTask(SequenceTaskKind kind, int64_t n, int64_t ignore_index = -100);
  int64_t vocab_size() const { return 13; }
  int64_t seq_len() const;  // T
  // The index of the first answer token in a full sequence (the first scored target is at answer_start() - 1).
  int64_t answer_start() const;
  int64_t ignore_index() const { return ignore_index_; }
  SequenceTaskKind kind() const { return kind_; }
  // One full sequence (T + 1 tokens).
  std::vector<int32_t> example(Rng& rng) const;
  // B fresh sequences into inputs, targets (resized to B * T).
  void batch(Rng& rng, int64_t B, std::vector<int32_t>& inputs, std::vector<int32_t>& targets) const;
  // The word tokenizer's vocabulary: "0".."9", "|", "+", "=" (io/tokenizer.hpp, split on whitespace).
  static std::vector<std::string> vocab();

 private:
  SequenceTaskKind kind_;
  int64_t n_, ignore_index_;
};

}  // namespace attn::train
