// GPT model files: a JSON config plus a safetensors file of weights, in Hugging Face's
// GPT-2 layout, so that a checkpoint saved by transformers (GPT2LMHeadModel or
// GPT2Model) loads here and a model saved here loads there. Everything read is untrusted.
//
// Config JSON, either of:
//  - Hugging Face's config.json, "model_type": "gpt2": vocab_size, n_positions (or n_ctx),
//    n_embd, n_layer, n_head are required integers; n_inner (null or integer),
//    layer_norm_epsilon (number), activation_function (string), tie_word_embeddings (bool)
//    are optional. Keys that change the architecture in ways this model does not
//    implement are refused (scale_attn_weights: false, scale_attn_by_inverse_layer_idx:
//    true, add_cross_attention: true); any other key (dropouts, token ids, task params)
//    does not affect inference and is ignored.
//  - ours, "model_type": "gpt": GptConfig's fields by name (activation, not
//    activation_function); unknown keys are errors, so a misspelt size cannot fall back
//    to a default.
// Types are checked (integers must be JSON integers), then GptConfig::validate().
//
// Weights, HF's layout: keys with or without the "transformer." prefix; the projections
// (attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj) are HF Conv1D weights stored
// (in, out), transposed here into nn::Linear's (out, in); the attn.bias buffers must be
// the causal tril [1, 1, P, P] and attn.masked_bias a scalar (both are then ignored:
// the attention masks by not visiting future keys); lm_head.weight is accepted when the
// config ties it to wte only if it equals wte exactly, and is required when untied.
//
// Checks, in order, before the weights are used: the config; the model's size against
// the file (every parameter needs at least one byte of it, so a small file cannot make
// us allocate a large model); the safetensors container (io/safetensors.hpp); every
// tensor by name: missing, unexpected or misshapen ones are errors naming the tensor and,
// for shapes, both the file's and the config's; then load_state_dict (NaN is refused).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "models/gpt.hpp"

namespace attn::io {

// Longest config text accepted, and its deepest JSON nesting (checked before parsing:
// nlohmann's parser recurses once per level).
constexpr size_t kMaxConfigBytes = 1u << 20;
constexpr int kMaxConfigJsonDepth = 8;

// Parses and validates a config (either format above); errors start "gpt config: ".
GptConfig parse_gpt_config(std::string_view json_text);
// Hugging Face's config.json for `config` (model_type "gpt2"), which parse_gpt_config reads back.
std::string gpt_config_json(const GptConfig& config);

// A Gpt in eval mode with the file's weights; errors start "load_gpt: " (or "gpt config: ",
// "safetensors: " for those stages).
std::unique_ptr<Gpt> load_gpt(std::string_view config_json, const uint8_t* bytes, size_t size);

struct SavedGpt {
  std::string config_json;       // gpt_config_json(model.config())
  std::vector<uint8_t> weights;  // safetensors, HF GPT2Model keys (no prefix, no buffers), Conv1D (in, out)
};
// Bit-exact: load_gpt(save_gpt(m)) has m's weights. Non-const: Module::state_dict() is.
SavedGpt save_gpt(Gpt& model);

}  // namespace attn::io
