// The small layers every Transformer is built from, with torch.nn's constructor
// arguments, defaults, init distributions (drawn from our seeded Rng, so the values
// differ from torch's) and state_dict keys:
//   Embedding    torch.nn.Embedding        "weight" (num_embeddings, embedding_dim), N(0, 1), padding row 0
//   LayerNorm    torch.nn.LayerNorm        "weight", "bias" (C): ones, zeros; over the last dim only
//   RMSNorm      torch.nn.RMSNorm (2.4)    "weight" (C): ones; eps None = torch.finfo(float32).eps
//   Dropout      torch.nn.Dropout          training mode only; our seeded Rng, not torch's generator
//   FeedForward  two- or three-matrix MLP  "w1", "w2" (+ "w3" for SwiGLU), LLaMA's key names (below)
//
// Legend: N rows (every leading dim flattened), C features (the normalised / embedded dim),
// F the feed-forward hidden size.
//
// Each layer has a Tensor forward (checks its input, allocates the result) and a
// pointer forward into caller memory that never throws or allocates, for models that
// plan their activations once (built on nn/functional.hpp's ops). Token ids are float tensors holding whole numbers (what
// argmax returns), as elsewhere in the engine; check_ids turns them into int32 once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/module.hpp"
#include "core/rng.hpp"
#include "nn/linear.hpp"

namespace attn::nn {

class Embedding : public Module {
 public:
  // torch's reset_parameters: weight ~ N(0, 1) and the padding_idx row (if any) zeroed.
  // padding_idx < 0 counts from the end, as in torch; it must lie in [-num, num).
  Embedding(int64_t num_embeddings, int64_t embedding_dim, std::optional<int64_t> padding_idx, Rng& rng);

  // ids (...) -> (..., embedding_dim): weight[ids].
  Tensor forward(const Tensor& ids) const;
  // The ids as int32 after checking each is a whole number in [0, num_embeddings); the message
  // names this module, `arg`, the id, its flat index and the range.
  std::vector<int32_t> check_ids(const Tensor& ids, const char* arg = "input") const;
  // out (n, C) with row stride ldo = weight[ids[i]], ids from check_ids.
  void forward(float* out, int64_t ldo, const int32_t* ids, int64_t n) const noexcept;

  int64_t num_embeddings, embedding_dim;
  std::optional<int64_t> padding_idx;  // normalised to [0, num_embeddings)
  Tensor weight;                       // (num_embeddings, embedding_dim)
};

class LayerNorm : public Module {
 public:
  // normalized_shape is the last dim (torch also accepts several trailing dims; models here use one).
  // elementwise_affine=false: no parameters; bias=false (torch >= 2.1): "weight" only.
  explicit LayerNorm(int64_t normalized_shape, float eps = 1e-5f, bool elementwise_affine = true, bool bias = true);

  Tensor forward(const Tensor& x) const;  // (..., C) -> (..., C)
  // y, x (rows, C) contiguous; in place (y == x) allowed.
  void forward(float* y, const float* x, int64_t rows) const noexcept;

  int64_t normalized_shape;
  float eps;
  Tensor weight, bias;  // (C); undefined when absent
};

class RMSNorm : public Module {
 public:
  // y = x / sqrt(mean(x^2) + eps) * weight over the last dim. eps = nullopt is torch's None:
  // "eps: a value added to the denominator for numerical stability. Default: torch.finfo(x.dtype).eps"
  // (https://pytorch.org/docs/stable/generated/torch.nn.RMSNorm.html), FLT_EPSILON for float32.
  explicit RMSNorm(int64_t normalized_shape, std::optional<float> eps = std::nullopt, bool elementwise_affine = true);

  Tensor forward(const Tensor& x) const;
  void forward(float* y, const float* x, int64_t rows) const noexcept;

  int64_t normalized_shape;
  float eps;
  Tensor weight;  // (C); undefined without elementwise_affine
};

class Dropout : public Module {
 public:
  // torch.nn.Dropout(p): in training mode each element is zeroed with probability p and the
  // rest scaled by 1 / (1 - p) (p = 1 zeroes everything); in eval mode it is the identity.
  // Like every Module here it starts in eval mode (torch's start in training mode): call train().
  explicit Dropout(float p = 0.5f, uint64_t seed = 0);

  Tensor forward(const Tensor& x);  // eval or p == 0: x itself (no copy)
  void forward_(float* x, int64_t n) noexcept;  // in place; nothing in eval mode

  float p;

 private:
  Rng rng_;
};

// The feed-forward activations: torch's F.relu, F.gelu (erf), F.gelu(approximate='tanh'), and
// SwiGLU (Shazeer 2020, "GLU Variants Improve Transformer"): silu(x W1^T) * (x W3^T).
enum class Activation : uint8_t { relu, gelu, gelu_tanh, swiglu };
const char* activation_name(Activation a);  // "relu", "gelu", "gelu_tanh", "swiglu"
// The inverse of activation_name; throws naming `what` and the accepted names.
Activation activation_from_name(const std::string& name, const char* what);

// x (n) = act(x) in place, for relu / gelu / gelu_tanh (nn/functional.hpp's ops); swiglu has
// two inputs: functional::swiglu_forward.
void activation_forward_(Activation a, float* x, int64_t n) noexcept;

// The position-wise MLP of a Transformer block, with LLaMA's keys (Meta's llama model.py
// FeedForward: w1, w2, w3, bias-free there; `bias` here is torch.nn.Linear's):
//   relu / gelu / gelu_tanh:  y = w2(act(w1 x))                w1 (F, C), w2 (C, F)
//   swiglu:                   y = w2(silu(w1 x) * w3 x)        w1, w3 (F, C), w2 (C, F)
// Every Linear has nn.Linear's init. torch.nn.TransformerEncoderLayer's own MLP
// (linear1 / linear2) is in nn/transformer.hpp under torch's names.
class FeedForward : public Module {
 public:
  FeedForward(int64_t dim, int64_t hidden_dim, Activation activation, bool bias, Rng& rng);

  Tensor forward(const Tensor& x) const;  // (..., C) -> (..., C)
  // Floats of scratch forward(y, ...) needs for `rows` rows: rows * F (x2 for swiglu).
  int64_t scratch_floats(int64_t rows) const noexcept;
  // y, x (rows, C) contiguous, not overlapping; scratch of scratch_floats(rows).
  void forward(float* y, const float* x, int64_t rows, float* scratch) const noexcept;

  int64_t dim, hidden_dim;
  Activation activation;
  Linear w1, w2;
  std::unique_ptr<Linear> w3;  // swiglu only
};

}  // namespace attn::nn
