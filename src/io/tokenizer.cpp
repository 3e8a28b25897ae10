// The tokenizers of tokenizer.hpp. Layout: Unicode helpers (UTF-8 decoding, the
// generated category and lowercase tables), message quoting, two SAX readers (the
// spec and vocab.json are read event by event, so a hostile file is refused at its
// first wrong value and nothing is nested or built that is not wanted), then one
// class per kind and the factory.
//
// GPT-2 BPE follows openai/gpt-2 encoder.py: bpe() repeatedly takes the adjacent pair
// of lowest merge rank and merges all its occurrences left to right. Here the pairs
// sit in a heap ordered by (rank, position); the occurrences of one rank are merged
// as a round and the pairs they create join the heap after it, which gives the same
// result as encoder.py's rescans in O(n log n) for a piece of n bytes (a megabyte of
// letters without a space is one piece). Tokens are handled as the bytes they stand
// for: the byte <-> unicode table of encoder.py only matters when reading the files.
#include "io/tokenizer.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/size.hpp"

namespace attn::io {

namespace {
using nlohmann::json;

// ---------------------------------------------------------------- Unicode

enum CharClass : uint8_t { kOther, kLetter, kNumber, kMark, kSpace };
struct CategoryRange {
  uint32_t first, last;
  CharClass cls;
};
struct LowerRange {
  uint32_t first, last;
  int32_t delta;
  uint32_t stride;
};
#include "io/unicode_tables.inc"

// Unicode White_Space (PropList.txt; unchanged since Unicode 6.3). Python's `regex`,
// which GPT-2 uses, means this by \s.
bool is_white_space(uint32_t cp) {
  if (cp < 0x80) return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20;
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

CharClass classify(uint32_t cp) {
  if (is_white_space(cp)) return kSpace;
  const auto* end = std::end(kCategoryRanges);
  const auto* it = std::upper_bound(std::begin(kCategoryRanges), end, cp,
                                    [](uint32_t v, const CategoryRange& r) { return v < r.first; });
  if (it == std::begin(kCategoryRanges)) return kOther;
  --it;
  return cp <= it->last ? it->cls : kOther;
}

const std::array<CharClass, 256> kLatin1Classes = [] {
  std::array<CharClass, 256> t{};
  for (uint32_t cp = 0; cp < 256; ++cp) t[cp] = classify(cp);
  return t;
}();

CharClass class_of(uint32_t cp) { return cp < 256 ? kLatin1Classes[cp] : classify(cp); }

// Simple (one code point to one) lowercase mapping.
uint32_t to_lower(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  const auto* it = std::upper_bound(std::begin(kLowerRanges), std::end(kLowerRanges), cp,
                                    [](uint32_t v, const LowerRange& r) { return v < r.first; });
  if (it == std::begin(kLowerRanges)) return cp;
  --it;
  if (cp > it->last || (cp - it->first) % it->stride != 0) return cp;
  return static_cast<uint32_t>(static_cast<int64_t>(cp) + it->delta);
}

// One code point of a byte string. A byte that does not start a well-formed UTF-8
// sequence (Unicode table 3-7: no overlongs, surrogates or values past U+10FFFF) is
// returned alone as the code point of its value, with valid = false.
struct CodePoint {
  uint32_t cp;
  uint32_t len;
  bool valid;
};

CodePoint next_code_point(const unsigned char* s, size_t n, size_t i) {
  const uint32_t b0 = s[i];
  if (b0 < 0x80) return {b0, 1, true};
  auto cont = [&](size_t k, uint32_t lo, uint32_t hi) { return i + k < n && s[i + k] >= lo && s[i + k] <= hi; };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (cont(1, 0x80, 0xBF)) return {((b0 & 0x1F) << 6) | (s[i + 1] & 0x3Fu), 2, true};
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    const uint32_t lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
    if (cont(1, lo, hi) && cont(2, 0x80, 0xBF))
      return {((b0 & 0x0F) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3Fu), 3, true};
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    const uint32_t lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
    if (cont(1, lo, hi) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF))
      return {((b0 & 0x07) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3Fu), 4,
              true};
  }
  return {b0, 1, false};
}

CodePoint next_code_point(std::string_view s, size_t i) {
  return next_code_point(reinterpret_cast<const unsigned char*>(s.data()), s.size(), i);
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// ---------------------------------------------------------------- messages

constexpr char kHex[] = "0123456789ABCDEF";

// "0xE9"
std::string hex_byte(unsigned char b) { return std::string("0x") + kHex[b >> 4] + kHex[b & 15]; }

// The first `limit` bytes of `s` for a message: printable characters as they are;
// controls, bytes that are not UTF-8, \ and (in quotes) ' as \xNN. Sets `cut` when s is longer.
std::string escape(std::string_view s, size_t limit, bool in_quotes, bool& cut) {
  std::string out;
  size_t i = 0;
  while (i < s.size() && i < limit) {
    const CodePoint c = next_code_point(s, i);
    const bool plain = c.valid && c.cp >= 0x20 && c.cp != 0x7F && !(c.cp >= 0x80 && c.cp < 0xA0) && c.cp != '\\' &&
                       !(in_quotes && c.cp == '\'');
    if (plain) {
      out.append(s.substr(i, c.len));
    } else {
      for (uint32_t k = 0; k < c.len; ++k) out += "\\x" + hex_byte(static_cast<unsigned char>(s[i + k])).substr(2);
    }
    i += c.len;
  }
  cut = i < s.size();
  return out;
}

// 'text', or 'tex...' (N bytes) past kMaxTokenizerQuote bytes.
std::string quote(std::string_view s) {
  bool cut;
  std::string out = "'" + escape(s, kMaxTokenizerQuote, true, cut) + "'";
  if (cut) out.insert(out.size() - 1, "...").append(" (" + std::to_string(s.size()) + " bytes)");
  return out;
}

// "U+00E9"
std::string code_point_name(uint32_t cp) {
  std::string hex;
  for (int shift = cp > 0xFFFFF ? 20 : cp > 0xFFFF ? 16 : 12; shift >= 0; shift -= 4) hex += kHex[(cp >> shift) & 15];
  return "U+" + hex;
}

// "character 'é' (U+00E9)", or "byte 0xE9 (not UTF-8)"
std::string describe(std::string_view text, const CodePoint& c, size_t at) {
  if (!c.valid) return "byte " + hex_byte(static_cast<unsigned char>(c.cp)) + " (not UTF-8)";
  return "character " + quote(text.substr(at, c.len)) + " (" + code_point_name(c.cp) + ")";
}

void check_size(const std::string& what, std::string_view contents) {
  const uint64_t bytes = contents.size();
  ATTN_CHECK(bytes <= kMaxTokenizerFileBytes, what, " is ", bytes, " bytes, more than the ",
             bytes_str(kMaxTokenizerFileBytes), " a tokenizer file may be");
}

// The ids of a text have at most one id per byte: refuse texts whose ids could pass the byte budget.
void check_encode_size(const char* kind, std::string_view text) {
  const uint64_t bytes = uint64_t{text.size()} * sizeof(int32_t);
  ATTN_CHECK(bytes <= max_tensor_bytes(), kind, ": encode: a text of ", uint64_t{text.size()},
             " bytes may give as many ids (", bytes_str(bytes), "), more than max_tensor_bytes (",
             bytes_str(max_tensor_bytes()), ")");
}

void check_decode_size(const char* kind, uint64_t bytes) {
  ATTN_CHECK(bytes <= max_tensor_bytes(), kind, ": decode: the text would be ", bytes_str(bytes),
             ", more than max_tensor_bytes (", bytes_str(max_tensor_bytes()), ")");
}

[[noreturn]] void fail_id(const char* kind, int32_t id, size_t position, int64_t vocab_size) {
  fail(kind, ": decode: id ", id, " at position ", position, " is out of range for a vocab size of ", vocab_size);
}

// The texts of `ids` in `table` (id -> text) joined by `sep`, after every id and the total size
// are checked: the decode of every kind.
std::string join_tokens(const char* kind, const std::vector<std::string>& table, const std::vector<int32_t>& ids,
                        std::string_view sep) {
  const int64_t n = static_cast<int64_t>(table.size());
  uint64_t bytes = ids.empty() ? 0 : (ids.size() - 1) * sep.size();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= n) fail_id(kind, ids[i], i, n);
    bytes += table[ids[i]].size();
  }
  check_decode_size(kind, bytes);
  std::string text;
  text.reserve(bytes);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) text += sep;
    text += table[ids[i]];
  }
  return text;
}

// Longest JSON parser message passed on (it can quote the offending token).
constexpr size_t kMaxJsonErrorQuote = 200;

template <class Exception>
[[noreturn]] void fail_json(const std::string& where, const Exception& e) {
  bool cut;
  const std::string what = escape(e.what(), kMaxJsonErrorQuote, false, cut);
  fail(where, ": invalid JSON (", what, cut ? "...)" : ")");
}

// ---------------------------------------------------------------- the spec

// The keys a spec may have; which apply depends on "type".
struct Spec {
  std::optional<std::string> type, unk, split;
  std::optional<std::vector<std::string>> vocab;
  std::optional<bool> lowercase;
  std::vector<std::string> keys;  // in file order
};

// SAX reader of the spec: {"type": str, "vocab": [str...], "unk": str, "lowercase": bool,
// "split": str}. Any other shape is refused at its first event.
class SpecReader {
 public:
  explicit SpecReader(Spec& spec) : spec_(spec) {}

  bool null() { return refuse("null"); }
  bool boolean(bool v) {
    if (depth_ == 1 && key_ == "lowercase") {
      spec_.lowercase = v;
      return true;
    }
    return refuse("a boolean");
  }
  bool number_integer(json::number_integer_t) { return refuse("a number"); }
  bool number_unsigned(json::number_unsigned_t) { return refuse("a number"); }
  bool number_float(json::number_float_t, const std::string&) { return refuse("a number"); }
  bool binary(json::binary_t&) { return refuse("binary data"); }
  bool string(std::string& v) {
    if (depth_ == 2) {
      ATTN_CHECK(static_cast<int64_t>(spec_.vocab->size()) < kMaxTokenizerVocab,
                 "make_tokenizer: spec: 'vocab' has more than ", kMaxTokenizerVocab, " entries");
      spec_.vocab->push_back(std::move(v));
      return true;
    }
    if (depth_ == 1 && (key_ == "type" || key_ == "unk" || key_ == "split")) {
      (key_ == "type" ? spec_.type : key_ == "unk" ? spec_.unk : spec_.split) = std::move(v);
      return true;
    }
    return refuse("a string");
  }
  bool start_object(std::size_t) {
    if (depth_ == 0) {
      depth_ = 1;
      return true;
    }
    return refuse("an object");
  }
  bool key(std::string& k) {
    static const char* const kKeys[] = {"type", "vocab", "unk", "lowercase", "split"};
    ATTN_CHECK(std::find(std::begin(kKeys), std::end(kKeys), k) != std::end(kKeys), "make_tokenizer: spec: unknown key ",
               quote(k), " (the keys are type, vocab, unk, lowercase, split)");
    ATTN_CHECK(std::find(spec_.keys.begin(), spec_.keys.end(), k) == spec_.keys.end(), "make_tokenizer: spec: key ",
               quote(k), " appears twice");
    spec_.keys.push_back(k);
    key_ = std::move(k);
    return true;
  }
  bool end_object() {
    depth_ = 0;
    return true;
  }
  bool start_array(std::size_t) {
    if (depth_ == 1 && key_ == "vocab") {
      depth_ = 2;
      spec_.vocab.emplace();
      return true;
    }
    return refuse("an array");
  }
  bool end_array() {
    depth_ = 1;
    return true;
  }
  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& e) {
    fail_json("make_tokenizer: spec", e);
  }

 private:
  // The value just read is not what the spec allows where it stands.
  bool refuse(const char* got) {
    if (depth_ == 0) fail("make_tokenizer: spec must be a JSON object like {\"type\": \"char\", ...}, got ", got);
    if (depth_ == 2)
      fail("make_tokenizer: spec: 'vocab' must be an array of strings, got ", got, " at index ", spec_.vocab->size());
    const char* expected = key_ == "vocab" ? "an array of strings" : key_ == "lowercase" ? "a boolean" : "a string";
    fail("make_tokenizer: spec: ", quote(key_), " must be ", expected, ", got ", got);
  }

  Spec& spec_;
  int depth_ = 0;  // 0: outside the root object, 1: in it, 2: in "vocab"
  std::string key_;
};

Spec parse_spec(std::string_view text) {
  check_size("make_tokenizer: spec", text);
  Spec spec;
  SpecReader reader(spec);
  json::sax_parse(text.begin(), text.end(), &reader);
  ATTN_CHECK(spec.type, "make_tokenizer: spec has no 'type' (\"gpt2-bpe\", \"char\" or \"word\")");
  return spec;
}

void check_keys(const char* kind, const Spec& spec, std::initializer_list<const char*> allowed) {
  for (const std::string& k : spec.keys)
    ATTN_CHECK(std::find(allowed.begin(), allowed.end(), k) != allowed.end(), kind, ": spec: key ", quote(k),
               " does not apply to a ", kind, " tokenizer");
}

// The vocab list of a char or word spec, checked: present, non-empty entries, no duplicates.
// Returns each entry's id; sets `unk` to the unk token's id or -1.
std::unordered_map<std::string, int32_t> index_vocab(const char* kind, const Spec& spec, int32_t& unk) {
  ATTN_CHECK(spec.vocab, kind, ": spec has no 'vocab' (an array of strings)");
  ATTN_CHECK(!spec.vocab->empty(), kind, ": spec: 'vocab' is empty");
  std::unordered_map<std::string, int32_t> ids;
  ids.reserve(spec.vocab->size());
  for (size_t i = 0; i < spec.vocab->size(); ++i) {
    const std::string& v = (*spec.vocab)[i];
    ATTN_CHECK(!v.empty(), kind, ": spec: vocab entry ", i, " is empty");
    const auto [it, fresh] = ids.emplace(v, static_cast<int32_t>(i));
    ATTN_CHECK(fresh, kind, ": spec: vocab entries ", it->second, " and ", i, " are both ", quote(v));
  }
  unk = -1;
  if (spec.unk) {
    const auto it = ids.find(*spec.unk);
    ATTN_CHECK(it != ids.end(), kind, ": spec: unk ", quote(*spec.unk), " is not in 'vocab'");
    unk = it->second;
  }
  return ids;
}

// ---------------------------------------------------------------- char

class CharTokenizer final : public Tokenizer {
 public:
  explicit CharTokenizer(const Spec& spec) {
    check_keys(kind(), spec, {"type", "vocab", "unk"});
    for (const auto& [token, id] : index_vocab(kind(), spec, unk_)) {
      const CodePoint c = next_code_point(token, 0);
      if (c.len != token.size()) continue;  // a special token: decode only
      if (c.cp < 0x80) {
        ascii_[c.cp] = id;
      } else {
        others_.emplace(c.cp, id);
      }
    }
    vocab_ = *spec.vocab;
  }

  std::vector<int32_t> encode(std::string_view text) const override {
    check_encode_size(kind(), text);
    std::vector<int32_t> ids;
    ids.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
      const CodePoint c = next_code_point(text, i);
      int32_t id = -1;
      if (c.cp < 0x80) {
        id = ascii_[c.cp];
      } else if (c.valid) {
        const auto it = others_.find(c.cp);
        if (it != others_.end()) id = it->second;
      }
      if (id < 0) {
        ATTN_CHECK(unk_ >= 0, "char: encode: ", describe(text, c, i), " at byte ", i,
                   " is not in the vocab, and the spec has no 'unk'");
        id = unk_;
      }
      ids.push_back(id);
      i += c.len;
    }
    return ids;
  }

  std::string decode(const std::vector<int32_t>& ids) const override { return join_tokens(kind(), vocab_, ids, ""); }

  int64_t vocab_size() const override { return static_cast<int64_t>(vocab_.size()); }
  const char* kind() const override { return "char"; }

 private:
  std::vector<std::string> vocab_;  // id -> text
  std::array<int32_t, 0x80> ascii_ = [] {
    std::array<int32_t, 0x80> a{};
    a.fill(-1);
    return a;
  }();
  std::unordered_map<uint32_t, int32_t> others_;  // non-ASCII code point -> id
  int32_t unk_ = -1;
};

// ---------------------------------------------------------------- word

class WordTokenizer final : public Tokenizer {
 public:
  explicit WordTokenizer(const Spec& spec) {
    check_keys(kind(), spec, {"type", "vocab", "unk", "lowercase", "split"});
    ids_ = index_vocab(kind(), spec, unk_);
    vocab_ = *spec.vocab;
    lowercase_ = spec.lowercase.value_or(false);
    const std::string split = spec.split.value_or("whitespace");
    ATTN_CHECK(split == "whitespace" || split == "words-and-punct", "word: spec: 'split' must be \"whitespace\" or ",
               "\"words-and-punct\", got ", quote(split));
    words_and_punct_ = split == "words-and-punct";
  }

  std::vector<int32_t> encode(std::string_view text) const override {
    check_encode_size(kind(), text);
    std::vector<int32_t> ids;
    std::string word;
    size_t i = 0;
    while (i < text.size()) {
      CodePoint c = next_code_point(text, i);
      CharClass cls = class_of(c.cp);
      if (cls == kSpace) {
        i += c.len;
        continue;
      }
      const size_t start = i;
      const bool is_word = !words_and_punct_ || is_word_class(c.cp, cls);
      word.clear();
      do {
        if (lowercase_ && c.valid) {
          append_utf8(word, to_lower(c.cp));
        } else {
          word.append(text.substr(i, c.len));
        }
        i += c.len;
        if (i == text.size() || !is_word) break;
        c = next_code_point(text, i);
        cls = class_of(c.cp);
      } while (cls != kSpace && (!words_and_punct_ || is_word_class(c.cp, cls)));
      const auto it = ids_.find(word);
      if (it != ids_.end()) {
        ids.push_back(it->second);
      } else {
        ATTN_CHECK(unk_ >= 0, "word: encode: word ", quote(text.substr(start, i - start)), " at byte ", start,
                   " is not in the vocab, and the spec has no 'unk'");
        ids.push_back(unk_);
      }
    }
    return ids;
  }

  std::string decode(const std::vector<int32_t>& ids) const override { return join_tokens(kind(), vocab_, ids, " "); }

  int64_t vocab_size() const override { return static_cast<int64_t>(vocab_.size()); }
  const char* kind() const override { return "word"; }

 private:
  // \w: letters, numbers, marks and '_'.
  static bool is_word_class(uint32_t cp, CharClass cls) {
    return cls == kLetter || cls == kNumber || cls == kMark || cp == '_';
  }

  std::vector<std::string> vocab_;  // id -> word
  std::unordered_map<std::string, int32_t> ids_;
  int32_t unk_ = -1;
  bool lowercase_ = false;
  bool words_and_punct_ = false;
};

// ---------------------------------------------------------------- GPT-2 BPE

// encoder.py's bytes_to_unicode(): printable Latin-1 bytes stand for themselves, the
// other 68 (controls, space, soft hyphen...) for U+0100 onwards, in byte order.
std::array<uint32_t, 256> bytes_to_unicode() {
  std::array<uint32_t, 256> table{};
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    table[b] = printable ? b : next++;
  }
  return table;
}

// vocab.json as the SAX parser delivers it: {token: id}, ids integers in [0, kMaxTokenizerVocab).
class VocabReader {
 public:
  VocabReader(std::string file, std::unordered_map<std::string, int32_t>& ids,
              std::vector<const std::pair<const std::string, int32_t>*>& order)
      : where_("gpt2-bpe: " + std::move(file)), ids_(ids), order_(order) {}

  bool null() { return refuse("null"); }
  bool boolean(bool) { return refuse("a boolean"); }
  bool number_integer(json::number_integer_t v) {
    if (v < 0 && depth_ == 1) fail(where_, ": id ", v, " of token ", quote(key_), " is negative");
    return number_unsigned(static_cast<json::number_unsigned_t>(v));
  }
  bool number_unsigned(json::number_unsigned_t v) {
    if (depth_ != 1) return refuse("a number");
    ATTN_CHECK(v < static_cast<uint64_t>(kMaxTokenizerVocab), where_, ": id ", v, " of token ", quote(key_),
               " is out of range (a vocab has at most ", kMaxTokenizerVocab, " tokens)");
    ATTN_CHECK(!key_.empty(), where_, ": has an empty token (id ", v, ")");
    const auto [it, fresh] = ids_.emplace(std::move(key_), static_cast<int32_t>(v));
    ATTN_CHECK(fresh, where_, ": token ", quote(it->first), " appears twice");
    order_.push_back(&*it);
    return true;
  }
  bool number_float(json::number_float_t, const std::string& text) {
    if (depth_ != 1) return refuse("a number");
    fail(where_, ": id of token ", quote(key_), " must be an integer, got ", quote(text));
  }
  bool string(std::string&) { return refuse("a string"); }
  bool binary(json::binary_t&) { return refuse("binary data"); }
  bool start_object(std::size_t) {
    if (depth_ != 0) return refuse("an object");
    depth_ = 1;
    return true;
  }
  bool key(std::string& k) {
    ATTN_CHECK(static_cast<int64_t>(ids_.size()) < kMaxTokenizerVocab, where_, ": has more than ",
               kMaxTokenizerVocab, " tokens");
    key_ = std::move(k);
    return true;
  }
  bool end_object() {
    depth_ = 0;
    return true;
  }
  bool start_array(std::size_t) { return refuse("an array"); }
  bool end_array() { return refuse("an array"); }
  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& e) {
    fail_json(where_, e);
  }

 private:
  bool refuse(const char* got) {
    if (depth_ == 0) fail(where_, ": must be a JSON object {token: id}, got ", got);
    fail(where_, ": id of token ", quote(key_), " must be an integer, got ", got);
  }

  std::string where_;
  std::unordered_map<std::string, int32_t>& ids_;
  std::vector<const std::pair<const std::string, int32_t>*>& order_;  // entries of ids_ in file order
  int depth_ = 0;
  std::string key_;
};

// The contents of whichever of two file names is given; exactly one must be.
const std::pair<const std::string, std::string>& find_file(const std::map<std::string, std::string>& files,
                                                           const char* name, const char* alias, const char* what) {
  const auto a = files.find(name), b = files.find(alias);
  ATTN_CHECK(a != files.end() || b != files.end(), "gpt2-bpe: missing file: ", name, " (or ", alias, "), the ",
             what);
  ATTN_CHECK(a == files.end() || b == files.end(), "gpt2-bpe: both ", name, " and ", alias,
             " are given; pass one ", what);
  return a != files.end() ? *a : *b;
}

class Gpt2BpeTokenizer final : public Tokenizer {
 public:
  explicit Gpt2BpeTokenizer(const Spec& spec, const std::map<std::string, std::string>& files) {
    check_keys(kind(), spec, {"type"});
    const auto& vocab_file = find_file(files, "vocab.json", "encoder.json", "vocab {token: id}");
    const auto& merges_file = find_file(files, "merges.txt", "vocab.bpe", "BPE merges");
    std::unordered_map<std::string, int32_t> token_ids;  // token as written in the file -> id
    read_vocab(vocab_file.first, vocab_file.second, token_ids);
    read_merges(merges_file.first, merges_file.second, vocab_file.first, token_ids);
  }

  std::vector<int32_t> encode(std::string_view text) const override {
    check_encode_size(kind(), text);
    std::vector<int32_t> ids;
    ids.reserve(text.size() / 3);
    const std::lock_guard<std::mutex> lock(mutex_);
    // Scratch sized by one long piece (a 10 MB word) is given back when encode returns or throws.
    struct TrimScratch {
      const Gpt2BpeTokenizer& t;
      ~TrimScratch() { t.trim_scratch(); }
    } trim{*this};
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const size_t n = text.size();
    size_t i = 0;
    while (i < n) {
      const size_t end = piece_end(s, n, i);
      encode_piece(s + i, end - i, ids);
      i = end;
    }
    return ids;
  }

  std::string decode(const std::vector<int32_t>& ids) const override {
    return join_tokens(kind(), token_bytes_, ids, "");
  }

  int64_t vocab_size() const override { return static_cast<int64_t>(token_bytes_.size()); }
  const char* kind() const override { return "gpt2-bpe"; }

 private:
  struct Merge {
    uint32_t rank;   // line order in the merges file: lower merges first
    int32_t merged;  // id of the two tokens joined
  };
  // A symbol of the piece being merged; symbols form a linked list over the bytes.
  struct Symbol {
    int32_t id;  // -1 once merged into its left neighbour
    int32_t prev, next;
  };
  // An adjacent pair that has a merge, as it was when pushed; stale once either symbol changed.
  struct Candidate {
    uint32_t rank;
    int32_t left;  // symbol index
    int32_t left_id, right_id, merged;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  // Pieces up to this length are cached, at most kCacheEntries of them; the cache is
  // emptied when full, so memory stays bounded whatever the text.
  static constexpr size_t kMaxCachedPiece = 64;
  static constexpr size_t kCacheEntries = 1 << 14;

  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

  void read_vocab(const std::string& file, const std::string& text,
                  std::unordered_map<std::string, int32_t>& token_ids) {
    const std::string where = "gpt2-bpe: " + file;
    check_size(where, text);
    std::vector<const std::pair<const std::string, int32_t>*> order;
    VocabReader reader(file, token_ids, order);
    json::sax_parse(text.begin(), text.end(), &reader);
    const int64_t n = static_cast<int64_t>(order.size());
    ATTN_CHECK(n > 0, where, ": has no tokens");

    // Tokens are written in bytes_to_unicode()'s alphabet; keep the bytes they stand for.
    const std::array<uint32_t, 256> to_unicode = bytes_to_unicode();
    std::vector<int16_t> to_byte(324, -1);  // bytes_to_unicode() maps into U+0021 .. U+0143
    for (int b = 0; b < 256; ++b) to_byte[to_unicode[b]] = static_cast<int16_t>(b);
    token_bytes_.assign(n, std::string());
    std::vector<const std::string*> owner(n, nullptr);
    for (const auto* entry : order) {
      const std::string& token = entry->first;
      const int32_t id = entry->second;
      ATTN_CHECK(id < n, where, ": id ", id, " of token ", quote(token), " is out of range [0, ", n,
                 "): the ids of ", n, " tokens must be 0 .. ", n - 1);
      ATTN_CHECK(!owner[id], where, ": tokens ", quote(*owner[id]), " and ", quote(token), " both have id ", id);
      owner[id] = &token;
      std::string& bytes = token_bytes_[id];
      for (size_t i = 0; i < token.size();) {
        const CodePoint c = next_code_point(token, i);  // JSON strings are valid UTF-8
        ATTN_CHECK(c.cp < to_byte.size() && to_byte[c.cp] >= 0, where, ": token ", quote(token), " has ",
                   code_point_name(c.cp), ", which is not a character of GPT-2's byte-to-unicode table");
        bytes += static_cast<char>(to_byte[c.cp]);
        i += c.len;
      }
    }
    for (int b = 0; b < 256; ++b) {
      std::string token;
      append_utf8(token, to_unicode[b]);
      const auto it = token_ids.find(token);
      ATTN_CHECK(it != token_ids.end(), where, ": has no token for byte ", hex_byte(static_cast<unsigned char>(b)), " (",
                 quote(token), "); a byte-level BPE vocab needs all 256");
      byte_ids_[b] = it->second;
    }
  }

  void read_merges(const std::string& file, const std::string& text, const std::string& vocab_file,
                   const std::unordered_map<std::string, int32_t>& token_ids) {
    const std::string where = "gpt2-bpe: " + file;
    check_size(where, text);
    int64_t line_no = 0, first_merge_line = 1;
    std::string merged;
    for (size_t pos = 0; pos < text.size();) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      std::string_view line(text.data() + pos, end - pos);
      pos = end + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line_no == 1 && line.substr(0, 8) == "#version") {
        first_merge_line = 2;
        continue;
      }
      const size_t space = line.find(' ');
      ATTN_CHECK(space != 0 && space != std::string_view::npos && space + 1 < line.size() &&
                     line.find(' ', space + 1) == std::string_view::npos,
                 where, " line ", line_no, ": expected two tokens separated by one space, got ", quote(line));
      ATTN_CHECK(static_cast<int64_t>(merges_.size()) < kMaxTokenizerVocab, where, ": has more than ",
                 kMaxTokenizerVocab, " merges");
      const std::string_view halves[2] = {line.substr(0, space), line.substr(space + 1)};
      int32_t ids[2];
      for (int k = 0; k < 2; ++k) {
        const auto it = token_ids.find(std::string(halves[k]));
        ATTN_CHECK(it != token_ids.end(), where, " line ", line_no, ": token ", quote(halves[k]), " is not in ",
                   vocab_file);
        ids[k] = it->second;
      }
      merged.assign(halves[0]).append(halves[1]);
      const auto it = token_ids.find(merged);
      ATTN_CHECK(it != token_ids.end(), where, " line ", line_no, ": the merged token ", quote(merged),
                 " is not in ", vocab_file);
      const uint32_t rank = static_cast<uint32_t>(merges_.size());
      const auto [at, fresh] = merges_.emplace(pair_key(ids[0], ids[1]), Merge{rank, it->second});
      ATTN_CHECK(fresh, where, " line ", line_no, ": merge ", quote(line), " already appears on line ",
                 at->second.rank + first_merge_line);
    }
  }

  // End of the pre-token starting at byte i: GPT-2's regex
  //   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  // matched by hand. Its alternatives are tried in order, as the regex engine does.
  static size_t piece_end(const unsigned char* s, size_t n, size_t i) {
    if (s[i] == '\'' && i + 1 < n) {
      const unsigned char a = s[i + 1], b = i + 2 < n ? s[i + 2] : 0;
      if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    }
    CodePoint c = next_code_point(s, n, i);
    CharClass cls = class_of(c.cp);
    size_t j = i + c.len;
    if (c.cp == ' ' && j < n) {  // " ?X+": a space joins a following letter, number or other run
      const CharClass next = class_of(next_code_point(s, n, j).cp);
      if (next != kSpace) cls = next;
    }
    if (cls != kSpace) {
      while (j < n) {
        const CodePoint d = next_code_point(s, n, j);
        if (class_of(d.cp) != cls) break;
        j += d.len;
      }
      return j;
    }
    // \s+(?!\S) takes a run of white space that reaches the end of the text, or all of
    // it but its last character, which is left to join what follows; a single space
    // character before a non-space falls to \s+.
    size_t last = i;
    while (j < n) {
      const CodePoint d = next_code_point(s, n, j);
      if (class_of(d.cp) != kSpace) break;
      last = j;
      j += d.len;
    }
    if (j == n || last == i) return j;
    return last;
  }

  // Appends the ids of one pre-token (bytes p[0 .. len)).
  void encode_piece(const unsigned char* p, size_t len, std::vector<int32_t>& out) const {
    if (len == 1) {
      out.push_back(byte_ids_[p[0]]);
      return;
    }
    const bool cacheable = len <= kMaxCachedPiece;
    std::string key;
    if (cacheable) {
      key.assign(reinterpret_cast<const char*>(p), len);
      const auto it = cache_.find(key);
      if (it != cache_.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        return;
      }
    }
    const size_t first = out.size();
    merge_bytes(p, len, out);
    if (cacheable) {
      if (cache_.size() >= kCacheEntries) cache_.clear();
      cache_.emplace(std::move(key), std::vector<int32_t>(out.begin() + first, out.end()));
    }
  }

  // Keeps the merge scratch only up to a typical word's needs.
  void trim_scratch() const noexcept {
    constexpr size_t kKeep = size_t{1} << 16;
    if (symbols_.capacity() > kKeep) std::vector<Symbol>().swap(symbols_);
    if (heap_.capacity() > kKeep) std::vector<Candidate>().swap(heap_);
    if (pending_.capacity() > kKeep) std::vector<Candidate>().swap(pending_);
  }

  void push_pair(int32_t left) const {
    if (left < 0) return;
    const int32_t right = symbols_[left].next;
    if (right < 0) return;
    const auto it = merges_.find(pair_key(symbols_[left].id, symbols_[right].id));
    if (it == merges_.end()) return;
    pending_.push_back({it->second.rank, left, symbols_[left].id, symbols_[right].id, it->second.merged});
  }

  // encoder.py's bpe() over the bytes of one piece; appends the resulting ids.
  void merge_bytes(const unsigned char* p, size_t len, std::vector<int32_t>& out) const {
    symbols_.resize(len);
    for (size_t k = 0; k < len; ++k)
      symbols_[k] = {byte_ids_[p[k]], static_cast<int32_t>(k) - 1, k + 1 < len ? static_cast<int32_t>(k + 1) : -1};
    heap_.clear();
    pending_.clear();
    for (size_t k = 0; k + 1 < len; ++k) push_pair(static_cast<int32_t>(k));
    const auto greater = [](const Candidate& a, const Candidate& b) { return a > b; };
    for (;;) {
      for (const Candidate& c : pending_) {
        heap_.push_back(c);
        std::push_heap(heap_.begin(), heap_.end(), greater);
      }
      pending_.clear();
      if (heap_.empty()) break;
      // One round: every occurrence of the lowest-ranked pair, left to right.
      const uint32_t rank = heap_.front().rank;
      while (!heap_.empty() && heap_.front().rank == rank) {
        std::pop_heap(heap_.begin(), heap_.end(), greater);
        const Candidate c = heap_.back();
        heap_.pop_back();
        Symbol& left = symbols_[c.left];
        if (left.id != c.left_id || left.next < 0 || symbols_[left.next].id != c.right_id) continue;
        Symbol& right = symbols_[left.next];
        left.id = c.merged;
        right.id = -1;
        left.next = right.next;
        if (left.next >= 0) symbols_[left.next].prev = c.left;
        push_pair(left.prev);
        push_pair(c.left);
      }
      // Stale candidates of this round are dropped; pairs it made wait for the next.
    }
    for (int32_t k = 0; k >= 0; k = symbols_[k].next) out.push_back(symbols_[k].id);
  }

  std::vector<std::string> token_bytes_;        // id -> the bytes it stands for
  std::array<int32_t, 256> byte_ids_{};         // byte -> id of its one-byte token
  std::unordered_map<uint64_t, Merge> merges_;  // pair_key(left id, right id) -> merge

  // Per-call state, reused across calls and guarded by mutex_.
  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;  // piece bytes -> ids
  mutable std::vector<Symbol> symbols_;
  mutable std::vector<Candidate> heap_, pending_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_tokenizer(std::string_view spec_json, const std::map<std::string, std::string>& files) {
  const Spec spec = parse_spec(spec_json);
  if (*spec.type == "gpt2-bpe") return std::make_unique<Gpt2BpeTokenizer>(spec, files);
  if (*spec.type == "char") return std::make_unique<CharTokenizer>(spec);
  if (*spec.type == "word") return std::make_unique<WordTokenizer>(spec);
  fail("make_tokenizer: spec: unknown type ", quote(*spec.type), " (expected \"gpt2-bpe\", \"char\" or \"word\")");
}

}  // namespace attn::io
