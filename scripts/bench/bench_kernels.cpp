// Kernel benchmark (not a test): GEMM GFLOP/s for square sizes, the SIMD kernel
// next to its scalar twin, plus softmax throughput. Run natively and under Node
// (npm run bench:kernels). Kernels are called through volatile function
// pointers and warmed up first: V8 has no on-stack replacement for wasm, so a
// hot loop inside a run-once main() would stay on the baseline compiler.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/rng.hpp"
#include "kernels/gemm.hpp"
#include "kernels/simd_info.hpp"
#include "kernels/softmax.hpp"

using namespace attn;
using namespace attn::kernels;

namespace {
using GemmFn = void (*)(bool, bool, size_t, size_t, size_t, float, const float*, size_t, const float*, size_t, float,
                        float*, size_t);
using SoftmaxFn = void (*)(size_t, const float*, float, const float*, const uint8_t*, float*);

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Best-of-reps seconds per call, running at least min_time per rep.
template <class Fn>
double time_call(Fn fn, double min_time) {
  fn();  // warm-up (also tiers up wasm)
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    int iters = 0;
    double t0 = now_s(), t1;
    do {
      fn();
      ++iters;
      t1 = now_s();
    } while (t1 - t0 < min_time);
    best = std::min(best, (t1 - t0) / iters);
  }
  return best;
}
}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const double min_time = quick ? 0.02 : 0.2;
#ifdef __EMSCRIPTEN__
  const char* target = "wasm";
#else
  const char* target = "native";
#endif
  std::printf("# attention-playground kernel benchmark: %s, xsimd arch %s (%zu floats/vector)\n", target,
              simd_arch_name(), simd_width());
  std::printf("%-8s %6s %12s %12s %9s\n", "kernel", "size", "simd GF/s", "scalar GF/s", "speed-up");
  volatile GemmFn simd = f32_gemm, scalar = f32_gemm__scalar;
  Rng rng(1);
  for (size_t n : {64u, 128u, 256u, 512u, 1024u}) {
    std::vector<float> A(n * n), B(n * n), C(n * n);
    for (auto& v : A) v = rng.uniform(-1, 1);
    for (auto& v : B) v = rng.uniform(-1, 1);
    const double flops = 2.0 * n * n * n;
    double ts = time_call([&] { simd(false, false, n, n, n, 1.0f, A.data(), n, B.data(), n, 0.0f, C.data(), n); },
                          min_time);
    // The scalar twin is O(n^3) with no blocking: time it on fewer reps at the big sizes.
    double tr = time_call(
        [&] { scalar(false, false, n, n, n, 1.0f, A.data(), n, B.data(), n, 0.0f, C.data(), n); },
        n >= 512 ? 0.0 : min_time);
    std::printf("%-8s %6zu %12.2f %12.2f %8.1fx\n", "gemm", n, flops / ts * 1e-9, flops / tr * 1e-9, tr / ts);
    std::fflush(stdout);
  }
  volatile SoftmaxFn sm = f32_softmax, sm_scalar = f32_softmax__scalar;
  for (size_t n : {64u, 1024u}) {
    const size_t rows = 256;
    std::vector<float> x(rows * n), y(rows * n);
    for (auto& v : x) v = rng.uniform(-5, 5);
    auto run = [&](SoftmaxFn fn) {
      for (size_t r = 0; r < rows; ++r) fn(n, x.data() + r * n, 0.125f, nullptr, nullptr, y.data() + r * n);
    };
    double ts = time_call([&] { run(sm); }, min_time), tr = time_call([&] { run(sm_scalar); }, min_time);
    const double elems = double(rows) * n;
    std::printf("%-8s %6zu %9.1f Me/s %9.1f Me/s %6.1fx\n", "softmax", n, elems / ts * 1e-6, elems / tr * 1e-6,
                tr / ts);
  }
  return 0;
}
