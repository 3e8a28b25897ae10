#include "io/model_loader.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <set>

#include "io/json_depth.hpp"
#include "io/model_file.hpp"
#include "io/safetensors.hpp"
#include "models/encoder_classifier.hpp"
#include "models/encoder_decoder.hpp"
#include "models/se_cnn.hpp"
#include "models/seq2seq_rnn.hpp"

namespace attn::io {

namespace {
using json = nlohmann::json;
constexpr const char* kWhat = "loadModel";

// The largest size any config field may give (a dimension, a vocabulary); the real bound
// is the total size check (AllocationCap) that follows.
constexpr int64_t kMaxConfigInt = int64_t{1} << 24;

const char* kind_of(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "a number";
  }
}

// Reads config fields, remembering which keys were used so leftovers can be reported.
class Fields {
 public:
  explicit Fields(const json& j) : j_(j) {}

  bool has(const char* key) const { return j_.contains(key); }
  int64_t integer(const char* key, int64_t lo, int64_t hi, std::optional<int64_t> dflt = std::nullopt) {
    used_.insert(key);
    if (!j_.contains(key)) {
      ATTN_CHECK(dflt.has_value(), kWhat, ": config.", key, " is missing");
      return *dflt;
    }
    return as_integer(j_[key], key, lo, hi);
  }
  std::string text(const char* key, std::initializer_list<const char*> allowed, std::optional<std::string> dflt) {
    used_.insert(key);
    if (!j_.contains(key)) {
      ATTN_CHECK(dflt.has_value(), kWhat, ": config.", key, " is missing");
      return *dflt;
    }
    const json& v = j_[key];
    ATTN_CHECK(v.is_string(), kWhat, ": config.", key, " must be a string, got ", kind_of(v));
    const std::string s = v.get<std::string>();
    std::string list;
    for (const char* a : allowed) {
      if (s == a) return s;
      list += std::string(list.empty() ? "" : ", ") + "'" + a + "'";
    }
    fail(kWhat, ": config.", key, " must be one of ", list, "; got '", s.substr(0, 40), "'");
  }
  std::vector<int64_t> integers(const char* key, size_t max_len, int64_t lo, int64_t hi) {
    used_.insert(key);
    ATTN_CHECK(j_.contains(key), kWhat, ": config.", key, " is missing");
    const json& v = j_[key];
    ATTN_CHECK(v.is_array() && !v.empty() && v.size() <= max_len, kWhat, ": config.", key,
               " must be an array of 1 to ", max_len, " integers");
    std::vector<int64_t> out;
    for (size_t i = 0; i < v.size(); ++i) out.push_back(as_integer(v[i], (std::string(key) + "[" + std::to_string(i) + "]").c_str(), lo, hi));
    return out;
  }
  // A key that is only metadata for the caller (labels, names, token ids): accepted as it is.
  const json* meta(const char* key) {
    used_.insert(key);
    return j_.contains(key) ? &j_[key] : nullptr;
  }
  void reject_unknown() const {
    for (auto it = j_.begin(); it != j_.end(); ++it)
      ATTN_CHECK(used_.count(it.key()), kWhat, ": config has an unknown key '", it.key().substr(0, 40), "'");
  }

 private:
  static int64_t as_integer(const json& v, const char* key, int64_t lo, int64_t hi) {
    bool ok = v.is_number_integer() || v.is_number_unsigned();
    if (v.is_number_float()) {
      const double d = v.get<double>();
      ok = d == static_cast<double>(static_cast<int64_t>(d)) && d >= -9e18 && d <= 9e18;
    }
    ATTN_CHECK(ok, kWhat, ": config.", key, " must be an integer, got ", kind_of(v) == std::string("a number") ? v.dump() : kind_of(v));
    const double d = v.get<double>();
    ATTN_CHECK(d >= static_cast<double>(lo) && d <= static_cast<double>(hi), kWhat, ": config.", key, " must be in [", lo,
               ", ", hi, "], got ", v.dump());
    return v.get<int64_t>();
  }
  const json& j_;
  std::set<std::string> used_;
};

std::unique_ptr<Tokenizer> tokenizer_of(const json* spec, const std::map<std::string, std::string>& files) {
  if (!spec) return nullptr;
  ATTN_CHECK(spec->is_object(), kWhat, ": a tokenizer spec in the config must be an object, got ", kind_of(*spec));
  return make_tokenizer(spec->dump(), files);
}

using Builder = std::function<std::unique_ptr<Module>()>;

Builder read_se_cnn(Fields& f) {
  SECNNConfig c;
  c.in_channels = f.integer("in_channels", 1, 4096, 1);
  c.num_classes = f.integer("num_classes", 1, kMaxConfigInt);
  c.stem_channels = f.integer("stem_channels", 1, 4096);
  c.block_channels = f.integers("block_channels", 64, 1, 4096);
  c.reduction = f.integer("reduction", 1, 4096, 4);
  c.max_batch = f.integer("max_batch", 1, 1024, 1);
  c.max_height = f.integer("max_height", 1, 4096, 28);
  c.max_width = f.integer("max_width", 1, 4096, 28);
  f.integer("seed", 0, kMaxConfigInt, 0);
  if (const json* labels = f.meta("labels"))
    ATTN_CHECK(labels->is_array() && static_cast<int64_t>(labels->size()) == c.num_classes, kWhat,
               ": config.labels must be an array of num_classes (", c.num_classes, ") names");
  f.meta("input");
  return [c] { return std::make_unique<SECNN>(c); };
}

Builder read_seq2seq(Fields& f) {
  Seq2SeqConfig c;
  c.src_vocab = f.integer("src_vocab", 1, kMaxConfigInt);
  c.tgt_vocab = f.integer("tgt_vocab", 1, kMaxConfigInt);
  c.embed_dim = f.integer("embed_dim", 1, 65536);
  c.hidden_size = f.integer("hidden_size", 1, 65536);
  c.num_layers = f.integer("num_layers", 1, 64, 1);
  c.cell = f.text("cell", {"gru", "lstm"}, "gru") == "gru" ? nn::RnnCell::gru : nn::RnnCell::lstm;
  const std::string rule = f.text("rule", {"bahdanau", "dot", "general", "concat"}, "bahdanau");
  c.rule = rule == "bahdanau" ? Seq2SeqRule::bahdanau
           : rule == "dot"    ? Seq2SeqRule::dot
           : rule == "general" ? Seq2SeqRule::general
                               : Seq2SeqRule::concat;
  c.max_src_len = f.integer("max_src_len", 1, 65536, 32);
  c.max_tgt_len = f.integer("max_tgt_len", 1, 65536, 64);
  c.max_batch = f.integer("max_batch", 1, 1024, 1);
  f.integer("bos_id", 0, c.tgt_vocab - 1, 0);
  f.integer("eos_id", 0, c.tgt_vocab - 1, 0);
  return [c] { return std::make_unique<Seq2SeqRNN>(c); };
}

// A probability in [0, 1) (dropout: used only in training mode).
float probability(Fields& f, const char* key, float dflt) {
  const json* v = f.meta(key);
  if (!v) return dflt;
  ATTN_CHECK(v->is_number() && v->get<double>() >= 0 && v->get<double>() < 1, kWhat, ": config.", key,
             " must be a number in [0, 1), got ", v->dump().substr(0, 40));
  return v->get<float>();
}
float epsilon(Fields& f, const char* key, float dflt) {
  const json* v = f.meta(key);
  if (!v) return dflt;
  ATTN_CHECK(v->is_number() && v->get<double>() >= 1e-30 && v->get<double>() < 1, kWhat, ": config.", key,
             " must be a number in [1e-30, 1) (a float32 that is not 0), got ", v->dump().substr(0, 40));
  return v->get<float>();
}
bool flag(Fields& f, const char* key, bool dflt) {
  const json* v = f.meta(key);
  if (!v) return dflt;
  ATTN_CHECK(v->is_boolean(), kWhat, ": config.", key, " must be a boolean, got ", kind_of(*v));
  return v->get<bool>();
}

Builder read_encoder_classifier(Fields& f) {
  EncoderClassifierConfig c;
  c.vocab_size = f.integer("vocab_size", 1, kMaxConfigInt);
  c.max_position = f.integer("max_position", 1, 65536, 512);
  c.type_vocab_size = f.integer("type_vocab_size", 0, 65536, 2);
  c.pad_id = f.integer("pad_id", -1, c.vocab_size - 1, 0);
  c.d_model = f.integer("d_model", 1, 65536);
  c.nhead = f.integer("nhead", 1, 4096);
  c.num_layers = f.integer("num_layers", 1, 256);
  c.dim_feedforward = f.integer("dim_feedforward", 1, 1 << 20);
  c.num_classes = f.integer("num_classes", 1, kMaxConfigInt);
  c.max_batch = f.integer("max_batch", 1, 1024, 1);
  c.dropout = probability(f, "dropout", 0.1f);
  c.layer_norm_eps = epsilon(f, "layer_norm_eps", 1e-12f);
  if (const json* labels = f.meta("labels"))
    ATTN_CHECK(labels->is_array() && static_cast<int64_t>(labels->size()) == c.num_classes, kWhat,
               ": config.labels must be an array of num_classes (", c.num_classes, ") names");
  check_config(c);
  return [c] { return std::make_unique<EncoderClassifier>(c); };
}

Builder read_encoder_decoder(Fields& f) {
  EncoderDecoderConfig c;
  c.src_vocab = f.integer("src_vocab", 1, kMaxConfigInt);
  c.tgt_vocab = f.integer("tgt_vocab", 1, kMaxConfigInt);
  c.d_model = f.integer("d_model", 1, 65536);
  c.nhead = f.integer("nhead", 1, 4096);
  c.num_encoder_layers = f.integer("num_encoder_layers", 1, 256);
  c.num_decoder_layers = f.integer("num_decoder_layers", 1, 256);
  c.dim_feedforward = f.integer("dim_feedforward", 1, 1 << 20);
  c.dropout = probability(f, "dropout", 0.1f);
  c.activation = nn::activation_from_name(f.text("activation", {"relu", "gelu", "gelu_tanh"}, "relu"), kWhat);
  c.layer_norm_eps = epsilon(f, "layer_norm_eps", 1e-5f);
  c.norm_first = flag(f, "norm_first", false);
  c.max_len = f.integer("max_len", 1, 65536, 256);
  c.max_batch = f.integer("max_batch", 1, 1024, 1);
  c.positions = f.text("positions", {"sinusoidal", "learned"}, "sinusoidal") == "learned" ? PositionEncoding::learned
                                                                                         : PositionEncoding::sinusoidal;
  c.scale_embedding = flag(f, "scale_embedding", true);
  f.integer("bos_id", 0, c.tgt_vocab - 1, 0);
  f.integer("eos_id", 0, c.tgt_vocab - 1, 0);
  check_config(c);
  return [c] { return std::make_unique<EncoderDecoder>(c); };
}

}  // namespace

LoadedModel load_model(std::string_view config_json, const uint8_t* weights, size_t weights_size,
                       const std::map<std::string, std::string>& files) {
  ATTN_CHECK(config_json.size() <= (size_t{1} << 24), kWhat, ": the config is ", bytes_str(config_json.size()),
             "; at most 16 MiB");
  // Tokenizer specs nest a level or two; nothing deeper is meaningful, and a deep document would
  // overflow the parser's recursion (io/json_depth.hpp).
  constexpr int kMaxDepth = 8;
  const JsonDepth depth = json_depth(config_json, kMaxDepth);
  ATTN_CHECK(depth.depth <= kMaxDepth, kWhat, ": the config nests JSON deeper than ", kMaxDepth, " levels (at byte ",
             depth.offset, ")");
  json j = json::parse(config_json.begin(), config_json.end(), nullptr, false);
  ATTN_CHECK(!j.is_discarded(), kWhat, ": the config is not valid JSON");
  ATTN_CHECK(j.is_object(), kWhat, ": the config must be a JSON object, got ", kind_of(j));

  LoadedModel out;
  Fields f(j);
  out.model_type = f.text("model_type", {"gpt2", "gpt", "se-cnn", "seq2seq-rnn", "encoder-classifier", "encoder-decoder"},
                          std::nullopt);
  if (out.model_type == "gpt2" || out.model_type == "gpt") {
    // io/model_file.hpp reads the sizes; the metadata keys are ours.
    const json* tokenizer = f.meta("tokenizer");
    std::unique_ptr<Tokenizer> tok = tokenizer_of(tokenizer, files);
    if (!tok && (files.count("vocab.json") || files.count("encoder.json")))
      tok = make_tokenizer(R"({"type": "gpt2-bpe"})", files);
    json sizes = j;
    for (const char* key : {"tokenizer", "name", "description"}) sizes.erase(key);
    const std::string sizes_json = sizes.dump();
    // The activation arena and KV cache grow with n_positions (its attention scratch with
    // n_head * n_positions^2), not with the weights: hold them to the same cap as other models.
    const GptConfig gc = parse_gpt_config(sizes_json);
    const uint64_t cap = 4 * static_cast<uint64_t>(weights_size) + (uint64_t{64} << 20);
    ATTN_CHECK(static_cast<uint64_t>(gc.arena_bytes()) <= cap, kWhat, ": the config's activation arena (",
               bytes_str(static_cast<uint64_t>(gc.arena_bytes())), " for n_positions ", gc.n_positions, ", n_head ",
               gc.n_head, ", vocab_size ", gc.vocab_size, ") is larger than its weights file (", bytes_str(weights_size),
               ") allows (", bytes_str(cap), ")");
    std::unique_ptr<Gpt> gpt = load_gpt(sizes_json, weights, weights_size);
    ATTN_CHECK(!tok || tok->vocab_size() <= gpt->config().vocab_size, kWhat, ": the tokenizer has ", tok->vocab_size(),
               " tokens but the model's vocab_size is ", gpt->config().vocab_size);
    out.model = std::move(gpt);
    out.tokenizer = std::move(tok);
    out.config_json = std::string(config_json);
    return out;
  }
  f.meta("name");
  f.meta("description");
  const json* tokenizer = f.meta("tokenizer");
  const json* src_tokenizer = f.meta("src_tokenizer");
  ATTN_CHECK(!(tokenizer && src_tokenizer), kWhat, ": the config gives both tokenizer and src_tokenizer; give one");
  const json* tgt_tokenizer = f.meta("tgt_tokenizer");
  const Builder build = out.model_type == "se-cnn"               ? read_se_cnn(f)
                        : out.model_type == "seq2seq-rnn"        ? read_seq2seq(f)
                        : out.model_type == "encoder-classifier" ? read_encoder_classifier(f)
                                                                 : read_encoder_decoder(f);
  f.reject_unknown();

  // The weights first: a model's parameters must all be in this file, so building the model
  // may allocate at most its size (x4 for packed copies) plus its activation arena, which the
  // config's maximum sizes set: up to 64 MiB (more is refused as larger than the file allows).
  SafetensorsFile file = parse_safetensors(weights, weights_size);
  {
    AllocationCap cap(4 * static_cast<uint64_t>(weights_size) + (uint64_t{64} << 20),
                      std::string(kWhat) + ": the config describes a model larger than its weights file (" +
                          bytes_str(weights_size) + ") can hold; building it");
    out.model = build();
  }
  out.model->load_state_dict(file.tensors, true);
  out.model->pack_parameters();
  out.model->eval();
  out.tokenizer = tokenizer_of(tokenizer ? tokenizer : src_tokenizer, files);
  out.tgt_tokenizer = tokenizer_of(tgt_tokenizer, files);
  // A tokenizer whose ids the model cannot embed would fail on the first forward: refuse it now.
  const auto fits = [&](const Tokenizer* t, const char* which, int64_t vocab) {
    ATTN_CHECK(!t || t->vocab_size() <= vocab, kWhat, ": the ", which, " has ", t ? t->vocab_size() : 0,
               " tokens but the model's vocabulary has ", vocab);
  };
  if (auto* m = dynamic_cast<EncoderClassifier*>(out.model.get())) fits(out.tokenizer.get(), "tokenizer", m->config.vocab_size);
  if (auto* m = dynamic_cast<EncoderDecoder*>(out.model.get())) {
    fits(out.tokenizer.get(), "source tokenizer", m->config.src_vocab);
    fits(out.tgt_tokenizer.get(), "target tokenizer", m->config.tgt_vocab);
  }
  if (auto* m = dynamic_cast<Seq2SeqRNN*>(out.model.get())) {
    fits(out.tokenizer.get(), "source tokenizer", m->config.src_vocab);
    fits(out.tgt_tokenizer.get(), "target tokenizer", m->config.tgt_vocab);
  }
  out.config_json = std::string(config_json);
  return out;
}

std::vector<uint8_t> save_weights(Module& model) { return save_safetensors(model.state_dict()); }

}  // namespace attn::io
