// safetensors (huggingface.co/docs/safetensors): 8-byte little-endian header
// length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]},
// "__metadata__": {str: str}}, then the raw little-endian data.
//
// The file is untrusted. Before anything is allocated the reader checks the
// header length, the JSON nesting depth (before parsing), duplicate keys, every
// dtype and shape (unsigned integer dims, at most kMaxSafetensorsDims, decoded
// size within max_tensor_bytes()), every byte range against its shape, and that
// the ranges tile the data section exactly, as the reference implementation
// requires (no holes, overlaps or aliases; zero-length tensors are fine). So the
// decoded data is at most 4x the data section (U8 widens to float32, F16/BF16 2x).
// Failures throw attn::Error starting "safetensors: " and naming the tensor;
// names and dtypes from the file are shown truncated and escaped.
//
// Supported dtypes: F32 (loaded as float32), BOOL (as bool), U8, F16, BF16, F64,
// I64, I32 (converted to float32, rounding to nearest). Not here: writing any
// dtype but F32/BOOL, memory-mapping, big-endian hosts.
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

// Largest header accepted. The format caps it at 100 MB; a parsed header takes ~23x its
// size in JSON nodes before any entry is checked, memory a wasm heap never gives back.
// 1 MiB holds ~10,000 tensor entries (GPT-2's header is 15 KB, a 70B LLM's ~100 KB).
constexpr uint64_t kMaxSafetensorsHeader = 1u << 20;
// Deepest JSON nesting accepted: root object -> tensor object -> shape array.
constexpr int kMaxSafetensorsJsonDepth = 3;
// Most dims a tensor may have (PyTorch allows more; no model here needs them).
constexpr size_t kMaxSafetensorsDims = 8;
// Longest tensor name or dtype quoted in an error message, in bytes.
constexpr size_t kMaxSafetensorsQuote = 64;

SafetensorsFile parse_safetensors(const uint8_t* data, size_t size);
SafetensorsFile load_safetensors(const std::string& path);
// Serialises float32 / bool tensors (keys sorted, data 8-byte aligned offsets).
std::vector<uint8_t> save_safetensors(const StateDict& tensors, const std::map<std::string, std::string>& metadata = {});

}  // namespace attn::io
