// The Trainer (train/trainer.hpp) for the encoder models: balanced brackets on the BERT-style
// encoder classifier (models/encoder_classifier_train.hpp, train/brackets.hpp) and date
// normalisation on the Transformer encoder-decoder (models/encoder_decoder_train.hpp,
// train/dates.hpp), with the same optimizers, schedule and clipping as the GPT's. Accuracy:
// the classification for brackets; the answer's tokens under teacher forcing for dates.
#pragma once

#include <memory>

#include "train/trainer.hpp"

namespace attn::train {

std::unique_ptr<Trainer> make_brackets_trainer(const TrainerOptions& o);
std::unique_ptr<Trainer> make_dates_trainer(const TrainerOptions& o);

}  // namespace attn::train
