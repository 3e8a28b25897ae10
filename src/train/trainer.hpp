// GptTrainer: a whole training run of a small GPT on a seeded task, step by step — what
// the npm package's Trainer and the page's live training drive. It owns the model
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
  std::string task = "induction";  // induction | copy | reverse | sort | addition
  int64_t length = 8;              // induction: tokens before the repeat; others: digits (per operand)
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

class GptTrainer {
 public:
  explicit GptTrainer(const TrainerOptions& options);
  GptTrainer(const GptTrainer&) = delete;
  GptTrainer& operator=(const GptTrainer&) = delete;

  StepStats step();
  EvalStats evaluate(int64_t batches);
  // The probe sequence's inputs (T ids), and its inference forward with `sink` capturing.
  const std::vector<int32_t>& probe_ids() const { return probe_; }
  const float* probe(AttentionSink* sink);

  const TrainerOptions& options() const { return o_; }
  int64_t steps() const { return steps_; }
  int64_t seq_len() const { return T_; }
  int64_t vocab_size() const { return V_; }
  int64_t tokens_per_step() const { return o_.batch * T_; }
  Gpt& model() { return *model_; }
  // The model's files: a "gpt" config (io/model_loader.hpp) with a word tokenizer of the
  // task's vocabulary and a name, and the weights (io/model_file.hpp's save_gpt).
  std::string config_json(const std::string& name) const;
  std::vector<uint8_t> weights();
  // The word tokenizer's vocabulary (what the ids mean).
  std::vector<std::string> vocab() const;

 private:
  void next_batch(Rng& rng, std::vector<int32_t>& in, std::vector<int32_t>& tg) const;
  // Accuracy numerator over the last forward's logits.
  int64_t correct(const std::vector<int32_t>& tg) const;

  TrainerOptions o_;
  int64_t T_ = 0, V_ = 0;
  std::unique_ptr<InductionTask> induction_;
  std::unique_ptr<SequenceTask> sequence_;
  std::unique_ptr<Gpt> model_;
  std::unique_ptr<GptTrain> train_;
  std::unique_ptr<Optimizer> opt_;
  std::optional<WarmupCosine> cosine_;
  Rng rng_;
  std::vector<int32_t> in_, tg_, probe_;
  int64_t steps_ = 0;
};

}  // namespace attn::train
