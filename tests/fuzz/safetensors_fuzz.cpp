// libFuzzer target for io::parse_safetensors, the reader of untrusted model
// files (issue 7). The contract checked on every input:
//   - it parses, or it throws attn::Error whose message starts "safetensors: "
//     and is short (names from the file are cut); any other exception, crash,
//     sanitizer report, timeout or allocation past the budget is a finding;
//   - what parses survives save_safetensors -> parse_safetensors bit for bit.
// The per-tensor budget is lowered so no input can make the fuzzer run out of
// memory legitimately. Built and run by scripts/fuzz.sh; not part of the
// GoogleTest suite (tests/native/safetensors_test.cpp holds the regressions).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/size.hpp"
#include "io/safetensors.hpp"

namespace {

constexpr uint64_t kFuzzMaxTensorBytes = uint64_t{64} << 20;
// Longest message any input may produce (two quoted names and a JSON error fit easily).
constexpr size_t kMaxMessage = 1024;

[[noreturn]] void finding(const char* what, const std::string& detail) {
  std::fprintf(stderr, "safetensors_fuzz: %s: %.400s\n", what, detail.c_str());
  std::abort();
}

bool same_tensor(const attn::Tensor& a, const attn::Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  const size_t bytes = static_cast<size_t>(a.numel()) * attn::dtype_size(a.dtype());
  return std::memcmp(a.raw_data(), b.raw_data(), bytes) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  attn::set_max_tensor_bytes(kFuzzMaxTensorBytes);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace attn;
  io::SafetensorsFile file;
  try {
    file = io::parse_safetensors(data, size);
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind("safetensors: ", 0) != 0) finding("message does not start with \"safetensors: \"", msg);
    if (msg.size() > kMaxMessage) finding("message too long", msg);
    return 0;
  }
  const std::vector<uint8_t> saved = io::save_safetensors(file.tensors, file.metadata);
  io::SafetensorsFile back;
  try {
    back = io::parse_safetensors(saved.data(), saved.size());
  } catch (const Error& e) {
    finding("a saved file does not parse", e.what());
  }
  if (back.metadata != file.metadata) finding("metadata changed in the round trip", "");
  if (back.tensors.size() != file.tensors.size()) finding("tensor count changed in the round trip", "");
  for (const auto& [name, t] : file.tensors) {
    auto it = back.tensors.find(name);
    if (it == back.tensors.end() || !same_tensor(t, it->second)) finding("tensor changed in the round trip", name);
  }
  return 0;
}
