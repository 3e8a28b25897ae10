#include "ops/ops.hpp"

#include <cmath>

#include "kernels/elementwise.hpp"
#include "kernels/gemm.hpp"
#include "kernels/norm.hpp"
#include "kernels/reduce.hpp"
#include "kernels/softmax.hpp"

namespace attn {

using namespace kernels;

namespace {
Tensor require_f32(const Tensor& t, const char* what, const char* arg) {
  ATTN_CHECK(t.defined(), what, ": ", arg, " is undefined");
  ATTN_CHECK(t.dtype() == DType::f32, what, ": ", arg, " must be float32 but is ", dtype_name(t.dtype()));
  return t;
}

// Shared by matmul and matmul_nt: b_nt means b is stored (..., N, K).
Tensor batched_matmul(const Tensor& a_in, const Tensor& b_in, bool b_nt, const char* what) {
  require_f32(a_in, what, "input");
  require_f32(b_in, what, "other");
  Tensor a = a_in, b = b_in;
  const bool a_vec = a.dim() == 1, b_vec = b.dim() == 1;
  if (a_vec) a = a.unsqueeze(0);
  if (b_vec) b = b_nt ? b.unsqueeze(0) : b.unsqueeze(1);
  ATTN_CHECK(a.dim() >= 2 && b.dim() >= 2, what, ": inputs of shapes ", a_in.shape(), " and ", b_in.shape(),
             " need at least 1 dim each");
  const int64_t M = a.size(-2), K = a.size(-1);
  const int64_t N = b_nt ? b.size(-2) : b.size(-1);
  const int64_t Kb = b_nt ? b.size(-1) : b.size(-2);
  ATTN_CHECK(K == Kb, what, ": shapes ", a_in.shape(), " and ", b_in.shape(), " cannot be multiplied (", K,
             " vs ", Kb, ")");
  Shape a_batch(a.shape().begin(), a.shape().end() - 2), b_batch(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(a_batch, b_batch, what);
  Shape a_full = batch, b_full = batch, out_shape = batch;
  a_full.insert(a_full.end(), {M, K});
  b_full.insert(b_full.end(), {b_nt ? N : K, b_nt ? K : N});
  out_shape.insert(out_shape.end(), {M, N});
  // Expand then make contiguous only if needed; a batch dim broadcast from 1 keeps stride 0 per matrix.
  Tensor out = Tensor::empty(out_shape, DType::f32, what);
  if (a_vec) out = out.squeeze(-2);
  if (b_vec) out = out.squeeze(-1);
  if (out.numel() == 0) return out;  // empty work returns at once (a batch of 2^31 empty products is no work)
  if (K == 0) {                      // a sum over nothing: torch.matmul gives zeros
    out.fill_(0.0f);
    return out;
  }
  Tensor ac = a.contiguous(), bc = b.contiguous();
  int64_t nbatch = 1;
  for (int64_t d : batch) nbatch *= d;
  int64_t a_batches = 1, b_batches = 1;
  for (int64_t d : a_batch) a_batches *= d;
  for (int64_t d : b_batch) b_batches *= d;
  const bool simple = (a_batches == nbatch || a_batches == 1) && (b_batches == nbatch || b_batches == 1) &&
                      (a_batch == batch || a_batches == 1) && (b_batch == batch || b_batches == 1);
  if (simple) {
    f32_gemm_batched(nbatch, false, b_nt, M, N, K, 1.0f, ac.data(), K, a_batches == 1 ? 0 : M * K, bc.data(),
                     b_nt ? K : N, b_batches == 1 ? 0 : K * N, 0.0f, out.data(), N, M * N);
  } else {
    Tensor ae = ac.expand(a_full).contiguous(), be = bc.expand(b_full).contiguous();
    f32_gemm_batched(nbatch, false, b_nt, M, N, K, 1.0f, ae.data(), K, M * K, be.data(), b_nt ? K : N, K * N, 0.0f,
                     out.data(), N, M * N);
  }
  return out;
}

// Applies row_fn(n, x_row, y_row) to each row of the last dim.
template <class RowFn>
Tensor map_rows(const Tensor& x_in, const char* what, RowFn row_fn) {
  require_f32(x_in, what, "input");
  Tensor x = x_in.contiguous();
  Tensor y = Tensor::empty(x.shape());
  const int64_t n = x.dim() ? x.size(-1) : 1;
  const int64_t rows = n ? x.numel() / n : 0;
  for (int64_t r = 0; r < rows; ++r) row_fn(static_cast<size_t>(n), x.data() + r * n, y.data() + r * n, r);
  return y;
}

template <class RowFn>
Tensor reduce_rows(const Tensor& x_in, const char* what, RowFn row_fn) {
  require_f32(x_in, what, "input");
  ATTN_CHECK(x_in.dim() >= 1, what, ": input must have at least 1 dim");
  Tensor x = x_in.contiguous();
  Shape out_shape(x.shape().begin(), x.shape().end() - 1);
  Tensor y = Tensor::empty(out_shape);
  const int64_t n = x.size(-1);
  for (int64_t r = 0; r < y.numel(); ++r) y.data()[r] = row_fn(static_cast<size_t>(n), x.data() + r * n);
  return y;
}

using RowBinary = void (*)(size_t, const float*, const float*, float*);
using RowBinaryScalar = void (*)(size_t, const float*, float, float*);

Tensor broadcast_binary(const Tensor& a_in, const Tensor& b_in, const char* what, RowBinary vv, RowBinaryScalar vs,
                        RowBinaryScalar sv_reversed) {
  require_f32(a_in, what, "input");
  require_f32(b_in, what, "other");
  Shape shape = broadcast_shapes(a_in.shape(), b_in.shape(), what);
  Tensor out = Tensor::empty(shape);
  if (out.numel() == 0) return out;
  Tensor a = a_in.expand(shape), b = b_in.expand(shape);
  const int64_t nd = static_cast<int64_t>(shape.size());
  const int64_t n = nd ? shape.back() : 1;
  const int64_t sa = nd ? a.strides().back() : 1, sb = nd ? b.strides().back() : 1;
  // Rows with a strided inner dim are made contiguous first.
  if ((sa != 1 && sa != 0) || (n > 1 && sa == 0 && sb == 0)) a = a.contiguous();
  if (sb != 1 && sb != 0) b = b.contiguous();
  const int64_t ia = nd ? a.strides().back() : 1, ib = nd ? b.strides().back() : 1;
  const int64_t rows = out.numel() / n;
  std::vector<int64_t> idx(nd > 0 ? nd - 1 : 0, 0);
  int64_t off_a = 0, off_b = 0;
  const float* pa = a.data();
  const float* pb = b.data();
  float* po = out.data();
  for (int64_t r = 0; r < rows; ++r) {
    float* y = po + r * n;
    if (ia == 1 && ib == 1) vv(n, pa + off_a, pb + off_b, y);
    else if (ia == 1) vs(n, pa + off_a, pb[off_b], y);
    else sv_reversed(n, pb + off_b, pa[off_a], y);
    for (int64_t k = nd - 2; k >= 0; --k) {
      if (++idx[k] < shape[k]) {
        off_a += a.strides()[k];
        off_b += b.strides()[k];
        break;
      }
      off_a -= a.strides()[k] * (shape[k] - 1);
      off_b -= b.strides()[k] * (shape[k] - 1);
      idx[k] = 0;
    }
  }
  return out;
}

void rsub_row(size_t n, const float* b, float a, float* y) {  // y = a - b
  for (size_t i = 0; i < n; ++i) y[i] = a - b[i];
}
}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) { return batched_matmul(a, b, false, "matmul"); }
Tensor matmul_nt(const Tensor& a, const Tensor& b) { return batched_matmul(a, b, true, "matmul"); }

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias, const char* what) {
  require_f32(x, what, "input");
  require_f32(weight, what, "weight");
  ATTN_CHECK(weight.dim() == 2, what, ": weight must be 2-D (out_features, in_features) but has shape ",
             weight.shape());
  ATTN_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1), what, ": input has ", x.dim() ? x.size(-1) : 0,
             " features but weight ", weight.shape(), " expects ", weight.size(1));
  const int64_t out_f = weight.size(0), in_f = weight.size(1);
  Tensor xc = x.contiguous(), wc = weight.contiguous();
  Shape out_shape = x.shape();
  out_shape.back() = out_f;
  Tensor y = Tensor::empty(out_shape, DType::f32, what);
  if (y.numel() == 0) return y;
  const int64_t rows = y.numel() / out_f;
  float beta = 0.0f;
  if (bias.defined()) {
    require_f32(bias, what, "bias");
    ATTN_CHECK(bias.dim() == 1 && bias.size(0) == out_f, what, ": bias has shape ", bias.shape(), " but weight ",
               weight.shape(), " needs [", out_f, "]");
    Tensor bc = bias.contiguous();
    for (int64_t r = 0; r < rows; ++r) std::copy(bc.data(), bc.data() + out_f, y.data() + r * out_f);
    beta = 1.0f;
  } else if (in_f == 0) {
    y.fill_(0.0f);
  }
  if (in_f == 0) return y;  // no products to add: bias (or zeros), as torch.nn.functional.linear
  f32_gemm(false, true, rows, out_f, in_f, 1.0f, xc.data(), in_f, wc.data(), in_f, beta, y.data(), out_f);
  return y;
}

Tensor add(const Tensor& a, const Tensor& b) {
  return broadcast_binary(a, b, "add", f32_add, f32_add_scalar_b, f32_add_scalar_b);
}
Tensor sub(const Tensor& a, const Tensor& b) { return broadcast_binary(a, b, "sub", f32_sub, f32_sub_scalar_b, rsub_row); }
Tensor mul(const Tensor& a, const Tensor& b) {
  return broadcast_binary(a, b, "mul", f32_mul, f32_mul_scalar_b, f32_mul_scalar_b);
}
Tensor scale(const Tensor& a, float s) {
  return map_rows(a, "scale", [s](size_t n, const float* x, float* y, int64_t) { f32_scale(n, x, s, y); });
}

Tensor unary(Unary op, const Tensor& x) {
  UnaryKernel k = unary_kernel(op);
  require_f32(x, unary_name(op), "input");
  Tensor xc = x.contiguous();
  Tensor y = Tensor::empty(xc.shape());
  k(static_cast<size_t>(xc.numel()), xc.data(), y.data());
  return y;
}

Tensor gelu(const Tensor& x, bool tanh_approximation) {
  return unary(tanh_approximation ? Unary::gelu_tanh : Unary::gelu_erf, x);
}

Tensor softmax(const Tensor& x) {
  return map_rows(x, "softmax",
                  [](size_t n, const float* a, float* y, int64_t) { f32_softmax(n, a, 1.0f, nullptr, nullptr, y); });
}
Tensor log_softmax(const Tensor& x) {
  return map_rows(x, "log_softmax",
                  [](size_t n, const float* a, float* y, int64_t) { f32_log_softmax(n, a, 1.0f, nullptr, nullptr, y); });
}

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, float eps) {
  const int64_t n = x.dim() ? x.size(-1) : 0;
  Tensor g = gamma.defined() ? gamma.contiguous() : Tensor(), b = beta.defined() ? beta.contiguous() : Tensor();
  if (g.defined()) ATTN_CHECK(g.numel() == n, "layer_norm: weight has shape ", g.shape(), " but input has ", n, " features");
  if (b.defined()) ATTN_CHECK(b.numel() == n, "layer_norm: bias has shape ", b.shape(), " but input has ", n, " features");
  const float* gp = g.defined() ? g.data() : nullptr;
  const float* bp = b.defined() ? b.data() : nullptr;
  return map_rows(x, "layer_norm", [&](size_t len, const float* a, float* y, int64_t) {
    f32_layernorm(len, a, gp, bp, eps, y, nullptr, nullptr);
  });
}

Tensor rms_norm(const Tensor& x, const Tensor& gamma, float eps) {
  const int64_t n = x.dim() ? x.size(-1) : 0;
  Tensor g = gamma.defined() ? gamma.contiguous() : Tensor();
  if (g.defined()) ATTN_CHECK(g.numel() == n, "rms_norm: weight has shape ", g.shape(), " but input has ", n, " features");
  const float* gp = g.defined() ? g.data() : nullptr;
  return map_rows(x, "rms_norm",
                  [&](size_t len, const float* a, float* y, int64_t) { f32_rmsnorm(len, a, gp, eps, y, nullptr); });
}

Tensor sum_last(const Tensor& x) { return reduce_rows(x, "sum", f32_sum); }
Tensor mean_last(const Tensor& x) { return reduce_rows(x, "mean", f32_mean); }
Tensor max_last(const Tensor& x) { return reduce_rows(x, "max", f32_max); }
Tensor argmax_last(const Tensor& x) {
  return reduce_rows(x, "argmax", [](size_t n, const float* p) { return static_cast<float>(f32_argmax(n, p)); });
}

Tensor cat(const std::vector<Tensor>& parts, int64_t dim) {
  ATTN_CHECK(!parts.empty(), "cat: no tensors given");
  const Tensor& first = parts[0];
  const int64_t nd = first.dim();
  ATTN_CHECK(dim >= -nd && dim < nd, "cat: dim ", dim, " is out of range for shape ", first.shape());
  if (dim < 0) dim += nd;
  Shape shape = first.shape();
  shape[dim] = 0;
  for (const Tensor& p : parts) {
    ATTN_CHECK(p.dim() == nd && p.dtype() == first.dtype(), "cat: tensors of shapes ", first.shape(), " and ",
               p.shape(), " cannot be concatenated");
    for (int64_t d = 0; d < nd; ++d)
      ATTN_CHECK(d == dim || p.size(d) == first.size(d), "cat: shapes ", first.shape(), " and ", p.shape(),
                 " differ outside dim ", dim);
    shape[dim] += p.size(dim);
  }
  Tensor out = Tensor::empty(shape, first.dtype());
  int64_t at = 0;
  for (const Tensor& p : parts) {
    out.slice(dim, at, at + p.size(dim)).copy_(p);
    at += p.size(dim);
  }
  return out;
}

void check_finite_or_inf(const Tensor& x, const char* what) {
  if (!x.defined() || x.dtype() != DType::f32) return;
  Tensor c = x.contiguous();
  const float* p = c.data();
  for (int64_t i = 0; i < c.numel(); ++i)
    ATTN_CHECK(!std::isnan(p[i]), what, " contains NaN (at flat index ", i, " of shape ", x.shape(), ")");
}

}  // namespace attn
