#include "attention/heads.hpp"

#include "kernels/elementwise.hpp"

namespace attn {

Tensor split_heads(const Tensor& x, int64_t num_heads) {
  const int64_t N = x.size(0), L = x.size(1), E = x.size(2);
  return x.reshape({N, L, num_heads, E / num_heads}).transpose(1, 2).contiguous();
}

Tensor merge_heads(const Tensor& x) {
  const int64_t N = x.size(0), H = x.size(1), L = x.size(2), hd = x.size(3);
  return x.transpose(1, 2).contiguous().reshape({N, L, H * hd});
}

Tensor mean_over_heads(const Tensor& weights) {
  const Tensor w = weights.contiguous();
  const int64_t N = w.size(0), H = w.size(1), L = w.size(2), S = w.size(3);
  Tensor out = Tensor::zeros({N, L, S});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < H; ++h)
      kernels::f32_add(L * S, out.data() + n * L * S, w.data() + (n * H + h) * L * S, out.data() + n * L * S);
  kernels::f32_scale(out.numel(), out.data(), 1.0f / static_cast<float>(H), out.data());
  return out;
}

}  // namespace attn
