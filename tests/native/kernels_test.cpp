// Every kernel of kernels/registry.inc, the SIMD version and its scalar twin, against
// a reference computed here from the formula in double precision: sizes 0, 1 ... 3W+1
// and odd and larger ones (W = SIMD width), unaligned pointers, guard zones that catch
// writes past either end, in place wherever the header allows it, and special values
// (+-inf, NaN at every position of a row, large magnitudes). GEMM also crosses each of
// its packing panels (rows 128, depth 256, columns 1024) with every transpose and beta.
//
// Tolerances are per kernel (tol::<name>), a small factor above the worst error measured
// over these sweeps on SSE2, AVX-512 (-march=native) and wasm SIMD128; each kernel test
// prints what it measured ("[ measured ]") so a bound can be judged against it.
#include <cfloat>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>
#include <set>

#include "kernels/activation.hpp"
#include "kernels/additive.hpp"
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
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr double kPi = 3.14159265358979323846;

// |actual - reference| <= atol + rtol * scale per element; scale is |reference| for
// elementwise kernels and the magnitude the float error is proportional to for the
// others (sum |terms| for reductions and GEMM), as each family's tester says.
struct Tolerance {
  double atol, rtol;
};

// One per kernel of the registry (the tests do not compile without it), in units of
// kEps = FLT_EPSILON = 2^-23 = 1.19e-7. Each bound is about twice the worst error the
// kernel or its scalar twin showed over the sweeps below, the worst of SSE2, AVX-512 and wasm
// SIMD128 (the comments give it as "measured"; the tests print it as "[ measured ]").
namespace tol {
constexpr double kEps = FLT_EPSILON;
constexpr Tolerance kExact{0, 0};  // IEEE +, -, *, max and copies are correctly rounded: bit-exact
constexpr Tolerance relu = kExact;
// Transcendentals, relative to |y|. atol FLT_MIN: exp_batch flushes results below FLT_MIN
// to 0 (exp(-100), sigmoid(-100)) where libm returns a subnormal.
constexpr Tolerance sigmoid{FLT_MIN, 2 * kEps};  // measured 0.9 eps
constexpr Tolerance tanh{FLT_MIN, 3 * kEps};     // measured 1.2 eps (glibc tanhf; xsimd 0.8)
constexpr Tolerance exp{FLT_MIN, 2 * kEps};      // measured 1.0 eps over |x| <= 87
// gelu at x << 0 is x times a small 1 + erf(...) that float has already cancelled: an absolute
// error up to |x| eps / 2 (measured 8.3e-8 for |x| <= 10); elsewhere within 1 eps of |y|.
constexpr Tolerance gelu_erf{2e-7, 2 * kEps};
constexpr Tolerance gelu_tanh{2e-7, 2 * kEps};  // measured 7.6e-8 absolute, 1 eps relative
constexpr Tolerance add = kExact, sub = kExact, mul = kExact;
constexpr Tolerance add_scalar_b = kExact, sub_scalar_b = kExact, mul_scalar_b = kExact, scale = kExact;
// y + a x rounded twice (once with FMA), relative to |y| + |a x|: measured 1.0 eps.
constexpr Tolerance axpy{0, 2 * kEps};
// Float accumulation over several vector lanes, relative to sum |x_i| (|a_i b_i|, |v_i|). Errors
// partly cancel for mixed signs and add up for one sign (a constant row of 1000 is the worst
// case); fewer lanes means longer chains, so SSE2 and wasm (16 partial sums) are worse than
// AVX-512 (64). These hold for the sweep's n <= 1000, not for any n.
constexpr Tolerance sum{0, 10 * kEps};  // measured 5.2 eps (SSE2, wasm; AVX-512 1.2)
constexpr Tolerance max = kExact;
constexpr Tolerance mean{0, 10 * kEps};           // measured 5.0 eps
constexpr Tolerance dot{0, 2.5 * kEps};           // measured 1.1 eps (two FMA chains per lane)
constexpr Tolerance additive_score{0, 2 * kEps};  // measured 1.0 eps
// softmax relative to |y|: the rounding of 1/sum and of the product, exp's ulp and the lanes'
// sum; probabilities far below the max also carry the rounding of z - max (|z - max| eps / 2),
// which the atol covers. Measured: within 87% of 2e-8 + 4 eps |y| (AVX-512; SSE2 and wasm 66%,
// the twin's sequential sum).
constexpr Tolerance softmax{2e-8, 8 * kEps};
// log_softmax = z - max - log(sum): measured within 77% of 4e-7 + 4 eps |y| (AVX-512; SSE2, wasm 49%).
constexpr Tolerance log_softmax{4e-7, 8 * kEps};
// Norms: y relative to (|x| + mean |x|) rstd |gamma| + |beta|, the size of what is rounded on
// the way; mean_out relative to mean |x|, rstd_out to rstd. Both rest on float sums (of x, of
// squares), so they share the sums' worst case, a constant row on SSE2 and wasm.
constexpr Tolerance layernorm{0, 10 * kEps};  // measured 5.0 eps (mean_out; y 2.5 eps)
constexpr Tolerance rmsnorm{0, 7 * kEps};     // measured 3.4 eps
constexpr Tolerance transpose = kExact;
// Relative to |alpha| sum_k |a_ik b_kj| + |beta c_ij|: measured 2.6 eps (up to K = 260) on every
// arch, with FMA or without: the few roundings of beta C, of the FMA chain and of alpha * acc.
// (The old bound, atol 1e-6 (9K + 1), grew with K; this error, relative to that sum, does not.)
constexpr Tolerance gemm{0, 5 * kEps};
constexpr Tolerance gemm_batched = gemm;
// The same micro-kernel on the same panels, B packed ahead of time.
constexpr Tolerance gemm_packed = gemm;
}  // namespace tol

// The worst error one kernel showed over its sweep.
struct Measured {
  double max_abs = 0, max_rel = 0, max_of_bound = 0;
  void add(const Closeness& c) {
    max_abs = std::max(max_abs, c.max_abs);
    max_rel = std::max(max_rel, c.max_rel);
    max_of_bound = std::max(max_of_bound, c.max_of_bound);
  }
};

void report(const std::string& name, const Tolerance& t, const Measured& simd, const Measured& scalar) {
  std::printf(
      "[ measured ] %-15s simd: abs %8.2e rel %8.2e (%3.0f%% of bound) | twin: abs %8.2e rel %8.2e (%3.0f%%)"
      " | bound: atol %g + %g eps\n",
      name.c_str(), simd.max_abs, simd.max_rel, 100 * simd.max_of_bound, scalar.max_abs, scalar.max_rel,
      100 * scalar.max_of_bound, t.atol, t.rtol / FLT_EPSILON);
}

// Checks actual against reference within t, records the error in m, and says where it failed.
template <class T>
::testing::AssertionResult check(const float* actual, const T* reference, size_t n, const Tolerance& t, Measured* m,
                                 const double* scale = nullptr) {
  if (m) m->add(compare(actual, reference, n, t.atol, t.rtol, scale));
  return all_close(actual, reference, n, t.atol, t.rtol, scale);
}

// n floats between guard zones, starting one float past a 64-byte boundary so that
// kernels see unaligned pointers; intact() is false if anything wrote outside.
class Guarded {
 public:
  explicit Guarded(size_t n, float fill = 0.0f) : buf_(n + 2 * kGuard + 16, kSentinel), n_(n) {
    const uintptr_t at = reinterpret_cast<uintptr_t>(buf_.data() + kGuard);
    p_ = buf_.data() + kGuard + ((64 - at % 64) % 64 / sizeof(float) + 1) % 16;
    std::fill(p_, p_ + n, fill);
  }
  explicit Guarded(const std::vector<float>& v) : Guarded(v.size()) { std::copy(v.begin(), v.end(), p_); }
  float* data() { return p_; }
  float& operator[](size_t i) { return p_[i]; }
  std::vector<float> vector() const { return {p_, p_ + n_}; }
  bool intact() const {
    for (const float* q = buf_.data(); q < p_; ++q)
      if (*q != kSentinel) return false;
    for (const float* q = p_ + n_; q < buf_.data() + buf_.size(); ++q)
      if (*q != kSentinel) return false;
    return true;
  }

 private:
  static constexpr size_t kGuard = 16;  // a whole AVX-512 vector either side
  static constexpr float kSentinel = -7.25e33f;
  std::vector<float> buf_;
  float* p_;
  size_t n_;
};

// Special values for elementwise kernels: signed zeros, subnormals, +-inf, NaN, values where
// exp/tanh saturate, and the float range limits.
const std::vector<float> kSpecials = {0.0f,  -0.0f,  1e-40f,  -1e-40f,  1e-30f, -1e-30f, 1.0f,   -1.0f,
                                      15.0f, -15.0f, 80.0f,   -80.0f,   89.0f,  -89.0f,  100.0f, -100.0f,
                                      1e10f, -1e10f, FLT_MAX, -FLT_MAX, kInf,   -kInf,   kNaN};

// ---------------------------------------------------------------------------------------
// References: the formulas in double precision, written independently of the kernels.
namespace ref {
double relu(double x) { return x < 0 ? 0.0 : x; }
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double tanh(double x) { return std::tanh(x); }
double exp(double x) { return std::exp(x); }
// 0.5 x (1 + erf(x / sqrt 2)) and 0.5 x (1 + tanh(u)) written without the cancellation at x << 0.
double gelu_erf(double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }
double gelu_tanh(double x) {
  const double u = std::sqrt(2.0 / kPi) * (x + 0.044715 * x * x * x);
  return x / (1.0 + std::exp(-2.0 * u));
}

// Reductions return the value and set *scale to what their float error is proportional to.
double sum(size_t n, const float* x, double* scale) {
  double s = 0, m = 0;
  for (size_t i = 0; i < n; ++i) s += x[i], m += std::fabs(double(x[i]));
  *scale = m;
  return s;
}
double max(size_t n, const float* x, double* scale) {
  double m = -INFINITY;
  for (size_t i = 0; i < n; ++i) m = std::isnan(x[i]) || x[i] > m ? double(x[i]) : m;
  *scale = 0;
  return m;
}
double mean(size_t n, const float* x, double* scale) {
  const double s = sum(n, x, scale);
  *scale = n ? *scale / double(n) : 0.0;
  return n ? s / double(n) : NAN;
}
size_t argmax(size_t n, const float* x) {
  size_t best = 0;
  for (size_t i = 0; i < n; ++i) {
    if (std::isnan(x[i])) return i;
    if (x[i] > x[best]) best = i;
  }
  return best;
}
double dot(size_t n, const float* a, const float* b, double* scale) {
  double s = 0, m = 0;
  for (size_t i = 0; i < n; ++i) s += double(a[i]) * b[i], m += std::fabs(double(a[i]) * b[i]);
  *scale = m;
  return s;
}
double additive_score(size_t n, const float* q, const float* k, const float* v, double* scale) {
  double s = 0, m = 0;
  for (size_t i = 0; i < n; ++i) s += v[i] * std::tanh(double(q[i]) + k[i]), m += std::fabs(double(v[i]));
  *scale = m;
  return s;
}

// The masked scores z as softmax.hpp defines them, in float (z = x * scale + add_mask, then
// -inf where keep is 0, as PyTorch computes them); everything after that in double.
std::vector<double> masked_scores(size_t n, const float* x, float scale, const float* add, const uint8_t* keep) {
  std::vector<double> z(n);
  for (size_t i = 0; i < n; ++i) {
    float zi = x[i] * scale;
    if (add) zi += add[i];
    z[i] = keep && !keep[i] ? -INFINITY : zi;
  }
  return z;
}
std::vector<double> softmax(size_t n, const float* x, float scale, const float* add, const uint8_t* keep) {
  std::vector<double> z = masked_scores(n, x, scale, add, keep);
  double m = -INFINITY, total = 0;
  for (double v : z) m = std::isnan(v) || v > m ? v : m;
  for (double& v : z) total += v = std::exp(v - m);
  for (double& v : z) v /= total;
  return z;
}
std::vector<double> log_softmax(size_t n, const float* x, float scale, const float* add, const uint8_t* keep) {
  std::vector<double> z = masked_scores(n, x, scale, add, keep);
  double m = -INFINITY, total = 0;
  for (double v : z) m = std::isnan(v) || v > m ? v : m;
  for (double v : z) total += std::exp(v - m);
  for (double& v : z) v = v - m - std::log(total);
  return z;
}

struct NormResult {
  std::vector<double> y, scale;  // scale: (|x| + mean |x|) rstd |gamma| + |beta|
  double mean = 0, rstd = 0, mean_scale = 0;
};
// torch.nn.LayerNorm (biased variance); with center = false, RMSNorm (no mean, no beta).
NormResult norm(bool center, size_t n, const float* x, const float* gamma, const float* beta, float eps) {
  NormResult r;
  double s = 0, a = 0, sq = 0;
  for (size_t i = 0; i < n; ++i) s += x[i], a += std::fabs(double(x[i]));
  r.mean = center ? s / n : 0.0;
  r.mean_scale = a / n;
  for (size_t i = 0; i < n; ++i) sq += (x[i] - r.mean) * (x[i] - r.mean);
  r.rstd = 1.0 / std::sqrt(sq / n + double(eps));
  for (size_t i = 0; i < n; ++i) {
    const double g = gamma ? gamma[i] : 1.0, b = beta && center ? beta[i] : 0.0;
    r.y.push_back((x[i] - r.mean) * r.rstd * g + b);
    r.scale.push_back((std::fabs(double(x[i])) + (center ? r.mean_scale : 0.0)) * r.rstd * std::fabs(g) + std::fabs(b));
  }
  return r;
}

// C = alpha op(A) op(B) + beta C0 (M x N, packed), and scale = |alpha| sum_k |a b| + |beta c0|.
// As in BLAS, beta == 0 does not read C0 and alpha == 0 does not read A or B.
void gemm(bool ta, bool tb, size_t M, size_t N, size_t K, float alpha, const float* A, size_t lda, const float* B,
          size_t ldb, float beta, const float* C0, size_t ldc, double* C, double* scale) {
  for (size_t i = 0; i < M; ++i)
    for (size_t j = 0; j < N; ++j) {
      double acc = 0, mag = 0;
      for (size_t k = 0; k < K && alpha != 0.0f; ++k) {
        const double p = double(ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
        acc += p;
        mag += std::fabs(p);
      }
      const double c0 = beta == 0.0f ? 0.0 : double(beta) * C0[i * ldc + j];
      C[i * N + j] = alpha * acc + c0;
      scale[i * N + j] = std::fabs(double(alpha)) * mag + std::fabs(c0);
    }
}
}  // namespace ref

// ---------------------------------------------------------------------------------------
TEST(Kernels, ReportsArch) {
  std::printf("kernels compiled for %s, %zu floats per vector\n", simd_arch_name(), simd_width());
  EXPECT_GE(simd_width(), 4u);
}

// Every f32_ function declared in src/kernels/*.hpp must be in the registry (as a kernel or
// its twin); the registry's entries must exist, or the testers below would not link.
TEST(KernelRegistry, ListsEveryDeclaredKernel) {
  std::set<std::string> registered;
#define ATTN_REGISTERED(name) registered.insert({"f32_" #name, "f32_" #name "__scalar"});
#define ATTN_UNARY_KERNEL(name, torch_name) ATTN_REGISTERED(name)
#define ATTN_BINARY_KERNEL(name, op) ATTN_REGISTERED(name)
#define ATTN_BINARY_SCALAR_KERNEL(name, op) ATTN_REGISTERED(name)
#define ATTN_AXPY_KERNEL ATTN_REGISTERED
#define ATTN_REDUCE_KERNEL ATTN_REGISTERED
#define ATTN_ARGMAX_KERNEL ATTN_REGISTERED
#define ATTN_DOT_KERNEL ATTN_REGISTERED
#define ATTN_ADDITIVE_SCORE_KERNEL ATTN_REGISTERED
#define ATTN_SOFTMAX_KERNEL ATTN_REGISTERED
#define ATTN_LAYERNORM_KERNEL ATTN_REGISTERED
#define ATTN_RMSNORM_KERNEL ATTN_REGISTERED
#define ATTN_TRANSPOSE_KERNEL ATTN_REGISTERED
#define ATTN_GEMM_KERNEL ATTN_REGISTERED
#define ATTN_GEMM_BATCHED_KERNEL ATTN_REGISTERED
#define ATTN_GEMM_PACKED_KERNEL ATTN_REGISTERED
#include "kernels/registry.inc"
#undef ATTN_REGISTERED

  // Declarations written out in a header: "f32_<name>(" outside comments. Those the headers
  // generate from the registry ("f32_##name") are registered by construction.
  const std::regex declared_name(R"(\bf32_\w+(?=\s*\())");
  std::set<std::string> declared;
  size_t headers = 0;
  for (const auto& entry : std::filesystem::directory_iterator(source_path("src/kernels"))) {
    if (entry.path().extension() != ".hpp") continue;
    ++headers;
    std::ifstream in(entry.path());
    for (std::string line; std::getline(in, line);) {
      line = line.substr(0, line.find("//"));
      for (std::sregex_iterator m(line.begin(), line.end(), declared_name), end; m != end; ++m) {
        declared.insert(m->str());
        EXPECT_TRUE(registered.count(m->str()))
            << entry.path().filename().string() << " declares " << m->str()
            << ", which src/kernels/registry.inc does not list: add it there (and its scalar twin, a reference"
               " and a tolerance in kernels_test.cpp)";
      }
    }
  }
  EXPECT_GE(headers, 8u) << "the scan found too few headers in " << source_path("src/kernels");
  EXPECT_GE(declared.size(), 20u) << "the scan found too few declarations";
}

// ---------------------------------------------------------------------------------------
// Unary: y[i] = f(x[i]).
struct UnaryCase {
  const char* name;
  UnaryKernel simd, scalar;
  double (*reference)(double);
  Tolerance tol;
};
const UnaryCase kUnary[] = {
#define ATTN_UNARY_KERNEL(name, torch_name) {#name, f32_##name, f32_##name##__scalar, ref::name, tol::name},
#include "kernels/registry.inc"
};

void PrintTo(const UnaryCase& k, std::ostream* os) { *os << k.name; }
class UnaryKernels : public ::testing::TestWithParam<UnaryCase> {};

TEST_P(UnaryKernels, MatchReferenceAcrossSizesAndInPlace) {
  const UnaryCase& k = GetParam();
  Rng rng(7);
  Measured ms, mt;
  for (float range : {10.0f, 87.0f}) {  // the interesting region, and up to where exp overflows
    for (size_t n : sizes_around_width()) {
      Guarded x(random_vector(n, rng, -range, range)), a(n), b(n);
      std::vector<double> expected(n);
      for (size_t i = 0; i < n; ++i) expected[i] = k.reference(x[i]);
      k.simd(n, x.data(), a.data());
      k.scalar(n, x.data(), b.data());
      EXPECT_TRUE(check(a.data(), expected.data(), n, k.tol, &ms)) << k.name << " n=" << n << " |x| <= " << range;
      EXPECT_TRUE(check(b.data(), expected.data(), n, k.tol, &mt)) << k.name << "__scalar n=" << n;
      EXPECT_TRUE(a.intact() && b.intact()) << k.name << " wrote outside its output, n=" << n;
      k.simd(n, x.data(), x.data());
      EXPECT_TRUE(all_close(x.vector(), a.vector(), 0, 0)) << k.name << " in place, n=" << n;
    }
  }
  report(k.name, k.tol, ms, mt);
}

TEST_P(UnaryKernels, SpecialValuesAtEveryPosition) {
  const UnaryCase& k = GetParam();
  // Each special value once in the tail and once in a full vector, so both code paths see it.
  for (size_t n : {kSpecials.size(), 3 * simd_width() + 1}) {
    for (size_t start = 0; start < kSpecials.size(); start += n) {
      std::vector<float> x(n, 0.5f);
      for (size_t i = 0; i < n && start + i < kSpecials.size(); ++i) x[i] = kSpecials[start + i];
      for (size_t shift : {size_t(0), n / 2}) {
        std::rotate(x.begin(), x.begin() + shift, x.end());
        std::vector<float> a(n), b(n);
        std::vector<double> expected(n);
        for (size_t i = 0; i < n; ++i) expected[i] = k.reference(x[i]);
        k.simd(n, x.data(), a.data());
        k.scalar(n, x.data(), b.data());
        EXPECT_TRUE(check(a.data(), expected.data(), n, k.tol, nullptr)) << k.name << " n=" << n;
        EXPECT_TRUE(check(b.data(), expected.data(), n, k.tol, nullptr)) << k.name << "__scalar n=" << n;
      }
    }
  }
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

// ---------------------------------------------------------------------------------------
// Binary: y = a op b and y = a op s. IEEE arithmetic is correctly rounded and a double
// result of two floats rounds to the same float, so these must be bit-exact.
using BinaryKernel = void (*)(size_t, const float*, const float*, float*) noexcept;
using BinaryScalarKernel = void (*)(size_t, const float*, float, float*) noexcept;
struct BinaryCase {
  const char* name;
  BinaryKernel simd, scalar;
  double (*op)(double, double);
  Tolerance tol;
};
struct BinaryScalarCase {
  const char* name;
  BinaryScalarKernel simd, scalar;
  double (*op)(double, double);
  Tolerance tol;
};
const BinaryCase kBinary[] = {
#define ATTN_BINARY_KERNEL(name, op) \
  {#name, f32_##name, f32_##name##__scalar, [](double u, double v) { return u op v; }, tol::name},
#include "kernels/registry.inc"
};
const BinaryScalarCase kBinaryScalar[] = {
#define ATTN_BINARY_SCALAR_KERNEL(name, op) \
  {#name, f32_##name, f32_##name##__scalar, [](double u, double v) { return u op v; }, tol::name},
#include "kernels/registry.inc"
};

// Runs y = a op b with the kernel and its twin, out of place and in place (y == a, y == b,
// a == b == y), against the reference rounded to float.
void check_binary(const BinaryCase& k, const std::vector<float>& a_in, const std::vector<float>& b_in) {
  const size_t n = a_in.size();
  Guarded a(a_in), b(b_in), y(n), t(n);
  std::vector<float> expected(n), square(n);
  for (size_t i = 0; i < n; ++i) expected[i] = static_cast<float>(k.op(a[i], b[i]));
  for (size_t i = 0; i < n; ++i) square[i] = static_cast<float>(k.op(a[i], a[i]));
  k.simd(n, a.data(), b.data(), y.data());
  k.scalar(n, a.data(), b.data(), t.data());
  EXPECT_TRUE(check(y.data(), expected.data(), n, k.tol, nullptr)) << k.name << " n=" << n;
  EXPECT_TRUE(check(t.data(), expected.data(), n, k.tol, nullptr)) << k.name << "__scalar n=" << n;
  EXPECT_TRUE(y.intact() && t.intact()) << k.name << " wrote outside its output, n=" << n;
  Guarded a2(a_in), b2(b_in), sq(a_in);
  k.simd(n, a2.data(), b.data(), a2.data());
  k.simd(n, a.data(), b2.data(), b2.data());
  k.simd(n, sq.data(), sq.data(), sq.data());
  EXPECT_TRUE(all_close(a2.vector(), expected, 0, 0)) << k.name << " in place (y == a), n=" << n;
  EXPECT_TRUE(all_close(b2.vector(), expected, 0, 0)) << k.name << " in place (y == b), n=" << n;
  EXPECT_TRUE(all_close(sq.vector(), square, 0, 0)) << k.name << " in place (y == a == b), n=" << n;
}

void check_binary_scalar(const BinaryScalarCase& k, const std::vector<float>& a_in, float s) {
  const size_t n = a_in.size();
  Guarded a(a_in), y(n), t(n);
  std::vector<float> expected(n);
  for (size_t i = 0; i < n; ++i) expected[i] = static_cast<float>(k.op(a[i], s));
  k.simd(n, a.data(), s, y.data());
  k.scalar(n, a.data(), s, t.data());
  EXPECT_TRUE(check(y.data(), expected.data(), n, k.tol, nullptr)) << k.name << " s=" << s << " n=" << n;
  EXPECT_TRUE(check(t.data(), expected.data(), n, k.tol, nullptr)) << k.name << "__scalar s=" << s;
  EXPECT_TRUE(y.intact() && t.intact()) << k.name << " wrote outside its output, n=" << n;
  k.simd(n, a.data(), s, a.data());
  EXPECT_TRUE(all_close(a.vector(), expected, 0, 0)) << k.name << " in place, n=" << n;
}

TEST(Kernels, BinaryMatchReferenceBitForBit) {
  Rng rng(11);
  for (size_t n : sizes_around_width()) {
    const std::vector<float> a = random_vector(n, rng), b = random_vector(n, rng);
    for (const BinaryCase& k : kBinary) check_binary(k, a, b);
    for (const BinaryScalarCase& k : kBinaryScalar) check_binary_scalar(k, a, 1.75f);
  }
  // Every pair of special values: inf - inf, 0 * inf, overflow to inf, underflow to 0, NaN.
  std::vector<float> a, b;
  for (float u : kSpecials)
    for (float v : kSpecials) a.push_back(u), b.push_back(v);
  for (const BinaryCase& k : kBinary) check_binary(k, a, b);
  for (const BinaryScalarCase& k : kBinaryScalar)
    for (float s : {0.0f, -0.0f, 1e-40f, FLT_MAX, -kInf, kNaN}) check_binary_scalar(k, kSpecials, s);
}

TEST(Kernels, AxpyMatchesReference) {
  Rng rng(12);
  Measured ms, mt;
  for (float a : {-0.5f, 3.0f, 1e-20f}) {
    for (size_t n : sizes_around_width()) {
      const std::vector<float> x = random_vector(n, rng), y0 = random_vector(n, rng);
      Guarded y(y0), t(y0);
      std::vector<double> expected(n), scale(n);
      for (size_t i = 0; i < n; ++i) {
        expected[i] = y0[i] + double(a) * x[i];
        scale[i] = std::fabs(double(y0[i])) + std::fabs(double(a) * x[i]);
      }
      f32_axpy(n, a, x.data(), y.data());
      f32_axpy__scalar(n, a, x.data(), t.data());
      EXPECT_TRUE(check(y.data(), expected.data(), n, tol::axpy, &ms, scale.data())) << "axpy a=" << a << " n=" << n;
      EXPECT_TRUE(check(t.data(), expected.data(), n, tol::axpy, &mt, scale.data())) << "axpy__scalar n=" << n;
      EXPECT_TRUE(y.intact() && t.intact()) << "axpy wrote outside y, n=" << n;
    }
  }
  report("axpy", tol::axpy, ms, mt);
  // 0 * inf = NaN, inf + -inf = NaN, NaN propagates.
  std::vector<float> x = {kInf, 1.0f, kNaN, 2.0f, -kInf}, y = {1.0f, kInf, 1.0f, kNaN, kInf}, t = y;
  f32_axpy(x.size(), 2.0f, x.data(), y.data());
  f32_axpy__scalar(x.size(), 2.0f, x.data(), t.data());
  EXPECT_TRUE(all_close(y, {kInf, kInf, kNaN, kNaN, kNaN}, 0, 0));
  EXPECT_TRUE(all_close(t, {kInf, kInf, kNaN, kNaN, kNaN}, 0, 0));
}

// ---------------------------------------------------------------------------------------
// Reductions. Their errors are relative to sum |terms|, not to the (possibly cancelled) result.

// Value ranges: mixed signs, where float errors partly cancel; one sign and a constant row,
// where they add up (the worst case, as in a softmax's or a norm's sums); tiny and huge values.
struct Range {
  float lo, hi;
};
std::ostream& operator<<(std::ostream& os, const Range& r) { return os << "[" << r.lo << ", " << r.hi << "]"; }
const Range kReductionRanges[] = {{-3.0f, 3.0f}, {0.0f, 3.0f}, {0.1f, 0.1f}, {-1e30f, 1e30f}, {-1e-30f, 1e-30f}};

using ReduceKernel = float (*)(size_t, const float*) noexcept;
struct ReduceCase {
  const char* name;
  ReduceKernel simd, scalar;
  double (*reference)(size_t, const float*, double*);
  Tolerance tol;
};
const ReduceCase kReduce[] = {
#define ATTN_REDUCE_KERNEL(name) {#name, f32_##name, f32_##name##__scalar, ref::name, tol::name},
#include "kernels/registry.inc"
};

void PrintTo(const ReduceCase& k, std::ostream* os) { *os << k.name; }
class ReduceKernels : public ::testing::TestWithParam<ReduceCase> {};

TEST_P(ReduceKernels, MatchReferenceAcrossSizesAndMagnitudes) {
  const ReduceCase& k = GetParam();
  Rng rng(13);
  Measured ms, mt;
  for (const Range& r : kReductionRanges) {
    for (size_t n : sizes_around_width()) {
      Guarded x(random_vector(n, rng, r.lo, r.hi));
      double scale;
      const double expected = k.reference(n, x.data(), &scale);
      const float a = k.simd(n, x.data()), b = k.scalar(n, x.data());
      EXPECT_TRUE(check(&a, &expected, 1, k.tol, &ms, &scale)) << k.name << " n=" << n << " x in " << r;
      EXPECT_TRUE(check(&b, &expected, 1, k.tol, &mt, &scale)) << k.name << "__scalar n=" << n;
    }
  }
  report(k.name, k.tol, ms, mt);
}

// NaN, +inf and -inf at every position of rows of 1 ... 3W+1: NaN poisons, +inf - inf is NaN.
TEST_P(ReduceKernels, SpecialValuesAtEveryPosition) {
  const ReduceCase& k = GetParam();
  for (size_t n = 1; n <= 3 * simd_width() + 1; ++n)
    for (size_t p = 0; p < n; ++p)
      for (float special : {kNaN, kInf, -kInf, FLT_MAX}) {
        std::vector<float> x(n, 1.5f);
        x[p] = special;
        if (n > 1) x[(p + 1) % n] = special == kInf ? -kInf : x[(p + 1) % n];  // inf + -inf
        double scale;
        const double expected = k.reference(n, x.data(), &scale);
        const float a = k.simd(n, x.data()), b = k.scalar(n, x.data());
        EXPECT_TRUE(check(&a, &expected, 1, k.tol, nullptr, &scale))
            << k.name << " n=" << n << " " << special << " at " << p;
        EXPECT_TRUE(check(&b, &expected, 1, k.tol, nullptr, &scale)) << k.name << "__scalar n=" << n;
      }
}

INSTANTIATE_TEST_SUITE_P(Registry, ReduceKernels, ::testing::ValuesIn(kReduce),
                         [](const auto& info) { return std::string(info.param.name); });

using ArgmaxKernel = size_t (*)(size_t, const float*) noexcept;
using DotKernel = float (*)(size_t, const float*, const float*) noexcept;
using AdditiveScoreKernel = float (*)(size_t, const float*, const float*, const float*) noexcept;

// The first index of the maximum, with repeated values; NaN (the maximum) and +-inf at every position.
void test_argmax_kernel(const char* name, ArgmaxKernel simd, ArgmaxKernel scalar,
                        size_t (*reference)(size_t, const float*)) {
  Rng rng(14);
  for (size_t n : sizes_around_width()) {
    std::vector<float> x = random_vector(n, rng);
    for (size_t i = 0; i + 3 < n; i += 3) x[i + 3] = x[i];
    EXPECT_EQ(simd(n, x.data()), reference(n, x.data())) << name << " n=" << n;
    EXPECT_EQ(scalar(n, x.data()), reference(n, x.data())) << name << "__scalar n=" << n;
  }
  for (size_t n = 1; n <= 3 * simd_width() + 1; ++n)
    for (size_t p = 0; p < n; ++p)
      for (float special : {kNaN, kInf, -kInf}) {
        std::vector<float> x(n, -kInf);
        x[p] = special;
        if (p + 1 < n) x[n - 1] = special;
        EXPECT_EQ(simd(n, x.data()), reference(n, x.data())) << name << " n=" << n << " " << special << " at " << p;
        EXPECT_EQ(scalar(n, x.data()), reference(n, x.data())) << name << "__scalar n=" << n << " " << special;
      }
  EXPECT_EQ(simd(0, nullptr), 0u);
}
#define ATTN_ARGMAX_KERNEL(name) \
  TEST(Kernels, name##FindsTheFirstMaximum) { test_argmax_kernel(#name, f32_##name, f32_##name##__scalar, ref::name); }
#include "kernels/registry.inc"

// Against the reference over the value ranges above (b of a's sign); NaN, inf * 0 and inf at
// every position.
void test_dot_kernel(const char* name, DotKernel simd, DotKernel scalar,
                     double (*reference)(size_t, const float*, const float*, double*), const Tolerance& tol) {
  Rng rng(15);
  Measured ms, mt;
  for (const Range& r : kReductionRanges) {
    for (size_t n : sizes_around_width()) {
      Guarded a(random_vector(n, rng, r.lo, r.hi)), b(random_vector(n, rng, r.lo < 0 ? -3.0f : 0.0f, 3.0f));
      double scale;
      const double expected = reference(n, a.data(), b.data(), &scale);
      const float s = simd(n, a.data(), b.data()), t = scalar(n, a.data(), b.data());
      EXPECT_TRUE(check(&s, &expected, 1, tol, &ms, &scale)) << name << " n=" << n << " a in " << r;
      EXPECT_TRUE(check(&t, &expected, 1, tol, &mt, &scale)) << name << "__scalar n=" << n;
    }
  }
  report(name, tol, ms, mt);
  for (size_t n = 1; n <= 3 * simd_width() + 1; ++n)
    for (size_t p = 0; p < n; ++p) {
      std::vector<float> a(n, 1.0f), b(n, 2.0f);
      a[p] = kNaN;
      EXPECT_TRUE(std::isnan(simd(n, a.data(), b.data()))) << name << ": NaN at " << p << " of " << n;
      a[p] = kInf;
      b[p] = 0.0f;
      EXPECT_TRUE(std::isnan(simd(n, a.data(), b.data()))) << name << ": inf * 0 at " << p << " of " << n;
      b[p] = -1.0f;
      EXPECT_EQ(simd(n, a.data(), b.data()), -kInf) << name << ": -inf at " << p << " of " << n;
    }
}
#define ATTN_DOT_KERNEL(name)                                                       \
  TEST(Kernels, name##MatchesReference) {                                           \
    test_dot_kernel(#name, f32_##name, f32_##name##__scalar, ref::name, tol::name); \
  }
#include "kernels/registry.inc"

// Against the reference; then tanh saturating at +-inf and for huge q + k, and NaN and
// inf - inf propagating, at every position.
void test_additive_score_kernel(const char* name, AdditiveScoreKernel simd, AdditiveScoreKernel scalar,
                                double (*reference)(size_t, const float*, const float*, const float*, double*),
                                const Tolerance& tol) {
  Rng rng(16);
  Measured ms, mt;
  for (float lo : {-3.0f, 0.0f})  // mixed signs, and every term positive
    for (size_t n : sizes_around_width()) {
      Guarded q(random_vector(n, rng, lo, 3.0f)), k(random_vector(n, rng, lo, 3.0f)),
          v(random_vector(n, rng, lo, 3.0f));
      double scale;
      const double expected = reference(n, q.data(), k.data(), v.data(), &scale);
      const float s = simd(n, q.data(), k.data(), v.data()), t = scalar(n, q.data(), k.data(), v.data());
      EXPECT_TRUE(check(&s, &expected, 1, tol, &ms, &scale)) << name << " n=" << n;
      EXPECT_TRUE(check(&t, &expected, 1, tol, &mt, &scale)) << name << "__scalar n=" << n;
    }
  report(name, tol, ms, mt);
  for (size_t n = 1; n <= 3 * simd_width() + 1; ++n)
    for (size_t p = 0; p < n; ++p)
      for (float special : {kInf, -kInf, 1e30f, kNaN}) {
        std::vector<float> q(n, 0.25f), k(n, -0.5f), v(n, 1.5f);
        q[p] = special;
        if (p + 1 < n) {
          q[n - 1] = special;
          k[n - 1] = -special;
        }
        double scale;
        const double expected = reference(n, q.data(), k.data(), v.data(), &scale);
        const float s = simd(n, q.data(), k.data(), v.data()), t = scalar(n, q.data(), k.data(), v.data());
        EXPECT_TRUE(check(&s, &expected, 1, tol, nullptr, &scale))
            << name << " n=" << n << " " << special << " at " << p;
        EXPECT_TRUE(check(&t, &expected, 1, tol, nullptr, &scale)) << name << "__scalar n=" << n << " " << special;
      }
}
#define ATTN_ADDITIVE_SCORE_KERNEL(name)                                                       \
  TEST(Kernels, name##MatchesReference) {                                                      \
    test_additive_score_kernel(#name, f32_##name, f32_##name##__scalar, ref::name, tol::name); \
  }
#include "kernels/registry.inc"

// ---------------------------------------------------------------------------------------
// Softmax and log-softmax with their scale and masks.
using SoftmaxKernel = void (*)(size_t, const float*, float, const float*, const uint8_t*, float*) noexcept;
struct SoftmaxCase {
  const char* name;
  SoftmaxKernel simd, scalar;
  std::vector<double> (*reference)(size_t, const float*, float, const float*, const uint8_t*);
  Tolerance tol;
};
const SoftmaxCase kSoftmax[] = {
#define ATTN_SOFTMAX_KERNEL(name) {#name, f32_##name, f32_##name##__scalar, ref::name, tol::name},
#include "kernels/registry.inc"
};

void PrintTo(const SoftmaxCase& k, std::ostream* os) { *os << k.name; }
class SoftmaxKernels : public ::testing::TestWithParam<SoftmaxCase> {};

// Kernel and twin against the reference, then the kernel in place (x == y) against itself.
void check_softmax(const SoftmaxCase& k, const std::vector<float>& x_in, float scale, const float* add,
                   const uint8_t* keep, Measured* ms, Measured* mt, const std::string& what) {
  const size_t n = x_in.size();
  Guarded x(x_in), a(n), b(n);
  const std::vector<double> expected = k.reference(n, x.data(), scale, add, keep);
  k.simd(n, x.data(), scale, add, keep, a.data());
  k.scalar(n, x.data(), scale, add, keep, b.data());
  EXPECT_TRUE(check(a.data(), expected.data(), n, k.tol, ms)) << k.name << " " << what;
  EXPECT_TRUE(check(b.data(), expected.data(), n, k.tol, mt)) << k.name << "__scalar " << what;
  EXPECT_TRUE(a.intact() && b.intact()) << k.name << " wrote outside its output, " << what;
  k.simd(n, x.data(), scale, add, keep, x.data());
  EXPECT_TRUE(all_close(x.vector(), a.vector(), 0, 0)) << k.name << " in place, " << what;
}

TEST_P(SoftmaxKernels, MatchReferenceWithMasksAndInPlace) {
  const SoftmaxCase& k = GetParam();
  Rng rng(17);
  Measured ms, mt;
  for (size_t n : sizes_around_width()) {
    const std::vector<float> x = random_vector(n, rng, -10.0f, 10.0f), add = random_vector(n, rng);
    std::vector<uint8_t> keep(n);
    for (size_t i = 0; i < n; ++i) keep[i] = (i % 3 != 1) || n == 1;
    for (int variant = 0; variant < 4; ++variant) {
      const float* am = variant & 1 ? add.data() : nullptr;
      const uint8_t* km = variant & 2 ? keep.data() : nullptr;
      check_softmax(k, x, 0.37f, am, km, &ms, &mt, "n=" + std::to_string(n) + " variant " + std::to_string(variant));
    }
  }
  report(k.name, k.tol, ms, mt);
}

// As torch.softmax: an all -inf row (masked by keep or by add_mask) is NaN; a NaN or a +inf
// (+inf - +inf) anywhere makes the row NaN; -inf alone gives 0 (log: -inf); huge scores are stable.
TEST_P(SoftmaxKernels, SpecialValuesAtEveryPosition) {
  const SoftmaxCase& k = GetParam();
  for (size_t n = 1; n <= 3 * simd_width() + 1; ++n) {
    std::vector<float> ones(n, 1.0f), minus_inf(n, -kInf);
    std::vector<uint8_t> none(n, 0);
    check_softmax(k, ones, 1.0f, nullptr, none.data(), nullptr, nullptr,
                  "fully masked by keep, n=" + std::to_string(n));
    check_softmax(k, ones, 1.0f, minus_inf.data(), nullptr, nullptr, nullptr, "fully masked by add_mask");
    check_softmax(k, minus_inf, 1.0f, nullptr, nullptr, nullptr, nullptr, "all -inf");
    for (size_t p = 0; p < n; ++p)
      for (float special : {kNaN, kInf, -kInf, 1e30f, -1e30f, FLT_MAX}) {
        std::vector<float> x(n);
        for (size_t i = 0; i < n; ++i) x[i] = 0.5f * float(i % 5);
        x[p] = special;
        check_softmax(k, x, 1.0f, nullptr, nullptr, nullptr, nullptr,
                      "n=" + std::to_string(n) + " " + std::to_string(special) + " at " + std::to_string(p));
      }
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, SoftmaxKernels, ::testing::ValuesIn(kSoftmax),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Kernels, SoftmaxRowsSumToOneAndMaskedPositionsAreExactlyZero) {
  Rng rng(18);
  for (size_t n : sizes_around_width(false)) {
    std::vector<float> x = random_vector(n, rng, -10.0f, 10.0f), y(n), ly(n);
    std::vector<uint8_t> keep(n);
    for (size_t i = 0; i < n; ++i) keep[i] = i % 4 != 2 || n < 3;
    f32_softmax(n, x.data(), 0.5f, nullptr, keep.data(), y.data());
    f32_log_softmax(n, x.data(), 0.5f, nullptr, keep.data(), ly.data());
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      total += y[i];
      if (!keep[i]) {
        EXPECT_EQ(y[i], 0.0f) << "masked position gets exactly 0";
        EXPECT_EQ(ly[i], -kInf) << "and log-softmax -inf";
      }
    }
    EXPECT_NEAR(total, 1.0, 1e-6) << "n=" << n;
  }
  std::vector<float> x = {0.0f, -kInf, 1.0f}, y(3);
  f32_softmax(3, x.data(), 1.0f, nullptr, nullptr, y.data());
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_NEAR(y[2], 0.7310585786300049f, 1e-7f);  // 1 / (1 + e^-1)
}

// ---------------------------------------------------------------------------------------
// Norms: rows with and without affine parameters, a large offset (the two-pass variance),
// |x| up to 1e15, a constant row (variance 0), NaN and inf at every position of the first
// 3W+1; in place (x == y); n == 0 writes nothing.
using LayernormKernel = void (*)(size_t, const float*, const float*, const float*, float, float*, float*,
                                 float*) noexcept;
using RmsnormKernel = void (*)(size_t, const float*, const float*, float, float*, float*) noexcept;

// One row through a norm kernel and its twin. `stats`: also check rstd_out (not on the row with
// a large offset: there rstd's error is the float mean's error squared, (mean rstd eps)^2 n, not
// a few eps) and mean_out. `measured`: count the errors in the report (not for special values).
class NormCheck {
 public:
  NormCheck(const char* name, LayernormKernel simd, LayernormKernel scalar, const Tolerance& tol)
      : name(name), center(true), layernorm(simd), layernorm_twin(scalar), tol(tol) {}
  NormCheck(const char* name, RmsnormKernel simd, RmsnormKernel scalar, const Tolerance& tol)
      : name(name), center(false), rmsnorm(simd), rmsnorm_twin(scalar), tol(tol) {}

  void run(const std::vector<float>& x_in, const float* g, const float* b, const std::string& what, bool measure,
           bool stats) {
    const size_t n = x_in.size();
    const float eps = center ? 1e-5f : 1e-6f;
    Guarded x(x_in), y1(n), y2(n);
    float mean[2] = {-1, -1}, rstd[2] = {-1, -1};
    const ref::NormResult e = ref::norm(center, n, x.data(), g, b, eps);
    if (center) {
      layernorm(n, x.data(), g, b, eps, y1.data(), &mean[0], &rstd[0]);
      layernorm_twin(n, x.data(), g, b, eps, y2.data(), &mean[1], &rstd[1]);
    } else {
      rmsnorm(n, x.data(), g, eps, y1.data(), &rstd[0]);
      rmsnorm_twin(n, x.data(), g, eps, y2.data(), &rstd[1]);
    }
    const std::string label = std::string(name) + " " + what;
    EXPECT_TRUE(check(y1.data(), e.y.data(), n, tol, measure ? &ms : nullptr, e.scale.data())) << label;
    EXPECT_TRUE(check(y2.data(), e.y.data(), n, tol, measure ? &mt : nullptr, e.scale.data())) << "twin " << label;
    EXPECT_TRUE(y1.intact() && y2.intact()) << label << ": wrote outside y";
    for (int twin = 0; twin < 2 && stats; ++twin) {
      Measured* m = measure ? (twin ? &mt : &ms) : nullptr;
      EXPECT_TRUE(check(&rstd[twin], &e.rstd, 1, tol, m)) << "rstd_out" << (twin ? " of the twin, " : ", ") << label;
      if (center) {
        EXPECT_TRUE(check(&mean[twin], &e.mean, 1, tol, m, &e.mean_scale))
            << "mean_out" << (twin ? " of the twin, " : ", ") << label;
      }
    }
    if (center) {
      layernorm(n, x.data(), g, b, eps, x.data(), nullptr, nullptr);
    } else {
      rmsnorm(n, x.data(), g, eps, x.data(), nullptr);
    }
    EXPECT_TRUE(all_close(x.vector(), y1.vector(), 0, 0)) << label << " in place";
  }

  void sweep() {
    Rng rng(center ? 19 : 20);
    for (size_t n : sizes_around_width(false)) {
      const std::vector<float> g = random_vector(n, rng), b = random_vector(n, rng);
      const std::string at = "n=" + std::to_string(n);
      run(random_vector(n, rng, -4.0f, 5.0f), g.data(), b.data(), at, true, true);
      run(random_vector(n, rng, -4.0f, 5.0f), nullptr, nullptr, "without affine " + at, true, true);
      run(random_vector(n, rng, 1e4f - 1.0f, 1e4f + 1.0f), g.data(), b.data(), "offset 1e4 " + at, true, !center);
      run(random_vector(n, rng, -1e15f, 1e15f), g.data(), b.data(), "|x| <= 1e15 " + at, true, true);
      run(std::vector<float>(n, 0.1f), g.data(), b.data(), "constant row " + at, true, true);
      for (size_t p = 0; p < std::min<size_t>(n, 3 * simd_width() + 1); ++p)
        for (float special : {kNaN, kInf}) {
          std::vector<float> x = random_vector(n, rng);
          x[p] = special;
          run(x, g.data(), b.data(), at + " " + std::to_string(special) + " at " + std::to_string(p), false, true);
        }
    }
    report(name, tol, ms, mt);
    float y = 7.0f;
    if (center) {
      layernorm(0, nullptr, nullptr, nullptr, 1e-5f, &y, nullptr, nullptr);
    } else {
      rmsnorm(0, nullptr, nullptr, 1e-6f, &y, nullptr);
    }
    EXPECT_EQ(y, 7.0f) << name << ": n == 0 writes nothing";
  }

 private:
  const char* name;
  bool center;  // layernorm (mean and beta) or rmsnorm
  LayernormKernel layernorm = nullptr, layernorm_twin = nullptr;
  RmsnormKernel rmsnorm = nullptr, rmsnorm_twin = nullptr;
  Tolerance tol;
  Measured ms, mt;
};

#define ATTN_LAYERNORM_KERNEL(name) \
  TEST(Kernels, name##MatchesReference) { NormCheck(#name, f32_##name, f32_##name##__scalar, tol::name).sweep(); }
#define ATTN_RMSNORM_KERNEL(name) \
  TEST(Kernels, name##MatchesReference) { NormCheck(#name, f32_##name, f32_##name##__scalar, tol::name).sweep(); }
#include "kernels/registry.inc"

// ---------------------------------------------------------------------------------------
// Transpose: exact, for every pair of sizes around the 4 x 4 block, and nothing written
// outside the transposed block (dst's leading dimension leaves a gap).
using TransposeKernel = void (*)(size_t, size_t, const float*, size_t, float*, size_t) noexcept;

void test_transpose_kernel(const char* name, TransposeKernel simd, TransposeKernel scalar, const Tolerance& tol) {
  Rng rng(23);
  const size_t w = simd_width();
  for (size_t rows : {size_t(0), size_t(1), size_t(2), w - 1, w, w + 1, 2 * w + 1, 3 * w + 1, size_t(17)})
    for (size_t cols : {size_t(0), size_t(1), size_t(2), w - 1, w, w + 1, 2 * w + 1, 3 * w + 1, size_t(17)}) {
      const size_t ld_src = cols + 2, ld_dst = rows + 1;
      const std::vector<float> src = random_vector(rows * ld_src, rng);
      std::vector<float> expected(cols * ld_dst, -1.0f);
      for (size_t r = 0; r < rows; ++r)
        for (size_t c = 0; c < cols; ++c) expected[c * ld_dst + r] = src[r * ld_src + c];
      for (TransposeKernel fn : {simd, scalar}) {
        Guarded dst(cols * ld_dst, -1.0f);
        fn(rows, cols, src.data(), ld_src, dst.data(), ld_dst);
        EXPECT_TRUE(check(dst.data(), expected.data(), expected.size(), tol, nullptr))
            << name << (fn == simd ? " " : "__scalar ") << rows << "x" << cols;
        EXPECT_TRUE(dst.intact()) << name << (fn == simd ? " " : "__scalar ") << rows << "x" << cols
                                  << " wrote outside dst";
      }
    }
}
#define ATTN_TRANSPOSE_KERNEL(name) \
  TEST(Kernels, name##MatchesReference) { test_transpose_kernel(#name, f32_##name, f32_##name##__scalar, tol::name); }
#include "kernels/registry.inc"

// ---------------------------------------------------------------------------------------
// GEMM. Padding past each row of A and B (ld > width) holds NaN, so a read outside the
// matrices shows; C's padding must come back untouched.
struct GemmShape {
  size_t M, N, K;
};

using GemmKernel = void (*)(bool, bool, size_t, size_t, size_t, float, const float*, size_t, const float*, size_t,
                            float, float*, size_t) noexcept;

// A rows x cols matrix with leading dimension cols + pad, the padding NaN.
std::vector<float> padded_matrix(size_t rows, size_t cols, size_t pad, Rng& rng) {
  std::vector<float> m(rows * (cols + pad), kNaN);
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) m[r * (cols + pad) + c] = rng.uniform(-3.0f, 3.0f);
  return m;
}

// Runs one GEMM on the kernel and its twin and checks both against the reference; the
// message gives the worst element as [row, col].
void check_gemm(const char* name, GemmKernel simd, GemmKernel scalar, const Tolerance& t, bool ta, bool tb,
                const GemmShape& s, float alpha, float beta, Rng& rng, Measured* ms, Measured* mt) {
  const size_t lda = (ta ? s.M : s.K) + 1, ldb = (tb ? s.K : s.N) + 2, ldc = s.N + 3;
  const std::vector<float> A = padded_matrix(ta ? s.K : s.M, ta ? s.M : s.K, 1, rng);
  const std::vector<float> B = padded_matrix(tb ? s.N : s.K, tb ? s.K : s.N, 2, rng);
  // beta == 0 must not read C: prefill it with NaN then.
  std::vector<float> C0 = random_vector(s.M * ldc, rng);
  if (beta == 0.0f) std::fill(C0.begin(), C0.end(), kNaN);
  std::vector<double> expected(s.M * s.N), scale(s.M * s.N);
  ref::gemm(ta, tb, s.M, s.N, s.K, alpha, A.data(), lda, B.data(), ldb, beta, C0.data(), ldc, expected.data(),
            scale.data());
  const std::string what = std::string(name) + " M=" + std::to_string(s.M) + " N=" + std::to_string(s.N) +
                           " K=" + std::to_string(s.K) + " trans_a=" + std::to_string(ta) +
                           " trans_b=" + std::to_string(tb) + " alpha=" + std::to_string(alpha) +
                           " beta=" + std::to_string(beta);
  for (GemmKernel fn : {simd, scalar}) {
    Guarded C(C0);
    fn(ta, tb, s.M, s.N, s.K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
    std::vector<float> got(s.M * s.N);
    for (size_t i = 0; i < s.M; ++i)
      for (size_t j = 0; j < s.N; ++j) got[i * s.N + j] = C[i * ldc + j];
    const Closeness c = compare(got.data(), expected.data(), got.size(), t.atol, t.rtol, scale.data());
    if (Measured* m = fn == simd ? ms : mt) m->add(c);
    const auto at = [&](size_t i) { return "[" + std::to_string(i / s.N) + ", " + std::to_string(i % s.N) + "]"; };
    EXPECT_EQ(c.bad, 0u) << (fn == simd ? "" : "scalar twin ") << what << ": " << c.bad << " of " << got.size()
                         << " elements differ; first at " << at(c.first_bad) << ": " << got[c.first_bad]
                         << " vs expected " << expected[c.first_bad] << "; max abs err " << c.max_abs << " at "
                         << at(c.worst_abs) << ", max rel err (of |alpha| sum|a b| + |beta c|) " << c.max_rel << " at "
                         << at(c.worst_rel);
    bool padding_intact = C.intact();
    for (size_t i = 0; i < s.M; ++i)
      for (size_t j = s.N; j < ldc; ++j) {
        const float c = C[i * ldc + j], c0 = C0[i * ldc + j];
        padding_intact &= c == c0 || (std::isnan(c) && std::isnan(c0));
      }
    EXPECT_TRUE(padding_intact) << what << " wrote outside C";
  }
}

// Every shape around the 4 x 2W micro-tile with every transpose and beta; then shapes past
// each packing panel (rows 128, depth 256, columns 1024: gemm.cpp's kMC, kKC, kNC), twice
// past the column panel, and empty ones; then alpha == 0.
void test_gemm_kernel(const char* name, GemmKernel simd, GemmKernel scalar, const Tolerance& tol) {
  Rng rng(29);
  Measured ms, mt;
  const size_t w = simd_width();
  const size_t dims[] = {1, 2, 3, 5, w, 2 * w + 1, 3 * w + 1, 17};
  for (size_t M : dims)
    for (size_t N : dims)
      for (size_t K : dims)
        for (int ta = 0; ta < 2; ++ta)
          for (int tb = 0; tb < 2; ++tb)
            for (float beta : {0.0f, 1.0f, -0.5f})
              check_gemm(name, simd, scalar, tol, ta, tb, {M, N, K}, 0.75f, beta, rng, &ms, &mt);
  const GemmShape panels[] = {{130, 9, 257},      {5, 2 * 1024 + 2 * w + 3, 3},
                              {6, 1024 + 1, 260}, {129, 1024 + 7, 257},
                              {4, 1024, 256},     {0, 4, 4},
                              {4, 0, 4},          {4, 4, 0}};
  for (const GemmShape& s : panels)
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (float beta : {0.0f, 1.0f}) check_gemm(name, simd, scalar, tol, ta, tb, s, -1.25f, beta, rng, &ms, &mt);
  report(name, tol, ms, mt);
  for (float beta : {0.0f, 1.0f, 2.0f})  // GemmSpecialValues checks that A and B are not even read
    check_gemm(name, simd, scalar, tol, false, false, {3, 2 * w + 1, 5}, 0.0f, beta, rng, nullptr, nullptr);
}
#define ATTN_GEMM_KERNEL(name)                                            \
  TEST(Kernels, name##MatchesReferenceAcrossShapesTransposesAndPanels) {  \
    test_gemm_kernel(#name, f32_##name, f32_##name##__scalar, tol::name); \
  }
#include "kernels/registry.inc"

TEST(Kernels, GemmSpecialValues) {
  // beta == 0 ignores NaN in C; NaN and inf in A reach exactly the outputs they touch.
  std::vector<float> A(6, 1.0f), B(6, 2.0f), C(4, kNaN);
  f32_gemm(false, false, 2, 2, 3, 1.0f, A.data(), 3, B.data(), 2, 0.0f, C.data(), 2);
  for (float v : C) EXPECT_EQ(v, 6.0f);
  A[0] = kNaN;
  A[4] = kInf;
  f32_gemm(false, false, 2, 2, 3, 1.0f, A.data(), 3, B.data(), 2, 0.0f, C.data(), 2);
  EXPECT_TRUE(std::isnan(C[0]));
  EXPECT_TRUE(std::isnan(C[1]));
  EXPECT_EQ(C[2], kInf);
  EXPECT_EQ(C[3], kInf);
  // alpha == 0 reads neither A nor B, as in BLAS: C = beta C even with NaN in A.
  for (GemmKernel fn : {GemmKernel(f32_gemm), GemmKernel(f32_gemm__scalar)}) {
    std::vector<float> nan_a(6, kNaN), c = {1, 2, 3, 4};
    fn(false, false, 2, 2, 3, 0.0f, nan_a.data(), 3, B.data(), 2, 2.0f, c.data(), 2);
    EXPECT_EQ(c, (std::vector<float>{2, 4, 6, 8}));
  }
  // Large magnitudes that fit: 1e18 * 1e18 * 3 = 3e36.
  std::fill(A.begin(), A.end(), 1e18f);
  std::fill(B.begin(), B.end(), 1e18f);
  f32_gemm(false, false, 2, 2, 3, 1.0f, A.data(), 3, B.data(), 2, 0.0f, C.data(), 2);
  for (float v : C) EXPECT_NEAR(v, 3e36f, 3e36f * 1e-6f);
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

using GemmBatchedKernel = void (*)(size_t, bool, bool, size_t, size_t, size_t, float, const float*, size_t, size_t,
                                   const float*, size_t, size_t, float, float*, size_t, size_t) noexcept;

// Every transpose, with A or B broadcast (stride 0) over the batch, and strides with gaps.
void test_gemm_batched_kernel(const char* name, GemmBatchedKernel simd, GemmBatchedKernel scalar,
                              const Tolerance& tol) {
  Rng rng(31);
  Measured ms, mt;
  const size_t batch = 3, M = 5, N = 2 * simd_width() + 1, K = 9;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb)
      for (int broadcast = 0; broadcast < 3; ++broadcast) {
        const size_t stride_a = broadcast == 1 ? 0 : M * K + 1, stride_b = broadcast == 2 ? 0 : K * N + 2;
        const size_t lda = ta ? M : K, ldb = tb ? K : N, ldc = N + 1, stride_c = M * ldc + 3;
        const std::vector<float> A = random_vector(batch * (M * K + 1), rng);
        const std::vector<float> B = random_vector(batch * (K * N + 2), rng);
        const std::vector<float> C0 = random_vector(batch * stride_c, rng);
        std::vector<double> expected(batch * M * N), scale(batch * M * N);
        for (size_t i = 0; i < batch; ++i)
          ref::gemm(ta, tb, M, N, K, 0.5f, A.data() + i * stride_a, lda, B.data() + i * stride_b, ldb, 1.0f,
                    C0.data() + i * stride_c, ldc, expected.data() + i * M * N, scale.data() + i * M * N);
        for (GemmBatchedKernel fn : {simd, scalar}) {
          std::vector<float> C = C0, got;
          fn(batch, ta, tb, M, N, K, 0.5f, A.data(), lda, stride_a, B.data(), ldb, stride_b, 1.0f, C.data(), ldc,
             stride_c);
          for (size_t i = 0; i < batch; ++i)
            for (size_t r = 0; r < M; ++r)
              got.insert(got.end(), C.begin() + i * stride_c + r * ldc, C.begin() + i * stride_c + r * ldc + N);
          EXPECT_TRUE(check(got.data(), expected.data(), got.size(), tol, fn == simd ? &ms : &mt, scale.data()))
              << name << (fn == simd ? "" : "__scalar") << " trans_a=" << ta << " trans_b=" << tb << " broadcast "
              << (broadcast == 1   ? "A"
                  : broadcast == 2 ? "B"
                                   : "none");
        }
      }
  report(name, tol, ms, mt);
}
#define ATTN_GEMM_BATCHED_KERNEL(name)                                            \
  TEST(Kernels, name##MatchesReferenceWithBroadcastStrides) {                     \
    test_gemm_batched_kernel(#name, f32_##name, f32_##name##__scalar, tol::name); \
  }
#include "kernels/registry.inc"

using GemmPackedKernel = void (*)(size_t, size_t, size_t, float, const float*, size_t, const float*, float, float*,
                                  size_t) noexcept;

// Packs op(B) (B's row padding NaN) into a guarded buffer of exactly gemm_packed_b_floats(K, N),
// runs the kernel and its twin on it, and checks both against the reference as check_gemm
// does. alpha == 0 runs on NaN A and NaN panels: neither may be read.
void check_gemm_packed(const char* name, GemmPackedKernel simd, GemmPackedKernel scalar, const Tolerance& t, bool tb,
                       const GemmShape& s, float alpha, float beta, Rng& rng, Measured* ms, Measured* mt) {
  const size_t lda = s.K + 1, ldb = (tb ? s.K : s.N) + 2, ldc = s.N + 3;
  std::vector<float> A = padded_matrix(s.M, s.K, 1, rng);
  const std::vector<float> B = padded_matrix(tb ? s.N : s.K, tb ? s.K : s.N, 2, rng);
  std::vector<float> C0 = random_vector(s.M * ldc, rng);
  if (beta == 0.0f) std::fill(C0.begin(), C0.end(), kNaN);
  const std::string what = std::string(name) + " M=" + std::to_string(s.M) + " N=" + std::to_string(s.N) +
                           " K=" + std::to_string(s.K) + " trans_b=" + std::to_string(tb) +
                           " alpha=" + std::to_string(alpha) + " beta=" + std::to_string(beta);
  const size_t floats = gemm_packed_b_floats(s.K, s.N);
  ASSERT_GE(floats, s.K * s.N) << what;
  Guarded packed(floats, kNaN);
  gemm_pack_b(tb, s.K, s.N, B.data(), ldb, packed.data());
  ASSERT_TRUE(packed.intact()) << what << ": gemm_pack_b wrote past gemm_packed_b_floats";
  std::vector<double> expected(s.M * s.N), scale(s.M * s.N);
  ref::gemm(false, tb, s.M, s.N, s.K, alpha, A.data(), lda, B.data(), ldb, beta, C0.data(), ldc, expected.data(),
            scale.data());
  if (alpha == 0.0f) {
    std::fill(A.begin(), A.end(), kNaN);
    std::fill(packed.data(), packed.data() + floats, kNaN);
  }
  for (GemmPackedKernel fn : {simd, scalar}) {
    Guarded C(C0);
    fn(s.M, s.N, s.K, alpha, A.data(), lda, packed.data(), beta, C.data(), ldc);
    std::vector<float> got(s.M * s.N);
    for (size_t i = 0; i < s.M; ++i)
      for (size_t j = 0; j < s.N; ++j) got[i * s.N + j] = C[i * ldc + j];
    const Closeness c = compare(got.data(), expected.data(), got.size(), t.atol, t.rtol, scale.data());
    if (Measured* m = fn == simd ? ms : mt) m->add(c);
    const auto at = [&](size_t i) { return "[" + std::to_string(i / s.N) + ", " + std::to_string(i % s.N) + "]"; };
    EXPECT_EQ(c.bad, 0u) << (fn == simd ? "" : "scalar twin ") << what << ": " << c.bad << " of " << got.size()
                         << " elements differ; first at " << at(c.first_bad) << ": " << got[c.first_bad]
                         << " vs expected " << expected[c.first_bad] << "; max abs err " << c.max_abs << " at "
                         << at(c.worst_abs) << ", max rel err " << c.max_rel << " at " << at(c.worst_rel);
    bool padding_intact = C.intact();
    for (size_t i = 0; i < s.M; ++i)
      for (size_t j = s.N; j < ldc; ++j) {
        const float v = C[i * ldc + j], v0 = C0[i * ldc + j];
        padding_intact &= v == v0 || (std::isnan(v) && std::isnan(v0));
      }
    EXPECT_TRUE(padding_intact) << what << " wrote outside C";
  }
}

// Every shape around the micro-tile (rows 1 ... 4 run unpadded) with B packed from either
// orientation and every beta; then M = 1 and M = 4k+1 past each panel (depth 256, columns
// 1024, rows 128) and twice past the column panel; empty shapes; alpha == 0.
void test_gemm_packed_kernel(const char* name, GemmPackedKernel simd, GemmPackedKernel scalar, const Tolerance& tol) {
  Rng rng(37);
  Measured ms, mt;
  const size_t w = simd_width();
  const size_t dims[] = {1, 2, 3, 5, w, 2 * w + 1, 3 * w + 1, 17};
  for (size_t M : dims)
    for (size_t N : dims)
      for (size_t K : dims)
        for (int tb = 0; tb < 2; ++tb)
          for (float beta : {0.0f, 1.0f, -0.5f})
            check_gemm_packed(name, simd, scalar, tol, tb, {M, N, K}, 0.75f, beta, rng, &ms, &mt);
  const GemmShape panels[] = {{1, 1024 + 7, 257},     {1, 2 * 1024 + 2 * w + 3, 3}, {2, 3, 2 * 256 + 1},
                              {130, 9, 257},          {129, 1024 + 7, 257},         {4, 1024, 256},
                              {6, 2 * 1024 + 1, 260}, {0, 4, 4},                    {4, 0, 4},
                              {4, 4, 0},              {1, 4, 0}};
  for (const GemmShape& s : panels)
    for (int tb = 0; tb < 2; ++tb)
      for (float beta : {0.0f, 1.0f}) check_gemm_packed(name, simd, scalar, tol, tb, s, -1.25f, beta, rng, &ms, &mt);
  report(name, tol, ms, mt);
  for (float beta : {0.0f, 1.0f, 2.0f})
    for (size_t M : {size_t{1}, size_t{5}})
      check_gemm_packed(name, simd, scalar, tol, true, {M, 2 * w + 1, 5}, 0.0f, beta, rng, nullptr, nullptr);
}
#define ATTN_GEMM_PACKED_KERNEL(name)                                            \
  TEST(Kernels, name##MatchesReferenceAcrossShapesAndPanels) {                   \
    test_gemm_packed_kernel(#name, f32_##name, f32_##name##__scalar, tol::name); \
  }
#include "kernels/registry.inc"

TEST(Kernels, GemmPackedBSizeSaturates) {
  // round_up(N, strip) * K floats: at least K * N, at most one strip of padding per row of op(B).
  const size_t strip = 2 * simd_width();
  EXPECT_EQ(gemm_packed_b_floats(0, 5), 0u);
  EXPECT_EQ(gemm_packed_b_floats(5, 0), 0u);
  EXPECT_EQ(gemm_packed_b_floats(3, strip), 3 * strip);
  EXPECT_EQ(gemm_packed_b_floats(3, strip + 1), 3 * 2 * strip);
  EXPECT_EQ(gemm_packed_b_floats(SIZE_MAX / 2, 3), SIZE_MAX);
  EXPECT_EQ(gemm_packed_b_floats(1, SIZE_MAX - 1), SIZE_MAX);
}

}  // namespace
}  // namespace attn::testing
