// The queries, keys and values a sink can record (attention/capture.hpp AttentionCapture with
// record_qkv): for a GPT, prefill and a KV-cache step, softmax(q kᵀ / √hs) with the causal mask
// (bottom-right: the cached keys come first) recomputed from the recorded q and k by
// scaled_dot_product_attention gives the weights the model captured.
#include <cstdio>
#include <vector>

#include "attention/capture.hpp"
#include "attention/scaled_dot.hpp"
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

}  // namespace
}  // namespace attn::testing
