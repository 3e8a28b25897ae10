#include "train/loss.hpp"

#include <cmath>

#include "core/error.hpp"
#include "nn/functional_backward.hpp"

namespace attn::train {

void check_cross_entropy(const int32_t* targets, int64_t n, int64_t V, const CrossEntropyOptions& o,
                         const char* what) {
  ATTN_CHECK(o.label_smoothing >= 0.0 && o.label_smoothing <= 1.0, what, ": label_smoothing must be in [0, 1], got ",
             o.label_smoothing);
  for (int64_t i = 0; i < n; ++i)
    ATTN_CHECK(targets[i] == o.ignore_index || (targets[i] >= 0 && targets[i] < V), what, ": target ", targets[i],
               " at index ", i, " is outside [0, ", V, ") and is not ignore_index (", o.ignore_index, ")");
}

float cross_entropy(const Tensor& input, const std::vector<int32_t>& target, const CrossEntropyOptions& o,
                    Tensor* grad_input) {
  ATTN_CHECK(input.dim() == 2, "cross_entropy: input must be (N, C) logits, got shape ", input.shape());
  ATTN_CHECK(input.dtype() == DType::f32, "cross_entropy: input must be float32");
  const int64_t N = input.size(0), V = input.size(1);
  ATTN_CHECK(static_cast<int64_t>(target.size()) == N, "cross_entropy: target has ", target.size(),
             " entries but input has ", N, " rows (input shape ", input.shape(), ")");
  ATTN_CHECK(V >= 1, "cross_entropy: input has no classes (shape ", input.shape(), ")");
  check_cross_entropy(target.data(), N, V, o, "cross_entropy");
  const Tensor x = input.contiguous();
  Tensor probs = Tensor::empty({N, V}, DType::f32, "cross_entropy: probabilities");
  std::vector<float> losses(static_cast<size_t>(N));
  const float eps = static_cast<float>(o.label_smoothing);
  const int64_t count =
      nn::functional::cross_entropy_forward(losses.data(), probs.data(), x.data(), target.data(), N, V, o.ignore_index, eps);
  double sum = 0.0;
  for (float l : losses) sum += l;
  const float loss = static_cast<float>(sum / static_cast<double>(count));  // 0 / 0 = NaN, as torch
  if (grad_input) {
    *grad_input = Tensor::zeros({N, V}, DType::f32, "cross_entropy: grad_input");
    const std::vector<float> dlosses(static_cast<size_t>(N), count > 0 ? 1.0f / static_cast<float>(count) : NAN);
    nn::functional::cross_entropy_backward(grad_input->data(), dlosses.data(), probs.data(), target.data(), N, V,
                                           o.ignore_index, eps);
  }
  return loss;
}

}  // namespace attn::train
