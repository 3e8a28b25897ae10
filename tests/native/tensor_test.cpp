// Tensor core: shapes, strides, views sharing storage, copies and errors.
#include "core/tensor.hpp"
#include "ops/ops.hpp"
#include "testing.hpp"

namespace attn::testing {
namespace {

Tensor arange(const Shape& shape) {
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t.data()[i] = static_cast<float>(i);
  return t;
}

TEST(Tensor, ShapeStridesAndAlignment) {
  Tensor t = Tensor::zeros({2, 3, 4});
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u);
  EXPECT_EQ(t.size(-1), 4);
}

TEST(Tensor, TransposeIsAViewAndContiguousCopies) {
  Tensor t = arange({2, 3});
  Tensor tt = t.transpose(0, 1);
  EXPECT_EQ(tt.shape(), (Shape{3, 2}));
  EXPECT_FALSE(tt.is_contiguous());
  EXPECT_EQ(tt.at({2, 1}), 5.0f);
  t.data()[5] = 42.0f;
  EXPECT_EQ(tt.at({2, 1}), 42.0f) << "a view shares storage";
  Tensor c = tt.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.to_vector(), (std::vector<float>{0, 3, 1, 4, 2, 42}));
}

TEST(Tensor, ReshapeSliceSelectUnsqueeze) {
  Tensor t = arange({4, 6});
  Tensor r = t.reshape({2, -1, 3});
  EXPECT_EQ(r.shape(), (Shape{2, 4, 3}));
  EXPECT_EQ(r.at({1, 0, 2}), 14.0f);
  Tensor s = t.slice(1, 2, 5);
  EXPECT_EQ(s.shape(), (Shape{4, 3}));
  EXPECT_EQ(s.at({1, 0}), 8.0f);
  Tensor sr = s.reshape({12});  // non-contiguous: copies
  EXPECT_EQ(sr.to_vector()[3], 8.0f);
  Tensor row = t.select(0, -1);
  EXPECT_EQ(row.shape(), (Shape{6}));
  EXPECT_EQ(row.at({0}), 18.0f);
  EXPECT_EQ(t.unsqueeze(0).shape(), (Shape{1, 4, 6}));
  EXPECT_EQ(t.unsqueeze(-1).shape(), (Shape{4, 6, 1}));
  EXPECT_EQ(t.unsqueeze(0).squeeze(0).shape(), (Shape{4, 6}));
  EXPECT_EQ(t.permute({1, 0}).at({5, 3}), 23.0f);
}

TEST(Tensor, FromBlobDoesNotOwnOrCopy) {
  std::vector<float> buf = {1, 2, 3, 4};
  Tensor t = Tensor::from_blob(buf.data(), {2, 2});
  buf[3] = 9.0f;
  EXPECT_EQ(t.at({1, 1}), 9.0f);
}

TEST(Tensor, BoolTensorsAndConversion) {
  Tensor m = Tensor::from_mask({1, 0, 2, 0}, {2, 2});
  EXPECT_EQ(m.dtype(), DType::u8);
  EXPECT_EQ(m.at({1, 0}), 1.0f) << "nonzero stored as true";
  EXPECT_EQ(m.to(DType::f32).to_vector(), (std::vector<float>{1, 0, 1, 0}));
  EXPECT_TRUE(throws_error([&] { m.data(); }, {"expected float32", "bool"}));
}

TEST(Tensor, ExpandAndBroadcastCopy) {
  Tensor row = Tensor::from_vector({1, 2, 3}, {1, 3});
  Tensor e = row.expand({2, 3});
  EXPECT_EQ(e.strides()[0], 0);
  Tensor dst = Tensor::zeros({2, 3});
  dst.copy_(row);
  EXPECT_EQ(dst.to_vector(), (std::vector<float>{1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(broadcast_shapes({5, 1, 4}, {3, 1}, "t"), (Shape{5, 3, 4}));
}

TEST(Tensor, ErrorsNameTheProblem) {
  Tensor t = arange({2, 3});
  EXPECT_TRUE(throws_error([&] { t.reshape({4, 2}); }, {"reshape", "[4, 2]", "[2, 3]"}));
  EXPECT_TRUE(throws_error([&] { t.transpose(0, 2); }, {"transpose", "dim 2", "[2, 3]"}));
  EXPECT_TRUE(throws_error([&] { t.slice(1, 2, 5); }, {"slice", "[2, 5)"}));
  EXPECT_TRUE(throws_error([&] { Tensor::empty({-1, 3}); }, {"negative"}));
  EXPECT_TRUE(throws_error([&] { Tensor::empty({1 << 20, 1 << 20}); }, {"too large"}));
  EXPECT_TRUE(throws_error([] { broadcast_shapes({2, 3}, {4}, "add"); }, {"add", "[2, 3]", "[4]", "broadcast"}));
  EXPECT_TRUE(throws_error([] { Tensor::from_vector({1, 2, 3}, {2, 2}); }, {"3 values", "[2, 2]"}));
}

TEST(Ops, MatmulBroadcastsBatchDims) {
  Rng rng(3);
  Tensor a = randn({2, 1, 3, 5}, rng), b = randn({4, 5, 6}, rng);
  Tensor c = matmul(a, b);
  EXPECT_EQ(c.shape(), (Shape{2, 4, 3, 6}));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 4; ++j)
      for (int64_t m = 0; m < 3; ++m)
        for (int64_t n = 0; n < 6; ++n) {
          double ref = 0;
          for (int64_t k = 0; k < 5; ++k) ref += double(a.at({i, 0, m, k})) * b.at({j, k, n});
          EXPECT_NEAR(c.at({i, j, m, n}), ref, 1e-5);
        }
  Tensor bt = b.transpose(-1, -2).contiguous();
  EXPECT_TRUE(all_close(matmul_nt(a, bt), c, 1e-6f, 1e-6f));
  EXPECT_TRUE(throws_error([&] { matmul(a, a); }, {"matmul", "[2, 1, 3, 5]", "cannot be multiplied"}));
}

TEST(Ops, LinearMatchesDefinition) {
  Tensor x = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor w = Tensor::from_vector({1, 0, -1, 0.5f, 0.5f, 0.5f}, {2, 3});
  Tensor b = Tensor::from_vector({10, 20}, {2});
  EXPECT_EQ(linear(x, w, b).to_vector(), (std::vector<float>{8, 23, 8, 27.5f}));
  EXPECT_EQ(linear(x, w, Tensor()).to_vector(), (std::vector<float>{-2, 3, -2, 7.5f}));
  EXPECT_TRUE(throws_error([&] { linear(x, w.transpose(0, 1), b); }, {"linear", "3 features", "[3, 2]"}));
}

TEST(Ops, BroadcastingArithmetic) {
  Tensor a = Tensor::from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor col = Tensor::from_vector({10, 20}, {2, 1});
  Tensor row = Tensor::from_vector({1, 0, -1}, {3});
  EXPECT_EQ(add(a, col).to_vector(), (std::vector<float>{11, 12, 13, 24, 25, 26}));
  EXPECT_EQ(sub(col, a).to_vector(), (std::vector<float>{9, 8, 7, 16, 15, 14}));
  EXPECT_EQ(mul(a, row).to_vector(), (std::vector<float>{1, 0, -3, 4, 0, -6}));
  EXPECT_EQ(add(a.transpose(0, 1), row.unsqueeze(1)).to_vector(), (std::vector<float>{2, 5, 2, 5, 2, 5}));
  EXPECT_EQ(scale(a, 0.5f).to_vector()[5], 3.0f);
  EXPECT_TRUE(throws_error([&] { add(a, Tensor::zeros({4})); }, {"add", "[2, 3]", "[4]"}));
}

TEST(Ops, RowOpsAndCat) {
  Tensor x = Tensor::from_vector({1, 5, 2, -1, -3, -2}, {2, 3});
  EXPECT_EQ(sum_last(x).to_vector(), (std::vector<float>{8, -6}));
  EXPECT_EQ(max_last(x).to_vector(), (std::vector<float>{5, -1}));
  EXPECT_EQ(argmax_last(x).to_vector(), (std::vector<float>{1, 0}));
  Tensor s = softmax(x);
  EXPECT_NEAR(sum_last(s).at({0}), 1.0f, 1e-6f);
  Tensor c = cat({x, x.slice(1, 0, 1)}, 1);
  EXPECT_EQ(c.shape(), (Shape{2, 4}));
  EXPECT_EQ(c.at({1, 3}), -1.0f);
}

}  // namespace
}  // namespace attn::testing
