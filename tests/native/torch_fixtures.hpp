// Access to tests/fixtures/attention.safetensors (written by scripts/gen_fixtures.py
// from PyTorch): cases by kind, their tensors and their parameters.
#pragma once

#include <nlohmann/json.hpp>

#include "io/safetensors.hpp"
#include "testing.hpp"

namespace attn::testing {

struct TorchCase {
  std::string name;
  nlohmann::json meta;
  bool has(const std::string& tensor) const;
  Tensor get(const std::string& tensor) const;  // "<name>.<tensor>"
  StateDict params() const;                     // "<name>.p.*" with the prefix removed
};

std::vector<TorchCase> torch_cases(const std::string& kind);

}  // namespace attn::testing
