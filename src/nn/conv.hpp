// The convolution stack of the SE-CNN, NCHW, with torch.nn's arguments, defaults,
// output-size rules and state_dict keys:
//   Conv2d             weight (C_out, C_in/groups, kH, kW), bias (C_out); zero padding only
//   BatchNorm2d        weight, bias (C); buffers running_mean, running_var (C), num_batches_tracked
//   MaxPool2d, AvgPool2d, AdaptiveAvgPool2d   (no state)
// Legend: N batch, C channels, H, W input height/width, OH, OW output height/width.
// Every forward takes (N, C, H, W) or unbatched (C, H, W) and returns the same rank.
//
// Output sizes (torch's conv / pooling_output_shape):
//   conv:    OH = (H + 2*pad - dilation*(k - 1) - 1) / stride + 1
//   pooling: the same, rounded up with ceil_mode, minus one if the last window would start
//            in the right padding; an output size < 1 is an error, as in torch.
// BatchNorm2d: eval normalises with the running statistics; training (and
// track_running_stats=false) uses the batch's biased variance, and training updates
// running_mean/var with `momentum` (running = (1 - m) * running + m * batch, the batch
// variance unbiased), or with the cumulative average 1/num_batches_tracked when momentum
// is std::nullopt (torch's momentum=None). num_batches_tracked is int64 in torch; here it
// is a float32 scalar (exact up to 2^24 batches) so the whole state_dict is float32.
//
// Conv2d runs im2col + one GEMM per (image, group) (kernels/gemm.hpp).
//
// Two ways to call the layers: forward(Tensor) checks its input and allocates the result
// (and Conv2d's column buffer) per call; the pointer forwards write into caller memory (a
// model's activation arena), never allocate or throw, and take sizes the caller checked
// (with output_size / cols_floats, which throw). The Tensor forwards run the pointer ones.
#pragma once

#include <cstdint>
#include <optional>

#include "core/module.hpp"
#include "core/rng.hpp"

namespace attn::nn {

// A (height, width) pair; one number means both, like torch's _pair.
struct Size2 {
  int64_t h, w;
  Size2(int64_t v) : h(v), w(v) {}  // NOLINT(google-explicit-constructor): torch accepts an int
  Size2(int64_t h_, int64_t w_) : h(h_), w(w_) {}
  bool operator==(const Size2& o) const { return h == o.h && w == o.w; }
};

class Conv2d : public Module {
 public:
  // torch's init: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in/groups * kH * kW.
  Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Size2 stride = 1, Size2 padding = 0,
         Size2 dilation = 1, int64_t groups = 1, bool bias = true, uint64_t seed = 0);
  Tensor forward(const Tensor& x) const;  // (N, C_in, H, W) -> (N, C_out, OH, OW)

  // (OH, OW) for an H x W input; throws naming this module if the padded input is smaller
  // than the dilated kernel or a size overflows.
  Size2 output_size(int64_t H, int64_t W) const;
  // Floats of im2col scratch the pointer forward needs for an H x W input: C_in/groups * kH * kW * OH * OW.
  int64_t cols_floats(int64_t H, int64_t W) const;
  // y (N, C_out, OH, OW) = conv(x (N, C_in, H, W)), both contiguous, not overlapping; cols holds
  // cols_floats(H, W) floats. H, W must be sizes output_size accepts.
  void forward(float* y, const float* x, int64_t N, int64_t H, int64_t W, float* cols) const noexcept;

  const int64_t in_channels, out_channels;
  const Size2 kernel_size, stride, padding, dilation;
  const int64_t groups;
  Tensor weight;  // (C_out, C_in/groups, kH, kW)
  Tensor bias;    // (C_out), undefined without bias
};

class BatchNorm2d : public Module {
 public:
  BatchNorm2d(int64_t num_features, float eps = 1e-5f, std::optional<float> momentum = 0.1f, bool affine = true,
              bool track_running_stats = true);
  Tensor forward(const Tensor& x);  // (N, C, H, W) -> same; training updates the running stats
  // Eval mode in place: x (N, C, HW) contiguous, normalised with the running statistics.
  // Only for a module with track_running_stats (without it eval uses the batch's statistics).
  void forward_eval_(float* x, int64_t N, int64_t HW) const noexcept;

  const int64_t num_features;
  const float eps;
  const std::optional<float> momentum;
  const bool affine, track_running_stats;
  Tensor weight, bias;               // (C), ones / zeros; undefined unless affine
  Tensor running_mean, running_var;  // (C), zeros / ones; undefined unless track_running_stats
  Tensor num_batches_tracked;        // () float32 count of training batches

 private:
  // out[n, c] = (x[n, c] - mean) / sqrt(var + eps) * weight[c] + bias[c] over N images of HW values.
  void normalize_channel(float* out, const float* x, int64_t N, int64_t HW, int64_t c, double mean,
                         double var) const noexcept;
};

class MaxPool2d : public Module {
 public:
  // stride: std::nullopt = kernel_size (torch's default).
  MaxPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = 0, Size2 dilation = 1,
            bool ceil_mode = false);
  Tensor forward(const Tensor& x) const;

  const Size2 kernel_size, stride, padding, dilation;
  const bool ceil_mode;
};

class AvgPool2d : public Module {
 public:
  // divisor_override: when set, every window's sum is divided by it (torch's divisor_override).
  AvgPool2d(Size2 kernel_size, std::optional<Size2> stride = std::nullopt, Size2 padding = 0, bool ceil_mode = false,
            bool count_include_pad = true, std::optional<int64_t> divisor_override = std::nullopt);
  Tensor forward(const Tensor& x) const;

  const Size2 kernel_size, stride, padding;
  const bool ceil_mode, count_include_pad;
  const std::optional<int64_t> divisor_override;
};

// Window i of OH covers rows [floor(i*H/OH), ceil((i+1)*H/OH)), as torch's adaptive_avg_pool2d.
class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size);
  Tensor forward(const Tensor& x) const;
  // y (NC, OH, OW) from x (NC, H, W), contiguous planes (NC = N * C); H, W >= 1.
  void forward(float* y, const float* x, int64_t NC, int64_t H, int64_t W) const noexcept;

  const Size2 output_size;
};

}  // namespace attn::nn
