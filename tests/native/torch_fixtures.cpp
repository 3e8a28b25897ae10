#include "torch_fixtures.hpp"

namespace attn::testing {

namespace {
const io::SafetensorsFile& fixture() {
  static const io::SafetensorsFile file = io::load_safetensors(fixture_path("attention.safetensors"));
  return file;
}
}  // namespace

bool TorchCase::has(const std::string& tensor) const { return fixture().tensors.count(name + "." + tensor) > 0; }

Tensor TorchCase::get(const std::string& tensor) const {
  auto it = fixture().tensors.find(name + "." + tensor);
  if (it == fixture().tensors.end()) ADD_FAILURE() << "fixture lacks " << name << "." << tensor;
  return it == fixture().tensors.end() ? Tensor() : it->second;
}

StateDict TorchCase::params() const {
  StateDict out;
  const std::string prefix = name + ".p.";
  for (const auto& [key, t] : fixture().tensors)
    if (key.rfind(prefix, 0) == 0) out[key.substr(prefix.size())] = t;
  return out;
}

std::vector<TorchCase> torch_cases(const std::string& kind) {
  std::vector<TorchCase> out;
  for (const auto& [name, text] : fixture().metadata) {
    nlohmann::json meta = nlohmann::json::parse(text);
    if (meta.value("kind", "") == kind) out.push_back({name, meta});
  }
  EXPECT_FALSE(out.empty()) << "no fixture cases of kind " << kind;
  return out;
}

}  // namespace attn::testing
