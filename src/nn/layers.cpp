#include "nn/layers.hpp"

#include <cfloat>
#include <algorithm>
#include <cmath>
#include <cstring>

#include "nn/functional.hpp"
#include "ops/ops.hpp"

namespace attn::nn {

namespace {
// x must be a float32 tensor of >= 1 dim whose last dim is `features`, free of NaN.
Tensor checked_rows(const Tensor& x, int64_t features, const char* what, const char* size_name) {
  ATTN_CHECK(x.defined() && x.dtype() == DType::f32, what, ": input must be a float32 tensor");
  ATTN_CHECK(x.dim() >= 1 && x.size(-1) == features, what, ": input has shape ", x.shape(), " but ", size_name,
             " is ", features, " (the last dim must match)");
  check_finite_or_inf(x, (std::string(what) + ": input").c_str());
  return x.contiguous();
}
}  // namespace

// ---------------------------------------------------------------- Embedding

Embedding::Embedding(int64_t num, int64_t dim, std::optional<int64_t> pad, Rng& rng)
    : num_embeddings(num), embedding_dim(dim) {
  module_name_ = "Embedding";
  ATTN_CHECK(num > 0 && dim > 0, "Embedding: num_embeddings and embedding_dim must be positive, got ", num, " and ",
             dim);
  if (pad) {
    ATTN_CHECK(*pad >= -num && *pad < num, "Embedding: padding_idx must be within num_embeddings (", num, "), got ",
               *pad);
    padding_idx = *pad < 0 ? *pad + num : *pad;
  }
  weight = randn({num, dim}, rng);  // checked_bytes inside names the shape
  if (padding_idx) std::memset(weight.data() + *padding_idx * dim, 0, sizeof(float) * static_cast<size_t>(dim));
  register_parameter("weight", weight);
}

std::vector<int32_t> Embedding::check_ids(const Tensor& ids, const char* arg) const {
  ATTN_CHECK(ids.defined() && ids.dtype() == DType::f32, "Embedding: ", arg,
             " must be a float32 tensor of token ids (whole numbers)");
  const Tensor c = ids.contiguous();
  const float* p = c.data();
  std::vector<int32_t> out(static_cast<size_t>(c.numel()));
  for (int64_t i = 0; i < c.numel(); ++i) {
    const float x = p[i];
    ATTN_CHECK(x >= 0.0f && x < static_cast<float>(num_embeddings) && std::floor(x) == x, "Embedding: ", arg,
               " holds id ", x, " at flat index ", i, "; ids must be whole numbers in [0, ", num_embeddings, ")");
    out[static_cast<size_t>(i)] = static_cast<int32_t>(x);
  }
  return out;
}

void Embedding::forward(float* out, int64_t ldo, const int32_t* ids, int64_t n) const noexcept {
  const float* w = weight.data();
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(out + i * ldo, w + int64_t{ids[i]} * embedding_dim, sizeof(float) * static_cast<size_t>(embedding_dim));
}

Tensor Embedding::forward(const Tensor& ids) const {
  const std::vector<int32_t> v = check_ids(ids);
  Shape shape = ids.shape();
  shape.push_back(embedding_dim);
  Tensor out = Tensor::empty(shape, DType::f32, "Embedding: output");
  forward(out.data(), embedding_dim, v.data(), static_cast<int64_t>(v.size()));
  return out;
}

// ---------------------------------------------------------------- LayerNorm, RMSNorm

LayerNorm::LayerNorm(int64_t c, float eps_, bool affine, bool with_bias) : normalized_shape(c), eps(eps_) {
  module_name_ = "LayerNorm";
  ATTN_CHECK(c > 0, "LayerNorm: normalized_shape must be positive, got ", c);
  ATTN_CHECK(eps_ >= 0.0f && std::isfinite(eps_), "LayerNorm: eps must be finite and >= 0, got ", eps_);
  if (affine) {
    weight = Tensor::full({c}, 1.0f);
    register_parameter("weight", weight);
    if (with_bias) {
      bias = Tensor::zeros({c});
      register_parameter("bias", bias);
    }
  }
}

void LayerNorm::forward(float* y, const float* x, int64_t rows) const noexcept {
  const float* g = weight.defined() ? weight.data() : nullptr;
  const float* b = bias.defined() ? bias.data() : nullptr;
  functional::layernorm_forward(y, nullptr, nullptr, x, g, b, rows, normalized_shape, eps);
}

Tensor LayerNorm::forward(const Tensor& x) const {
  const Tensor c = checked_rows(x, normalized_shape, "LayerNorm", "normalized_shape");
  Tensor y = Tensor::empty(c.shape(), DType::f32, "LayerNorm: output");
  forward(y.data(), c.data(), c.numel() / normalized_shape);
  return y;
}

RMSNorm::RMSNorm(int64_t c, std::optional<float> eps_, bool affine) : normalized_shape(c), eps(eps_.value_or(FLT_EPSILON)) {
  module_name_ = "RMSNorm";
  ATTN_CHECK(c > 0, "RMSNorm: normalized_shape must be positive, got ", c);
  ATTN_CHECK(eps >= 0.0f && std::isfinite(eps), "RMSNorm: eps must be finite and >= 0, got ", eps);
  if (affine) {
    weight = Tensor::full({c}, 1.0f);
    register_parameter("weight", weight);
  }
}

void RMSNorm::forward(float* y, const float* x, int64_t rows) const noexcept {
  functional::rmsnorm_forward(y, nullptr, x, weight.defined() ? weight.data() : nullptr, rows, normalized_shape, eps);
}

Tensor RMSNorm::forward(const Tensor& x) const {
  const Tensor c = checked_rows(x, normalized_shape, "RMSNorm", "normalized_shape");
  Tensor y = Tensor::empty(c.shape(), DType::f32, "RMSNorm: output");
  forward(y.data(), c.data(), c.numel() / normalized_shape);
  return y;
}

// ---------------------------------------------------------------- Dropout

Dropout::Dropout(float p_, uint64_t seed) : p(p_), rng_(seed) {
  module_name_ = "Dropout";
  ATTN_CHECK(p_ >= 0.0f && p_ <= 1.0f, "Dropout: probability has to be between 0 and 1, but got ", p_);
}

void Dropout::forward_(float* x, int64_t n) noexcept {
  if (!training_ || p == 0.0f) return;
  const float keep_scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
  for (int64_t i = 0; i < n; ++i) x[i] = rng_.uniform() < p ? 0.0f : x[i] * keep_scale;
}

Tensor Dropout::forward(const Tensor& x) {
  if (!training_ || p == 0.0f) return x;
  ATTN_CHECK(x.defined() && x.dtype() == DType::f32, "Dropout: input must be a float32 tensor");
  Tensor y = x.clone();
  forward_(y.data(), y.numel());
  return y;
}

// ---------------------------------------------------------------- activations

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::relu: return "relu";
    case Activation::gelu: return "gelu";
    case Activation::gelu_tanh: return "gelu_tanh";
    case Activation::swiglu: return "swiglu";
  }
  return "?";
}

Activation activation_from_name(const std::string& name, const char* what) {
  for (Activation a : {Activation::relu, Activation::gelu, Activation::gelu_tanh, Activation::swiglu})
    if (name == activation_name(a)) return a;
  fail(what, ": activation should be relu, gelu, gelu_tanh or swiglu, not \"", name, "\"");
}

void activation_forward_(Activation a, float* x, int64_t n) noexcept {
  switch (a) {
    case Activation::relu: functional::relu_forward(x, x, n); break;
    case Activation::gelu: functional::gelu_forward(x, x, n, functional::GeluApproximation::none); break;
    case Activation::gelu_tanh: functional::gelu_forward(x, x, n, functional::GeluApproximation::tanh); break;
    case Activation::swiglu: break;  // two inputs: functional::swiglu_forward
  }
}

// ---------------------------------------------------------------- FeedForward

namespace {
int64_t checked_hidden(int64_t dim, int64_t hidden) {
  ATTN_CHECK(dim > 0 && hidden > 0, "FeedForward: dim and hidden_dim must be positive, got ", dim, " and ", hidden);
  checked_bytes({hidden, dim}, sizeof(float), "FeedForward: w1 (hidden_dim, dim)");
  return hidden;
}
}  // namespace

FeedForward::FeedForward(int64_t dim_, int64_t hidden, Activation act, bool bias, Rng& rng)
    : dim(dim_),
      hidden_dim(checked_hidden(dim_, hidden)),
      activation(act),
      w1(dim_, hidden, bias, rng),
      w2(hidden, dim_, bias, rng) {
  module_name_ = "FeedForward";
  register_module("w1", w1);
  register_module("w2", w2);
  if (act == Activation::swiglu) {
    w3 = std::make_unique<Linear>(dim_, hidden, bias, rng);
    register_module("w3", *w3);
  }
}

int64_t FeedForward::scratch_floats(int64_t rows) const noexcept {
  return rows * hidden_dim * (activation == Activation::swiglu ? 2 : 1);
}

void FeedForward::forward(float* y, const float* x, int64_t rows, float* scratch) const noexcept {
  float* h = scratch;
  w1.forward(h, hidden_dim, x, dim, rows);
  if (activation == Activation::swiglu) {
    float* up = scratch + rows * hidden_dim;
    w3->forward(up, hidden_dim, x, dim, rows);
    functional::swiglu_forward(h, h, up, rows * hidden_dim);
  } else {
    activation_forward_(activation, h, rows * hidden_dim);
  }
  w2.forward(y, dim, h, hidden_dim, rows);
}

Tensor FeedForward::forward(const Tensor& x) const {
  const Tensor c = checked_rows(x, dim, "FeedForward", "dim");
  const int64_t rows = c.numel() / dim;
  const int64_t hidden = checked_mul(checked_mul(rows, hidden_dim, "FeedForward: hidden"),
                                     activation == Activation::swiglu ? 2 : 1, "FeedForward: hidden");
  Tensor scratch = Tensor::empty({std::max<int64_t>(hidden, 1)}, DType::f32, "FeedForward: hidden (rows, hidden_dim)");
  Tensor y = Tensor::empty(c.shape(), DType::f32, "FeedForward: output");
  forward(y.data(), c.data(), rows, scratch.data());
  return y;
}

}  // namespace attn::nn
