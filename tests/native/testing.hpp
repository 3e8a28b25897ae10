// Test helpers: closeness checks that report the max abs/rel error and where,
// seeded random inputs, and the fixture loader.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "core/tensor.hpp"
#include "io/model_loader.hpp"

namespace attn::testing {

// Tolerances against PyTorch fixtures. The kernels' own tolerances, one per
// kernel, are in kernels_test.cpp.
constexpr float kTorchRtol = 1e-5f;
constexpr float kTorchAtol = 1e-5f;

// Worst elements of a comparison. The relative error of an element is its absolute
// error over |expected| (or over the caller's scale, see compare()).
struct Closeness {
  double max_abs = 0, max_rel = 0, max_of_bound = 0;  // max_of_bound: worst error / its bound (1 = at the bound)
  size_t worst_abs = 0, worst_rel = 0;
  size_t bad = 0;
  size_t first_bad = 0;
};

// Per element: |actual - expected| <= atol + rtol * scale, where scale is |expected|, or
// scale[i] when given (a reduction's error is proportional to sum |terms|, not to
// |result|). Expected values may be double (an exact-ish reference): infinities and
// NaN are compared after rounding them to float, so a reference above FLT_MAX expects
// inf. NaN must match NaN and infinities must match exactly.
template <class T>
Closeness compare(const float* actual, const T* expected, size_t n, double atol, double rtol,
                  const double* scale = nullptr) {
  Closeness c;
  for (size_t i = 0; i < n; ++i) {
    const float a = actual[i], e = static_cast<float>(expected[i]);
    bool ok;
    if (std::isnan(a) || std::isnan(e)) {
      ok = std::isnan(a) && std::isnan(e);
    } else if (std::isinf(a) || std::isinf(e)) {
      ok = a == e;
    } else {
      const double d = std::fabs(double(a) - double(expected[i]));
      const double s = scale ? scale[i] : std::fabs(double(expected[i]));
      const double bound = atol + rtol * s;
      ok = d <= bound;
      const double rel = d / std::max(1e-30, s);
      if (d > c.max_abs) {
        c.max_abs = d;
        c.worst_abs = i;
      }
      if (rel > c.max_rel) {
        c.max_rel = rel;
        c.worst_rel = i;
      }
      c.max_of_bound = std::max(c.max_of_bound, bound > 0 ? d / bound : d > 0 ? INFINITY : 0.0);
    }
    if (!ok && c.bad++ == 0) c.first_bad = i;
  }
  return c;
}

template <class T>
::testing::AssertionResult all_close(const float* actual, const T* expected, size_t n, double atol, double rtol,
                                     const double* scale = nullptr) {
  Closeness c = compare(actual, expected, n, atol, rtol, scale);
  if (c.bad == 0) return ::testing::AssertionSuccess() << "max abs " << c.max_abs << ", max rel " << c.max_rel;
  return ::testing::AssertionFailure() << c.bad << " of " << n << " elements differ (atol " << atol << ", rtol " << rtol
                                       << (scale ? " of the given scale" : "") << "); first at " << c.first_bad << ": "
                                       << actual[c.first_bad] << " vs expected " << expected[c.first_bad]
                                       << "; max abs err " << c.max_abs << " at " << c.worst_abs << ", max rel err "
                                       << c.max_rel << " at " << c.worst_rel;
}

inline ::testing::AssertionResult all_close(const std::vector<float>& actual, const std::vector<float>& expected,
                                            double atol, double rtol) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure() << "sizes differ: " << actual.size() << " vs " << expected.size();
  return all_close(actual.data(), expected.data(), actual.size(), atol, rtol);
}

inline ::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double atol, double rtol) {
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

// Expects `fn` to throw attn::Error whose message starts with `prefix`, is at most
// `max_length` bytes and contains every fragment.
template <class Fn>
::testing::AssertionResult throws_error(Fn fn, std::initializer_list<const char*> fragments,
                                        const char* prefix = "", size_t max_length = std::string::npos) {
  try {
    fn();
  } catch (const Error& e) {
    std::string msg = e.what();
    if (msg.rfind(prefix, 0) != 0)
      return ::testing::AssertionFailure() << "message \"" << msg << "\" does not start with \"" << prefix << "\"";
    if (msg.size() > max_length)
      return ::testing::AssertionFailure() << "message is " << msg.size() << " bytes: " << msg.substr(0, 200);
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
// A path in the source tree, e.g. source_path("src/kernels").
std::string source_path(const std::string& relative);
// A file's bytes; empty when it cannot be read.
std::string read_file(const std::string& path);

// A model the page ships (web/models/<name>), loaded through io::load_model as the page loads it,
// with its MODEL_CARD.md and the held-out slice the card states ("Held-out slice (first N ...):
// accuracy|loss X") and the seed of its retrain command ("--seed S"; 0 when absent).
struct ShippedModel {
  io::LoadedModel loaded;
  std::string card;
  int64_t slice_count = 0;
  double slice_value = 0;
  uint64_t seed = 0;
};
ShippedModel load_shipped(const std::string& name);

}  // namespace attn::testing
