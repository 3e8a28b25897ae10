// The safetensors reader and writer. Reading is three passes so that nothing is
// allocated for a tensor until the whole header has been checked:
//   1. bytes:  header length, then JSON nesting depth (a byte scan, before the
//              JSON parser sees anything), then parsing (SAX into a DOM) with
//              duplicate keys refused;
//   2. header: every entry's dtype, shape, decoded size and byte range, then the
//              ranges sorted and required to tile the data section exactly;
//   3. data:   one decode loop per dtype.
// Messages quote names and dtypes through quote()/printable(): a header is up
// to 16 MiB of attacker text and must not come back as a 16 MiB message.
#include "io/safetensors.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>

#include "io/json_depth.hpp"

namespace attn::io {

namespace {
using nlohmann::json;

// The dtypes of the format that we decode, with their size in the file.
enum class FileDType { F32, BOOL, U8, F16, BF16, F64, I64, I32 };
struct DTypeInfo {
  const char* name;
  FileDType dtype;
  size_t bytes;
};
constexpr DTypeInfo kDTypes[] = {{"F32", FileDType::F32, 4},   {"BOOL", FileDType::BOOL, 1},
                                 {"U8", FileDType::U8, 1},     {"F16", FileDType::F16, 2},
                                 {"BF16", FileDType::BF16, 2}, {"F64", FileDType::F64, 8},
                                 {"I64", FileDType::I64, 8},   {"I32", FileDType::I32, 4}};
constexpr const char* kSupportedDTypes = "F32, BOOL, U8, F16, BF16, F64, I64, I32";

// Longest JSON parser message passed on (it can quote the offending token).
constexpr size_t kMaxJsonErrorQuote = 200;

// The first `limit` bytes of `s`, with bytes outside printable ASCII and
// backslashes (and, inside quotes, ') written as \xNN.
std::string escape(const std::string& s, size_t limit, bool in_quotes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  const size_t n = std::min(s.size(), limit);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && !(in_quotes && c == '\'')) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// DTYPE, or DTYP... when longer than `limit`, for messages.
std::string printable(const std::string& s, size_t limit) {
  return escape(s, limit, false) + (s.size() > limit ? "..." : "");
}

// 'name', or 'nam...' (100000 bytes) when longer than kMaxSafetensorsQuote, for messages.
std::string quote(const std::string& s) {
  if (s.size() <= kMaxSafetensorsQuote) return "'" + escape(s, s.size(), true) + "'";
  return "'" + escape(s, kMaxSafetensorsQuote, true) + "...' (" + std::to_string(s.size()) + " bytes)";
}

// What a JSON value is, for "must be X, got Y" messages; never its text.
const char* json_kind(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer: return v.get<int64_t>() < 0 ? "a negative integer" : "an integer";
    case json::value_t::number_unsigned: return "an unsigned integer";
    case json::value_t::number_float: return "a floating-point number";
    default: return "an unsupported JSON value";
  }
}

template <class T>
T read_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // wasm and x86 are little-endian, as the format is
  return v;
}

float float_from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// IEEE binary16 -> binary32 by moving the fields. Every half is exactly a
// float, so this is exact and needs no libm (no ldexp).
float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0x1f) return float_from_bits(sign | 0x7f800000 | (mant << 13));  // inf; NaN keeps its payload
  if (exp != 0) return float_from_bits(sign | ((exp + 127 - 15) << 23) | (mant << 13));
  if (mant == 0) return float_from_bits(sign);  // +-0
  // Subnormal mant * 2^-24: shift the leading 1 up to the implicit bit, one
  // exponent step per shift, starting from 2^-14 (float exponent field 113).
  uint32_t e = 127 - 14;
  while (!(mant & 0x400)) {
    mant <<= 1;
    --e;
  }
  return float_from_bits(sign | (e << 23) | ((mant & 0x3ff) << 13));
}

// bfloat16 is the top half of a float32.
float bf16_to_float(uint16_t h) { return float_from_bits(static_cast<uint32_t>(h) << 16); }

// Rejects JSON nested deeper than kMaxSafetensorsJsonDepth before the parser sees it
// (io/json_depth.hpp: a deep value costs memory to build and recursion to destroy).
void check_nesting(const uint8_t* p, size_t n) {
  const JsonDepth d = json_depth(std::string_view(reinterpret_cast<const char*>(p), n), kMaxSafetensorsJsonDepth);
  if (d.depth > kMaxSafetensorsJsonDepth)
    fail("safetensors: header nests JSON deeper than ", kMaxSafetensorsJsonDepth, " levels (at byte ", d.offset,
         "); a header is {name: {dtype, shape: [...], data_offsets: [...]}}");
}

// A SAX handler for json::sax_parse: nlohmann's own DOM builder, refusing
// duplicate keys (nlohmann keeps the last silently, so two readers could
// disagree about which tensor a file holds). Not json::parse's callback
// parser: it rescans the parent object after every child object, which is
// quadratic in the number of tensors (a 16 MiB header ran for minutes).
class HeaderBuilder {
 public:
  explicit HeaderBuilder(json& root) : dom_(root) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const std::string& text) { return dom_.number_float(v, text); }
  bool string(std::string& v) { return dom_.string(v); }
  bool binary(json::binary_t& v) { return dom_.binary(v); }
  bool start_array(std::size_t n) { return dom_.start_array(n); }
  bool end_array() { return dom_.end_array(); }
  bool start_object(std::size_t n) {
    keys_.emplace_back();
    return dom_.start_object(n);
  }
  bool end_object() {
    keys_.pop_back();
    return dom_.end_object();
  }
  bool key(std::string& key) {
    if (!keys_.back().insert(key).second) {
      if (keys_.size() == 1) fail("safetensors: header has two entries named ", quote(key));
      if (entry_ == "__metadata__") fail("safetensors: __metadata__ has key ", quote(key), " twice");
      fail("safetensors: tensor ", quote(entry_), " has key ", quote(key), " twice");
    }
    if (keys_.size() == 1) entry_ = key;
    return dom_.key(key);
  }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& token, const Exception& e) {
    return dom_.parse_error(position, token, e);  // throws e
  }

 private:
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::vector<std::set<std::string>> keys_;  // one set per open object; at most kMaxSafetensorsJsonDepth
  std::string entry_;                        // the root key being parsed
};

json parse_header(const uint8_t* p, size_t n) {
  check_nesting(p, n);
  json header;
  HeaderBuilder builder(header);
  try {
    json::sax_parse(p, p + n, &builder);
  } catch (const json::exception& e) {
    fail("safetensors: header is not valid JSON (", printable(e.what(), kMaxJsonErrorQuote), ")");
  }
  return header;
}

// One tensor of the header, checked but not yet read.
struct Entry {
  std::string name;
  const DTypeInfo* dtype;
  Shape shape;
  uint64_t begin, end;  // byte range in the data section
};

Entry check_entry(const std::string& name, const json& info, uint64_t data_size) {
  const std::string tensor = "safetensors: tensor " + quote(name);
  ATTN_CHECK(info.is_object(), tensor, " must be an object with dtype, shape and data_offsets, got ", json_kind(info));
  for (const char* field : {"dtype", "shape", "data_offsets"})
    ATTN_CHECK(info.contains(field), tensor, " needs dtype, shape and data_offsets (", field, " is missing)");
  Entry e{name, nullptr, {}, 0, 0};

  const json& dtype = info["dtype"];
  ATTN_CHECK(dtype.is_string(), tensor, " dtype must be a string, got ", json_kind(dtype));
  const auto& dtype_str = dtype.get_ref<const std::string&>();
  for (const DTypeInfo& d : kDTypes)
    if (dtype_str == d.name) e.dtype = &d;
  ATTN_CHECK(e.dtype, tensor, " has unsupported dtype ", printable(dtype_str, kMaxSafetensorsQuote), " (supported: ",
             kSupportedDTypes, ")");

  const json& shape = info["shape"];
  ATTN_CHECK(shape.is_array(), tensor, " shape must be an array of unsigned integers, got ", json_kind(shape));
  ATTN_CHECK(shape.size() <= kMaxSafetensorsDims, tensor, " shape has ", shape.size(), " dims, more than the ",
             kMaxSafetensorsDims, " supported");
  for (size_t i = 0; i < shape.size(); ++i) {
    const json& d = shape[i];
    ATTN_CHECK(d.is_number_unsigned(), tensor, " shape[", i, "] must be an unsigned integer, got ", json_kind(d));
    const uint64_t v = d.get<uint64_t>();
    ATTN_CHECK(v <= static_cast<uint64_t>(kMaxNumel), tensor, " shape[", i, "] is ", v, ", more than ", kMaxNumel);
    e.shape.push_back(static_cast<int64_t>(v));
  }
  // The decoded tensor must fit the per-tensor budget (and be indexable) before anything is read.
  const bool as_bool = e.dtype->dtype == FileDType::BOOL;
  checked_bytes(e.shape, as_bool ? 1 : 4, (tensor + " of shape").c_str());
  const auto numel = static_cast<uint64_t>(checked_numel(e.shape));

  const json& off = info["data_offsets"];
  ATTN_CHECK(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() && off[1].is_number_unsigned(), tensor,
             " data_offsets must be two unsigned integers [begin, end], got ",
             off.is_array() ? "an array of " + std::to_string(off.size()) + " values" : json_kind(off),
             off.is_array() && off.size() == 2 ? std::string(" (") + json_kind(off[0]) + ", " + json_kind(off[1]) + ")"
                                               : std::string());
  e.begin = off[0].get<uint64_t>();
  e.end = off[1].get<uint64_t>();
  ATTN_CHECK(e.begin <= e.end, tensor, " data_offsets [", e.begin, ", ", e.end, "] end before they begin");
  ATTN_CHECK(e.end <= data_size, tensor, " data [", e.begin, ", ", e.end, ") lies outside the ", data_size,
             "-byte data section (truncated?)");
  const uint64_t need = numel * e.dtype->bytes;  // < 2^31 * 8: no overflow in 64 bits
  ATTN_CHECK(e.end - e.begin == need, tensor, " has ", e.end - e.begin, " bytes but shape ", e.shape, " of ",
             e.dtype->name, " needs ", need);
  return e;
}

// The format requires the byte ranges, sorted, to tile the data section: each
// begins where the previous ended and the last ends at the end. This refuses
// holes, overlaps and aliases (issue 7: 64 aliases of one 4 MiB block expanded
// to 512 MiB), and bounds the decoded data by 4x the data section (U8 -> float32).
void check_tiling(std::vector<Entry>& entries, uint64_t data_size) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  uint64_t covered = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    const std::string tensor = "safetensors: tensor " + quote(e.name);
    if (e.begin < covered)
      fail(tensor, " data [", e.begin, ", ", e.end, ") overlaps tensor ", quote(prev->name), " data [", prev->begin,
           ", ", prev->end, ")");
    if (e.begin > covered)
      fail(tensor, " data [", e.begin, ", ", e.end, ") leaves bytes [", covered, ", ", e.begin,
           ") of the data section unused", prev ? " (after tensor " + quote(prev->name) + ")" : std::string());
    covered = e.end;
    prev = &e;
  }
  ATTN_CHECK(covered == data_size, "safetensors: the tensors cover ", covered, " bytes of the ", data_size,
             "-byte data section; the last ", data_size - covered, " bytes belong to no tensor",
             prev ? " (after tensor " + quote(prev->name) + ")" : std::string());
}

template <class T, class Convert>
void convert(float* out, const uint8_t* p, size_t n, Convert to_float) {
  for (size_t i = 0; i < n; ++i) out[i] = to_float(read_le<T>(p + i * sizeof(T)));
}

// Decodes a checked entry: one loop per dtype.
Tensor decode(const Entry& e, const uint8_t* p) {
  const std::string what = "safetensors: tensor " + quote(e.name);
  const auto n = static_cast<size_t>(checked_numel(e.shape));
  if (e.dtype->dtype == FileDType::BOOL) {
    Tensor t = Tensor::empty(e.shape, DType::u8, what.c_str());
    uint8_t* out = t.data_u8();
    for (size_t i = 0; i < n; ++i) out[i] = p[i] != 0;
    return t;
  }
  Tensor t = Tensor::empty(e.shape, DType::f32, what.c_str());
  float* out = t.data();
  switch (e.dtype->dtype) {
    case FileDType::F32: std::memcpy(out, p, n * 4); break;
    case FileDType::F16: convert<uint16_t>(out, p, n, half_to_float); break;
    case FileDType::BF16: convert<uint16_t>(out, p, n, bf16_to_float); break;
    // Rounds to nearest; out of float range gives +-inf (IEEE 754, which C++ leaves to the platform).
    case FileDType::F64: convert<double>(out, p, n, [](double v) { return static_cast<float>(v); }); break;
    case FileDType::I64: convert<int64_t>(out, p, n, [](int64_t v) { return static_cast<float>(v); }); break;
    case FileDType::I32: convert<int32_t>(out, p, n, [](int32_t v) { return static_cast<float>(v); }); break;
    // Values kept (0..255), not squashed to bool: a U8 tensor is data; masks are BOOL.
    case FileDType::U8: convert<uint8_t>(out, p, n, [](uint8_t v) { return static_cast<float>(v); }); break;
    case FileDType::BOOL: break;  // handled above
  }
  return t;
}
}  // namespace

SafetensorsFile parse_safetensors(const uint8_t* data, size_t size) {
  ATTN_CHECK(size >= 8, "safetensors: file is ", size, " bytes, too short for the 8-byte header length");
  const uint64_t header_len = read_le<uint64_t>(data);
  ATTN_CHECK(header_len <= kMaxSafetensorsHeader, "safetensors: header length ", header_len, " exceeds the limit of ",
             kMaxSafetensorsHeader, " bytes");
  ATTN_CHECK(header_len <= size - 8, "safetensors: header length ", header_len, " runs past the end of the ", size,
             "-byte file (truncated?)");
  const uint8_t* body = data + 8 + header_len;
  const uint64_t body_size = size - 8 - header_len;

  const json header = parse_header(data + 8, static_cast<size_t>(header_len));
  ATTN_CHECK(header.is_object(), "safetensors: header must be a JSON object, got ", json_kind(header));
  SafetensorsFile file;
  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      ATTN_CHECK(info.is_object(), "safetensors: __metadata__ must be an object of strings, got ", json_kind(info));
      for (const auto& [k, v] : info.items()) {
        ATTN_CHECK(v.is_string(), "safetensors: __metadata__ entry ", quote(k), " must be a string, got ",
                   json_kind(v));
        file.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    entries.push_back(check_entry(name, info, body_size));
  }
  check_tiling(entries, body_size);
  for (const Entry& e : entries) file.tensors[e.name] = decode(e, body + e.begin);
  return file;
}

SafetensorsFile load_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  ATTN_CHECK(in.good(), "safetensors: cannot open '", path, "'");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_safetensors(bytes.data(), bytes.size());
}

std::vector<uint8_t> save_safetensors(const StateDict& tensors, const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    ATTN_CHECK(name != "__metadata__", "safetensors: a tensor cannot be named '__metadata__' (the format reserves it)");
    ATTN_CHECK(t.defined(), "safetensors: tensor ", quote(name), " is undefined");
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * dtype_size(t.dtype());
    header[name] = {{"dtype", t.dtype() == DType::f32 ? "F32" : "BOOL"},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception&) {  // nlohmann refuses names that are not UTF-8
    fail("safetensors: a tensor name or metadata string is not valid UTF-8");
  }
  while ((8 + text.size()) % 8) text += ' ';  // keep the data section 8-byte aligned
  const uint64_t total = 8 + text.size() + offset;
  ATTN_CHECK(total <= SIZE_MAX, "safetensors: the file would need ", bytes_str(total),
             ", more than this platform can address");
  std::vector<uint8_t> out(static_cast<size_t>(total));
  const uint64_t n = text.size();
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  uint8_t* p = out.data() + 8 + text.size();
  for (const auto& [name, t] : tensors) {
    Tensor c = t.contiguous();
    const size_t bytes = static_cast<size_t>(c.numel()) * dtype_size(c.dtype());
    std::memcpy(p, c.raw_data(), bytes);
    p += bytes;
  }
  return out;
}

}  // namespace attn::io
