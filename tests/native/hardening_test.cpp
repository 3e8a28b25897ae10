// Regression tests for the hostile-input findings of the core-hardening issue:
// sizes that wrapped wasm32's 32-bit size_t, division by zero on empty feature
// dims, stride overflow, zero-size work, and the PyTorch >= 2.5 semantics of
// fully masked rows. Every size test runs under an explicit 1 GiB per-tensor
// budget so it behaves the same natively and in wasm, and each must throw an
// attn::Error naming what it was about to allocate, before allocating it (the
// bindings then prefix the JS function's name; tests/js/hardening.test.mjs).
#include <cmath>
#include <limits>
#include <set>

#include "attention/additive.hpp"
#include "attention/dot.hpp"
#include "attention/entropy.hpp"
#include "attention/multihead.hpp"
#include "attention/positional.hpp"
#include "attention/scaled_dot.hpp"
#include "attention/squeeze_excitation.hpp"
#include "ops/ops.hpp"
#include "testing.hpp"

namespace attn::testing {
namespace {

constexpr int64_t kMax32 = (int64_t{1} << 31) - 1;

// Sets the per-tensor byte budget for one test and restores it afterwards.
struct BudgetScope {
  uint64_t saved = max_tensor_bytes();
  explicit BudgetScope(uint64_t bytes) { set_max_tensor_bytes(bytes); }
  ~BudgetScope() { set_max_tensor_bytes(saved); }
};

TEST(Hardening, ByteCountsAreCheckedIn64BitsAgainstTheBudget) {
  BudgetScope budget(uint64_t{1} << 30);
  // 2^30 floats = 4 GiB: on wasm32 4 * 2^30 wrapped to 0 bytes before.
  EXPECT_TRUE(throws_error([] { Tensor::empty({int64_t{1} << 30}); }, {"tensor [1073741824] would need 4.0 GiB",
                                                                         "per-tensor limit of 1.0 GiB"}));
  EXPECT_TRUE(throws_error([] { Tensor::empty({kMax32}); }, {"would need 8.0 GiB"}));
  EXPECT_TRUE(throws_error([] { Tensor::zeros({32768, 32768}, DType::f32, "my_op: output"); },
                           {"my_op: output [32768, 32768] would need 4.0 GiB"}));
  {  // The budget is inclusive, and bool tensors are 1 byte per element.
    BudgetScope small(1 << 20);
    EXPECT_NO_THROW(Tensor::empty({1 << 20}, DType::u8));
    EXPECT_TRUE(throws_error([] { Tensor::empty({(1 << 20) + 1}, DType::u8); }, {"1048577 bytes"}));
  }
  EXPECT_TRUE(throws_error([] { Storage s((uint64_t{1} << 32) + 64); }, {"more than the per-tensor limit"}));
  EXPECT_TRUE(throws_error([] { set_max_tensor_bytes(0); }, {"set_max_tensor_bytes"}));
}

TEST(Hardening, ShapesWhoseStridesOverflowAreRejected) {
  // numel is 0, but the strides (computed with max(d, 1)) would overflow int64 (UBSan finding).
  const Shape hostile{0, 3, kMax32, kMax32};
  EXPECT_TRUE(throws_error([&] { checked_numel(hostile, "header shape"); }, {"header shape [0, 3, 2147483647, 2147483647] is too large"}));
  EXPECT_TRUE(throws_error([&] { Tensor::empty(hostile); }, {"too large"}));
  EXPECT_TRUE(throws_error([&] { contiguous_strides(hostile); }, {"too large"}));
  EXPECT_TRUE(throws_error([] { checked_numel({2, -1}, "shape"); }, {"negative dimension"}));
  EXPECT_EQ(checked_numel({0, 5, 1 << 20}, "shape"), 0);
  EXPECT_TRUE(throws_error([] { checked_mul(kMax32, 2, "rows x cols"); }, {"rows x cols", "too large"}));
}

TEST(Hardening, EveryReportedOversizeCallFailsByName) {
  BudgetScope budget(uint64_t{1} << 30);
  EXPECT_TRUE(throws_error([] { sinusoidal_table(32768, 32768); }, {"sinusoidal_table", "would need 4.0 GiB"}));
  EXPECT_TRUE(throws_error([] { alibi_bias(1, 32768, 32768); }, {"alibi_bias", "would need 4.0 GiB"}));
  // 2^32 heads: std::vector<float>(n) truncated n to 0 on wasm32 and then wrote from address 0.
  EXPECT_TRUE(throws_error([] { alibi_bias(int64_t{1} << 32, 1, 1); }, {"alibi_bias"}));
  EXPECT_TRUE(throws_error([] { alibi_slopes(int64_t{1} << 32); }, {"alibi_slopes: num_heads must be in [1, 2^24]"}));
  EXPECT_TRUE(throws_error([] { matmul(Tensor::zeros({32768, 1}), Tensor::zeros({1, 32768})); }, {"matmul", "4.0 GiB"}));
  // [1, 0] @ [0, 2^30] -> [1, 2^30]: used to come back backed by 64 bytes.
  EXPECT_TRUE(throws_error([] { matmul(Tensor::zeros({1, 0}), Tensor::zeros({0, int64_t{1} << 30})); }, {"matmul"}));
  const Tensor e = Tensor::zeros({32768, 0});
  EXPECT_TRUE(throws_error([&] { scaled_dot_product_attention(e, e, e); }, {"4.0 GiB"}));
  EXPECT_TRUE(throws_error([] { attention_entropy(Tensor::zeros({int64_t{1} << 30, 0})); }, {"4.0 GiB"}));
  MultiheadAttentionOptions o;
  o.embed_dim = 18919;  // in_proj_weight (3E, E): 4.3 GB
  EXPECT_TRUE(throws_error([&] { MultiheadAttention m(o); }, {"would need"}));
  EXPECT_TRUE(throws_error([] { AdditiveAttention m(kMax32, 3, 1); }, {"would need 8.0 GiB"}));
  EXPECT_TRUE(throws_error([] { BasicAttention m(32768); }, {"would need 4.0 GiB"}));
  EXPECT_TRUE(throws_error([] { SqueezeExcitation m(30000, 2); }, {"would need"}));
}

TEST(Hardening, EmptyFeatureDimsAndEmptyWork) {
  // apply_rope with d = 0 divided by zero (a wasm trap, SIGFPE natively).
  Tensor r = apply_rope(Tensor::zeros({3, 0}), RopeStyle::interleaved);
  EXPECT_EQ(r.shape(), (Shape{3, 0}));
  EXPECT_EQ(apply_rope(Tensor::zeros({2, 0, 4}), RopeStyle::half_split).shape(), (Shape{2, 0, 4}));
  // A batch of 2^31 - 1 empty products is no work (it ran 22 s before).
  EXPECT_EQ(matmul(Tensor::zeros({kMax32, 0, 1}), Tensor::zeros({1, 1})).shape(), (Shape{kMax32, 0, 1}));
  // K = 0: a sum over nothing is 0, as torch.matmul gives.
  Tensor z = matmul(Tensor::zeros({2, 0}), Tensor::zeros({0, 3}));
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  for (float v : z.to_vector()) EXPECT_EQ(v, 0.0f);
  Tensor lin = linear(Tensor::zeros({4, 0}), Tensor::zeros({2, 0}), Tensor::from_vector({1.5f, -2.0f}, {2}));
  EXPECT_EQ(lin.to_vector(), (std::vector<float>{1.5f, -2.0f, 1.5f, -2.0f, 1.5f, -2.0f, 1.5f, -2.0f}));
  // Empty tensors are contiguous (PyTorch): SDPA over an empty key sequence gives zeros, not "internal" errors.
  EXPECT_TRUE(Tensor::zeros({5, 0}).is_contiguous());
  EXPECT_TRUE(Tensor::zeros({5, 0, 3}).transpose(0, 2).is_contiguous());
  Rng rng(3);
  const Tensor q = randn({2, 3, 4}, rng);
  AttentionResult a = scaled_dot_product_attention(q, Tensor::zeros({2, 0, 4}), Tensor::zeros({2, 0, 5}));
  EXPECT_EQ(a.weights.shape(), (Shape{2, 3, 0}));
  EXPECT_EQ(a.output.shape(), (Shape{2, 3, 5}));
  for (float v : a.output.to_vector()) EXPECT_EQ(v, 0.0f);
}

// softmax of one row, in double, as the reference for the selection tests.
std::vector<double> softmax_ref(const std::vector<double>& z) {
  double m = -INFINITY, s = 0;
  for (double v : z) m = std::max(m, v);
  std::vector<double> out(z.size());
  for (size_t i = 0; i < z.size(); ++i) s += out[i] = std::exp(z[i] - m);
  for (double& v : out) v /= s;
  return out;
}

TEST(Semantics, FullyMaskedSdpaRowsAreZeroAsInTorch25) {
  Rng rng(5);
  const Tensor q = randn({1, 3, 4}, rng), k = randn({1, 4, 4}, rng), v = randn({1, 4, 2}, rng);
  Tensor keep = Tensor::full({3, 4}, 1.0f).to(DType::u8);
  for (int64_t j = 0; j < 4; ++j) keep.data_u8()[1 * 4 + j] = 0;  // query 1 sees nothing
  SdpaOptions o;
  o.attn_mask = keep;
  AttentionResult r = scaled_dot_product_attention(q, k, v, o);
  for (int64_t j = 0; j < 4; ++j) EXPECT_EQ(r.weights.at({0, 1, j}), 0.0f);
  for (int64_t e = 0; e < 2; ++e) EXPECT_EQ(r.output.at({0, 1, e}), 0.0f);
  double sum = 0;
  for (int64_t j = 0; j < 4; ++j) sum += r.weights.at({0, 0, j});
  EXPECT_NEAR(sum, 1.0, 1e-6) << "other rows are untouched";
  // A float mask of -inf everywhere in a row counts too; a row with one finite score does not.
  Tensor add = Tensor::zeros({3, 4});
  for (int64_t j = 0; j < 4; ++j) add.data()[2 * 4 + j] = -INFINITY;
  add.data()[0 * 4 + 3] = -INFINITY;
  SdpaOptions f;
  f.attn_mask = add;
  AttentionResult rf = scaled_dot_product_attention(q, k, v, f);
  for (int64_t j = 0; j < 4; ++j) EXPECT_EQ(rf.weights.at({0, 2, j}), 0.0f);
  EXPECT_GT(rf.weights.at({0, 0, 0}), 0.0f);
}

TEST(Semantics, MultiheadFullyMaskedRowsNaNWithWeightsZeroWithout) {
  MultiheadAttentionOptions mo;
  mo.embed_dim = 4;
  mo.num_heads = 2;
  mo.batch_first = true;
  MultiheadAttention m(mo);
  for (int64_t i = 0; i < 4; ++i) m.out_proj.bias.data()[i] = 0.25f * (i + 1);
  Rng rng(9);
  const Tensor x = randn({1, 3, 4}, rng);
  MhaForwardOptions f;
  f.key_padding_mask = Tensor::full({1, 3}, 1.0f).to(DType::u8);  // every key ignored
  AttentionResult with = m.forward(x, x, x, f);
  for (float w : with.weights.to_vector()) EXPECT_TRUE(std::isnan(w)) << "torch: need_weights=True gives NaN";
  f.need_weights = false;
  AttentionResult without = m.forward(x, x, x, f);
  EXPECT_FALSE(without.weights.defined());
  for (float w : m.last_weights.to_vector()) EXPECT_EQ(w, 0.0f);
  // Zero attention output, so the module's output is out_proj's bias alone.
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t e = 0; e < 4; ++e) EXPECT_FLOAT_EQ(without.output.at({0, i, e}), 0.25f * (e + 1));
}

TEST(Semantics, HardSelectionWithoutRenormalisationKeepsSoftWeights) {
  const std::vector<double> z{0.3, -1.2, 2.0, 0.9, 0.1};
  const std::vector<double> soft = softmax_ref(z);
  std::vector<float> zf(z.begin(), z.end());
  // q = [1], keys = z: scores are z exactly (scale 1).
  const Tensor q = Tensor::from_vector({1.0f}, {1, 1}), k = Tensor::from_vector(zf, {5, 1});
  const Tensor v = Tensor::from_vector({1, 2, 3, 4, 5}, {5, 1});
  SdpaOptions o;
  o.scale = 1.0f;
  o.selection.kind = Selection::top_k;
  o.selection.k = 2;
  o.selection.renormalize = false;
  std::vector<float> w = scaled_dot_product_attention(q, k, v, o).weights.to_vector();
  const std::vector<double> want{0, 0, soft[2], soft[3], 0};
  for (int j = 0; j < 5; ++j) EXPECT_NEAR(w[j], want[j], 1e-6) << j;
  o.selection.renormalize = true;
  w = scaled_dot_product_attention(q, k, v, o).weights.to_vector();
  for (int j = 0; j < 5; ++j) EXPECT_NEAR(w[j], want[j] / (soft[2] + soft[3]), 1e-6) << j;
  o.selection.kind = Selection::argmax;
  o.selection.renormalize = false;
  w = scaled_dot_product_attention(q, k, v, o).weights.to_vector();
  for (int j = 0; j < 5; ++j) EXPECT_NEAR(w[j], j == 2 ? soft[2] : 0.0, 1e-6) << j;
  o.selection.kind = Selection::threshold;
  o.selection.threshold = 0.2f;
  w = scaled_dot_product_attention(q, k, v, o).weights.to_vector();
  for (int j = 0; j < 5; ++j) EXPECT_NEAR(w[j], soft[j] >= 0.2 ? soft[j] : 0.0, 1e-6) << j;
}

TEST(Semantics, SamplingFromACallerGeneratorDrawsFreshPositions) {
  const Tensor q = Tensor::from_vector({0.0f}, {1, 1}), k = Tensor::zeros({64, 1}), v = Tensor::zeros({64, 1});
  SdpaOptions o;
  o.selection.kind = Selection::sample;
  Rng stream(42, kSampleStream);
  o.selection.rng = &stream;
  // Uniform weights over 64 keys: 8 draws from one stream are not all the same position.
  std::set<int64_t> picks;
  for (int i = 0; i < 8; ++i) picks.insert(static_cast<int64_t>(argmax_last(scaled_dot_product_attention(q, k, v, o).weights).to_vector()[0]));
  EXPECT_GT(picks.size(), 1u);
  o.selection.rng = nullptr;
  o.selection.seed = 7;
  EXPECT_EQ(scaled_dot_product_attention(q, k, v, o).weights.to_vector(),
            scaled_dot_product_attention(q, k, v, o).weights.to_vector());
}

}  // namespace
}  // namespace attn::testing
