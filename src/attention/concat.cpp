#include "attention/concat.hpp"

#include "core/init.hpp"
#include "ops/ops.hpp"

namespace attn {

namespace {
// query_size + key_size, after checking every size (the members are built from them).
int64_t checked_sum(int64_t q, int64_t k, int64_t v1, int64_t v2, int64_t out) {
  ATTN_CHECK(q > 0 && k > 0 && v1 > 0 && v2 > 0 && out > 0, "ConcatAttention: all sizes must be positive");
  return checked_add(q, k, "ConcatAttention");
}
}  // namespace

ConcatAttention::ConcatAttention(int64_t query_size_, int64_t key_size_, int64_t value_size1_, int64_t value_size2_,
                                 int64_t output_size_, uint64_t seed)
    : query_size(query_size_),
      key_size(key_size_),
      value_size1(value_size1_),
      value_size2(value_size2_),
      output_size(output_size_),
      init_rng_(seed),
      attn(checked_sum(query_size_, key_size_, value_size1_, value_size2_, output_size_), value_size1_, true, init_rng_),
      attn_combine(query_size_ + value_size2_, output_size_, true, init_rng_) {
  module_name_ = "ConcatAttention";
  register_module("attn", attn);
  register_module("attn_combine", attn_combine);
}

AttentionResult ConcatAttention::forward(const Tensor& Q, const Tensor& K, const Tensor& V, const SdpaOptions& opts) {
  const char* what = "ConcatAttention";
  const std::pair<const Tensor*, const char*> args[] = {{&Q, "Q"}, {&K, "K"}, {&V, "V"}};
  for (auto [t, name] : args) {
    ATTN_CHECK(t->defined() && t->dtype() == DType::f32, what, ": ", name, " must be a float32 tensor");
    ATTN_CHECK(t->dim() == 3 && t->size(0) == 1, what, ": ", name, " must have shape (1, n, features), got ",
               t->shape());
    check_finite_or_inf(*t, (std::string(what) + ": " + name).c_str());
  }
  ATTN_CHECK(Q.size(2) == query_size, what, ": Q has ", Q.size(2), " features but query_size is ", query_size);
  ATTN_CHECK(K.size(2) == key_size, what, ": K has ", K.size(2), " features but key_size is ", key_size);
  ATTN_CHECK(Q.size(1) == K.size(1), what, ": Q has ", Q.size(1), " rows but K has ", K.size(1),
             " (torch.cat along dim 1 needs equal rows)");
  ATTN_CHECK(V.size(1) == value_size1 && V.size(2) == value_size2, what, ": V has shape ", V.shape(), " but expected [1, ",
             value_size1, ", ", value_size2, "]");
  const Tensor q0 = Q.select(0, 0), k0 = K.select(0, 0);                // (n, q), (n, k)
  Tensor scores = linear(cat({q0, k0}, 1), attn.weight, attn.bias, what);  // (n, value_size1)
  WeightOptions w = to_weight_options(opts, scores.size(0), value_size1, 1.0f, what);
  AttentionResult r = attend(scores, V.select(0, 0), w, what);             // output: (n, value_size2)
  Tensor combined = linear(cat({q0, r.output}, 1), attn_combine.weight, attn_combine.bias, what);
  return {combined.unsqueeze(0), r.weights};
}


}  // namespace attn
