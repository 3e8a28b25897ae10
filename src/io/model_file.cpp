#include "io/model_file.hpp"

#include <nlohmann/json.hpp>

#include <cstring>
#include <map>
#include <set>

#include "io/json_depth.hpp"
#include "io/safetensors.hpp"

namespace attn::io {

namespace {

using json = nlohmann::json;
constexpr const char* kConfig = "gpt config";
constexpr const char* kLoad = "load_gpt";
constexpr const char* kPrefix = "transformer.";

const char* kind_of(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_float: return "a non-integer number";
    default: return "an integer";
  }
}

int64_t as_int(const json& v, const std::string& key) {
  ATTN_CHECK(v.is_number_integer(), kConfig, ": ", key, " must be an integer, got ", kind_of(v));
  if (v.is_number_unsigned())
    ATTN_CHECK(v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX), kConfig, ": ", key, " is too large");
  return v.get<int64_t>();
}

std::string quoted(const std::string& s) { return "\"" + s.substr(0, 40) + (s.size() > 40 ? "...\"" : "\""); }

GptConfig parse_ours(const json& j) {
  static const std::set<std::string> known = {"model_type", "vocab_size",         "n_positions", "n_embd",
                                              "n_layer",    "n_head",             "n_inner",     "layer_norm_epsilon",
                                              "activation", "tie_word_embeddings"};
  for (auto it = j.begin(); it != j.end(); ++it)
    ATTN_CHECK(known.count(it.key()), kConfig, ": unknown key ", quoted(it.key()),
               " (model_type \"gpt\" takes vocab_size, n_positions, n_embd, n_layer, n_head, n_inner, "
               "layer_norm_epsilon, activation, tie_word_embeddings)");
  GptConfig c;
  for (const char* k : {"vocab_size", "n_positions", "n_embd", "n_layer", "n_head"})
    ATTN_CHECK(j.contains(k), kConfig, ": ", k, " is missing");
  c.vocab_size = as_int(j["vocab_size"], "vocab_size");
  c.n_positions = as_int(j["n_positions"], "n_positions");
  c.n_embd = as_int(j["n_embd"], "n_embd");
  c.n_layer = as_int(j["n_layer"], "n_layer");
  c.n_head = as_int(j["n_head"], "n_head");
  if (j.contains("n_inner")) c.n_inner = as_int(j["n_inner"], "n_inner");
  if (j.contains("layer_norm_epsilon")) {
    ATTN_CHECK(j["layer_norm_epsilon"].is_number(), kConfig, ": layer_norm_epsilon must be a number, got ",
               kind_of(j["layer_norm_epsilon"]));
    c.layer_norm_epsilon = j["layer_norm_epsilon"].get<float>();
  }
  if (j.contains("activation")) {
    ATTN_CHECK(j["activation"].is_string(), kConfig, ": activation must be a string, got ", kind_of(j["activation"]));
    c.activation = j["activation"].get<std::string>();
  }
  if (j.contains("tie_word_embeddings")) {
    ATTN_CHECK(j["tie_word_embeddings"].is_boolean(), kConfig, ": tie_word_embeddings must be a boolean, got ",
               kind_of(j["tie_word_embeddings"]));
    c.tie_word_embeddings = j["tie_word_embeddings"].get<bool>();
  }
  return c;
}

GptConfig parse_hf(const json& j) {
  GptConfig c;
  auto required = [&](const char* k) {
    ATTN_CHECK(j.contains(k), kConfig, ": ", k, " is missing");
    return as_int(j[k], k);
  };
  c.vocab_size = required("vocab_size");
  if (j.contains("n_positions")) {
    c.n_positions = as_int(j["n_positions"], "n_positions");
  } else {
    ATTN_CHECK(j.contains("n_ctx"), kConfig, ": n_positions (or n_ctx) is missing");
    c.n_positions = as_int(j["n_ctx"], "n_ctx");
  }
  c.n_embd = required("n_embd");
  c.n_layer = required("n_layer");
  c.n_head = required("n_head");
  if (j.contains("n_inner") && !j["n_inner"].is_null()) c.n_inner = as_int(j["n_inner"], "n_inner");
  if (j.contains("layer_norm_epsilon")) {
    ATTN_CHECK(j["layer_norm_epsilon"].is_number(), kConfig, ": layer_norm_epsilon must be a number, got ",
               kind_of(j["layer_norm_epsilon"]));
    c.layer_norm_epsilon = j["layer_norm_epsilon"].get<float>();
  }
  if (j.contains("activation_function")) {
    ATTN_CHECK(j["activation_function"].is_string(), kConfig, ": activation_function must be a string, got ",
               kind_of(j["activation_function"]));
    c.activation = j["activation_function"].get<std::string>();
  }
  if (j.contains("tie_word_embeddings")) {
    ATTN_CHECK(j["tie_word_embeddings"].is_boolean(), kConfig, ": tie_word_embeddings must be a boolean, got ",
               kind_of(j["tie_word_embeddings"]));
    c.tie_word_embeddings = j["tie_word_embeddings"].get<bool>();
  }
  // Options of HF's GPT2Attention this model does not implement.
  auto refuse = [&](const char* k, bool supported_value) {
    if (!j.contains(k)) return;
    ATTN_CHECK(j[k].is_boolean(), kConfig, ": ", k, " must be a boolean, got ", kind_of(j[k]));
    ATTN_CHECK(j[k].get<bool>() == supported_value, kConfig, ": ", k, " = ", j[k].get<bool>() ? "true" : "false",
               " is not supported (only ", supported_value ? "true" : "false", ")");
  };
  refuse("scale_attn_weights", true);
  refuse("scale_attn_by_inverse_layer_idx", false);
  refuse("add_cross_attention", false);
  return c;
}

bool is_conv1d_weight(const std::string& key) {
  if (key.rfind("h.", 0) != 0) return false;
  for (const char* s : {".attn.c_attn.weight", ".attn.c_proj.weight", ".mlp.c_fc.weight", ".mlp.c_proj.weight"}) {
    const size_t n = std::strlen(s);
    if (key.size() > n && key.compare(key.size() - n, n, s) == 0) return true;
  }
  return false;
}

Tensor transposed(const Tensor& t) { return t.transpose(0, 1).contiguous(); }

// "h.<i>.attn.<what>" for i < n_layer: the layer, else -1.
int64_t attn_buffer_layer(const std::string& key, const char* what, int64_t n_layer) {
  const std::string tail = std::string(".attn.") + what;
  if (key.rfind("h.", 0) != 0 || key.size() <= 2 + tail.size() ||
      key.compare(key.size() - tail.size(), tail.size(), tail) != 0)
    return -1;
  const std::string digits = key.substr(2, key.size() - 2 - tail.size());
  if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos ||
      (digits.size() > 1 && digits[0] == '0'))
    return -1;
  const int64_t l = std::stoll(digits);
  return l < n_layer ? l : -1;
}

void check_causal_buffer(const std::string& name, const Tensor& t, int64_t P) {
  const Shape want{1, 1, P, P};
  ATTN_CHECK(t.shape() == want, kLoad, ": tensor '", name, "' has shape ", t.shape(), " but the config needs ", want,
             " (GPT-2's causal mask)");
  const Tensor f = t.dtype() == DType::f32 ? t.contiguous() : t.to(DType::f32);
  const float* p = f.data();
  for (int64_t i = 0; i < P; ++i)
    for (int64_t j = 0; j < P; ++j)
      ATTN_CHECK(p[i * P + j] == (j <= i ? 1.0f : 0.0f), kLoad, ": tensor '", name,
                 "' is not the causal mask (lower-triangular ones); element [0, 0, ", i, ", ", j, "] is ",
                 p[i * P + j]);
}

}  // namespace

GptConfig parse_gpt_config(std::string_view text) {
  ATTN_CHECK(text.size() <= kMaxConfigBytes, kConfig, ": the text is ", text.size(), " bytes, more than the ",
             kMaxConfigBytes, " accepted");
  ATTN_CHECK(json_depth(text, kMaxConfigJsonDepth).depth <= kMaxConfigJsonDepth, kConfig, ": JSON nested deeper than ",
             kMaxConfigJsonDepth, " levels");
  const json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  ATTN_CHECK(!j.is_discarded(), kConfig, ": not valid JSON");
  ATTN_CHECK(j.is_object(), kConfig, ": must be a JSON object, got ", kind_of(j));
  ATTN_CHECK(j.contains("model_type"), kConfig, ": model_type is missing (\"gpt2\" for Hugging Face's config.json, "
             "\"gpt\" for ours)");
  ATTN_CHECK(j["model_type"].is_string(), kConfig, ": model_type must be a string, got ", kind_of(j["model_type"]));
  const std::string type = j["model_type"].get<std::string>();
  ATTN_CHECK(type == "gpt2" || type == "gpt", kConfig, ": model_type ", quoted(type),
             " is not supported (\"gpt2\": Hugging Face GPT-2, \"gpt\": ours)");
  GptConfig c = type == "gpt2" ? parse_hf(j) : parse_ours(j);
  try {
    c.validate();
  } catch (const Error& e) {  // "GptConfig: n_head ..." -> "gpt config: n_head ..."
    const std::string msg = e.what(), own = "GptConfig: ";
    fail(kConfig, ": ", msg.rfind(own, 0) == 0 ? msg.substr(own.size()) : msg);
  }
  return c;
}

std::string gpt_config_json(const GptConfig& c) {
  json j = json::object();
  j["model_type"] = "gpt2";
  j["architectures"] = json::array({"GPT2LMHeadModel"});
  j["vocab_size"] = c.vocab_size;
  j["n_positions"] = c.n_positions;
  j["n_ctx"] = c.n_positions;
  j["n_embd"] = c.n_embd;
  j["n_layer"] = c.n_layer;
  j["n_head"] = c.n_head;
  j["n_inner"] = c.n_inner > 0 ? json(c.n_inner) : json(nullptr);
  j["layer_norm_epsilon"] = static_cast<double>(c.layer_norm_epsilon);
  j["activation_function"] = c.activation;
  j["tie_word_embeddings"] = c.tie_word_embeddings;
  return j.dump(2);
}

std::unique_ptr<Gpt> load_gpt(std::string_view config_json, const uint8_t* bytes, size_t size) {
  const GptConfig cfg = parse_gpt_config(config_json);
  const int64_t params = cfg.num_parameters();
  ATTN_CHECK(static_cast<uint64_t>(params) <= size, kLoad, ": the config needs ", params,
             " parameters but the weights file has only ", size, " bytes");
  ATTN_CHECK(bytes != nullptr, kLoad, ": the weights are null");
  SafetensorsFile file = parse_safetensors(bytes, size);

  auto model = std::make_unique<Gpt>(cfg);
  // The model's tensors by the name a file gives them, with the file's shape.
  std::map<std::string, Shape> expected;
  for (const auto& [name, t] : model->named_parameters()) {
    Shape s = t->shape();
    if (is_conv1d_weight(name)) std::swap(s[0], s[1]);
    expected[name] = s;
  }

  StateDict state;
  std::map<std::string, std::string> file_name;  // state key -> the key as the file spells it
  const Tensor* lm_head = nullptr;
  std::string lm_head_key;
  for (const auto& [key, t] : file.tensors) {
    const bool prefixed = key.rfind(kPrefix, 0) == 0;
    const std::string name = prefixed ? key.substr(std::strlen(kPrefix)) : key;
    if (name == "lm_head.weight" && cfg.tie_word_embeddings) {
      lm_head = &t;
      lm_head_key = key;
      continue;
    }
    if (attn_buffer_layer(name, "bias", cfg.n_layer) >= 0) {
      check_causal_buffer(key, t, cfg.n_positions);
      continue;
    }
    if (attn_buffer_layer(name, "masked_bias", cfg.n_layer) >= 0) {
      ATTN_CHECK(t.numel() == 1, kLoad, ": tensor '", key, "' has shape ", t.shape(),
                 " but GPT-2's masked_bias is a scalar");
      continue;
    }
    const auto it = expected.find(name);
    ATTN_CHECK(it != expected.end(), kLoad, ": unexpected tensor '", key, "' (not a weight of this GPT-2 config)");
    ATTN_CHECK(!file_name.count(name), kLoad, ": tensor '", name, "' appears both as '", file_name[name], "' and '",
               key, "'");
    ATTN_CHECK(t.shape() == it->second, kLoad, ": tensor '", key, "' has shape ", t.shape(), " but the config needs ",
               it->second, is_conv1d_weight(name) ? " (HF Conv1D: (in, out))" : "");
    file_name[name] = key;
    state[name] = is_conv1d_weight(name) ? transposed(t) : t;
  }
  for (const auto& [name, shape] : expected)
    ATTN_CHECK(state.count(name), kLoad, ": tensor '", name, "' (shape ", shape, ") is missing");
  if (lm_head) {
    const Tensor& wte = state["wte.weight"];
    ATTN_CHECK(lm_head->shape() == wte.shape(), kLoad, ": tensor '", lm_head_key, "' has shape ", lm_head->shape(),
               " but the config needs ", wte.shape(), " (tied to wte.weight)");
    const Tensor a = lm_head->to(DType::f32).contiguous(), b = wte.to(DType::f32).contiguous();
    ATTN_CHECK(std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * sizeof(float)) == 0, kLoad,
               ": tensor '", lm_head_key,
               "' differs from wte.weight, but the config ties them (tie_word_embeddings: true); "
               "set tie_word_embeddings to false to load a separate head");
  }
  try {
    model->load_state_dict(state, /*strict=*/true);
  } catch (const Error& e) {
    fail(kLoad, ": ", e.what());
  }
  model->eval();
  return model;
}

SavedGpt save_gpt(Gpt& model) {
  StateDict out;
  for (const auto& [name, t] : model.state_dict()) out[name] = is_conv1d_weight(name) ? transposed(t) : t;
  return {gpt_config_json(model.config()), save_safetensors(out, {{"format", "pt"}})};
}

}  // namespace attn::io
