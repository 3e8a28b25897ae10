#include "attention/additive.hpp"

#include "core/init.hpp"
#include "kernels/additive.hpp"
#include "ops/ops.hpp"

namespace attn {

namespace {
int64_t positive(int64_t n) {
  ATTN_CHECK(n > 0, "AdditiveAttention: key_size, query_size and num_hiddens must be positive");
  return n;
}
}  // namespace

AdditiveAttention::AdditiveAttention(int64_t key_size_, int64_t query_size_, int64_t num_hiddens_, uint64_t seed)
    : key_size(positive(key_size_)),
      query_size(positive(query_size_)),
      num_hiddens(positive(num_hiddens_)),
      init_rng_(seed),
      W_k(key_size, num_hiddens, false, init_rng_),
      W_q(query_size, num_hiddens, false, init_rng_),
      w_v(num_hiddens, 1, false, init_rng_) {
  module_name_ = "AdditiveAttention";
  register_module("W_k", W_k);
  register_module("W_q", W_q);
  register_module("w_v", w_v);
}

AttentionResult AdditiveAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                           const SdpaOptions& opts) {
  const char* what = "AdditiveAttention";
  check_qkv(query, key, value, what, false);
  check_features(query, query_size, what, "query", "query_size");
  check_features(key, key_size, what, "key", "key_size");
  Shape qb(query.shape().begin(), query.shape().end() - 2), kb(key.shape().begin(), key.shape().end() - 2);
  ATTN_CHECK(qb == kb, what, ": query ", query.shape(), " and key ", key.shape(), " must have the same batch dims");
  const Tensor qp = linear(query, W_q.weight, Tensor(), what);  // (..., L, H)
  const Tensor kp = linear(key, W_k.weight, Tensor(), what);    // (..., S, H)
  const int64_t L = query.size(-2), S = key.size(-2), H = num_hiddens;
  int64_t batch = 1;
  for (int64_t d : qb) batch *= d;
  Shape score_shape = qb;
  score_shape.insert(score_shape.end(), {L, S});
  Tensor scores = Tensor::empty(score_shape);
  const float* v = w_v.weight.data();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < L; ++i)
      for (int64_t j = 0; j < S; ++j)
        scores.data()[(b * L + i) * S + j] =
            kernels::f32_additive_score(H, qp.data() + (b * L + i) * H, kp.data() + (b * S + j) * H, v);
  WeightOptions w = to_weight_options(opts, L, S, 1.0f, what);
  return attend(scores, value, w, what);
}


}  // namespace attn
