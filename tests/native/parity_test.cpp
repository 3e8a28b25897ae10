// Native results of every function and module the npm package exports, for the
// JS test "results are bit-for-bit those of the native build" (tests/js/api.test.mjs),
// which repeats each call through the package (wasm) and compares the bits.
//
// The file ($ATTN_PARITY_OUT, safetensors) is self-describing: for each case
//   <case>.in.<name>   the inputs (made here from a seeded Rng),
//   <case>.p.<key>     a module's state_dict right after construction (the JS side
//                      first compares its own fresh module with it, then loads it),
//   <case>.out.<name>  what the native build computed (out, weights),
// and __metadata__[<case>] is the JS call as JSON: {fn | module + ctor, args, opts, exact}.
// "$x" in args/opts names the input <case>.in.x. exact=false marks results that go
// through libm transcendentals (sin, cos, exp, log, pow), which glibc and
// Emscripten's musl need not round alike: those are compared within a tolerance.
// Every kernel path (gemm, softmax, exp_batch, xsimd tanh, sigmoid, reductions) is
// libm-free, has one summation order and no FMA, so everything else must match bit
// for bit. Random draws (dropout, `sample`) are not covered: their streams are set up
// by the bindings.
//
// The ctest sets ATTN_PARITY_OUT for the native build (build/<dir>/parity.safetensors);
// without it (the wasm run of this suite) the cases are only computed.
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>

#include <nlohmann/json.hpp>

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
#include "testing.hpp"

namespace attn::testing {
namespace {

using nlohmann::json;

class ParityDump {
 public:
  // Inputs of a case: uniform in [-2, 2) from a seeded generator, or a given tensor.
  Tensor input(const std::string& c, const std::string& name, const Shape& shape) {
    return input(c, name, rand_uniform(shape, rng_, -2.0f, 2.0f));
  }
  Tensor input(const std::string& c, const std::string& name, Tensor t) {
    out_[c + ".in." + name] = t;
    return t;
  }
  Tensor bool_input(const std::string& c, const std::string& name, const Shape& shape, float p_true) {
    Tensor t = Tensor::empty(shape, DType::u8);
    for (int64_t i = 0; i < t.numel(); ++i) t.data_u8()[i] = rng_.uniform() < p_true;
    return input(c, name, t);
  }
  // A module right after construction: its parameters go into the file.
  void params(const std::string& c, Module& m) {
    for (const auto& [key, t] : m.state_dict()) out_[c + ".p." + key] = t.clone();
  }
  void result(const std::string& c, json call, const AttentionResult& r) {
    out_[c + ".out.out"] = r.output;
    if (r.weights.defined()) out_[c + ".out.weights"] = r.weights;
    describe(c, std::move(call));
  }
  void result(const std::string& c, json call, const Tensor& t) {
    out_[c + ".out.out"] = t;
    describe(c, std::move(call));
  }
  size_t cases() const { return meta_.size(); }
  void write(const std::string& path) const {
    const std::vector<uint8_t> bytes = io::save_safetensors(out_, meta_);
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(f.good()) << "cannot write " << path;
  }

 private:
  void describe(const std::string& c, json call) {
    if (!call.contains("exact")) call["exact"] = true;
    ASSERT_EQ(meta_.count(c), 0u) << "duplicate parity case " << c;
    meta_[c] = call.dump();
  }
  Rng rng_{20240611};
  StateDict out_;
  std::map<std::string, std::string> meta_;
};

SelectionOptions hard(Selection kind, int64_t k = 1, float threshold = 0.0f, bool renormalize = true) {
  SelectionOptions s;
  s.kind = kind;
  s.k = k;
  s.threshold = threshold;
  s.renormalize = renormalize;
  return s;
}

void functional_cases(ParityDump& d) {
  // matmul: odd sizes around the vector width, a batch, and more columns than one GEMM panel.
  for (const auto& [c, sa, sb] : std::vector<std::tuple<std::string, Shape, Shape>>{
           {"matmul_odd", {37, 65}, {65, 29}},
           {"matmul_batched", {3, 5, 17}, {3, 17, 9}},
           {"matmul_wide", {9, 70}, {70, 1100}}}) {
    Tensor a = d.input(c, "a", sa), b = d.input(c, "b", sb);
    d.result(c, {{"fn", "matmul"}, {"args", {"$a", "$b"}}}, matmul(a, b));
  }
  {
    Tensor x = d.input("softmax", "x", {7, 37});
    x.data()[3] = -std::numeric_limits<float>::infinity();  // a masked entry
    d.result("softmax", {{"fn", "softmax"}, {"args", {"$x"}}}, softmax(x));
  }

  // scaled dot-product attention: plain, causal, bool and float masks, a scale, a fully masked row, hard rules.
  const Shape qs{2, 5, 16}, ks{2, 7, 16}, vs{2, 7, 24};
  auto sdpa_case = [&](const std::string& c, json opts, const std::function<void(SdpaOptions&, const std::string&)>& set) {
    Tensor q = d.input(c, "q", qs), k = d.input(c, "k", ks), v = d.input(c, "v", vs);
    SdpaOptions o;
    set(o, c);
    d.result(c, {{"fn", "scaledDotProductAttention"}, {"args", {"$q", "$k", "$v"}}, {"opts", opts}},
             scaled_dot_product_attention(q, k, v, o));
  };
  sdpa_case("sdpa", json::object(), [](SdpaOptions&, const std::string&) {});
  sdpa_case("sdpa_causal", {{"causal", true}}, [](SdpaOptions& o, const std::string&) { o.is_causal = true; });
  sdpa_case("sdpa_bool_mask", {{"mask", "$mask"}}, [&](SdpaOptions& o, const std::string& c) {
    o.attn_mask = d.bool_input(c, "mask", {5, 7}, 0.6f);
    for (int64_t j = 0; j < 7; ++j) o.attn_mask.data_u8()[2 * 7 + j] = 0;  // query 2 sees no key
  });
  sdpa_case("sdpa_float_mask", {{"mask", "$mask"}, {"scale", 0.3125}}, [&](SdpaOptions& o, const std::string& c) {
    o.attn_mask = d.input(c, "mask", {2, 1, 7});
    o.scale = 0.3125f;
  });
  sdpa_case("sdpa_top_k", {{"selection", "top_k"}, {"k", 3}},
            [](SdpaOptions& o, const std::string&) { o.selection = hard(Selection::top_k, 3); });
  sdpa_case("sdpa_threshold_raw", {{"selection", "threshold"}, {"threshold", 0.15}, {"renormalize", false}},
            [](SdpaOptions& o, const std::string&) { o.selection = hard(Selection::threshold, 1, 0.15f, false); });
  sdpa_case("sdpa_argmax", {{"selection", "argmax"}},
            [](SdpaOptions& o, const std::string&) { o.selection = hard(Selection::argmax); });
  {
    const std::string c = "dot";
    Tensor q = d.input(c, "q", {3, 16}), k = d.input(c, "k", {6, 16}), v = d.input(c, "v", {6, 5});
    d.result(c, {{"fn", "dotProductAttention"}, {"args", {"$q", "$k", "$v"}}}, dot_product_attention(q, k, v));
  }

  // libm on the path: within tolerance only.
  d.result("sinusoidal_even", {{"fn", "sinusoidalTable"}, {"args", {50, 32}}, {"exact", false}},
           sinusoidal_table(50, 32));
  d.result("sinusoidal_odd", {{"fn", "sinusoidalTable"}, {"args", {9, 33}}, {"exact", false}}, sinusoidal_table(9, 33));
  for (const auto& [c, style, name] : std::vector<std::tuple<std::string, RopeStyle, std::string>>{
           {"rope_interleaved", RopeStyle::interleaved, "interleaved"},
           {"rope_half_split", RopeStyle::half_split, "half_split"}}) {
    Tensor x = d.input(c, "x", {2, 9, 12});
    d.result(c, {{"fn", "applyRope"}, {"args", {"$x"}}, {"opts", {{"style", name}, {"offset", 3}}}, {"exact", false}},
             apply_rope(x, style, 3));
  }
  d.result("alibi_pow2", {{"fn", "alibiBias"}, {"args", {8, 5, 7}}, {"exact", false}}, alibi_bias(8, 5, 7));
  d.result("alibi_other", {{"fn", "alibiBias"}, {"args", {6, 4, 4}}, {"exact", false}}, alibi_bias(6, 4, 4));
  {
    Rng rng(5);
    Tensor w = d.input("entropy", "w", softmax(rand_uniform({2, 3, 11}, rng, -3.0f, 3.0f)));
    w.data()[0] = 0.0f;  // 0 log 0 = 0
    d.result("entropy", {{"fn", "attentionEntropy"}, {"args", {"$w"}}, {"exact", false}}, attention_entropy(w));
  }
}

void module_cases(ParityDump& d) {
  {
    const std::string c = "BasicAttention";
    BasicAttention m(16);
    d.params(c, m);
    Tensor q = d.input(c, "q", {2, 4, 16}), k = d.input(c, "k", {2, 6, 16}), v = d.input(c, "v", {2, 6, 8});
    SdpaOptions o;
    o.is_causal = true;
    d.result(c, {{"module", c}, {"ctor", {16}}, {"args", {"$q", "$k", "$v"}}, {"opts", {{"causal", true}}}},
             m.forward(q, k, v, o));
  }
  {
    const std::string c = "GeneralAttention";
    GeneralAttention m(12, 20);
    d.params(c, m);
    Tensor q = d.input(c, "q", {3, 5, 12}), k = d.input(c, "k", {3, 7, 20}), v = d.input(c, "v", {3, 7, 9});
    SdpaOptions o;
    o.attn_mask = d.bool_input(c, "mask", {5, 7}, 0.7f);
    d.result(c, {{"module", c}, {"ctor", {12, 20}}, {"args", {"$q", "$k", "$v"}}, {"opts", {{"mask", "$mask"}}}},
             m.forward(q, k, v, o));
  }
  {
    const std::string c = "AdditiveAttention";
    AdditiveAttention m(20, 12, 19);  // key_size, query_size, num_hiddens: tanh on odd widths
    d.params(c, m);
    Tensor q = d.input(c, "q", {2, 5, 12}), k = d.input(c, "k", {2, 7, 20}), v = d.input(c, "v", {2, 7, 6});
    d.result(c, {{"module", c}, {"ctor", {20, 12, 19}}, {"args", {"$q", "$k", "$v"}}}, m.forward(q, k, v));
  }
  {
    const std::string c = "ConcatAttention";
    ConcatAttention m(32, 32, 32, 64, 64);  // seed 003's shapes
    d.params(c, m);
    Tensor q = d.input(c, "q", {1, 1, 32}), k = d.input(c, "k", {1, 1, 32}), v = d.input(c, "v", {1, 32, 64});
    d.result(c, {{"module", c}, {"ctor", {32, 32, 32, 64, 64}}, {"args", {"$q", "$k", "$v"}}}, m.forward(q, k, v));
  }
  {
    const std::string c = "SimpleMultiHeadAttention";
    SimpleMultiHeadAttention m(16, 4);
    d.params(c, m);
    Tensor q = d.input(c, "q", {2, 5, 16}), k = d.input(c, "k", {2, 6, 16}), v = d.input(c, "v", {2, 6, 16});
    Tensor mask = d.bool_input(c, "mask", {2, 1, 1, 6}, 0.7f);
    d.result(c, {{"module", c}, {"ctor", {16, 4}}, {"args", {"$q", "$k", "$v"}}, {"opts", {{"mask", "$mask"}}}},
             m.forward(q, k, v, mask));
  }
  {
    const std::string c = "SqueezeExcitation";
    SqueezeExcitation m(12, 4);
    d.params(c, m);
    Tensor x = d.input(c, "x", {2, 12, 5, 3});
    d.result(c, {{"module", c}, {"ctor", {12, 4}}, {"args", {"$x"}}}, m.forward(x));
  }
  {
    // weight is randn (Box-Muller: libm log/cos/sin), so its init is compared within tolerance;
    // the forward runs on the same loaded weights in both builds and must match exactly.
    const std::string c = "LearnedPositionalEmbedding";
    LearnedPositionalEmbedding m(10, 16);
    d.params(c, m);
    Tensor x = d.input(c, "x", {2, 4, 16});
    d.result(c, {{"module", c}, {"ctor", {10, 16}}, {"args", {"$x", 3}}, {"inexactInit", {"weight"}}}, m.forward(x, 3));
  }

  // nn.MultiheadAttention: the default layout with a key padding mask, batch_first with a float
  // mask and per-head weights, kdim/vdim, bias_k/v + zero attention, no bias, causal.
  struct Mha {
    std::string name;
    json ctor, opts;
    std::function<void(MultiheadAttentionOptions&)> set_ctor;
    std::function<void(MhaForwardOptions&, const std::string&)> set_fwd;
    Shape q, k, v;
  };
  const std::vector<Mha> mhas = {
      {"mha_kpm", {{"embedDim", 16}, {"numHeads", 4}}, {{"keyPaddingMask", "$kpm"}}, [](auto&) {},
       [&](MhaForwardOptions& f, const std::string& c) { f.key_padding_mask = d.bool_input(c, "kpm", {2, 7}, 0.3f); },
       {5, 2, 16}, {7, 2, 16}, {7, 2, 16}},
      {"mha_batch_first_float_mask", {{"embedDim", 24}, {"numHeads", 3}, {"batchFirst", true}},
       {{"attnMask", "$mask"}, {"averageAttnWeights", false}}, [](auto& o) { o.batch_first = true; },
       [&](MhaForwardOptions& f, const std::string& c) {
         f.attn_mask = d.input(c, "mask", {6, 6});
         f.average_attn_weights = false;
       },
       {2, 6, 24}, {2, 6, 24}, {2, 6, 24}},
      {"mha_kdim_vdim", {{"embedDim", 16}, {"numHeads", 2}, {"kdim", 10}, {"vdim", 7}}, json::object(),
       [](auto& o) { o.kdim = 10, o.vdim = 7; }, [](auto&, const std::string&) {}, {4, 3, 16}, {6, 3, 10}, {6, 3, 7}},
      {"mha_bias_kv_zero_attn", {{"embedDim", 16}, {"numHeads", 4}, {"addBiasKV", true}, {"addZeroAttn", true}},
       json::object(), [](auto& o) { o.add_bias_kv = o.add_zero_attn = true; }, [](auto&, const std::string&) {},
       {5, 16}, {5, 16}, {5, 16}},
      {"mha_no_bias_causal", {{"embedDim", 16}, {"numHeads", 4}, {"bias", false}}, {{"isCausal", true}},
       [](auto& o) { o.bias = false; }, [](MhaForwardOptions& f, const std::string&) { f.is_causal = true; },
       {6, 1, 16}, {6, 1, 16}, {6, 1, 16}},
  };
  for (const Mha& t : mhas) {
    MultiheadAttentionOptions o;
    o.embed_dim = t.ctor["embedDim"];
    o.num_heads = t.ctor["numHeads"];
    t.set_ctor(o);
    MultiheadAttention m(o);
    d.params(t.name, m);
    Tensor q = d.input(t.name, "q", t.q), k = d.input(t.name, "k", t.k), v = d.input(t.name, "v", t.v);
    MhaForwardOptions f;
    t.set_fwd(f, t.name);
    json call = {{"module", "MultiheadAttention"}, {"ctor", json::array({t.ctor})}, {"args", {"$q", "$k", "$v"}}, {"opts", t.opts}};
    if (o.add_bias_kv) call["inexactInit"] = {"bias_k", "bias_v"};  // xavier_normal_: libm
    d.result(t.name, call, m.forward(q, k, v, f));
  }
}

TEST(Parity, NativeOutputsForWasmComparison) {
  ParityDump d;
  functional_cases(d);
  module_cases(d);
  EXPECT_GE(d.cases(), 30u);
  if (const char* path = std::getenv("ATTN_PARITY_OUT")) d.write(path);
}

}  // namespace
}  // namespace attn::testing
