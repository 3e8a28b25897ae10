// Attention behaviour beyond the PyTorch fixtures: bad input gets an error that
// names the argument, hard/stochastic selection, dropout, masks, conveniences.
#include <cmath>
#include <cstring>

#include "attention/additive.hpp"
#include "attention/concat.hpp"
#include "attention/entropy.hpp"
#include "attention/multihead.hpp"
#include "attention/positional.hpp"
#include "attention/scaled_dot.hpp"
#include "attention/simple_mha.hpp"
#include "attention/squeeze_excitation.hpp"
#include "io/safetensors.hpp"
#include "testing.hpp"
#include "torch_fixtures.hpp"

namespace attn::testing {
namespace {

struct Qkv {
  Tensor q, k, v;
};
Qkv make_qkv(Shape qs, Shape ks, Shape vs, uint64_t seed = 1) {
  Rng rng(seed);
  return {randn(qs, rng), randn(ks, rng), randn(vs, rng)};
}

TEST(AttentionErrors, MismatchedFeatureSizes) {
  Qkv x = make_qkv({2, 5, 32}, {2, 7, 64}, {2, 7, 8});
  EXPECT_TRUE(throws_error([&] { scaled_dot_product_attention(x.q, x.k, x.v); },
                           {"scaled_dot_product_attention", "key has 64 features but query has 32"}));
  Qkv y = make_qkv({2, 5, 8}, {2, 7, 8}, {2, 6, 8});
  EXPECT_TRUE(throws_error([&] { scaled_dot_product_attention(y.q, y.k, y.v); }, {"key has 7 positions but value has 6"}));
  Qkv z = make_qkv({2, 5, 8}, {3, 7, 8}, {3, 7, 8});
  EXPECT_TRUE(throws_error([&] { scaled_dot_product_attention(z.q, z.k, z.v); }, {"do not broadcast"}));
  Qkv one = make_qkv({8}, {7, 8}, {7, 8});
  EXPECT_TRUE(throws_error([&] { scaled_dot_product_attention(one.q, one.k, one.v); }, {"query", "at least 2 dims"}));
}

TEST(AttentionErrors, EmbedDimNotDivisibleByHeads) {
  MultiheadAttentionOptions o;
  o.embed_dim = 10;
  o.num_heads = 3;
  EXPECT_TRUE(throws_error([&] { MultiheadAttention m(o); }, {"embed_dim (10) must be divisible by num_heads (3)"}));
  EXPECT_TRUE(throws_error([] { SimpleMultiHeadAttention m(10, 4); }, {"divisible"}));
  o.num_heads = 0;
  EXPECT_TRUE(throws_error([&] { MultiheadAttention m(o); }, {"num_heads must be positive"}));
}

TEST(AttentionErrors, MasksOfWrongShapeOrDtype) {
  Qkv x = make_qkv({2, 5, 8}, {2, 7, 8}, {2, 7, 8});
  SdpaOptions o;
  o.attn_mask = Tensor::zeros({5, 6}, DType::u8);
  EXPECT_TRUE(throws_error([&] { scaled_dot_product_attention(x.q, x.k, x.v, o); },
                           {"attn_mask has shape [5, 6]", "does not broadcast", "[2, 5, 7]"}));
  o.attn_mask = Tensor::zeros({5, 7});
  o.is_causal = true;
  EXPECT_TRUE(throws_error([&] { scaled_dot_product_attention(x.q, x.k, x.v, o); }, {"is_causal"}));
  o.is_causal = false;
  o.attn_mask = Tensor::full({5, 7}, NAN);
  EXPECT_TRUE(throws_error([&] { scaled_dot_product_attention(x.q, x.k, x.v, o); }, {"NaN"}));

  MultiheadAttentionOptions mo;
  mo.embed_dim = 8;
  mo.num_heads = 2;
  MultiheadAttention m(mo);
  Qkv y = make_qkv({5, 2, 8}, {7, 2, 8}, {7, 2, 8});
  MhaForwardOptions f;
  f.attn_mask = Tensor::zeros({7, 5}, DType::u8);
  EXPECT_TRUE(throws_error([&] { m.forward(y.q, y.k, y.v, f); }, {"attn_mask should have shape [5, 7] or [4, 5, 7]", "[7, 5]"}));
  f.attn_mask = Tensor();
  f.key_padding_mask = Tensor::zeros({7, 2}, DType::u8);
  EXPECT_TRUE(throws_error([&] { m.forward(y.q, y.k, y.v, f); }, {"key_padding_mask should have shape [2, 7]"}));
}

TEST(AttentionErrors, NaNInputsAndWrongModuleShapes) {
  Qkv x = make_qkv({2, 5, 8}, {2, 7, 8}, {2, 7, 8});
  x.k.data()[3] = NAN;
  EXPECT_TRUE(throws_error([&] { scaled_dot_product_attention(x.q, x.k, x.v); }, {"key contains NaN"}));
  MultiheadAttentionOptions mo;
  mo.embed_dim = 8;
  mo.num_heads = 2;
  MultiheadAttention m(mo);
  Qkv y = make_qkv({5, 2, 6}, {7, 2, 8}, {7, 2, 8});
  EXPECT_TRUE(throws_error([&] { m.forward(y.q, y.k, y.v); }, {"query has 6 features but embed_dim is 8"}));
  Qkv z = make_qkv({5, 2, 8}, {7, 2, 8}, {7, 2, 8});
  z.v.data()[0] = NAN;
  EXPECT_TRUE(throws_error([&] { m.forward(z.q, z.k, z.v); }, {"value contains NaN"}));
  z.v.data()[0] = 0.0f;
  MhaForwardOptions nan_masks;
  nan_masks.attn_mask = Tensor::full({5, 7}, NAN);
  EXPECT_TRUE(throws_error([&] { m.forward(z.q, z.k, z.v, nan_masks); }, {"MultiheadAttention: attn_mask contains NaN"}));
  nan_masks.attn_mask = Tensor();
  nan_masks.key_padding_mask = Tensor::full({2, 7}, NAN);
  EXPECT_TRUE(throws_error([&] { m.forward(z.q, z.k, z.v, nan_masks); }, {"MultiheadAttention: key_padding_mask contains NaN"}));
  ConcatAttention c(32, 32, 32, 64, 64);
  Qkv s = make_qkv({2, 1, 32}, {1, 1, 32}, {1, 32, 64});
  EXPECT_TRUE(throws_error([&] { c.forward(s.q, s.k, s.v); }, {"Q must have shape (1, n, features)", "[2, 1, 32]"}));
  SqueezeExcitation se(8, 4);
  EXPECT_TRUE(throws_error([&] { se.forward(Tensor::zeros({2, 6, 3, 3})); }, {"6 channels", "8"}));
  EXPECT_TRUE(throws_error([&] { apply_rope(Tensor::zeros({3, 5}), RopeStyle::interleaved); }, {"even"}));
}

TEST(AttentionErrors, StateDictProblemsAreNamedAndLeaveModuleUnchanged) {
  MultiheadAttentionOptions mo;
  mo.embed_dim = 8;
  mo.num_heads = 2;
  MultiheadAttention m(mo);
  StateDict sd = m.state_dict();
  StateDict good;
  for (auto& [k, v] : sd) good[k] = v.clone();
  const std::vector<float> before = m.in_proj_weight.to_vector();
  StateDict missing = good;
  missing.erase("in_proj_bias");
  EXPECT_TRUE(throws_error([&] { m.load_state_dict(missing); }, {"missing key 'in_proj_bias'"}));
  StateDict misshapen = good;
  misshapen["in_proj_weight"] = Tensor::zeros({24, 7});
  EXPECT_TRUE(throws_error([&] { m.load_state_dict(misshapen); }, {"'in_proj_weight' has shape [24, 7]", "[24, 8]"}));
  StateDict extra = good;
  extra["bias_k"] = Tensor::zeros({1, 1, 8});
  EXPECT_TRUE(throws_error([&] { m.load_state_dict(extra); }, {"unexpected key 'bias_k'"}));
  EXPECT_EQ(m.in_proj_weight.to_vector(), before);
}

TEST(AttentionBehaviour, MaskedPositionsGetZeroAndRowsSumToOne) {
  Qkv x = make_qkv({2, 4, 8}, {2, 6, 8}, {2, 6, 3});
  SdpaOptions o;
  o.is_causal = true;
  AttentionResult r = scaled_dot_product_attention(x.q, x.k, x.v, o);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t i = 0; i < 4; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < 6; ++j) {
        if (j > i) {
          EXPECT_EQ(r.weights.at({b, i, j}), 0.0f);
        }
        sum += r.weights.at({b, i, j});
      }
      EXPECT_NEAR(sum, 1.0, 1e-6);
    }
  // The seed-004 convention: a fully masked row is uniform (masked_fill with -1e9), not NaN.
  SimpleMultiHeadAttention s(8, 2);
  Qkv y = make_qkv({1, 3, 8}, {1, 3, 8}, {1, 3, 8});
  AttentionResult rs = s.forward(y.q, y.k, y.v, Tensor::zeros({3, 3}));
  for (float w : rs.weights.to_vector()) EXPECT_NEAR(w, 1.0f / 3, 1e-6f);
}

TEST(AttentionBehaviour, HardSelectionKeepsWhatItSays) {
  Qkv x = make_qkv({1, 6, 4}, {1, 9, 4}, {1, 9, 2});
  for (int64_t k : {1, 2, 5, 9, 20}) {
    SdpaOptions o;
    o.selection.kind = Selection::top_k;
    o.selection.k = k;
    Tensor w = scaled_dot_product_attention(x.q, x.k, x.v, o).weights;
    for (int64_t i = 0; i < 6; ++i) {
      int nonzero = 0;
      double sum = 0;
      for (int64_t j = 0; j < 9; ++j) {
        nonzero += w.at({0, i, j}) > 0;
        sum += w.at({0, i, j});
      }
      EXPECT_EQ(nonzero, std::min<int64_t>(k, 9)) << "k=" << k;
      EXPECT_NEAR(sum, 1.0, 1e-6);
    }
  }
  SdpaOptions bad;
  bad.selection.kind = Selection::top_k;
  bad.selection.k = 0;
  EXPECT_TRUE(throws_error([&] { scaled_dot_product_attention(x.q, x.k, x.v, bad); }, {"top_k needs k >= 1"}));
  EXPECT_TRUE(throws_error([] { parse_selection("hardest"); }, {"unknown kind 'hardest'"}));
}

TEST(AttentionBehaviour, StochasticHardAttentionIsSeededAndFollowsTheSoftDistribution) {
  Qkv x = make_qkv({1, 1, 4}, {1, 5, 4}, {1, 5, 1});
  const Tensor soft = scaled_dot_product_attention(x.q, x.k, x.v).weights;
  SdpaOptions o;
  o.selection.kind = Selection::sample;
  std::vector<int> counts(5, 0);
  for (uint64_t seed = 0; seed < 4000; ++seed) {
    o.selection.seed = seed;
    Tensor w = scaled_dot_product_attention(x.q, x.k, x.v, o).weights;
    int hot = -1;
    for (int j = 0; j < 5; ++j)
      if (w.at({0, 0, j}) == 1.0f) hot = j;
    ASSERT_GE(hot, 0) << "one-hot";
    counts[hot]++;
  }
  for (int j = 0; j < 5; ++j) EXPECT_NEAR(counts[j] / 4000.0, soft.at({0, 0, j}), 0.03) << "position " << j;
  o.selection.seed = 77;
  EXPECT_EQ(scaled_dot_product_attention(x.q, x.k, x.v, o).weights.to_vector(),
            scaled_dot_product_attention(x.q, x.k, x.v, o).weights.to_vector());
}

TEST(AttentionBehaviour, DropoutOnlyInTrainingAndUnbiased) {
  MultiheadAttentionOptions mo;
  mo.embed_dim = 8;
  mo.num_heads = 2;
  mo.dropout = 0.5f;
  MultiheadAttention m(mo);
  Qkv x = make_qkv({6, 1, 8}, {40, 1, 8}, {40, 1, 8});
  const Tensor eval_w = m.forward(x.q, x.k, x.v).weights;
  EXPECT_EQ(m.forward(x.q, x.k, x.v).weights.to_vector(), eval_w.to_vector()) << "eval mode: no dropout";
  m.train();
  const Tensor w = m.forward(x.q, x.k, x.v).weights;
  int zeros = 0;
  for (float v : m.last_weights.to_vector()) zeros += v == 0.0f;
  const double frac = zeros / double(m.last_weights.numel());
  EXPECT_NEAR(frac, 0.5, 0.06);
  double sum_eval = 0, sum_train = 0;
  for (float v : eval_w.to_vector()) sum_eval += v;
  for (float v : w.to_vector()) sum_train += v;
  EXPECT_NEAR(sum_train / sum_eval, 1.0, 0.1) << "kept weights are scaled by 1/(1-p)";
}

// torch.nn.MultiheadAttention (batch_first, no masks) written out in double from m's parameters:
// output (N, L, E) and head-averaged weights (N, L, S) of queries x attending to memory.
struct MhaReference {
  std::vector<double> output, weights;
};
MhaReference mha_reference(const MultiheadAttention& m, const Tensor& x_in, const Tensor& memory_in) {
  const Tensor x = x_in.contiguous(), mem = memory_in.contiguous();
  const int64_t N = x.size(0), L = x.size(1), S = mem.size(1), E = x.size(2), H = m.options().num_heads;
  const int64_t hd = E / H;
  // Row r of in_proj_weight: query features for r < E, key for E <= r < 2E, value above.
  auto project = [&](const float* v, int64_t r) {
    double s = m.in_proj_bias.data()[r];
    for (int64_t i = 0; i < E; ++i) s += double(m.in_proj_weight.data()[r * E + i]) * v[i];
    return s;
  };
  MhaReference ref{std::vector<double>(N * L * E), std::vector<double>(N * L * S)};
  for (int64_t n = 0; n < N; ++n)
    for (int64_t l = 0; l < L; ++l) {
      const float* q = x.data() + (n * L + l) * E;
      std::vector<double> heads(E);
      for (int64_t h = 0; h < H; ++h) {
        std::vector<double> w(S);
        double top = -INFINITY, total = 0;
        for (int64_t s = 0; s < S; ++s) {
          for (int64_t d = 0; d < hd; ++d)
            w[s] += project(q, h * hd + d) * project(mem.data() + (n * S + s) * E, E + h * hd + d);
          w[s] /= std::sqrt(double(hd));
          top = std::max(top, w[s]);
        }
        for (double& v : w) total += v = std::exp(v - top);
        for (int64_t s = 0; s < S; ++s) {
          w[s] /= total;
          ref.weights[(n * L + l) * S + s] += w[s] / H;
          for (int64_t d = 0; d < hd; ++d)
            heads[h * hd + d] += w[s] * project(mem.data() + (n * S + s) * E, 2 * E + h * hd + d);
        }
      }
      for (int64_t e = 0; e < E; ++e) {
        double o = m.out_proj.bias.data()[e];
        for (int64_t i = 0; i < E; ++i) o += double(m.out_proj.weight.data()[e * E + i]) * heads[i];
        ref.output[(n * L + l) * E + e] = o;
      }
    }
  return ref;
}

TEST(AttentionBehaviour, SelfAndCrossAttentionConveniences) {
  // self_attention(x) against PyTorch's nn.MultiheadAttention(x, x, x) with a causal mask (the
  // mha_self_causal fixture), given as attn_mask and as is_causal alone.
  int fixtures = 0;
  for (const TorchCase& c : torch_cases("mha")) {
    if (c.name != "mha_self_causal") continue;
    ++fixtures;
    MultiheadAttentionOptions so;
    so.embed_dim = c.meta["ctor"]["embed_dim"];
    so.num_heads = c.meta["ctor"]["num_heads"];
    so.batch_first = true;
    MultiheadAttention sm(so);
    sm.load_state_dict(c.params());
    MhaForwardOptions masked, causal;
    masked.attn_mask = c.get("attn_mask");
    causal.is_causal = true;
    for (const MhaForwardOptions& f : {masked, causal}) {
      AttentionResult r = sm.self_attention(c.get("q"), f);
      EXPECT_TRUE(all_close(r.output, c.get("out"), kTorchAtol, kTorchRtol)) << "is_causal " << f.is_causal;
      EXPECT_TRUE(all_close(r.weights, c.get("weights"), kTorchAtol, kTorchRtol)) << "is_causal " << f.is_causal;
    }
  }
  EXPECT_EQ(fixtures, 1) << "the mha_self_causal fixture";
  // cross_attention(x, memory) against the formula in double, with nonzero biases.
  MultiheadAttentionOptions mo;
  mo.embed_dim = 8;
  mo.num_heads = 2;
  mo.batch_first = true;
  MultiheadAttention m(mo);
  Rng rng(5);
  m.in_proj_bias = randn({24}, rng);
  m.out_proj.bias = randn({8}, rng);
  Qkv x = make_qkv({2, 5, 8}, {2, 3, 8}, {2, 3, 8});
  AttentionResult c = m.cross_attention(x.q, x.k);
  const MhaReference expected = mha_reference(m, x.q, x.k);
  EXPECT_EQ(c.output.shape(), (Shape{2, 5, 8}));
  EXPECT_EQ(c.weights.shape(), (Shape{2, 5, 3}));
  EXPECT_TRUE(all_close(c.output.contiguous().data(), expected.output.data(), expected.output.size(), kTorchAtol,
                        kTorchRtol));
  EXPECT_TRUE(all_close(c.weights.contiguous().data(), expected.weights.data(), expected.weights.size(), kTorchAtol,
                        kTorchRtol));
}

TEST(AttentionBehaviour, EntropyBounds) {
  Tensor uniform = Tensor::full({2, 8}, 1.0f / 8);
  Tensor onehot = Tensor::zeros({1, 8});
  onehot.data()[3] = 1.0f;
  EXPECT_NEAR(attention_entropy(uniform).at({0}), std::log(8.0), 1e-6);
  EXPECT_EQ(attention_entropy(onehot).at({0}), 0.0f);
}

TEST(Safetensors, RoundTripAndHostileFiles) {
  StateDict sd{{"a", Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3})}, {"m", Tensor::from_mask({1, 0}, {2})}};
  std::vector<uint8_t> bytes = io::save_safetensors(sd, {{"k", "v"}});
  io::SafetensorsFile f = io::parse_safetensors(bytes.data(), bytes.size());
  EXPECT_EQ(f.tensors.at("a").to_vector(), sd.at("a").to_vector());
  EXPECT_EQ(f.tensors.at("m").dtype(), DType::u8);
  EXPECT_EQ(f.metadata.at("k"), "v");
  // Truncated at every length: an error, never a crash.
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_THROW(io::parse_safetensors(bytes.data(), n), Error) << "truncated to " << n;
  }
  auto with_header = [](const std::string& h, size_t data_bytes) {
    std::vector<uint8_t> b(8 + h.size() + data_bytes, 0);
    uint64_t n = h.size();
    std::memcpy(b.data(), &n, 8);
    std::memcpy(b.data() + 8, h.data(), h.size());
    return b;
  };
  auto parse = [](const std::vector<uint8_t>& b) { io::parse_safetensors(b.data(), b.size()); };
  EXPECT_TRUE(throws_error([&] { parse(with_header("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8)); },
                           {"'x'", "8 bytes", "needs 16"}));
  EXPECT_TRUE(throws_error([&] { parse(with_header("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,800]}}", 8)); },
                           {"'x'", "outside"}));
  EXPECT_TRUE(throws_error([&] { parse(with_header("{\"x\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8)); },
                           {"unsupported dtype C64"}));
  EXPECT_TRUE(throws_error([&] { parse(with_header("{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8)); },
                           {"'x'"}));
  EXPECT_TRUE(throws_error([&] { parse(with_header("{not json", 0)); }, {"not valid JSON"}));
  std::vector<uint8_t> huge(16, 0xff);
  EXPECT_TRUE(throws_error([&] { parse(huge); }, {"header length"}));
}

}  // namespace
}  // namespace attn::testing

namespace attn::testing {
namespace {

TEST(Positional, LearnedEmbeddingAddsRowsAtTheOffset) {
  LearnedPositionalEmbedding pe(6, 3);
  std::vector<float> w(18);
  for (int i = 0; i < 18; ++i) w[i] = static_cast<float>(i);
  pe.load_state_dict({{"weight", Tensor::from_vector(w, {6, 3})}});
  Tensor x = Tensor::full({2, 2, 3}, 0.5f);
  Tensor y = pe.forward(x, 3);  // rows 3 and 4 of the table, for both batch entries
  EXPECT_EQ(y.to_vector(), (std::vector<float>{9.5f, 10.5f, 11.5f, 12.5f, 13.5f, 14.5f, 9.5f, 10.5f, 11.5f, 12.5f,
                                               13.5f, 14.5f}));
  EXPECT_TRUE(throws_error([&] { pe.forward(x, 5); }, {"positions [5, 7) exceed max_len 6"}));
  EXPECT_TRUE(throws_error([&] { pe.forward(Tensor::zeros({2, 4}), 0); }, {"(..., L, 3)"}));
}

TEST(Positional, SinusoidalAddsTheTableAndRopePreservesNorms) {
  // x + PE[offset + l] against the formula in double: PE[pos, 2i] = sin(pos / 10000^(2i/d)),
  // PE[pos, 2i+1] = cos(same). Float rounds twice (PE, then the sum): within 1e-6 for |x + PE| <= 5.
  constexpr double kTwoRoundingsAtol = 1e-6;
  Rng pe_rng(4);
  for (int64_t d : {6, 5})
    for (int64_t offset : {0, 2, 37}) {
      Tensor x = randn({2, 4, d}, pe_rng);
      std::vector<double> expected(x.numel());
      for (int64_t i = 0; i < x.numel(); ++i) {
        const int64_t pos = offset + i / d % 4, col = i % d;
        const double angle = pos / std::pow(10000.0, double(col - col % 2) / d);
        expected[i] = x.data()[i] + (col % 2 ? std::cos(angle) : std::sin(angle));
      }
      EXPECT_TRUE(all_close(add_sinusoidal(x, offset).data(), expected.data(), expected.size(), kTwoRoundingsAtol, 0))
          << "d=" << d << " offset=" << offset;
    }
  Rng rng(3);
  Tensor v = randn({2, 5, 8}, rng);
  for (RopeStyle s : {RopeStyle::interleaved, RopeStyle::half_split}) {
    Tensor r = apply_rope(v, s, 7);
    for (int64_t row = 0; row < 10; ++row) {
      double a = 0, b = 0;
      for (int64_t j = 0; j < 8; ++j) {
        a += double(v.data()[row * 8 + j]) * v.data()[row * 8 + j];
        b += double(r.data()[row * 8 + j]) * r.data()[row * 8 + j];
      }
      EXPECT_NEAR(a, b, 1e-4) << "a rotation keeps the norm";
    }
    // Position 0 is the identity.
    EXPECT_TRUE(all_close(apply_rope(v.slice(1, 0, 1), s, 0), v.slice(1, 0, 1).contiguous(), 0, 0));
  }
}

}  // namespace
}  // namespace attn::testing
