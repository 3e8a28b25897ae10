#include "models/gpt.hpp"

#include <cmath>
#include <cstring>
#include <utility>

#include "core/size.hpp"
#include "kernels/gemm.hpp"

namespace attn {

namespace F = nn::functional;

namespace {

// The arena's slots in order (B = 1, sized for P tokens): the constructor binds them to
// members, arena_bytes() sums them, so the two cannot disagree.
std::vector<std::pair<const char*, Shape>> arena_plan(const GptConfig& c) {
  const int64_t P = c.n_positions, C = c.n_embd, NH = c.n_head, hs = c.head_size();
  return {{"x", {P, C}},
          {"ln", {P, C}},
          {"qkv", {P, 3 * C}},
          {"atty", {P, C}},
          {"proj", {P, C}},
          {"fc", {P, c.mlp_width()}},
          {"att", {NH, P, P}},
          {"k_cache", {c.n_layer, NH, P, hs}},
          {"v_cache", {c.n_layer, NH, P, hs}},
          {"logits", {P, c.vocab_size}}};
}

bool is_tanh_gelu(const std::string& a) { return a == "gelu_new" || a == "gelu_pytorch_tanh"; }

}  // namespace

void GptConfig::validate() const {
  // Every size at most kMaxNumel first, so that products of two of them (3 * C, P * P)
  // cannot overflow int64 below; the checked arithmetic then bounds the rest.
  auto positive = [](int64_t v, const char* name) {
    ATTN_CHECK(v >= 1, "GptConfig: ", name, " must be positive, got ", v);
    ATTN_CHECK(v <= kMaxNumel, "GptConfig: ", name, " = ", v, " is too large (at most ", kMaxNumel, ")");
  };
  positive(vocab_size, "vocab_size");
  positive(n_positions, "n_positions");
  positive(n_embd, "n_embd");
  positive(n_layer, "n_layer");
  positive(n_head, "n_head");
  ATTN_CHECK(n_inner >= 0 && n_inner <= kMaxNumel, "GptConfig: n_inner must be in [0, ", kMaxNumel,
             "] (0 = 4 * n_embd), got ", n_inner);
  if (n_inner == 0) checked_mul(4, n_embd, "GptConfig: the MLP width 4 * n_embd");
  // Token ids are int32.
  ATTN_CHECK(vocab_size <= INT32_MAX, "GptConfig: vocab_size ", vocab_size, " does not fit int32 token ids");
  ATTN_CHECK(n_embd % n_head == 0, "GptConfig: n_embd (", n_embd, ") must be divisible by n_head (", n_head, ")");
  ATTN_CHECK(std::isfinite(layer_norm_epsilon) && layer_norm_epsilon >= 0.0f,
             "GptConfig: layer_norm_epsilon must be finite and >= 0, got ", layer_norm_epsilon);
  ATTN_CHECK(is_tanh_gelu(activation) || activation == "gelu" || activation == "relu", "GptConfig: activation \"",
             activation.substr(0, 32), "\" is not supported (gelu_new, gelu_pytorch_tanh, gelu, relu)");
  // Every tensor against the per-tensor byte budget, then the totals against the
  // arena's, all before the constructor allocates anything.
  const int64_t C = n_embd;
  for (const Shape& s : {Shape{vocab_size, C}, Shape{n_positions, C}, Shape{3 * C, C}, Shape{mlp_width(), C}})
    checked_bytes(s, sizeof(float), "GptConfig: parameter");
  const uint64_t param_bytes = static_cast<uint64_t>(num_parameters()) * sizeof(float);
  ATTN_CHECK(param_bytes <= kMaxArenaBytes, "GptConfig: the parameters need ", bytes_str(param_bytes),
             ", more than the ", bytes_str(kMaxArenaBytes), " an arena may hold");
  const uint64_t acts = static_cast<uint64_t>(arena_bytes());
  ATTN_CHECK(acts <= kMaxArenaBytes, "GptConfig: activations and KV cache for n_positions = ", n_positions, " need ",
             bytes_str(acts), ", more than the ", bytes_str(kMaxArenaBytes), " an arena may hold");
}

int64_t GptConfig::num_parameters() const {
  const char* what = "GptConfig: the parameter count";
  const int64_t C = n_embd, Fw = mlp_width();
  const int64_t CC = checked_mul(C, C, what), FC = checked_mul(Fw, C, what);
  // ln_1, ln_2 (2C each); c_attn (3C*C + 3C); attn c_proj (C*C + C); c_fc (F*C + F); mlp c_proj (C*F + C)
  int64_t block = checked_mul(4, C, what);
  block = checked_add(block, checked_add(checked_mul(4, CC, what), checked_mul(4, C, what), what), what);
  block = checked_add(block, checked_add(checked_mul(2, FC, what), checked_add(Fw, C, what), what), what);
  int64_t n = checked_mul(n_layer, block, what);
  const int64_t VC = checked_mul(vocab_size, C, what);
  n = checked_add(n, checked_add(VC, checked_mul(n_positions, C, what), what), what);
  n = checked_add(n, checked_mul(2, C, what), what);  // ln_f
  if (!tie_word_embeddings) n = checked_add(n, VC, what);
  return n;
}

int64_t GptConfig::arena_bytes() const {
  uint64_t total = 0;
  for (const auto& [name, shape] : arena_plan(*this)) {
    const uint64_t b = checked_bytes(shape, sizeof(float), "GptConfig: activation");  // <= the per-tensor budget
    total += (b + 63) / 64 * 64;  // each slot starts on a 64-byte boundary (core/arena.hpp)
  }
  return static_cast<int64_t>(total);  // 10 slots of <= 1 TiB each: no overflow
}

namespace {
const GptConfig& validated(const GptConfig& c) {
  c.validate();
  return c;
}
}  // namespace

Gpt::Attention::Attention(int64_t C, Rng& rng) : c_attn(C, 3 * C, true, rng), c_proj(C, C, true, rng) {
  module_name_ = "GPT2Attention";
  register_module("c_attn", c_attn);
  register_module("c_proj", c_proj);
}

Gpt::Mlp::Mlp(int64_t C, int64_t Fw, Rng& rng) : c_fc(C, Fw, true, rng), c_proj(Fw, C, true, rng) {
  module_name_ = "GPT2MLP";
  register_module("c_fc", c_fc);
  register_module("c_proj", c_proj);
}

Gpt::Block::Block(const GptConfig& c, Rng& rng)
    : ln_1(c.n_embd, c.layer_norm_epsilon),
      attn(c.n_embd, rng),
      ln_2(c.n_embd, c.layer_norm_epsilon),
      mlp(c.n_embd, c.mlp_width(), rng) {
  module_name_ = "GPT2Block";
  register_module("ln_1", ln_1);
  register_module("attn", attn);
  register_module("ln_2", ln_2);
  register_module("mlp", mlp);
}

Gpt::Gpt(const GptConfig& config, uint64_t seed)
    : config_(validated(config)),
      init_rng_(seed),
      wte(config_.vocab_size, config_.n_embd, std::nullopt, init_rng_),
      wpe(config_.n_positions, config_.n_embd, std::nullopt, init_rng_),
      ln_f(config_.n_embd, config_.layer_norm_epsilon) {
  module_name_ = "Gpt";
  register_module("wte", wte);
  register_module("wpe", wpe);
  register_module("h", h);
  for (int64_t l = 0; l < config_.n_layer; ++l) blocks_.push_back(&h.emplace<Block>(config_, init_rng_));
  register_module("ln_f", ln_f);
  if (!config_.tie_word_embeddings) {
    lm_head_ = std::make_unique<nn::Linear>(config_.n_embd, config_.vocab_size, false, init_rng_);
    register_module("lm_head", *lm_head_);
  }
  gelu_ = is_tanh_gelu(config_.activation) ? F::GeluApproximation::tanh : F::GeluApproximation::none;
  relu_ = config_.activation == "relu";
  pack_parameters();  // runs parameters_changed(), which packs the tied head

  Tensor* slots[] = {&x_, &ln_, &qkv_, &atty_, &proj_, &fc_, &att_, &k_cache_, &v_cache_, &logits_};
  const auto plan = arena_plan(config_);
  for (size_t i = 0; i < plan.size(); ++i) acts_.add(plan[i].first, slots[i], plan[i].second);
  acts_.allocate("Gpt activations");
}

void Gpt::parameters_changed() {
  if (!config_.tie_word_embeddings) return;  // lm_head (an nn::Linear) packs itself
  const size_t C = static_cast<size_t>(config_.n_embd), V = static_cast<size_t>(config_.vocab_size);
  const size_t floats = kernels::gemm_packed_b_floats(C, V);
  ATTN_CHECK(floats != SIZE_MAX && floats <= static_cast<size_t>(kMaxNumel), "Gpt: the packed head for ",
             config_.vocab_size, " x ", config_.n_embd, " is too large");
  if (!head_packed_.defined() || head_packed_.numel() != static_cast<int64_t>(floats))
    head_packed_ = Tensor::empty({static_cast<int64_t>(floats)}, DType::f32, "Gpt: packed head");
  // logits = x wte^T: B = wte^T (C x V), stored as wte (V x C).
  kernels::gemm_pack_b(/*trans_b=*/true, C, V, wte.weight.data(), C, head_packed_.data());
}

const float* Gpt::forward(const int32_t* ids, int64_t T, int64_t pos, AttentionSink* sink) {
  const GptConfig& c = config_;
  const int64_t P = c.n_positions, C = c.n_embd, NH = c.n_head, hs = c.head_size(), Fw = c.mlp_width();
  const int64_t V = c.vocab_size;
  ATTN_CHECK(T >= 1, "Gpt.forward: T (the number of new tokens) must be at least 1, got ", T);
  ATTN_CHECK(ids != nullptr, "Gpt.forward: ids is null");
  ATTN_CHECK(pos >= 0 && pos <= cached_, "Gpt.forward: pos ", pos, " must be in [0, ", cached_,
             "] (0 starts a sequence; at most the ", cached_, " cached positions)");
  ATTN_CHECK(T <= P - pos, "Gpt.forward: ", T, " tokens from position ", pos, " run past n_positions (", P, ")");
  for (int64_t i = 0; i < T; ++i)
    ATTN_CHECK(ids[i] >= 0 && ids[i] < V, "Gpt.forward: token id ", ids[i], " at index ", i,
               " is outside the vocabulary [0, ", V, ")");
  cached_ = pos;  // rows past pos are overwritten below; a throwing sink leaves 0..pos valid

  const int64_t S = pos + T;
  float* x = x_.data();
  float* ln = ln_.data();
  float* qkv = qkv_.data();
  float* atty = atty_.data();
  float* proj = proj_.data();
  float* fc = fc_.data();
  const float eps = c.layer_norm_epsilon;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  const int64_t cache_stride = NH * P * hs;  // one layer of the cache

  F::embedding_forward(x, ids, wte.weight.data(), wpe.weight.data(), 1, T, C, pos);
  for (int64_t l = 0; l < c.n_layer; ++l) {
    const Block& b = *blocks_[static_cast<size_t>(l)];
    float* att = sink ? sink->destination(l, AttentionKind::self, 1, NH, T, S) : nullptr;
    if (!att) att = att_.data();
    float* kc = k_cache_.data() + l * cache_stride;
    float* vc = v_cache_.data() + l * cache_stride;

    F::layernorm_forward(ln, nullptr, nullptr, x, b.ln_1.weight.data(), b.ln_1.bias.data(), T, C, eps);
    b.attn.c_attn.forward(qkv, 3 * C, ln, C, T);
    F::kv_cache_write(kc, P, qkv + C, 3 * C, NH, T, pos, hs);
    F::kv_cache_write(vc, P, qkv + 2 * C, 3 * C, NH, T, pos, hs);
    if (sink) sink->qkv(l, AttentionKind::self, {qkv, 3 * C, hs}, {kc, hs, P * hs}, {vc, hs, P * hs}, NH, T, S, hs);
    F::attention_forward(atty, C, att, {qkv, 3 * C, hs}, {kc, hs, P * hs}, {vc, hs, P * hs}, NH, T, S, hs, scale,
                         /*causal=*/true);
    if (const uint8_t* off = sink ? sink->head_mask(l, AttentionKind::self, NH) : nullptr)
      F::zero_heads(atty, C, T, NH, hs, off);
    b.attn.c_proj.forward(proj, C, atty, C, T);
    F::residual_forward(x, x, proj, T * C);

    F::layernorm_forward(ln, nullptr, nullptr, x, b.ln_2.weight.data(), b.ln_2.bias.data(), T, C, eps);
    b.mlp.c_fc.forward(fc, Fw, ln, C, T);
    if (relu_)
      F::relu_forward(fc, fc, T * Fw);
    else
      F::gelu_forward(fc, fc, T * Fw, gelu_);
    b.mlp.c_proj.forward(proj, C, fc, Fw, T);
    F::residual_forward(x, x, proj, T * C);
  }
  F::layernorm_forward(ln, nullptr, nullptr, x, ln_f.weight.data(), ln_f.bias.data(), T, C, eps);
  float* logits = logits_.data();
  if (lm_head_)
    lm_head_->forward(logits, V, ln, C, T);
  else
    kernels::f32_gemm_packed(static_cast<size_t>(T), static_cast<size_t>(V), static_cast<size_t>(C), 1.0f, ln,
                             static_cast<size_t>(C), head_packed_.data(), 0.0f, logits, static_cast<size_t>(V));
  cached_ = S;
  return logits;
}

Tensor Gpt::forward(const std::vector<int32_t>& ids, int64_t pos, AttentionSink* sink) {
  const int64_t T = static_cast<int64_t>(ids.size());
  const float* logits = forward(ids.data(), T, pos, sink);
  Tensor out = Tensor::empty({T, config_.vocab_size}, DType::f32, "Gpt.forward: logits");
  std::memcpy(out.data(), logits, static_cast<size_t>(T * config_.vocab_size) * sizeof(float));
  return out;
}

}  // namespace attn
