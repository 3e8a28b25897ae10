// The safetensors reader against hand-made files: every dtype decoded exactly
// (expected values from bit patterns, not from the reader's own conversions),
// the save/parse round trip, and hostile files (issue 7, findings 4-6): deep
// nesting, huge shapes, aliased/overlapping/holed offsets, huge names,
// truncation, bad dims and dtypes, duplicate keys. Every rejection must be an
// attn::Error whose message starts "safetensors: ", names the tensor and stays
// short whatever the file holds.
// Also runs compiled to wasm under Node: hostile inputs stay at a few hundred KB.
#include <cstring>
#include <limits>

#include "core/size.hpp"
#include "io/safetensors.hpp"
#include "testing.hpp"

namespace attn::testing {
namespace {

// Longest message a hostile file may produce (names are cut at 64 bytes).
constexpr size_t kMaxMessage = 1024;

std::vector<uint8_t> file_of(const std::string& header, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> b(8 + header.size());
  const uint64_t n = header.size();
  std::memcpy(b.data(), &n, 8);
  std::memcpy(b.data() + 8, header.data(), header.size());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}
std::vector<uint8_t> file_of(const std::string& header, size_t data_bytes = 0) {
  return file_of(header, std::vector<uint8_t>(data_bytes, 0));
}

io::SafetensorsFile parse(const std::vector<uint8_t>& b) { return io::parse_safetensors(b.data(), b.size()); }

// One tensor entry of a header: "name":{"dtype":...,"shape":...,"data_offsets":[begin,end]}
std::string entry(const std::string& name, const std::string& dtype, const std::string& shape, uint64_t begin,
                  uint64_t end) {
  return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
         std::to_string(begin) + "," + std::to_string(end) + "]}";
}

// The file is rejected with an attn::Error whose message starts "safetensors: ",
// is at most kMaxMessage bytes and contains every fragment.
::testing::AssertionResult rejects(const std::vector<uint8_t>& bytes, std::initializer_list<const char*> fragments) {
  return throws_error([&] { parse(bytes); }, fragments, "safetensors: ", kMaxMessage);
}

uint32_t bits_of(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
std::vector<uint32_t> bits_of(const Tensor& t) {
  std::vector<uint32_t> out;
  for (float f : t.to_vector()) out.push_back(bits_of(f));
  return out;
}

// Builds a file tensor by tensor from raw little-endian values, with offsets
// packed back to back (so later tensors start at unaligned offsets).
struct FileBuilder {
  std::string header = "{";
  std::vector<uint8_t> data;
  template <class T>
  FileBuilder& add(const std::string& name, const char* dtype, const std::string& shape, const std::vector<T>& values) {
    const uint64_t begin = data.size();
    data.resize(data.size() + values.size() * sizeof(T));
    if (!values.empty()) std::memcpy(data.data() + begin, values.data(), values.size() * sizeof(T));
    header += (header.size() > 1 ? "," : "") + entry(name, dtype, shape, begin, data.size());
    return *this;
  }
  std::vector<uint8_t> build() const { return file_of(header + "}", data); }
};

// Budget override for one test, restored on exit.
struct TensorBudget {
  uint64_t saved = max_tensor_bytes();
  explicit TensorBudget(uint64_t bytes) { set_max_tensor_bytes(bytes); }
  ~TensorBudget() { set_max_tensor_bytes(saved); }
};

TEST(SafetensorsReader, DecodesEveryDTypeExactly) {
  const std::vector<uint32_t> f32 = {0x3f800000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00001, 0x00000001};
  // binary16 -> binary32 bit patterns: 1, -2, 65504 (max), 2^-24 (min subnormal), largest subnormal,
  // 2^-14 (min normal), -0, +inf, -inf, NaN, 0x3555 = 0.333251953125.
  const std::vector<uint16_t> f16 = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400,
                                     0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3555};
  const std::vector<uint32_t> f16_expected = {0x3f800000, 0xc0000000, 0x477fe000, 0x33800000,
                                              0x387fc000, 0x38800000, 0x80000000, 0x7f800000,
                                              0xff800000, 0x7fc00000, 0x3eaaa000};
  const std::vector<uint16_t> bf16 = {0x3f80, 0xc049, 0x7f80, 0x0001, 0x8000};
  const std::vector<uint32_t> bf16_expected = {0x3f800000, 0xc0490000, 0x7f800000, 0x00010000, 0x80000000};
  // Round to nearest even; out of range -> inf; below half the least subnormal -> 0.
  const std::vector<double> f64 = {1.0, 0.1, 1e300, -1e300, 0x1p-149, 1e-50, -0.0,
                                   0x1.fffffep127, 1 + 0x1p-24, 1 + 0x1p-24 + 0x1p-30};
  const std::vector<uint32_t> f64_expected = {0x3f800000, 0x3dcccccd, 0x7f800000, 0xff800000, 0x00000001,
                                              0x00000000, 0x80000000, 0x7f7fffff, 0x3f800000, 0x3f800001};
  const std::vector<int64_t> i64 = {0, -1, (int64_t{1} << 53) + 1, std::numeric_limits<int64_t>::max(),
                                    std::numeric_limits<int64_t>::min(), 16777217, 16777219};
  const std::vector<uint32_t> i64_expected = {0x00000000, 0xbf800000, 0x5a000000, 0x5f000000,
                                              0xdf000000, 0x4b800000, 0x4b800002};
  const std::vector<int32_t> i32 = {-7, std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(),
                                    16777217};
  const std::vector<uint32_t> i32_expected = {0xc0e00000, 0x4f000000, 0xcf000000, 0x4b800000};

  const std::vector<uint8_t> bytes = FileBuilder()
                                         .add("bool", "BOOL", "[3]", std::vector<uint8_t>{1, 0, 1})
                                         .add("f32", "F32", "[2,3]", f32)
                                         .add("u8", "U8", "[2,2]", std::vector<uint8_t>{0, 2, 255, 0})
                                         .add("f16", "F16", "[11]", f16)
                                         .add("bf16", "BF16", "[5]", bf16)
                                         .add("f64", "F64", "[10]", f64)
                                         .add("i64", "I64", "[7]", i64)
                                         .add("i32", "I32", "[4]", i32)
                                         .add("scalar", "F32", "[]", std::vector<float>{2.5f})
                                         .add("empty", "F64", "[0,5]", std::vector<double>{})
                                         .build();
  const io::SafetensorsFile f = parse(bytes);
  ASSERT_EQ(f.tensors.size(), 10u);
  EXPECT_EQ(f.tensors.at("f32").shape(), (Shape{2, 3}));
  EXPECT_EQ(bits_of(f.tensors.at("f32")), f32);
  EXPECT_EQ(bits_of(f.tensors.at("f16")), f16_expected);
  EXPECT_EQ(f.tensors.at("f16").at({2}), 65504.0f);
  EXPECT_EQ(f.tensors.at("f16").at({3}), 5.9604644775390625e-8f);
  EXPECT_EQ(bits_of(f.tensors.at("bf16")), bf16_expected);
  EXPECT_EQ(bits_of(f.tensors.at("f64")), f64_expected);
  EXPECT_EQ(bits_of(f.tensors.at("i64")), i64_expected);
  EXPECT_EQ(bits_of(f.tensors.at("i32")), i32_expected);
  EXPECT_EQ(f.tensors.at("bool").dtype(), DType::u8);
  EXPECT_EQ(f.tensors.at("bool").to_vector(), (std::vector<float>{1, 0, 1}));
  EXPECT_EQ(f.tensors.at("u8").dtype(), DType::f32) << "U8 keeps its values; only BOOL is a mask";
  EXPECT_EQ(f.tensors.at("u8").to_vector(), (std::vector<float>{0, 2, 255, 0}));
  EXPECT_EQ(f.tensors.at("scalar").shape(), Shape{});
  EXPECT_EQ(f.tensors.at("scalar").at({}), 2.5f);
  EXPECT_EQ(f.tensors.at("empty").shape(), (Shape{0, 5}));
  EXPECT_EQ(f.tensors.at("empty").dtype(), DType::f32);
}

// Every one of the 65536 halves, against the definition (-1)^s * 2^(e-15) * 1.m
// (subnormal: 2^-14 * 0.m) evaluated in double.
TEST(SafetensorsReader, DecodesAllHalvesExactly) {
  std::vector<uint16_t> halves(65536);
  for (uint32_t h = 0; h < 65536; ++h) halves[h] = static_cast<uint16_t>(h);
  const Tensor t = parse(FileBuilder().add("h", "F16", "[65536]", halves).build()).tensors.at("h");
  const float* got = t.data();
  for (uint32_t h = 0; h < 65536; ++h) {
    const int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    double v;
    if (exp == 31) v = mant ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
    else if (exp == 0) v = std::ldexp(mant, -24);
    else v = std::ldexp(1024 + mant, exp - 25);
    if (sign) v = -v;
    if (std::isnan(v)) {
      ASSERT_TRUE(std::isnan(got[h])) << "half 0x" << std::hex << h;
      ASSERT_EQ(bits_of(got[h]) & 0x80000000u, sign ? 0x80000000u : 0u) << "half 0x" << std::hex << h;
    } else {
      ASSERT_EQ(bits_of(got[h]), bits_of(static_cast<float>(v))) << "half 0x" << std::hex << h;
    }
  }
}

TEST(SafetensorsReader, SaveParseRoundTrip) {
  const float nan_payload = [] {
    const uint32_t b = 0x7fc12345;
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }();
  Tensor w = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  StateDict sd{{"w", w},
               {"w_t", w.transpose(0, 1)},  // a strided view: saved as its contiguous copy
               {"special", Tensor::from_vector({-0.0f, nan_payload, INFINITY, 1e-45f}, {4})},
               {"mask", Tensor::from_mask({1, 0, 0, 1}, {2, 2})},
               {"scalar", Tensor::from_vector({7}, {})},
               {"empty", Tensor::zeros({0, 3})}};
  const std::vector<uint8_t> bytes = io::save_safetensors(sd, {{"format", "pt"}, {"note", "round trip"}});
  uint64_t header_len;
  std::memcpy(&header_len, bytes.data(), 8);
  EXPECT_EQ((8 + header_len) % 8, 0u) << "data section 8-byte aligned";
  const io::SafetensorsFile f = parse(bytes);
  ASSERT_EQ(f.tensors.size(), sd.size());
  for (const auto& [name, t] : sd) {
    const Tensor& got = f.tensors.at(name);
    EXPECT_EQ(got.shape(), t.shape()) << name;
    EXPECT_EQ(got.dtype(), t.dtype()) << name;
    EXPECT_EQ(bits_of(got), bits_of(t)) << name;
  }
  EXPECT_EQ(f.metadata, (std::map<std::string, std::string>{{"format", "pt"}, {"note", "round trip"}}));
  EXPECT_TRUE(throws_error([&] { io::save_safetensors({{"__metadata__", w}}); }, {"'__metadata__'", "reserves"}));
}

TEST(SafetensorsReader, TruncatedFilesAndHeaderLength) {
  const std::vector<uint8_t> bytes =
      io::save_safetensors({{"a", Tensor::from_vector({1, 2, 3}, {3})}, {"b", Tensor::from_mask({1}, {1})}});
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_TRUE(rejects(std::vector<uint8_t>(bytes.begin(), bytes.begin() + n), {})) << "truncated to " << n;
  }
  EXPECT_TRUE(rejects({1, 2, 3}, {"file is 3 bytes, too short for the 8-byte header length"}));
  std::vector<uint8_t> huge(16, 0);
  const uint64_t len = uint64_t{1} << 60;
  std::memcpy(huge.data(), &len, 8);
  EXPECT_TRUE(rejects(huge, {"header length 1152921504606846976 exceeds the limit of 1048576 bytes"}));
  std::vector<uint8_t> past = file_of("{}");
  const uint64_t len3 = 3;
  std::memcpy(past.data(), &len3, 8);
  past.resize(8 + 2);
  EXPECT_TRUE(rejects(past, {"header length 3 runs past the end of the 10-byte file"}));
  EXPECT_TRUE(rejects(file_of(""), {"header is not valid JSON"}));
  // The bare data section ends early: the last tensor's range lies outside it.
  std::vector<uint8_t> cut = bytes;
  cut.pop_back();
  EXPECT_TRUE(rejects(cut, {"tensor 'b' data [12, 13) lies outside the 12-byte data section (truncated?)"}));
}

TEST(SafetensorsReader, RejectsDeepNestingBeforeParsing) {
  // 100k levels: a few hundred KB, rejected at the fourth bracket.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_TRUE(rejects(file_of("{\"x\":{\"dtype\":\"F32\",\"shape\":" + deep + ",\"data_offsets\":[0,0]}}"),
                      {"header nests JSON deeper than 3 levels (at byte 29)"}));
  EXPECT_TRUE(rejects(file_of(deep), {"deeper than 3 levels"}));
  EXPECT_TRUE(rejects(file_of(std::string(100000, '{')), {"deeper than 3 levels"}));
  EXPECT_TRUE(rejects(file_of("{\"__metadata__\":{\"k\":{\"a\":[1]}}}"), {"deeper than 3 levels"}));
  EXPECT_TRUE(rejects(file_of("{" + entry("x", "F32", "[[1]]", 0, 4) + "}", 4), {"deeper than 3 levels"}));
  // Brackets inside strings (and escaped quotes) are not nesting.
  const std::string name = "[[[[{{{{\\\"]]]]\\\\";
  const io::SafetensorsFile f = parse(file_of("{" + entry(name, "F32", "[1]", 0, 4) + "}", 4));
  EXPECT_EQ(f.tensors.count("[[[[{{{{\"]]]]\\"), 1u);
}

TEST(SafetensorsReader, RejectsHugeShapesBeforeAllocating) {
  // Empty, but its strides would overflow int64 (issue 7, finding 5).
  EXPECT_TRUE(rejects(file_of("{" + entry("x", "F32", "[0,3,2147483647,2147483647]", 0, 0) + "}"),
                      {"safetensors: tensor 'x' of shape [0, 3, 2147483647, 2147483647] is too large"}));
  EXPECT_TRUE(rejects(file_of("{" + entry("x", "F32", "[4294967296,4294967296]", 0, 8) + "}", 8),
                      {"tensor 'x' shape[0] is 4294967296, more than 2147483647"}));
  EXPECT_TRUE(rejects(file_of("{" + entry("x", "F32", "[1,1,1,1,1,1,1,1,1]", 0, 4) + "}", 4),
                      {"tensor 'x' shape has 9 dims, more than the 8 supported"}));
  // The decoded size is held to the per-tensor budget (F64 decodes to half its file size).
  TensorBudget budget(1024);
  EXPECT_TRUE(rejects(file_of("{" + entry("x", "F32", "[300]", 0, 1200) + "}", 1200),
                      {"tensor 'x' of shape [300] would need 1.2 KiB, more than the per-tensor limit of 1.0 KiB"}));
  EXPECT_EQ(parse(file_of("{" + entry("x", "F64", "[200]", 0, 1600) + "}", 1600)).tensors.at("x").numel(), 200);
}

TEST(SafetensorsReader, RejectsBadDims) {
  auto with_shape = [](const std::string& shape) { return file_of("{" + entry("x", "F32", shape, 0, 4) + "}", 4); };
  EXPECT_TRUE(rejects(with_shape("[-1]"), {"tensor 'x' shape[0] must be an unsigned integer, got a negative integer"}));
  EXPECT_TRUE(rejects(with_shape("[1.0]"), {"shape[0] must be an unsigned integer, got a floating-point number"}));
  EXPECT_TRUE(rejects(with_shape("[1,0.5]"), {"shape[1] must be an unsigned integer, got a floating-point number"}));
  EXPECT_TRUE(rejects(with_shape("[18446744073709551616]"), {"shape[0]", "got a floating-point number"}));
  EXPECT_TRUE(rejects(with_shape("[\"1\"]"), {"shape[0] must be an unsigned integer, got a string"}));
  EXPECT_TRUE(rejects(with_shape("[null]"), {"shape[0] must be an unsigned integer, got null"}));
  EXPECT_TRUE(rejects(with_shape("[true]"), {"got a boolean"}));
  EXPECT_TRUE(rejects(with_shape("{\"a\":1}"), {"tensor 'x' shape must be an array of unsigned integers, got an object"}));
  EXPECT_TRUE(rejects(with_shape("4"), {"shape must be an array", "got an unsigned integer"}));
  EXPECT_TRUE(rejects(with_shape("[3]"), {"tensor 'x' has 4 bytes but shape [3] of F32 needs 12"}));
  // A long string dim is described, never echoed.
  const std::string long_dim(5000, '7');
  EXPECT_TRUE(rejects(with_shape("[\"" + long_dim + "\"]"), {"got a string"}));
}

TEST(SafetensorsReader, RejectsBadDTypesAndEntries) {
  EXPECT_TRUE(rejects(file_of("{" + entry("x", "C64", "[1]", 0, 8) + "}", 8),
                      {"tensor 'x' has unsupported dtype C64 (supported: F32, BOOL, U8, F16, BF16, F64, I64, I32)"}));
  EXPECT_TRUE(rejects(file_of("{" + entry("x", "f32", "[1]", 0, 4) + "}", 4), {"unsupported dtype f32"}));
  EXPECT_TRUE(rejects(file_of("{" + entry("x", "F8_E4M3", "[1]", 0, 1) + "}", 1), {"unsupported dtype F8_E4M3"}));
  EXPECT_TRUE(rejects(file_of(R"({"x":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", 4),
                      {"tensor 'x' dtype must be a string, got an unsigned integer"}));
  EXPECT_TRUE(rejects(file_of(R"({"x":{"dtype":"F32","data_offsets":[0,4]}})", 4),
                      {"tensor 'x' needs dtype, shape and data_offsets (shape is missing)"}));
  EXPECT_TRUE(rejects(file_of(R"({"x":[1,2]})"),
                      {"tensor 'x' must be an object with dtype, shape and data_offsets, got an array"}));
  EXPECT_TRUE(rejects(file_of(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4),
                      {"tensor 'x' data_offsets must be two unsigned integers [begin, end], got an array of 1 values"}));
  EXPECT_TRUE(rejects(file_of(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[-4,4]}})", 4),
                      {"tensor 'x' data_offsets", "(a negative integer, an unsigned integer)"}));
  EXPECT_TRUE(rejects(file_of(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":"0-4"}})", 4),
                      {"tensor 'x' data_offsets", "got a string"}));
  EXPECT_TRUE(rejects(file_of("{" + entry("x", "F32", "[0]", 8, 4) + "}", 8),
                      {"tensor 'x' data_offsets [8, 4] end before they begin"}));
}

TEST(SafetensorsReader, HeaderMustBeAnObjectWithStringMetadata) {
  EXPECT_TRUE(rejects(file_of("[]"), {"header must be a JSON object, got an array"}));
  EXPECT_TRUE(rejects(file_of("\"x\""), {"header must be a JSON object, got a string"}));
  EXPECT_TRUE(rejects(file_of("5"), {"header must be a JSON object, got an unsigned integer"}));
  EXPECT_TRUE(rejects(file_of("null"), {"header must be a JSON object, got null"}));
  EXPECT_TRUE(rejects(file_of("{not json"), {"header is not valid JSON"}));
  EXPECT_TRUE(rejects(file_of(R"({"__metadata__":{"k":1}})"),
                      {"__metadata__ entry 'k' must be a string, got an unsigned integer"}));
  EXPECT_TRUE(rejects(file_of(R"({"__metadata__":{"k":null}})"), {"__metadata__ entry 'k'", "got null"}));
  EXPECT_TRUE(rejects(file_of(R"({"__metadata__":{"k":{}}})"), {"__metadata__ entry 'k'", "got an object"}));
  EXPECT_TRUE(rejects(file_of(R"({"__metadata__":["k"]})"), {"__metadata__ must be an object of strings, got an array"}));
  EXPECT_TRUE(rejects(file_of(R"({"__metadata__":"k"})"), {"__metadata__ must be an object", "got a string"}));
  const io::SafetensorsFile f = parse(file_of(R"({"__metadata__":{"format":"pt"}})"));
  EXPECT_TRUE(f.tensors.empty());
  EXPECT_EQ(f.metadata.at("format"), "pt");
}

TEST(SafetensorsReader, OffsetsMustTileTheDataSection) {
  // 64 aliases of one block (issue 7, finding 6: a 4 MiB file expanded to 512 MiB).
  std::string aliases = "{";
  for (int i = 0; i < 64; ++i) aliases += (i ? "," : "") + entry("w" + std::to_string(100 + i), "F32", "[4]", 0, 16);
  EXPECT_TRUE(rejects(file_of(aliases + "}", 16), {"tensor 'w101' data [0, 16) overlaps tensor 'w100' data [0, 16)"}));
  EXPECT_TRUE(rejects(file_of("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}", 12),
                      {"tensor 'b' data [4, 12) overlaps tensor 'a' data [0, 8)"}));
  // A zero-length tensor inside another one overlaps it too (as in the reference implementation).
  EXPECT_TRUE(rejects(file_of("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("e", "F32", "[0]", 4, 4) + "}", 8),
                      {"tensor 'e' data [4, 4) overlaps tensor 'a' data [0, 8)"}));
  EXPECT_TRUE(rejects(file_of("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 12, 20) + "}", 20),
                      {"tensor 'b' data [12, 20) leaves bytes [8, 12) of the data section unused (after tensor 'a')"}));
  EXPECT_TRUE(rejects(file_of("{" + entry("a", "F32", "[1]", 4, 8) + "}", 8),
                      {"tensor 'a' data [4, 8) leaves bytes [0, 4) of the data section unused"}));
  EXPECT_TRUE(rejects(file_of("{" + entry("a", "F32", "[2]", 0, 8) + "}", 12),
                      {"the tensors cover 8 bytes of the 12-byte data section; the last 4 bytes belong to no tensor "
                       "(after tensor 'a')"}));
  EXPECT_TRUE(rejects(file_of("{}", 4), {"the tensors cover 0 bytes of the 4-byte data section"}));
  // Zero-length tensors anywhere on a boundary are fine, in any header order.
  const io::SafetensorsFile f =
      parse(file_of("{" + entry("z2", "F32", "[0]", 8, 8) + "," + entry("b", "F32", "[1]", 4, 8) + "," +
                        entry("z0", "I64", "[3,0]", 0, 0) + "," + entry("a", "BOOL", "[4]", 0, 4) + "," +
                        entry("z1", "F16", "[0]", 4, 4) + "}",
                    8));
  EXPECT_EQ(f.tensors.size(), 5u);
  EXPECT_EQ(f.tensors.at("z0").shape(), (Shape{3, 0}));
  EXPECT_TRUE(parse(file_of("{}")).tensors.empty());
}

// Many entries parse in linear time (json::parse's callback parser, once used
// for the duplicate-key check, rescanned the root object after every entry).
TEST(SafetensorsReader, ParsesManyTensors) {
  constexpr int kTensors = 10000;
  std::string header = "{";
  for (int i = 0; i < kTensors; ++i) header += (i ? "," : "") + entry("t" + std::to_string(i), "F32", "[0]", 0, 0);
  const io::SafetensorsFile f = parse(file_of(header + "}"));
  EXPECT_EQ(f.tensors.size(), static_cast<size_t>(kTensors));
}

TEST(SafetensorsReader, RejectsDuplicateKeys) {
  const std::string a = entry("a", "F32", "[1]", 0, 4);
  EXPECT_TRUE(rejects(file_of("{" + a + "," + a + "}", 4), {"header has two entries named 'a'"}));
  EXPECT_TRUE(rejects(file_of(R"({"a":{"dtype":"F32","dtype":"F64","shape":[1],"data_offsets":[0,4]}})", 4),
                      {"tensor 'a' has key 'dtype' twice"}));
  EXPECT_TRUE(rejects(file_of(R"({"__metadata__":{"k":"1","k":"2"}})"), {"__metadata__ has key 'k' twice"}));
  // The same key in different objects is of course fine.
  EXPECT_EQ(parse(file_of("{" + a + "," + entry("b", "F32", "[1]", 4, 8) + "}", 8)).tensors.size(), 2u);
}

TEST(SafetensorsReader, MessagesQuoteNamesShortAndEscaped) {
  const std::string long_name(100000, 'n');
  EXPECT_TRUE(rejects(file_of("{" + entry(long_name, "C64", "[1]", 0, 8) + "}", 8),
                      {("tensor '" + std::string(64, 'n') + "...' (100000 bytes) has unsupported dtype C64").c_str()}));
  EXPECT_TRUE(rejects(file_of("{" + entry("x", std::string(100000, 'D'), "[1]", 0, 8) + "}", 8),
                      {("unsupported dtype " + std::string(64, 'D') + "... (supported").c_str()}));
  // Control characters, quotes and non-ASCII bytes come out as \xNN.
  EXPECT_TRUE(rejects(file_of("{" + entry("a\\u0001b\\n'\xc3\xa9", "C64", "[1]", 0, 8) + "}", 8),
                      {"tensor 'a\\x01b\\x0a\\x27\\xc3\\xa9' has unsupported dtype"}));
  EXPECT_TRUE(rejects(file_of("{" + entry(long_name, "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) +
                              "}", 12),
                      {"overlaps tensor 'nnnn"}));
  // The JSON parser's own message quotes the token it choked on: cut that too.
  EXPECT_TRUE(rejects(file_of("{\"" + long_name + "\xff\"}"), {"header is not valid JSON"}));
  EXPECT_TRUE(rejects(file_of("{\"x\":\"" + long_name), {"header is not valid JSON"}));
}

}  // namespace
}  // namespace attn::testing
