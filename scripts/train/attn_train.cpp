// attn_train: trains a GPT (models/gpt.hpp) natively on a seeded task and writes what
// the page ships (web/models/<name>/): config.json (Hugging Face GPT-2 config plus our
// "tokenizer", "name", "description"; io/model_loader.hpp), model.safetensors
// (io::save_gpt) and MODEL_CARD.md. The loop is llm.c's train_gpt2.c main(): batch,
// zero_grad, forward, backward, clip_grad_norm_, lr from the warm-up + cosine schedule,
// AdamW step (torch semantics: train/optim.hpp, train/clip.hpp, train/schedule.hpp).
// One thread; deterministic for a seed (the tokens/s in the card are the only thing that varies).
//   attn_train --task induction|char-lm --out DIR [--layers L --heads H --d-model C
//              --mlp-width F --context T --batch B --steps N --lr LR --warmup W --seed S
//              --clip-norm X --weight-decay WD --vocab V --name NAME]
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "io/model_file.hpp"
#include "models/gpt.hpp"
#include "models/gpt_train.hpp"
#include "models/sampling.hpp"
#include "train/clip.hpp"
#include "train/optim.hpp"
#include "train/schedule.hpp"
#include "train/tasks.hpp"
#include "common.hpp"

namespace fs = std::filesystem;
using namespace attn;
using trainer::fmt;
using trainer::Progress;
using trainer::read_text;
using trainer::write_file;

namespace {

constexpr int64_t kSliceWindows = 16;     // the held-out slice tests/native/tasks_test.cpp reproduces
constexpr int64_t kInductionEval = 2000;  // held-out induction sequences
constexpr uint64_t kEvalStream = 0x5eedULL;

struct Args {
  std::string task, out, name;
  int64_t layers = 0, heads = 0, d_model = 0, mlp_width = 0, context = 0, batch = 0, steps = 0, warmup = -1,
          vocab = 0;
  double lr = 0, clip_norm = 1.0, weight_decay = 0.1;
  uint64_t seed = 1337;
  std::string command;
};

Args parse(int argc, char** argv) {
  Args a;
  trainer::Options opts("attn_train", argc, argv);
  a.command = opts.command();
  auto take = [&](const char* key, auto& field) { opts.take(key, field); };
  take("--task", a.task);
  take("--out", a.out);
  take("--name", a.name);
  take("--layers", a.layers);
  take("--heads", a.heads);
  take("--d-model", a.d_model);
  take("--mlp-width", a.mlp_width);
  take("--context", a.context);
  take("--batch", a.batch);
  take("--steps", a.steps);
  take("--warmup", a.warmup);
  take("--vocab", a.vocab);
  take("--lr", a.lr);
  take("--clip-norm", a.clip_norm);
  take("--weight-decay", a.weight_decay);
  take("--seed", a.seed);
  opts.finish();
  ATTN_CHECK(a.task == "induction" || a.task == "char-lm", "attn_train: --task must be induction or char-lm, got '",
             a.task, "'");
  ATTN_CHECK(!a.out.empty(), "attn_train: --out DIR is required");
  // Defaults per task: the shipped models' settings (scripts/train.sh).
  const bool ind = a.task == "induction";
  auto def = [](int64_t& v, int64_t d) { if (v == 0) v = d; };
  def(a.layers, ind ? 2 : 4);
  def(a.heads, ind ? 2 : 4);
  def(a.d_model, ind ? 64 : 128);
  def(a.mlp_width, ind ? 16 : 4 * a.d_model);
  def(a.context, ind ? 31 : 128);
  def(a.batch, ind ? 32 : 16);
  def(a.steps, ind ? 1000 : 1500);
  def(a.vocab, ind ? 32 : 96);
  if (a.warmup < 0) a.warmup = std::max<int64_t>(1, a.steps / 20);
  if (a.lr == 0) a.lr = ind ? 3e-3 : 2e-3;
  if (a.name.empty()) a.name = fs::path(a.out).filename().string();
  ATTN_CHECK(!ind || a.context % 2 == 1, "attn_train: induction needs an odd --context (2 * half - 1), got ",
             a.context);
  return a;
}

// Mean cross-entropy over the first `windows` validation windows (B at a time through `trainer`).
double char_val_loss(GptTrain& trainer, const train::CharCorpus& corpus, int64_t windows) {
  const int64_t B = trainer.batch_size(), T = trainer.seq_len();
  std::vector<int32_t> in(B * T), tg(B * T);
  double sum = 0;
  int64_t n = 0;
  for (int64_t k = 0; k < windows; k += B) {
    const int64_t b = std::min(B, windows - k);
    for (int64_t i = 0; i < B; ++i) {
      if (i < b) {
        corpus.val_window(k + i, T, in.data() + i * T, tg.data() + i * T);
      } else {
        std::fill_n(in.data() + i * T, T, 0);
        std::fill_n(tg.data() + i * T, T, -100);
      }
    }
    sum += static_cast<double>(trainer.forward(in, tg)) * b * T;
    n += b * T;
  }
  return sum / static_cast<double>(n);
}

// Argmax accuracy on the scored (repeated-half) targets of `count` sequences from Rng(seed, kEvalStream).
double induction_accuracy(GptTrain& trainer, const train::InductionTask& task, uint64_t seed, int64_t count) {
  const int64_t B = trainer.batch_size(), T = trainer.seq_len(), V = task.vocab_size();
  Rng rng(seed, kEvalStream);
  std::vector<int32_t> in, tg;
  int64_t hit = 0, total = 0;
  for (int64_t k = 0; k < count; k += B) {
    task.batch(rng, B, in, tg);
    trainer.forward(in, tg);
    const float* logits = trainer.logits();
    for (int64_t i = 0; i < std::min(B, count - k) * T; ++i) {
      if (tg[i] == task.ignore_index()) continue;
      const float* row = logits + i * V;
      hit += (std::max_element(row, row + V) - row) == tg[i];
      ++total;
    }
  }
  return static_cast<double>(hit) / static_cast<double>(total);
}

int run(const Args& a) {
  const bool ind = a.task == "induction";
  train::InductionTask induction(a.vocab, ind ? (a.context + 1) / 2 : 2);
  const std::vector<std::string> paths = train::fortunes_package_files();
  const train::CharCorpus corpus = ind ? train::CharCorpus() : train::CharCorpus::from_fortune_files(paths, a.vocab);

  GptConfig config;
  config.vocab_size = ind ? a.vocab : corpus.vocab_size();
  config.n_positions = a.context;
  config.n_embd = a.d_model;
  config.n_layer = a.layers;
  config.n_head = a.heads;
  config.n_inner = a.mlp_width;
  Gpt model(config, a.seed);
  // GPT-2's init for the embeddings (HF GPT2PreTrainedModel._init_weights: N(0, 0.02))
  // instead of nn.Embedding's N(0, 1): tied to the head, unit-scale embeddings start with
  // logits of size d_model and a loss far above ln V.
  for (auto& [key, p] : model.named_parameters())
    if (key == "wte.weight" || key == "wpe.weight")
      for (int64_t i = 0, n = p->numel(); i < n; ++i) p->data()[i] *= 0.02f;
  model.notify_parameters_changed();
  const int64_t B = a.batch, T = a.context;
  GptTrain trainer(model, B, T);
  train::AdamOptions o = train::AdamW::defaults();
  o.lr = a.lr;
  o.beta2 = 0.99;
  o.weight_decay = a.weight_decay;
  train::AdamW opt(train::param_grads(model, trainer.gradients()), o);
  train::WarmupCosine schedule(a.lr, a.warmup, a.steps, 0.1);
  const int64_t params = model.num_parameters();
  std::cout << a.name << ": " << a.task << ", " << params << " parameters, V " << config.vocab_size << "\n";

  Rng rng(a.seed);
  std::vector<int32_t> in, tg;
  Progress progress(a.steps, "tok");
  double loss_avg = 0;
  for (int64_t step = 0; step < a.steps; ++step) {
    if (ind) induction.batch(rng, B, in, tg);
    else corpus.batch(rng, B, T, in, tg);
    opt.zero_grad();
    const float loss = trainer.forward(in, tg);
    trainer.backward();
    train::clip_grad_norm_(trainer.gradients(), a.clip_norm);
    opt.set_lr(schedule.lr(step));
    opt.step();
    model.notify_parameters_changed();
    loss_avg = step == 0 ? loss : 0.98 * loss_avg + 0.02 * loss;
    progress.update(step, loss_avg, schedule.lr(step), (step + 1) * B * T);
  }
  const double train_secs = progress.seconds();

  std::ostringstream metric, extra;
  std::string description;
  if (ind) {
    const double acc = induction_accuracy(trainer, induction, a.seed, kInductionEval);
    const double slice = induction_accuracy(trainer, induction, a.seed, kSliceWindows * B);
    std::cout << "held-out accuracy " << fmt(100 * acc, 2) << "%\n";
    metric << "- Held-out next-token accuracy on the repeated half: **" << fmt(100 * acc, 2) << "%** over "
           << kInductionEval << " fresh sequences (Rng(seed, 0x5eed) stream, never used for training; "
           << induction.half() - 1 << " scored targets each)\n"
           << "- Held-out slice (first " << kSliceWindows * B << " of those sequences): accuracy " << fmt(slice, 6) << "\n";
    description = "2-layer GPT trained on induction: " + std::to_string(induction.half()) +
                  " distinct random tokens, then the same again: to predict the repeat it must find the current token's earlier occurrence and copy its successor, the task induction heads solve (Olsson et al., 2022).";
  } else {
    const train::NgramBaselines base = train::ngram_baselines(corpus, T);
    const int64_t W = corpus.num_val_windows(T);
    // The val loss runs GptTrain's forward in batches of B.
    const double val = char_val_loss(trainer, corpus, W);
    const double slice = char_val_loss(trainer, corpus, std::min(W, kSliceWindows));
    std::cout << "val loss " << fmt(val) << " nats/char (unigram " << fmt(base.unigram) << ", bigram "
              << fmt(base.bigram) << ")\n";
    metric << "- Validation loss: **" << fmt(val) << " nats/char** (" << fmt(val / std::log(2.0), 3)
           << " bits/char) over " << W << " non-overlapping windows of " << T << " characters ("
           << W * T << " targets)\n"
           << "- Baselines on the same targets, counted on the training split with add-one smoothing: unigram "
           << fmt(base.unigram) << " nats/char, bigram " << fmt(base.bigram) << " nats/char\n"
           << "- Held-out slice (first " << std::min(W, kSliceWindows) << " validation windows): loss " << fmt(slice, 6)
           << "\n";
    model.eval();
    extra << "\n## Samples\n\nPrompt \"%\\n\" (the end of the previous fortune), temperature 0.8, "
          << "top-k 0, up to " << T - 2 << " characters (the context), seeds 1-3:\n";
    for (uint64_t s = 1; s <= 3; ++s) {
      SamplingOptions so;
      so.temperature = 0.8f;
      so.seed = s;
      const std::vector<int32_t> prompt = corpus.encode("%\n");
      const std::vector<int32_t> ids = generate(model, prompt, T - 2, so);
      std::string text;
      for (int32_t id : ids) text += corpus.vocab()[id];
      std::cout << "sample " << s << ":\n" << text << "\n";
      extra << "\n```text\n" << text << (text.empty() || text.back() != '\n' ? "\n" : "") << "```\n";
    }
    extra << "\n## Corpus and licence\n\nText of Debian's `fortunes` package (fortune-mod's data files, "
          << "/usr/share/games/fortunes/: " << paths.size()
          << " files, ascii-art and translate-me left out), " << corpus.train_fortunes().size() + corpus.val_fortunes().size()
          << " fortunes: every 10th fortune (in file order) is validation (" << corpus.val_fortunes().size()
          << " fortunes, " << corpus.val_ids().size() << " characters), the rest training ("
          << corpus.train_fortunes().size() << " fortunes, " << corpus.train_ids().size()
          << " characters). Vocabulary: the " << corpus.vocab_size() - 1
          << " most frequent characters of the training split plus <unk>.\n\n"
          << "Licence: the package's /usr/share/doc/fortunes/copyright places fortune-mod and its data under the "
          << "BSD licence of the Regents of the University of California (1991; clause 3, advertising, deleted): "
          << "redistribution with or without modification is permitted provided the copyright notice, the "
          << "conditions and the disclaimer are retained, and the University's name is not used to endorse "
          << "derived products. The fortunes are quotations from many authors; the model is trained on them and "
          << "its samples may echo them.\n";
    // The licence's own text (its condition 2 asks for it beside binary redistributions).
    const std::string copyright = read_text("/usr/share/doc/fortunes/copyright");
    const size_t from = copyright.find("Copyright (c) 1991 The Regents");
    const size_t to = copyright.find("SUCH DAMAGE.", from);
    ATTN_CHECK(from != std::string::npos && to != std::string::npos,
               "attn_train: /usr/share/doc/fortunes/copyright lacks the BSD licence text");
    extra << "\nThe licence, as /usr/share/doc/fortunes/copyright states it:\n\n```text\n"
          << copyright.substr(from, to + 12 - from) << "\n```\n";
    description = "Character-level GPT trained on Debian's fortunes (BSD licence); generates fortune-cookie text.";
  }

  fs::create_directories(a.out);
  nlohmann::json cfg = nlohmann::json::parse(io::gpt_config_json(config));
  cfg["name"] = a.name;
  cfg["description"] = description;
  if (ind) {
    std::vector<std::string> words;
    for (int64_t i = 0; i < a.vocab; ++i) words.push_back(std::to_string(i));
    cfg["tokenizer"] = {{"type", "word"}, {"vocab", words}, {"split", "whitespace"}};
  } else {
    cfg["tokenizer"] = nlohmann::json::parse(corpus.tokenizer_spec());
  }
  write_file(fs::path(a.out) / "config.json", cfg.dump(2) + "\n");
  const io::SavedGpt saved = io::save_gpt(model);
  write_file(fs::path(a.out) / "model.safetensors",
             std::string(reinterpret_cast<const char*>(saved.weights.data()), saved.weights.size()));

  std::ostringstream card;
  card << "# " << a.name << "\n\n" << description << "\n\n## Task\n\n";
  if (ind)
    card << "Induction: each sequence is " << induction.half() << " distinct tokens drawn from " << a.vocab
         << " (without replacement), then the same " << induction.half() << " again; the model reads "
         << T << " tokens and predicts the next. Only predictions made at a repeated token are scored "
         << "(the others' targets are ignore_index): there the answer is the token that followed its first occurrence.\n";
  else
    card << "Next-character prediction on fortune-cookie text, context " << T << " characters.\n";
  card << "\n## Architecture\n\nGPT-2 (pre-LN decoder, learned positions, tied head; gelu_new): " << a.layers
       << " layers, " << a.heads << " heads, d_model " << a.d_model << ", MLP width " << config.mlp_width()
       << ", context " << T << ", vocabulary " << config.vocab_size << ": **" << params << " parameters**.";
  if (ind)
    card << " Not attention-only: GptConfig has no zero-width MLP (n_inner 0 means 4 * d_model), so the "
         << "blocks keep a small MLP of width " << config.mlp_width() << ".";
  card << "\n\n## Held-out metric\n\n" << metric.str() << "\n## Training\n\n"
       << "AdamW (betas 0.9, 0.99, weight decay " << a.weight_decay << "), lr " << a.lr << " with " << a.warmup
       << " warm-up steps then cosine to 0.1x, clip_grad_norm_ " << a.clip_norm << ", " << a.steps
       << " steps of " << B << " x " << T << " tokens, seed " << a.seed << ". Training time: " << fmt(train_secs, 1)
       << " s on one core (" << fmt(a.steps * B * T / train_secs, 0) << " tokens/s).\n\nRetrain (from the repository root, after `bash scripts/build.sh native`):\n\n```sh\n"
       << "build/native/scripts/train/" << a.command << "\n```\n\nDeterministic for the seed: the same command writes the same weights.\n"
       << extra.str();
  write_file(fs::path(a.out) / "MODEL_CARD.md", card.str());
  std::cout << "wrote " << a.out << " (" << saved.weights.size() << " bytes of weights)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
