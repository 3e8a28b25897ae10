// The only file that includes Emscripten headers: Embind declarations and the
// thin glue that turns JS numbers into checked C++ sizes. No attention logic.
//
// Contract with the JS layer (src/js/index.mjs), which validates every argument's
// type, range and option key before calling in:
// - Arguments are Tensor handles, plain numbers/bools and option structs
//   (value_object) of numbers/bools. The only std::string arguments are state-dict
//   names (StateDict.set/get/take/shape), always passed as the first argument
//   with a handle JS has already checked, so no conversion can fail halfway and
//   leak; no JS value reaches Embind with a type it would reject.
// - Errors: a C++ exception must not unwind through Embind's JS frames (it would
//   skip destructors and leak), so every entry point runs inside guarded(), which
//   records the message (always starting with the function's name) and returns an
//   empty value; the JS layer checks takeError() after each call and throws an
//   AttentionError with that message. The module stays usable.
// - Randomness: calls without a seed draw from the instance's generators (one
//   stream for dropout, one for sampling), so repeated calls differ; a seed
//   makes a call reproducible.
#include <malloc.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <new>
#include <utility>

#include <emscripten/bind.h>
#include <emscripten/val.h>

#include "attention/additive.hpp"
#include "attention/concat.hpp"
#include "attention/dot.hpp"
#include "attention/entropy.hpp"
#include "attention/general.hpp"
#include "attention/multihead.hpp"
#include "attention/positional.hpp"
#include "attention/scaled_dot.hpp"
#include "attention/simple_mha.hpp"
#include "attention/squeeze_excitation.hpp"
#include "io/model_file.hpp"
#include "io/model_loader.hpp"
#include "io/safetensors.hpp"
#include "models/encoder_classifier.hpp"
#include "models/encoder_decoder.hpp"
#include "models/gpt.hpp"
#include "models/sampling.hpp"
#include "models/se_cnn.hpp"
#include "models/seq2seq_rnn.hpp"
#include "io/tokenizer.hpp"
#include "train/trainer.hpp"
#include "kernels/simd_info.hpp"
#include "ops/ops.hpp"

using namespace emscripten;
using namespace attn;

namespace {

std::string g_error;
Rng g_dropout_rng(0x2545f4914f6cdd1dULL, kDropoutStream);
Rng g_sample_rng(0x2545f4914f6cdd1dULL, kSampleStream);

std::string take_error() { return std::exchange(g_error, std::string()); }

// Length of a leading "name: " / "Class.method: " (the C++ function a message names), else 0.
size_t leading_name(const std::string& msg) {
  size_t i = 0;
  while (i < msg.size() && (std::isalnum(static_cast<unsigned char>(msg[i])) || msg[i] == '_' || msg[i] == '.')) ++i;
  return i > 0 && i + 1 < msg.size() && msg[i] == ':' && msg[i + 1] == ' ' ? i + 2 : 0;
}

// Runs fn; on an exception records "<what>: <problem>" and returns R() (null / false). `what` is the
// JS-facing name, which replaces the C++ function name a core message starts with
// ("sinusoidal_table: ..." -> "sinusoidalTable: ...").
template <class Fn>
auto guarded(const char* what, Fn fn) -> decltype(fn()) {
  std::string msg;
  try {
    return fn();
  } catch (const Error& e) {
    msg = e.what();
  } catch (const std::bad_alloc&) {
    msg = "out of memory (the wasm heap is limited to 2 GiB)";
  } catch (const std::exception& e) {
    msg = std::string("internal error: ") + e.what();
  } catch (...) {
    msg = "internal error";
  }
  g_error = std::string(what) + ": " + msg.substr(leading_name(msg));
  return decltype(fn())();
}

// A JS number that must be an integer in [lo, hi] (JS checks first; this keeps C++ safe on its own:
// casting 1e300 or NaN to int64 is undefined behaviour).
int64_t int_arg(double v, const char* what, const char* name, double lo = 0, double hi = 9007199254740991.0) {
  ATTN_CHECK(std::isfinite(v) && v == std::floor(v) && v >= lo && v <= hi, what, ": ", name,
             " must be an integer in [", static_cast<int64_t>(lo), ", ", static_cast<int64_t>(hi), "], got ", v);
  return static_cast<int64_t>(v);
}
float float_arg(double v, const char* what, const char* name) {
  ATTN_CHECK(std::isfinite(v) && std::fabs(v) <= 3.4e38, what, ": ", name, " must be a finite float32 number, got ", v);
  return static_cast<float>(v);
}

Shape to_shape(const val& dims, const char* what) {
  Shape s;
  const unsigned n = dims["length"].as<unsigned>();
  ATTN_CHECK(n <= 16, what, ": shape has ", n, " dims (at most 16)");
  for (unsigned i = 0; i < n; ++i) s.push_back(int_arg(dims[i].as<double>(), what, "shape dimension", 0, 2147483647.0));
  return s;
}

// dtype: 0 = float32, 1 = bool.
Tensor* tensor_empty(val dims, int dtype) {
  return guarded("tensor", [&] {
    return new Tensor(Tensor::zeros(to_shape(dims, "tensor"), dtype == 1 ? DType::u8 : DType::f32, "tensor: shape"));
  });
}

val tensor_shape(const Tensor& t) {
  val out = val::array();
  for (int64_t d : t.shape()) out.call<void>("push", static_cast<double>(d));
  return out;
}
int tensor_dtype(const Tensor& t) { return t.dtype() == DType::u8 ? 1 : 0; }
// A view of the heap (valid until the heap grows); bound tensors are always contiguous.
val tensor_view(Tensor& t) {
  if (t.dtype() == DType::u8) return val(typed_memory_view(static_cast<size_t>(t.numel()), t.data_u8()));
  return val(typed_memory_view(static_cast<size_t>(t.numel()), t.data()));
}
double tensor_numel(const Tensor& t) { return static_cast<double>(t.numel()); }

// What JS gets back from every attention call: output and weights, contiguous.
struct Result {
  Tensor output, weights;
  AttentionSteps steps;  // filled when the call asked for its stages (AttendArgs.steps)
  Tensor* take_output() { return take(output); }
  Tensor* take_weights() { return take(weights); }
  // 0 scores, 1 scaled, 2 masked, 3 softmax; null unless the call asked for them.
  Tensor* take_step(int i) {
    Tensor* all[] = {&steps.scores, &steps.scaled, &steps.masked, &steps.softmax};
    return i >= 0 && i < 4 ? take(*all[i]) : nullptr;
  }

 private:
  static Tensor* take(Tensor& t) {
    return guarded("result", [&]() -> Tensor* { return t.defined() ? new Tensor(t.contiguous()) : nullptr; });
  }
};
Result* wrap(AttentionResult r) { return new Result{r.output, r.weights, {}}; }
Result* wrap(AttentionResult r, AttentionSteps&& steps) { return new Result{r.output, r.weights, std::move(steps)}; }

// --- Option structs (value_object): every field is a number or a bool.
struct SelectionArgs {
  int kind = 0;  // index into kSelections
  double k = 1, threshold = 0;
  bool renormalize = true;
  bool seeded = false;
  double seed = 0;
};
constexpr Selection kSelections[] = {Selection::soft, Selection::top_k, Selection::threshold, Selection::argmax,
                                     Selection::sample};

SelectionOptions selection(const SelectionArgs& a, const char* what) {
  ATTN_CHECK(a.kind >= 0 && a.kind < 5, what, ": unknown selection ", a.kind);
  SelectionOptions s;
  s.kind = kSelections[a.kind];
  s.k = int_arg(a.k, what, "k", 1, 2147483647.0);
  s.threshold = float_arg(a.threshold, what, "threshold");
  s.renormalize = a.renormalize;
  if (a.seeded) s.seed = static_cast<uint64_t>(int_arg(a.seed, what, "seed"));
  else s.rng = &g_sample_rng;
  return s;
}

struct AttendArgs {
  bool causal = false;
  bool causal_lower_right = false;
  bool has_scale = false;
  double scale = 1;
  double dropout_p = 0;
  SelectionArgs sel;
  bool steps = false;  // also return every stage (scores, scaled, masked, softmax)
};

// Dropout draws from a per-call Rng when seeded, else from the instance's stream.
struct DropoutRng {
  Rng local;
  Rng* use;
  DropoutRng(const SelectionArgs& s, const char* what)
      : local(s.seeded ? static_cast<uint64_t>(int_arg(s.seed, what, "seed")) : 0, kDropoutStream),
        use(s.seeded ? &local : &g_dropout_rng) {}
};

SdpaOptions sdpa_options(const Tensor* mask, const AttendArgs& a, const char* what, Rng* rng) {
  SdpaOptions o;
  if (mask) o.attn_mask = *mask;
  o.is_causal = a.causal;
  o.causal_align = a.causal_lower_right ? CausalAlign::bottom_right : CausalAlign::top_left;
  if (a.has_scale) o.scale = float_arg(a.scale, what, "scale");
  const double p = a.dropout_p;
  ATTN_CHECK(p >= 0 && p < 1, what, ": dropoutP must be in [0, 1), got ", p);
  o.dropout_p = static_cast<float>(p);
  o.rng = rng;
  o.selection = selection(a.sel, what);
  return o;
}

Result* sdpa(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, const AttendArgs& a) {
  const char* what = "scaledDotProductAttention";
  return guarded(what, [&] {
    DropoutRng rng(a.sel, what);
    AttentionSteps steps;
    SdpaOptions o = sdpa_options(mask, a, what, rng.use);
    if (a.steps) o.steps = &steps;
    AttentionResult r = scaled_dot_product_attention(q, k, v, o);
    return wrap(std::move(r), std::move(steps));
  });
}

// --- StateDict: a name -> tensor map filled from JS, handed to load_state_dict.
struct StateDictBuilder {
  StateDict dict;
  void set(const std::string& name, const Tensor& t) { dict[name] = t; }
  val keys() const {
    val out = val::array();
    for (auto& [k, t] : dict) out.call<void>("push", k);
    return out;
  }
  // A copy: what JS gets never aliases a module's parameters.
  Tensor* get(const std::string& name) const {
    return guarded("stateDict", [&]() -> Tensor* {
      auto it = dict.find(name);
      return it == dict.end() ? nullptr : new Tensor(it->second.clone());
    });
  }
  // Moves the tensor out (no copy) for loadSafetensors, whose builder nobody else sees.
  Tensor* take(const std::string& name) {
    return guarded("loadSafetensors", [&]() -> Tensor* {
      auto it = dict.find(name);
      if (it == dict.end()) return nullptr;
      auto* t = new Tensor(std::move(it->second));
      dict.erase(it);
      return t;
    });
  }
  // Just the shape, for loadStateDict's Float32Array values (no copy of the data).
  val shape(const std::string& name) const {
    auto it = dict.find(name);
    return it == dict.end() ? val::null() : tensor_shape(it->second);
  }
};

bool load_state(Module& m, const StateDictBuilder& sd, bool strict) {
  const std::string what = std::string(m.name()) + ".loadStateDict";
  return guarded(what.c_str(), [&] {
    m.load_state_dict(sd.dict, strict);
    return true;
  });
}
StateDictBuilder* state_of(Module& m) {
  const std::string what = std::string(m.name()) + ".stateDict";
  return guarded(what.c_str(), [&] { return new StateDictBuilder{m.state_dict()}; });
}
void set_training(Module& m, bool on) { m.train(on); }
bool is_training(Module& m) { return m.is_training(); }
double num_parameters(Module& m) { return static_cast<double>(m.num_parameters()); }

// --- MultiheadAttention
struct MhaConfig {
  double embed_dim = 0, num_heads = 1, dropout = 0;
  bool bias = true, add_bias_kv = false, add_zero_attn = false;
  double kdim = 0, vdim = 0;  // 0 = embed_dim (torch: None)
  bool batch_first = false;
  double seed = 0;
};
MultiheadAttention* mha_create(const MhaConfig& c) {
  const char* what = "MultiheadAttention";
  return guarded(what, [&] {
    MultiheadAttentionOptions o;
    o.embed_dim = int_arg(c.embed_dim, what, "embedDim", 1, 2147483647.0);
    o.num_heads = int_arg(c.num_heads, what, "numHeads", 1, 2147483647.0);
    ATTN_CHECK(c.dropout >= 0 && c.dropout < 1, what, ": dropout must be in [0, 1), got ", c.dropout);
    o.dropout = static_cast<float>(c.dropout);
    o.bias = c.bias;
    o.add_bias_kv = c.add_bias_kv;
    o.add_zero_attn = c.add_zero_attn;
    o.kdim = int_arg(c.kdim, what, "kdim", 0, 2147483647.0);
    o.vdim = int_arg(c.vdim, what, "vdim", 0, 2147483647.0);
    o.batch_first = c.batch_first;
    o.seed = static_cast<uint64_t>(int_arg(c.seed, what, "seed"));
    return new MultiheadAttention(o);
  });
}

struct MhaArgs {
  bool need_weights = true, average_attn_weights = true, is_causal = false, causal_lower_right = false;
  SelectionArgs sel;
};
Result* mha_forward(MultiheadAttention& m, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* kpm,
                    const Tensor* attn_mask, const MhaArgs& a) {
  const char* what = "MultiheadAttention.forward";
  return guarded(what, [&] {
    MhaForwardOptions f;
    if (kpm) f.key_padding_mask = *kpm;
    if (attn_mask) f.attn_mask = *attn_mask;
    f.need_weights = a.need_weights;
    f.average_attn_weights = a.average_attn_weights;
    f.is_causal = a.is_causal;
    f.causal_align = a.causal_lower_right ? CausalAlign::bottom_right : CausalAlign::top_left;
    f.selection = selection(a.sel, what);
    return wrap(m.forward(q, k, v, f));
  });
}
Tensor* mha_last_weights(MultiheadAttention& m) {
  return guarded("MultiheadAttention.lastWeights", [&]() -> Tensor* {
    return m.last_weights.defined() ? new Tensor(m.last_weights.clone()) : nullptr;
  });
}

// --- The other attention modules: (q, k, v, mask) -> Result
template <class M>
Result* forward_qkv(M& m, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, const AttendArgs& a) {
  const std::string name = std::string(M::kName) + ".forward";
  const char* what = name.c_str();
  return guarded(what, [&] {
    DropoutRng rng(a.sel, what);
    SdpaOptions o = sdpa_options(mask, a, what, rng.use);
    o.scale.reset();  // each rule fixes its own scale
    AttentionSteps steps;
    if (a.steps) o.steps = &steps;
    AttentionResult r = m.forward(q, k, v, o);
    return wrap(std::move(r), std::move(steps));
  });
}
Result* simple_mha_forward(SimpleMultiHeadAttention& m, const Tensor& q, const Tensor& k, const Tensor& v,
                           const Tensor* mask, const SelectionArgs& sel) {
  const char* what = "SimpleMultiHeadAttention.forward";
  return guarded(what, [&] { return wrap(m.forward(q, k, v, mask ? *mask : Tensor(), selection(sel, what))); });
}
Result* se_forward(SqueezeExcitation& m, const Tensor& x) {
  return guarded("SqueezeExcitation.forward", [&] { return wrap(m.forward(x)); });
}
Tensor* learned_pe_forward(LearnedPositionalEmbedding& m, const Tensor& x, double offset) {
  const char* what = "LearnedPositionalEmbedding.forward";
  return guarded(what, [&] { return new Tensor(m.forward(x, int_arg(offset, what, "offset"))); });
}

// Module constructors take their sizes as one array of numbers, each a positive integer.
template <class M, size_t N, size_t... I>
M* make_module(const char* what, const val& sizes, std::index_sequence<I...>) {
  return guarded(what, [&] {
    ATTN_CHECK(sizes["length"].as<unsigned>() == N, what, ": expected ", N, " sizes");
    const int64_t v[N] = {int_arg(sizes[I].as<double>(), what, "size", 1, 2147483647.0)...};
    return new M(v[I]...);
  });
}
template <class M, size_t N>
M* create(val sizes) {
  return make_module<M, N>(M::kName, sizes, std::make_index_sequence<N>());
}

// --- Free functions returning a tensor
Tensor* entropy(const Tensor& w) {
  return guarded("attentionEntropy", [&] { return new Tensor(attention_entropy(w)); });
}
Tensor* sinusoidal(double max_len, double d) {
  const char* what = "sinusoidalTable";
  return guarded(what, [&] {
    return new Tensor(sinusoidal_table(int_arg(max_len, what, "maxLen", 0, 2147483647.0),
                                       int_arg(d, what, "d", 1, 2147483647.0)));
  });
}
// style: 0 = interleaved, 1 = half_split
Tensor* rope(const Tensor& x, int style, double offset) {
  const char* what = "applyRope";
  return guarded(what, [&] {
    return new Tensor(apply_rope(x, style == 0 ? RopeStyle::interleaved : RopeStyle::half_split,
                                 int_arg(offset, what, "offset", 0, 2147483647.0)));
  });
}
Tensor* alibi(double heads, double L, double S) {
  const char* what = "alibiBias";
  return guarded(what, [&] {
    return new Tensor(alibi_bias(int_arg(heads, what, "heads", 1, 2147483647.0),
                                 int_arg(L, what, "L", 0, 2147483647.0), int_arg(S, what, "S", 0, 2147483647.0)));
  });
}
Tensor* matmul_js(const Tensor& a, const Tensor& b) {
  return guarded("matmul", [&] { return new Tensor(matmul(a, b)); });
}
Tensor* softmax_js(const Tensor& a) {
  return guarded("softmax", [&] { return new Tensor(softmax(a)); });
}

// A file's bytes on the heap, which JS fills through view() (one copy, no per-byte
// conversion). Not a tensor, so not held to the per-tensor budget: a model file holds
// many tensors. Bounded by the heap instead.
struct ByteBuffer {
  std::vector<uint8_t> bytes;
  val view() { return val(typed_memory_view(bytes.size(), bytes.data())); }
};
constexpr double kMaxFileBytes = 1.5 * (1u << 30);
ByteBuffer* bytes_empty(double n) {
  return guarded("loadSafetensors", [&] {
    const int64_t len = int_arg(n, "loadSafetensors", "byte length", 0, kMaxFileBytes);
    auto* b = new ByteBuffer;
    try {
      b->bytes.resize(static_cast<size_t>(len));
    } catch (...) {
      delete b;
      fail("loadSafetensors: out of memory for a file of ", bytes_str(static_cast<uint64_t>(len)));
    }
    return b;
  });
}
StateDictBuilder* parse_safetensors_js(ByteBuffer& file) {
  return guarded("loadSafetensors", [&] {
    return new StateDictBuilder{io::parse_safetensors(file.bytes.data(), file.bytes.size()).tensors};
  });
}

// --- Tokenizers. Text and files cross as UTF-8 bytes in ByteBuffers (JS encodes them with
// TextEncoder), ids as int32 in IdBuffers: one copy each way, no per-element conversion.
struct IdBuffer {
  std::vector<int32_t> ids;
  val view() { return val(typed_memory_view(ids.size(), ids.data())); }
};
IdBuffer* ids_empty(double n) {
  return guarded("ids", [&] {
    const int64_t len = int_arg(n, "ids", "length", 0, 2147483647.0);
    checked_bytes({len}, sizeof(int32_t), "ids");
    return new IdBuffer{std::vector<int32_t>(static_cast<size_t>(len))};
  });
}
// File name -> contents, filled from JS before the tokenizer is built.
struct FileSet {
  std::map<std::string, std::string> files;
  void set(const std::string& name, const ByteBuffer& b) { files[name] = std::string(b.bytes.begin(), b.bytes.end()); }
};
std::string as_string(const ByteBuffer& b) { return std::string(b.bytes.begin(), b.bytes.end()); }
io::Tokenizer* create_tokenizer(const ByteBuffer& spec, const FileSet& files) {
  return guarded("loadTokenizer", [&] { return io::make_tokenizer(as_string(spec), files.files).release(); });
}
IdBuffer* tokenizer_encode(const io::Tokenizer& t, const ByteBuffer& text) {
  return guarded("Tokenizer.encode", [&] { return new IdBuffer{t.encode(as_string(text))}; });
}
ByteBuffer* tokenizer_decode(const io::Tokenizer& t, const IdBuffer& ids) {
  return guarded("Tokenizer.decode", [&] {
    const std::string s = t.decode(ids.ids);
    return new ByteBuffer{std::vector<uint8_t>(s.begin(), s.end())};
  });
}
double tokenizer_vocab_size(const io::Tokenizer& t) { return static_cast<double>(t.vocab_size()); }
std::string tokenizer_kind(const io::Tokenizer& t) { return t.kind(); }

// --- Models from files (io/model_loader.hpp). A forward returns its logits and, when
// captured, the attention maps the model wrote into a fresh AttentionCapture (handed out
// without copies; each call gets its own, so earlier results stay as they were).
struct ModelOutput {
  Tensor logits;
  struct Map {
    std::string kind;
    int64_t layer;
    Tensor weights;
  };
  std::vector<Map> maps;
  Tensor* take_logits() { return logits.defined() ? new Tensor(std::exchange(logits, Tensor())) : nullptr; }
  double count() const { return static_cast<double>(maps.size()); }
  std::string kind(double i) const { return maps.at(static_cast<size_t>(i)).kind; }
  double layer(double i) const { return static_cast<double>(maps.at(static_cast<size_t>(i)).layer); }
  Tensor* take_map(double i) { return new Tensor(std::exchange(maps.at(static_cast<size_t>(i)).weights, Tensor())); }
};
// The capture's maps, each reshaped (a view) by `shape_of` from its [N, H, L, S] destination.
template <class ShapeFn>
void add_maps(ModelOutput& out, const AttentionCapture& capture, const char* kind_name, ShapeFn shape_of) {
  for (const auto& [key, t] : capture.all())
    out.maps.push_back({kind_name ? kind_name : attention_kind_name(key.second), key.first, t.reshape(shape_of(t.shape()))});
}

// The recorded queries, keys and values as maps of kinds "q:self", "k:self", ... ("q:cross" for a
// decoder's cross-attention), each (heads, rows, head size).
void add_projections(ModelOutput& out, const AttentionCapture& capture) {
  for (const auto& [key, p] : capture.projections()) {
    const std::string kind = attention_kind_name(key.second);
    out.maps.push_back({"q:" + kind, key.first, p.q});
    out.maps.push_back({"k:" + kind, key.first, p.k});
    out.maps.push_back({"v:" + kind, key.first, p.v});
  }
}

struct ModelJs {
  io::LoadedModel m;
  // Model.ablateHeads: per (layer, kind), one flag per head (nonzero = switched off).
  std::map<AttentionCapture::Key, std::vector<uint8_t>> heads_off;
};

// A forward's sink: keeps the maps when capturing, and switches off the heads the model's
// ablateHeads named (attention/capture.hpp). get() is null when there is nothing to do, so
// plain forwards keep their no-sink path.
class ForwardSink : public AttentionSink {
 public:
  ForwardSink(const ModelJs& m, bool capture, bool qkv = false) : m_(m), capture_(capture) { maps.record_qkv = qkv; }
  float* destination(int64_t layer, AttentionKind kind, int64_t N, int64_t heads, int64_t L, int64_t S) override {
    return capture_ ? maps.destination(layer, kind, N, heads, L, S) : nullptr;
  }
  const uint8_t* head_mask(int64_t layer, AttentionKind kind, int64_t heads) override {
    const auto it = m_.heads_off.find({layer, kind});
    return it == m_.heads_off.end() || static_cast<int64_t>(it->second.size()) != heads ? nullptr : it->second.data();
  }
  void qkv(int64_t layer, AttentionKind kind, HeadRowsView q, HeadRowsView k, HeadRowsView v, int64_t heads,
           int64_t L, int64_t S, int64_t hs) override {
    maps.qkv(layer, kind, q, k, v, heads, L, S, hs);
  }
  AttentionSink* get() { return capture_ || maps.record_qkv || !m_.heads_off.empty() ? this : nullptr; }
  AttentionCapture maps;

 private:
  const ModelJs& m_;
  bool capture_;
};
// flags: one per head of (layer, kind), nonzero = off; empty clears that attention's entry.
void model_ablate_heads(ModelJs& m, double layer, int kind, const IdBuffer& flags) {
  guarded("Model.ablateHeads", [&] {
    const AttentionCapture::Key key{int_arg(layer, "Model.ablateHeads", "layer"), kind == 1 ? AttentionKind::cross : AttentionKind::self};
    if (flags.ids.empty()) {
      m.heads_off.erase(key);
      return 0;
    }
    std::vector<uint8_t> off(flags.ids.size());
    for (size_t i = 0; i < off.size(); ++i) off[i] = flags.ids[i] != 0;
    m.heads_off[key] = std::move(off);
    return 0;
  });
}
void model_clear_ablation(ModelJs& m) { m.heads_off.clear(); }
ModelJs* load_model_js(const ByteBuffer& config, const ByteBuffer& weights, const FileSet& files) {
  return guarded("loadModel", [&] {
    return new ModelJs{io::load_model(as_string(config), weights.bytes.data(), weights.bytes.size(), files.files), {}};
  });
}
std::string model_type(const ModelJs& m) { return m.m.model_type; }
// The weights as a safetensors file (torch's keys; GPT-2: Hugging Face's layout).
ByteBuffer* model_save_weights(ModelJs& m) {
  return guarded("Model.save", [&] {
    if (auto* g = dynamic_cast<Gpt*>(m.m.model.get())) return new ByteBuffer{io::save_gpt(*g).weights};
    return new ByteBuffer{io::save_weights(*m.m.model)};
  });
}
std::string model_config(const ModelJs& m) { return m.m.config_json; }
double model_num_parameters(ModelJs& m) { return static_cast<double>(m.m.model->num_parameters()); }
const io::Tokenizer* model_tokenizer(const ModelJs& m, int which, const char* what) {
  const io::Tokenizer* t = which == 0 ? m.m.tokenizer.get() : m.m.tgt_tokenizer.get();
  ATTN_CHECK(t, what, ": this model has no ", which == 0 ? "tokenizer" : "target tokenizer",
             " (give one in its config: \"tokenizer\")");
  return t;
}
bool model_has_tokenizer(const ModelJs& m, int which) {
  return (which == 0 ? m.m.tokenizer.get() : m.m.tgt_tokenizer.get()) != nullptr;
}
IdBuffer* model_encode(const ModelJs& m, const ByteBuffer& text, int which) {
  return guarded("Model.encode", [&] { return new IdBuffer{model_tokenizer(m, which, "Model.encode")->encode(as_string(text))}; });
}
ByteBuffer* model_decode(const ModelJs& m, const IdBuffer& ids, int which) {
  return guarded("Model.decode", [&] {
    const std::string s = model_tokenizer(m, which, "Model.decode")->decode(ids.ids);
    return new ByteBuffer{std::vector<uint8_t>(s.begin(), s.end())};
  });
}
template <class M>
M& model_as(ModelJs& m, const char* what) {
  auto* p = dynamic_cast<M*>(m.m.model.get());
  ATTN_CHECK(p, what, ": not available for a ", m.m.model_type, " model");
  return *p;
}
// Ids as the float (1, T) tensor the RNN models take.
Tensor ids_tensor(const IdBuffer& ids) {
  Tensor t = Tensor::empty({1, static_cast<int64_t>(ids.ids.size())}, DType::f32, "ids");
  for (size_t i = 0; i < ids.ids.size(); ++i) t.data()[i] = static_cast<float>(ids.ids[i]);
  return t;
}
// SE-CNN: images (N, C, H, W) -> logits (N, classes); maps: per block, kind "channel", (N, C).
ModelOutput* se_cnn_forward(ModelJs& m, const Tensor& x, bool capture) {
  const char* what = "ImageClassifier.forward";
  return guarded(what, [&] {
    ForwardSink sink(m, capture);
    auto* out = new ModelOutput;
    try {
      out->logits = model_as<SECNN>(m, what).forward(x, sink.get());
      add_maps(*out, sink.maps, "channel", [](const Shape& s) { return Shape{s[0], s[3]}; });
    } catch (...) {
      delete out;
      throw;
    }
    return out;
  });
}
// Maps of one sequence: Transformers keep their heads, (H, T, S); the RNN seq2seq has one
// attention per step, (T, S).
Shape one_sequence(const ModelJs& m, const Shape& s) {
  return dynamic_cast<const Seq2SeqRNN*>(m.m.model.get()) ? Shape{s[2], s[3]} : Shape{s[1], s[2], s[3]};
}
// Encoder classifier: ids (T), token types (T, or empty: all 0) -> logits (classes); maps: per
// encoder layer, "self", (H, T, T).
ModelOutput* classifier_forward(ModelJs& m, const IdBuffer& ids, const IdBuffer& types, bool capture, bool qkv) {
  const char* what = "TextClassifier.forward";
  return guarded(what, [&] {
    ForwardSink sink(m, capture, qkv);
    auto* out = new ModelOutput;
    try {
      const Tensor tt = types.ids.empty() ? Tensor() : ids_tensor(types);
      out->logits = model_as<EncoderClassifier>(m, what).forward(ids_tensor(ids), {}, tt, sink.get()).squeeze(0);
      add_maps(*out, sink.maps, nullptr, [](const Shape& s) { return Shape{s[1], s[2], s[3]}; });
      add_projections(*out, sink.maps);
    } catch (...) {
      delete out;
      throw;
    }
    return out;
  });
}
// Seq2seq, teacher forced: src (S), tgt_in (T) ids -> logits (T, V); maps: see one_sequence.
ModelOutput* seq2seq_forward(ModelJs& m, const IdBuffer& src, const IdBuffer& tgt, bool capture, bool qkv) {
  const char* what = "Seq2SeqModel.forward";
  return guarded(what, [&] {
    ForwardSink sink(m, capture, qkv);
    auto* out = new ModelOutput;
    try {
      AttentionSink* s = sink.get();
      Tensor logits = dynamic_cast<EncoderDecoder*>(m.m.model.get())
                          ? model_as<EncoderDecoder>(m, what).forward(ids_tensor(src), ids_tensor(tgt), {}, {}, s)
                          : model_as<Seq2SeqRNN>(m, what).forward(ids_tensor(src), ids_tensor(tgt), s);
      out->logits = logits.squeeze(0);
      add_maps(*out, sink.maps, nullptr, [&](const Shape& sh) { return one_sequence(m, sh); });
      add_projections(*out, sink.maps);
    } catch (...) {
      delete out;
      throw;
    }
    return out;
  });
}
// Seq2seq greedy decoding: the ids (as float, (T')) in `logits`; maps as forward.
ModelOutput* seq2seq_translate(ModelJs& m, const IdBuffer& src, double bos, double eos, double max_len, bool capture) {
  const char* what = "Seq2SeqModel.translate";
  return guarded(what, [&] {
    ForwardSink sink(m, capture);
    auto* out = new ModelOutput;
    try {
      AttentionSink* s = sink.get();
      const int64_t b = int_arg(bos, what, "bos"), e = int_arg(eos, what, "eos");
      const int64_t n = int_arg(max_len, what, "maxLength", 1, 65536.0);
      Tensor ids = dynamic_cast<EncoderDecoder*>(m.m.model.get())
                       ? model_as<EncoderDecoder>(m, what).greedy_decode(ids_tensor(src), b, e, n, {}, s)
                       : model_as<Seq2SeqRNN>(m, what).greedy_decode(ids_tensor(src), b, e, n, s);
      out->logits = ids.squeeze(0);
      add_maps(*out, sink.maps, nullptr, [&](const Shape& sh) { return one_sequence(m, sh); });
    } catch (...) {
      delete out;
      throw;
    }
    return out;
  });
}

// GPT: T new tokens at positions pos .. pos+T-1 against the KV cache -> logits (T, V) (a copy
// of the arena's rows); maps: per layer, "self", (NH, T, pos + T).
ModelOutput* gpt_forward(ModelJs& m, const IdBuffer& ids, double pos, bool capture, bool qkv) {
  const char* what = "LanguageModel.forward";
  return guarded(what, [&] {
    Gpt& g = model_as<Gpt>(m, what);
    const int64_t T = static_cast<int64_t>(ids.ids.size()), V = g.config().vocab_size;
    ForwardSink sink(m, capture, qkv);
    auto* out = new ModelOutput;
    try {
      const float* logits = g.forward(ids.ids.data(), T, int_arg(pos, what, "position"), sink.get());
      out->logits = Tensor::empty({T, V}, DType::f32, what);
      std::memcpy(out->logits.data(), logits, static_cast<size_t>(T * V) * sizeof(float));
      add_maps(*out, sink.maps, nullptr, [](const Shape& s) { return Shape{s[1], s[2], s[3]}; });
      add_projections(*out, sink.maps);
    } catch (...) {
      delete out;
      throw;
    }
    return out;
  });
}
// --- Trainer (train/trainer.hpp): a GPT trained step by step on a seeded task. Choices are
// indices (task, optimizer, clip) so every field is a number.
struct TrainerArgs {
  int task = 0, optimizer = 0, clip = 3;
  double length = 8, vocab = 16, layers = 2, heads = 2, d_model = 64, mlp_width = 0, batch = 16;
  double lr = 3e-3, weight_decay = 0.01, momentum = 0.9, warmup = 20, cosine_steps = 0;
  double clip_value = 1, clamp_min = -0.1, clamp_max = 1, max_norm = 1, norm_type = 2, seed = 1;
};
constexpr const char* kTrainerTasks[] = {"induction", "copy", "reverse", "sort", "addition", "brackets", "dates"};
constexpr const char* kTrainerOptimizers[] = {"adamw", "adam", "sgd"};
constexpr const char* kTrainerClips[] = {"none", "value", "clamp", "norm"};
struct StepJs {
  double step = 0, loss = 0, accuracy = 0, lr = 0, grad_norm = 0;
};
struct EvalJs {
  double loss = 0, accuracy = 0, targets = 0;
};
train::Trainer* trainer_create(const TrainerArgs& a) {
  const char* what = "createTrainer";
  return guarded(what, [&] {
    ATTN_CHECK(a.task >= 0 && a.task < 7 && a.optimizer >= 0 && a.optimizer < 3 && a.clip >= 0 && a.clip < 4, what,
               ": unknown task, optimizer or clip mode");
    train::TrainerOptions o;
    o.task = kTrainerTasks[a.task];
    o.optimizer = kTrainerOptimizers[a.optimizer];
    o.clip = kTrainerClips[a.clip];
    o.length = int_arg(a.length, what, "length");
    o.vocab = int_arg(a.vocab, what, "vocab");
    o.layers = int_arg(a.layers, what, "layers");
    o.heads = int_arg(a.heads, what, "heads");
    o.d_model = int_arg(a.d_model, what, "dModel");
    o.mlp_width = int_arg(a.mlp_width, what, "mlpWidth");
    o.batch = int_arg(a.batch, what, "batch");
    o.warmup = int_arg(a.warmup, what, "warmup");
    o.cosine_steps = int_arg(a.cosine_steps, what, "cosineSteps");
    o.lr = a.lr;
    o.weight_decay = a.weight_decay;
    o.momentum = a.momentum;
    o.clip_value = a.clip_value;
    o.clamp_min = a.clamp_min;
    o.clamp_max = a.clamp_max;
    o.max_norm = a.max_norm;
    o.norm_type = a.norm_type;
    o.seed = static_cast<uint64_t>(int_arg(a.seed, what, "seed"));
    return train::make_trainer(o).release();
  });
}
StepJs trainer_step(train::Trainer& t) {
  return guarded("Trainer.step", [&] {
    const train::StepStats s = t.step();
    return StepJs{static_cast<double>(s.step), s.loss, s.accuracy, s.lr, s.grad_norm};
  });
}
EvalJs trainer_evaluate(train::Trainer& t, double batches) {
  const char* what = "Trainer.evaluate";
  return guarded(what, [&] {
    const train::EvalStats e = t.evaluate(int_arg(batches, what, "batches", 1, 1000));
    return EvalJs{e.loss, e.accuracy, static_cast<double>(e.targets)};
  });
}
// The probe's logits (T, V) and, captured, every layer's map (H, T, T).
ModelOutput* trainer_probe(train::Trainer& t) {
  const char* what = "Trainer.probe";
  return guarded(what, [&] {
    AttentionCapture sink;
    auto* out = new ModelOutput;
    try {
      const int64_t T = t.probe_logits_rows(), V = t.logits_width();
      const float* logits = t.probe(&sink);
      out->logits = Tensor::empty({T, V}, DType::f32, what);
      std::memcpy(out->logits.data(), logits, static_cast<size_t>(T * V) * sizeof(float));
      add_maps(*out, sink, nullptr, [](const Shape& sh) { return Shape{sh[1], sh[2], sh[3]}; });
    } catch (...) {
      delete out;
      throw;
    }
    return out;
  });
}
IdBuffer* trainer_probe_ids(train::Trainer& t) {
  return guarded("Trainer.probe", [&] { return new IdBuffer{t.probe_ids()}; });
}
std::string trainer_config(train::Trainer& t, const ByteBuffer& name) {
  return guarded("Trainer.save", [&] { return t.config_json(as_string(name)); });
}
ByteBuffer* trainer_weights(train::Trainer& t) {
  return guarded("Trainer.save", [&] { return new ByteBuffer{t.weights()}; });
}
double trainer_steps(const train::Trainer& t) { return static_cast<double>(t.steps()); }
double trainer_seq_len(const train::Trainer& t) { return static_cast<double>(t.seq_len()); }
double trainer_vocab_size(const train::Trainer& t) { return static_cast<double>(t.vocab_size()); }
double trainer_num_parameters(train::Trainer& t) { return static_cast<double>(t.model().num_parameters()); }

struct SamplingArgs {
  double temperature = 1, top_k = 0, top_p = 1;
  bool seeded = false;
  double seed = 0;
};
// Prefill + KV-cache decoding in one call; on_token (a JS function returning a bool: false stops)
// runs after each new token. The JS layer makes sure it never throws.
IdBuffer* gpt_generate(ModelJs& m, const IdBuffer& prompt, double max_new, const SamplingArgs& a, val on_token) {
  const char* what = "LanguageModel.generate";
  return guarded(what, [&] {
    Gpt& g = model_as<Gpt>(m, what);
    SamplingOptions o;
    o.temperature = float_arg(a.temperature, what, "temperature");
    o.top_k = int_arg(a.top_k, what, "topK", 0, 2147483647.0);
    o.top_p = float_arg(a.top_p, what, "topP");
    if (a.seeded) {
      o.seed = static_cast<uint64_t>(int_arg(a.seed, what, "seed"));
    } else {  // a fresh seed from the engine's sampling stream, so unseeded calls differ
      const uint64_t hi = g_sample_rng.next_u32();
      o.seed = hi << 32 | g_sample_rng.next_u32();
    }
    std::function<bool(int32_t)> cb;
    if (on_token.typeOf().as<std::string>() == "function") cb = [&](int32_t id) { return on_token(id).as<bool>(); };
    ForwardSink sink(m, false);  // ablated heads stay off while generating
    return new IdBuffer{generate(g, prompt.ids, int_arg(max_new, what, "maxNewTokens", 0, 2147483647.0), o, cb, sink.get())};
  });
}

bool configure(double max_tensor_bytes, bool seeded, double seed) {
  return guarded("init", [&] {
    if (max_tensor_bytes > 0)
      set_max_tensor_bytes(static_cast<uint64_t>(int_arg(max_tensor_bytes, "init", "maxTensorBytes", 1)));
    if (seeded) {
      const uint64_t s = static_cast<uint64_t>(int_arg(seed, "init", "seed"));
      g_dropout_rng = Rng(s, kDropoutStream);
      g_sample_rng = Rng(s, kSampleStream);
    }
    return true;
  });
}
double max_tensor_bytes_js() { return static_cast<double>(max_tensor_bytes()); }

double heap_bytes_in_use() { return static_cast<double>(mallinfo().uordblks); }
std::string simd_arch() { return kernels::simd_arch_name(); }
std::string version() { return ATTN_VERSION; }

}  // namespace

EMSCRIPTEN_BINDINGS(attention_playground) {
  function("version", &version);
  function("simdArch", &simd_arch);
  function("simdWidth", &kernels::simd_width);
  function("takeError", &take_error);
  function("heapBytesInUse", &heap_bytes_in_use);
  function("configure", &configure);
  function("maxTensorBytes", &max_tensor_bytes_js);

  value_object<SelectionArgs>("SelectionArgs")
      .field("kind", &SelectionArgs::kind)
      .field("k", &SelectionArgs::k)
      .field("threshold", &SelectionArgs::threshold)
      .field("renormalize", &SelectionArgs::renormalize)
      .field("seeded", &SelectionArgs::seeded)
      .field("seed", &SelectionArgs::seed);
  value_object<AttendArgs>("AttendArgs")
      .field("causal", &AttendArgs::causal)
      .field("causalLowerRight", &AttendArgs::causal_lower_right)
      .field("hasScale", &AttendArgs::has_scale)
      .field("scale", &AttendArgs::scale)
      .field("dropoutP", &AttendArgs::dropout_p)
      .field("sel", &AttendArgs::sel)
      .field("steps", &AttendArgs::steps);
  value_object<MhaConfig>("MhaConfig")
      .field("embedDim", &MhaConfig::embed_dim)
      .field("numHeads", &MhaConfig::num_heads)
      .field("dropout", &MhaConfig::dropout)
      .field("bias", &MhaConfig::bias)
      .field("addBiasKV", &MhaConfig::add_bias_kv)
      .field("addZeroAttn", &MhaConfig::add_zero_attn)
      .field("kdim", &MhaConfig::kdim)
      .field("vdim", &MhaConfig::vdim)
      .field("batchFirst", &MhaConfig::batch_first)
      .field("seed", &MhaConfig::seed);
  value_object<MhaArgs>("MhaArgs")
      .field("needWeights", &MhaArgs::need_weights)
      .field("averageAttnWeights", &MhaArgs::average_attn_weights)
      .field("isCausal", &MhaArgs::is_causal)
      .field("causalLowerRight", &MhaArgs::causal_lower_right)
      .field("sel", &MhaArgs::sel);

  class_<Tensor>("Tensor")
      .function("shape", &tensor_shape)
      .function("dtype", &tensor_dtype)
      .function("numel", &tensor_numel)
      .function("view", &tensor_view);
  function("tensorEmpty", &tensor_empty, allow_raw_pointers());
  class_<ByteBuffer>("ByteBuffer").function("view", &ByteBuffer::view);
  class_<IdBuffer>("IdBuffer").function("view", &IdBuffer::view);
  function("idsEmpty", &ids_empty, allow_raw_pointers());
  class_<FileSet>("FileSet").constructor<>().function("set", &FileSet::set);
  class_<io::Tokenizer>("Tokenizer")
      .function("encode", &tokenizer_encode, allow_raw_pointers())
      .function("decode", &tokenizer_decode, allow_raw_pointers())
      .function("vocabSize", &tokenizer_vocab_size)
      .function("kind", &tokenizer_kind);
  function("createTokenizer", &create_tokenizer, allow_raw_pointers());
  class_<ModelOutput>("ModelOutput")
      .function("takeLogits", &ModelOutput::take_logits, allow_raw_pointers())
      .function("count", &ModelOutput::count)
      .function("kind", &ModelOutput::kind)
      .function("layer", &ModelOutput::layer)
      .function("takeMap", &ModelOutput::take_map, allow_raw_pointers());
  class_<ModelJs>("Model")
      .function("type", &model_type)
      .function("config", &model_config)
      .function("numParameters", &model_num_parameters)
      .function("saveWeights", &model_save_weights, allow_raw_pointers())
      .function("hasTokenizer", &model_has_tokenizer)
      .function("encode", &model_encode, allow_raw_pointers())
      .function("decode", &model_decode, allow_raw_pointers())
      .function("seCnnForward", &se_cnn_forward, allow_raw_pointers())
      .function("classifierForward", &classifier_forward, allow_raw_pointers())
      .function("seq2seqForward", &seq2seq_forward, allow_raw_pointers())
      .function("seq2seqTranslate", &seq2seq_translate, allow_raw_pointers())
      .function("gptForward", &gpt_forward, allow_raw_pointers())
      .function("gptGenerate", &gpt_generate, allow_raw_pointers())
      .function("ablateHeads", &model_ablate_heads)
      .function("clearAblation", &model_clear_ablation);
  value_object<TrainerArgs>("TrainerArgs")
      .field("task", &TrainerArgs::task)
      .field("optimizer", &TrainerArgs::optimizer)
      .field("clip", &TrainerArgs::clip)
      .field("length", &TrainerArgs::length)
      .field("vocab", &TrainerArgs::vocab)
      .field("layers", &TrainerArgs::layers)
      .field("heads", &TrainerArgs::heads)
      .field("dModel", &TrainerArgs::d_model)
      .field("mlpWidth", &TrainerArgs::mlp_width)
      .field("batch", &TrainerArgs::batch)
      .field("lr", &TrainerArgs::lr)
      .field("weightDecay", &TrainerArgs::weight_decay)
      .field("momentum", &TrainerArgs::momentum)
      .field("warmup", &TrainerArgs::warmup)
      .field("cosineSteps", &TrainerArgs::cosine_steps)
      .field("clipValue", &TrainerArgs::clip_value)
      .field("clampMin", &TrainerArgs::clamp_min)
      .field("clampMax", &TrainerArgs::clamp_max)
      .field("maxNorm", &TrainerArgs::max_norm)
      .field("normType", &TrainerArgs::norm_type)
      .field("seed", &TrainerArgs::seed);
  value_object<StepJs>("TrainerStep")
      .field("step", &StepJs::step)
      .field("loss", &StepJs::loss)
      .field("accuracy", &StepJs::accuracy)
      .field("lr", &StepJs::lr)
      .field("gradNorm", &StepJs::grad_norm);
  value_object<EvalJs>("TrainerEval")
      .field("loss", &EvalJs::loss)
      .field("accuracy", &EvalJs::accuracy)
      .field("targets", &EvalJs::targets);
  class_<train::Trainer>("Trainer")
      .function("step", &trainer_step)
      .function("evaluate", &trainer_evaluate)
      .function("probe", &trainer_probe, allow_raw_pointers())
      .function("probeIds", &trainer_probe_ids, allow_raw_pointers())
      .function("config", &trainer_config)
      .function("weights", &trainer_weights, allow_raw_pointers())
      .function("steps", &trainer_steps)
      .function("seqLen", &trainer_seq_len)
      .function("vocabSize", &trainer_vocab_size)
      .function("numParameters", &trainer_num_parameters);
  function("createTrainer", &trainer_create, allow_raw_pointers());
  value_object<SamplingArgs>("SamplingArgs")
      .field("temperature", &SamplingArgs::temperature)
      .field("topK", &SamplingArgs::top_k)
      .field("topP", &SamplingArgs::top_p)
      .field("seeded", &SamplingArgs::seeded)
      .field("seed", &SamplingArgs::seed);
  function("loadModel", &load_model_js, allow_raw_pointers());
  function("bytesEmpty", &bytes_empty, allow_raw_pointers());

  class_<Result>("Result")
      .function("takeOutput", &Result::take_output, allow_raw_pointers())
      .function("takeWeights", &Result::take_weights, allow_raw_pointers())
      .function("takeStep", &Result::take_step, allow_raw_pointers());

  class_<StateDictBuilder>("StateDict")
      .constructor<>()
      .function("set", &StateDictBuilder::set)
      .function("keys", &StateDictBuilder::keys)
      .function("shape", &StateDictBuilder::shape)
      .function("get", &StateDictBuilder::get, allow_raw_pointers())
      .function("take", &StateDictBuilder::take, allow_raw_pointers());
  function("parseSafetensors", &parse_safetensors_js, allow_raw_pointers());

  function("scaledDotProductAttention", &sdpa, allow_raw_pointers());
  function("attentionEntropy", &entropy, allow_raw_pointers());
  function("sinusoidalTable", &sinusoidal, allow_raw_pointers());
  function("applyRope", &rope, allow_raw_pointers());
  function("alibiBias", &alibi, allow_raw_pointers());
  function("matmul", &matmul_js, allow_raw_pointers());
  function("softmax", &softmax_js, allow_raw_pointers());

  class_<Module>("Module")
      .function("loadStateDict", &load_state)
      .function("stateDict", &state_of, allow_raw_pointers())
      .function("train", &set_training)
      .function("isTraining", &is_training)
      .function("numParameters", &num_parameters);

  class_<MultiheadAttention, base<Module>>("MultiheadAttention")
      .function("forward", &mha_forward, allow_raw_pointers())
      .function("lastWeights", &mha_last_weights, allow_raw_pointers());
  function("createMultiheadAttention", &mha_create, allow_raw_pointers());

  class_<SimpleMultiHeadAttention, base<Module>>("SimpleMultiHeadAttention")
      .function("forward", &simple_mha_forward, allow_raw_pointers());
  function("createSimpleMultiHeadAttention", &create<SimpleMultiHeadAttention, 2>, allow_raw_pointers());

  class_<BasicAttention, base<Module>>("BasicAttention")
      .function("forward", &forward_qkv<BasicAttention>, allow_raw_pointers());
  function("createBasicAttention", &create<BasicAttention, 1>, allow_raw_pointers());
  class_<GeneralAttention, base<Module>>("GeneralAttention")
      .function("forward", &forward_qkv<GeneralAttention>, allow_raw_pointers());
  function("createGeneralAttention", &create<GeneralAttention, 2>, allow_raw_pointers());
  class_<AdditiveAttention, base<Module>>("AdditiveAttention")
      .function("forward", &forward_qkv<AdditiveAttention>, allow_raw_pointers());
  function("createAdditiveAttention", &create<AdditiveAttention, 3>, allow_raw_pointers());
  class_<ConcatAttention, base<Module>>("ConcatAttention")
      .function("forward", &forward_qkv<ConcatAttention>, allow_raw_pointers());
  function("createConcatAttention", &create<ConcatAttention, 5>, allow_raw_pointers());
  class_<SqueezeExcitation, base<Module>>("SqueezeExcitation").function("forward", &se_forward, allow_raw_pointers());
  function("createSqueezeExcitation", &create<SqueezeExcitation, 2>, allow_raw_pointers());
  class_<LearnedPositionalEmbedding, base<Module>>("LearnedPositionalEmbedding")
      .function("forward", &learned_pe_forward, allow_raw_pointers());
  function("createLearnedPositionalEmbedding", &create<LearnedPositionalEmbedding, 2>, allow_raw_pointers());
}
