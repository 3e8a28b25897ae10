// Head ablation through the attention sink (attention/capture.hpp's head_mask): switching
// head h of a layer off must give exactly what the same model gives with that head's input
// columns of the output projection set to zero, W_o[:, h*hs:(h+1)*hs] = 0 (weight surgery:
// a different computation of the same thing), while the switched-off head's weights are
// still captured. Checked on the encoder classifier and the encoder-decoder (self and
// cross attention, teacher-forced and greedy).
#include <cstdio>
#include <string>
#include <vector>

#include "attention/capture.hpp"
#include "models/encoder_classifier.hpp"
#include "models/encoder_decoder.hpp"
#include "models/gpt.hpp"
#include "testing.hpp"

namespace attn::testing {
namespace {

// Zeroes the columns of head h in a (E, E) out_proj weight named `key`.
void zero_head_columns(Module& m, const std::string& key, int64_t h, int64_t hs) {
  for (auto& [name, p] : m.named_parameters()) {
    if (name != key) continue;
    const int64_t E = p->size(0);
    for (int64_t r = 0; r < E; ++r)
      for (int64_t c = h * hs; c < (h + 1) * hs; ++c) p->data()[r * E + c] = 0.0f;
    m.notify_parameters_changed();
    return;
  }
  FAIL() << "no parameter " << key;
}

double max_diff(const float* a, const float* b, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, static_cast<double>(std::abs(a[i] - b[i])));
  return m;
}

EncoderClassifierConfig classifier_config() {
  EncoderClassifierConfig c;
  c.vocab_size = 11;
  c.max_position = 9;
  c.d_model = 16;
  c.nhead = 4;
  c.num_layers = 2;
  c.dim_feedforward = 24;
  c.num_classes = 3;
  c.dropout = 0.0f;
  c.seed = 5;
  return c;
}

TEST(HeadAblation, EncoderClassifierHeadOffEqualsZeroedOutProjColumns) {
  const EncoderClassifierConfig cfg = classifier_config();
  EncoderClassifier ablated(cfg), surgery(cfg);
  ablated.eval();
  surgery.eval();
  const std::vector<int32_t> ids{1, 4, 7, 2, 9, 3, 5};
  const int64_t T = static_cast<int64_t>(ids.size()), C = cfg.num_classes, hs = cfg.d_model / cfg.nhead;

  const float* b = ablated.forward(ids.data(), 1, T);
  const std::vector<float> base(b, b + C);
  AttentionCapture off;
  off.set_head_mask(1, AttentionKind::self, {0, 0, 1, 0});  // layer 2, head 3
  const float* got = ablated.forward(ids.data(), 1, T, nullptr, nullptr, &off);
  std::vector<float> with_mask(got, got + C);
  zero_head_columns(surgery, "encoder.layers.1.self_attn.out_proj.weight", 2, hs);
  const float* want = surgery.forward(ids.data(), 1, T);
  const double err = max_diff(with_mask.data(), want, C);
  std::printf("  classifier: head off vs zeroed columns max |diff| %.2e; vs no ablation %.2e\n", err,
              max_diff(with_mask.data(), base.data(), C));
  EXPECT_LE(err, 1e-6);
  EXPECT_GT(max_diff(with_mask.data(), base.data(), C), 1e-4) << "the head mattered";
  // The switched-off head's weights are still computed and captured (rows sum to 1).
  const Tensor w = off.get(1, AttentionKind::self);
  ASSERT_TRUE(w.defined());
  float row = 0;
  for (int64_t j = 0; j < T; ++j) row += w.data()[(2 * T + 0) * T + j];
  EXPECT_NEAR(row, 1.0f, 1e-5f);
  // A mask of the wrong length is ignored.
  AttentionCapture wrong;
  wrong.set_head_mask(1, AttentionKind::self, {1, 1});
  const float* ignored = ablated.forward(ids.data(), 1, T, nullptr, nullptr, &wrong);
  EXPECT_EQ(max_diff(ignored, base.data(), C), 0.0);
}

TEST(HeadAblation, EncoderDecoderSelfAndCrossHeadsOff) {
  EncoderDecoderConfig cfg;
  cfg.src_vocab = 13;
  cfg.tgt_vocab = 12;
  cfg.d_model = 16;
  cfg.nhead = 2;
  cfg.num_encoder_layers = 1;
  cfg.num_decoder_layers = 2;
  cfg.dim_feedforward = 20;
  cfg.dropout = 0.0f;
  cfg.max_len = 12;
  cfg.seed = 3;
  EncoderDecoder ablated(cfg), surgery(cfg);
  ablated.eval();
  surgery.eval();
  const int64_t hs = cfg.d_model / cfg.nhead, V = cfg.tgt_vocab;
  const std::vector<int32_t> src{3, 5, 7, 1, 9, 2}, tgt{0, 4, 6, 8};
  const int64_t S = static_cast<int64_t>(src.size()), T = static_cast<int64_t>(tgt.size());

  AttentionCapture off;
  off.set_head_mask(0, AttentionKind::self, {1, 0});   // encoder layer 1, head 1
  off.set_head_mask(1, AttentionKind::cross, {0, 1});  // decoder layer 1 cross, head 2
  off.set_head_mask(2, AttentionKind::self, {0, 1});   // decoder layer 2 self, head 2
  const float* got = ablated.forward(src.data(), 1, S, tgt.data(), T, nullptr, nullptr, &off);
  const std::vector<float> with_mask(got, got + T * V);
  zero_head_columns(surgery, "transformer.encoder.layers.0.self_attn.out_proj.weight", 0, hs);
  zero_head_columns(surgery, "transformer.decoder.layers.0.multihead_attn.out_proj.weight", 1, hs);
  zero_head_columns(surgery, "transformer.decoder.layers.1.self_attn.out_proj.weight", 1, hs);
  const float* want = surgery.forward(src.data(), 1, S, tgt.data(), T);
  const double err = max_diff(with_mask.data(), want, T * V);
  std::printf("  encoder-decoder teacher-forced: max |diff| %.2e\n", err);
  EXPECT_LE(err, 1e-6);

  // Greedy decoding applies the same masks at every step.
  std::vector<int32_t> a(8), b(8);
  const int64_t na = ablated.greedy_decode(a.data(), src.data(), 1, S, 0, 11, 8, nullptr, &off);
  const int64_t nb = surgery.greedy_decode(b.data(), src.data(), 1, S, 0, 11, 8);
  ASSERT_EQ(na, nb);
  for (int64_t i = 0; i < na; ++i) EXPECT_EQ(a[i], b[i]) << "step " << i;
}

TEST(HeadAblation, GptHeadOffEqualsZeroedCProjColumnsAlsoInKvCacheDecoding) {
  GptConfig cfg;
  cfg.vocab_size = 17;
  cfg.n_positions = 12;
  cfg.n_embd = 16;
  cfg.n_layer = 2;
  cfg.n_head = 4;
  Gpt ablated(cfg, 7), surgery(cfg, 7);
  const int64_t hs = cfg.n_embd / cfg.n_head, V = cfg.vocab_size;
  zero_head_columns(surgery, "h.0.attn.c_proj.weight", 1, hs);
  zero_head_columns(surgery, "h.1.attn.c_proj.weight", 3, hs);
  AttentionCapture off;
  off.set_head_mask(0, AttentionKind::self, {0, 1, 0, 0});
  off.set_head_mask(1, AttentionKind::self, {0, 0, 0, 1});
  const std::vector<int32_t> ids{3, 1, 4, 1, 5, 9, 2};
  const int64_t T = static_cast<int64_t>(ids.size());
  // Prefill of 5 tokens, then two decoding steps over the KV cache.
  const float* a = ablated.forward(ids.data(), 5, 0, &off);
  std::vector<float> got(a, a + 5 * V);
  for (int64_t t = 5; t < T; ++t) {
    a = ablated.forward(ids.data() + t, 1, t, &off);
    got.insert(got.end(), a, a + V);
  }
  const float* w = surgery.forward(ids.data(), T, 0);
  const double err = max_diff(got.data(), w, T * V);
  std::printf("  gpt prefill + decode with heads off vs zeroed c_proj columns: max |diff| %.2e\n", err);
  EXPECT_LE(err, 1e-5);
}

}  // namespace
}  // namespace attn::testing
