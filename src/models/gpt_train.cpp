#include "models/gpt_train.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/size.hpp"
#include "kernels/gemm.hpp"
#include "nn/functional_backward.hpp"

namespace attn {

namespace F = nn::functional;

namespace {

inline size_t sz(int64_t n) { return static_cast<size_t>(n); }

// The submodule at a dotted path ("h.0.attn.c_attn") of `root`, found through the
// Module tree (named_children), so Gpt's private block types stay private.
Module& submodule(Module& root, const std::string& path) {
  Module* m = &root;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t dot = std::min(path.find('.', start), path.size());
    const std::string part = path.substr(start, dot - start);
    Module* next = nullptr;
    for (const auto& [name, child] : m->named_children())
      if (name == part) next = child;
    ATTN_CHECK(next, "GptTrain: the model has no module \"", path, "\"");
    m = next;
    start = dot + 1;
  }
  return *m;
}

const nn::Linear* linear_at(Module& root, const std::string& path) {
  const auto* l = dynamic_cast<const nn::Linear*>(&submodule(root, path));
  ATTN_CHECK(l, "GptTrain: \"", path, "\" is not a Linear");
  return l;
}

}  // namespace

GptTrain::GptTrain(Gpt& model, int64_t B, int64_t T, int64_t ignore_index, double label_smoothing)
    : model_(model),
      B_(B),
      T_(T),
      ignore_index_(ignore_index),
      label_smoothing_(static_cast<float>(label_smoothing)),
      grads_(model, "GptTrain") {
  const GptConfig& c = model.config();
  ATTN_CHECK(B >= 1, "GptTrain: B (the batch size) must be at least 1, got ", B);
  ATTN_CHECK(T >= 1 && T <= c.n_positions, "GptTrain: T (the sequence length) must be in [1, n_positions = ",
             c.n_positions, "], got ", T);
  ATTN_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, "GptTrain: label_smoothing must be in [0, 1], got ",
             label_smoothing);
  relu_ = c.activation == "relu";
  gelu_ = c.activation == "gelu" ? F::GeluApproximation::none : F::GeluApproximation::tanh;

  std::map<std::string, Tensor*> params;
  for (auto& [name, t] : model.named_parameters()) params[name] = t;
  auto param = [&](const std::string& name) -> const float* {
    ATTN_CHECK(params.count(name), "GptTrain: the model has no parameter \"", name, "\"");
    return params[name]->data();
  };
  const Gradients& grad = grads_;
  wte_ = param("wte.weight");
  wpe_ = param("wpe.weight");
  lnf_w_ = param("ln_f.weight");
  lnf_b_ = param("ln_f.bias");
  d_wte_ = grad("wte.weight");
  d_wpe_ = grad("wpe.weight");
  d_lnf_w_ = grad("ln_f.weight");
  d_lnf_b_ = grad("ln_f.bias");
  if (!c.tie_word_embeddings) {
    lm_head_ = linear_at(model, "lm_head");
    d_lm_head_ = grad("lm_head.weight");
  }
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const std::string h = "h." + std::to_string(l) + ".";
    Layer y;
    y.ln1_w = param(h + "ln_1.weight");
    y.ln1_b = param(h + "ln_1.bias");
    y.ln2_w = param(h + "ln_2.weight");
    y.ln2_b = param(h + "ln_2.bias");
    y.c_attn = linear_at(model, h + "attn.c_attn");
    y.attn_proj = linear_at(model, h + "attn.c_proj");
    y.c_fc = linear_at(model, h + "mlp.c_fc");
    y.mlp_proj = linear_at(model, h + "mlp.c_proj");
    y.d_ln1_w = grad(h + "ln_1.weight");
    y.d_ln1_b = grad(h + "ln_1.bias");
    y.d_c_attn_w = grad(h + "attn.c_attn.weight");
    y.d_c_attn_b = grad(h + "attn.c_attn.bias");
    y.d_attn_proj_w = grad(h + "attn.c_proj.weight");
    y.d_attn_proj_b = grad(h + "attn.c_proj.bias");
    y.d_ln2_w = grad(h + "ln_2.weight");
    y.d_ln2_b = grad(h + "ln_2.bias");
    y.d_c_fc_w = grad(h + "mlp.c_fc.weight");
    y.d_c_fc_b = grad(h + "mlp.c_fc.bias");
    y.d_mlp_proj_w = grad(h + "mlp.c_proj.weight");
    y.d_mlp_proj_b = grad(h + "mlp.c_proj.bias");
    layers_.push_back(y);
  }

  // The training arena; Arena::add checks each shape (64-bit, the per-tensor budget) and
  // allocate() the total, before anything is allocated.
  const char* what = "GptTrain: the batch";
  const int64_t L = c.n_layer, C = c.n_embd, NH = c.n_head, Fw = c.mlp_width(), V = c.vocab_size;
  const int64_t N = checked_mul(B, T, what);
  const int64_t LN = checked_mul(L, N, what);
  acts_.add("encoded", &encoded_, {N, C});
  acts_.add("ln1", &ln1_, {L, N, C});
  acts_.add("ln1_mean", &ln1_mean_, {L, N});
  acts_.add("ln1_rstd", &ln1_rstd_, {L, N});
  acts_.add("qkv", &qkv_, {L, N, 3 * C});
  acts_.add("atty", &atty_, {L, N, C});
  acts_.add("att", &att_, {L, B, NH, T, T});
  acts_.add("residual2", &residual2_, {L, N, C});
  acts_.add("ln2", &ln2_, {L, N, C});
  acts_.add("ln2_mean", &ln2_mean_, {L, N});
  acts_.add("ln2_rstd", &ln2_rstd_, {L, N});
  acts_.add("fch", &fch_, {LN, Fw});
  acts_.add("fch_act", &fch_act_, {LN, Fw});
  acts_.add("residual3", &residual3_, {L, N, C});
  acts_.add("lnf", &lnf_, {N, C});
  acts_.add("lnf_mean", &lnf_mean_, {N});
  acts_.add("lnf_rstd", &lnf_rstd_, {N});
  acts_.add("logits", &logits_, {N, V});
  acts_.add("probs", &probs_, {N, V});
  acts_.add("losses", &losses_, {N});
  acts_.add("dresidual", &dresidual_, {N, C});
  acts_.add("dln", &dln_, {N, C});
  acts_.add("dqkv", &dqkv_, {N, 3 * C});
  acts_.add("datty", &datty_, {N, C});
  acts_.add("dfch", &dfch_, {N, Fw});
  acts_.add("dfch_act", &dfch_act_, {N, Fw});
  acts_.add("dlogits", &dlogits_, {N, V});
  acts_.add("dlosses", &dlosses_, {N});
  acts_.add("datt", &datt_, {T, T});
  acts_.allocate("GptTrain activations");
  inputs_.resize(sz(N));
  targets_.resize(sz(N));
}

const float* GptTrain::attention(int64_t layer) const {
  ATTN_CHECK(layer >= 0 && layer < model_.config().n_layer, "GptTrain.attention: layer ", layer,
             " is outside [0, ", model_.config().n_layer, ")");
  return att_.data() + layer * B_ * model_.config().n_head * T_ * T_;
}

float GptTrain::forward(const std::vector<int32_t>& inputs, const std::vector<int32_t>& targets) {
  const size_t N = sz(B_ * T_);
  ATTN_CHECK(inputs.size() == N && targets.size() == N, "GptTrain.forward: inputs and targets must hold B * T = ", B_,
             " * ", T_, " = ", N, " ids each, got ", inputs.size(), " and ", targets.size());
  return forward(inputs.data(), targets.data());
}

float GptTrain::forward(const int32_t* inputs, const int32_t* targets) {
  const GptConfig& c = model_.config();
  const int64_t B = B_, T = T_, N = B * T, C = c.n_embd, NH = c.n_head, hs = c.head_size(), Fw = c.mlp_width();
  const int64_t V = c.vocab_size;
  ATTN_CHECK(inputs && targets, "GptTrain.forward: inputs or targets is null");
  for (int64_t i = 0; i < N; ++i) {
    ATTN_CHECK(inputs[i] >= 0 && inputs[i] < V, "GptTrain.forward: input id ", inputs[i], " at index ", i,
               " is outside the vocabulary [0, ", V, ")");
    ATTN_CHECK(targets[i] == ignore_index_ || (targets[i] >= 0 && targets[i] < V), "GptTrain.forward: target ",
               targets[i], " at index ", i, " is outside [0, ", V, ") and is not ignore_index (", ignore_index_, ")");
  }
  std::copy(inputs, inputs + N, inputs_.begin());
  std::copy(targets, targets + N, targets_.begin());
  const float eps = c.layer_norm_epsilon;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));

  F::embedding_forward(encoded_.data(), inputs_.data(), wte_, wpe_, B, T, C, 0);
  const float* x = encoded_.data();
  for (size_t l = 0; l < layers_.size(); ++l) {
    const Layer& y = layers_[l];
    const int64_t li = static_cast<int64_t>(l);
    float* ln1 = ln1_.data() + li * N * C;
    float* qkv = qkv_.data() + li * N * 3 * C;
    float* atty = atty_.data() + li * N * C;
    float* att = att_.data() + li * B * NH * T * T;
    float* res2 = residual2_.data() + li * N * C;
    float* ln2 = ln2_.data() + li * N * C;
    float* fch = fch_.data() + li * N * Fw;
    float* fch_act = fch_act_.data() + li * N * Fw;
    float* res3 = residual3_.data() + li * N * C;

    F::layernorm_forward(ln1, ln1_mean_.data() + li * N, ln1_rstd_.data() + li * N, x, y.ln1_w, y.ln1_b, N, C, eps);
    y.c_attn->forward(qkv, 3 * C, ln1, C, N);
    for (int64_t b = 0; b < B; ++b) {
      const float* q = qkv + b * T * 3 * C;
      F::attention_forward(atty + b * T * C, C, att + b * NH * T * T, {q, 3 * C, hs}, {q + C, 3 * C, hs},
                           {q + 2 * C, 3 * C, hs}, NH, T, T, hs, scale, /*causal=*/true);
    }
    y.attn_proj->forward(res2, C, atty, C, N);
    F::residual_forward(res2, x, res2, N * C);  // x + proj, the inference forward's order

    F::layernorm_forward(ln2, ln2_mean_.data() + li * N, ln2_rstd_.data() + li * N, res2, y.ln2_w, y.ln2_b, N, C,
                         eps);
    y.c_fc->forward(fch, Fw, ln2, C, N);
    if (relu_)
      F::relu_forward(fch_act, fch, N * Fw);
    else
      F::gelu_forward(fch_act, fch, N * Fw, gelu_);
    y.mlp_proj->forward(res3, C, fch_act, Fw, N);
    F::residual_forward(res3, res2, res3, N * C);
    x = res3;
  }
  F::layernorm_forward(lnf_.data(), lnf_mean_.data(), lnf_rstd_.data(), x, lnf_w_, lnf_b_, N, C, eps);
  if (lm_head_)
    lm_head_->forward(logits_.data(), V, lnf_.data(), C, N);
  else  // logits = lnf wte^T
    kernels::f32_gemm(false, true, sz(N), sz(V), sz(C), 1.0f, lnf_.data(), sz(C), wte_, sz(C), 0.0f, logits_.data(),
                      sz(V));
  count_ = F::cross_entropy_forward(losses_.data(), probs_.data(), logits_.data(), targets_.data(), N, V,
                                    ignore_index_, label_smoothing_);
  double sum = 0.0;
  const float* losses = losses_.data();
  for (int64_t i = 0; i < N; ++i) sum += losses[i];
  has_forward_ = true;
  return static_cast<float>(sum / static_cast<double>(count_));  // 0 / 0 = NaN when all are ignored, as torch
}

void GptTrain::backward() {
  ATTN_CHECK(has_forward_, "GptTrain.backward: call forward(inputs, targets) first");
  const GptConfig& c = model_.config();
  const int64_t B = B_, T = T_, N = B * T, C = c.n_embd, NH = c.n_head, hs = c.head_size(), Fw = c.mlp_width();
  const int64_t V = c.vocab_size;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  auto zero = [](Tensor& t) { std::fill(t.data(), t.data() + t.numel(), 0.0f); };

  // Loss (mean over the rows not ignored) -> logits -> ln_f.
  const float dloss = count_ > 0 ? 1.0f / static_cast<float>(count_) : NAN;
  std::fill(dlosses_.data(), dlosses_.data() + N, dloss);
  zero(dlogits_);
  F::cross_entropy_backward(dlogits_.data(), dlosses_.data(), probs_.data(), targets_.data(), N, V, ignore_index_,
                            label_smoothing_);
  zero(dln_);
  F::linear_backward(dln_.data(), lm_head_ ? d_lm_head_ : d_wte_, nullptr, dlogits_.data(), lnf_.data(),
                     lm_head_ ? lm_head_->weight.data() : wte_, N, C, V);
  const float* x_last = layers_.empty() ? encoded_.data() : residual3_.data() + (c.n_layer - 1) * N * C;
  zero(dresidual_);
  F::layernorm_backward(dresidual_.data(), d_lnf_w_, d_lnf_b_, dln_.data(), x_last, lnf_w_, lnf_mean_.data(),
                        lnf_rstd_.data(), N, C);

  float* dres = dresidual_.data();  // d loss / d (the residual stream after layer l)
  for (int64_t l = c.n_layer - 1; l >= 0; --l) {
    const Layer& y = layers_[sz(l)];
    const float* x = l == 0 ? encoded_.data() : residual3_.data() + (l - 1) * N * C;
    const float* ln1 = ln1_.data() + l * N * C;
    const float* qkv = qkv_.data() + l * N * 3 * C;
    const float* atty = atty_.data() + l * N * C;
    const float* att = att_.data() + l * B * NH * T * T;
    const float* res2 = residual2_.data() + l * N * C;
    const float* ln2 = ln2_.data() + l * N * C;
    const float* fch = fch_.data() + l * N * Fw;
    const float* fch_act = fch_act_.data() + l * N * Fw;

    // res3 = res2 + mlp_proj(act(c_fc(ln_2(res2)))): dres is d res3 = d mlp_proj's output;
    // ln_2's backward then adds the MLP path's gradient to it, making it d res2.
    zero(dfch_act_);
    F::linear_backward(dfch_act_.data(), y.d_mlp_proj_w, y.d_mlp_proj_b, dres, fch_act, y.mlp_proj->weight.data(), N,
                       Fw, C);
    zero(dfch_);
    if (relu_)
      F::relu_backward(dfch_.data(), dfch_act_.data(), fch, N * Fw);
    else
      F::gelu_backward(dfch_.data(), dfch_act_.data(), fch, N * Fw, gelu_);
    zero(dln_);
    F::linear_backward(dln_.data(), y.d_c_fc_w, y.d_c_fc_b, dfch_.data(), ln2, y.c_fc->weight.data(), N, C, Fw);
    F::layernorm_backward(dres, y.d_ln2_w, y.d_ln2_b, dln_.data(), res2, y.ln2_w, ln2_mean_.data() + l * N,
                          ln2_rstd_.data() + l * N, N, C);

    // res2 = x + attn_proj(attention(c_attn(ln_1(x)))): the same with dres = d res2.
    zero(datty_);
    F::linear_backward(datty_.data(), y.d_attn_proj_w, y.d_attn_proj_b, dres, atty, y.attn_proj->weight.data(), N, C,
                       C);
    zero(dqkv_);
    for (int64_t b = 0; b < B; ++b) {
      float* dq = dqkv_.data() + b * T * 3 * C;
      const float* q = qkv + b * T * 3 * C;
      F::attention_backward({dq, 3 * C, hs}, {dq + C, 3 * C, hs}, {dq + 2 * C, 3 * C, hs}, datt_.data(),
                            datty_.data() + b * T * C, C, att + b * NH * T * T, {q, 3 * C, hs}, {q + C, 3 * C, hs},
                            {q + 2 * C, 3 * C, hs}, NH, T, T, hs, scale);
    }
    zero(dln_);
    F::linear_backward(dln_.data(), y.d_c_attn_w, y.d_c_attn_b, dqkv_.data(), ln1, y.c_attn->weight.data(), N, C,
                       3 * C);
    F::layernorm_backward(dres, y.d_ln1_w, y.d_ln1_b, dln_.data(), x, y.ln1_w, ln1_mean_.data() + l * N,
                          ln1_rstd_.data() + l * N, N, C);
  }
  F::embedding_backward(d_wte_, d_wpe_, dres, inputs_.data(), B, T, C, 0);
}

}  // namespace attn
