// The core shape models stand on: the module tree (keys and order as PyTorch's,
// from tests/fixtures/modules.json), the parameter arena, activation arenas, the
// attention capture sink and causal masks aligned top-left / bottom-right.
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "attention/capture.hpp"
#include "attention/mask.hpp"
#include "attention/multihead.hpp"
#include "attention/scaled_dot.hpp"
#include "attention/squeeze_excitation.hpp"
#include "core/arena.hpp"
#include "nn/linear.hpp"
#include "ops/ops.hpp"
#include "testing.hpp"

namespace attn {
namespace {

using testing::all_close;
using testing::throws_error;

const nlohmann::json& modules_fixture() {
  static const nlohmann::json j = [] {
    std::ifstream f(testing::fixture_path("modules.json"));
    return nlohmann::json::parse(f);
  }();
  return j;
}

std::vector<std::string> key_list(Module& m) {
  std::vector<std::string> out;
  for (auto& [name, t] : m.named_parameters()) out.push_back(name);
  for (auto& [name, t] : m.named_buffers()) out.push_back(name);
  return out;
}

std::vector<std::string> torch_keys(const char* module) {
  return modules_fixture()["state_dict_keys"].at(module).get<std::vector<std::string>>();
}

TEST(ModuleTree, KeysAndOrderAreTorchs) {
  Rng rng(1);
  nn::Linear lin(3, 4, true, rng), lin_nb(3, 4, false, rng);
  EXPECT_EQ(key_list(lin), torch_keys("Linear(3,4)"));
  EXPECT_EQ(key_list(lin_nb), torch_keys("Linear(3,4,bias=False)"));
  MultiheadAttentionOptions o;
  o.embed_dim = 8;
  o.num_heads = 2;
  MultiheadAttention a(o);
  EXPECT_EQ(key_list(a), torch_keys("MultiheadAttention(8,2)"));
  o.bias = false;
  MultiheadAttention b(o);
  EXPECT_EQ(key_list(b), torch_keys("MultiheadAttention(8,2,bias=False)"));
  o.bias = true;
  o.add_bias_kv = true;
  o.kdim = 4;
  o.vdim = 6;
  MultiheadAttention c(o);
  EXPECT_EQ(key_list(c), torch_keys("MultiheadAttention(8,2,add_bias_kv,kdim=4,vdim=6)"));
  // state_dict has exactly those keys, sharing storage with the module.
  StateDict sd = c.state_dict();
  EXPECT_EQ(sd.size(), key_list(c).size());
  sd.at("out_proj.bias").fill_(0.5f);
  EXPECT_EQ(c.out_proj.bias.at({0}), 0.5f);
}

TEST(ModuleTree, TrainEvalRecurse) {
  SqueezeExcitation se(8, 2);
  EXPECT_FALSE(se.fc1.is_training());
  se.train();
  EXPECT_TRUE(se.is_training() && se.fc1.is_training() && se.fc2.is_training());
  se.eval();
  EXPECT_FALSE(se.fc2.is_training());
  // Nested keys through a parameter-free container: nn.Sequential's "fc.0" / "fc.2".
  EXPECT_EQ(key_list(se), (std::vector<std::string>{"fc.0.weight", "fc.2.weight"}));
}

TEST(ModuleTree, LoadStateDictNamesTheNestedKey) {
  MultiheadAttentionOptions o;
  o.embed_dim = 8;
  o.num_heads = 2;
  MultiheadAttention m(o);
  StateDict sd;
  for (auto& [k, t] : m.state_dict()) sd[k] = t.clone();
  sd["out_proj.weight"] = Tensor::zeros({8, 7});
  EXPECT_TRUE(throws_error([&] { m.load_state_dict(sd); }, {"'out_proj.weight' has shape [8, 7]", "[8, 8]"}));
  sd.erase("out_proj.weight");
  EXPECT_TRUE(throws_error([&] { m.load_state_dict(sd); }, {"missing key 'out_proj.weight'"}));
  sd["out_proj.weight"] = Tensor::zeros({8, 8});
  sd["out_proj.extra"] = Tensor::zeros({1});
  EXPECT_TRUE(throws_error([&] { m.load_state_dict(sd); }, {"unexpected key 'out_proj.extra'"}));
}

TEST(ParameterArena, OneAllocationSameValuesSameResults) {
  MultiheadAttentionOptions o;
  o.embed_dim = 12;
  o.num_heads = 3;
  o.seed = 7;
  MultiheadAttention m(o);
  Rng rng(3);
  const Tensor x = randn({5, 1, 12}, rng);
  const AttentionResult before = m.self_attention(x);
  std::vector<std::vector<float>> values;
  for (auto& [k, t] : m.named_parameters()) values.push_back(t->to_vector());

  const Arena& layout = m.pack_parameters();
  auto params = m.named_parameters();
  ASSERT_EQ(layout.slots().size(), params.size());
  const char* base = static_cast<const char*>(layout.flat().raw_data());
  int64_t expected_offset = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const Arena::Slot& s = layout.slots()[i];
    EXPECT_EQ(s.name, params[i].first);
    EXPECT_EQ(s.offset, expected_offset);  // in order, each on a 64-byte boundary
    EXPECT_EQ(s.offset % 64, 0);
    EXPECT_EQ(static_cast<const char*>(params[i].second->raw_data()), base + s.offset) << s.name;
    EXPECT_EQ(params[i].second->to_vector(), values[i]) << s.name;
    expected_offset += (s.bytes + 63) / 64 * 64;
  }
  EXPECT_EQ(layout.bytes(), expected_offset);
  const AttentionResult after = m.self_attention(x);
  EXPECT_EQ(after.output.to_vector(), before.output.to_vector());

  // Loading writes into the arena (the views stay where they are).
  const void* out_w = m.out_proj.weight.raw_data();
  StateDict sd;
  for (auto& [k, t] : m.state_dict()) sd[k] = Tensor::full(t.shape(), 0.25f);
  m.load_state_dict(sd);
  EXPECT_EQ(m.out_proj.weight.raw_data(), out_w);
  EXPECT_EQ(layout.flat().at({layout.slots()[0].offset / 4}), 0.25f);
}

TEST(ParameterArena, LayoutIsReusableForGradients) {
  Rng rng(1);
  nn::Linear lin(5, 3, true, rng);
  const Arena& layout = lin.pack_parameters();
  Tensor gw, gb;
  Arena grads = layout.like({&gw, &gb});
  grads.allocate("gradients");
  EXPECT_EQ(gw.shape(), lin.weight.shape());
  EXPECT_EQ(gb.shape(), lin.bias.shape());
  EXPECT_EQ(grads.bytes(), layout.bytes());
  EXPECT_EQ(static_cast<char*>(gb.raw_data()) - static_cast<char*>(gw.raw_data()),
            static_cast<const char*>(lin.bias.raw_data()) - static_cast<const char*>(lin.weight.raw_data()));
  for (float v : gw.to_vector()) EXPECT_EQ(v, 0.0f);  // allocate() zero-fills
  EXPECT_TRUE(throws_error([&] { layout.like({&gw}); }, {"1 slots for a layout of 2"}));
}

TEST(Arena, ChecksSizesBeforeAllocating) {
  Arena a;
  Tensor x, y;
  a.add("x", &x, {3, 5});
  a.add("mask", &y, {7}, DType::u8);
  EXPECT_EQ(a.bytes(), 64 + 64);
  a.allocate("test arena");
  EXPECT_EQ(x.shape(), (Shape{3, 5}));
  EXPECT_EQ(y.dtype(), DType::u8);
  EXPECT_EQ(static_cast<char*>(y.raw_data()) - static_cast<char*>(x.raw_data()), 64);
  Tensor z;
  Arena big;
  EXPECT_TRUE(throws_error([&] { big.add("huge.slot", &z, {int64_t{1} << 40}); }, {"huge.slot"}));
  EXPECT_TRUE(throws_error([&] { big.add("negative", &z, {-1, 2}); }, {"negative"}));
  EXPECT_FALSE(z.defined());
}

TEST(AttentionCapture, MhaWritesItsWeightsIntoTheSink) {
  MultiheadAttentionOptions o;
  o.embed_dim = 8;
  o.num_heads = 2;
  o.seed = 5;
  MultiheadAttention m(o);
  Rng rng(9);
  const Tensor q = randn({4, 2, 8}, rng), kv = randn({6, 2, 8}, rng);  // (L, N, E), (S, N, E)
  MhaForwardOptions plain;
  plain.average_attn_weights = false;
  const AttentionResult ref = m.forward(q, kv, kv, plain);  // weights (N, H, L, S)
  AttentionCapture capture;
  MhaForwardOptions captured = plain;
  captured.sink = &capture;
  captured.layer = 3;
  captured.kind = AttentionKind::cross;
  const AttentionResult got = m.forward(q, kv, kv, captured);
  const Tensor w = capture.get(3, AttentionKind::cross);
  ASSERT_TRUE(w.defined());
  EXPECT_EQ(w.shape(), (Shape{2, 2, 4, 6}));  // (N, H, L, S)
  EXPECT_EQ(w.to_vector(), ref.weights.to_vector());
  EXPECT_EQ(got.output.to_vector(), ref.output.to_vector());
  EXPECT_FALSE(capture.get(0, AttentionKind::self).defined());
  EXPECT_FALSE(m.last_weights.defined());  // nothing kept beside the sink
  // The weights the caller gets back are the sink's memory, not a copy.
  EXPECT_EQ(got.weights.raw_data(), w.raw_data());
  // A second call of the same shape reuses the same memory.
  m.forward(q, kv, kv, captured);
  EXPECT_EQ(capture.get(3, AttentionKind::cross).raw_data(), w.raw_data());
}

TEST(CausalMask, TopLeftAndBottomRightMatchTorch) {
  for (const auto& c : modules_fixture()["causal"]) {
    const int64_t L = c["L"], S = c["S"];
    for (auto [align, key] : {std::pair{CausalAlign::top_left, "top_left"}, {CausalAlign::bottom_right, "bottom_right"}}) {
      const Tensor m = causal_mask(L, S, align);
      const std::vector<int> want = c[key].get<std::vector<int>>();
      std::vector<int> got(m.data_u8(), m.data_u8() + m.numel());
      EXPECT_EQ(got, want) << key << " L=" << L << " S=" << S;
    }
  }
}

TEST(CausalMask, SdpaBottomRightEqualsTheExplicitMask) {
  Rng rng(4);
  for (auto [L, S] : {std::pair<int64_t, int64_t>{2, 5}, {5, 2}, {1, 6}, {4, 7}}) {
    const Tensor q = randn({2, L, 8}, rng), k = randn({2, S, 8}, rng), v = randn({2, S, 3}, rng);
    SdpaOptions causal;
    causal.is_causal = true;
    causal.causal_align = CausalAlign::bottom_right;
    SdpaOptions explicit_mask;
    const auto& fixture = modules_fixture()["causal"];
    for (const auto& c : fixture)
      if (c["L"] == L && c["S"] == S) {
        std::vector<uint8_t> m;
        for (int b : c["bottom_right"]) m.push_back(static_cast<uint8_t>(b));
        explicit_mask.attn_mask = Tensor::from_mask(m, {L, S});
      }
    ASSERT_TRUE(explicit_mask.attn_mask.defined());
    const AttentionResult a = scaled_dot_product_attention(q, k, v, causal);
    const AttentionResult b = scaled_dot_product_attention(q, k, v, explicit_mask);
    EXPECT_EQ(a.output.to_vector(), b.output.to_vector());
    EXPECT_EQ(a.weights.to_vector(), b.weights.to_vector());
  }
}

}  // namespace
}  // namespace attn
