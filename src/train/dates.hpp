// Date normalisation, the encoder-decoder's task (the classic alignment demo): a date
// between 1950-01-01 and 2049-12-31 written in one of 20 human formats -> "YYYY-MM-DD".
// Seeded (core/rng.hpp). Formats: "5 March 1998", "March 5, 1998", "5 Mar 1998",
// "Mar 5, 1998", "Thursday, 5 March 1998", "Thursday, March 5, 1998", "Thu 5 Mar 1998",
// "March 5th, 1998", "the 5th of March, 1998", "1998-03-05", "1998/03/05", "19980305",
// "05.03.1998" (day first: dots are European), "03/05/1998" (month first: slashes with the year
// last are American), "5 march 98", "MARCH 5 1998", "Mar. 5, '98", "5-Mar-1998",
// "1998, March 5", "Thursday 5th March 1998". Two-digit years: 50-99 -> 19xx, 00-49 -> 20xx.
// Weekdays are the real ones. Held out: every date whose day number (days since 1970-01-01)
// is 7 mod 10 appears only in held-out examples, so no held-out date is ever trained on.
// Source ids: 0 "<unk>" (also padding), then the characters the formats use; target ids: 0
// "<pad>", 1 "<bos>", 2 "<eos>", the digits, "-".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.hpp"

namespace attn::train {

struct CivilDate {
  int64_t year, month, day;
};
// Days since 1970-01-01 of a proleptic Gregorian date, and back (Hinnant's algorithms).
int64_t days_from_civil(CivilDate d);
CivilDate civil_from_days(int64_t z);
// 0 = Monday .. 6 = Sunday.
int weekday_of(int64_t days);

class DateTask {
 public:
  static constexpr int32_t kPad = 0, kBos = 1, kEos = 2;
  static constexpr int64_t kTargetLen = 10;  // "YYYY-MM-DD"
  static constexpr int kFormats = 20;
  struct Example {
    std::string source, target;
    int format;
  };
  // held_out: draw only held-out dates (else only training dates).
  Example example(Rng& rng, bool held_out) const;
  // The date in format f (0 <= f < kFormats).
  static std::string format(int64_t days, int f);
  static int64_t max_source_len();  // the longest string any format produces
  static std::vector<std::string> source_vocab();
  static std::vector<std::string> target_vocab();
  static std::vector<int32_t> encode_source(const std::string& s);  // unknown characters -> 0
  static std::vector<int32_t> encode_target(const std::string& s);  // digits and '-'
  // B examples: src (B, S) padded with 0 (S = max_source_len()), src_padding (B, S), tgt_in
  // (B, T) = bos + target, targets (B, T) = target + eos, T = kTargetLen + 1.
  void batch(Rng& rng, int64_t B, bool held_out, std::vector<int32_t>& src, std::vector<uint8_t>& src_padding,
             std::vector<int32_t>& tgt_in, std::vector<int32_t>& targets) const;
  static std::string source_tokenizer_spec();
  static std::string target_tokenizer_spec();
};

}  // namespace attn::train
