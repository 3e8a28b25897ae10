// Test helpers: closeness checks that report the max abs/rel error and where,
// seeded random inputs, and the fixture loader.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/tensor.hpp"

namespace attn::testing {

// Named tolerances. SIMD vs scalar twin: differences come only from summation
// order and from xsimd's exp/tanh/erf (<= 2 ulp) versus libm.
constexpr float kElementwiseRtol = 2e-6f;   // one transcendental per element
constexpr float kElementwiseAtol = 1e-7f;
constexpr float kReductionRtol = 1e-5f;     // sums of up to ~1000 terms
constexpr float kTorchRtol = 1e-5f;         // against PyTorch fixtures
constexpr float kTorchAtol = 1e-5f;

struct Closeness {
  double max_abs = 0, max_rel = 0;
  size_t worst = 0;
  size_t bad = 0;
  size_t first_bad = 0;
};

// |a - b| <= atol + rtol * |b| per element; NaN must match NaN and infinities must match exactly.
inline Closeness compare(const float* a, const float* b, size_t n, float atol, float rtol) {
  Closeness c;
  for (size_t i = 0; i < n; ++i) {
    bool ok;
    double d = 0;
    if (std::isnan(b[i]) || std::isnan(a[i])) {
      ok = std::isnan(a[i]) && std::isnan(b[i]);
    } else if (std::isinf(b[i]) || std::isinf(a[i])) {
      ok = a[i] == b[i];
    } else {
      d = std::fabs(double(a[i]) - b[i]);
      ok = d <= atol + rtol * std::fabs(b[i]);
      double rel = d / std::max(1e-30, std::fabs(double(b[i])));
      if (d > c.max_abs) {
        c.max_abs = d;
        c.worst = i;
      }
      c.max_rel = std::max(c.max_rel, rel);
    }
    if (!ok && c.bad++ == 0) c.first_bad = i;
  }
  return c;
}

inline ::testing::AssertionResult all_close(const float* actual, const float* expected, size_t n, float atol,
                                            float rtol) {
  Closeness c = compare(actual, expected, n, atol, rtol);
  if (c.bad == 0) return ::testing::AssertionSuccess() << "max abs " << c.max_abs << ", max rel " << c.max_rel;
  return ::testing::AssertionFailure() << c.bad << " of " << n << " elements differ (atol " << atol << ", rtol "
                                       << rtol << "); first at " << c.first_bad << ": " << actual[c.first_bad]
                                       << " vs expected " << expected[c.first_bad] << "; max abs err " << c.max_abs
                                       << " at " << c.worst << ", max rel err " << c.max_rel;
}

inline ::testing::AssertionResult all_close(const std::vector<float>& actual, const std::vector<float>& expected,
                                            float atol, float rtol) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure() << "sizes differ: " << actual.size() << " vs " << expected.size();
  return all_close(actual.data(), expected.data(), actual.size(), atol, rtol);
}

inline ::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, float atol, float rtol) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shapes differ: " << shape_str(actual.shape()) << " vs "
                                         << shape_str(expected.shape());
  return all_close(actual.to_vector(), expected.to_vector(), atol, rtol);
}

inline std::vector<float> random_vector(size_t n, Rng& rng, float lo = -3.0f, float hi = 3.0f) {
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform(lo, hi);
  return v;
}

// Sizes around the SIMD width W: 1 ... 3W+1, plus odd and larger ones.
std::vector<size_t> sizes_around_width(bool with_zero = true);

// Expects `fn` to throw attn::Error whose message contains every fragment.
template <class Fn>
::testing::AssertionResult throws_error(Fn fn, std::initializer_list<const char*> fragments) {
  try {
    fn();
  } catch (const Error& e) {
    std::string msg = e.what();
    for (const char* f : fragments)
      if (msg.find(f) == std::string::npos)
        return ::testing::AssertionFailure() << "message \"" << msg << "\" lacks \"" << f << "\"";
    return ::testing::AssertionSuccess() << msg;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-attn exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

std::string fixture_path(const std::string& name);

}  // namespace attn::testing
