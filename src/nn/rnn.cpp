#include "nn/rnn.hpp"

#include <algorithm>
#include <cmath>

#include "kernels/activation.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/gemm.hpp"
#include "kernels/reduce.hpp"
#include "ops/ops.hpp"

namespace attn::nn {

namespace {

int64_t gates_of(RnnCell cell) {
  switch (cell) {
    case RnnCell::lstm: return 4;
    case RnnCell::gru: return 3;
    case RnnCell::janet: return 2;
    case RnnCell::indrnn: return 1;
  }
  return 1;
}

// y (rows, out) = x (rows, in) W^T (+ b), W (out, in) row-major; nn::Linear's pointer path.
void rows_times_wt(const float* x, int64_t rows, int64_t in, const float* w, int64_t out, const float* b,
                   float* y) noexcept {
  const size_t n_in = static_cast<size_t>(in), n_out = static_cast<size_t>(out);
  if (rows == 1) {
    for (size_t j = 0; j < n_out; ++j) y[j] = kernels::f32_dot(n_in, w + j * n_in, x) + (b ? b[j] : 0.0f);
    return;
  }
  if (b)
    for (int64_t r = 0; r < rows; ++r) std::copy(b, b + out, y + r * out);
  kernels::f32_gemm(false, true, static_cast<size_t>(rows), n_out, n_in, 1.0f, x, n_in, w, n_in, b ? 1.0f : 0.0f, y,
                    n_out);
}

const float* ptr(const Tensor& t) { return t.defined() ? t.data() : nullptr; }

}  // namespace

int64_t RNNBase::gates() const { return gates_of(cell); }

RNNBase::RNNBase(RnnCell cell_, const char* name, int64_t input_size_, int64_t hidden_size_, int64_t num_layers_,
                 bool bias_, bool batch_first_, float dropout_, bool bidirectional_, uint64_t seed, float beta_,
                 int64_t chrono_t_max, bool relu_activation_)
    : cell(cell_),
      input_size(input_size_),
      hidden_size(hidden_size_),
      num_layers(num_layers_),
      bias(bias_),
      batch_first(batch_first_),
      dropout(dropout_),
      bidirectional(bidirectional_),
      beta(beta_),
      relu_activation(relu_activation_),
      init_rng_(seed),
      dropout_rng_(seed ^ 0x9e3779b97f4a7c15ULL) {
  module_name_ = name;
  ATTN_CHECK(input_size > 0, name, ": input_size must be positive, got ", input_size);
  ATTN_CHECK(hidden_size > 0, name, ": hidden_size must be positive, got ", hidden_size);
  ATTN_CHECK(num_layers > 0, name, ": num_layers must be positive, got ", num_layers);
  ATTN_CHECK(dropout >= 0.0f && dropout <= 1.0f, name, ": dropout must be in [0, 1], got ", dropout);
  ATTN_CHECK(std::isfinite(beta), name, ": beta must be finite, got ", beta);
  const int64_t G = gates(), H = hidden_size, D = num_directions();
  const int64_t GH = checked_mul(G, H, name);
  // Every weight of every layer, counted before anything is reserved or allocated.
  const int64_t per_layer = checked_mul(GH, checked_add(std::max(input_size, D * H), H + 2, name), name);
  checked_mul(checked_mul(num_layers, D, name), per_layer, name);
  const float bound = 1.0f / std::sqrt(static_cast<float>(H));  // torch's RNNBase.reset_parameters
  w_.reserve(static_cast<size_t>(num_layers * D));
  for (int64_t layer = 0; layer < num_layers; ++layer) {
    for (int64_t dir = 0; dir < D; ++dir) {
      w_.emplace_back();
      Weights& w = w_.back();
      const std::string sfx = "_l" + std::to_string(layer) + (dir == 1 ? "_reverse" : "");
      w.w_ih = rand_uniform({GH, layer_input_size(layer)}, init_rng_, -bound, bound);
      register_parameter("weight_ih" + sfx, w.w_ih);
      if (cell == RnnCell::indrnn)
        w.w_hh = rand_uniform({H}, init_rng_, 0.0f, 1.0f);
      else
        w.w_hh = rand_uniform({GH, H}, init_rng_, -bound, bound);
      register_parameter("weight_hh" + sfx, w.w_hh);
      if (!bias) continue;
      if (cell == RnnCell::indrnn) {
        w.b_ih = Tensor::zeros({H});
        register_parameter("bias_ih" + sfx, w.b_ih);
        continue;
      }
      w.b_ih = rand_uniform({GH}, init_rng_, -bound, bound);
      w.b_hh = rand_uniform({GH}, init_rng_, -bound, bound);
      if (cell == RnnCell::janet) {  // chrono: b_f = log(U(1, t_max - 1)), split as (b_f, 0)
        float* bi = w.b_ih.data();
        float* bh = w.b_hh.data();
        for (int64_t j = 0; j < H; ++j) {
          bi[j] = std::log(init_rng_.uniform(1.0f, static_cast<float>(chrono_t_max - 1)));
          bh[j] = 0.0f;
        }
      }
      register_parameter("bias_ih" + sfx, w.b_ih);
      register_parameter("bias_hh" + sfx, w.b_hh);
    }
  }
}

void RNNBase::project_input(int64_t layer, int64_t dir, const float* x, int64_t rows, float* gx) const noexcept {
  const Weights& w = weights(layer, dir);
  rows_times_wt(x, rows, layer_input_size(layer), w.w_ih.data(), gates() * hidden_size, ptr(w.b_ih), gx);
}

void RNNBase::step(int64_t layer, int64_t dir, const float* gx, int64_t N, float* h, float* c,
                   float* scratch) const noexcept {
  using namespace kernels;
  const Weights& w = weights(layer, dir);
  const int64_t H = hidden_size, G = gates(), GH = G * H;
  const size_t h_ = static_cast<size_t>(H);
  if (cell == RnnCell::indrnn) {  // h = act(gx + u ⊙ h)
    const float* u = w.w_hh.data();
    for (int64_t n = 0; n < N; ++n) {
      float* hn = h + n * H;
      f32_mul(h_, hn, u, hn);
      f32_add(h_, hn, gx + n * H, hn);
      (relu_activation ? f32_relu : f32_tanh)(h_, hn, hn);
    }
    return;
  }
  float* gh = scratch;            // (N, G*H): h W_hh^T + b_hh, then the gates in place
  float* extra = scratch + N * GH;  // (N, H)
  rows_times_wt(h, N, H, w.w_hh.data(), GH, ptr(w.b_hh), gh);
  for (int64_t n = 0; n < N; ++n) {
    const float* x = gx + n * GH;
    float* g = gh + n * GH;
    float* hn = h + n * H;
    switch (cell) {
      case RnnCell::lstm: {  // blocks i, f, g, o
        float* cn = c + n * H;
        f32_add(static_cast<size_t>(GH), g, x, g);
        f32_sigmoid(2 * h_, g, g);          // i, f
        f32_tanh(h_, g + 2 * H, g + 2 * H);  // g
        f32_sigmoid(h_, g + 3 * H, g + 3 * H);  // o
        f32_mul(h_, g + H, cn, cn);             // c = f * c
        f32_mul(h_, g, g + 2 * H, extra + n * H);
        f32_add(h_, cn, extra + n * H, cn);  // + i * g
        f32_tanh(h_, cn, g);
        f32_mul(h_, g + 3 * H, g, hn);  // h = o * tanh(c)
        break;
      }
      case RnnCell::gru: {  // blocks r, z, n
        f32_add(2 * h_, g, x, g);
        f32_sigmoid(2 * h_, g, g);              // r, z
        f32_mul(h_, g, g + 2 * H, g + 2 * H);   // r * (W_hn h + b_hn)
        f32_add(h_, g + 2 * H, x + 2 * H, g + 2 * H);
        f32_tanh(h_, g + 2 * H, g + 2 * H);     // n
        f32_sub(h_, hn, g + 2 * H, hn);         // h' = n + z * (h - n)
        f32_mul(h_, hn, g + H, hn);
        f32_add(h_, hn, g + 2 * H, hn);
        break;
      }
      case RnnCell::janet: {  // blocks f (s), c (candidate)
        float* cn = c + n * H;
        float* keep_in = extra + n * H;
        f32_add(static_cast<size_t>(GH), g, x, g);  // s, candidate pre-activation
        // 1 - sigmoid(s - beta) = sigmoid(beta - s)
        f32_scale(h_, g, -1.0f, keep_in);
        f32_add_scalar_b(h_, keep_in, beta, keep_in);
        f32_sigmoid(h_, keep_in, keep_in);
        f32_sigmoid(h_, g, g);          // sigmoid(s)
        f32_tanh(h_, g + H, g + H);     // c~
        f32_mul(h_, g, cn, cn);
        f32_mul(h_, keep_in, g + H, keep_in);
        f32_add(h_, cn, keep_in, cn);
        std::copy(cn, cn + H, hn);  // h = c
        break;
      }
      case RnnCell::indrnn: break;
    }
  }
}

void RNNBase::layer_forward(int64_t layer, float* o, float* h_rows, float* c_rows, const float* in, int64_t T,
                            int64_t N, float* gx, float* scratch) const noexcept {
  const int64_t H = hidden_size, D = num_directions(), G = gates();
  for (int64_t dir = 0; dir < D; ++dir) {
    float* h = h_rows + dir * N * H;
    float* c = c_rows ? c_rows + dir * N * H : nullptr;
    project_input(layer, dir, in, T * N, gx);
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = dir == 0 ? s : T - 1 - s;
      step(layer, dir, gx + t * N * G * H, N, h, c, scratch);
      for (int64_t n = 0; n < N; ++n) std::copy(h + n * H, h + (n + 1) * H, o + (t * N + n) * D * H + dir * H);
    }
  }
}

int64_t RNNBase::forward_scratch(int64_t T, int64_t N) const {
  const char* what = module_name_;
  const int64_t TN = checked_mul(T, N, what);
  const int64_t steps = checked_mul(N, checked_mul(gates() + 1, hidden_size, what), what);  // step_scratch(N)
  int64_t floats = checked_add(checked_mul(TN, checked_mul(gates(), hidden_size, what), what), steps, what);
  if (num_layers > 1) floats = checked_add(floats, checked_mul(TN, num_directions() * hidden_size, what), what);
  return floats;
}

void RNNBase::forward(float* out, float* h, float* c, const float* x, int64_t T, int64_t N,
                      float* scratch) const noexcept {
  const int64_t H = hidden_size, D = num_directions(), TN = T * N;
  float* gx = scratch;                     // (T*N, G*H)
  float* steps = gx + TN * gates() * H;    // step_scratch(N)
  float* other = steps + step_scratch(N);  // (T, N, D*H) when L > 1
  // Layers alternate between `out` and `other` so that the last one lands in `out`.
  const float* layer_in = x;
  for (int64_t layer = 0; layer < num_layers; ++layer) {
    float* o = (num_layers - 1 - layer) % 2 == 0 ? out : other;
    const int64_t k = layer * D;
    layer_forward(layer, o, h + k * N * H, c ? c + k * N * H : nullptr, layer_in, T, N, gx, steps);
    layer_in = o;
  }
}

void RNNBase::check_state(const Tensor& s, const char* arg, const Shape& want) const {
  ATTN_CHECK(s.dtype() == DType::f32, module_name_, ": ", arg, " must be float32");
  ATTN_CHECK(s.shape() == want, module_name_, ": ", arg, " must have shape ", want, ", got ", s.shape());
  check_finite_or_inf(s, (std::string(module_name_) + ": " + arg).c_str());
}

RNNOutput RNNBase::forward(const Tensor& input, const Tensor& h0, const Tensor& c0) {
  const char* what = module_name_;
  ATTN_CHECK(input.defined() && input.dtype() == DType::f32, what, ": input must be a float32 tensor");
  ATTN_CHECK(input.dim() == 2 || input.dim() == 3, what,
             ": input must be (T, N, input_size), (N, T, input_size) with batch_first, or unbatched (T, input_size); got ",
             input.shape());
  ATTN_CHECK(input.size(-1) == input_size, what, ": input has ", input.size(-1), " features but input_size is ",
             input_size);
  check_finite_or_inf(input, (std::string(what) + ": input").c_str());
  const bool batched = input.dim() == 3;
  // Time-major and contiguous: x (T, N, I).
  Tensor x = batched ? (batch_first ? input.transpose(0, 1) : input) : input.unsqueeze(1);
  x = x.contiguous();
  const int64_t T = x.size(0), N = x.size(1), H = hidden_size, D = num_directions(), G = gates();
  ATTN_CHECK(T > 0, what, ": input has no time steps (shape ", input.shape(), ")");
  ATTN_CHECK(N > 0, what, ": input has an empty batch (shape ", input.shape(), ")");

  const Shape state_shape = batched ? Shape{num_layers * D, N, H} : Shape{num_layers * D, H};
  if (has_cell_state()) {
    ATTN_CHECK(h0.defined() == c0.defined(), what, ": pass both h0 and c0 or neither (got only ",
               h0.defined() ? "h0" : "c0", ")");
  } else {
    ATTN_CHECK(!c0.defined(), what, ": has no cell state; pass h0 only, not c0");
  }
  if (h0.defined()) check_state(h0, "h0", state_shape);
  if (c0.defined()) check_state(c0, "c0", state_shape);

  // Scratch for the whole forward, allocated once: gx (T*N, G*H), two layer buffers
  // (T, N, D*H), step scratch; h_n / c_n are the outputs.
  const int64_t TN = checked_mul(T, N, what);
  Tensor gx = Tensor::empty({TN, checked_mul(G, H, what)}, DType::f32, what);
  Tensor bufs[2] = {Tensor::empty({T, N, D * H}, DType::f32, what),
                    num_layers > 1 ? Tensor::empty({T, N, D * H}, DType::f32, what) : Tensor()};
  Tensor scratch = Tensor::empty({step_scratch(N)}, DType::f32, what);
  Tensor h_n = h0.defined() ? h0.reshape({num_layers * D, N, H}).clone() : Tensor::zeros({num_layers * D, N, H});
  Tensor c_n;
  if (has_cell_state())
    c_n = c0.defined() ? c0.reshape({num_layers * D, N, H}).clone() : Tensor::zeros({num_layers * D, N, H});

  const float* layer_in = x.data();
  Tensor* out = nullptr;
  for (int64_t layer = 0; layer < num_layers; ++layer) {
    out = &bufs[layer % 2];
    float* o = out->data();
    const int64_t k = layer * D;
    layer_forward(layer, o, h_n.data() + k * N * H, c_n.defined() ? c_n.data() + k * N * H : nullptr, layer_in, T, N,
                  gx.data(), scratch.data());
    if (training_ && dropout > 0.0f && layer + 1 < num_layers) {
      const float keep = 1.0f - dropout, inv = keep > 0.0f ? 1.0f / keep : 0.0f;
      for (int64_t i = 0; i < out->numel(); ++i) o[i] = dropout_rng_.uniform() < keep ? o[i] * inv : 0.0f;
    }
    layer_in = o;
  }

  RNNOutput r;
  r.output = batched ? (batch_first ? out->transpose(0, 1).contiguous() : *out) : out->reshape({T, D * H});
  r.h_n = batched ? h_n : h_n.reshape({num_layers * D, H});
  if (cell == RnnCell::indrnn)
    r.c_n = r.h_n;
  else if (c_n.defined())
    r.c_n = batched ? c_n : c_n.reshape({num_layers * D, H});
  return r;
}

namespace {
// Argument checks that must run before the base class builds the weights.
RnnCell lstm_cell(int64_t proj_size) {
  ATTN_CHECK(proj_size == 0, "LSTM: proj_size=", proj_size, " is not supported (LSTM with projections); use 0");
  return RnnCell::lstm;
}
RnnCell janet_cell(int64_t chrono_t_max) {
  ATTN_CHECK(chrono_t_max > 2, "JANET: chrono_t_max must be greater than 2, got ", chrono_t_max);
  return RnnCell::janet;
}
bool indrnn_relu(const std::string& nonlinearity) {
  ATTN_CHECK(nonlinearity == "relu" || nonlinearity == "tanh", "IndRNN: nonlinearity must be 'relu' or 'tanh', got '",
             nonlinearity, "'");
  return nonlinearity == "relu";
}
}  // namespace

LSTM::LSTM(int64_t input_size, int64_t hidden_size, int64_t num_layers, bool bias, bool batch_first, float dropout,
           bool bidirectional, int64_t proj_size, uint64_t seed)
    : RNNBase(lstm_cell(proj_size),
              "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, seed) {}

GRU::GRU(int64_t input_size, int64_t hidden_size, int64_t num_layers, bool bias, bool batch_first, float dropout,
         bool bidirectional, uint64_t seed)
    : RNNBase(RnnCell::gru, "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
              seed) {}

JANET::JANET(int64_t input_size, int64_t hidden_size, int64_t num_layers, bool bias, bool batch_first, float dropout,
             bool bidirectional, float beta, int64_t chrono_t_max, uint64_t seed)
    : RNNBase(janet_cell(chrono_t_max),
              "JANET", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, seed, beta,
              chrono_t_max) {}

IndRNN::IndRNN(int64_t input_size, int64_t hidden_size, int64_t num_layers, bool bias, bool batch_first,
               float dropout, bool bidirectional, const std::string& nonlinearity, uint64_t seed)
    : RNNBase(RnnCell::indrnn, "IndRNN", input_size, hidden_size, num_layers, bias, batch_first, dropout,
              bidirectional, seed, 1.0f, 0, indrnn_relu(nonlinearity)) {}

}  // namespace attn::nn
