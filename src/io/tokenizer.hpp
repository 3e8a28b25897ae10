// Tokenizers: text <-> token ids, built from a JSON spec and the model's files.
//
//   auto tok = attn::io::make_tokenizer(R"({"type": "gpt2-bpe"})",
//                                       {{"encoder.json", read("encoder.json")},
//                                        {"vocab.bpe", read("vocab.bpe")}});
//   std::vector<int32_t> ids = tok->encode("Hello world");   // {15496, 995}
//   std::string text = tok->decode(ids);                      // "Hello world"
//
// Three kinds (spec "type"):
//  - "gpt2-bpe": {"type": "gpt2-bpe"}. GPT-2's byte-level BPE, exactly as
//    openai/gpt-2 encoder.py does it (tested against GPT-2's own files). Files:
//    "vocab.json" or "encoder.json" ({token: id}, ids 0 .. n-1, a token for every
//    byte) and "merges.txt" or "vocab.bpe" (an optional "#version" first line, then
//    one merge "a b" per line, no duplicates, both halves and the merged token in
//    the vocab). Pre-tokenisation is GPT-2's regex
//      's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//    over code points, where \s is Unicode White_Space (as in Python's `regex`, which
//    GPT-2 uses; JavaScript's \s differs on U+0085 and U+FEFF) and \p{L}, \p{N} come
//    from Unicode 14 tables (src/io/unicode_tables.inc). Bytes that are not valid
//    UTF-8 are classified as the code point of their byte value (Latin-1: 0xE9 is a
//    letter, 0x85 and 0xA0 are white space) and encoded as themselves, so
//    decode(encode(s)) == s for any bytes. decode returns raw bytes (it may cut a
//    multi-byte character when the ids do).
//  - "char": {"type": "char", "vocab": ["<pad>", "a", ...], "unk": "<unk>"}. Each
//    code point of the text is one token. Vocab entries of one code point are what
//    encode produces; longer ones are special tokens that only decode produces.
//  - "word": {"type": "word", "vocab": [...], "unk": "<unk>", "lowercase": false,
//    "split": "whitespace"}. "whitespace" splits on runs of white space;
//    "words-and-punct" splits into runs of letters, numbers, marks and '_' (\w) and
//    single other characters, dropping white space (BERT's basic split).
//    "lowercase" applies simple Unicode lowercasing to the text (not to the vocab).
//    decode joins the words with single spaces.
//  For "char" and "word", "unk" is optional: without it an unknown character or word
//  is an error naming it. Invalid UTF-8 bytes are unknown characters to "char"; to
//  "word" they are Latin-1 characters when splitting, and never in the vocab.
//
// Everything handed to make_tokenizer is untrusted: each failure is an attn::Error
// naming the tokenizer kind, the file or spec key and the problem, e.g.
//   "gpt2-bpe: merges.txt line 17: expected two tokens separated by one space".
// Not here: special-token parsing in encode (GPT-2's "<|endoftext|>" in text is
// split like any other text, as in encoder.py), normalisation, SentencePiece/WordPiece.
//
// encode and decode are safe to call from several threads (the BPE cache is locked).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace attn::io {

// Most entries a vocabulary (or a merges file) may have.
constexpr int64_t kMaxTokenizerVocab = 1000000;
// Largest spec or file accepted, in bytes (GPT-2's encoder.json is 1 MB).
constexpr uint64_t kMaxTokenizerFileBytes = uint64_t{64} << 20;
// Longest file name, token or word quoted in an error message, in bytes.
constexpr size_t kMaxTokenizerQuote = 64;

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Token ids of `text`; empty text gives no ids. Throws when the text holds a
  // character or word the vocabulary lacks and there is no unk token, or when the
  // ids would exceed max_tensor_bytes().
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // The text of `ids`, concatenated ("word": joined with spaces). Throws on an id
  // outside [0, vocab_size()), naming it and the vocab size.
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  virtual int64_t vocab_size() const = 0;
  // "gpt2-bpe", "char" or "word".
  virtual const char* kind() const = 0;
};

// Builds the tokenizer that `spec_json` (a JSON object, see above) describes, from
// `files` (file name -> contents; only "gpt2-bpe" reads any). Unknown spec keys are
// errors, so a misspelt option cannot be silently ignored.
std::unique_ptr<Tokenizer> make_tokenizer(std::string_view spec_json,
                                          const std::map<std::string, std::string>& files = {});

}  // namespace attn::io
