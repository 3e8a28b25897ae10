// safetensors (huggingface.co/docs/safetensors): 8-byte little-endian header
// length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]},
// "__metadata__": {str: str}}, then the raw little-endian data.
// The file is untrusted: every length, offset, shape and dtype is checked
// against the buffer, and failures throw attn::Error naming the tensor.
// Supported dtypes: F32 (loaded as float32), BOOL/U8 (as bool), F16, BF16,
// F64, I64, I32 (converted to float32).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/module.hpp"

namespace attn::io {

struct SafetensorsFile {
  StateDict tensors;
  std::map<std::string, std::string> metadata;
};

// Largest header accepted (the format caps it at 100 MB; we need far less).
constexpr uint64_t kMaxSafetensorsHeader = 16u << 20;

SafetensorsFile parse_safetensors(const uint8_t* data, size_t size);
SafetensorsFile load_safetensors(const std::string& path);
// Serialises float32 / bool tensors (keys sorted, data 8-byte aligned offsets).
std::vector<uint8_t> save_safetensors(const StateDict& tensors, const std::map<std::string, std::string>& metadata = {});

}  // namespace attn::io
