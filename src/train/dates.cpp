// Date normalisation: see dates.hpp.
#include "train/dates.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace attn::train {

namespace {
constexpr const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};
constexpr const char* kDays[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
const int64_t kFirst = days_from_civil({1950, 1, 1}), kLast = days_from_civil({2049, 12, 31});

std::string two(int64_t v) {
  char b[8];
  std::snprintf(b, sizeof b, "%02lld", static_cast<long long>(v));
  return b;
}
std::string ordinal(int64_t d) {
  const char* suffix = (d % 10 == 1 && d != 11) ? "st" : (d % 10 == 2 && d != 12) ? "nd" : (d % 10 == 3 && d != 13) ? "rd" : "th";
  return std::to_string(d) + suffix;
}
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
}  // namespace

int64_t days_from_civil(CivilDate c) {
  const int64_t y = c.year - (c.month <= 2);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (c.month + (c.month > 2 ? -3 : 9)) + 2) / 5 + c.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp + (mp < 10 ? 3 : -9);
  return {yoe + era * 400 + (m <= 2), m, d};
}

int weekday_of(int64_t days) { return static_cast<int>(((days % 7) + 7 + 3) % 7); }  // 1970-01-01 was a Thursday

std::string DateTask::format(int64_t days, int f) {
  ATTN_CHECK(f >= 0 && f < kFormats, "DateTask::format: format must be in [0, ", kFormats, "), got ", f);
  const CivilDate c = civil_from_days(days);
  const std::string M = kMonths[c.month - 1], m3 = M.substr(0, 3), W = kDays[weekday_of(days)], w3 = W.substr(0, 3);
  const std::string d = std::to_string(c.day), y = std::to_string(c.year), yy = two(c.year % 100);
  switch (f) {
    case 0: return d + " " + M + " " + y;
    case 1: return M + " " + d + ", " + y;
    case 2: return d + " " + m3 + " " + y;
    case 3: return m3 + " " + d + ", " + y;
    case 4: return W + ", " + d + " " + M + " " + y;
    case 5: return W + ", " + M + " " + d + ", " + y;
    case 6: return w3 + " " + d + " " + m3 + " " + y;
    case 7: return M + " " + ordinal(c.day) + ", " + y;
    case 8: return "the " + ordinal(c.day) + " of " + M + ", " + y;
    case 9: return y + "-" + two(c.month) + "-" + two(c.day);
    case 10: return y + "/" + two(c.month) + "/" + two(c.day);
    case 11: return y + two(c.month) + two(c.day);
    case 12: return two(c.day) + "." + two(c.month) + "." + y;
    case 13: return two(c.month) + "/" + two(c.day) + "/" + y;
    case 14: return d + " " + lower(M) + " " + yy;
    case 15: return upper(M) + " " + d + " " + y;
    case 16: return m3 + ". " + d + ", '" + yy;
    case 17: return d + "-" + m3 + "-" + y;
    case 18: return y + ", " + M + " " + d;
    default: return W + " " + ordinal(c.day) + " " + M + " " + y;
  }
}

int64_t DateTask::max_source_len() {
  size_t n = 0;
  for (int64_t days : {days_from_civil({1998, 9, 23}), days_from_civil({2001, 9, 26})})  // Wednesdays in September
    for (int f = 0; f < kFormats; ++f) n = std::max(n, format(days, f).size());
  return static_cast<int64_t>(n);
}

DateTask::Example DateTask::example(Rng& rng, bool held_out) const {
  int64_t days;
  do {
    days = kFirst + rng.below(static_cast<uint32_t>(kLast - kFirst + 1));
  } while ((((days % 10) + 10) % 10 == 7) != held_out);
  const int f = static_cast<int>(rng.below(kFormats));
  const CivilDate c = civil_from_days(days);
  return {format(days, f), std::to_string(c.year) + "-" + two(c.month) + "-" + two(c.day), f};
}

std::vector<std::string> DateTask::source_vocab() {
  std::vector<std::string> v{"<unk>"};
  for (char c : std::string(" ,./-'0123456789")) v.push_back(std::string(1, c));
  for (char c = 'a'; c <= 'z'; ++c) v.push_back(std::string(1, c));
  for (char c = 'A'; c <= 'Z'; ++c) v.push_back(std::string(1, c));
  return v;
}

std::vector<std::string> DateTask::target_vocab() {
  std::vector<std::string> v{"<pad>", "<bos>", "<eos>"};
  for (char c : std::string("0123456789-")) v.push_back(std::string(1, c));
  return v;
}

std::vector<int32_t> DateTask::encode_source(const std::string& s) {
  static const std::vector<std::string> vocab = source_vocab();
  std::vector<int32_t> ids;
  for (char c : s) {
    int32_t id = 0;
    for (size_t i = 1; i < vocab.size(); ++i)
      if (vocab[i][0] == c) id = static_cast<int32_t>(i);
    ids.push_back(id);
  }
  return ids;
}

std::vector<int32_t> DateTask::encode_target(const std::string& s) {
  std::vector<int32_t> ids;
  for (char c : s) {
    ATTN_CHECK(std::isdigit(static_cast<unsigned char>(c)) || c == '-', "DateTask::encode_target: unexpected '", c, "'");
    ids.push_back(c == '-' ? 13 : 3 + (c - '0'));
  }
  return ids;
}

void DateTask::batch(Rng& rng, int64_t B, bool held_out, std::vector<int32_t>& src, std::vector<uint8_t>& src_padding,
                     std::vector<int32_t>& tgt_in, std::vector<int32_t>& targets) const {
  ATTN_CHECK(B >= 1, "DateTask::batch: B must be >= 1, got ", B);
  const int64_t S = max_source_len(), T = kTargetLen + 1;
  src.assign(static_cast<size_t>(B * S), kPad);
  src_padding.assign(static_cast<size_t>(B * S), 1);
  tgt_in.resize(static_cast<size_t>(B * T));
  targets.resize(static_cast<size_t>(B * T));
  for (int64_t b = 0; b < B; ++b) {
    const Example e = example(rng, held_out);
    const std::vector<int32_t> s = encode_source(e.source), t = encode_target(e.target);
    for (size_t i = 0; i < s.size(); ++i) {
      src[b * S + i] = s[i];
      src_padding[b * S + i] = 0;
    }
    tgt_in[b * T] = kBos;
    for (int64_t i = 0; i < kTargetLen; ++i) {
      tgt_in[b * T + i + 1] = t[i];
      targets[b * T + i] = t[i];
    }
    targets[b * T + kTargetLen] = kEos;
  }
}

std::string DateTask::source_tokenizer_spec() {
  return nlohmann::json{{"type", "char"}, {"vocab", source_vocab()}, {"unk", "<unk>"}}.dump();
}

std::string DateTask::target_tokenizer_spec() {
  return nlohmann::json{{"type", "char"}, {"vocab", target_vocab()}}.dump();
}

}  // namespace attn::train
