// Access to the PyTorch fixture files in tests/fixtures/ (written by
// scripts/gen_fixtures.py): cases by kind, their tensors and their parameters.
// A file holds cases "<case>.<tensor>" with a JSON entry "<case>" in its metadata.
#pragma once

#include <nlohmann/json.hpp>

#include "io/safetensors.hpp"
#include "testing.hpp"

namespace attn::testing {

struct TorchCase {
  std::string file;
  std::string name;
  nlohmann::json meta;
  bool has(const std::string& tensor) const;
  Tensor get(const std::string& tensor) const;  // "<name>.<tensor>"
  StateDict params() const;                     // "<name>.p.*" with the prefix removed
};

// Every case of `kind` in tests/fixtures/<file>; fails the test when there is none.
std::vector<TorchCase> torch_cases(const std::string& kind, const std::string& file = "attention.safetensors");
// The whole fixture file, loaded once per file.
const io::SafetensorsFile& torch_fixture(const std::string& file);

}  // namespace attn::testing
