// The only file that includes Emscripten headers: Embind declarations, no logic.
//
// Errors: a C++ exception must not unwind through Embind's JS frames (it would
// skip destructors and leak). So every entry point catches attn::Error /
// std::exception, records the message, and returns an empty value; the JS layer
// (src/js/index.mjs) checks takeError() after each call and throws a JS Error
// with that message. The module stays usable.
#include <malloc.h>

#include <cmath>

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
#include "io/safetensors.hpp"
#include "ops/ops.hpp"
#include "kernels/simd_info.hpp"

using namespace emscripten;
using namespace attn;

namespace {

std::string g_error;

template <class Fn>
auto guarded(Fn fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    g_error = e.what();
  } catch (...) {
    g_error = "unknown error";
  }
  return decltype(fn())();
}

std::string take_error() { return std::move(g_error); }

Shape to_shape(const val& dims) {
  Shape s;
  const unsigned n = dims["length"].as<unsigned>();
  for (unsigned i = 0; i < n; ++i) s.push_back(static_cast<int64_t>(dims[i].as<double>()));
  return s;
}

Tensor* tensor_empty(val dims, std::string dtype) {
  return guarded([&] { return new Tensor(Tensor::zeros(to_shape(dims), dtype == "bool" ? DType::u8 : DType::f32)); });
}

val tensor_shape(const Tensor& t) {
  val out = val::array();
  for (int64_t d : t.shape()) out.call<void>("push", static_cast<double>(d));
  return out;
}
std::string tensor_dtype(const Tensor& t) { return dtype_name(t.dtype()); }
// A view of the heap (valid until the heap grows); bound tensors are always contiguous.
val tensor_view(Tensor& t) {
  if (t.dtype() == DType::u8) return val(typed_memory_view(static_cast<size_t>(t.numel()), t.data_u8()));
  return val(typed_memory_view(static_cast<size_t>(t.numel()), t.data()));
}
double tensor_numel(const Tensor& t) { return static_cast<double>(t.numel()); }

// What JS gets back from every attention call: output and weights, contiguous.
struct Result {
  Tensor output, weights;
  Tensor* take_output() { return output.defined() ? new Tensor(output.contiguous()) : nullptr; }
  Tensor* take_weights() { return weights.defined() ? new Tensor(weights.contiguous()) : nullptr; }
};
Result* wrap(AttentionResult r) { return new Result{r.output, r.weights}; }

SelectionOptions selection(const std::string& kind, double k, double threshold, double seed) {
  SelectionOptions s;
  s.kind = parse_selection(kind);
  s.k = static_cast<int64_t>(k);
  s.threshold = static_cast<float>(threshold);
  s.seed = static_cast<uint64_t>(seed);
  return s;
}

// opts: {mask?, causal, scale (NaN = default), dropoutP, seed, selection, k, threshold}
SdpaOptions sdpa_options(const Tensor* mask, bool causal, double scale, const std::string& sel, double k,
                         double threshold, double seed) {
  SdpaOptions o;
  if (mask) o.attn_mask = *mask;
  o.is_causal = causal;
  if (!std::isnan(scale)) o.scale = static_cast<float>(scale);
  o.selection = selection(sel, k, threshold, seed);
  return o;
}

Result* sdpa(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, bool causal, double scale,
             double dropout_p, std::string sel, double top_k, double threshold, double seed) {
  return guarded([&] {
    SdpaOptions o = sdpa_options(mask, causal, scale, sel, top_k, threshold, seed);
    Rng rng(static_cast<uint64_t>(seed));
    o.dropout_p = static_cast<float>(dropout_p);
    o.rng = &rng;
    return wrap(scaled_dot_product_attention(q, k, v, o));
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
  Tensor* get(const std::string& name) const {
    auto it = dict.find(name);
    return it == dict.end() ? nullptr : new Tensor(it->second.contiguous());
  }
};

bool load_state(Module& m, const StateDictBuilder& sd, bool strict) {
  return guarded([&] {
    m.load_state_dict(sd.dict, strict);
    return true;
  });
}
StateDictBuilder* state_of(Module& m) { return new StateDictBuilder{m.state_dict()}; }
void set_training(Module& m, bool on) { m.train(on); }
bool is_training(Module& m) { return m.is_training(); }
double num_parameters(Module& m) { return static_cast<double>(m.num_parameters()); }

// --- MultiheadAttention
MultiheadAttention* mha_create(double embed_dim, double num_heads, double dropout, bool bias, bool add_bias_kv,
                               bool add_zero_attn, double kdim, double vdim, bool batch_first, double seed) {
  return guarded([&] {
    MultiheadAttentionOptions o;
    o.embed_dim = static_cast<int64_t>(embed_dim);
    o.num_heads = static_cast<int64_t>(num_heads);
    o.dropout = static_cast<float>(dropout);
    o.bias = bias;
    o.add_bias_kv = add_bias_kv;
    o.add_zero_attn = add_zero_attn;
    o.kdim = static_cast<int64_t>(kdim);
    o.vdim = static_cast<int64_t>(vdim);
    o.batch_first = batch_first;
    o.seed = static_cast<uint64_t>(seed);
    return new MultiheadAttention(o);
  });
}

Result* mha_forward(MultiheadAttention& m, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* kpm,
                    const Tensor* attn_mask, bool need_weights, bool average, bool is_causal, std::string sel,
                    double top_k, double threshold, double seed) {
  return guarded([&] {
    MhaForwardOptions f;
    if (kpm) f.key_padding_mask = *kpm;
    if (attn_mask) f.attn_mask = *attn_mask;
    f.need_weights = need_weights;
    f.average_attn_weights = average;
    f.is_causal = is_causal;
    f.selection = selection(sel, top_k, threshold, seed);
    return wrap(m.forward(q, k, v, f));
  });
}
Tensor* mha_last_weights(MultiheadAttention& m) {
  return m.last_weights.defined() ? new Tensor(m.last_weights.contiguous()) : nullptr;
}

// --- The other attention modules: (q, k, v, mask) -> Result
template <class M>
Result* forward_qkv(M& m, const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask, bool causal,
                    std::string sel, double top_k, double threshold, double seed) {
  return guarded([&] { return wrap(m.forward(q, k, v, sdpa_options(mask, causal, NAN, sel, top_k, threshold, seed))); });
}
Result* simple_mha_forward(SimpleMultiHeadAttention& m, const Tensor& q, const Tensor& k, const Tensor& v,
                           const Tensor* mask, std::string sel, double top_k, double threshold, double seed) {
  return guarded([&] { return wrap(m.forward(q, k, v, mask ? *mask : Tensor(), selection(sel, top_k, threshold, seed))); });
}
Result* se_forward(SqueezeExcitation& m, const Tensor& x) { return guarded([&] { return wrap(m.forward(x)); }); }
Tensor* learned_pe_forward(LearnedPositionalEmbedding& m, const Tensor& x, double offset) {
  return guarded([&] { return new Tensor(m.forward(x, static_cast<int64_t>(offset))); });
}

template <class M, class... Args>
M* create(Args... args) {
  return guarded([&] { return new M(static_cast<int64_t>(args)...); });
}

// --- Free functions returning a tensor
Tensor* entropy(const Tensor& w) { return guarded([&] { return new Tensor(attention_entropy(w)); }); }
Tensor* sinusoidal(double max_len, double d) {
  return guarded([&] { return new Tensor(sinusoidal_table(static_cast<int64_t>(max_len), static_cast<int64_t>(d))); });
}
Tensor* rope(const Tensor& x, std::string style, double offset) {
  return guarded([&] {
    ATTN_CHECK(style == "interleaved" || style == "half_split", "applyRope: style must be 'interleaved' or 'half_split', got '",
               style, "'");
    return new Tensor(apply_rope(x, style == "interleaved" ? RopeStyle::interleaved : RopeStyle::half_split,
                                 static_cast<int64_t>(offset)));
  });
}
Tensor* alibi(double heads, double L, double S) {
  return guarded([&] {
    return new Tensor(alibi_bias(static_cast<int64_t>(heads), static_cast<int64_t>(L), static_cast<int64_t>(S)));
  });
}
Tensor* matmul_js(const Tensor& a, const Tensor& b) { return guarded([&] { return new Tensor(matmul(a, b)); }); }
Tensor* softmax_js(const Tensor& a) { return guarded([&] { return new Tensor(softmax(a)); }); }

StateDictBuilder* parse_safetensors_js(val bytes) {
  return guarded([&] {
    const std::vector<uint8_t> data = convertJSArrayToNumberVector<uint8_t>(bytes);
    return new StateDictBuilder{io::parse_safetensors(data.data(), data.size()).tensors};
  });
}

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

  class_<Tensor>("Tensor")
      .function("shape", &tensor_shape)
      .function("dtype", &tensor_dtype)
      .function("numel", &tensor_numel)
      .function("view", &tensor_view);
  function("tensorEmpty", &tensor_empty, allow_raw_pointers());

  class_<Result>("Result")
      .function("takeOutput", &Result::take_output, allow_raw_pointers())
      .function("takeWeights", &Result::take_weights, allow_raw_pointers());

  class_<StateDictBuilder>("StateDict")
      .constructor<>()
      .function("set", &StateDictBuilder::set)
      .function("keys", &StateDictBuilder::keys)
      .function("get", &StateDictBuilder::get, allow_raw_pointers());
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
  function("createSimpleMultiHeadAttention", &create<SimpleMultiHeadAttention, double, double>, allow_raw_pointers());

  class_<BasicAttention, base<Module>>("BasicAttention")
      .function("forward", &forward_qkv<BasicAttention>, allow_raw_pointers());
  function("createBasicAttention", &create<BasicAttention, double>, allow_raw_pointers());
  class_<GeneralAttention, base<Module>>("GeneralAttention")
      .function("forward", &forward_qkv<GeneralAttention>, allow_raw_pointers());
  function("createGeneralAttention", &create<GeneralAttention, double, double>, allow_raw_pointers());
  class_<AdditiveAttention, base<Module>>("AdditiveAttention")
      .function("forward", &forward_qkv<AdditiveAttention>, allow_raw_pointers());
  function("createAdditiveAttention", &create<AdditiveAttention, double, double, double>, allow_raw_pointers());
  class_<ConcatAttention, base<Module>>("ConcatAttention")
      .function("forward", &forward_qkv<ConcatAttention>, allow_raw_pointers());
  function("createConcatAttention", &create<ConcatAttention, double, double, double, double, double>,
           allow_raw_pointers());
  class_<SqueezeExcitation, base<Module>>("SqueezeExcitation").function("forward", &se_forward, allow_raw_pointers());
  function("createSqueezeExcitation", &create<SqueezeExcitation, double, double>, allow_raw_pointers());
  class_<LearnedPositionalEmbedding, base<Module>>("LearnedPositionalEmbedding")
      .function("forward", &learned_pe_forward, allow_raw_pointers());
  function("createLearnedPositionalEmbedding", &create<LearnedPositionalEmbedding, double, double>, allow_raw_pointers());
}
