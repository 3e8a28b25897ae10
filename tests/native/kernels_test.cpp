// Every SIMD kernel against its scalar twin, for sizes around the vector width
// (1 ... 3W+1, odd and larger sizes, 0 where legal) and special values.
#include <limits>

#include "kernels/activation.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/gemm.hpp"
#include "kernels/norm.hpp"
#include "kernels/reduce.hpp"
#include "kernels/simd_info.hpp"
#include "kernels/softmax.hpp"
#include "kernels/transpose.hpp"
#include "testing.hpp"

namespace attn::testing {
namespace {

using namespace attn::kernels;
constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(Kernels, ReportsArch) {
  std::printf("kernels compiled for %s, %zu floats per vector\n", simd_arch_name(), simd_width());
  EXPECT_GE(simd_width(), 4u);
}

struct UnaryCase {
  const char* name;
  UnaryKernel simd, scalar;
};
const UnaryCase kUnary[] = {
#define ATTN_UNARY_CASE(name, torch_name) {#name, f32_##name, f32_##name##__scalar},
    ATTN_UNARY_KERNELS(ATTN_UNARY_CASE)
#undef ATTN_UNARY_CASE
};

class UnaryKernels : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(UnaryKernels, MatchScalarTwinAcrossSizes) {
  const UnaryCase& k = GetParam();
  Rng rng(7);
  for (size_t n : sizes_around_width()) {
    std::vector<float> x = random_vector(n, rng, -6.0f, 6.0f), a(n), b(n);
    k.simd(n, x.data(), a.data());
    k.scalar(n, x.data(), b.data());
    EXPECT_TRUE(all_close(a, b, kElementwiseAtol, kElementwiseRtol)) << k.name << " n=" << n;
    // In place gives the same result.
    std::vector<float> inplace = x;
    k.simd(n, inplace.data(), inplace.data());
    EXPECT_EQ(inplace, a) << k.name << " in place, n=" << n;
  }
}

TEST_P(UnaryKernels, SpecialValues) {
  const UnaryCase& k = GetParam();
  std::vector<float> x = {0.0f, -0.0f, kInf, -kInf, NAN, 80.0f, -80.0f, 1e-30f, -1e-30f, 15.0f, -15.0f};
  std::vector<float> a(x.size()), b(x.size());
  k.simd(x.size(), x.data(), a.data());
  k.scalar(x.size(), x.data(), b.data());
  EXPECT_TRUE(all_close(a, b, kElementwiseAtol, kElementwiseRtol)) << k.name;
  EXPECT_TRUE(std::isnan(a[4])) << k.name << " must propagate NaN";
}

INSTANTIATE_TEST_SUITE_P(Registry, UnaryKernels, ::testing::ValuesIn(kUnary),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Kernels, KnownActivationValues) {
  // Values computed independently (Python math module), not by the code under test.
  const float x[] = {-1.0f, 0.5f, 2.0f};
  float y[3];
  f32_sigmoid(3, x, y);
  EXPECT_NEAR(y[0], 0.2689414213699951f, 1e-6f);
  EXPECT_NEAR(y[2], 0.8807970779778823f, 1e-6f);
  f32_gelu_erf(3, x, y);
  EXPECT_NEAR(y[0], -0.15865525393145707f, 1e-6f);
  EXPECT_NEAR(y[1], 0.34573123063700656f, 1e-6f);
  f32_gelu_tanh(3, x, y);
  EXPECT_NEAR(y[2], 1.9545976940871754f, 1e-6f);
  f32_relu(3, x, y);
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[1], 0.5f);
}

TEST(Kernels, BinaryMatchScalarTwin) {
  Rng rng(11);
  for (size_t n : sizes_around_width()) {
    std::vector<float> a = random_vector(n, rng), b = random_vector(n, rng), y1(n), y2(n);
#define ATTN_CHECK_BINARY(name, op)                                             \
  f32_##name(n, a.data(), b.data(), y1.data());                                 \
  f32_##name##__scalar(n, a.data(), b.data(), y2.data());                       \
  EXPECT_EQ(y1, y2) << #name " n=" << n;                                        \
  f32_##name##_scalar_b(n, a.data(), 1.75f, y1.data());                         \
  f32_##name##_scalar_b__scalar(n, a.data(), 1.75f, y2.data());                 \
  EXPECT_EQ(y1, y2) << #name "_scalar_b n=" << n;
    ATTN_BINARY_KERNELS(ATTN_CHECK_BINARY)
#undef ATTN_CHECK_BINARY
    std::vector<float> s1 = b, s2 = b;
    f32_axpy(n, -0.5f, a.data(), s1.data());
    f32_axpy__scalar(n, -0.5f, a.data(), s2.data());
    EXPECT_EQ(s1, s2) << "axpy n=" << n;
  }
}

TEST(Kernels, ReductionsMatchScalarTwin) {
  Rng rng(13);
  for (size_t n : sizes_around_width()) {
    std::vector<float> x = random_vector(n, rng), z = random_vector(n, rng);
    const float tol = kReductionRtol * (1.0f + n);
    EXPECT_NEAR(f32_sum(n, x.data()), f32_sum__scalar(n, x.data()), tol) << "sum n=" << n;
    EXPECT_NEAR(f32_dot(n, x.data(), z.data()), f32_dot__scalar(n, x.data(), z.data()), tol * 3) << "dot n=" << n;
    EXPECT_EQ(f32_max(n, x.data()), f32_max__scalar(n, x.data())) << "max n=" << n;
    EXPECT_EQ(f32_argmax(n, x.data()), f32_argmax__scalar(n, x.data())) << "argmax n=" << n;
  }
}

TEST(Kernels, ReductionSpecialValues) {
  std::vector<float> x = {1.0f, 3.0f, -kInf, 3.0f, 2.0f, 0.0f, 1.0f};
  EXPECT_EQ(f32_argmax(x.size(), x.data()), 1u) << "first index of the max";
  x[5] = kInf;
  EXPECT_EQ(f32_max(x.size(), x.data()), kInf);
  EXPECT_EQ(f32_argmax(x.size(), x.data()), 5u);
  x[6] = NAN;
  EXPECT_TRUE(std::isnan(f32_max(x.size(), x.data())));
  EXPECT_EQ(f32_argmax(x.size(), x.data()), 6u) << "NaN is the max, as in torch.argmax";
  EXPECT_TRUE(std::isnan(f32_sum(x.size(), x.data())));
  EXPECT_EQ(f32_sum(0, x.data()), 0.0f);
  EXPECT_EQ(f32_max(0, x.data()), -kInf);
}

TEST(Kernels, SoftmaxMatchesScalarTwinWithMasks) {
  Rng rng(17);
  for (size_t n : sizes_around_width(false)) {
    std::vector<float> x = random_vector(n, rng, -10.0f, 10.0f), add = random_vector(n, rng);
    std::vector<uint8_t> keep(n);
    for (size_t i = 0; i < n; ++i) keep[i] = (i % 3 != 1) || n == 1;
    for (int variant = 0; variant < 4; ++variant) {
      const float* am = variant & 1 ? add.data() : nullptr;
      const uint8_t* km = variant & 2 ? keep.data() : nullptr;
      std::vector<float> a(n), b(n), la(n), lb(n);
      f32_softmax(n, x.data(), 0.37f, am, km, a.data());
      f32_softmax__scalar(n, x.data(), 0.37f, am, km, b.data());
      EXPECT_TRUE(all_close(a, b, kElementwiseAtol, kReductionRtol)) << "softmax n=" << n << " variant " << variant;
      double total = 0;
      for (float v : a) total += v;
      EXPECT_NEAR(total, 1.0, 1e-5) << "rows sum to 1, n=" << n;
      if (km) {
        for (size_t i = 0; i < n; ++i) {
          if (!keep[i]) {
            EXPECT_EQ(a[i], 0.0f) << "masked position gets exactly 0";
          }
        }
      }
      f32_log_softmax(n, x.data(), 0.37f, am, km, la.data());
      f32_log_softmax__scalar(n, x.data(), 0.37f, am, km, lb.data());
      EXPECT_TRUE(all_close(la, lb, 1e-5f, kReductionRtol)) << "log_softmax n=" << n << " variant " << variant;
    }
  }
}

TEST(Kernels, SoftmaxIsStableForLargeMagnitudes) {
  std::vector<float> x = {1e30f, 1e30f - 1e24f, -1e30f, 88.0f, 1e30f};
  std::vector<float> y(x.size());
  f32_softmax(x.size(), x.data(), 1.0f, nullptr, nullptr, y.data());
  for (float v : y) EXPECT_FALSE(std::isnan(v));
  EXPECT_NEAR(y[0], 0.5f, 1e-6f);
  EXPECT_NEAR(y[4], 0.5f, 1e-6f);
  EXPECT_EQ(y[2], 0.0f);
  std::vector<float> big(37, 1000.0f);
  f32_softmax(big.size(), big.data(), 1.0f, nullptr, nullptr, big.data());
  for (float v : big) EXPECT_NEAR(v, 1.0f / 37, 1e-7f);
}

TEST(Kernels, SoftmaxSpecialValuesFollowPyTorch) {
  // torch.softmax(torch.tensor([-inf, -inf])) -> nan, nan; a NaN anywhere poisons the row; -inf alone gives 0.
  for (size_t n : {1u, 3u, 4u, 9u}) {
    std::vector<float> all_masked(n, -kInf), y(n), r(n);
    f32_softmax(n, all_masked.data(), 1.0f, nullptr, nullptr, y.data());
    for (float v : y) EXPECT_TRUE(std::isnan(v)) << "fully masked row, n=" << n;
    std::vector<uint8_t> none(n, 0);
    std::vector<float> x(n, 1.0f);
    f32_softmax(n, x.data(), 1.0f, nullptr, none.data(), y.data());
    for (float v : y) EXPECT_TRUE(std::isnan(v)) << "fully masked by keep, n=" << n;
    x[n / 2] = NAN;
    f32_softmax(n, x.data(), 1.0f, nullptr, nullptr, y.data());
    f32_softmax__scalar(n, x.data(), 1.0f, nullptr, nullptr, r.data());
    for (size_t i = 0; i < n; ++i) {
      EXPECT_TRUE(std::isnan(y[i])) << "NaN propagates, n=" << n;
      EXPECT_TRUE(std::isnan(r[i]));
    }
  }
  std::vector<float> x = {0.0f, -kInf, 1.0f};
  std::vector<float> y(3);
  f32_softmax(3, x.data(), 1.0f, nullptr, nullptr, y.data());
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_NEAR(y[2], 0.7310585786300049f, 1e-6f);
}

TEST(Kernels, NormsMatchScalarTwin) {
  Rng rng(19);
  for (size_t n : sizes_around_width(false)) {
    std::vector<float> x = random_vector(n, rng, -4.0f, 5.0f), g = random_vector(n, rng), b = random_vector(n, rng);
    std::vector<float> y1(n), y2(n);
    float m1, m2, r1, r2;
    f32_layernorm(n, x.data(), g.data(), b.data(), 1e-5f, y1.data(), &m1, &r1);
    f32_layernorm__scalar(n, x.data(), g.data(), b.data(), 1e-5f, y2.data(), &m2, &r2);
    EXPECT_TRUE(all_close(y1, y2, 1e-5f, kReductionRtol)) << "layernorm n=" << n;
    EXPECT_NEAR(m1, m2, 1e-5f);
    EXPECT_NEAR(r1, r2, 1e-4f * r2);
    f32_layernorm(n, x.data(), nullptr, nullptr, 1e-5f, y1.data(), nullptr, nullptr);
    f32_layernorm__scalar(n, x.data(), nullptr, nullptr, 1e-5f, y2.data(), nullptr, nullptr);
    EXPECT_TRUE(all_close(y1, y2, 1e-5f, kReductionRtol)) << "layernorm without affine n=" << n;
    f32_rmsnorm(n, x.data(), g.data(), 1e-6f, y1.data(), &r1);
    f32_rmsnorm__scalar(n, x.data(), g.data(), 1e-6f, y2.data(), &r2);
    EXPECT_TRUE(all_close(y1, y2, 1e-5f, kReductionRtol)) << "rmsnorm n=" << n;
  }
  // A constant row normalises to beta (variance 0, eps keeps it finite).
  std::vector<float> c(13, 3.0f), y(13);
  f32_layernorm(13, c.data(), nullptr, nullptr, 1e-5f, y.data(), nullptr, nullptr);
  for (float v : y) EXPECT_EQ(v, 0.0f);
}

TEST(Kernels, TransposeMatchesScalarTwin) {
  Rng rng(23);
  for (size_t rows : {1u, 3u, 4u, 5u, 8u, 17u})
    for (size_t cols : {1u, 2u, 4u, 7u, 9u, 16u}) {
      std::vector<float> src = random_vector(rows * (cols + 2), rng);
      std::vector<float> a(cols * (rows + 1), -1.0f), b(cols * (rows + 1), -1.0f);
      f32_transpose(rows, cols, src.data(), cols + 2, a.data(), rows + 1);
      f32_transpose__scalar(rows, cols, src.data(), cols + 2, b.data(), rows + 1);
      EXPECT_EQ(a, b) << rows << "x" << cols;
      EXPECT_EQ(a[0], src[0]);
    }
}

struct GemmCase {
  size_t M, N, K;
};

TEST(Kernels, GemmMatchesScalarTwinAllTransposes) {
  Rng rng(29);
  const size_t w = simd_width();
  std::vector<GemmCase> cases = {{1, 1, 1}, {1, 2 * w, 3}, {4, 2 * w, 1}, {3, 5, 7}, {5, 2 * w + 1, 17},
                                 {17, 3 * w + 1, 31}, {33, 65, 129}, {64, 64, 300}, {130, 9, 257}, {0, 4, 4},
                                 {4, 0, 4}, {4, 4, 0}};
  for (const GemmCase& c : cases)
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        const size_t lda = (ta ? c.M : c.K) + 1, ldb = (tb ? c.K : c.N) + 2, ldc = c.N + 3;
        std::vector<float> A = random_vector((ta ? c.K : c.M) * lda + 1, rng);
        std::vector<float> B = random_vector((tb ? c.N : c.K) * ldb + 1, rng);
        std::vector<float> C0 = random_vector(c.M * ldc + 1, rng);
        for (float beta : {0.0f, 1.0f, -0.5f}) {
          std::vector<float> C1 = C0, C2 = C0;
          f32_gemm(ta, tb, c.M, c.N, c.K, 0.75f, A.data(), lda, B.data(), ldb, beta, C1.data(), ldc);
          f32_gemm__scalar(ta, tb, c.M, c.N, c.K, 0.75f, A.data(), lda, B.data(), ldb, beta, C2.data(), ldc);
          // Error of a float dot product of length K with |terms| <= 9 grows ~ K * eps * 9.
          const float atol = 1e-6f * (9.0f * c.K + 1.0f);
          EXPECT_TRUE(all_close(C1, C2, atol, 1e-5f))
              << "M=" << c.M << " N=" << c.N << " K=" << c.K << " ta=" << ta << " tb=" << tb << " beta=" << beta;
        }
      }
}

TEST(Kernels, GemmBetaZeroIgnoresNaNInC) {
  std::vector<float> A(6, 1.0f), B(6, 2.0f), C(4, NAN);
  f32_gemm(false, false, 2, 2, 3, 1.0f, A.data(), 3, B.data(), 2, 0.0f, C.data(), 2);
  for (float v : C) EXPECT_EQ(v, 6.0f);
  // NaN in an input propagates to the outputs it touches.
  A[0] = NAN;
  f32_gemm(false, false, 2, 2, 3, 1.0f, A.data(), 3, B.data(), 2, 0.0f, C.data(), 2);
  EXPECT_TRUE(std::isnan(C[0]));
  EXPECT_TRUE(std::isnan(C[1]));
  EXPECT_EQ(C[2], 6.0f);
}

TEST(Kernels, GemmBatchedWithBroadcastStride) {
  Rng rng(31);
  const size_t batch = 3, M = 5, N = 7, K = 9;
  std::vector<float> A = random_vector(batch * M * K, rng), B = random_vector(K * N, rng);
  std::vector<float> C1(batch * M * N), C2(batch * M * N);
  f32_gemm_batched(batch, false, false, M, N, K, 1.0f, A.data(), K, M * K, B.data(), N, 0, 0.0f, C1.data(), N, M * N);
  f32_gemm_batched__scalar(batch, false, false, M, N, K, 1.0f, A.data(), K, M * K, B.data(), N, 0, 0.0f, C2.data(),
                           N, M * N);
  EXPECT_TRUE(all_close(C1, C2, 1e-5f, 1e-5f));
}

TEST(Kernels, GemmKnownProduct) {
  // [[1,2],[3,4]] @ [[5,6],[7,8]] = [[19,22],[43,50]]
  const float A[] = {1, 2, 3, 4}, B[] = {5, 6, 7, 8};
  float C[4];
  f32_gemm(false, false, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
  EXPECT_EQ(std::vector<float>(C, C + 4), (std::vector<float>{19, 22, 43, 50}));
  f32_gemm(true, true, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);  // A^T B^T = (BA)^T
  EXPECT_EQ(std::vector<float>(C, C + 4), (std::vector<float>{23, 31, 34, 46}));
}

}  // namespace
}  // namespace attn::testing
