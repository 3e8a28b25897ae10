// Tensor-level operations (the layer between kernels/ and attention/): shape
// checks, broadcasting, batching and allocation around the
// raw kernels. This is what attention/ and nn/ call; the raw f32_* kernels stay
// pointer-and-size functions that never allocate.
// Semantics follow the PyTorch function named beside each.
#pragma once

#include "core/tensor.hpp"
#include "kernels/activation.hpp"

namespace attn {

// torch.matmul for inputs of >= 2 dims: (..., M, K) @ (..., K, N) -> (..., M, N),
// batch dims broadcast. 1-D inputs are treated as in torch.matmul (vector).
Tensor matmul(const Tensor& a, const Tensor& b);
// Same with the last two dims of b transposed: a @ b^T, without materialising b^T.
Tensor matmul_nt(const Tensor& a, const Tensor& b);
// torch.nn.functional.linear: x (..., in) @ weight (out, in)^T + bias (out) -> (..., out). bias may be undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, const char* what = "linear");

// Broadcasting elementwise arithmetic (torch.add / sub / mul).
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& a, float s);

Tensor unary(kernels::Unary op, const Tensor& x);
inline Tensor relu(const Tensor& x) { return unary(kernels::Unary::relu, x); }
inline Tensor sigmoid(const Tensor& x) { return unary(kernels::Unary::sigmoid, x); }
inline Tensor tanh(const Tensor& x) { return unary(kernels::Unary::tanh, x); }
Tensor gelu(const Tensor& x, bool tanh_approximation = false);

// Over the last dim (dim=-1), as torch.softmax(x, -1) / torch.log_softmax.
Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);
// torch.nn.functional.layer_norm over the last dim; gamma/beta (n) may be undefined.
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps = 1e-5f);
Tensor rms_norm(const Tensor& x, const Tensor& gamma, float eps = 1e-6f);

// Reductions over the last dim: (..., n) -> (...).
Tensor sum_last(const Tensor& x);
Tensor mean_last(const Tensor& x);
Tensor max_last(const Tensor& x);
Tensor argmax_last(const Tensor& x);  // indices stored as float

// torch.cat along dim.
Tensor cat(const std::vector<Tensor>& parts, int64_t dim);

// Throws attn::Error naming `what` if x holds a NaN (inputs at public boundaries).
void check_finite_or_inf(const Tensor& x, const char* what);

}  // namespace attn
