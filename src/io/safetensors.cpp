#include "io/safetensors.hpp"

#include <cmath>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

namespace attn::io {

namespace {
using nlohmann::json;

struct DTypeInfo {
  const char* name;
  size_t bytes;
};
const DTypeInfo kDTypes[] = {{"F32", 4}, {"BOOL", 1}, {"U8", 1}, {"F16", 2}, {"BF16", 2},
                             {"F64", 8}, {"I64", 8},  {"I32", 4}};

float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v;
  if (exp == 0) v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31) v = mant ? NAN : INFINITY;
  else v = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

template <class T>
T read_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));  // wasm and x86 are little-endian, as the format is
  return v;
}

Tensor decode(const std::string& name, const std::string& dtype, const Shape& shape, const uint8_t* p, size_t bytes) {
  if (dtype == "BOOL" || dtype == "U8") {
    Tensor t = Tensor::empty(shape, DType::u8);
    for (size_t i = 0; i < bytes; ++i) t.data_u8()[i] = p[i] != 0;
    return t;
  }
  Tensor t = Tensor::empty(shape);
  float* out = t.data();
  const int64_t n = t.numel();
  for (int64_t i = 0; i < n; ++i) {
    if (dtype == "F32") out[i] = read_le<float>(p + 4 * i);
    else if (dtype == "F16") out[i] = half_to_float(read_le<uint16_t>(p + 2 * i));
    else if (dtype == "BF16") {
      uint32_t bits = static_cast<uint32_t>(read_le<uint16_t>(p + 2 * i)) << 16;
      std::memcpy(&out[i], &bits, 4);
    } else if (dtype == "F64") out[i] = static_cast<float>(read_le<double>(p + 8 * i));
    else if (dtype == "I64") out[i] = static_cast<float>(read_le<int64_t>(p + 8 * i));
    else if (dtype == "I32") out[i] = static_cast<float>(read_le<int32_t>(p + 4 * i));
    else fail("safetensors: tensor '", name, "' has unsupported dtype ", dtype);
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
  const size_t body_size = size - 8 - header_len;
  json header;
  try {
    header = json::parse(data + 8, data + 8 + header_len);
  } catch (const json::exception& e) {
    fail("safetensors: header is not valid JSON (", e.what(), ")");
  }
  ATTN_CHECK(header.is_object(), "safetensors: header must be a JSON object");
  SafetensorsFile file;
  for (auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      ATTN_CHECK(entry.is_object(), "safetensors: __metadata__ must be an object of strings");
      for (auto& [k, v] : entry.items()) {
        ATTN_CHECK(v.is_string(), "safetensors: __metadata__ entry '", k, "' is not a string");
        file.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    ATTN_CHECK(entry.is_object() && entry.contains("dtype") && entry.contains("shape") &&
                   entry.contains("data_offsets"),
               "safetensors: tensor '", name, "' needs dtype, shape and data_offsets");
    ATTN_CHECK(entry["dtype"].is_string(), "safetensors: tensor '", name, "' dtype is not a string");
    const std::string dtype = entry["dtype"].get<std::string>();
    size_t elem = 0;
    for (const auto& d : kDTypes)
      if (dtype == d.name) elem = d.bytes;
    ATTN_CHECK(elem, "safetensors: tensor '", name, "' has unsupported dtype ", dtype);
    const json& js = entry["shape"];
    ATTN_CHECK(js.is_array() && js.size() <= 8, "safetensors: tensor '", name, "' shape must be an array of <= 8 dims");
    Shape shape;
    for (const json& d : js) {
      ATTN_CHECK(d.is_number_unsigned() && d.get<uint64_t>() <= static_cast<uint64_t>(kMaxNumel),
                 "safetensors: tensor '", name, "' has an invalid dimension ", d.dump());
      shape.push_back(d.get<int64_t>());
    }
    const int64_t numel = checked_numel(shape, (std::string("safetensors: tensor '") + name + "' shape").c_str());
    const json& off = entry["data_offsets"];
    ATTN_CHECK(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() && off[1].is_number_unsigned(),
               "safetensors: tensor '", name, "' data_offsets must be two unsigned integers");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    ATTN_CHECK(begin <= end && end <= body_size, "safetensors: tensor '", name, "' data [", begin, ", ", end,
               ") lies outside the ", body_size, "-byte data section (truncated?)");
    ATTN_CHECK(end - begin == static_cast<uint64_t>(numel) * elem, "safetensors: tensor '", name, "' has ",
               end - begin, " bytes but shape ", shape, " of ", dtype, " needs ", numel * elem);
    file.tensors[name] = decode(name, dtype, shape, body + begin, end - begin);
  }
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
    const size_t bytes = static_cast<size_t>(t.numel()) * dtype_size(t.dtype());
    header[name] = {{"dtype", t.dtype() == DType::f32 ? "F32" : "BOOL"},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  while ((8 + text.size()) % 8) text += ' ';  // keep the data section 8-byte aligned
  std::vector<uint8_t> out(8 + text.size() + offset);
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
