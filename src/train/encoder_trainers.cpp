// Trainers for the encoder classifier and the encoder-decoder: see encoder_trainers.hpp.
#include "train/encoder_trainers.hpp"

#include <algorithm>
#include <tuple>

#include <nlohmann/json.hpp>

#include "io/model_loader.hpp"
#include "kernels/reduce.hpp"
#include "models/encoder_classifier_train.hpp"
#include "models/encoder_decoder_train.hpp"
#include "train/brackets.hpp"
#include "train/dates.hpp"

namespace attn::train {

namespace {
constexpr uint64_t kEvalStream = 0xe7a1, kProbeStream = 0x9b0e;

int64_t argmax(const float* row, int64_t n) { return static_cast<int64_t>(kernels::f32_argmax(static_cast<size_t>(n), row)); }

class BracketsTrainer : public Trainer {
 public:
  explicit BracketsTrainer(const TrainerOptions& o) : Trainer(o), task_(o.length) {
    EncoderClassifierConfig c;
    c.vocab_size = 7;
    c.max_position = o.length;
    c.type_vocab_size = 0;
    c.pad_id = BracketsTask::kPad;
    c.d_model = o.d_model;
    c.nhead = o.heads;
    c.num_layers = o.layers;
    c.dim_feedforward = o.mlp_width > 0 ? o.mlp_width : 2 * o.d_model;
    c.num_classes = 2;
    c.dropout = 0.0f;
    c.layer_norm_eps = 1e-5f;
    c.max_batch = 1;
    c.seed = o.seed;
    model_ = std::make_unique<EncoderClassifier>(c);
    model_->pack_parameters();
    model_->eval();
    T_ = o.length;
    V_ = 2;
    train_ = std::make_unique<EncoderClassifierTrain>(*model_, o.batch, T_);
    make_optimizer(*model_, train_->gradients());
    Rng probe_rng(o.seed, kProbeStream);
    int32_t label = 0;
    do {  // a probe long enough to show nesting
      probe_ = BracketsTask::encode(task_.example(probe_rng, label));
    } while (static_cast<int64_t>(probe_.size()) < std::min<int64_t>(8, o.length));
  }
  StepStats step() override {
    task_.batch(rng_, o_.batch, T_, ids_, pad_, labels_, t_);
    opt_->zero_grad();
    StepStats s;
    s.loss = train_->forward(ids_.data(), pad_.data(), labels_.data());
    s.accuracy = accuracy();
    train_->backward();
    std::tie(s.lr, s.grad_norm) = update(*model_, train_->gradients());
    s.step = steps_;
    return s;
  }
  EvalStats evaluate(int64_t batches) override {
    ATTN_CHECK(batches >= 1 && batches <= 1000, "Trainer: evaluate's batches must be in [1, 1000], got ", batches);
    Rng rng(o_.seed, kEvalStream);
    EvalStats e;
    double loss = 0, acc = 0;
    for (int64_t b = 0; b < batches; ++b) {
      task_.batch(rng, o_.batch, T_, ids_, pad_, labels_, t_);
      loss += train_->forward(ids_.data(), pad_.data(), labels_.data());
      acc += accuracy();
    }
    e.loss = loss / static_cast<double>(batches);
    e.accuracy = acc / static_cast<double>(batches);
    e.targets = batches * o_.batch;
    return e;
  }
  const float* probe(AttentionSink* sink) override {
    return model_->forward(probe_.data(), 1, static_cast<int64_t>(probe_.size()), nullptr, nullptr, sink);
  }
  int64_t probe_logits_rows() const override { return 1; }
  Module& model() override { return *model_; }
  std::string config_json(const std::string& name) const override {
    const EncoderClassifierConfig& c = model_->config;
    nlohmann::json cfg = {{"model_type", "encoder-classifier"}, {"vocab_size", c.vocab_size},
                          {"max_position", c.max_position}, {"type_vocab_size", 0}, {"pad_id", c.pad_id},
                          {"d_model", c.d_model}, {"nhead", c.nhead}, {"num_layers", c.num_layers},
                          {"dim_feedforward", c.dim_feedforward}, {"num_classes", 2}, {"dropout", 0.0},
                          {"layer_norm_eps", c.layer_norm_eps}, {"max_batch", 1}, {"labels", {"unbalanced", "balanced"}},
                          {"name", name},
                          {"description", "Encoder classifier trained in the browser on balanced brackets (" +
                                              std::to_string(steps_) + " steps)."}};
    cfg["tokenizer"] = nlohmann::json::parse(BracketsTask::tokenizer_spec());
    return cfg.dump(2);
  }
  std::vector<uint8_t> weights() override { return io::save_weights(*model_); }
  std::vector<std::string> vocab() const override { return {"<unk>", "(", ")", "[", "]", "{", "}"}; }

 private:
  double accuracy() const {
    int64_t ok = 0;
    for (int64_t b = 0; b < o_.batch; ++b) ok += argmax(train_->logits() + b * 2, 2) == labels_[b];
    return static_cast<double>(ok) / static_cast<double>(o_.batch);
  }
  BracketsTask task_;
  std::unique_ptr<EncoderClassifier> model_;
  std::unique_ptr<EncoderClassifierTrain> train_;
  std::vector<int32_t> ids_, labels_;
  std::vector<uint8_t> pad_;
  int64_t t_ = 0;
};

class DatesTrainer : public Trainer {
 public:
  explicit DatesTrainer(const TrainerOptions& o) : Trainer(o) {
    S_ = DateTask::max_source_len();
    const int64_t T = DateTask::kTargetLen + 1;
    EncoderDecoderConfig c;
    c.src_vocab = static_cast<int64_t>(DateTask::source_vocab().size());
    c.tgt_vocab = static_cast<int64_t>(DateTask::target_vocab().size());
    c.d_model = o.d_model;
    c.nhead = o.heads;
    c.num_encoder_layers = o.layers;
    c.num_decoder_layers = o.layers;
    c.dim_feedforward = o.mlp_width > 0 ? o.mlp_width : 2 * o.d_model;
    c.dropout = 0.0f;
    c.activation = nn::Activation::relu;
    c.max_len = std::max(S_, T);
    c.max_batch = 1;
    c.seed = o.seed;
    model_ = std::make_unique<EncoderDecoder>(c);
    model_->pack_parameters();
    model_->eval();
    T_ = T;
    V_ = c.tgt_vocab;
    train_ = std::make_unique<EncoderDecoderTrain>(*model_, o.batch, S_, T_);
    make_optimizer(*model_, train_->gradients());
    Rng probe_rng(o.seed, kProbeStream);
    const DateTask::Example e = task_.example(probe_rng, true);
    probe_ = DateTask::encode_source(e.source);
    probe_tgt_ = {DateTask::kBos};
    for (int32_t id : DateTask::encode_target(e.target)) probe_tgt_.push_back(id);
  }
  StepStats step() override {
    task_.batch(rng_, o_.batch, false, src_, pad_, tgt_, targets_);
    opt_->zero_grad();
    StepStats s;
    s.loss = train_->forward(src_.data(), pad_.data(), tgt_.data(), targets_.data());
    s.accuracy = accuracy();
    train_->backward();
    std::tie(s.lr, s.grad_norm) = update(*model_, train_->gradients());
    s.step = steps_;
    return s;
  }
  EvalStats evaluate(int64_t batches) override {
    ATTN_CHECK(batches >= 1 && batches <= 1000, "Trainer: evaluate's batches must be in [1, 1000], got ", batches);
    Rng rng(o_.seed, kEvalStream);
    EvalStats e;
    double loss = 0, acc = 0;
    for (int64_t b = 0; b < batches; ++b) {
      task_.batch(rng, o_.batch, true, src_, pad_, tgt_, targets_);
      loss += train_->forward(src_.data(), pad_.data(), tgt_.data(), targets_.data());
      acc += accuracy();
    }
    e.loss = loss / static_cast<double>(batches);
    e.accuracy = acc / static_cast<double>(batches);
    e.targets = batches * o_.batch * T_;
    return e;
  }
  // The teacher-forced forward of the probe date: logits (T, target vocabulary) and every map.
  const float* probe(AttentionSink* sink) override {
    return model_->forward(probe_.data(), 1, static_cast<int64_t>(probe_.size()), probe_tgt_.data(), T_, nullptr,
                           nullptr, sink);
  }
  Module& model() override { return *model_; }
  std::string config_json(const std::string& name) const override {
    const EncoderDecoderConfig& c = model_->config;
    nlohmann::json cfg = {{"model_type", "encoder-decoder"}, {"src_vocab", c.src_vocab}, {"tgt_vocab", c.tgt_vocab},
                          {"d_model", c.d_model}, {"nhead", c.nhead}, {"num_encoder_layers", c.num_encoder_layers},
                          {"num_decoder_layers", c.num_decoder_layers}, {"dim_feedforward", c.dim_feedforward},
                          {"dropout", 0.0}, {"activation", "relu"}, {"layer_norm_eps", c.layer_norm_eps},
                          {"norm_first", false}, {"max_len", c.max_len}, {"positions", "sinusoidal"},
                          {"scale_embedding", true}, {"max_batch", 1}, {"bos_id", DateTask::kBos},
                          {"eos_id", DateTask::kEos}, {"name", name},
                          {"description", "Encoder-decoder trained in the browser on date normalisation (" +
                                              std::to_string(steps_) + " steps)."}};
    cfg["src_tokenizer"] = nlohmann::json::parse(DateTask::source_tokenizer_spec());
    cfg["tgt_tokenizer"] = nlohmann::json::parse(DateTask::target_tokenizer_spec());
    return cfg.dump(2);
  }
  std::vector<uint8_t> weights() override { return io::save_weights(*model_); }
  std::vector<std::string> vocab() const override { return DateTask::source_vocab(); }

 private:
  // Of the answer tokens (targets, eos included), the share whose argmax is right.
  double accuracy() const {
    int64_t ok = 0, n = 0;
    for (size_t i = 0; i < targets_.size(); ++i) {
      ok += argmax(train_->logits() + static_cast<int64_t>(i) * V_, V_) == targets_[i];
      ++n;
    }
    return n ? static_cast<double>(ok) / static_cast<double>(n) : 0.0;
  }
  DateTask task_;
  int64_t S_ = 0;
  std::unique_ptr<EncoderDecoder> model_;
  std::unique_ptr<EncoderDecoderTrain> train_;
  std::vector<int32_t> src_, tgt_, targets_, probe_tgt_;
  std::vector<uint8_t> pad_;
};
}  // namespace

std::unique_ptr<Trainer> make_brackets_trainer(const TrainerOptions& o) { return std::make_unique<BracketsTrainer>(o); }
std::unique_ptr<Trainer> make_dates_trainer(const TrainerOptions& o) { return std::make_unique<DatesTrainer>(o); }

}  // namespace attn::train
