// Model files: a JSON config plus a safetensors file of weights (plus the tokenizer's
// files), as the npm package's loadModel takes them. Everything here is untrusted input.
//
// Config: a JSON object whose "model_type" picks the model; the other keys are the
// model's sizes (its C++ config struct's fields, snake_case) and optional metadata:
//   "gpt2"         Hugging Face GPT-2 config.json, or "gpt", ours: io/model_file.hpp
//                  (Hugging Face checkpoints load as they are). Without a "tokenizer" key,
//                  GPT-2's BPE files among the tokenizer files (vocab.json/encoder.json +
//                  merges.txt/vocab.bpe) make its tokenizer.
//   "se-cnn"       SECNNConfig: in_channels, num_classes, stem_channels, block_channels [..],
//                  reduction, max_batch, max_height, max_width (the activation arena's extent);
//                  metadata "labels" [num_classes strings], "input" {height, width, mean, std}
//   "seq2seq-rnn"  Seq2SeqConfig: src_vocab, tgt_vocab, embed_dim, hidden_size, num_layers,
//                  cell "gru" | "lstm", rule "bahdanau" | "dot" | "general" | "concat",
//                  max_src_len, max_tgt_len, max_batch (the activation arena's extent);
//                  metadata bos_id, eos_id, "src_tokenizer", "tgt_tokenizer"
//   "encoder-classifier"  EncoderClassifierConfig: vocab_size, max_position, type_vocab_size, pad_id,
//                  d_model, nhead, num_layers, dim_feedforward, num_classes, dropout,
//                  layer_norm_eps, max_batch (the activation arena's rows); metadata "labels"
//   "encoder-decoder"     EncoderDecoderConfig: src_vocab, tgt_vocab, d_model, nhead,
//                  num_encoder_layers, num_decoder_layers, dim_feedforward, dropout, activation,
//                  layer_norm_eps, norm_first, max_len, positions "sinusoidal" | "learned",
//                  scale_embedding, max_batch; metadata bos_id, eos_id, "src_tokenizer", "tgt_tokenizer"
// Every model may carry "tokenizer" (a tokenizer spec, io/tokenizer.hpp; its files come
// with the call), "name" and "description". Unknown keys are errors (a misspelt size must
// not silently fall back to a default).
//
// Checks, in order, before the weights are used: the config's types and ranges; the
// model's total size, capped by the weights file (its parameters must be in the file, so
// building it may allocate at most 4x the file's size plus 64 MiB of activation arena:
// AllocationCap); then
// load_state_dict(strict), which names a missing, unexpected or misshapen tensor and both
// shapes. Tensors of other dtypes than float32 in the file are converted (safetensors.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/module.hpp"
#include "io/tokenizer.hpp"

namespace attn::io {

struct LoadedModel {
  std::string model_type;                   // "se-cnn", "seq2seq-rnn", ...
  std::unique_ptr<Module> model;            // the model, in eval mode, weights loaded and packed
  std::unique_ptr<Tokenizer> tokenizer;     // config "tokenizer" (or "src_tokenizer"), when given
  std::unique_ptr<Tokenizer> tgt_tokenizer; // seq2seq: "tgt_tokenizer", when given
  std::string config_json;                  // the config as given (validated)
};

// `files`: the tokenizer's files by name (io/tokenizer.hpp). Throws attn::Error naming
// "loadModel", the config key or tensor, and the problem.
LoadedModel load_model(std::string_view config_json, const uint8_t* weights, size_t weights_size,
                       const std::map<std::string, std::string>& files = {});

// The model's state_dict as safetensors bytes (torch's keys), the inverse of the weights
// half of load_model.
std::vector<uint8_t> save_weights(Module& model);

}  // namespace attn::io
