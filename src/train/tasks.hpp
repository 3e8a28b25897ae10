// Seeded task generators for training GPTs (issue 10): batches of (B, T) token ids with
// next-token targets, as models/gpt_train.hpp's GptTrain::forward(inputs, targets) takes
// them. Every draw comes from our Rng (core/rng.hpp), so a seed gives the same batches
// natively and in wasm.
//   - InductionTask: a sequence of `half` distinct random tokens (drawn without
//     replacement from V, so each token has one successor and the copy is unambiguous),
//     then the same `half` tokens again. inputs = seq[0 .. T), targets = seq[1 .. T] with
//     T = 2 * half - 1; only positions t >= half (the current token is a repeat, so its
//     successor is known from the first half) carry a target, the others ignore_index
//     (torch.nn.functional.cross_entropy's).
//   - CharCorpus: a character-level LM corpus from fortune(6) files ("%" lines separate
//     fortunes). Fortune i goes to validation when i % val_every == val_every - 1
//     (counted over all files in the order given): a fixed split by fortune. Each
//     fortune's text is kept with its "%\n" separator so the model learns where a fortune
//     ends. Vocabulary: "<unk>" (id 0), then every code point seen at least min_count
//     times in the training fortunes, most frequent first up to max_vocab entries in all,
//     ordered by code point; others map to <unk>. Invalid UTF-8 bytes are <unk>.
// Shapes: B sequences, T tokens each, V vocabulary.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/rng.hpp"

namespace attn::train {

class InductionTask {
 public:
  // 2 <= half <= vocab_size; messages start "InductionTask: ".
  InductionTask(int64_t vocab_size, int64_t half, int64_t ignore_index = -100);
  int64_t vocab_size() const { return V_; }
  int64_t half() const { return half_; }
  int64_t seq_len() const { return 2 * half_ - 1; }  // T
  int64_t ignore_index() const { return ignore_index_; }
  // Fills inputs, targets (B, T) with B fresh sequences drawn from `rng` (resized to B * T).
  void batch(Rng& rng, int64_t B, std::vector<int32_t>& inputs, std::vector<int32_t>& targets) const;

 private:
  int64_t V_, half_, ignore_index_;
};

class CharCorpus {
 public:
  // Reads the fortune files (errors name the file), splits and builds the vocabulary.
  // max_vocab >= 2; val_every >= 2; min_count >= 1.
  static CharCorpus from_fortune_files(const std::vector<std::string>& paths, int64_t max_vocab = 96,
                                       int64_t min_count = 1, int64_t val_every = 10);
  // The same from in-memory fortune-file texts (tests).
  static CharCorpus from_texts(const std::vector<std::string>& texts, int64_t max_vocab = 96,
                               int64_t min_count = 1, int64_t val_every = 10);

  // vocab[id]: one code point as UTF-8, "<unk>" at 0.
  const std::vector<std::string>& vocab() const { return vocab_; }
  int64_t vocab_size() const { return static_cast<int64_t>(vocab_.size()); }
  static constexpr int32_t kUnk = 0;
  // {"type": "char", "vocab": [...], "unk": "<unk>"} (io/tokenizer.hpp).
  std::string tokenizer_spec() const;
  std::vector<int32_t> encode(const std::string& text) const;

  const std::vector<int32_t>& train_ids() const { return train_; }
  const std::vector<int32_t>& val_ids() const { return val_; }
  const std::vector<std::string>& train_fortunes() const { return train_fortunes_; }
  const std::vector<std::string>& val_fortunes() const { return val_fortunes_; }

  // B windows of T + 1 consecutive training ids at random offsets: inputs the first T,
  // targets the last T. Needs train_ids().size() > T.
  void batch(Rng& rng, int64_t B, int64_t T, std::vector<int32_t>& inputs, std::vector<int32_t>& targets) const;
  // The k-th non-overlapping validation window (inputs val[kT .. kT+T), targets shifted by
  // one); num_val_windows(T) of them.
  int64_t num_val_windows(int64_t T) const;
  void val_window(int64_t k, int64_t T, int32_t* inputs, int32_t* targets) const;

 private:
  std::vector<std::string> vocab_;
  std::unordered_map<uint32_t, int32_t> code_to_id_;  // code point -> id; absent: unk
  std::vector<std::string> train_fortunes_, val_fortunes_;
  std::vector<int32_t> train_, val_;
};

// The fortunes the split puts in validation vs training, by index: val when i % val_every == val_every - 1.
inline bool is_validation_fortune(int64_t i, int64_t val_every) { return i % val_every == val_every - 1; }

// The text files of Debian's `fortunes` package (dpkg -L fortunes) under `dir`
// (/usr/share/games/fortunes), minus ascii-art (pictures, not prose) and translate-me
// (not English); fortunes-min's "fortunes" file is not among them. In a fixed order: the
// split counts fortunes in this order.
std::vector<std::string> fortunes_package_files(const std::string& dir = "/usr/share/games/fortunes");

// Splits a fortune(6) file's text at lines consisting of "%" (each fortune keeps its
// trailing newline; empty fortunes are dropped).
std::vector<std::string> split_fortunes(const std::string& text);

// Cross-entropy (nats per target) of add-one-smoothed unigram and bigram models counted
// on `train` over V ids, on the targets of the validation windows (each target predicted
// from the id before it): the baselines a char LM's validation loss is stated against.
struct NgramBaselines {
  double unigram = 0, bigram = 0;
};
NgramBaselines ngram_baselines(const CharCorpus& corpus, int64_t T);

}  // namespace attn::train
