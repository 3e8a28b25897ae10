// nn::Linear: torch.nn.Linear (same arguments, init distribution, state_dict keys
// "weight" (out, in) and "bias" (out)). Every projection in the engine is one of
// these: attention/ builds on this header, which depends only on core/, kernels/
// and ops/ (it is the one nn/ layer below attention/).
//
// Two ways to call it:
//  - forward(x): the allocating convenience on tensors, x (..., in) -> (..., out);
//    it reads `weight` itself (F.linear), so it always sees the current values.
//  - forward(y, ldy, x, ldx, rows): into caller memory, no allocation, no throw:
//    y (rows, out) = x (rows, in) W^T + b with row strides ldx/ldy (in floats).
//    It runs kernels::f32_gemm_packed on W^T packed once into the GEMM's panel
//    layout (packed_, built by parameters_changed), for every rows, 1 included:
//    single-token decode is then a vector x panel product along the packed strips.
//    Measured with attn_bench_kernels gemm_packed (GFLOP/s, in = out = 256 / 1024, on a
//    shared 2-core machine, +-20% run to run): one row in wasm SIMD128 (what ships),
//    36-37 / 36 against 17-22 / 23-24 for one f32_dot per output against W's rows (the
//    matrix-vector path this replaced) and 5 / 4.5 for f32_gemm packing W^T per call;
//    native SSE2 38 / 37 against 31 / 31 in a quiet run, a tie (~30) under load. 128
//    rows: wasm 46-47 / 45-46 against f32_gemm's 42-44 / 45; native SSE2 within noise
//    (35-44 against 38-42); AVX-512 159 / 133 against 125 / 64-97.
//    The bias is copied into y's rows first and the GEMM accumulates onto it (beta 1).
//
// The packed copy follows `weight` only when parameters_changed() runs: the Module
// runs it after load_state_dict() and pack_parameters(); code that writes the weight
// in place (an optimizer step, a test setting values) must call it afterwards, or
// forward(y, ...) keeps using the old weight. The bias is read directly, not copied.
#pragma once

#include "core/module.hpp"
#include "core/rng.hpp"

namespace attn::nn {

class Linear : public Module {
 public:
  // torch's reset_parameters: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)), from `rng`.
  Linear(int64_t in_features, int64_t out_features, bool bias, Rng& rng);

  Tensor forward(const Tensor& x) const;
  void forward(float* y, int64_t ldy, const float* x, int64_t ldx, int64_t rows) const noexcept;

  // Re-packs `weight` for forward(y, ...): after every in-place change of the weight.
  void parameters_changed() override;

  int64_t in_features, out_features;
  Tensor weight;  // (out, in)
  Tensor bias;    // (out), undefined without bias

 private:
  Tensor packed_;  // W^T (in x out) as kernels::gemm_pack_b lays it out: gemm_packed_b_floats(in, out) floats
};

}  // namespace attn::nn
