// Recurrent layers: torch.nn.LSTM and torch.nn.GRU (same arguments, shapes, gate
// order and state_dict keys), and two drop-in LSTM replacements seed 001 names,
// JANET and IndRNN, with the LSTM's constructor arguments, forward signature and
// return shape.
//
// Legend: T time steps, N batch, I input_size, H hidden_size, L num_layers,
// D = 2 if bidirectional else 1, G gates per cell (LSTM 4, GRU 3, JANET 2, IndRNN 1).
//
// Keys, per layer k and direction (suffix "_reverse" for the backward one), registered
// in torch's order (layer by layer, forward direction first):
//   weight_ih_l{k} (G*H, I or D*H), weight_hh_l{k} (G*H, H), bias_ih_l{k} (G*H), bias_hh_l{k} (G*H)
// Row blocks of the gate dimension, as torch stores them:
//   LSTM   i, f, g, o   c_t = f*c + i*g,  h_t = o*tanh(c_t)              (torch.nn.LSTM)
//   GRU    r, z, n      n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),
//                       h_t = (1 - z)*n + z*h                            (torch.nn.GRU)
//   JANET  f, c         van der Westhuizen & Lasenby 2018, "The unreasonable effectiveness
//                       of the forget gate" (arXiv:1804.04849), the JANET cell:
//                         s_t  = U_f h_{t-1} + W_f x_t + b_f
//                         c~_t = tanh(U_c h_{t-1} + W_c x_t + b_c)
//                         c_t  = sigma(s_t) * c_{t-1} + (1 - sigma(s_t - beta)) * c~_t
//                         h_t  = c_t
//                       b_f, b_c are bias_ih + bias_hh of their block (torch's two-bias style).
//                       Init: the paper's chrono initialiser (Tallec & Ollivier 2018) for the
//                       forget bias, bias_ih f-block = log(U(1, t_max - 1)), bias_hh f-block = 0;
//                       everything else torch's U(-1/sqrt(H), 1/sqrt(H)). beta = 1 as in the paper.
//   IndRNN (G = 1)      Li et al. 2018, "Independently Recurrent Neural Network (IndRNN)" (CVPR 2018), the IndRNN cell:
//                         h_t = act(W x_t + u ⊙ h_{t-1} + b),  act = ReLU (paper) or tanh
//                       u is the vector weight_hh_l{k} (H), b is bias_ih_l{k} (H); there is no
//                       bias_hh (the paper has one bias). Init: W torch's uniform, u ~ U(0, 1)
//                       (|u| <= 1 keeps a ReLU IndRNN from growing at init; the paper bounds |u|
//                       for the same reason), b = 0.
//
// forward(input, h0, c0) -> {output, h_n, c_n}, torch's shapes:
//   input  (T, N, I), (N, T, I) when batch_first, or unbatched (T, I)
//   h0, c0 (L*D, N, H), or (L*D, H) unbatched; undefined = zeros. LSTM and JANET take both or
//          neither (torch's (h0, c0) tuple); GRU and IndRNN have no cell state: c0 must be undefined.
//   output (T, N, D*H) / (N, T, D*H) / (T, D*H): the last layer's h_t, directions concatenated
//   h_n    (L*D, N, H) / (L*D, H): each layer's and direction's last h
//   c_n    LSTM/JANET: the last cell state, shape of h_n. IndRNN: h_n itself (the same tensor;
//          it has no cell state, so `auto [out, h, c] = ...` code written for LSTM still works).
//          GRU: undefined (torch's GRU returns h_n only).
// dropout: between layers (not after the last), training mode only, inverted (scaled by 1/(1-p));
// the mask comes from this module's seeded Rng, so its values differ from torch's.
// proj_size > 0 (LSTM with projections) is not supported and rejected.
//
// How it runs: per layer and direction, one GEMM projects every time step's input at once
// (gx = X W_ih^T + b_ih, (T*N, G*H)); then each step does one recurrent product
// (N == 1: matrix-vector dots) and the gate math with the SIMD kernels, in place in scratch.
// The Tensor forward allocates that scratch and its results once per call; the pointer
// forward runs the same loop in caller memory (a model's arena) with eval semantics (no
// dropout), noexcept and allocation-free. step()/project_input() are the loop's pieces, for
// callers that run one step at a time (models/seq2seq_rnn's decoder).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/module.hpp"
#include "core/rng.hpp"

namespace attn::nn {

enum class RnnCell : uint8_t { lstm, gru, janet, indrnn };

struct RNNOutput {
  Tensor output;  // (T, N, D*H) or (N, T, D*H) (batch_first) or (T, D*H) (unbatched)
  Tensor h_n;     // (L*D, N, H) or (L*D, H)
  Tensor c_n;     // LSTM/JANET: cell state like h_n; IndRNN: h_n; GRU: undefined
};

class RNNBase : public Module {
 public:
  RNNOutput forward(const Tensor& input, const Tensor& h0 = Tensor(), const Tensor& c0 = Tensor());
  // The pointer forward, eval semantics (no dropout), time-major whatever batch_first says:
  //   x (T, N, I) -> out (T, N, D*H); h (L*D, N, H) and, with a cell state, c (L*D, N, H) hold
  //   the initial state (zeros: torch's default) and are updated in place to h_n / c_n.
  // scratch holds forward_scratch(T, N) floats. Nothing overlaps; sizes checked by the caller.
  void forward(float* out, float* h, float* c, const float* x, int64_t T, int64_t N, float* scratch) const noexcept;
  // Floats of scratch the pointer forward needs (checked; throws naming this module).
  int64_t forward_scratch(int64_t T, int64_t N) const;

  struct Weights {
    Tensor w_ih;  // (G*H, I) for layer 0, (G*H, D*H) above
    Tensor w_hh;  // (G*H, H); IndRNN: (H)
    Tensor b_ih;  // (G*H), undefined without bias
    Tensor b_hh;  // (G*H), undefined without bias or for IndRNN
  };
  const Weights& weights(int64_t layer, int64_t direction) const { return w_[layer * num_directions() + direction]; }

  int64_t num_directions() const { return bidirectional ? 2 : 1; }
  int64_t gates() const;  // G
  bool has_cell_state() const { return cell == RnnCell::lstm || cell == RnnCell::janet; }
  int64_t layer_input_size(int64_t layer) const { return layer == 0 ? input_size : num_directions() * hidden_size; }

  // The per-step pieces (no checks, no allocation, no throw):
  // gx (rows, G*H) = x (rows, layer_input_size) W_ih^T + b_ih
  void project_input(int64_t layer, int64_t direction, const float* x, int64_t rows, float* gx) const noexcept;
  // One time step for N rows: h (N, H) and, with a cell state, c (N, H) are updated in place from
  // gx (N, G*H). scratch holds step_scratch(N) floats.
  void step(int64_t layer, int64_t direction, const float* gx, int64_t N, float* h, float* c,
            float* scratch) const noexcept;
  int64_t step_scratch(int64_t N) const { return N * (gates() + 1) * hidden_size; }

  const RnnCell cell;
  const int64_t input_size, hidden_size, num_layers;
  const bool bias, batch_first;
  const float dropout;
  const bool bidirectional;
  const float beta;            // JANET's shift (1 elsewhere, unused)
  const bool relu_activation;  // IndRNN's act: ReLU (true) or tanh

 protected:
  RNNBase(RnnCell cell, const char* name, int64_t input_size, int64_t hidden_size, int64_t num_layers, bool bias,
          bool batch_first, float dropout, bool bidirectional, uint64_t seed, float beta = 1.0f,
          int64_t chrono_t_max = 0, bool relu_activation = true);

 private:
  void check_state(const Tensor& s, const char* arg, const Shape& want) const;
  // Both directions of one layer over T steps: in (T, N, layer_input_size) -> out (T, N, D*H),
  // h/c the layer's state rows (D, N, H); gx (T*N, G*H) and step scratch.
  void layer_forward(int64_t layer, float* out, float* h, float* c, const float* in, int64_t T, int64_t N, float* gx,
                     float* scratch) const noexcept;

  std::vector<Weights> w_;  // [layer * D + direction]; reserved up front, never reallocated
  Rng init_rng_, dropout_rng_;
};

class LSTM : public RNNBase {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1, bool bias = true, bool batch_first = false,
       float dropout = 0.0f, bool bidirectional = false, int64_t proj_size = 0, uint64_t seed = 0);
};

class GRU : public RNNBase {
 public:
  GRU(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1, bool bias = true, bool batch_first = false,
      float dropout = 0.0f, bool bidirectional = false, uint64_t seed = 0);
};

// chrono_t_max: the longest dependency expected (the chrono initialiser's T_max, the
// paper uses the sequence length); must be > 2.
class JANET : public RNNBase {
 public:
  JANET(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1, bool bias = true, bool batch_first = false,
        float dropout = 0.0f, bool bidirectional = false, float beta = 1.0f, int64_t chrono_t_max = 100,
        uint64_t seed = 0);
};

// nonlinearity: "relu" (the paper's) or "tanh", as torch.nn.RNN spells it.
class IndRNN : public RNNBase {
 public:
  IndRNN(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1, bool bias = true, bool batch_first = false,
         float dropout = 0.0f, bool bidirectional = false, const std::string& nonlinearity = "relu",
         uint64_t seed = 0);
};

}  // namespace attn::nn
