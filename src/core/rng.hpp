// Seeded random numbers that are the same natively and in wasm: PCG32
// (O'Neill, pcg-random.org, "pcg32_random_r") for the integer stream, floats
// built from its top 24 bits, normals by Box-Muller in double precision.
// std::mt19937 is portable too, but std::normal_distribution is not (libstdc++
// and libc++ differ), hence our own transforms. scripts/gen_fixtures.py holds an
// independent Python implementation whose numbers the tests compare against.
#pragma once

#include <cstdint>

#include "core/tensor.hpp"

namespace attn {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0x853c49e6748fea9bULL, uint64_t stream = 0xda3e39cb94b95bdbULL);

  uint32_t next_u32();
  float uniform();                       // [0, 1), multiples of 2^-24
  float uniform(float lo, float hi);     // [lo, hi)
  float normal(float mean = 0.0f, float stddev = 1.0f);
  uint32_t below(uint32_t n);            // uniform integer in [0, n), unbiased (rejection)

 private:
  uint64_t state_;
  uint64_t inc_;
  double spare_normal_ = 0.0;
  bool has_spare_ = false;
};

// Tensors filled from an Rng, in row-major order.
Tensor randn(const Shape& shape, Rng& rng);
Tensor rand_uniform(const Shape& shape, Rng& rng, float lo = 0.0f, float hi = 1.0f);

}  // namespace attn
