// Writes the state_dict of a MultiheadAttention(16, 4) with a seed other than the
// default to a .safetensors file, so run.cmake can feed the tour a weights file
// (as if saved from PyTorch) and see that loading it changes the output.
//   save_weights OUT.safetensors
#include <attention_playground/attention/multihead.hpp>
#include <attention_playground/io/safetensors.hpp>

#include <cstdio>
#include <fstream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: save_weights OUT.safetensors\n");
    return 2;
  }
  attn::MultiheadAttentionOptions o;
  o.embed_dim = 16;
  o.num_heads = 4;
  o.seed = 7;
  attn::MultiheadAttention mha(o);
  const std::vector<uint8_t> bytes = attn::io::save_safetensors(mha.state_dict());
  std::ofstream(argv[1], std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::printf("wrote %zu tensors to %s\n", mha.state_dict().size(), argv[1]);
  return 0;
}
