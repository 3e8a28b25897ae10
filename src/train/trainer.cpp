// GptTrainer: see trainer.hpp.
#include "train/trainer.hpp"

#include <cmath>
#include <limits>
#include <tuple>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "io/model_file.hpp"
#include "kernels/reduce.hpp"
#include "train/clip.hpp"
#include "train/encoder_trainers.hpp"

namespace attn::train {

namespace {
constexpr const char* kWhat = "Trainer";
constexpr uint64_t kEvalStream = 0xe7a1, kProbeStream = 0x9b0e;

void check_options(const TrainerOptions& o) {
  auto in = [](int64_t v, int64_t lo, int64_t hi, const char* name) {
    ATTN_CHECK(v >= lo && v <= hi, kWhat, ": ", name, " must be in [", lo, ", ", hi, "], got ", v);
  };
  ATTN_CHECK(o.task == "induction" || o.task == "copy" || o.task == "reverse" || o.task == "sort" ||
                 o.task == "addition" || o.task == "brackets" || o.task == "dates",
             kWhat, ": task must be induction, copy, reverse, sort, addition, brackets or dates, got '", o.task, "'");
  in(o.length, o.task == "induction" || o.task == "brackets" ? 2 : 1, 64, "length");
  if (o.task == "induction") {
    in(o.vocab, 2, 4096, "vocab");
    ATTN_CHECK(o.length <= o.vocab, kWhat, ": induction needs length <= vocab (distinct tokens), got length ", o.length,
               " and vocab ", o.vocab);
  }
  in(o.layers, 1, 12, "layers");
  in(o.heads, 1, 32, "heads");
  in(o.d_model, 1, 1024, "dModel");
  ATTN_CHECK(o.d_model % o.heads == 0, kWhat, ": heads (", o.heads, ") must divide dModel (", o.d_model, ")");
  in(o.mlp_width, 0, 4096, "mlpWidth");
  in(o.batch, 1, 1024, "batch");
  ATTN_CHECK(o.optimizer == "adamw" || o.optimizer == "adam" || o.optimizer == "sgd", kWhat,
             ": optimizer must be adamw, adam or sgd, got '", o.optimizer, "'");
  auto finite = [](double v, double lo, double hi, const char* name) {
    ATTN_CHECK(std::isfinite(v) && v >= lo && v <= hi, kWhat, ": ", name, " must be a number in [", lo, ", ", hi,
               "], got ", v);
  };
  finite(o.lr, 0, 10, "lr");
  finite(o.weight_decay, 0, 10, "weightDecay");
  finite(o.momentum, 0, 1, "momentum");
  in(o.warmup, 0, 1 << 30, "warmup");
  in(o.cosine_steps, 0, 1 << 30, "cosineSteps");
  ATTN_CHECK(o.clip == "none" || o.clip == "value" || o.clip == "clamp" || o.clip == "norm", kWhat,
             ": clip must be none, value, clamp or norm, got '", o.clip, "'");
  finite(o.clip_value, 0, 1e30, "clip value");
  finite(o.clamp_min, -1e30, 1e30, "clip min");
  finite(o.clamp_max, -1e30, 1e30, "clip max");
  ATTN_CHECK(o.clamp_min <= o.clamp_max, kWhat, ": clip min (", o.clamp_min, ") must not exceed max (", o.clamp_max, ")");
  finite(o.max_norm, 0, 1e30, "maxNorm");
  ATTN_CHECK(o.norm_type == std::numeric_limits<double>::infinity() || (std::isfinite(o.norm_type) && o.norm_type > 0),
             kWhat, ": normType must be positive or Infinity, got ", o.norm_type);
}

// Total 2-norm over every gradient (before clipping, for the progress numbers).
double grad_norm(const std::vector<Tensor>& grads) {
  double s = 0;
  for (const Tensor& g : grads) {
    const float* p = g.data();
    for (int64_t i = 0, n = g.numel(); i < n; ++i) s += static_cast<double>(p[i]) * p[i];
  }
  return std::sqrt(s);
}
}  // namespace

Trainer::Trainer(const TrainerOptions& options) : o_(options), rng_(options.seed) {
  check_options(o_);
  if (o_.cosine_steps > 0) cosine_.emplace(o_.lr, o_.warmup, o_.cosine_steps, 0.1);
}

void Trainer::make_optimizer(Module& model, const std::vector<Tensor>& grads) {
  std::vector<ParamGrad> pg = param_grads(model, grads);
  if (o_.optimizer == "sgd") {
    SgdOptions s;
    s.lr = o_.lr;
    s.momentum = o_.momentum;
    s.weight_decay = o_.weight_decay;
    opt_ = std::make_unique<SGD>(std::move(pg), s);
  } else {
    AdamOptions a = o_.optimizer == "adamw" ? AdamW::defaults() : AdamOptions{};
    a.lr = o_.lr;
    a.beta2 = 0.99;
    a.weight_decay = o_.weight_decay;
    if (o_.optimizer == "adamw") opt_ = std::make_unique<AdamW>(std::move(pg), a);
    else opt_ = std::make_unique<Adam>(std::move(pg), a);
  }
}

std::pair<double, double> Trainer::update(Module& model, const std::vector<Tensor>& grads) {
  // Linear warm-up, then constant, or the warm-up + cosine schedule when cosineSteps is set.
  double lr = o_.lr;
  if (cosine_) lr = cosine_->lr(steps_);
  else if (steps_ < o_.warmup) lr = o_.lr * static_cast<double>(steps_ + 1) / static_cast<double>(o_.warmup);
  const double norm = grad_norm(grads);
  if (o_.clip == "value") clip_grad_value_(grads, o_.clip_value);
  else if (o_.clip == "clamp") clamp_grad_(grads, o_.clamp_min, o_.clamp_max);
  else if (o_.clip == "norm") clip_grad_norm_(grads, o_.max_norm, o_.norm_type);
  opt_->set_lr(lr);
  opt_->step();
  model.notify_parameters_changed();
  ++steps_;
  return {lr, norm};
}

GptTrainer::GptTrainer(const TrainerOptions& options) : Trainer(options) {
  if (o_.task == "induction") {
    induction_ = std::make_unique<InductionTask>(o_.vocab, o_.length);
    T_ = induction_->seq_len();
    V_ = o_.vocab;
  } else {
    sequence_ = std::make_unique<SequenceTask>(sequence_task_kind(o_.task, kWhat), o_.length);
    T_ = sequence_->seq_len();
    V_ = sequence_->vocab_size();
  }
  GptConfig c;
  c.vocab_size = V_;
  c.n_positions = T_;
  c.n_embd = o_.d_model;
  c.n_layer = o_.layers;
  c.n_head = o_.heads;
  c.n_inner = o_.mlp_width;
  c.validate();
  model_ = std::make_unique<Gpt>(c, o_.seed);
  // GPT-2's embedding init (N(0, 0.02), HF GPT2PreTrainedModel._init_weights), as attn_train:
  // with the tied head, nn.Embedding's N(0, 1) starts the loss far above ln V.
  for (auto& [key, p] : model_->named_parameters())
    if (key == "wte.weight" || key == "wpe.weight")
      for (int64_t i = 0, n = p->numel(); i < n; ++i) p->data()[i] *= 0.02f;
  model_->notify_parameters_changed();
  train_ = std::make_unique<GptTrain>(*model_, o_.batch, T_);
  make_optimizer(*model_, train_->gradients());
  Rng probe_rng(o_.seed, kProbeStream);
  std::vector<int32_t> tg;
  next_batch(probe_rng, probe_, tg);
  probe_.resize(static_cast<size_t>(T_));  // one sequence
  in_.reserve(static_cast<size_t>(o_.batch * T_));
  tg_.reserve(static_cast<size_t>(o_.batch * T_));
}

void GptTrainer::next_batch(Rng& rng, std::vector<int32_t>& in, std::vector<int32_t>& tg) const {
  if (induction_) induction_->batch(rng, o_.batch, in, tg);
  else sequence_->batch(rng, o_.batch, in, tg);
}

int64_t GptTrainer::correct(const std::vector<int32_t>& tg) const {
  const float* logits = train_->logits();
  int64_t ok = 0;
  for (size_t i = 0; i < tg.size(); ++i) {
    if (tg[i] < 0) continue;
    const size_t best = kernels::f32_argmax(static_cast<size_t>(V_), logits + i * V_);
    ok += static_cast<int64_t>(best) == tg[i];
  }
  return ok;
}

StepStats GptTrainer::step() {
  next_batch(rng_, in_, tg_);
  opt_->zero_grad();
  StepStats s;
  s.loss = train_->forward(in_, tg_);
  int64_t scored = 0;
  for (int32_t t : tg_) scored += t >= 0;
  s.accuracy = scored ? static_cast<double>(correct(tg_)) / static_cast<double>(scored) : 0.0;
  train_->backward();
  std::tie(s.lr, s.grad_norm) = update(*model_, train_->gradients());
  s.step = steps_;
  return s;
}

EvalStats GptTrainer::evaluate(int64_t batches) {
  ATTN_CHECK(batches >= 1 && batches <= 1000, kWhat, ": evaluate's batches must be in [1, 1000], got ", batches);
  Rng rng(o_.seed, kEvalStream);  // the same held-out batches every time
  EvalStats e;
  double loss_sum = 0;
  std::vector<int32_t> in, tg;
  int64_t ok = 0;
  for (int64_t b = 0; b < batches; ++b) {
    next_batch(rng, in, tg);
    int64_t scored = 0;
    for (int32_t t : tg) scored += t >= 0;
    loss_sum += static_cast<double>(train_->forward(in, tg)) * static_cast<double>(scored);
    ok += correct(tg);
    e.targets += scored;
  }
  e.loss = e.targets ? loss_sum / static_cast<double>(e.targets) : 0.0;
  e.accuracy = e.targets ? static_cast<double>(ok) / static_cast<double>(e.targets) : 0.0;
  return e;
}

const float* GptTrainer::probe(AttentionSink* sink) {
  return model_->forward(probe_.data(), T_, 0, sink);
}

std::vector<std::string> GptTrainer::vocab() const {
  if (sequence_) return SequenceTask::vocab();
  std::vector<std::string> v;
  for (int64_t i = 0; i < V_; ++i) v.push_back(std::to_string(i));
  return v;
}

std::string GptTrainer::config_json(const std::string& name) const {
  nlohmann::json cfg = nlohmann::json::parse(io::gpt_config_json(model_->config()));
  cfg["name"] = name;
  cfg["description"] = "GPT trained in the browser on the " + o_.task + " task (" + std::to_string(steps_) + " steps).";
  cfg["tokenizer"] = {{"type", "word"}, {"vocab", vocab()}, {"split", "whitespace"}};
  return cfg.dump(2);
}

std::vector<uint8_t> GptTrainer::weights() { return io::save_gpt(*model_).weights; }

std::unique_ptr<Trainer> make_trainer(const TrainerOptions& o) {
  if (o.task == "brackets") return make_brackets_trainer(o);
  if (o.task == "dates") return make_dates_trainer(o);
  return std::make_unique<GptTrainer>(o);
}

}  // namespace attn::train
