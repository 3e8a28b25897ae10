// The queries, keys and values a sink can record (attention/capture.hpp AttentionCapture with
// record_qkv): for a GPT, prefill and a KV-cache step, softmax(q kᵀ / √hs) with the causal mask
// (bottom-right: the cached keys come first) recomputed from the recorded q and k by
// scaled_dot_product_attention gives the weights the model captured; likewise (no mask) for
// the encoder classifier's self-attention and the encoder-decoder's encoder self-attention and
// decoder cross-attention.
#include <cstdio>
#include <vector>

#include "attention/capture.hpp"
#include "attention/scaled_dot.hpp"
#include "models/encoder_classifier.hpp"
#include "models/encoder_decoder.hpp"
#include "models/gpt.hpp"
#include "testing.hpp"

namespace attn::testing {
namespace {

TEST(CaptureQkv, RecordedProjectionsReproduceTheCapturedWeights) {
  GptConfig cfg;
  cfg.vocab_size = 19;
  cfg.n_positions = 12;
  cfg.n_embd = 16;
  cfg.n_layer = 2;
  cfg.n_head = 4;
  Gpt model(cfg, 3);
  const std::vector<int32_t> ids{3, 1, 4, 1, 5, 9, 2};
  for (const auto& [T, pos] : std::vector<std::pair<int64_t, int64_t>>{{6, 0}, {1, 6}}) {
    AttentionCapture cap;
    cap.record_qkv = true;
    model.forward(ids.data() + pos, T, pos, &cap);
    for (int64_t l = 0; l < cfg.n_layer; ++l) {
      const auto& p = cap.projections().at({l, AttentionKind::self});
      ASSERT_EQ(p.q.shape(), (Shape{4, T, 4}));
      ASSERT_EQ(p.k.shape(), (Shape{4, pos + T, 4}));
      SdpaOptions o;
      o.is_causal = true;
      o.causal_align = CausalAlign::bottom_right;
      const AttentionResult r = scaled_dot_product_attention(p.q, p.k, p.v, o);
      const Tensor w = cap.get(l, AttentionKind::self).reshape({4, T, pos + T});
      EXPECT_TRUE(all_close(r.weights, w, 1e-6, 1e-5)) << "layer " << l << " at position " << pos;
    }
  }
  AttentionCapture plain;  // without record_qkv nothing is kept
  model.forward(ids.data(), 3, 0, &plain);
  EXPECT_TRUE(plain.projections().empty());
}

void expect_reproduces(const AttentionCapture& cap, int64_t layer, AttentionKind kind, const char* what) {
  const auto it = cap.projections().find({layer, kind});
  ASSERT_NE(it, cap.projections().end()) << what << " layer " << layer;
  const auto& p = it->second;
  const AttentionResult r = scaled_dot_product_attention(p.q, p.k, p.v);
  const Tensor w = cap.get(layer, kind);
  EXPECT_TRUE(all_close(r.weights, w.reshape(r.weights.shape()), 1e-6, 1e-5)) << what << " layer " << layer;
}

TEST(CaptureQkv, EncoderModelsRecordTheirSelfAndCrossAttention) {
  EncoderClassifierConfig c;
  c.vocab_size = 11;
  c.max_position = 9;
  c.d_model = 16;
  c.nhead = 4;
  c.num_layers = 2;
  c.dim_feedforward = 24;
  c.dropout = 0.0f;
  EncoderClassifier classifier(c);
  classifier.eval();
  const std::vector<int32_t> ids{1, 4, 7, 2, 9, 3};
  AttentionCapture cap;
  cap.record_qkv = true;
  classifier.forward(ids.data(), 1, 6, nullptr, nullptr, &cap);
  for (int64_t l = 0; l < 2; ++l) expect_reproduces(cap, l, AttentionKind::self, "classifier");

  EncoderDecoderConfig e;
  e.src_vocab = 13;
  e.tgt_vocab = 12;
  e.d_model = 16;
  e.nhead = 2;
  e.num_encoder_layers = 1;
  e.num_decoder_layers = 2;
  e.dim_feedforward = 20;
  e.dropout = 0.0f;
  e.max_len = 12;
  EncoderDecoder seq2seq(e);
  seq2seq.eval();
  const std::vector<int32_t> src{3, 5, 7, 1, 9}, tgt{0, 4, 6};
  AttentionCapture c2;
  c2.record_qkv = true;
  seq2seq.forward(src.data(), 1, 5, tgt.data(), 3, nullptr, nullptr, &c2);
  expect_reproduces(c2, 0, AttentionKind::self, "encoder");
  for (int64_t l = 1; l < 3; ++l) expect_reproduces(c2, l, AttentionKind::cross, "decoder cross");
}

}  // namespace
}  // namespace attn::testing
