// Trainer: a whole training run of a small model on a seeded task, step by step — what the
// npm package's Trainer and the page's live training drive. make_trainer picks the model by
// task: a GPT (GptTrainer) for induction, copy, reverse, sort and addition; the BERT-style
// encoder classifier for "brackets" (train/brackets.hpp); the Transformer encoder-decoder for
// "dates" (train/dates.hpp). What follows describes GptTrainer; the other two follow it with
// their own models, tasks and trainers (models/*_train.hpp). It owns the model
// (models/gpt.hpp), its training arena (models/gpt_train.hpp), the optimizer (torch.optim
// semantics, train/optim.hpp), seed 001's gradient clipping (train/clip.hpp) and an LR
// schedule (linear warm-up, then constant or cosine to 0.1x), and draws batches from one
// seeded stream and held-out batches from another, so a seed gives the same run natively
// and in wasm.
//   step()      one batch: zero_grad, forward, backward, clip, lr, optimizer step, repack
//   evaluate()  loss and answer accuracy over fresh held-out batches (no update)
//   probe()     the inference forward of one fixed held-out sequence, attention captured
// Tasks: "induction" (train/tasks.hpp) and "copy" | "reverse" | "sort" | "addition"
// (train/sequence_tasks.hpp). Accuracy counts the scored targets (the answer) whose argmax
// is right. Every option is checked up front; messages start "Trainer: ".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "attention/capture.hpp"
#include "models/gpt.hpp"
#include "models/gpt_train.hpp"
#include "train/optim.hpp"
#include "train/schedule.hpp"
#include "train/sequence_tasks.hpp"
#include "train/tasks.hpp"

namespace attn::train {

struct TrainerOptions {
  std::string task = "induction";  // induction | copy | reverse | sort | addition | brackets | dates
  int64_t length = 8;              // induction: tokens before the repeat; brackets: the longest string;
                                   // dates: unused; others: digits (per operand)
  int64_t vocab = 16;              // induction only: the number of distinct tokens
  int64_t layers = 2, heads = 2, d_model = 64;
  int64_t mlp_width = 0;           // 0 = 4 * d_model
  int64_t batch = 16;
  std::string optimizer = "adamw"; // adamw | adam | sgd
  double lr = 3e-3;
  double weight_decay = 0.01;      // adamw / adam / sgd
  double momentum = 0.9;           // sgd
  int64_t warmup = 20;             // steps of linear warm-up
  int64_t cosine_steps = 0;        // > 0: cosine decay to 0.1 x lr at this step; 0: constant after warm-up
  std::string clip = "norm";       // none | value | clamp | norm (seed 001's three modes)
  double clip_value = 1.0;         // value: clip_grad_value_
  double clamp_min = -0.1, clamp_max = 1.0;  // clamp: the per-parameter asymmetric clamp
  double max_norm = 1.0, norm_type = 2.0;    // norm: clip_grad_norm_ (norm_type may be inf)
  uint64_t seed = 1;
};

struct StepStats {
  int64_t step = 0;       // steps done, this one included
  double loss = 0;        // mean cross-entropy over the batch's scored targets
  double accuracy = 0;    // of the batch's scored targets
  double lr = 0;          // the lr this step used
  double grad_norm = 0;   // total 2-norm of the gradients before clipping
};

struct EvalStats {
  double loss = 0, accuracy = 0;
  int64_t targets = 0;
};

class Trainer {
 public:
  virtual ~Trainer() = default;
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  virtual StepStats step() = 0;
  virtual EvalStats evaluate(int64_t batches) = 0;
  // The probe: one fixed held-out example. Its token ids (the input the maps' rows and
  // columns are), and its inference forward with `sink` capturing -> the logits,
  // probe_logits_rows() x vocab_size() (one row per position; one row for a classifier).
  const std::vector<int32_t>& probe_ids() const { return probe_; }
  virtual const float* probe(AttentionSink* sink) = 0;
  virtual int64_t probe_logits_rows() const { return T_; }
  // The logits' width: the vocabulary (GPT), the classes (classifier), the target vocabulary.
  virtual int64_t logits_width() const { return V_; }

  const TrainerOptions& options() const { return o_; }
  int64_t steps() const { return steps_; }
  int64_t seq_len() const { return T_; }
  int64_t vocab_size() const { return V_; }
  virtual Module& model() = 0;
  // The model's files: a config io/model_loader.hpp loads (tokenizers, name included) and
  // the weights.
  virtual std::string config_json(const std::string& name) const = 0;
  virtual std::vector<uint8_t> weights() = 0;
  // The probe input's vocabulary (what its ids mean).
  virtual std::vector<std::string> vocab() const = 0;

 protected:
  explicit Trainer(const TrainerOptions& options);
  // The optimizer over the model's parameters and these gradients (called once by the subclass).
  void make_optimizer(Module& model, const std::vector<Tensor>& grads);
  // Clipping, the lr of this step and the optimizer step; returns { lr, grad_norm before clipping }.
  std::pair<double, double> update(Module& model, const std::vector<Tensor>& grads);

  TrainerOptions o_;
  int64_t T_ = 0, V_ = 0;
  std::unique_ptr<Optimizer> opt_;
  std::optional<WarmupCosine> cosine_;
  Rng rng_;
  std::vector<int32_t> probe_;
  int64_t steps_ = 0;
};

// The trainer for o.task (every option checked; messages start "Trainer: ").
std::unique_ptr<Trainer> make_trainer(const TrainerOptions& o);

class GptTrainer : public Trainer {
 public:
  explicit GptTrainer(const TrainerOptions& options);
  StepStats step() override;
  EvalStats evaluate(int64_t batches) override;
  const float* probe(AttentionSink* sink) override;
  int64_t tokens_per_step() const { return o_.batch * T_; }
  Gpt& model() override { return *model_; }
  // A "gpt" config with a word tokenizer of the task's vocabulary; the weights in HF's layout.
  std::string config_json(const std::string& name) const override;
  std::vector<uint8_t> weights() override;
  std::vector<std::string> vocab() const override;

 private:
  void next_batch(Rng& rng, std::vector<int32_t>& in, std::vector<int32_t>& tg) const;
  // Accuracy numerator over the last forward's logits.
  int64_t correct(const std::vector<int32_t>& tg) const;

  std::unique_ptr<InductionTask> induction_;
  std::unique_ptr<SequenceTask> sequence_;
  std::unique_ptr<Gpt> model_;
  std::unique_ptr<GptTrain> train_;
  std::vector<int32_t> in_, tg_;
};

}  // namespace attn::train
