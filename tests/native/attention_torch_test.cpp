// Every attention mechanism against PyTorch: the cases in
// tests/fixtures/attention.safetensors (scripts/fixtures/attention.py).
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
#include "torch_fixtures.hpp"

namespace attn::testing {
namespace {

#define EXPECT_MATCHES_TORCH(actual, c, tensor) \
  EXPECT_TRUE(all_close(actual, (c).get(tensor), kTorchAtol, kTorchRtol)) << (c).name << "." << tensor

// Loads the case's parameters into `m`, runs forward(q, k, v, opts) and compares output and weights.
template <class M>
void expect_qkv_module_matches(M& m, const TorchCase& c, const SdpaOptions& opts = {}) {
  m.load_state_dict(c.params());
  AttentionResult r = m.forward(c.get("q"), c.get("k"), c.get("v"), opts);
  EXPECT_MATCHES_TORCH(r.output, c, "out");
  EXPECT_MATCHES_TORCH(r.weights, c, "weights");
}

TEST(AttentionVsTorch, ScaledDotProduct) {
  for (const TorchCase& c : torch_cases("sdpa")) {
    SdpaOptions o;
    if (c.has("mask")) o.attn_mask = c.get("mask");
    o.is_causal = c.meta.value("is_causal", false);
    if (c.meta.contains("scale")) o.scale = c.meta["scale"].get<float>();
    AttentionResult r = scaled_dot_product_attention(c.get("q"), c.get("k"), c.get("v"), o);
    EXPECT_MATCHES_TORCH(r.output, c, "out");
    EXPECT_MATCHES_TORCH(r.weights, c, "weights");
  }
}

TEST(AttentionVsTorch, BasicDotProductSeed000) {
  for (const TorchCase& c : torch_cases("basic")) {
    BasicAttention m(c.meta["hidden_size"].get<int64_t>());
    expect_qkv_module_matches(m, c);
  }
}

TEST(AttentionVsTorch, GeneralBilinear) {
  for (const TorchCase& c : torch_cases("general")) {
    GeneralAttention m(c.meta["query_size"].get<int64_t>(), c.meta["key_size"].get<int64_t>());
    expect_qkv_module_matches(m, c);
  }
}

TEST(AttentionVsTorch, AdditiveBahdanau) {
  for (const TorchCase& c : torch_cases("additive")) {
    AdditiveAttention m(c.meta["key_size"].get<int64_t>(), c.meta["query_size"].get<int64_t>(),
                        c.meta["num_hiddens"].get<int64_t>());
    SdpaOptions o;
    o.attn_mask = c.get("mask");
    expect_qkv_module_matches(m, c, o);
  }
}

TEST(AttentionVsTorch, ConcatRuleSeed003) {
  for (const TorchCase& c : torch_cases("concat")) {
    auto s = c.meta["sizes"].get<std::vector<int64_t>>();
    ConcatAttention m(s[0], s[1], s[2], s[3], s[4]);
    expect_qkv_module_matches(m, c);
  }
  // The seed's own example shapes.
  ConcatAttention m(32, 32, 32, 64, 64);
  Rng rng(1);
  AttentionResult r = m.forward(randn({1, 1, 32}, rng), randn({1, 1, 32}, rng), randn({1, 32, 64}, rng));
  EXPECT_EQ(r.output.shape(), (Shape{1, 1, 64}));
  EXPECT_EQ(r.weights.shape(), (Shape{1, 32}));
}

TEST(AttentionVsTorch, MultiheadAttention) {
  for (const TorchCase& c : torch_cases("mha")) {
    const auto& ctor = c.meta["ctor"];
    MultiheadAttentionOptions o;
    o.embed_dim = ctor["embed_dim"];
    o.num_heads = ctor["num_heads"];
    o.bias = ctor.value("bias", true);
    o.add_bias_kv = ctor.value("add_bias_kv", false);
    o.add_zero_attn = ctor.value("add_zero_attn", false);
    o.kdim = ctor.value("kdim", 0);
    o.vdim = ctor.value("vdim", 0);
    o.batch_first = ctor.value("batch_first", false);
    MultiheadAttention m(o);
    m.load_state_dict(c.params());
    MhaForwardOptions f;
    if (c.has("kpm")) f.key_padding_mask = c.get("kpm");
    if (c.has("attn_mask")) f.attn_mask = c.get("attn_mask");
    f.need_weights = c.meta["need_weights"];
    f.average_attn_weights = c.meta["average_attn_weights"];
    // Self-attention cases pass one tensor three times (the fused q/k/v projection path);
    // torch got clones of it, which compute the same.
    const Tensor q = c.get("q");
    AttentionResult r = c.meta.value("self_attn", false) ? m.forward(q, q, q, f) : m.forward(q, c.get("k"), c.get("v"), f);
    EXPECT_MATCHES_TORCH(r.output, c, "out");
    if (f.need_weights) {
      EXPECT_MATCHES_TORCH(r.weights, c, "weights");
    } else {
      EXPECT_FALSE(r.weights.defined()) << c.name;
      EXPECT_FALSE(c.has("weights"));
    }
  }
}

TEST(AttentionVsTorch, SeedMultiHeadAttention004) {
  for (const TorchCase& c : torch_cases("seed004")) {
    SimpleMultiHeadAttention m(c.meta["embed_dim"].get<int64_t>(), c.meta["num_heads"].get<int64_t>());
    m.load_state_dict(c.params());
    AttentionResult r = m.forward(c.get("q"), c.get("k"), c.get("v"), c.has("mask") ? c.get("mask") : Tensor());
    EXPECT_MATCHES_TORCH(r.output, c, "out");
    EXPECT_MATCHES_TORCH(r.weights, c, "weights");
  }
}

TEST(AttentionVsTorch, SqueezeExcitation) {
  for (const TorchCase& c : torch_cases("se")) {
    SqueezeExcitation m(c.meta["channels"].get<int64_t>(), c.meta["reduction"].get<int64_t>());
    m.load_state_dict(c.params());
    AttentionResult r = m.forward(c.get("x"));
    EXPECT_MATCHES_TORCH(r.output, c, "out");
    EXPECT_MATCHES_TORCH(r.weights, c, "weights");
  }
}

TEST(AttentionVsTorch, PositionalEncodings) {
  for (const TorchCase& c : torch_cases("sinusoidal"))
    EXPECT_MATCHES_TORCH(sinusoidal_table(c.meta["max_len"], c.meta["d"]), c, "out");
  for (const TorchCase& c : torch_cases("rope")) {
    RopeStyle style = c.meta["style"] == "interleaved" ? RopeStyle::interleaved : RopeStyle::half_split;
    EXPECT_MATCHES_TORCH(apply_rope(c.get("x"), style, c.meta["offset"]), c, "out");
  }
  for (const TorchCase& c : torch_cases("alibi"))
    EXPECT_MATCHES_TORCH(alibi_bias(c.meta["heads"], c.meta["L"], c.meta["S"]), c, "out");
}

TEST(AttentionVsTorch, HardSelectionAndEntropy) {
  for (const TorchCase& c : torch_cases("hard")) {
    SdpaOptions o;
    o.selection.kind = parse_selection(c.meta["selection"]);
    o.selection.k = c.meta.value("k", 1);
    o.selection.threshold = c.meta.value("threshold", 0.0f);
    AttentionResult r = scaled_dot_product_attention(c.get("q"), c.get("k"), c.get("v"), o);
    EXPECT_MATCHES_TORCH(r.weights, c, "weights");
    EXPECT_MATCHES_TORCH(r.output, c, "out");
  }
  for (const TorchCase& c : torch_cases("entropy")) EXPECT_MATCHES_TORCH(attention_entropy(c.get("weights")), c, "out");
}

}  // namespace
}  // namespace attn::testing
