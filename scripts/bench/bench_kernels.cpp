// Kernel benchmark (not a test): every kernel of src/kernels/registry.inc next to its
// scalar twin, one row per kernel and size. Throughput is millions of elements per
// second (GEMM: GFLOP/s). Run natively and under Node (npm run bench:kernels);
//   attn_bench_kernels [--quick] [name ...]   (names: run only kernels whose name contains one)
// Kernels are called through volatile function pointers and warmed up first: V8 has
// no on-stack replacement for wasm, so a hot loop inside a run-once main() would stay
// on the baseline compiler.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "kernels/activation.hpp"
#include "kernels/additive.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/gemm.hpp"
#include "kernels/norm.hpp"
#include "kernels/reduce.hpp"
#include "kernels/simd_info.hpp"
#include "kernels/softmax.hpp"
#include "kernels/transpose.hpp"

using namespace attn;
using namespace attn::kernels;

namespace {
double g_min_time = 0.1;                // seconds per timing rep
std::vector<std::string> g_filters;     // empty: every kernel
volatile float g_sink;                  // keeps reductions from being optimised away
constexpr size_t kVectorLength = 4096;  // elementwise and reduction kernels: 16 KB per array, in L1
constexpr size_t kRows = 256;           // row kernels (softmax, norms): rows per call

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Best-of-3 seconds per call, each rep running at least min_time.
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

bool selected(const char* name) {
  if (g_filters.empty()) return true;
  for (const std::string& f : g_filters)
    if (std::strstr(name, f.c_str())) return true;
  return false;
}

std::vector<float> random_floats(size_t n, float lo = -3.0f, float hi = 3.0f) {
  static Rng rng(1);
  std::vector<float> v(n);
  for (auto& x : v) x = rng.uniform(lo, hi);
  return v;
}

// One row: `work` units per call (elements, or flops for GEMM), scaled by `unit_scale` for printing.
void row(const char* name, const std::string& size, double work, double t_simd, double t_scalar, const char* unit,
         double unit_scale = 1e-6) {
  std::printf("%-16s %12s %12.1f %12.1f %-8s %7.1fx\n", name, size.c_str(), work / t_simd * unit_scale,
              work / t_scalar * unit_scale, unit, t_scalar / t_simd);
  std::fflush(stdout);
}

// Times simd and scalar with the same call shape: call(fn) runs the kernel once.
template <class Fn, class Call>
void bench(const char* name, const std::string& size, double work, Fn simd, Fn scalar, Call call,
           const char* unit = "Melem/s", double unit_scale = 1e-6, double scalar_min_time = -1) {
  volatile Fn vs = simd, vr = scalar;
  const double ts = time_call([&] { call(Fn(vs)); }, g_min_time);
  const double tr = time_call([&] { call(Fn(vr)); }, scalar_min_time < 0 ? g_min_time : scalar_min_time);
  row(name, size, work, ts, tr, unit, unit_scale);
}

using Unary = void (*)(size_t, const float*, float*) noexcept;
using Binary = void (*)(size_t, const float*, const float*, float*) noexcept;
using BinaryScalar = void (*)(size_t, const float*, float, float*) noexcept;
using Axpy = void (*)(size_t, float, const float*, float*) noexcept;
using Reduce = float (*)(size_t, const float*) noexcept;
using Argmax = size_t (*)(size_t, const float*) noexcept;
using Dot = float (*)(size_t, const float*, const float*) noexcept;
using AdditiveScore = float (*)(size_t, const float*, const float*, const float*) noexcept;
using Softmax = void (*)(size_t, const float*, float, const float*, const uint8_t*, float*) noexcept;
using Layernorm = void (*)(size_t, const float*, const float*, const float*, float, float*, float*, float*) noexcept;
using Rmsnorm = void (*)(size_t, const float*, const float*, float, float*, float*) noexcept;
using Transpose = void (*)(size_t, size_t, const float*, size_t, float*, size_t) noexcept;
using Gemm = void (*)(bool, bool, size_t, size_t, size_t, float, const float*, size_t, const float*, size_t, float,
                      float*, size_t) noexcept;
using GemmBatched = void (*)(size_t, bool, bool, size_t, size_t, size_t, float, const float*, size_t, size_t,
                             const float*, size_t, size_t, float, float*, size_t, size_t) noexcept;
using GemmPacked = void (*)(size_t, size_t, size_t, float, const float*, size_t, const float*, float, float*,
                            size_t) noexcept;

const std::string kLength = std::to_string(kVectorLength);

void bench_unary(const char* name, Unary simd, Unary scalar) {
  std::vector<float> x = random_floats(kVectorLength), y(kVectorLength);
  bench(name, kLength, kVectorLength, simd, scalar, [&](Unary f) { f(kVectorLength, x.data(), y.data()); });
}
void bench_binary(const char* name, Binary simd, Binary scalar) {
  std::vector<float> a = random_floats(kVectorLength), b = random_floats(kVectorLength), y(kVectorLength);
  bench(name, kLength, kVectorLength, simd, scalar, [&](Binary f) { f(kVectorLength, a.data(), b.data(), y.data()); });
}
void bench_binary_scalar(const char* name, BinaryScalar simd, BinaryScalar scalar) {
  std::vector<float> a = random_floats(kVectorLength), y(kVectorLength);
  bench(name, kLength, kVectorLength, simd, scalar,
        [&](BinaryScalar f) { f(kVectorLength, a.data(), 0.5f, y.data()); });
}
void bench_axpy(const char* name, Axpy simd, Axpy scalar) {
  std::vector<float> x = random_floats(kVectorLength), y(kVectorLength);
  bench(name, kLength, kVectorLength, simd, scalar, [&](Axpy f) { f(kVectorLength, 1e-3f, x.data(), y.data()); });
}
void bench_reduce(const char* name, Reduce simd, Reduce scalar) {
  std::vector<float> x = random_floats(kVectorLength);
  bench(name, kLength, kVectorLength, simd, scalar, [&](Reduce f) { g_sink = f(kVectorLength, x.data()); });
}
void bench_argmax(const char* name, Argmax simd, Argmax scalar) {
  std::vector<float> x = random_floats(kVectorLength);
  bench(name, kLength, kVectorLength, simd, scalar,
        [&](Argmax f) { g_sink = static_cast<float>(f(kVectorLength, x.data())); });
}
void bench_dot(const char* name, Dot simd, Dot scalar) {
  std::vector<float> a = random_floats(kVectorLength), b = random_floats(kVectorLength);
  bench(name, kLength, kVectorLength, simd, scalar, [&](Dot f) { g_sink = f(kVectorLength, a.data(), b.data()); });
}
void bench_additive_score(const char* name, AdditiveScore simd, AdditiveScore scalar) {
  std::vector<float> q = random_floats(kVectorLength), k = random_floats(kVectorLength),
                     v = random_floats(kVectorLength);
  bench(name, kLength, kVectorLength, simd, scalar,
        [&](AdditiveScore f) { g_sink = f(kVectorLength, q.data(), k.data(), v.data()); });
}

// Row kernels: kRows rows of n per call, at a short (64) and a long (1024) row.
template <class Fn, class RowCall>
void bench_rows(const char* name, Fn simd, Fn scalar, RowCall row_call) {
  for (size_t n : {64u, 1024u}) {
    std::vector<float> x = random_floats(kRows * n, -5.0f, 5.0f), y(kRows * n), g = random_floats(n),
                       b = random_floats(n);
    bench(name, std::to_string(kRows) + "x" + std::to_string(n), double(kRows) * n, simd, scalar, [&](Fn f) {
      for (size_t r = 0; r < kRows; ++r) row_call(f, n, x.data() + r * n, g.data(), b.data(), y.data() + r * n);
    });
  }
}
void bench_softmax(const char* name, Softmax simd, Softmax scalar) {
  bench_rows(name, simd, scalar, [](Softmax f, size_t n, const float* x, const float*, const float*, float* y) {
    f(n, x, 0.125f, nullptr, nullptr, y);
  });
}
void bench_layernorm(const char* name, Layernorm simd, Layernorm scalar) {
  bench_rows(name, simd, scalar, [](Layernorm f, size_t n, const float* x, const float* g, const float* b, float* y) {
    f(n, x, g, b, 1e-5f, y, nullptr, nullptr);
  });
}
void bench_rmsnorm(const char* name, Rmsnorm simd, Rmsnorm scalar) {
  bench_rows(name, simd, scalar, [](Rmsnorm f, size_t n, const float* x, const float* g, const float*, float* y) {
    f(n, x, g, 1e-6f, y, nullptr);
  });
}

void bench_transpose(const char* name, Transpose simd, Transpose scalar) {
  const size_t n = 512;
  std::vector<float> src = random_floats(n * n), dst(n * n);
  bench(name, "512x512", double(n) * n, simd, scalar, [&](Transpose f) { f(n, n, src.data(), n, dst.data(), n); });
}

// Square GEMMs. The scalar twin is O(n^3) with no blocking: one rep per timing at the big sizes.
void bench_gemm(const char* name, Gemm simd, Gemm scalar) {
  for (size_t n : {64u, 128u, 256u, 512u, 1024u}) {
    std::vector<float> A = random_floats(n * n, -1, 1), B = random_floats(n * n, -1, 1), C(n * n);
    bench(
        name, std::to_string(n), 2.0 * n * n * n, simd, scalar,
        [&](Gemm f) { f(false, false, n, n, n, 1.0f, A.data(), n, B.data(), n, 0.0f, C.data(), n); }, "GFLOP/s", 1e-9,
        n >= 512 ? 0.0 : -1);
  }
}

// Attention-shaped: per head, scores = Q K^T for 16 heads of 128 x 64.
void bench_gemm_batched(const char* name, GemmBatched simd, GemmBatched scalar) {
  const size_t heads = 16, L = 128, d = 64;
  std::vector<float> Q = random_floats(heads * L * d, -1, 1), K = random_floats(heads * L * d, -1, 1), S(heads * L * L);
  bench(
      name, "16x128x128x64", 2.0 * heads * L * L * d, simd, scalar,
      [&](GemmBatched f) {
        f(heads, false, true, L, L, d, 0.125f, Q.data(), d, L * d, K.data(), d, L * d, 0.0f, S.data(), L, L * L);
      },
      "GFLOP/s", 1e-9);
}
// nn::Linear's shapes: y (M x N) = x (M x K) W^T with W (N x K) packed once, at M = 1
// (single-token decode) and M = 128 (a prompt). Each row is followed by what the same
// product costs without the pre-packing: f32_gemm (packs W^T per call) and, for M = 1,
// one f32_dot per output against W's rows (the matrix-vector alternative).
void bench_gemm_packed(const char* name, GemmPacked simd, GemmPacked scalar) {
  for (size_t n : {256u, 1024u})
    for (size_t M : {1u, 128u}) {
      const size_t N = n, K = n;
      std::vector<float> x = random_floats(M * K, -1, 1), W = random_floats(N * K, -1, 1), y(M * N);
      // 64-byte aligned, as Tensor storage is: a std::vector's 16 would split AVX-512 loads.
      std::vector<float> packed_storage(gemm_packed_b_floats(K, N) + 16);
      float* packed = packed_storage.data() + (64 - reinterpret_cast<uintptr_t>(packed_storage.data()) % 64) % 64 / 4;
      gemm_pack_b(true, K, N, W.data(), K, packed);
      const std::string size = std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
      const double flops = 2.0 * M * N * K;
      bench(
          name, size, flops, simd, scalar,
          [&](GemmPacked f) { f(M, N, K, 1.0f, x.data(), K, packed, 0.0f, y.data(), N); }, "GFLOP/s", 1e-9,
          M * N * K >= (size_t{1} << 27) ? 0.0 : -1);
      bench(
          " vs gemm W^T", size, flops, Gemm(f32_gemm), Gemm(f32_gemm__scalar),
          [&](Gemm f) { f(false, true, M, N, K, 1.0f, x.data(), K, W.data(), K, 0.0f, y.data(), N); }, "GFLOP/s",
          1e-9, M * N * K >= (size_t{1} << 27) ? 0.0 : -1);
      if (M == 1)
        bench(
            " vs dot rows", size, flops, Dot(f32_dot), Dot(f32_dot__scalar),
            [&](Dot f) {
              for (size_t j = 0; j < N; ++j) y[j] = f(K, W.data() + j * K, x.data());
            },
            "GFLOP/s", 1e-9);
    }
}
}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      g_min_time = 0.02;
    } else {
      g_filters.push_back(argv[i]);
    }
  }
#ifdef __EMSCRIPTEN__
  const char* target = "wasm";
#else
  const char* target = "native";
#endif
  std::printf("# attention-playground kernel benchmark: %s, xsimd arch %s (%zu floats/vector)\n", target,
              simd_arch_name(), simd_width());
  std::printf("%-16s %12s %12s %12s %-8s %8s\n", "kernel", "size", "simd", "scalar", "unit", "speed-up");

#define ATTN_BENCH(family, name) \
  if (selected(#name)) bench_##family(#name, f32_##name, f32_##name##__scalar);
#define ATTN_UNARY_KERNEL(name, torch_name) ATTN_BENCH(unary, name)
#define ATTN_BINARY_KERNEL(name, op) ATTN_BENCH(binary, name)
#define ATTN_BINARY_SCALAR_KERNEL(name, op) ATTN_BENCH(binary_scalar, name)
#define ATTN_AXPY_KERNEL(name) ATTN_BENCH(axpy, name)
#define ATTN_REDUCE_KERNEL(name) ATTN_BENCH(reduce, name)
#define ATTN_ARGMAX_KERNEL(name) ATTN_BENCH(argmax, name)
#define ATTN_DOT_KERNEL(name) ATTN_BENCH(dot, name)
#define ATTN_ADDITIVE_SCORE_KERNEL(name) ATTN_BENCH(additive_score, name)
#define ATTN_SOFTMAX_KERNEL(name) ATTN_BENCH(softmax, name)
#define ATTN_LAYERNORM_KERNEL(name) ATTN_BENCH(layernorm, name)
#define ATTN_RMSNORM_KERNEL(name) ATTN_BENCH(rmsnorm, name)
#define ATTN_TRANSPOSE_KERNEL(name) ATTN_BENCH(transpose, name)
#define ATTN_GEMM_KERNEL(name) ATTN_BENCH(gemm, name)
#define ATTN_GEMM_BATCHED_KERNEL(name) ATTN_BENCH(gemm_batched, name)
#define ATTN_GEMM_PACKED_KERNEL(name) ATTN_BENCH(gemm_packed, name)
#include "kernels/registry.inc"
#undef ATTN_BENCH
  return 0;
}
