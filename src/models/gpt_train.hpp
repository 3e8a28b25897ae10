// GptTrain: training of a models/gpt.hpp Gpt on batches of token sequences, llm.c's
// train_gpt2.c (gpt2_forward with targets, gpt2_backward) over our arenas:
//   - the gradients are a second instance of the model's parameter layout
//     (Module::parameter_layout().like(...), core/arena.hpp): one allocation, the same
//     offsets, so optimizers and clipping can run on it slot by slot or flat;
//   - a training arena sized for (B, T) at construction holds every activation the
//     backward pass needs (llm.c's ActivationTensors: layer-norm statistics, qkv, the
//     attention weights, the MLP pre-activations, each layer's residual stream) and the
//     backward's scratch, apart from the model's own inference arena;
//   - forward() and backward() validate their arguments once, then run noexcept loops over
//     nn/functional(_backward).hpp's pointer ops and the GEMM kernels: no allocation.
// The forward is the inference forward's arithmetic (the same nn::Linear packed GEMMs,
// layer norms, attention and tied head), on B sequences from position 0 with no KV cache;
// the loss is torch.nn.functional.cross_entropy(logits.view(-1, V), targets.view(-1),
// ignore_index, label_smoothing), reduction 'mean'. backward() ACCUMULATES d loss / d
// parameter into the gradient arena (torch's .grad +=); zero_grad() clears it. The tied
// head's gradient lands in wte's slot (the head and the embedding share it).
// After changing the model's weights (an optimizer step) call
// model.notify_parameters_changed(): nn::Linear and the tied head repack from them.
//
// Shapes: B sequences, T tokens each (T <= n_positions), N = B * T, C, NH, hs, F, V, L as
// in gpt.hpp. Not here: dropout (Gpt has none), gradient checkpointing, mixed precision.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/arena.hpp"
#include "models/gradients.hpp"
#include "models/gpt.hpp"
#include "nn/linear.hpp"

namespace attn {

class GptTrain {
 public:
  // Plans and allocates the gradient and activation arenas for batches of (B, T) tokens.
  // ignore_index and label_smoothing are cross_entropy's (label_smoothing in [0, 1]).
  // `model` must outlive this object and must not be re-packed (pack_parameters) while it lives.
  GptTrain(Gpt& model, int64_t B, int64_t T, int64_t ignore_index = -100, double label_smoothing = 0.0);
  GptTrain(const GptTrain&) = delete;
  GptTrain& operator=(const GptTrain&) = delete;

  // inputs, targets (B, T) row-major token ids; a target may be ignore_index. Returns the
  // mean loss (NaN when every target is ignored, as torch). Throws before computing if an
  // id or target is out of range.
  float forward(const int32_t* inputs, const int32_t* targets);
  float forward(const std::vector<int32_t>& inputs, const std::vector<int32_t>& targets);
  // d loss / d parameters of the last forward, added to the gradient arena. Throws if no
  // forward has run.
  void backward();
  void zero_grad() noexcept { grads_.zero(); }

  // The gradients, in model.named_parameters() order (views of the gradient arena).
  const std::vector<Tensor>& gradients() const { return grads_.tensors(); }
  // (name, gradient) pairs; the names are the parameters' state_dict keys.
  NamedTensors named_gradients() { return grads_.named(); }
  const Arena& gradient_arena() const { return grads_.arena(); }
  const Arena& activations() const { return acts_; }

  // Of the last forward: logits (N, V), the attention weights of layer l (B, NH, T, T).
  const float* logits() const { return logits_.data(); }
  const float* attention(int64_t layer) const;
  int64_t batch_size() const { return B_; }
  int64_t seq_len() const { return T_; }

 private:
  // One block's parameters (weights first, then biases) and the modules that run its projections.
  struct Layer {
    const float *ln1_w, *ln1_b, *ln2_w, *ln2_b;
    const nn::Linear *c_attn, *attn_proj, *c_fc, *mlp_proj;
    float *d_ln1_w, *d_ln1_b, *d_c_attn_w, *d_c_attn_b, *d_attn_proj_w, *d_attn_proj_b;
    float *d_ln2_w, *d_ln2_b, *d_c_fc_w, *d_c_fc_b, *d_mlp_proj_w, *d_mlp_proj_b;
  };

  Gpt& model_;
  const int64_t B_, T_;
  const int64_t ignore_index_;
  const float label_smoothing_;
  bool relu_;
  nn::functional::GeluApproximation gelu_;

  Gradients grads_;
  std::vector<Layer> layers_;
  const float *wte_, *wpe_, *lnf_w_, *lnf_b_;
  const nn::Linear* lm_head_ = nullptr;  // untied head; null when tied to wte
  float *d_wte_, *d_wpe_, *d_lnf_w_, *d_lnf_b_, *d_lm_head_ = nullptr;

  std::vector<int32_t> inputs_, targets_;  // (N), the last forward's
  int64_t count_ = 0;                      // targets not ignored in the last forward
  bool has_forward_ = false;

  // The training arena. Per layer: (L, ...). Activations first, then backward scratch.
  Tensor encoded_;    // (N, C)       wte[ids] + wpe[t], the residual stream entering layer 0
  Tensor ln1_;        // (L, N, C)
  Tensor ln1_mean_;   // (L, N)
  Tensor ln1_rstd_;   // (L, N)
  Tensor qkv_;        // (L, N, 3C)
  Tensor atty_;       // (L, N, C)    attention output, heads side by side
  Tensor att_;        // (L, B, NH, T, T) attention weights
  Tensor residual2_;  // (L, N, C)    after the attention half
  Tensor ln2_;        // (L, N, C)
  Tensor ln2_mean_;   // (L, N)
  Tensor ln2_rstd_;   // (L, N)
  Tensor fch_;        // (L, N, F)    c_fc output, before the activation
  Tensor fch_act_;    // (L, N, F)    after gelu / relu
  Tensor residual3_;  // (L, N, C)    after the MLP half: the next layer's input
  Tensor lnf_;        // (N, C)
  Tensor lnf_mean_;   // (N)
  Tensor lnf_rstd_;   // (N)
  Tensor logits_;     // (N, V)
  Tensor probs_;      // (N, V)
  Tensor losses_;     // (N)
  Tensor dresidual_;  // (N, C)  the gradient of the residual stream, layer by layer
  Tensor dln_;        // (N, C)
  Tensor dqkv_;       // (N, 3C)
  Tensor datty_;      // (N, C)
  Tensor dfch_;       // (N, F)
  Tensor dfch_act_;   // (N, F)
  Tensor dlogits_;    // (N, V)
  Tensor dlosses_;    // (N)
  Tensor datt_;       // (T, T) one head's attention-weight gradient
  Arena acts_;
};

}  // namespace attn
