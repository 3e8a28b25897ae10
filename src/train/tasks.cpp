// Seeded task generators: see tasks.hpp.
#include "train/tasks.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/size.hpp"

namespace attn::train {

InductionTask::InductionTask(int64_t vocab_size, int64_t half, int64_t ignore_index)
    : V_(vocab_size), half_(half), ignore_index_(ignore_index) {
  ATTN_CHECK(vocab_size >= 2 && vocab_size <= (int64_t{1} << 24), "InductionTask: vocab_size must be in [2, 2^24], got ",
             vocab_size);
  ATTN_CHECK(half >= 2 && half <= vocab_size, "InductionTask: half must be in [2, vocab_size = ", vocab_size, "], got ",
             half);
}

void InductionTask::batch(Rng& rng, int64_t B, std::vector<int32_t>& inputs, std::vector<int32_t>& targets) const {
  ATTN_CHECK(B >= 1, "InductionTask::batch: B must be >= 1, got ", B);
  const int64_t T = seq_len();
  const size_t n = static_cast<size_t>(checked_mul(B, T, "InductionTask::batch: B * T"));
  inputs.resize(n);
  targets.resize(n);
  std::vector<int32_t> pool(static_cast<size_t>(V_)), seq(static_cast<size_t>(2 * half_));
  for (int64_t b = 0; b < B; ++b) {
    // Partial Fisher-Yates: the first `half` entries of the pool become distinct tokens.
    for (int64_t i = 0; i < V_; ++i) pool[i] = static_cast<int32_t>(i);
    for (int64_t i = 0; i < half_; ++i) {
      const int64_t j = i + rng.below(static_cast<uint32_t>(V_ - i));
      std::swap(pool[i], pool[j]);
      seq[i] = seq[i + half_] = pool[i];
    }
    for (int64_t t = 0; t < T; ++t) {
      inputs[b * T + t] = seq[t];
      targets[b * T + t] = t >= half_ ? seq[t + 1] : static_cast<int32_t>(ignore_index_);
    }
  }
}

std::vector<std::string> fortunes_package_files(const std::string& dir) {
  static const char* const kFiles[] = {
      "art",      "computers",   "cookie",    "debian",   "definitions", "disclaimer", "drugs",     "education",
      "ethnic",   "food",        "goedel",    "humorists", "kids",       "knghtbrd",   "law",       "linux",
      "linuxcookie", "love",     "magic",     "medicine", "men-women",   "miscellaneous", "news",   "paradoxum",
      "people",   "perl",        "pets",      "platitudes", "politics",  "pratchett",  "science",   "songs-poems",
      "sports",   "startrek",    "tao",       "wisdom",   "work",        "zippy"};
  std::vector<std::string> out;
  for (const char* f : kFiles) out.push_back(dir + "/" + f);
  return out;
}

std::vector<std::string> split_fortunes(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line == "%") {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += line;
      cur += '\n';
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

namespace {

constexpr uint32_t kInvalid = 0xFFFFFFFFu;

// Decodes UTF-8 into code points; a byte that does not start a valid sequence is kInvalid.
std::vector<uint32_t> code_points(const std::string& s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned c = p[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    bool ok = len > 0 && i + len <= n;
    for (int k = 1; ok && k < len; ++k) {
      ok = (p[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF, as a strict decoder does.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
               (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF))
      ok = false;
    if (!ok) {
      out.push_back(kInvalid);
      ++i;
    } else {
      out.push_back(cp);
      i += static_cast<size_t>(len);
    }
  }
  return out;
}

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

}  // namespace

CharCorpus CharCorpus::from_fortune_files(const std::vector<std::string>& paths, int64_t max_vocab, int64_t min_count,
                                          int64_t val_every) {
  ATTN_CHECK(!paths.empty(), "CharCorpus: no fortune files given");
  std::vector<std::string> texts;
  for (const std::string& path : paths) {
    std::ifstream f(path, std::ios::binary);
    ATTN_CHECK(f.good(), "CharCorpus: cannot read fortune file '", path, "'");
    std::ostringstream ss;
    ss << f.rdbuf();
    texts.push_back(ss.str());
  }
  return from_texts(texts, max_vocab, min_count, val_every);
}

CharCorpus CharCorpus::from_texts(const std::vector<std::string>& texts, int64_t max_vocab, int64_t min_count,
                                  int64_t val_every) {
  ATTN_CHECK(max_vocab >= 2 && max_vocab <= (int64_t{1} << 20), "CharCorpus: max_vocab must be in [2, 2^20], got ",
             max_vocab);
  ATTN_CHECK(min_count >= 1, "CharCorpus: min_count must be >= 1, got ", min_count);
  ATTN_CHECK(val_every >= 2, "CharCorpus: val_every must be >= 2, got ", val_every);
  CharCorpus c;
  int64_t index = 0;
  for (const std::string& text : texts)
    for (std::string& fortune : split_fortunes(text)) {
      fortune += "%\n";
      (is_validation_fortune(index++, val_every) ? c.val_fortunes_ : c.train_fortunes_).push_back(std::move(fortune));
    }
  ATTN_CHECK(!c.train_fortunes_.empty() && !c.val_fortunes_.empty(), "CharCorpus: ", index,
             " fortunes leave the training or validation split empty (val_every = ", val_every, ")");

  std::map<uint32_t, int64_t> counts;
  for (const std::string& f : c.train_fortunes_)
    for (uint32_t cp : code_points(f))
      if (cp != kInvalid) ++counts[cp];
  std::vector<std::pair<int64_t, uint32_t>> by_count;  // (-count, code point): most frequent first, ties by code point
  for (const auto& [cp, n] : counts)
    if (n >= min_count) by_count.emplace_back(-n, cp);
  std::sort(by_count.begin(), by_count.end());
  if (static_cast<int64_t>(by_count.size()) > max_vocab - 1) by_count.resize(static_cast<size_t>(max_vocab - 1));
  std::vector<uint32_t> kept;
  for (const auto& e : by_count) kept.push_back(e.second);
  std::sort(kept.begin(), kept.end());
  c.vocab_.push_back("<unk>");
  for (uint32_t cp : kept) {
    c.code_to_id_[cp] = static_cast<int32_t>(c.vocab_.size());
    c.vocab_.push_back(utf8(cp));
  }
  for (const std::string& f : c.train_fortunes_) {
    const std::vector<int32_t> ids = c.encode(f);
    c.train_.insert(c.train_.end(), ids.begin(), ids.end());
  }
  for (const std::string& f : c.val_fortunes_) {
    const std::vector<int32_t> ids = c.encode(f);
    c.val_.insert(c.val_.end(), ids.begin(), ids.end());
  }
  return c;
}

std::string CharCorpus::tokenizer_spec() const {
  nlohmann::json j;
  j["type"] = "char";
  j["vocab"] = vocab_;
  j["unk"] = "<unk>";
  return j.dump();
}

std::vector<int32_t> CharCorpus::encode(const std::string& text) const {
  std::vector<int32_t> ids;
  for (uint32_t cp : code_points(text)) {
    const auto it = code_to_id_.find(cp);
    ids.push_back(it == code_to_id_.end() ? kUnk : it->second);
  }
  return ids;
}

void CharCorpus::batch(Rng& rng, int64_t B, int64_t T, std::vector<int32_t>& inputs,
                       std::vector<int32_t>& targets) const {
  ATTN_CHECK(B >= 1 && T >= 1, "CharCorpus::batch: B and T must be >= 1, got B = ", B, ", T = ", T);
  const int64_t n = static_cast<int64_t>(train_.size());
  ATTN_CHECK(n > T && n - T <= int64_t{0xFFFFFFFF}, "CharCorpus::batch: T = ", T, " needs more than ", T,
             " training ids, have ", n);
  const size_t total = static_cast<size_t>(checked_mul(B, T, "CharCorpus::batch: B * T"));
  inputs.resize(total);
  targets.resize(total);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t o = rng.below(static_cast<uint32_t>(n - T));
    std::copy_n(train_.begin() + o, T, inputs.begin() + b * T);
    std::copy_n(train_.begin() + o + 1, T, targets.begin() + b * T);
  }
}

int64_t CharCorpus::num_val_windows(int64_t T) const {
  ATTN_CHECK(T >= 1, "CharCorpus::num_val_windows: T must be >= 1, got ", T);
  return (static_cast<int64_t>(val_.size()) - 1) / T;
}

void CharCorpus::val_window(int64_t k, int64_t T, int32_t* inputs, int32_t* targets) const {
  ATTN_CHECK(k >= 0 && k < num_val_windows(T), "CharCorpus::val_window: window ", k, " is outside [0, ",
             num_val_windows(T), ") for T = ", T);
  std::copy_n(val_.begin() + k * T, T, inputs);
  std::copy_n(val_.begin() + k * T + 1, T, targets);
}

NgramBaselines ngram_baselines(const CharCorpus& corpus, int64_t T) {
  const int64_t V = corpus.vocab_size();
  const std::vector<int32_t>& tr = corpus.train_ids();
  std::vector<double> uni(static_cast<size_t>(V), 0.0), bi(static_cast<size_t>(V * V), 0.0), row(static_cast<size_t>(V), 0.0);
  for (int32_t id : tr) uni[id] += 1;
  for (size_t i = 0; i + 1 < tr.size(); ++i) {
    bi[tr[i] * V + tr[i + 1]] += 1;
    row[tr[i]] += 1;
  }
  const double n = static_cast<double>(tr.size());
  const int64_t W = corpus.num_val_windows(T);
  std::vector<int32_t> in(static_cast<size_t>(T)), tg(static_cast<size_t>(T));
  NgramBaselines out;
  double count = 0;
  for (int64_t k = 0; k < W; ++k) {
    corpus.val_window(k, T, in.data(), tg.data());
    for (int64_t t = 0; t < T; ++t) {
      out.unigram -= std::log((uni[tg[t]] + 1) / (n + V));
      out.bigram -= std::log((bi[in[t] * V + tg[t]] + 1) / (row[in[t]] + V));
      count += 1;
    }
  }
  if (count > 0) {
    out.unigram /= count;
    out.bigram /= count;
  }
  return out;
}

}  // namespace attn::train
