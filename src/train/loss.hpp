// Cross-entropy loss, torch.nn.functional.cross_entropy with class-index targets:
//   loss = sum over rows r with target != ignore_index of
//            (1 - eps) * -log_softmax(x_r)[t_r] + eps * mean_c(-log_softmax(x_r)[c])
//          / (the number of such rows)                       (reduction='mean')
// eps = label_smoothing (torch >= 1.10). With every row ignored the mean is 0 / 0 = NaN,
// as in torch. The pointer ops are nn/functional_backward.hpp's cross_entropy_forward /
// _backward (what models use inside their arenas); this is the checked, allocating entry.
// Not here: class weights, probability targets, reduction='sum'/'none'.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.hpp"

namespace attn::train {

struct CrossEntropyOptions {
  int64_t ignore_index = -100;
  double label_smoothing = 0.0;  // in [0, 1]
};

// Throws naming `what` unless label_smoothing is in [0, 1] and every target is in [0, V)
// or equal to ignore_index (the message gives the target, its index and V).
void check_cross_entropy(const int32_t* targets, int64_t n, int64_t V, const CrossEntropyOptions& options,
                         const char* what);

// input (N, V) logits, target (N) class indices. Returns the mean loss; when grad_input is
// not null it receives d loss / d input as a fresh (N, V) tensor.
float cross_entropy(const Tensor& input, const std::vector<int32_t>& target, const CrossEntropyOptions& options = {},
                    Tensor* grad_input = nullptr);

}  // namespace attn::train
