// Writes native results for fixture inputs to $ATTN_PARITY_OUT (safetensors) so
// the JS tests can check that the wasm package gives the very same bits.
// Without the variable (e.g. in the wasm run of this suite) it only computes.
#include <cstdlib>
#include <fstream>

#include "attention/multihead.hpp"
#include "attention/scaled_dot.hpp"
#include "torch_fixtures.hpp"

namespace attn::testing {
namespace {

TEST(Parity, NativeOutputsForWasmComparison) {
  StateDict out;
  for (const TorchCase& c : torch_cases("sdpa")) {
    if (c.has("mask") || c.meta.contains("scale")) continue;
    SdpaOptions o;
    o.is_causal = c.meta.value("is_causal", false);
    AttentionResult r = scaled_dot_product_attention(c.get("q"), c.get("k"), c.get("v"), o);
    out[c.name + ".out"] = r.output;
    out[c.name + ".weights"] = r.weights;
  }
  for (const TorchCase& c : torch_cases("mha")) {
    if (c.name != "mha_default" && c.name != "mha_key_padding_bool") continue;
    MultiheadAttentionOptions o;
    o.embed_dim = c.meta["ctor"]["embed_dim"];
    o.num_heads = c.meta["ctor"]["num_heads"];
    MultiheadAttention m(o);
    m.load_state_dict(c.params());
    MhaForwardOptions f;
    if (c.has("kpm")) f.key_padding_mask = c.get("kpm");
    AttentionResult r = m.forward(c.get("q"), c.get("k"), c.get("v"), f);
    out[c.name + ".out"] = r.output;
    out[c.name + ".weights"] = r.weights;
  }
  EXPECT_GE(out.size(), 10u);
  if (const char* path = std::getenv("ATTN_PARITY_OUT")) {
    const std::vector<uint8_t> bytes = io::save_safetensors(out);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
}

}  // namespace
}  // namespace attn::testing
