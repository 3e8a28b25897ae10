#include "torch_fixtures.hpp"

#include <map>

namespace attn::testing {

const io::SafetensorsFile& torch_fixture(const std::string& file) {
  static std::map<std::string, io::SafetensorsFile> files;
  auto it = files.find(file);
  if (it == files.end()) it = files.emplace(file, io::load_safetensors(fixture_path(file))).first;
  return it->second;
}

bool TorchCase::has(const std::string& tensor) const {
  return torch_fixture(file).tensors.count(name + "." + tensor) > 0;
}

Tensor TorchCase::get(const std::string& tensor) const {
  const auto& tensors = torch_fixture(file).tensors;
  auto it = tensors.find(name + "." + tensor);
  if (it == tensors.end()) ADD_FAILURE() << "fixture " << file << " lacks " << name << "." << tensor;
  return it == tensors.end() ? Tensor() : it->second;
}

StateDict TorchCase::params() const {
  StateDict out;
  const std::string prefix = name + ".p.";
  for (const auto& [key, t] : torch_fixture(file).tensors)
    if (key.rfind(prefix, 0) == 0) out[key.substr(prefix.size())] = t;
  return out;
}

std::vector<TorchCase> torch_cases(const std::string& kind, const std::string& file) {
  std::vector<TorchCase> out;
  for (const auto& [name, text] : torch_fixture(file).metadata) {
    nlohmann::json meta = nlohmann::json::parse(text);
    if (meta.value("kind", "") == kind) out.push_back({file, name, meta});
  }
  EXPECT_FALSE(out.empty()) << "no fixture cases of kind " << kind << " in " << file;
  return out;
}

}  // namespace attn::testing
