// Model benchmark (not a test): a GPT-2-shaped model with random weights (6 layers,
// 8 heads, n_embd 256, vocab 4096, n_positions 256), timing
//   - prefill: one forward of a 128-token prompt from position 0 (ms, best of the reps);
//   - decode: KV-cache steps of one token each after that prompt (tokens/s), run up to
//     position 256, so each step attends over 129 .. 256 keys;
//   - the same with every layer's attention weights captured (AttentionCapture).
// Run natively and under Node:  attn_bench_models [--quick]
// Timings only; nothing is asserted.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kernels/simd_info.hpp"
#include "models/gpt.hpp"

using namespace attn;

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

volatile float g_sink;

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int reps = quick ? 2 : 5;
  GptConfig cfg;
  cfg.vocab_size = 4096;
  cfg.n_positions = 256;
  cfg.n_embd = 256;
  cfg.n_layer = 6;
  cfg.n_head = 8;
  Gpt model(cfg, 1);
  std::printf("GPT: %lld layers, %lld heads, n_embd %lld, vocab %lld, n_positions %lld: %lld parameters, "
              "activation arena %.1f MiB; SIMD: %s\n",
              (long long)cfg.n_layer, (long long)cfg.n_head, (long long)cfg.n_embd, (long long)cfg.vocab_size,
              (long long)cfg.n_positions, (long long)cfg.num_parameters(), cfg.arena_bytes() / 1048576.0,
              kernels::simd_arch_name());

  const int64_t prompt_len = 128;
  std::vector<int32_t> prompt(static_cast<size_t>(prompt_len));
  Rng rng(7);
  for (int32_t& id : prompt) id = static_cast<int32_t>(rng.below(static_cast<uint32_t>(cfg.vocab_size)));

  for (bool capture : {false, true}) {
    AttentionCapture sink;
    AttentionSink* s = capture ? &sink : nullptr;
    double best_prefill = 1e30, best_decode = 1e30;
    int64_t steps = 0;
    for (int rep = 0; rep <= reps; ++rep) {  // rep 0 warms up (wasm tier-up, GEMM panels, capture buffers)
      double t0 = now_s();
      const float* logits = model.forward(prompt.data(), prompt_len, 0, s);
      const double prefill = now_s() - t0;
      int32_t token = static_cast<int32_t>(std::max_element(logits + (prompt_len - 1) * cfg.vocab_size,
                                                            logits + prompt_len * cfg.vocab_size) -
                                           (logits + (prompt_len - 1) * cfg.vocab_size));
      steps = 0;
      t0 = now_s();
      for (int64_t pos = prompt_len; pos < cfg.n_positions; ++pos, ++steps) {
        logits = model.forward(&token, 1, pos, s);
        token = static_cast<int32_t>(std::max_element(logits, logits + cfg.vocab_size) - logits);
      }
      const double decode = now_s() - t0;
      g_sink = logits[0];
      if (rep > 0) {
        best_prefill = std::min(best_prefill, prefill);
        best_decode = std::min(best_decode, decode);
      }
    }
    std::printf("%-18s prefill %lld tokens: %8.2f ms (%7.0f tokens/s)   decode %lld tokens: %8.1f tokens/s "
                "(%.3f ms/token)\n",
                capture ? "capture on" : "capture off", (long long)prompt_len, best_prefill * 1e3,
                prompt_len / best_prefill, (long long)steps, steps / best_decode, best_decode / steps * 1e3);
  }
  return 0;
}
