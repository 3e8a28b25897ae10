// The encoder models' activation arenas (issue 8, "Memory"): EncoderClassifier and
// EncoderDecoder plan every activation and KV cache at construction, so after a warm-up
// their pointer forwards and KV-cache greedy decoding allocate nothing (checked under a zero
// AllocationCap, which a capturing call trips, so the cap is live), still match the torch
// twins of tests/fixtures/transformer.safetensors (scripts/fixtures/transformer.py), and
// refuse inputs past the planned maxima with clear errors.
#include <cmath>
#include <iostream>
#include <vector>

#include "core/size.hpp"
#include "models/encoder_classifier.hpp"
#include "models/encoder_decoder.hpp"
#include "torch_fixtures.hpp"

namespace attn::testing {
namespace {

constexpr const char* kFile = "transformer.safetensors";
// As transformer_test.cpp: one or two layers of float32 GEMMs and LayerNorms on O(1) values.
constexpr double kStackAtol = 2e-5, kStackRtol = 1e-4;

std::vector<int32_t> int_ids(const Tensor& t) {
  std::vector<int32_t> out;
  for (float v : t.to_vector()) out.push_back(static_cast<int32_t>(v));
  return out;
}

std::vector<uint8_t> bytes(const Tensor& mask) {
  const Tensor c = mask.contiguous();
  return std::vector<uint8_t>(c.data_u8(), c.data_u8() + c.numel());
}

void expect_close(const float* actual, const Tensor& expected, const std::string& label) {
  const std::vector<float> e = expected.to_vector();
  const Closeness c = compare(actual, e.data(), e.size(), kStackAtol, kStackRtol);
  std::cout << "  " << label << ": max abs err " << c.max_abs << ", max rel err " << c.max_rel << " (atol "
            << kStackAtol << ", rtol " << kStackRtol << ")\n";
  EXPECT_TRUE(all_close(actual, e.data(), e.size(), kStackAtol, kStackRtol)) << label;
}

EncoderClassifierConfig classifier_config(const nlohmann::json& j, int64_t max_batch) {
  EncoderClassifierConfig c;
  c.vocab_size = j["vocab_size"];
  c.max_position = j["max_position"];
  c.type_vocab_size = j["type_vocab_size"];
  c.pad_id = j["pad_id"];
  c.d_model = j["d_model"];
  c.nhead = j["nhead"];
  c.num_layers = j["num_layers"];
  c.dim_feedforward = j["dim_feedforward"];
  c.num_classes = j["num_classes"];
  c.layer_norm_eps = j["layer_norm_eps"];
  c.max_batch = max_batch;
  return c;
}

EncoderDecoderConfig encdec_config(const nlohmann::json& j, int64_t max_batch) {
  EncoderDecoderConfig c;
  c.src_vocab = j["src_vocab"];
  c.tgt_vocab = j["tgt_vocab"];
  c.d_model = j["d_model"];
  c.nhead = j["nhead"];
  c.num_encoder_layers = j["num_encoder_layers"];
  c.num_decoder_layers = j["num_decoder_layers"];
  c.dim_feedforward = j["dim_feedforward"];
  c.activation = nn::activation_from_name(j["activation"], "test");
  c.norm_first = j["norm_first"];
  c.max_len = j["max_len"];
  c.positions = j["positions"] == "learned" ? PositionEncoding::learned : PositionEncoding::sinusoidal;
  c.max_batch = max_batch;
  return c;
}

TEST(ArenaTransformer, ClassifierForwardAllocatesNothingAndMatchesTorch) {
  for (const TorchCase& c : torch_cases("encoder_classifier", kFile)) {
    const Tensor ids_t = c.get("ids");
    const int64_t N = ids_t.size(0), T = ids_t.size(1);
    EncoderClassifier m(classifier_config(c.meta["config"], N));
    m.load_state_dict(c.params());
    m.pack_parameters();
    const std::vector<int32_t> ids = int_ids(ids_t), types = int_ids(c.get("token_type_ids"));
    const std::vector<uint8_t> kpm = bytes(c.get("kpm"));
    m.forward(ids.data(), N, T, kpm.data(), types.data());  // warm-up: the GEMM's thread-local panels, if any
    AllocationCap none(0, "EncoderClassifier.forward must not allocate");
    const float* logits = m.forward(ids.data(), N, T, kpm.data(), types.data());
    EXPECT_EQ(none.used(), 0u);
    expect_close(logits, c.get("logits"), c.name + " logits under a zero allocation cap");
    // The cap is live: a capture sink's first call allocates its maps, and is refused here.
    AttentionCapture capture;
    EXPECT_TRUE(throws_error([&] { m.forward(ids.data(), N, T, kpm.data(), types.data(), &capture); },
                             {"EncoderClassifier.forward must not allocate"}));
  }
}

TEST(ArenaTransformer, EncoderDecoderForwardAndKvCacheGreedyAllocateNothingAndMatchTorch) {
  for (const TorchCase& c : torch_cases("encoder_decoder", kFile)) {
    const Tensor src_t = c.get("src"), tgt_t = c.get("tgt"), greedy = c.get("greedy");
    const int64_t N = src_t.size(0), S = src_t.size(1), T = tgt_t.size(1);
    const int64_t bos = c.meta["bos"], eos = c.meta["eos"], max_new = c.meta["max_len"];
    EncoderDecoder m(encdec_config(c.meta["config"], N));
    m.load_state_dict(c.params());
    m.pack_parameters();
    const std::vector<int32_t> src = int_ids(src_t), tgt = int_ids(tgt_t);
    const std::vector<uint8_t> kpm = bytes(c.get("src_kpm"));
    std::vector<int32_t> out(static_cast<size_t>(N * max_new), -1);
    m.forward(src.data(), N, S, tgt.data(), T, kpm.data());  // warm-up
    m.greedy_decode(out.data(), src.data(), N, S, bos, eos, max_new, kpm.data());

    AllocationCap none(0, "EncoderDecoder must not allocate");
    const float* logits = m.forward(src.data(), N, S, tgt.data(), T, kpm.data());
    EXPECT_EQ(none.used(), 0u);
    expect_close(logits, c.get("logits"), c.name + " teacher-forced logits under a zero allocation cap");
    const int64_t made = m.greedy_decode(out.data(), src.data(), N, S, bos, eos, max_new, kpm.data());
    EXPECT_EQ(none.used(), 0u);
    // torch re-runs the decoder over the whole prefix each step; here each step runs one token
    // against the KV caches: the ids must be the same.
    ASSERT_EQ(made, greedy.size(1)) << c.name;
    const std::vector<float> want = greedy.to_vector();
    for (int64_t n = 0; n < N; ++n)
      for (int64_t t = 0; t < made; ++t)
        EXPECT_EQ(out[n * max_new + t], static_cast<int32_t>(want[n * made + t])) << c.name << " [" << n << ", " << t << "]";

    AttentionCapture capture;
    EXPECT_TRUE(throws_error([&] { m.greedy_decode(out.data(), src.data(), N, S, bos, eos, max_new, kpm.data(), &capture); },
                             {"EncoderDecoder must not allocate"}));
  }
}

// Each KV-cache step's logits against a teacher-forced decode of the same prefix: the next id
// of every unfinished row is the argmax of the full decode's row at that step, on a model with
// random weights, a batch of 3 and a longer output than the fixture's.
TEST(ArenaTransformer, KvCacheGreedyAgreesWithTeacherForcedDecoding) {
  EncoderDecoderConfig c;
  c.src_vocab = 17;
  c.tgt_vocab = 13;
  c.d_model = 24;
  c.nhead = 3;
  c.num_encoder_layers = 2;
  c.num_decoder_layers = 3;
  c.dim_feedforward = 40;
  c.max_len = 12;
  c.max_batch = 3;
  c.norm_first = true;
  c.activation = nn::Activation::gelu;
  c.seed = 11;
  EncoderDecoder m(c);
  const int64_t N = 3, S = 7, max_new = 12, bos = 1, eos = 2;
  std::vector<int32_t> src(N * S);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<int32_t>((i * 7 + 3) % 17);
  std::vector<uint8_t> kpm(N * S, 0);
  kpm[1 * S + 5] = kpm[1 * S + 6] = 1;
  std::vector<int32_t> out(N * max_new);
  const int64_t made = m.greedy_decode(out.data(), src.data(), N, S, bos, eos, max_new, kpm.data());
  ASSERT_GE(made, 2);

  std::vector<int32_t> fed(N * made);  // bos, then the output's first made - 1 ids
  for (int64_t n = 0; n < N; ++n) {
    fed[n * made] = bos;
    for (int64_t t = 1; t < made; ++t) fed[n * made + t] = out[n * max_new + t - 1];
  }
  const float* logits = m.forward(src.data(), N, S, fed.data(), made, kpm.data());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t t = 0; t < made; ++t) {
      if (t > 0 && out[n * max_new + t - 1] == eos) break;  // finished rows are fed eos, not argmax
      const float* row = logits + (n * made + t) * c.tgt_vocab;
      int32_t best = 0;
      for (int32_t v = 1; v < c.tgt_vocab; ++v)
        if (row[v] > row[best]) best = v;
      EXPECT_EQ(out[n * max_new + t], best) << "row " << n << ", step " << t;
    }
}

TEST(ArenaTransformer, InputsPastThePlannedMaximaGetClearErrors) {
  EncoderClassifierConfig cc;
  cc.vocab_size = 20;
  cc.d_model = 16;
  cc.nhead = 4;
  cc.dim_feedforward = 24;
  cc.max_position = 8;
  cc.max_batch = 2;
  EncoderClassifier clf(cc);
  const std::vector<int32_t> ids(3 * 9, 1);
  EXPECT_TRUE(throws_error([&] { clf.forward(ids.data(), 3, 4); }, {"batch size 3", "max_batch = 2"},
                           "EncoderClassifier.forward: "));
  EXPECT_TRUE(throws_error([&] { clf.forward(ids.data(), 1, 9); }, {"9 positions but max_position is 8"},
                           "EncoderClassifier.forward: "));
  EXPECT_TRUE(throws_error([&] { clf.forward(Tensor::zeros({3, 4})); }, {"batch size 3", "max_batch = 2"},
                           "EncoderClassifier: "));
  const std::vector<int32_t> bad{1, 20};
  EXPECT_TRUE(throws_error([&] { clf.forward(bad.data(), 1, 2); }, {"input_ids holds id 20", "[0, 20)"}));
  cc.max_batch = 0;
  EXPECT_TRUE(throws_error([&] { EncoderClassifier m(cc); }, {"max_batch must be positive"}, "EncoderClassifier: "));
  // An arena the config cannot have: refused by check_config in 64-bit arithmetic, before the
  // parameters or the arena are allocated.
  cc.max_batch = int64_t{1} << 40;
  EXPECT_TRUE(throws_error([&] { check_config(cc); }, {"EncoderClassifier: activation", "too large"}));

  EncoderDecoderConfig ec;
  ec.src_vocab = 10;
  ec.tgt_vocab = 9;
  ec.d_model = 16;
  ec.nhead = 4;
  ec.dim_feedforward = 24;
  ec.max_len = 6;
  EncoderDecoder ed(ec);  // max_batch 1 (the default)
  const std::vector<int32_t> src(2 * 7, 1);
  std::vector<int32_t> out(2 * 6);
  EXPECT_TRUE(throws_error([&] { ed.forward(src.data(), 2, 3, src.data(), 3); }, {"batch size 2", "max_batch = 1"},
                           "EncoderDecoder.forward: "));
  EXPECT_TRUE(throws_error([&] { ed.forward(src.data(), 1, 7, src.data(), 3); }, {"src has 7 positions but max_len is 6"},
                           "EncoderDecoder.forward: "));
  EXPECT_TRUE(throws_error([&] { ed.forward(src.data(), 1, 3, src.data(), 7); },
                           {"tgt_in has 7 positions but max_len is 6"}, "EncoderDecoder.forward: "));
  EXPECT_TRUE(throws_error([&] { ed.greedy_decode(out.data(), src.data(), 2, 3, 1, 2, 4); },
                           {"batch size 2", "max_batch = 1"}, "EncoderDecoder.greedy_decode: "));
  EXPECT_TRUE(throws_error([&] { ed.greedy_decode(out.data(), src.data(), 1, 3, 1, 2, 7); }, {"max_new", "got 7"},
                           "EncoderDecoder: "));
  EXPECT_TRUE(throws_error([&] { ed.greedy_decode(Tensor::zeros({2, 3}), 1, 2, 4); }, {"batch size 2", "max_batch = 1"},
                           "EncoderDecoder: "));
  EXPECT_TRUE(throws_error([&] { ed.decode(Tensor::zeros({1, 2}), Tensor::zeros({1, 3, 8})); },
                           {"memory should be (N = 1, S, d_model = 16)", "[1, 3, 8]"}, "EncoderDecoder: "));
  ec.max_len = int64_t{1} << 20;
  ec.max_batch = int64_t{1} << 20;
  EXPECT_TRUE(throws_error([&] { check_config(ec); }, {"EncoderDecoder: activation", "too large"}));
}

}  // namespace
}  // namespace attn::testing
